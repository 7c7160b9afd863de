//! Issue 13: on engines with merge and diff ops (BuildKit v0.10+), the app
//! image stacks the builder's own venv layers instead of copying the venv,
//! and a new runtime base re-stacks them without re-running or re-copying
//! anything. Docker 20.10 (BuildKit v0.8) keeps the copy, which every other
//! test there covers.

use crate::harness::{Build, Harness, OciLayout};

/// The runtime base of `examples/demo`.
const RUNTIME: &str = "pyfront-test/python:3.11-slim-bookworm";

#[test]
fn the_venv_layers_are_the_builders_and_a_new_base_rebases_them() {
    let Some(h) = Harness::from_env() else { return };
    if !h.grafts() {
        eprintln!("skipping: BuildKit v0.8 has no merge/diff ops; the venv is copied there");
        return;
    }
    let ctx = h.demo_context();
    let token = h.canary("graft");
    h.set_index_token(&token);
    // App content unique to this run, so the first build really exports.
    let marker = h.canary("graft-app");
    std::fs::write(
        ctx.path().join("src/demoapp/changed.py"),
        format!("CHANGED = {marker:?}\n"),
    )
    .unwrap();

    // The runtime base by build arg, so that the rebase below changes no
    // file of the context (the spec is part of the app code).
    let spec = ctx.path().join("pyfront.toml");
    let text = std::fs::read_to_string(&spec).unwrap();
    let by_arg = text.replace(
        &format!("base = \"{RUNTIME}\""),
        "base = \"${GRAFT_RUNTIME}\"",
    );
    assert_ne!(text, by_arg);
    std::fs::write(&spec, by_arg).unwrap();
    // `tag`, with the token and `image` as the runtime base.
    let on_base = |tag: &str, image: &str| {
        Build::new(&ctx, tag)
            .secret_env("pypi_token", &token)
            .arg(&format!("--build-arg=GRAFT_RUNTIME={image}"))
    };

    let app = h.build(on_base("e2e-graft:app", RUNTIME));
    app.assert_success();
    let builder = h.build(on_base("e2e-graft:builder", RUNTIME).arg("--target=builder"));
    builder.assert_success();

    // The builder image ends with its venv step and its install step; the
    // app image has exactly those two layers (same diff ids: the same
    // content, not a copy into one layer), then the app code.
    let app_layers = h.layers("e2e-graft:app");
    let builder_layers = h.layers("e2e-graft:builder");
    let (n, m) = (app_layers.len(), builder_layers.len());
    assert!(n >= 4 && m >= 3, "{app_layers:?}\n{builder_layers:?}");
    assert_eq!(
        app_layers[n - 3..n - 1],
        builder_layers[m - 2..],
        "the app's venv layers are not the builder's:\n{}",
        app.output
    );
    // The grafted layers carry the venv and nothing else: a diff takes
    // every change the builder made between the venv and install steps,
    // where a copy took /opt/venv only, so a file an install step left
    // elsewhere (a cache, a temp dir) would ship in the app image. The one
    // exception is the empty directory the engine made for the install
    // step's read-only mounts (/run/pyfront/<input>: it removes the mount
    // points, not their parent), and its parents' entries.
    for path in venv_layer_paths(&h, "e2e-graft:app") {
        assert!(
            ["opt/", "run/", "run/pyfront/"].contains(&path.as_str())
                || path.starts_with("opt/venv"),
            "a grafted venv layer holds `{path}`, outside /opt/venv"
        );
    }
    let base_layers = h.layers(RUNTIME);
    assert_eq!(
        app_layers[..n - 3],
        base_layers[..],
        "the runtime base's layers"
    );
    let run = h.python(
        "e2e-graft:app",
        "import acme_sdk_b, demoapp.changed as c; print('imported', c.CHANGED)",
    );
    assert!(run.contains(&format!("imported {marker}")), "{run}");
    let history = h.docker(&[
        "history",
        "--no-trunc",
        "--format",
        "{{.CreatedBy}}",
        "e2e-graft:app",
    ]);
    let oldest_first: Vec<&str> = history
        .lines()
        .rev()
        .filter(|l| l.starts_with("pyfront: "))
        .collect();
    h.assert_venv_history(&oldest_first[..oldest_first.len() - 1], &history);

    // A patched runtime base (one more layer), as a security update of the
    // base tag would be.
    let patched = format!("{RUNTIME}-patched-{}", std::process::id());
    let base_ctx = tempfile::tempdir().unwrap();
    std::fs::write(
        base_ctx.path().join("Dockerfile"),
        format!("FROM {RUNTIME}\nCOPY patch-level /etc/patch-level\n"),
    )
    .unwrap();
    std::fs::write(base_ctx.path().join("patch-level"), &marker).unwrap();
    let build = h.build_command();
    let mut words = build.split_whitespace();
    let mut cmd = h.command(words.next().unwrap());
    cmd.args(words)
        .args(["--progress=plain", "-t", &patched])
        .arg(base_ctx.path());
    h.run_command("build the patched base", cmd)
        .assert_success();
    let rebased = h.build(on_base("e2e-graft:rebased", &patched));
    rebased.assert_success();
    // Nothing of the builder or the app ran again: only the stacking (and
    // the load check, which must look at the new base) is new.
    for step in [
        "[builder] python3 -m venv",
        "[builder] pip install",
        "[app] COPY . /opt/app",
    ] {
        assert!(
            rebased.step_cached(step),
            "`{step}` re-ran after a runtime base change:\n{}",
            rebased.output
        );
    }
    let rebased_layers = h.layers("e2e-graft:rebased");
    let patched_layers = h.layers(&patched);
    let k = rebased_layers.len();
    assert_eq!(rebased_layers[..k - 3], patched_layers[..]);
    assert_eq!(
        rebased_layers[k - 3..],
        app_layers[n - 3..],
        "the venv and app layers changed on a rebase"
    );
    let patch = h.docker(&[
        "run",
        "--rm",
        "--network=none",
        "e2e-graft:rebased",
        "cat",
        "/etc/patch-level",
    ]);
    assert!(patch.contains(&marker), "{patch}");
    h.docker(&["rmi", &patched, "e2e-graft:rebased"]);
}

/// The paths in the two venv layers (the last but one and the one before
/// it) of `image`, from `docker save`.
fn venv_layer_paths(h: &Harness, image: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let tar = dir.path().join("image.tar");
    h.docker(&["save", "-o", tar.to_str().unwrap(), image]);
    let layout = OciLayout::unpack(&tar);
    let layers = layout.manifest(None)["layers"].as_array().unwrap().clone();
    let n = layers.len();
    let mut paths = Vec::new();
    for layer in &layers[n - 3..n - 1] {
        let blob = layer["digest"].as_str().unwrap().replace(':', "/");
        let out = std::process::Command::new("tar")
            .arg("-tf")
            .arg(layout.path().join("blobs").join(blob))
            .output()
            .unwrap();
        assert!(out.status.success(), "tar -tf of a layer of {image}");
        paths.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_owned),
        );
    }
    assert!(!paths.is_empty(), "no paths in the venv layers of {image}");
    paths
}
