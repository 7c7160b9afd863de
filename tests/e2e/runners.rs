//! Issue #5: CI runners that share the install layer through a registry.
//!
//! Two fresh engines of the kind under test stand in for two ephemeral CI
//! runners; each runs the job of `examples/gitlab-ci/.gitlab-ci.yml` exactly
//! as written, with the project's CI/CD variables pointing at the local
//! registry and index. Docker 26 (BuildKit 0.13, containerd image store)
//! runs `build-image` (registry cache, mode=max); Docker 20.10 (BuildKit 0.8)
//! runs `.build-image-docker20` (inline cache in the pushed image).

use crate::harness::{Build, Harness, OciLayout, Runner};
use crate::scan::{Canary, Scanner};

/// The project's CI/CD variables for one pipeline of `project`: the
/// local registry (also for the base images), `frontend` as the pyfront
/// image, the local index on the host network.
fn pipeline_vars<'a>(
    h: &'a Harness,
    registry: &'a str,
    frontend: &'a str,
    project: &'a str,
    token: &'a str,
    commit: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("PYFRONT_IMAGE", frontend),
        ("BASE_REGISTRY", registry),
        ("CI_JOB_TOKEN", token),
        ("CI_REGISTRY", registry),
        ("CI_REGISTRY_IMAGE", project),
        ("CI_REGISTRY_USER", "gitlab-ci-token"),
        ("CI_REGISTRY_PASSWORD", "registry-needs-no-password-here"),
        ("CI_COMMIT_SHA", commit),
        ("CI_COMMIT_SHORT_SHA", commit),
        ("PYPI_INDEX_URL", h.index_url()),
        ("BUILD_NETWORK", "host"),
    ]
}

/// Runner 1 installs with token A and exports the cache; runner 2, an empty
/// engine with token B (A revoked), reuses the install layer: the step is
/// CACHED, the layers are identical, and neither token is in the image.
#[test]
fn a_fresh_runner_reuses_the_install_layer_from_the_registry() {
    let Some(h) = Harness::from_env() else { return };
    let Some(registry) = h.registry() else { return };
    h.seed_registry();
    let job = match h.engine_kind() {
        "d12" => ".build-image-docker20",
        _ => "build-image",
    };
    let frontend = format!("{registry}/pyfront:dev");
    // A new project per run: the registry keeps its caches between runs.
    let project = format!("{registry}/e2e/{}", h.canary("project"));
    let ctx = h.example_context("gitlab-ci");

    // Leak-scanner canaries: the registry scan below also catches any token
    // of an earlier run by their common prefix.
    let canary_a = Canary::new("runnerA");
    let canary_b = Canary::new("runnerB");
    let (token_a, token_b) = (canary_a.value.clone(), canary_b.value.clone());
    h.set_index_token(&token_a);
    let r1 = h.fresh_runner("r1");
    let vars = pipeline_vars(&h, &registry, &frontend, &project, &token_a, "c0ffee1");
    let first = r1.gitlab_job(ctx.path(), job, &vars);
    first.assert_success();
    assert!(
        !first.step_cached("[builder] pip install"),
        "runner 1 started empty, yet its install step was cached:\n{}",
        first.output
    );
    let image_1 = format!("{project}/app:c0ffee1");
    let layers_1 = r1.harness.layers(&image_1);
    drop(r1);

    h.set_index_token(&token_b);
    let r2: Runner = h.fresh_runner("r2");
    let vars = pipeline_vars(&h, &registry, &frontend, &project, &token_b, "c0ffee2");
    let second = r2.gitlab_job(ctx.path(), job, &vars);
    second.assert_success();
    assert!(
        second.step_cached("[builder] pip install"),
        "runner 2 re-ran the install step instead of using the registry cache:\n{}",
        second.output
    );
    let image_2 = format!("{project}/app:c0ffee2");
    let layers_2 = r2.harness.layers(&image_2);
    assert_eq!(layers_1, layers_2, "the layers differ between the runners");
    let run = r2.harness.run(&image_2);
    assert!(run.contains("acme-sdk-b loaded"), "{run}");
    for out in [&first.output, &second.output] {
        assert!(
            !out.contains(&token_a) && !out.contains(&token_b),
            "a token in the job log"
        );
    }
    r2.harness
        .assert_image_clean(&image_2, &[&token_a, &token_b]);
    // Everything both runners pushed: images and the exported build caches
    // (every blob, gzip/zstd decompressed).
    let storage = std::env::var("PYFRONT_REGISTRY_DATA").expect("PYFRONT_REGISTRY_DATA");
    let mut scanner = Scanner::new(vec![canary_a, canary_b]);
    scanner.scan_tree("registry storage", std::path::Path::new(&storage));
    eprint!("{}", scanner.summary("registry after two runners"));
    scanner.assert_clean("registry after two runners");
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
