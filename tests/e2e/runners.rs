//! Issues #5 and #14: CI runners that share the install layer through a
//! registry, driven by a real GitLab CI implementation.
//!
//! gitlab-ci-local (`tests/harness/gitlab-ci-local.sh`) runs the pipeline of
//! `examples/gitlab-ci/.gitlab-ci.yml` with GitLab's semantics (`extends`,
//! `rules`, variable precedence, predefined `CI_*` variables from the git
//! checkout), its jobs in the shell executor. Two fresh engines of the kind
//! under test stand in for two ephemeral runners' dind services; the
//! project's CI/CD variables point the job at them (`DOCKER_HOST`) and at
//! the local registry and index, and pick the job (`PYFRONT_DIND`):
//! - d12, Docker 20.10 (BuildKit 0.8): `build-image-docker20`, inline cache
//!   in the pushed image.
//! - d13, Docker 26 with the containerd image store (what the docker:28
//!   job's dind turns on), and d28: `build-image-docker28`, which extends
//!   `build-image`: `docker buildx build`, registry cache, mode=max.
//! - any other engine: `build-image` (Docker 29).

use crate::harness::{Build, GitProject, Harness, OciLayout, Runner};
use crate::scan::{Canary, Scanner};

/// `PYFRONT_DIND` for an engine kind, the one job it selects, and that
/// job's dind service image.
fn dind_job(kind: &str) -> (&'static str, &'static str, &'static str) {
    match kind {
        "d12" => ("20.10", "build-image-docker20", "docker:20.10-dind"),
        "d13" | "d28" => ("28", "build-image-docker28", "docker:28-dind"),
        _ => ("29", "build-image", "docker:29-dind"),
    }
}

/// The project's CI/CD variables for one pipeline on `runner`: the job's
/// variant, the runner's engine as its docker service (no TLS on a local
/// socket), the local registry (also for the base images), `frontend` as
/// the pyfront image, the local index on the host network, and the job
/// token.
fn pipeline_vars<'a>(
    runner: &'a Runner,
    dind: &'a str,
    registry: &'a str,
    frontend: &'a str,
    project: &'a str,
    token: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let h = &runner.harness;
    vec![
        ("PYFRONT_DIND", dind),
        ("DOCKER_HOST", h.engine_var("DOCKER_HOST")),
        ("DOCKER_CONFIG", h.engine_var("DOCKER_CONFIG")),
        ("DOCKER_TLS_VERIFY", ""),
        ("DOCKER_CERT_PATH", ""),
        ("PYFRONT_IMAGE", frontend),
        ("BASE_REGISTRY", registry),
        ("CI_JOB_TOKEN", token),
        ("CI_REGISTRY", registry),
        ("CI_REGISTRY_IMAGE", project),
        ("CI_REGISTRY_USER", "gitlab-ci-token"),
        ("CI_REGISTRY_PASSWORD", "registry-needs-no-password-here"),
        ("PYPI_INDEX_URL", h.index_url()),
        ("BUILD_NETWORK", "host"),
    ]
}

/// Pipeline 1 (runner 1, token A) installs and exports the cache; pipeline
/// 2, a new commit that changes the app, on runner 2 (an empty engine) with
/// token B (A revoked), reuses the install layer: the step is CACHED and
/// the venv layer is runner 1's. Neither token is in a job log, in what
/// gitlab-ci-local left in either checkout, in the image or in the
/// registry.
#[test]
fn a_fresh_runner_reuses_the_install_layer_from_the_registry() {
    let Some(h) = Harness::from_env() else { return };
    let Some(registry) = h.registry() else { return };
    let Some(gitlab_ci_local) = h.gitlab_ci_local() else {
        return;
    };
    h.seed_registry();
    let (dind, job, service) = dind_job(h.engine_kind());
    let stand_in = format!("{registry}/library/python:3.11-slim-bookworm");
    let service = (service, stand_in.as_str());
    let frontend = format!("{registry}/pyfront:dev");
    // A new project per run: the registry keeps its caches between runs.
    let project = format!("{registry}/e2e/{}", h.canary("project"));
    let remote = "https://gitlab.example.com/e2e/app.git";
    let checkout_1 = GitProject::new(&h, "gitlab-ci", remote);
    let sha_1 = checkout_1.head();

    // Leak-scanner canaries: the registry scan below also catches any token
    // of an earlier run by their common prefix.
    let canary_a = Canary::new("runnerA");
    let canary_b = Canary::new("runnerB");
    let (token_a, token_b) = (canary_a.value.clone(), canary_b.value.clone());
    h.set_index_token(&token_a);
    let r1 = h.fresh_runner("r1");
    let vars = pipeline_vars(&r1, dind, &registry, &frontend, &project, &token_a);
    let first = r1.gitlab_pipeline(&gitlab_ci_local, &checkout_1, service, &vars);
    first.assert_success();
    let log_1 = checkout_1.job_log(job);
    assert_only_job_ran(&first.output, job);
    assert!(
        !log_1.step_cached("[builder] pip install"),
        "runner 1 started empty, yet its install step was cached:\n{}",
        log_1.output
    );
    let image_1 = format!("{project}/app:{sha_1}");
    let layers_1 = r1.harness.layers(&image_1);
    drop(r1);

    // The next commit, cloned afresh by the next runner.
    let checkout_2 = checkout_1.clone_to(remote);
    let change = format!("CHANGED = {:?}\n", h.canary("app"));
    std::fs::write(checkout_2.path().join("src/myapp/changed.py"), change).unwrap();
    let sha_2 = checkout_2.commit("change the app");
    h.set_index_token(&token_b);
    let r2: Runner = h.fresh_runner("r2");
    let vars = pipeline_vars(&r2, dind, &registry, &frontend, &project, &token_b);
    let second = r2.gitlab_pipeline(&gitlab_ci_local, &checkout_2, service, &vars);
    second.assert_success();
    let log_2 = checkout_2.job_log(job);
    assert_only_job_ran(&second.output, job);
    assert!(
        log_2.step_cached("[builder] pip install"),
        "runner 2 re-ran the install step instead of using the registry cache:\n{}",
        log_2.output
    );
    let image_2 = format!("{project}/app:{sha_2}");
    let layers_2 = r2.harness.layers(&image_2);
    let n = layers_1.len();
    assert_eq!(n, layers_2.len(), "{layers_1:?} {layers_2:?}");
    assert_eq!(
        layers_1[..n - 1],
        layers_2[..n - 1],
        "the base or venv layers differ between the runners"
    );
    assert_ne!(
        layers_1[n - 1],
        layers_2[n - 1],
        "the app layer did not change"
    );
    let run = r2.harness.run(&image_2);
    assert!(run.contains("acme-sdk-b loaded"), "{run}");
    eprintln!("job log of pipeline 2 ({job}):\n{}", log_2.output);

    // The job logs as printed, and everything gitlab-ci-local and git left
    // in both checkouts (its `.gitlab-ci-local/`: job logs, expanded YAML).
    for out in [&first.output, &second.output] {
        assert!(
            !out.contains(&token_a) && !out.contains(&token_b),
            "a token in the job log"
        );
    }
    r2.harness
        .assert_image_clean(&image_2, &[&token_a, &token_b]);
    let mut scanner = Scanner::new(vec![canary_a, canary_b]);
    scanner.scan_tree("checkout 1", checkout_1.path());
    scanner.scan_tree("checkout 2", checkout_2.path());
    // Everything both runners pushed: images and the exported build caches
    // (every blob, gzip/zstd decompressed).
    let storage = std::env::var("PYFRONT_REGISTRY_DATA").expect("PYFRONT_REGISTRY_DATA");
    scanner.scan_tree("registry storage", std::path::Path::new(&storage));
    eprint!(
        "{}",
        scanner.summary("checkouts and registry after two runners")
    );
    scanner.assert_clean("checkouts and registry after two runners");
}

/// gitlab-ci-local ran `job` and no other job, and says it passed.
fn assert_only_job_ran(output: &str, job: &str) {
    let passed: Vec<&str> = output
        .lines()
        .filter_map(|l| l.trim().strip_prefix("PASS "))
        .map(str::trim)
        .collect();
    assert_eq!(passed, [job], "{output}");
}

/// The layers and config of an OCI layout's (first) image: digests only.
fn oci_digests(tar: &std::path::Path) -> (Vec<String>, String) {
    let manifest = OciLayout::unpack(tar).manifest(None);
    let layers = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap().to_owned())
        .collect();
    (
        layers,
        manifest["config"]["digest"].as_str().unwrap().to_owned(),
    )
}

/// `SOURCE_DATE_EPOCH` plus BuildKit's `rewrite-timestamp`: two runners
/// that share nothing (no cache) build byte-identical layers and config.
/// BuildKit 0.13 only; 0.8 has no timestamp rewriting.
#[test]
fn two_runners_build_identical_layers_with_source_date_epoch() {
    let Some(h) = Harness::from_env() else { return };
    if h.engine_kind() == "d12" {
        eprintln!("skipping: BuildKit 0.8 cannot rewrite layer timestamps");
        return;
    }
    let Some(registry) = h.registry() else { return };
    h.seed_registry();
    let ctx = h.example_context("gitlab-ci");
    let token = h.canary("epoch");
    h.set_index_token(&token);
    let out = tempfile::tempdir().unwrap();
    let mut digests = Vec::new();
    for instance in ["r1", "r2"] {
        let runner = h.fresh_runner(instance);
        let tar = out.path().join(format!("{instance}.tar"));
        let built = runner.harness.build(
            Build::new(&ctx, "e2e-epoch:oci")
                .secret_env("pypi_token", &token)
                .arg(&format!(
                    "--build-arg=BUILDKIT_SYNTAX={registry}/pyfront:dev"
                ))
                .arg(&format!("--build-arg=BASE_REGISTRY={registry}"))
                .arg("--build-arg=SOURCE_DATE_EPOCH=1700000000")
                .arg("--provenance=false")
                .arg(&format!(
                    "--output=type=oci,dest={},rewrite-timestamp=true",
                    tar.display()
                )),
        );
        built.assert_success();
        assert!(
            !built.step_cached("[builder] pip install"),
            "{instance} started empty, yet its install step was cached"
        );
        digests.push(oci_digests(&tar));
    }
    assert_eq!(
        digests[0], digests[1],
        "the two runners' layers or configs differ"
    );
}
