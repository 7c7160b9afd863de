//! Issue #11: `[[build.run]]`. The user's build commands run in the
//! builder on the app code, with the venv and without any secret or
//! network; their outputs reach the app image, owned like the code.

use crate::harness::{Build, BuildResult, Harness, NativeObjects};

/// The demo app with a user name and two build commands: a script that
/// writes `static/` (and records what it could see), then `compileall`.
fn build_run_context(h: &Harness, outputs: &str) -> tempfile::TempDir {
    let ctx = h.demo_context();
    let spec_path = ctx.path().join("pyfront.toml");
    let spec = std::fs::read_to_string(&spec_path)
        .unwrap()
        .replace("user = \"1000:1000\"", "user = \"app\"");
    let spec = format!(
        "{spec}\n[[build.run]]\ncommand = [\"python\", \"tools/build_assets.py\", \"static\"]\n\
         outputs = [{outputs}]\nenv = {{ INDEX_URL = \"${{PYPI_INDEX_URL}}\" }}\n\n\
         [[build.run]]\ncommand = [\"python\", \"-m\", \"compileall\", \"-q\", \"src\"]\n\
         outputs = [\"src\"]\n"
    );
    std::fs::write(&spec_path, spec).unwrap();
    let tools = ctx.path().join("tools");
    std::fs::create_dir_all(&tools).unwrap();
    std::fs::write(
        tools.join("build_assets.py"),
        r#"import os, socket, sys, urllib.parse
import acme_sdk_a  # the venv's dependencies are importable

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "site.css"), "w") as f:
    f.write("body { color: teal }\n")
url = urllib.parse.urlsplit(os.environ["INDEX_URL"])
try:
    socket.create_connection((url.hostname, url.port or 80), timeout=5).close()
    net = "open"
except OSError:
    net = "blocked"
secrets = sorted(os.listdir("/run/secrets")) if os.path.isdir("/run/secrets") else "absent"
with open(os.path.join(out, "probe.txt"), "w") as f:
    f.write(f"secrets: {secrets}\nnet: {net}\nprefix: {sys.prefix}\ncwd: {os.getcwd()}\n")
"#,
    )
    .unwrap();
    ctx
}

/// Builds `tag` with a new canary token (`label`), which the index wants
/// from now on, as the `pypi_token` secret. Returns the token too.
fn build_with_new_token(
    h: &Harness,
    ctx: &tempfile::TempDir,
    label: &str,
    tag: &str,
) -> (String, BuildResult) {
    let token = h.canary(label);
    h.set_index_token(&token);
    let result = h.build(Build::new(ctx, tag).secret_env("pypi_token", &token));
    (token, result)
}

#[test]
fn build_commands_run_sealed_and_ship_their_outputs() {
    let Some(h) = Harness::from_env() else { return };
    let ctx = build_run_context(&h, "\"static\"");
    let (token, result) = build_with_new_token(&h, &ctx, "buildrun", "e2e-buildrun:a");
    result.assert_success();
    assert!(
        result
            .output
            .contains("[builder] check the build outputs: static src"),
        "{}",
        result.output
    );

    let probe = h.python(
        "e2e-buildrun:a",
        "import os, glob\n\
         def owner(p): s = os.stat(p); return f'{p} {s.st_uid}:{s.st_gid}'\n\
         print(open('/opt/app/static/probe.txt').read(), end='')\n\
         print(open('/opt/app/static/site.css').read(), end='')\n\
         print(owner('/opt/app/static'), owner('/opt/app/static/site.css'))\n\
         pycs = glob.glob('/opt/app/src/demoapp/__pycache__/*.pyc')\n\
         print('pycs', len(pycs), sorted({owner(p).split()[1] for p in pycs}))\n\
         print('tools', os.path.exists('/opt/app/tools/build_assets.py'))",
    );
    for want in [
        "secrets: absent",
        "net: blocked",
        "prefix: /opt/venv",
        "cwd: /opt/app",
        "body { color: teal }",
        "/opt/app/static 10001:10001 /opt/app/static/site.css 10001:10001",
        "tools True",
    ] {
        assert!(probe.contains(want), "want `{want}` in:\n{probe}");
    }
    // compileall's `__pycache__` overlays the code (which `.dockerignore`
    // keeps out of the context), owned like it.
    assert!(
        probe.lines().any(|l| l.starts_with("pycs ")
            && !l.starts_with("pycs 0 ")
            && l.ends_with("['10001:10001']")),
        "{probe}"
    );
    let run = h.run("e2e-buildrun:a");
    assert!(run.contains("demoapp:"), "{run}");
    h.assert_image_clean("e2e-buildrun:a", &[&token]);

    // A token rotation: the build commands stay cached (they never saw it).
    let (rotated, second) = build_with_new_token(&h, &ctx, "buildrun-rotated", "e2e-buildrun:b");
    second.assert_success();
    assert!(
        second.step_cached("[builder] RUN python tools/build_assets.py static"),
        "{}",
        second.output
    );
    assert!(second.step_cached("[builder] RUN python -m compileall"));
    h.assert_image_clean("e2e-buildrun:b", &[&token, &rotated]);
}

#[test]
fn a_missing_build_output_fails_with_the_step_and_path() {
    let Some(h) = Harness::from_env() else { return };
    let ctx = build_run_context(&h, "\"static\", \"dist/app.js\"");
    let (token, result) =
        build_with_new_token(&h, &ctx, "buildrun-missing", "e2e-buildrun:missing");
    result.assert_failure();
    assert!(
        result.output.contains(
            "pyfront: [[build.run]] 1 (python tools/build_assets.py static) lists output `dist/app.js`, \
             but /opt/app/dist/app.js does not exist after the build commands"
        ),
        "{}",
        result.output
    );
    assert!(!result.output.contains(&token));
}

/// Issue 13: a shared object that only a build command makes (an output,
/// not in the context) is load-checked too: the check runs on the whole app
/// image when there are outputs.
#[test]
fn a_build_output_that_needs_a_missing_library_fails_the_load_check() {
    let Some(h) = Harness::from_env() else { return };
    let ctx = h.demo_context();
    // An object that needs libpyfront-absent.so.3, linked against a stub of
    // that soname; in the context under a name the check does not load.
    let native = NativeObjects::with_stubs(&["libpyfront-absent.so.3"]);
    let prebuilt = ctx.path().join("prebuilt");
    std::fs::create_dir_all(&prebuilt).unwrap();
    native.object(
        &prebuilt.join("libout.elf"),
        "void pyfront_stub(void) {}\n",
        "libpyfront-absent.so.3",
    );
    let spec_path = ctx.path().join("pyfront.toml");
    let spec = std::fs::read_to_string(&spec_path).unwrap();
    let spec = format!(
        "{spec}\n[[build.run]]\ncommand = [\"python\", \"-c\", \"import os, shutil; \
         os.makedirs('native'); shutil.copy('prebuilt/libout.elf', 'native/libout.so')\"]\n\
         outputs = [\"native\"]\n"
    );
    std::fs::write(&spec_path, spec).unwrap();
    let (token, result) =
        build_with_new_token(&h, &ctx, "buildrun-loadcheck", "e2e-buildrun:loadcheck");
    result.assert_failure();
    for want in [
        "error: `native/libout.so` needs `libpyfront-absent.so.3`, which the runtime image does not have",
        "no package of the builder ships `libpyfront-absent.so.3`",
    ] {
        assert!(result.output.contains(want), "want `{want}` in:\n{}", result.output);
    }
    assert!(!result.output.contains(&token));
}
