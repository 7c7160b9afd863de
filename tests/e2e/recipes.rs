//! Issue #5: the CI recipes in `examples/` build for real, against the local
//! engine, registry and index, with only hosts and credentials swapped. (The
//! GitLab recipe runs in `runners.rs`, on two fresh runners.)

use std::process::Command;

use crate::harness::Harness;

/// A requirement-file comment unique to this run, so the fetch step (`pip
/// download`) runs (the engine's cache outlives test runs) and reads the
/// secret for real. The install step after it is keyed by what was
/// fetched, so it may stay cached.
fn fresh_install(h: &Harness, ctx: &std::path::Path) {
    let req = ctx.join("requirements.txt");
    let mut text = std::fs::read_to_string(&req).unwrap();
    text.push_str(&format!("# run {}\n", h.canary("req")));
    std::fs::write(req, text).unwrap();
}

/// `examples/local-dev/build.sh`: the token from `$GITLAB_TOKEN` (`env=`),
/// then from a token file (`src=`), both on the GitLab example's spec.
#[test]
fn local_dev_script_builds_with_a_personal_token() {
    let Some(h) = Harness::from_env() else { return };
    let Some(registry) = h.registry() else { return };
    h.seed_registry();
    let ctx = h.example_context("gitlab-ci");
    let token = h.canary("personal");
    h.set_index_token(&token);
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/local-dev/build.sh");
    let build = |tag: &str, env: &[(&str, &str)]| {
        let mut cmd = h.command("sh");
        cmd.arg(&script)
            .arg(ctx.path())
            .arg("--build-arg=BUILDKIT_SYNTAX=pyfront:dev")
            .arg(format!("--build-arg=PYPI_INDEX_URL={}", h.index_url()))
            .arg(format!("--build-arg=BASE_REGISTRY={registry}"))
            .arg("--network=host")
            .arg("--progress=plain")
            .arg(format!("--tag={tag}"))
            .env("DOCKER_BUILD", h.build_command())
            .env_remove("GITLAB_TOKEN")
            .envs(env.iter().copied());
        h.run_command(&format!("local-dev build {tag}"), cmd)
    };

    fresh_install(&h, ctx.path());
    let from_env = build("e2e-local-dev:env", &[("GITLAB_TOKEN", &token)]);
    from_env.assert_success();
    assert!(
        !from_env.step_cached("[builder] pip download"),
        "{}",
        from_env.output
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gitlab-token");
    std::fs::write(&file, &token).unwrap();
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    fresh_install(&h, ctx.path());
    let from_file = build(
        "e2e-local-dev:file",
        &[("PYFRONT_TOKEN_FILE", file.to_str().unwrap())],
    );
    from_file.assert_success();
    assert!(
        !from_file.step_cached("[builder] pip download"),
        "{}",
        from_file.output
    );
    let run = h.run("e2e-local-dev:file");
    assert!(run.contains("acme-sdk-b loaded"), "{run}");
    for out in [&from_env.output, &from_file.output] {
        assert!(!out.contains(&token), "the token is in the build output");
    }
    h.assert_image_clean("e2e-local-dev:file", &[&token]);

    // No token at all: the script says where to put one, before building.
    let none = build(
        "e2e-local-dev:none",
        &[("PYFRONT_TOKEN_FILE", "/nonexistent/pyfront-token")],
    );
    none.assert_failure();
    assert!(
        none.output.contains("export GITLAB_TOKEN"),
        "{}",
        none.output
    );
}

/// `examples/github-actions/build.yml`: the build-push-action step as the
/// action runs it (`tests/ci-recipes/gha-build.py`), user name and token
/// both as secrets, registry cache and push. Needs buildx and a cache
/// exporter: the Docker 26 engine (containerd image store).
#[test]
fn github_actions_workflow_builds_and_pushes() {
    let Some(h) = Harness::from_env() else { return };
    if !h.has_buildx() {
        eprintln!("skipping: the workflow uses buildx (the d13 engine runs it)");
        return;
    }
    let Some(registry) = h.registry() else { return };
    h.seed_registry();
    let ctx = h.example_context("github-actions");
    fresh_install(&h, ctx.path());
    let token = h.canary("gha");
    h.set_index_token(&token);
    let image = format!("{registry}/e2e/{}", h.canary("gharepo"));
    let secrets = tempfile::tempdir().unwrap();
    let argv = Command::new("python3")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ci-recipes/gha-build.py"))
        .arg(ctx.path().join("build.yml"))
        .arg(secrets.path())
        .env("GHA_VARS_PYFRONT_IMAGE", format!("{registry}/pyfront:dev"))
        .env("GHA_VARS_PYPI_INDEX_URL", h.index_url())
        .env("GHA_VARS_BASE_REGISTRY", &registry)
        .env("GHA_VARS_IMAGE", &image)
        .env("GHA_GITHUB_SHA", "0123abc")
        .env("GHA_SECRETS_ARTIFACTORY_USER", "gitlab-ci-token")
        .env("GHA_SECRETS_ARTIFACTORY_TOKEN", &token)
        .output()
        .unwrap();
    assert!(
        argv.status.success(),
        "gha-build.py: {}",
        String::from_utf8_lossy(&argv.stderr)
    );
    let argv = String::from_utf8(argv.stdout).unwrap();
    assert!(
        !argv.contains(&token),
        "a secret value in the build command"
    );
    let mut cmd = h.docker_command();
    cmd.args(argv.split('\0'))
        .arg("--network=host")
        .arg("--progress=plain")
        .current_dir(ctx.path());
    let built = h.run_command("github-actions build", cmd);
    built.assert_success();
    assert!(
        !built.step_cached("[builder] pip download"),
        "{}",
        built.output
    );
    assert!(
        !built.output.contains(&token),
        "the token is in the build output"
    );
    let tag = format!("{image}:0123abc");
    let run = h.run(&tag);
    assert!(run.contains("acme-sdk-b loaded"), "{run}");
    h.assert_image_clean(&tag, &[&token]);
}

/// #5: a real two-platform build: linux/amd64 and linux/386 (which this
/// x86-64 kernel runs natively, no QEMU), each base resolved for its own
/// platform from an amd64+386 index in the local registry. Needs an image
/// store that holds multi-platform images: Docker 26 with the containerd
/// store (Docker 20.10's cannot).
#[test]
fn two_platforms_build_one_multi_platform_image() {
    let Some(h) = Harness::from_env() else { return };
    if !h.has_buildx() {
        eprintln!("skipping: Docker 20.10's image store holds one platform per image");
        return;
    }
    let Some(registry) = h.registry() else { return };
    h.seed_registry_multiarch();
    let ctx = h.example_context("gitlab-ci");
    fresh_install(&h, ctx.path());
    let token = h.canary("multi");
    h.set_index_token(&token);
    let tag = "e2e-multi-platform:1";
    let built = h.build(
        crate::harness::Build::new(&ctx, tag)
            .secret_env("pypi_token", &token)
            .arg("--platform=linux/amd64,linux/386")
            .arg("--build-arg=BUILDKIT_SYNTAX=pyfront:dev")
            .arg(&format!("--build-arg=BASE_REGISTRY={registry}/multiarch")),
    );
    built.assert_success();
    for platform in ["linux/amd64", "linux/386"] {
        assert!(
            built
                .output
                .contains(&format!("[{platform} builder] pip install")),
            "no install step for {platform}:\n{}",
            built.output
        );
    }
    let bits = |platform: &str| {
        h.docker(&[
            "run",
            "--rm",
            "--network=none",
            &format!("--platform={platform}"),
            "--entrypoint",
            "python3",
            tag,
            "-c",
            "import struct, acme_sdk_b; print('pointer bits', struct.calcsize('P') * 8)",
        ])
    };
    assert!(bits("linux/amd64").contains("pointer bits 64"));
    assert!(bits("linux/386").contains("pointer bits 32"));
    assert!(
        !built.output.contains(&token),
        "the token is in the build output"
    );
}
