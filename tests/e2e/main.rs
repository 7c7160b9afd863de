//! End-to-end tests against a real BuildKit engine and a real index with
//! authentication, brought up by `tests/harness/up.sh`.
//!
//! `tests/run-all.sh` runs this suite once per engine with that engine's env
//! file sourced (`DOCKER_HOST`, `PYFRONT_DOCKER`, `PYFRONT_BUILD`, ...) and
//! the frontend image `pyfront:dev` built into it. Without that env the tests
//! skip with a message, unless `PYFRONT_E2E_REQUIRED=1` (set by the runner),
//! in which case they fail. The tests share the index's token, so they run
//! with `--test-threads=1`.

mod buildrun;
mod corpus;
mod graft;
mod harness;
mod parity;
mod recipes;
mod runners;
// The leak scanner of tests/leaks, for the registry the runner tests fill.
#[allow(dead_code)]
#[path = "../leaks/scan.rs"]
mod scan;

use harness::{Build, Harness};

/// 1-3 of the foundation issue: install with token A; rotate to B and change
/// an app file (install layer reused, app layer changed); canary check.
#[test]
fn token_rotation_reuses_the_install_layer_and_leaks_nothing() {
    let Some(h) = Harness::from_env() else { return };
    let ctx = h.demo_context();
    let token_a = h.canary("A");
    h.set_index_token(&token_a);

    let first = h.build(
        Build::new(&ctx, "e2e-rotation:a")
            .secret_env("pypi_token", &token_a)
            .arg("--label=org.example.team=mlops"),
    );
    first.assert_success();
    h.assert_runtime_config("e2e-rotation:a");
    let run = h.python(
        "e2e-rotation:a",
        "import acme_sdk_a, acme_sdk_b, six; print('imported', acme_sdk_b.__name__)",
    );
    assert!(run.contains("imported acme_sdk_b"), "{run}");
    // The app's own command works too.
    let app = h.run("e2e-rotation:a");
    assert!(app.contains("demoapp:"), "{app}");
    // The venv was made without pip and the builder's pip filled it: no pip
    // or setuptools in the runtime image's venv.
    let tooling = h.python("e2e-rotation:a", "import importlib.util as u; print('venv tools:', [m for m in ('pip', 'setuptools') if u.find_spec(m)])");
    assert!(tooling.contains("venv tools: []"), "{tooling}");
    // pyfront installed the pinned wheels itself (install_wheels.py), as
    // pip lays them out: its INSTALLER, the bytecode listed in RECORD.
    let installed = h.python(
        "e2e-rotation:a",
        "import importlib.metadata as m\n\
         for name in ('acme-sdk-a', 'acme-sdk-b', 'six'):\n\
         \x20   d = m.distribution(name)\n\
         \x20   print(name, d.read_text('INSTALLER').strip(), any(f.suffix == '.pyc' and f.locate().is_file() for f in d.files))",
    );
    for name in ["acme-sdk-a", "acme-sdk-b", "six"] {
        assert!(
            installed.contains(&format!("{name} pyfront True")),
            "{installed}"
        );
    }

    let token_b = h.canary("B");
    h.set_index_token(&token_b);
    // A fresh value each run: the engine's cache outlives test runs, and an
    // app change that was built before is (rightly) a cache hit.
    let change = format!("CHANGED = {:?}\n", h.canary("app"));
    std::fs::write(ctx.path().join("src/demoapp/changed.py"), change).unwrap();
    let second = h.build(Build::new(&ctx, "e2e-rotation:b").secret_env("pypi_token", &token_b));
    second.assert_success();
    assert!(
        second.step_cached("[builder] pip install"),
        "the install step re-ran after a token rotation and an app change:\n{}",
        second.output
    );
    assert!(
        !second.step_cached("[app] COPY . "),
        "the app copy should re-run:\n{}",
        second.output
    );

    let layers_a = h.layers("e2e-rotation:a");
    let layers_b = h.layers("e2e-rotation:b");
    assert_eq!(layers_a.len(), layers_b.len());
    let n = layers_a.len();
    assert_eq!(
        layers_a[n - 2],
        layers_b[n - 2],
        "the venv layer changed:\n{}\n{}",
        first.output,
        second.output
    );
    assert_ne!(
        layers_a[n - 1],
        layers_b[n - 1],
        "the app layer did not change"
    );
    // Same base layers.
    assert_eq!(layers_a[..n - 2], layers_b[..n - 2]);

    // The builder target, where the secrets were mounted, is checked too.
    let builder = h.build(
        Build::new(&ctx, "e2e-rotation:builder")
            .secret_env("pypi_token", &token_b)
            .arg("--target=builder"),
    );
    builder.assert_success();

    let tokens = [token_a.as_str(), token_b.as_str()];
    for token in tokens {
        for (surface, text) in [
            ("build output (A)", first.output.as_str()),
            ("build output (B)", second.output.as_str()),
            ("build output (builder)", builder.output.as_str()),
        ] {
            assert!(!text.contains(token), "token found in {surface}");
        }
    }
    for image in ["e2e-rotation:a", "e2e-rotation:b", "e2e-rotation:builder"] {
        h.assert_image_clean(image, &tokens);
    }
}

/// 4 of the foundation issue: a missing secret and a rejected token fail
/// with messages that say what to do, without printing the token.
#[test]
fn missing_secret_and_wrong_token_fail_clearly() {
    let Some(h) = Harness::from_env() else { return };
    let ctx = h.demo_context();
    let token = h.canary("current");
    h.set_index_token(&token);

    let missing = h.build(Build::new(&ctx, "e2e-fail:missing").arg("--no-cache"));
    missing.assert_failure();
    assert!(
        missing.output.contains("secret `pypi_token`"),
        "{}",
        missing.output
    );
    assert!(
        missing.output.contains("--secret id=pypi_token"),
        "{}",
        missing.output
    );

    let wrong = h.canary("wrong");
    let rejected = h.build(
        Build::new(&ctx, "e2e-fail:wrong")
            .secret_env("pypi_token", &wrong)
            .arg("--no-cache"),
    );
    rejected.assert_failure();
    // pypiserver answers a wrong password with 403 (401 means "no
    // credentials"); GitLab answers 401. Either way pip stops and we hint.
    assert!(
        rejected.output.contains("401") || rejected.output.contains("403"),
        "{}",
        rejected.output
    );
    assert!(
        rejected.output.contains("rejected the credentials"),
        "{}",
        rejected.output
    );
    assert!(
        !rejected.output.contains(wrong.as_str()),
        "the wrong token was printed"
    );
    assert!(
        !rejected.output.contains(token.as_str()),
        "the current token was printed"
    );
}

/// 5 of the foundation issue: spec errors name the file, line and column.
#[test]
fn a_malformed_spec_fails_with_its_line_and_column() {
    let Some(h) = Harness::from_env() else { return };
    let ctx = h.demo_context();
    let spec_path = ctx.path().join("pyfront.toml");
    let spec = std::fs::read_to_string(&spec_path).unwrap();
    let broken = spec.replace(
        "workdir = \"/opt/app\"",
        "workdir = \"/opt/app\"\nwrokdir = \"/typo\"",
    );
    assert_ne!(spec, broken);
    std::fs::write(&spec_path, &broken).unwrap();
    let line = broken
        .lines()
        .position(|l| l.starts_with("wrokdir"))
        .unwrap()
        + 1;

    let result = h.build(Build::new(&ctx, "e2e-fail:spec"));
    result.assert_failure();
    let want = format!("pyfront.toml:{line}:1: unknown field `wrokdir`");
    assert!(
        result.output.contains(&want),
        "want `{want}` in:\n{}",
        result.output
    );

    // A requirement file that is not in the context points at its entry.
    let missing = spec.replace(
        "requirements = [\"requirements.txt\"]",
        "requirements = [\"requirements.txt\", \"nope.txt\"]",
    );
    std::fs::write(&spec_path, &missing).unwrap();
    let line = missing
        .lines()
        .position(|l| l.starts_with("requirements"))
        .unwrap()
        + 1;
    let result = h.build(Build::new(&ctx, "e2e-fail:nofile"));
    result.assert_failure();
    let want =
        format!("pyfront.toml:{line}:37: requirement file `nope.txt` is not in the build context");
    assert!(
        result.output.contains(&want),
        "want `{want}` in:\n{}",
        result.output
    );
}

/// Issue 3: `with = "uv"` / `"poetry"` install the lock, pin the private
/// packages against a public decoy, reuse the install across token
/// rotations and app changes, re-run it on a lock change (the tools step
/// stays cached), leak no token and ship no installer.
fn lock_file_installer(installer: &str) {
    let Some(h) = Harness::from_env() else { return };
    let ctx = h.app_context(&format!("{installer}-app"));
    let tag = |t: &str| format!("e2e-{installer}:{t}");
    let token_a = h.canary("A");
    h.set_index_token(&token_a);
    h.lock(&ctx, installer, &token_a);

    let first = h.build(Build::new(&ctx, &tag("a")).secret_env("pypi_token", &token_a));
    first.assert_success();
    let run = h.run(&tag("a"));
    // The public index serves acme-sdk-a 9.0.0; the lock pins the private 1.0.0.
    assert!(run.contains("lockapp: acme-sdk-a 1.0.0 private"), "{run}");
    // Poetry's locked wheels are installed by pyfront itself (like pip's
    // pinned set); uv installs its own.
    let by = h.python(
        &tag("a"),
        "import importlib.metadata as m; print('installer:', m.distribution('acme-sdk-a').read_text('INSTALLER').strip())",
    );
    let expected = if installer == "uv" { "uv" } else { "pyfront" };
    assert!(by.contains(&format!("installer: {expected}")), "{by}");
    // uv itself comes from pyfront's fetcher and wheel installer, not pip
    // (issue 13), wherever the tools step ran (the engine's cache outlives
    // test runs).
    if installer == "uv" {
        assert!(
            first.step_cached("[builder] provision")
                || first.output.contains("pyfront: provisioned uv "),
            "{}",
            first.output
        );
    }

    let token_b = h.canary("B");
    h.set_index_token(&token_b);
    let change = format!("CHANGED = {:?}\n", h.canary("app"));
    std::fs::write(ctx.path().join("src/lockapp/changed.py"), change).unwrap();
    let second = h.build(Build::new(&ctx, &tag("b")).secret_env("pypi_token", &token_b));
    second.assert_success();
    // uv is provisioned; Poetry is not needed at all (pyfront reads the lock).
    if installer == "uv" {
        assert!(
            second.step_cached("[builder] provision"),
            "{}",
            second.output
        );
    } else {
        assert!(
            !second.output.contains("[builder] provision"),
            "{}",
            second.output
        );
    }
    let steps = hermetic_steps(installer);
    for step in steps {
        assert!(
            second.step_cached(step),
            "`{step}` re-ran:\n{}",
            second.output
        );
    }
    let (a, b) = (h.layers(&tag("a")), h.layers(&tag("b")));
    assert_eq!(a[a.len() - 2], b[b.len() - 2], "the venv layer changed");

    // A lock change re-runs the install, not the tools step. The change adds
    // a dependency group with a fresh name, so the new lock was never built
    // before (the engine's cache outlives test runs).
    let group = h.canary("group");
    let pyproject = ctx.path().join("pyproject.toml");
    let mut text = std::fs::read_to_string(&pyproject).unwrap();
    if installer == "uv" {
        text.push_str(&format!("\n[dependency-groups]\n{group} = [\"six\"]\n"));
    } else {
        text.push_str(&format!(
            "\n[tool.poetry.group.{group}.dependencies]\nsix = \"*\"\n"
        ));
    }
    std::fs::write(&pyproject, text).unwrap();
    h.lock(&ctx, installer, &token_b);
    let third = h.build(Build::new(&ctx, &tag("c")).secret_env("pypi_token", &token_b));
    third.assert_success();
    if installer == "uv" {
        assert!(third.step_cached("[builder] provision"), "{}", third.output);
    }
    // The new group is not installed, so the plan of files is the same:
    // fetch and install are keyed by the plan's content and stay cached.
    assert!(
        !third.step_cached(steps[0]),
        "a lock change must re-run `{}`:\n{}",
        steps[0],
        third.output
    );
    for step in &steps[1..] {
        assert!(
            third.step_cached(step),
            "the same plan must reuse `{step}`:\n{}",
            third.output
        );
    }

    let tokens = [token_a.as_str(), token_b.as_str()];
    for token in tokens {
        for out in [&first.output, &second.output, &third.output] {
            assert!(!out.contains(token), "token in the build output");
        }
    }
    for t in ["a", "b", "c"] {
        h.assert_image_clean(&tag(t), &tokens);
    }
    let probe = h.python(&tag("c"), "import os, shutil\n\
         names = {'auth.toml', '.netrc', 'pip.conf', 'credentials.toml', 'uv.toml'}\n\
         found = [os.path.join(d, f) for d, _, fs in os.walk('/') if not d.startswith(('/proc', '/sys')) for f in fs if f in names or ('keyring' in f.lower() and not d.startswith(('/usr/share/keyrings', '/var/lib/dpkg', '/etc/apt')))]\n\
         print('credential files:', found)\n\
         print('tools:', shutil.which('uv'), shutil.which('poetry'), shutil.which('pip'), os.path.exists('/opt/pyfront-tools'))");
    assert!(probe.contains("credential files: []"), "{probe}");
    assert!(probe.contains("tools: None None None False"), "{probe}");
}

/// The names of the hermetic install's select, fetch and install steps.
fn hermetic_steps(installer: &str) -> [&'static str; 3] {
    if installer == "uv" {
        [
            "[builder] uv export --locked",
            "[builder] fetch the planned files",
            "[builder] uv install from the wheelhouse",
        ]
    } else {
        [
            "[builder] read poetry.lock",
            "[builder] fetch the planned files",
            "[builder] pip install from the wheelhouse",
        ]
    }
}

#[test]
fn uv_installs_the_lock_with_secret_credentials() {
    lock_file_installer("uv");
}

#[test]
fn poetry_installs_the_lock_with_secret_credentials() {
    lock_file_installer("poetry");
}

/// Issue 3: a lock that resolved a pinned private name from the public
/// index (the decoy acme-sdk-a 9.0.0) is refused before anything runs.
fn decoy_lock_is_refused(installer: &str) {
    let Some(h) = Harness::from_env() else { return };
    let ctx = h.app_context(&format!("{installer}-app"));
    let token = h.canary("decoy");
    h.set_index_token(&token);
    let pyproject = ctx.path().join("pyproject.toml");
    let text = std::fs::read_to_string(&pyproject).unwrap();
    let unpinned = if installer == "uv" {
        text.replace("acme-sdk-a = { index = \"private\" }\n", "")
    } else {
        text.replace(
            "acme-sdk-a = { version = \">=1.0\", source = \"private\" }",
            "acme-sdk-a = \">=1.0\"",
        )
    };
    assert_ne!(text, unpinned);
    std::fs::write(&pyproject, unpinned).unwrap();
    h.lock(&ctx, installer, &token);
    let lock = std::fs::read_to_string(ctx.path().join(format!("{installer}.lock"))).unwrap();
    assert!(
        lock.contains("9.0.0"),
        "the lock should have taken the decoy:\n{lock}"
    );

    let result = h.build(
        Build::new(&ctx, &format!("e2e-{installer}:decoy")).secret_env("pypi_token", &token),
    );
    result.assert_failure();
    let want = format!(
        "`acme-sdk-a` is locked from index `public` in `{installer}.lock`, but `packages` pins it to index `private`"
    );
    assert!(
        result.output.contains(&want),
        "want `{want}` in:\n{}",
        result.output
    );
    assert!(!result.output.contains(token.as_str()));
}

#[test]
fn uv_refuses_a_lock_with_the_public_decoy() {
    decoy_lock_is_refused("uv");
}

#[test]
fn poetry_refuses_a_lock_with_the_public_decoy() {
    decoy_lock_is_refused("poetry");
}

/// Issue 4: two builds of different apps on one engine at the same time,
/// sharing pyfront's cache mounts, each get their own spec, context and
/// dependencies. (Before local sources carried the session id, their
/// identical `local://dockerfile` ops were merged and one build could read
/// the other's files.)
#[test]
fn concurrent_builds_of_different_apps_stay_apart() {
    let Some(h) = Harness::from_env() else { return };
    let token = h.canary("concurrent");
    h.set_index_token(&token);
    let one = h.demo_context();
    let two = h.demo_context();
    // App two: another dependency set and another message.
    std::fs::write(two.path().join("requirements.txt"), "six==1.16.0\n").unwrap();
    let marker = h.canary("apptwo");
    std::fs::write(
        two.path().join("src/demoapp/__main__.py"),
        format!("import six\nprint('app two', {marker:?}, six.__version__)\n"),
    )
    .unwrap();
    let spec = std::fs::read_to_string(two.path().join("pyfront.toml")).unwrap();
    std::fs::write(
        two.path().join("pyfront.toml"),
        spec.replace("workdir = \"/opt/app\"", "workdir = \"/srv/two\"")
            .replace(
                "PYTHONPATH = \"/opt/app/src\"",
                "PYTHONPATH = \"/srv/two/src\"",
            ),
    )
    .unwrap();
    let results: Vec<harness::BuildResult> = std::thread::scope(|s| {
        let builds: Vec<_> = [(&one, "e2e-concurrent:one"), (&two, "e2e-concurrent:two")]
            .map(|(ctx, tag)| {
                let h = &h;
                let token = &token;
                s.spawn(move || {
                    h.build(
                        Build::new(ctx, tag)
                            .secret_env("pypi_token", token)
                            .arg("--no-cache"),
                    )
                })
            })
            .into_iter()
            .collect();
        builds.into_iter().map(|b| b.join().unwrap()).collect()
    });
    for r in &results {
        r.assert_success();
    }
    let out_one = h.run("e2e-concurrent:one");
    assert!(
        out_one.contains("demoapp: hello world from acme-sdk-a"),
        "{out_one}"
    );
    let out_two = h.run("e2e-concurrent:two");
    assert!(
        out_two.contains(&format!("app two {marker} 1.16.0")),
        "{out_two}"
    );
    let workdir = h.docker(&[
        "inspect",
        "-f",
        "{{.Config.WorkingDir}}",
        "e2e-concurrent:two",
    ]);
    assert_eq!(workdir.trim(), "/srv/two");
    // App two has no private SDK: its venv did not get app one's packages.
    let probe = h.python(
        "e2e-concurrent:two",
        "import importlib.util as u; print('sdk:', u.find_spec('acme_sdk_a') is not None)",
    );
    assert!(probe.contains("sdk: False"), "{probe}");
}

/// Issue 3: `project = true` installs the project itself (non-editable) in
/// a step after the locked dependencies; an app change re-runs that step
/// but not the dependency install.
#[test]
fn uv_project_true_installs_the_project_into_the_venv() {
    let Some(h) = Harness::from_env() else { return };
    let ctx = h.app_context("uv-app");
    let pyproject = ctx.path().join("pyproject.toml");
    let text = std::fs::read_to_string(&pyproject).unwrap();
    let packaged = text.replace("[tool.uv]\npackage = false\n", "")
        + "\n[build-system]\nrequires = [\"poetry-core>=2.0\"]\nbuild-backend = \"poetry.core.masonry.api\"\n\
           \n[tool.poetry]\npackages = [{ include = \"lockapp\", from = \"src\" }]\n";
    assert_ne!(text, packaged);
    std::fs::write(&pyproject, packaged).unwrap();
    let spec_path = ctx.path().join("pyfront.toml");
    let spec = std::fs::read_to_string(&spec_path).unwrap();
    // No PYTHONPATH: the app must import from the venv.
    let spec = spec
        .replace("\nwith = \"uv\"\n", "\nwith = \"uv\"\nproject = true\n")
        .replace("env = { PYTHONPATH = \"/opt/app/src\" }\n", "");
    std::fs::write(&spec_path, spec).unwrap();
    let token = h.canary("project");
    h.set_index_token(&token);
    h.lock(&ctx, "uv", &token);

    let first = h.build(Build::new(&ctx, "e2e-project:a").secret_env("pypi_token", &token));
    first.assert_success();
    let run = h.run("e2e-project:a");
    assert!(run.contains("lockapp: acme-sdk-a 1.0.0 private"), "{run}");
    let origin = h.python(
        "e2e-project:a",
        "import lockapp; print('origin:', lockapp.__file__)",
    );
    assert!(origin.contains("origin: /opt/venv/lib/"), "{origin}");

    let change = format!("CHANGED = {:?}\n", h.canary("app"));
    std::fs::write(ctx.path().join("src/lockapp/changed.py"), change).unwrap();
    let second = h.build(Build::new(&ctx, "e2e-project:b").secret_env("pypi_token", &token));
    second.assert_success();
    for step in hermetic_steps("uv") {
        assert!(second.step_cached(step), "{}", second.output);
    }
    assert!(
        !second.step_cached("[builder] pip install --no-deps ."),
        "{}",
        second.output
    );
    h.assert_image_clean("e2e-project:b", &[token.as_str()]);
}

/// The load check's step (its name starts with this).
const LOAD_CHECK: &str = "[app] check that the app's shared libraries load";

/// Issue 11: a uv workspace. `package = "wsapp"` installs what the app
/// member needs: the private acme-sdk-a from the index and the two SDK
/// members from the context (non-editable, into the venv). An app-only
/// change re-runs only the select step, whose plan and member copies are
/// unchanged, so the fetch and the install stay cached; an SDK change
/// re-runs the install (not the fetch) and reaches the image.
#[test]
fn uv_workspace_installs_the_members_the_package_needs() {
    let Some(h) = Harness::from_env() else { return };
    let ctx = h.app_context("uv-workspace");
    let token = h.canary("workspace");
    h.set_index_token(&token);
    h.lock(&ctx, "uv", &token);
    let select = "[builder] uv export --locked --package wsapp";
    let fetch = "[builder] fetch the planned files";
    let install = "[builder] uv install from the wheelhouse";

    let first = h.build(Build::new(&ctx, "e2e-ws:a").secret_env("pypi_token", &token));
    first.assert_success();
    let run = h.run("e2e-ws:a");
    assert!(
        run.contains("wsapp: client -> base 1 (acme-sdk-a 1.0.0)"),
        "{run}"
    );
    assert!(
        run.contains("wsapp: corp_base from /opt/venv/lib/"),
        "{run}"
    );

    // An app-only change.
    let app = ctx.path().join("packages/app/src/wsapp/extra.py");
    std::fs::write(&app, format!("X = {:?}\n", h.canary("app"))).unwrap();
    let second = h.build(Build::new(&ctx, "e2e-ws:b").secret_env("pypi_token", &token));
    second.assert_success();
    assert!(!second.step_cached(select), "{}", second.output);
    assert!(second.step_cached(fetch), "{}", second.output);
    assert!(second.step_cached(install), "{}", second.output);
    // Issue 13: no shared object changed, so where pyfront grafts the load
    // check stays cached; on d12 it runs on the whole app image.
    assert_eq!(
        second.step_cached(LOAD_CHECK),
        h.grafts(),
        "{}",
        second.output
    );

    // A change to an SDK member's source. A new value on every run: the
    // install is keyed by content, so a value an earlier run built would
    // rightly come from the cache.
    let greeting = h.canary("base");
    let base = ctx
        .path()
        .join("packages/corp-base/src/corp_base/__init__.py");
    let text = std::fs::read_to_string(&base).unwrap();
    std::fs::write(&base, text.replace("base 1", &greeting)).unwrap();
    let third = h.build(Build::new(&ctx, "e2e-ws:c").secret_env("pypi_token", &token));
    third.assert_success();
    assert!(third.step_cached(fetch), "{}", third.output);
    assert!(!third.step_cached(install), "{}", third.output);
    let run = h.run("e2e-ws:c");
    assert!(
        run.contains(&format!("wsapp: client -> {greeting} (acme-sdk-a 1.0.0)")),
        "{run}"
    );
    h.assert_image_clean("e2e-ws:c", &[token.as_str()]);
}

/// Issue 11: packages of the app's own repository that the lock takes from
/// a path (Poetry path dependencies, uv path sources), built like uv
/// workspace members. One build; an app-only change re-runs only the
/// select step (its plan and copies are the same, so the fetch and the
/// install stay cached); a change to an SDK's source re-runs the install
/// (not the fetch) and reaches the image. `sdk` is the SDK file the test
/// changes, whose `old` text it replaces; `says` is what the app prints
/// with the SDK's text in place of `{}`.
fn local_packages_rebuild(installer: &str, fixture: &str, sdk: &str, old: &str, says: &str) {
    let Some(h) = Harness::from_env() else { return };
    let ctx = h.app_context(fixture);
    let token = h.canary(fixture);
    h.set_index_token(&token);
    h.lock(&ctx, installer, &token);
    let [select, fetch, install] = hermetic_steps(installer);
    rebuilds_only_what_changed(
        &h,
        &ctx,
        &token,
        fixture,
        Some(select),
        [fetch, install],
        sdk,
        old,
        says,
    );
}

/// Three builds of `fixture`'s context: as it is; after an app-only change
/// (`select`, if the installer has one, re-runs, the fetch and install
/// steps stay cached); after a change to a local package's source `sdk`
/// (`old` replaced; the install re-runs, the fetch does not). Each time the
/// image's command prints `says` with the package's current text. Returns
/// the first build's output.
#[allow(clippy::too_many_arguments)]
fn rebuilds_only_what_changed(
    h: &Harness,
    ctx: &tempfile::TempDir,
    token: &str,
    fixture: &str,
    select: Option<&str>,
    [fetch, install]: [&str; 2],
    sdk: &str,
    old: &str,
    says: &str,
) -> String {
    let tag = |n: &str| format!("e2e-{fixture}:{n}");

    let first = h.build(Build::new(ctx, &tag("a")).secret_env("pypi_token", token));
    first.assert_success();
    let run = h.run(&tag("a"));
    assert!(run.contains(&says.replace("{}", old)), "{run}");
    // Built into the venv, not linked to the build's context.
    assert!(run.contains(" from /opt/venv/lib/"), "{run}");

    // An app-only change.
    std::fs::write(
        ctx.path().join("src/changed.py"),
        format!("X = {:?}\n", h.canary("app")),
    )
    .unwrap();
    let second = h.build(Build::new(ctx, &tag("b")).secret_env("pypi_token", token));
    second.assert_success();
    if let Some(select) = select {
        assert!(!second.step_cached(select), "{}", second.output);
    }
    assert!(second.step_cached(fetch), "{}", second.output);
    assert!(second.step_cached(install), "{}", second.output);
    // Issue 13: no shared object changed, so where pyfront grafts the load
    // check stays cached; on d12 it runs on the whole app image.
    assert_eq!(
        second.step_cached(LOAD_CHECK),
        h.grafts(),
        "{}",
        second.output
    );

    // A change to an SDK's source: a new value on every run (the install
    // is keyed by content, so one an earlier run built would be cached).
    let greeting = h.canary("sdk");
    let path = ctx.path().join(sdk);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(old), "{text}");
    std::fs::write(&path, text.replace(old, &greeting)).unwrap();
    let third = h.build(Build::new(ctx, &tag("c")).secret_env("pypi_token", token));
    third.assert_success();
    assert!(third.step_cached(fetch), "{}", third.output);
    assert!(!third.step_cached(install), "{}", third.output);
    let run = h.run(&tag("c"));
    assert!(run.contains(&says.replace("{}", &greeting)), "{run}");
    h.assert_image_clean(&tag("c"), &[token]);
    first.output
}

/// Poetry path dependencies: `corp-client` (`develop = true`) depends on
/// the path dependency `corp-base`, which depends on the private acme-sdk-a.
#[test]
fn poetry_path_dependencies_are_built_from_the_context() {
    local_packages_rebuild(
        "poetry",
        "poetry-paths",
        "sdks/corp-base/src/corp_base/__init__.py",
        "base 1",
        "pathapp: client -> {} (acme-sdk-a 1.0.0, six ",
    );
}

/// A uv path source outside any workspace (`editable = true`), which
/// depends on the private acme-sdk-a.
#[test]
fn uv_path_sources_are_built_from_the_context() {
    local_packages_rebuild(
        "uv",
        "uv-paths",
        "libs/corp-tools/src/corp_tools/__init__.py",
        "tools 1",
        "uvpaths: {} (acme-sdk-a 1.0.0)",
    );
}

/// A pip local path requirement of static metadata (`./libs/corp-tools`,
/// which depends on the private acme-sdk-a): its dependencies are fetched
/// as wheels, it is built in the sealed install step from its own
/// directory, an app-only change keeps the install cached and a change to
/// its source re-runs it (but not the fetch).
#[test]
fn pip_local_path_requirements_are_built_without_the_token() {
    let Some(h) = Harness::from_env() else { return };
    let ctx = h.app_context("pip-paths");
    let token = h.canary("pip-paths");
    h.set_index_token(&token);
    corp_tools_rebuilds_only_what_changed(&h, &ctx, &token, "pip-paths");
}

/// `rebuilds_only_what_changed` for the pip-paths fixture, whose
/// requirement files reach `./libs/corp-tools` (as written in `ctx`):
/// the same steps and the same package change, however the files say it.
/// Returns the first build's output.
fn corp_tools_rebuilds_only_what_changed(
    h: &Harness,
    ctx: &tempfile::TempDir,
    token: &str,
    fixture: &str,
) -> String {
    let fetch = "[builder] pip download --only-binary=:all: -r requirements.txt";
    let install = "[builder] pip install -r requirements.txt from the wheelhouse, then pip install --no-deps libs/corp-tools";
    rebuilds_only_what_changed(
        h,
        ctx,
        token,
        fixture,
        None,
        [fetch, install],
        "libs/corp-tools/src/corp_tools/__init__.py",
        "tools 1",
        "pippaths: {} (acme-sdk-a 1.0.0)",
    )
}

/// `-e ./libs/corp-tools` in a file that requirements.txt includes (the
/// Django/Flask shape of issue 11): installed as the path is, a copy built
/// in the sealed install step (the image imports it from the venv, not
/// from the build context, and holds no token), with the lint naming the
/// line; the same rebuilds as without `-e`.
#[test]
fn pip_editable_requirement_is_installed_as_a_copy() {
    let Some(h) = Harness::from_env() else { return };
    let ctx = h.app_context("pip-paths");
    let token = h.canary("pip-editable");
    h.set_index_token(&token);
    std::fs::write(
        ctx.path().join("requirements.txt"),
        "-r requirements/app.txt\n",
    )
    .unwrap();
    std::fs::create_dir_all(ctx.path().join("requirements")).unwrap();
    std::fs::write(
        ctx.path().join("requirements/app.txt"),
        "-e ./libs/corp-tools\n",
    )
    .unwrap();
    let first = corp_tools_rebuilds_only_what_changed(&h, &ctx, &token, "pip-editable");
    assert!(first.contains("editable-installed-as-copy"), "{first}");
    assert!(first.contains("requirements/app.txt:1:4"), "{first}");
}

/// The context root as a local requirement (`.`), which depends by name on
/// another local requirement (`corp-tools`): neither is looked up on the
/// index, both are installed into the venv.
#[test]
fn pip_context_root_requirement_is_installed_with_its_local_dependency() {
    let Some(h) = Harness::from_env() else { return };
    let ctx = h.app_context("pip-paths");
    let token = h.canary("pip-root");
    h.set_index_token(&token);
    std::fs::write(
        ctx.path().join("requirements.txt"),
        ".\n./libs/corp-tools\n",
    )
    .unwrap();
    std::fs::write(
        ctx.path().join("pyproject.toml"),
        "[project]\nname = \"pippaths\"\nversion = \"2.0\"\ndependencies = [\"corp-tools\"]\n\n[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n\n[tool.setuptools.packages.find]\nwhere = [\"src\"]\n",
    )
    .unwrap();
    let tag = "e2e-pip-root:a";
    let build = h.build(Build::new(&ctx, tag).secret_env("pypi_token", &token));
    build.assert_success();
    let found = h.python(
        tag,
        "import importlib.metadata as m, pippaths; print('versions', m.version('pippaths'), m.version('corp-tools'), m.version('acme-sdk-a'))",
    );
    assert!(found.contains("versions 2.0 1.0.0 1.0.0"), "{found}");
    h.assert_image_clean(tag, &[token.as_str()]);
}

/// Issue 4: shell metacharacters in every spec value that reaches a build
/// step, and in a requirement file's name and content, stay data. Each
/// payload would create a marker file if any shell ran it; none exists in
/// the builder or the app image afterwards.
#[test]
fn shell_payloads_in_spec_values_execute_nothing() {
    let Some(h) = Harness::from_env() else { return };
    let ctx = h.demo_context();
    let token = h.canary("inject");
    h.set_index_token(&token);
    // No spaces (they would be rejected by the spec's own validation before
    // any build): `$${IFS}` is TOML for a literal `${IFS}`, which a shell
    // would turn into a space. Each would create /tmp/pwned<n>*.
    let pay = |n: u32| {
        format!("$(touch$${{IFS}}/tmp/pwned{n})`touch$${{IFS}}/tmp/pwned{n}b`;id>/tmp/pwned{n}c")
    };
    let req_name = format!("req{}.txt", "$(id>pwned9)");
    std::fs::write(
        ctx.path().join(&req_name),
        "acme-sdk-b==1.0.0 ; python_version >= \"3\" # $(id>/tmp/pwned8)\n",
    )
    .unwrap();
    let spec = std::fs::read_to_string(ctx.path().join("pyfront.toml")).unwrap();
    let spec = spec
        .replace(
            "requirements = [\"requirements.txt\"]",
            &format!("requirements = [{req_name:?}]"),
        )
        .replace(
            "cmd = [\"python3\", \"-m\", \"demoapp\"]",
            &format!(
                "cmd = [\"python3\", \"-m\", \"demoapp\", {:?}]\nlabels = {{ x = {:?} }}",
                pay(1),
                pay(2)
            ),
        )
        .replace(
            "PYTHONPATH = \"/opt/app/src\"",
            &format!("PYTHONPATH = \"/opt/app/src\", X = {:?}", pay(3)),
        );
    // The index URL and username are left alone: payloads there are data
    // too (tests/robustness.rs), but they change what pip asks the index,
    // and this build must succeed.
    std::fs::write(ctx.path().join("pyfront.toml"), &spec).unwrap();

    for (tag, target) in [
        ("e2e-inject:builder", "--target=builder"),
        ("e2e-inject:app", "--target=app"),
    ] {
        let result = h.build(
            Build::new(&ctx, tag)
                .secret_env("pypi_token", &token)
                .arg(target)
                .arg("--no-cache"),
        );
        result.assert_success();
        let found = h.python(tag, "import os; print('markers:', sorted(os.path.join(d, f) for d, _, fs in os.walk('/') if not d.startswith(('/proc', '/sys', '/dev')) for f in fs if 'pwned' in f and not d.startswith('/opt/app')))");
        assert!(found.contains("markers: []"), "{tag}: {found}");
    }
    // The payloads are in the config as plain data.
    let cmd = h.docker(&["inspect", "-f", "{{json .Config.Cmd}}", "e2e-inject:app"]);
    assert!(cmd.contains("touch${IFS}/tmp/pwned1"), "{cmd}");
    assert!(!std::path::Path::new("/tmp/pwned1").exists());
}

/// Issue 5 (part): `docker buildx build --print=outline` (buildx 0.13) or
/// `--call=outline` (buildx 0.15+) lists the build args and the secrets a
/// spec needs, before any arg or secret is given; `targets` the targets.
/// Only the buildx engines (d13, d28) have them.
#[test]
fn outline_lists_build_args_and_secrets() {
    let Some(h) = Harness::from_env() else { return };
    if !h.has_buildx() {
        eprintln!("skipping: this engine's client has no --print (buildx only)");
        return;
    }
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/gitlab-ci");
    let out = h.buildx_print(&example, "outline");
    // The table buildx prints, for the record (the closing note of #5 quotes it).
    eprintln!("{}", out.split("\n#0 ").next().unwrap_or(&out));
    assert!(out.contains("PYPI_INDEX_URL"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("BASE_REGISTRY") && l.contains("docker.io")),
        "{out}"
    );
    assert!(out.contains("pypi_token"), "{out}");
    let targets = h.buildx_print(&example, "targets");
    assert!(targets.contains("app (default)"), "{targets}");
    assert!(targets.contains("builder"), "{targets}");
}

/// Issue 14: `docker buildx build --check` (`--call=check`, buildx 0.15+:
/// the d28 engine) asks the frontend's `frontend.lint` subrequest and shows
/// pyfront's own lints, located in the spec, with a failing exit status;
/// they are the warnings `pyfront check` reports. A clean spec passes.
#[test]
fn buildx_check_shows_pyfronts_lints() {
    let Some(h) = Harness::from_env() else { return };
    if !h.has_buildx_call() {
        eprintln!("skipping: this engine's buildx has no --call/--check (buildx 0.15+ only)");
        return;
    }
    let ctx = h.demo_context();
    let spec_path = ctx.path().join("pyfront.toml");
    // The index URL written in: `--call` passes no build args.
    let clean = std::fs::read_to_string(&spec_path)
        .unwrap()
        .replace("${PYPI_INDEX_URL}", h.index_url());
    // Runs as root (no `user`) and a plain-HTTP extra index for pip.
    let spec = clean.replace("user = \"1000:1000\"\n", "")
        + "\n[[index]]\nname = \"mirror\"\nurl = \"http://pypi.example/simple\"\n";
    std::fs::write(&spec_path, &spec).unwrap();
    let (flag, checked) = h.buildx_call(ctx.path(), "check");
    // The output buildx prints, for the record (the closing note of #14 quotes it).
    eprintln!("{flag}:\n{}", checked.output);
    assert!(
        !checked.success,
        "{flag} passed with warnings:\n{}",
        checked.output
    );
    let offline = std::process::Command::new(env!("CARGO_BIN_EXE_pyfront"))
        .arg("check")
        .arg("-f")
        .arg(&spec_path)
        .arg("--context")
        .arg(ctx.path())
        .output()
        .unwrap();
    let offline = String::from_utf8_lossy(&offline.stderr).into_owned();
    let mut rules = Vec::new();
    // `file:line:col: warning: message (rule); hint`: the rule is the last
    // parenthesized run of `[a-z-]`.
    for line in offline.lines().filter(|l| l.contains(": warning: ")) {
        let rule = line
            .split(" (")
            .filter_map(|part| part.split_once(')'))
            .map(|(inside, _)| inside)
            .filter(|inside| {
                !inside.is_empty() && inside.chars().all(|c| c.is_ascii_lowercase() || c == '-')
            })
            .last()
            .unwrap_or_else(|| panic!("no rule in `{line}`"));
        rules.push(rule.to_owned());
    }
    assert!(
        !rules.is_empty(),
        "pyfront check found no warning:\n{offline}"
    );
    // Runs-as-root needs the base's config: only the engine knows it.
    for rule in ["plain-http-index", "extra-index-confusion", "runs-as-root"] {
        assert!(
            checked.output.contains(rule),
            "{flag}: no {rule}:\n{}",
            checked.output
        );
    }
    for rule in &rules {
        assert!(
            checked.output.contains(rule.as_str()),
            "{flag} lacks `{rule}` that pyfront check reports:\n{offline}\n{}",
            checked.output
        );
    }
    // Located: buildx prints the spec's lines of the `[[index]]` table.
    assert!(
        checked.output.contains("http://pypi.example/simple"),
        "{}",
        checked.output
    );
    std::fs::write(&spec_path, &clean).unwrap();
    let (_, passed) = h.buildx_call(ctx.path(), "check");
    eprintln!("{flag} (clean spec):\n{}", passed.output);
    assert!(
        passed.success,
        "{flag} failed on the clean demo spec:\n{}",
        passed.output
    );
}

/// #5: `--build-arg SOURCE_DATE_EPOCH` fixes the image's `created` time and
/// that of pyfront's history entries (reproducible configs per commit).
#[test]
fn source_date_epoch_sets_created_and_history() {
    let Some(h) = Harness::from_env() else { return };
    let ctx = h.demo_context();
    let token = h.canary("epoch");
    h.set_index_token(&token);
    let built = h.build(
        Build::new(&ctx, "e2e-epoch:1")
            .secret_env("pypi_token", &token)
            .arg("--build-arg=SOURCE_DATE_EPOCH=1700000000"),
    );
    built.assert_success();
    let created = h.docker(&["inspect", "-f", "{{.Created}}", "e2e-epoch:1"]);
    assert!(created.starts_with("2023-11-14T22:13:20"), "{created}");
    let history = h.docker(&[
        "history",
        "--no-trunc",
        "--format",
        "{{.CreatedAt}}|{{.Comment}}",
        "e2e-epoch:1",
    ]);
    let ours: Vec<&str> = history
        .lines()
        .filter(|l| l.ends_with("|pyfront"))
        .collect();
    // The venv (copied: one layer; grafted: the venv and install steps'
    // own) and the app code.
    let expected = if h.grafts() { 3 } else { 2 };
    assert_eq!(ours.len(), expected, "{history}");
    assert!(
        ours.iter().all(|l| l.starts_with("2023-11-14T22:13:20")),
        "{history}"
    );
}

/// #5: `make release-image` writes an OCI layout (an image index) with the
/// version, revision and source labels, and the loaded image works as the
/// frontend of a real build. Needs buildx: the d13 engine.
#[test]
fn release_image_is_an_oci_layout_that_builds() {
    let Some(h) = Harness::from_env() else { return };
    if !h.has_buildx() {
        eprintln!("skipping: make release-image needs buildx (the d13 engine runs it)");
        return;
    }
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let name = "pyfront-e2e-release/pyfront";
    let mut make = h.command("make");
    make.arg("--no-print-directory")
        .arg("release-image")
        .arg(format!("RELEASE_IMAGE={name}"))
        .current_dir(repo);
    h.run_command("make release-image", make).assert_success();
    let cargo = std::fs::read_to_string(repo.join("Cargo.toml")).unwrap();
    let version = cargo
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .unwrap();
    let tar = repo.join(format!("dist/pyfront-{version}-oci.tar"));
    let layout = harness::OciLayout::unpack(&tar);
    let index = layout.index();
    assert!(layout.path().join("oci-layout").is_file());
    // index.json names the image; it points at an index or a manifest.
    assert_eq!(
        index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"], version,
        "{index}"
    );
    let manifest = layout.manifest(Some("amd64"));
    let config = layout.blob(&manifest["config"]["digest"]);
    let labels = &config["config"]["Labels"];
    assert_eq!(labels["org.opencontainers.image.version"], version);
    assert!(labels["org.opencontainers.image.revision"]
        .as_str()
        .is_some_and(|r| r.len() == 12 && r != "unknown"));
    assert!(labels["org.opencontainers.image.source"].is_string());
    assert_eq!(
        labels["moby.buildkit.frontend.caps"],
        "moby.buildkit.frontend.subrequests"
    );
    assert_eq!(
        config["config"]["Entrypoint"],
        serde_json::json!(["/pyfront"])
    );

    // Loaded into the engine, it is the frontend of a real build.
    h.docker(&["load", "-i", tar.to_str().unwrap()]);
    let ctx = h.demo_context();
    let token = h.canary("release");
    h.set_index_token(&token);
    let built = h.build(
        Build::new(&ctx, "e2e-release:1")
            .secret_env("pypi_token", &token)
            .arg(&format!("--build-arg=BUILDKIT_SYNTAX={name}:{version}")),
    );
    built.assert_success();
    assert!(
        built.output.contains(&format!("{name}:{version}")),
        "{}",
        built.output
    );
}

/// Issue 11: a shared object the runtime image cannot load fails the build
/// with the library and the exact `[app] system-packages` line (the package
/// found in the builder's dpkg database); with that line, apt installs it in
/// the app stage, in a layer of its own below the venv, leaving no apt lists,
/// and the object loads. Issue 13: where pyfront grafts, an app change that
/// touches no shared object leaves the check cached; one more object, deep
/// in the code and missing a library, fails the next build again.
#[test]
fn a_missing_runtime_library_fails_with_its_fix_and_system_packages_fix_it() {
    let Some(h) = Harness::from_env() else { return };
    let ctx = h.demo_context();
    // A vendored object that needs libyaml-0.so.2 (DT_NEEDED), which the
    // slim runtime base lacks. Linked against a stub of that soname, so the
    // host needs only a C compiler.
    let vendor = ctx.path().join("vendor");
    std::fs::create_dir_all(&vendor).unwrap();
    let native = harness::NativeObjects::with_stubs(&["libyaml-0.so.2", "libpyfront-absent.so.3"]);
    let native_c = "int native_ok(void) { return 42; }\n";
    native.object(&vendor.join("libnative.so"), native_c, "libyaml-0.so.2");

    let spec_path = ctx.path().join("pyfront.toml");
    let spec = std::fs::read_to_string(&spec_path).unwrap();
    // The builder has the package (as it has libpq5 next to libpq-dev).
    let builder_has_it = spec.replace(
        "base = \"pyfront-test/python:3.11-bookworm\"",
        "base = \"pyfront-test/python:3.11-bookworm\"\nsystem-packages = [\"libyaml-0-2\"]",
    );
    assert_ne!(spec, builder_has_it);
    std::fs::write(&spec_path, &builder_has_it).unwrap();
    let token = h.canary("loadcheck");
    h.set_index_token(&token);
    let missing =
        h.build(Build::new(&ctx, "e2e-loadcheck:missing").secret_env("pypi_token", &token));
    missing.assert_failure();
    for want in [
        "error: `vendor/libnative.so` needs `libyaml-0.so.2`, which the runtime image does not have",
        "help: add `system-packages = [\"libyaml-0-2\"]` to [app]",
    ] {
        assert!(missing.output.contains(want), "want `{want}` in:\n{}", missing.output);
    }

    let fixed = builder_has_it.replace(
        "workdir = \"/opt/app\"",
        "workdir = \"/opt/app\"\nsystem-packages = [\"libyaml-0-2\"]",
    );
    std::fs::write(&spec_path, fixed).unwrap();
    let result = h.build(Build::new(&ctx, "e2e-loadcheck:fixed").secret_env("pypi_token", &token));
    result.assert_success();
    assert!(
        result.output.contains("[app] apt-get install libyaml-0-2"),
        "{}",
        result.output
    );
    let loaded = h.python(
        "e2e-loadcheck:fixed",
        "import ctypes, os; n = ctypes.CDLL('/opt/app/vendor/libnative.so').native_ok(); lists = [f for f in os.listdir('/var/lib/apt/lists') if f.endswith('Packages')]; print('loaded', n, 'lists:', lists)",
    );
    assert!(loaded.contains("loaded 42 lists: []"), "{loaded}");
    let history = h.docker(&[
        "history",
        "--no-trunc",
        "--format",
        "{{.CreatedBy}}",
        "e2e-loadcheck:fixed",
    ]);
    let ours: Vec<&str> = history
        .lines()
        .filter(|l| l.starts_with("pyfront: "))
        .collect();
    // Oldest first: the apt layer below the venv and the app code.
    let oldest_first: Vec<&str> = ours.iter().rev().copied().collect();
    let n = oldest_first.len();
    assert_eq!(
        oldest_first[0], "pyfront: apt-get install libyaml-0-2",
        "{history}"
    );
    h.assert_venv_history(&oldest_first[1..n - 1], &history);
    assert_eq!(oldest_first[n - 1], "pyfront: COPY . /opt/app", "{history}");
    h.assert_image_clean("e2e-loadcheck:fixed", &[&token]);

    // An app change: new code in a new directory (named anew on every run,
    // so no earlier run cached a check that saw it), no new shared object.
    let module = ctx.path().join("src/demoapp").join(h.canary("mod"));
    std::fs::create_dir_all(&module).unwrap();
    std::fs::write(module.join("__init__.py"), "X = 1\n").unwrap();
    let changed =
        h.build(Build::new(&ctx, "e2e-loadcheck:changed").secret_env("pypi_token", &token));
    changed.assert_success();
    assert!(
        !changed.step_cached("[app] COPY . /opt/app"),
        "{}",
        changed.output
    );
    // Without merge and diff (d12) the check runs on the whole app image.
    assert_eq!(
        changed.step_cached(LOAD_CHECK),
        h.grafts(),
        "grafts: {}\n{}",
        h.grafts(),
        changed.output
    );

    // A shared object deep in the code (`.so.N`) that needs a library no
    // package of the builder ships.
    let deep = ctx.path().join("src/demoapp/_ext/linux");
    std::fs::create_dir_all(&deep).unwrap();
    native.object(
        &deep.join("libdeep.so.1"),
        native_c,
        "libpyfront-absent.so.3",
    );
    let broken = h.build(Build::new(&ctx, "e2e-loadcheck:broken").secret_env("pypi_token", &token));
    broken.assert_failure();
    for want in [
        "error: `src/demoapp/_ext/linux/libdeep.so.1` needs `libpyfront-absent.so.3`, which the runtime image does not have",
        "no package of the builder ships `libpyfront-absent.so.3`: add the Debian package that provides it to `system-packages` in [app]",
    ] {
        assert!(broken.output.contains(want), "want `{want}` in:\n{}", broken.output);
    }
}

/// Issue 11: `[app] user = "app"` on a runtime base without that user
/// creates it with uid and gid 10001 and a home, and the app code is its;
/// the venv stays root's. A venv change leaves the user step cached.
#[test]
fn user_is_created_and_owns_the_workdir() {
    let Some(h) = Harness::from_env() else { return };
    let ctx = h.demo_context();
    let spec_path = ctx.path().join("pyfront.toml");
    let spec = std::fs::read_to_string(&spec_path).unwrap();
    let named = spec.replace("user = \"1000:1000\"", "user = \"app\"");
    assert_ne!(spec, named);
    std::fs::write(&spec_path, &named).unwrap();
    let token = h.canary("user");
    h.set_index_token(&token);

    let result = h.build(Build::new(&ctx, "e2e-user:a").secret_env("pypi_token", &token));
    result.assert_success();
    assert!(
        result
            .output
            .contains("[app] create user app (uid 10001, gid 10001) if the base lacks it"),
        "{}",
        result.output
    );
    let id = h.docker(&[
        "run",
        "--rm",
        "--network=none",
        "--entrypoint",
        "id",
        "e2e-user:a",
    ]);
    assert_eq!(
        id.trim(),
        "uid=10001(app) gid=10001(app) groups=10001(app)",
        "{id}"
    );
    let owners = h.python(
        "e2e-user:a",
        "import os, pwd\n\
         def owner(p): s = os.stat(p); return f'{p} {s.st_uid}:{s.st_gid} {oct(s.st_mode & 0o777)}'\n\
         app = [os.path.join(d, f) for d, ds, fs in os.walk('/opt/app') for f in ds + fs]\n\
         print('app files', len(app), sorted({owner(p).split()[1] for p in app}))\n\
         print(owner('/opt/app'))\n\
         print(owner('/home/app'))\n\
         print('venv', sorted({os.lstat(os.path.join(d, f)).st_uid for d, ds, fs in os.walk('/opt/venv') for f in fs}))\n\
         print('passwd', pwd.getpwnam('app'))\n\
         print('cwd writable', os.access(os.getcwd(), os.W_OK), 'venv writable', os.access('/opt/venv/bin', os.W_OK))",
    );
    for want in [
        "/opt/app 10001:10001",
        "/home/app 10001:10001 0o755",
        "venv [0]",
        "pw_dir='/home/app', pw_shell='/usr/sbin/nologin'",
        "cwd writable True venv writable False",
    ] {
        assert!(owners.contains(want), "want `{want}` in:\n{owners}");
    }
    assert!(
        owners.lines().any(|l| l.starts_with("app files ")
            && l.ends_with("['10001:10001']")
            && !l.starts_with("app files 0 ")),
        "{owners}"
    );
    // The app's own command works as that user.
    let run = h.run("e2e-user:a");
    assert!(run.contains("demoapp:"), "{run}");

    // A venv change (another requirement) re-runs the install and the venv
    // copy, not the user step below them.
    let requirements = ctx.path().join("requirements.txt");
    let text = std::fs::read_to_string(&requirements).unwrap();
    assert!(!text.contains("six"), "{text}");
    std::fs::write(&requirements, format!("{}\nsix==1.16.0\n", text.trim_end())).unwrap();
    let second = h.build(Build::new(&ctx, "e2e-user:b").secret_env("pypi_token", &token));
    second.assert_success();
    let output = &second.output;
    let step = output
        .lines()
        .position(|l| l.contains("[app] create user app"))
        .unwrap_or_else(|| panic!("no user step in:\n{output}"));
    let vertex = output
        .lines()
        .nth(step)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    assert!(
        output
            .lines()
            .any(|l| l.trim() == format!("{vertex} CACHED")),
        "user step not cached:\n{output}"
    );
    h.assert_image_clean("e2e-user:a", &[&token]);
}
