use super::*;
use crate::image::Platform;
use crate::llb::{marshal, to_json};
use crate::spec::{BuildArgs, Spec};
use serde_json::Value;

fn lowered(spec: &str, dockerignore: &str) -> Lowered {
    lowered_with(
        spec,
        crate::plan::ContextInputs {
            dockerignore: dockerignore.to_owned(),
            ..Default::default()
        },
    )
}

fn lowered_with(spec: &str, context: crate::plan::ContextInputs) -> Lowered {
    lowered_opts(spec, context, false)
}

fn lowered_opts(spec: &str, context: crate::plan::ContextInputs, graft: bool) -> Lowered {
    let spec = Spec::parse(spec, &BuildArgs::new()).unwrap();
    let plan = Plan::new(&spec, &context);
    lower(
        &plan,
        &LowerOptions {
            constraints: Constraints {
                platform: Platform::linux_amd64(),
                ignore_cache: false,
                session_id: None,
            },
            resolve_mode: ResolveMode::Default,
            network: NetMode::Host,
            builder_env: vec!["PATH=/usr/bin".to_owned()],
            source_map: None,
            platform_in_names: false,
            graft,
        },
    )
}

const SPEC: &str = r#"
[app]
base = "python:3.11-slim"
[install]
with = "pip"
requirements = ["requirements.txt"]
[[index]]
name = "private"
url = "https://pypi.example/simple"
username = "u"
password-secret = "pypi_token"
"#;

fn ops(out: &Output) -> Vec<Value> {
    let json = to_json(&marshal(out).proto);
    json["ops"].as_array().unwrap().clone()
}

fn named<'a>(ops: &'a [Value], prefix: &str) -> &'a Value {
    ops.iter()
        .find(|o| {
            o["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with(prefix))
        })
        .unwrap_or_else(|| panic!("no op named {prefix}"))
}

#[test]
fn the_install_steps_see_only_the_requirement_files() {
    let l = lowered(SPEC, ".git\n");
    let ops = ops(&l.app);
    // The install step reads only the fetch step's pinned resolution, but
    // mounts the same files: they key it by this spec's requirement files
    // (pip.rs says why).
    for key in ["fetch", "install"] {
        let inputs = named(&ops, &format!("[builder] load {key} inputs"));
        assert_eq!(
            inputs["op"]["source"]["attrs"]["local.includepattern"],
            "[\"requirements.txt\"]"
        );
    }
    // Only the wheels-only download sees the secret and the network.
    let fetch = &named(&ops, "[builder] pip download --only-binary=:all:")["op"]["exec"];
    let mounts = fetch["mounts"].as_array().unwrap();
    let secret = mounts.iter().find(|m| m["type"] == "secret").unwrap();
    assert_eq!(secret["dest"], "/run/secrets/pypi_token");
    assert_eq!(secret["secret"]["mode"], "400");
    assert_eq!(secret["secret"]["optional"], true);
    assert_eq!(fetch["network"], "host");
    let install = &named(&ops, "[builder] pip install")["op"]["exec"];
    let mounts = install["mounts"].as_array().unwrap();
    assert!(!mounts.iter().any(|m| m["type"] == "secret"), "{install}");
    assert!(mounts
        .iter()
        .any(|m| m["dest"] == "/run/pyfront/wheelhouse"));
    assert_eq!(install["network"], "none");
    // No secret value, no credentialed URL in argv or env.
    for step in [fetch, install] {
        let text = step.to_string();
        assert!(!text.contains('@'), "{text}");
    }
}

/// The mount of `op` at `dest`, if any.
fn mount_at<'a>(op: &'a Value, dest: &str) -> Option<&'a Value> {
    op["op"]["exec"]["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["dest"] == dest)
}

/// Whether `op`'s mount `m` reads from the op `source`.
fn mounts_from(op: &Value, m: &Value, source: &Value) -> bool {
    let input = usize::try_from(m["input"].as_u64().unwrap()).unwrap();
    let digest = source["digest"].as_str().unwrap();
    op["op"]["inputs"][input]
        .as_str()
        .unwrap()
        .starts_with(&format!("{digest}#"))
}

/// In a uv workspace the select step sees the whole context (the members'
/// `pyproject.toml`s and sources), and only the install step sees the
/// members it copied: the fetch is keyed by the plan alone.
#[test]
fn a_uv_workspace_selects_from_the_whole_context() {
    let spec = "[app]\nbase = \"python:3.11-slim\"\n[install]\nwith = \"uv\"\n";
    let context = crate::plan::ContextInputs {
        dockerignore: ".git\n".to_owned(),
        uv_workspace: true,
        ..Default::default()
    };
    let l = lowered_with(spec, context);
    let ops = ops(&l.app);
    let select = named(&ops, "[builder] uv export --locked (main)");
    let context_mount = mount_at(select, "/run/pyfront/context").unwrap();
    let whole = named(&ops, "[app] load build context");
    assert!(mounts_from(select, context_mount, whole));
    assert!(!ops.iter().any(|o| o["metadata"]["name"]
        .as_str()
        .is_some_and(|n| n.contains("load select inputs"))));

    let fetch = named(&ops, "[builder] fetch the planned files");
    assert!(mount_at(fetch, "/run/pyfront/members").is_none());
    let install = named(&ops, "[builder] uv install from the wheelhouse");
    let members = mount_at(install, "/run/pyfront/members").unwrap();
    assert_eq!(members["selector"], "/var/lib/pyfront/members");
    assert_eq!(members["readonly"], true);
    assert!(mounts_from(install, members, select));

    // Not a workspace: the select step sees its two files only.
    let l = lowered(spec, "");
    let ops = self::ops(&l.app);
    let inputs = named(&ops, "[builder] load select inputs");
    assert_eq!(
        inputs["op"]["source"]["attrs"]["local.includepattern"],
        "[\"pyproject.toml\",\"uv.lock\"]"
    );
    let install = named(&ops, "[builder] uv install from the wheelhouse");
    assert!(mount_at(install, "/run/pyfront/members").is_none());
}

/// Poetry path dependencies (and uv path sources): as in a uv workspace,
/// the select step sees the whole context and only the install step sees
/// the packages it copied.
#[test]
fn path_dependencies_select_from_the_whole_context() {
    for (with, select_name, install_name) in [
        (
            "poetry",
            "[builder] read poetry.lock",
            "[builder] pip install from the wheelhouse",
        ),
        (
            "uv",
            "[builder] uv export --locked (main)",
            "[builder] uv install from the wheelhouse",
        ),
    ] {
        let spec = format!("[app]\nbase = \"python:3.11-slim\"\n[install]\nwith = \"{with}\"\n");
        let context = crate::plan::ContextInputs {
            local_packages: true,
            ..Default::default()
        };
        let l = lowered_with(&spec, context);
        let ops = ops(&l.app);
        let select = named(&ops, select_name);
        let context_mount = mount_at(select, "/run/pyfront/context").unwrap();
        assert!(mounts_from(
            select,
            context_mount,
            named(&ops, "[app] load build context")
        ));
        let fetch = named(&ops, "[builder] fetch the planned files");
        assert!(mount_at(fetch, "/run/pyfront/members").is_none());
        let install = named(&ops, install_name);
        let members = mount_at(install, "/run/pyfront/members").unwrap();
        assert!(mounts_from(install, members, select));
    }
}

#[test]
fn venv_and_app_are_separate_layers() {
    let l = lowered(SPEC, ".git\n");
    let ops = ops(&l.app);
    let venv = named(&ops, "[app] COPY --from=builder");
    let app = named(&ops, "[app] COPY . /app");
    assert_eq!(venv["op"]["file"][0]["action"]["copy"]["src"], "/opt/venv");
    // The app copy builds on the venv copy, not the other way round.
    let app_input = app["op"]["inputs"][0].as_str().unwrap();
    assert!(app_input.starts_with(venv["digest"].as_str().unwrap()));
    let context = named(&ops, "[app] load build context");
    assert_eq!(
        context["op"]["source"]["attrs"]["local.excludepatterns"],
        "[\".git\"]"
    );
    assert_eq!(l.app_layers.len(), 2);
}

#[test]
fn marshaling_is_stable() {
    let one = marshal(&lowered(SPEC, "").app).to_bytes();
    for _ in 0..50 {
        assert_eq!(one, marshal(&lowered(SPEC, "").app).to_bytes());
    }
}

#[test]
fn app_system_packages_are_a_layer_before_the_venv() {
    let spec = SPEC.replace(
        "base = \"python:3.11-slim\"",
        "base = \"python:3.11-slim\"\nsystem-packages = [\"libpq5\", \"libyaml-0-2\"]",
    );
    let l = lowered(&spec, "");
    let ops = ops(&l.app);
    let apt = named(&ops, "[app] apt-get install libpq5 libyaml-0-2");
    let exec = &apt["op"]["exec"];
    let args = exec["args"].as_array().unwrap();
    // Package names are positional arguments of a fixed script, never part
    // of it, and the runtime image's apt configuration is left alone.
    assert_eq!(args[2], APP_APT_SCRIPT);
    assert_eq!(args[4..], ["libpq5", "libyaml-0-2"]);
    let cached: Vec<&Value> = exec["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["type"] == "cache")
        .collect();
    assert_eq!(cached.len(), 2, "{exec}");
    // The venv copy lands on the apt step's result.
    let venv = named(&ops, "[app] COPY --from=builder");
    let apt_digest = ops
        .iter()
        .find(|o| o["metadata"]["name"] == apt["metadata"]["name"])
        .unwrap()["digest"]
        .clone();
    assert!(venv["op"]["inputs"]
        .to_string()
        .contains(apt_digest.as_str().unwrap()));
    let created: Vec<&str> = l.app_layers.iter().map(|h| h.created_by.as_str()).collect();
    assert_eq!(
        created,
        [
            "pyfront: apt-get install libpq5 libyaml-0-2",
            "pyfront: COPY --from=builder /opt/venv /opt/venv",
            "pyfront: COPY . /app",
        ]
    );
    // The builder does not get them.
    assert!(!marshal(&l.builder)
        .to_bytes()
        .windows(6)
        .any(|w| w == b"libpq5"));
}

#[test]
fn the_load_check_runs_on_the_app_image_without_secrets_or_network() {
    let l = lowered(SPEC, "");
    let ops = ops(&l.load_check);
    let check = named(&ops, "[app] check that the app's shared libraries load");
    let exec = &check["op"]["exec"];
    assert_eq!(exec["network"], "none");
    assert_eq!(
        exec["args"],
        serde_json::json!([
            "/opt/venv/bin/python3",
            "-I",
            "/run/pyfront/helper/loadcheck.py",
            "/opt/venv",
            "/app",
            "--dpkg-info",
            "/run/pyfront/builder-dpkg"
        ])
    );
    let mounts = exec["mounts"].as_array().unwrap();
    assert!(
        mounts
            .iter()
            .all(|m| m["type"] != "secret" && m["type"] != "cache"),
        "{exec}"
    );
    let dpkg = mounts
        .iter()
        .find(|m| m["dest"] == "/run/pyfront/builder-dpkg")
        .unwrap();
    assert_eq!(dpkg["selector"], "/var/lib/dpkg/info");
    assert_eq!(dpkg["readonly"], true);
    // Without merge and diff it runs on the finished app image (code
    // included), with nothing mounted at the workdir, and is not part of it.
    assert!(mounts.iter().all(|m| m["dest"] != "/app"), "{exec}");
    assert!(check["op"]["inputs"][0]
        .as_str()
        .unwrap()
        .starts_with(digest_of(&ops, "[app] COPY . /app")));
    assert!(!to_json(&marshal(&l.app).proto)
        .to_string()
        .contains("shared libraries load"));
}

/// The ops the load check's exec reads its root (input 0) and the mount
/// at `dest` from.
fn check_inputs<'a>(ops: &'a [Value], dest: &str) -> (&'a Value, Option<&'a Value>) {
    let check = named(ops, "[app] check that the app's shared libraries load");
    let input = |n: usize| {
        let digest = check["op"]["inputs"][n].as_str().unwrap();
        let digest = digest.split('#').next().unwrap();
        ops.iter().find(|o| o["digest"] == digest).unwrap()
    };
    let mounts = check["op"]["exec"]["mounts"].as_array().unwrap();
    let mount = mounts
        .iter()
        .find(|m| m["dest"] == dest)
        .map(|m| input(usize::try_from(m["input"].as_i64().unwrap()).unwrap()));
    (input(0), mount)
}

/// Issue 13: with merge and diff the check runs on the base and the venv
/// only, with the app code's shared objects (the context minus
/// `.dockerignore`, filtered by BuildKit to the names loadcheck.py loads)
/// mounted read-only at the workdir: its graph has no code copy, so an app
/// change that touches no shared object leaves it cached.
#[test]
fn with_merge_and_diff_the_load_check_mounts_only_the_codes_shared_objects() {
    let l = lowered_opts(
        &with_user("app"),
        crate::plan::ContextInputs {
            dockerignore: ".git\nbuild/\n".to_owned(),
            ..Default::default()
        },
        true,
    );
    let ops = ops(&l.load_check);
    assert!(
        !ops.iter()
            .any(|o| o["metadata"]["name"].as_str().is_some_and(
                |n| n.starts_with("[app] COPY") || n.starts_with("[app] stack the base, ")
            )),
        "the check depends on the code copy: {ops:?}"
    );
    let (root, code) = check_inputs(&ops, "/app");
    // The root: the base (with its user), no merge; the venv layers are
    // mounted read-only at /opt/venv.
    assert!(root["metadata"]["name"]
        .as_str()
        .unwrap()
        .starts_with("[app] create user app "));
    assert!(
        !ops.iter().any(|o| o["op"].get("merge").is_some()),
        "{ops:?}"
    );
    let (_, venv) = check_inputs(&ops, "/opt/venv");
    let venv = venv.expect("no mount at /opt/venv");
    // The venv layers, as the image stacks them: not the builder's state,
    // which a runner with a registry cache would have to pull and unpack.
    assert_eq!(
        venv["metadata"]["name"],
        "[app] the builder's /opt/venv layers"
    );
    assert!(venv["op"].get("diff").is_some(), "{venv}");
    let check = named(&ops, "[app] check that the app's shared libraries load");
    let mounts = check["op"]["exec"]["mounts"].as_array().unwrap();
    let dests: Vec<&Value> = mounts.iter().map(|m| &m["dest"]).collect();
    assert_eq!(
        dests,
        [
            "/",
            "/app",
            "/opt/venv",
            "/run/pyfront/builder-dpkg",
            "/run/pyfront/helper"
        ]
    );
    assert_eq!(mounts[2]["selector"], "/opt/venv");
    assert_eq!(mounts[2]["readonly"], true);
    // The code's shared objects: a copy of the context onto scratch, by
    // BuildKit's include patterns, read-only at the workdir.
    let code = code.expect("no mount at the workdir");
    let copy = &code["op"]["file"][0];
    assert_eq!(copy["input"], -1, "{code}");
    assert_eq!(
        copy["action"]["copy"],
        serde_json::json!({
            "src": "/",
            "dest": "/",
            "contents_only": true,
            "follow_symlink": true,
            "include_patterns": ["**/*.so", "**/*.so.*"],
        })
    );
    assert!(code["metadata"]["caps"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("file.copy.includeexcludepatterns")));
    let context = code["op"]["inputs"][0].as_str().unwrap();
    let local = ops
        .iter()
        .find(|o| context.starts_with(o["digest"].as_str().unwrap()))
        .unwrap();
    assert_eq!(local["op"]["source"]["identifier"], "local://context");
    assert_eq!(
        local["op"]["source"]["attrs"]["local.excludepatterns"],
        r#"[".git","build/"]"#
    );
    // The very local the code copy reads: BuildKit sends the context once.
    assert!(self::ops(&l.app)
        .iter()
        .any(|o| o["digest"] == local["digest"]));
    let mounts = named(&ops, "[app] check that the app's shared libraries load")["op"]["exec"]
        ["mounts"]
        .as_array()
        .unwrap();
    let at_workdir = mounts.iter().find(|m| m["dest"] == "/app").unwrap();
    assert_eq!(at_workdir["readonly"], true);
    assert!(at_workdir.get("selector").is_none());
}

/// Build commands' outputs may be shared objects built from the code: with
/// outputs the check runs on the whole app image (the build commands re-run
/// on an app change anyway); so does it where a mount at the workdir would
/// hide what the loader needs.
#[test]
fn with_outputs_or_a_system_workdir_the_load_check_runs_on_the_whole_app() {
    let with_outputs = format!(
        "{SPEC}\n[[build.run]]\ncommand = [\"python\", \"setup.py\", \"build_ext\", \"--inplace\"]\noutputs = [\"ext\"]\n"
    );
    let slash_workdir = SPEC.replace(
        "base = \"python:3.11-slim\"",
        "base = \"python:3.11-slim\"\nworkdir = \"/\"",
    );
    for spec in [with_outputs.as_str(), slash_workdir.as_str()] {
        let l = lowered_opts(spec, Default::default(), true);
        let ops = ops(&l.load_check);
        let (root, _) = check_inputs(&ops, "/");
        // The app image itself: the merge that stacks the code too.
        let app = self::ops(&l.app);
        let terminal = app.iter().find(|o| o["op"]["terminal"] == true).unwrap();
        let image = terminal["op"]["inputs"][0].as_str().unwrap();
        assert_eq!(root["digest"], image.split('#').next().unwrap(), "{spec}");
        let check = named(&ops, "[app] check that the app's shared libraries load");
        let dests: Vec<&Value> = check["op"]["exec"]["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| &m["dest"])
            .collect();
        assert_eq!(
            dests,
            ["/", "/run/pyfront/builder-dpkg", "/run/pyfront/helper"],
            "{spec}"
        );
    }
}

#[test]
fn the_code_is_mounted_at_the_workdir_unless_that_hides_the_loaders_files() {
    for workdir in [
        "/app",
        "/srv/app",
        "/usr/src/app",
        "/opt/app",
        "/opt/venv/app",
        "/libs",
        "/home/app",
    ] {
        assert!(code_mountable_at(workdir), "{workdir}");
    }
    for workdir in [
        "/",
        "/opt",
        "/opt/venv",
        "/usr",
        "/usr/lib",
        "/usr/lib/x86_64-linux-gnu",
        "/usr/local",
        "/usr/local/lib/app",
        "/lib",
        "/lib64",
        "/etc",
        "/etc/app",
    ] {
        assert!(!code_mountable_at(workdir), "{workdir}");
    }
}

#[test]
fn the_load_check_does_not_depend_on_the_install_step() {
    let l = lowered(SPEC, "");
    let json = to_json(&marshal(&l.load_check).proto);
    let ops = json["ops"].as_array().unwrap();
    let install = named(ops, "[builder] pip install");
    let check = named(ops, "[app] check that the app's shared libraries load");
    let dpkg_input = check["op"]["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap().split('#').next().unwrap().to_owned())
        .collect::<Vec<_>>();
    // The install step is reached only through the app image (the venv copy),
    // never as the check's dpkg mount.
    let install_digest = install["digest"].as_str().unwrap();
    assert!(!dpkg_input.iter().any(|d| d == install_digest), "{check}");
}

fn with_user(user: &str) -> String {
    SPEC.replace(
        "base = \"python:3.11-slim\"",
        &format!("base = \"python:3.11-slim\"\nuser = \"{user}\""),
    )
}

fn digest_of<'a>(ops: &'a [Value], prefix: &str) -> &'a str {
    named(ops, prefix)["digest"].as_str().unwrap()
}

#[test]
fn a_named_user_is_created_before_the_venv_copy_without_a_shell() {
    let l = lowered(&with_user("app"), "");
    let ops = ops(&l.app);
    let step = named(
        &ops,
        "[app] create user app (uid 10001, gid 10001) if the base lacks it",
    );
    let exec = &step["op"]["exec"];
    assert_eq!(
        exec["args"],
        serde_json::json!([
            "python3",
            "-I",
            "/run/pyfront/helper/appuser.py",
            "app",
            "10001",
            "10001"
        ])
    );
    assert!(
        !exec["args"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "/bin/sh" || a == "-c"),
        "{exec}"
    );
    assert_eq!(exec["network"], "none");
    let mounts = exec["mounts"].as_array().unwrap();
    assert!(
        mounts
            .iter()
            .all(|m| m["type"] != "secret" && m["type"] != "cache" && m["type"] != "ssh"),
        "{exec}"
    );
    let helper = mounts
        .iter()
        .find(|m| m["dest"] == "/run/pyfront/helper")
        .unwrap();
    assert_eq!(helper["readonly"], true);
    // On the runtime base, and the venv copy lands on it: a venv change
    // leaves the user layer cached.
    let base = digest_of(&ops, "[app] FROM python:3.11-slim");
    assert!(step["op"]["inputs"][0].as_str().unwrap().starts_with(base));
    let user_digest = step["digest"].as_str().unwrap();
    let venv = named(&ops, "[app] COPY --from=builder");
    assert!(venv["op"]["inputs"][0]
        .as_str()
        .unwrap()
        .starts_with(user_digest));
    let created: Vec<&str> = l.app_layers.iter().map(|h| h.created_by.as_str()).collect();
    assert_eq!(
        created,
        [
            "pyfront: create user app (uid 10001, gid 10001) if the base lacks it",
            "pyfront: COPY --from=builder /opt/venv /opt/venv",
            "pyfront: COPY . /app",
        ]
    );
}

#[test]
fn the_app_code_is_owned_by_the_user_and_the_venv_by_root() {
    let l = lowered(&with_user("app"), "");
    let app_ops = ops(&l.app);
    let app = &named(&app_ops, "[app] COPY . /app")["op"]["file"][0]["action"]["copy"];
    // Looked up in the image's own /etc/passwd (input 0: the venv copy,
    // which is on top of the user step).
    assert_eq!(
        app["owner"],
        serde_json::json!({"user": {"name": "app", "input": 0}, "group": null})
    );
    let venv = &named(&app_ops, "[app] COPY --from=builder")["op"]["file"][0]["action"]["copy"];
    assert!(venv.get("owner").is_none(), "{venv}");

    // Numeric ids, root, or no user: no user step, the code stays root's
    // (read-only for a numeric user, as before).
    for spec in [
        with_user("1000:2000"),
        with_user("root"),
        with_user("0"),
        SPEC.to_owned(),
    ] {
        let l = lowered(&spec, "");
        let other_ops = ops(&l.app);
        assert!(!other_ops.iter().any(|o| o["metadata"]["name"]
            .as_str()
            .is_some_and(|n| n.contains("create user"))));
        let app = &named(&other_ops, "[app] COPY . /app")["op"]["file"][0]["action"]["copy"];
        assert!(app.get("owner").is_none(), "{spec}");
        assert_eq!(l.app_layers.len(), 2);
    }
}

fn with_runs(user: &str) -> String {
    format!(
        "{}\n[[build.run]]\ncommand = [\"python\", \"manage.py\", \"collectstatic\", \"--noinput\"]\noutputs = [\"staticfiles\"]\nenv = {{ DJANGO_SETTINGS_MODULE = \"site.settings\", PATH = \"/custom\" }}\n\
         [[build.run]]\ncommand = [\"python\", \"-m\", \"compileall\", \"-q\", \"app\"]\noutputs = [\"app\", \"staticfiles\"]\nnetwork = true\n",
        with_user(user)
    )
}

/// Whether `op` takes the op `source` as one of its inputs.
fn has_input(op: &Value, source: &Value) -> bool {
    let digest = source["digest"].as_str().unwrap();
    op["op"]["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i.as_str().unwrap().starts_with(&format!("{digest}#")))
}

#[test]
fn build_commands_run_without_secrets_on_the_app_code_and_ship_their_outputs() {
    let l = lowered(&with_runs("app"), "");
    let ops = ops(&l.app);
    let install = named(&ops, "[builder] pip install");
    let code = named(&ops, "[builder] COPY . /app");
    assert!(has_input(code, install), "{code}");
    let collect = named(
        &ops,
        "[builder] RUN python manage.py collectstatic --noinput (no network, no secrets)",
    );
    let compile = named(
        &ops,
        "[builder] RUN python -m compileall -q app (network, no secrets)",
    );
    assert!(has_input(collect, code));
    assert!(has_input(compile, collect));
    for (op, network) in [(collect, "none"), (compile, "host")] {
        let exec = &op["op"]["exec"];
        // The root filesystem is the only mount: no secret, no cache, no
        // context mount.
        let mounts = exec["mounts"].as_array().unwrap();
        assert_eq!(mounts.len(), 1, "{exec}");
        assert_eq!(mounts[0]["dest"], "/");
        assert!(!exec.to_string().contains("/run/secrets"), "{exec}");
        assert!(!exec.to_string().contains("pypi_token"), "{exec}");
        assert_eq!(exec["network"], network, "{exec}");
        assert_eq!(exec["cwd"], "/app");
    }
    let meta = &collect["op"]["exec"];
    assert_eq!(
        meta["args"],
        serde_json::json!(["python", "manage.py", "collectstatic", "--noinput"])
    );
    // The step's `env` wins, even over the venv's PATH.
    assert_eq!(
        meta["env"],
        serde_json::json!([
            "PATH=/custom",
            "VIRTUAL_ENV=/opt/venv",
            "DJANGO_SETTINGS_MODULE=site.settings"
        ])
    );
    assert_eq!(
        compile["op"]["exec"]["env"],
        serde_json::json!(["PATH=/opt/venv/bin:/usr/bin", "VIRTUAL_ENV=/opt/venv"])
    );

    // The outputs check runs on the last result, with the paths as argv.
    let check = named(&ops, "[builder] check the build outputs: staticfiles app");
    assert!(has_input(check, compile));
    let exec = &check["op"]["exec"];
    assert_eq!(exec["network"], "none");
    let args = exec["args"].as_array().unwrap();
    assert_eq!(args[0], "/bin/sh");
    assert_eq!(
        args[3..],
        [
            "pyfront-outputs",
            "/app",
            "[[build.run]] 1 (python manage.py collectstatic --noinput)",
            "staticfiles",
            "[[build.run]] 2 (python -m compileall -q app)",
            "app",
        ]
    );

    // Each output, once, from the check's result, over the app code,
    // owned by the app user.
    let app_code = named(&ops, "[app] COPY . /app");
    let statics = named(
        &ops,
        "[app] COPY --from=builder /app/staticfiles /app/staticfiles",
    );
    let pycache = named(&ops, "[app] COPY --from=builder /app/app /app/app");
    assert!(has_input(statics, app_code) && has_input(statics, check));
    assert!(has_input(pycache, statics) && has_input(pycache, check));
    let action = &statics["op"]["file"][0]["action"]["copy"];
    assert_eq!(action["src"], "/app/staticfiles");
    assert_eq!(action["dest"], "/app/staticfiles");
    assert_eq!(
        action["owner"],
        serde_json::json!({"user": {"name": "app", "input": 0}, "group": null})
    );
    assert_eq!(l.app_layers.len(), 5);

    // The venv comes from the install, not from the build commands: an app
    // change re-runs them but leaves the venv layer as it was.
    let venv = named(&ops, "[app] COPY --from=builder /opt/venv /opt/venv");
    assert!(has_input(venv, install));
    assert!(!has_input(venv, compile) && !has_input(venv, code));

    // `--target builder`: the builder after the build commands.
    let builder_ops = self::ops(&l.builder);
    assert_eq!(
        builder_ops.last().unwrap()["op"]["inputs"][0]
            .as_str()
            .unwrap()
            .split('#')
            .next(),
        compile["digest"].as_str()
    );
    assert_eq!(
        l.builder_layers.last().unwrap().created_by,
        "pyfront: RUN python -m compileall -q app (network, no secrets)"
    );
}

#[test]
fn without_build_commands_the_builder_has_no_app_code() {
    let l = lowered(SPEC, "");
    let ops = ops(&l.app);
    assert!(!ops.iter().any(|o| o["metadata"]["name"]
        .as_str()
        .is_some_and(|n| n.starts_with("[builder] COPY") || n.contains("build outputs"))));
}

/// On an engine with merge and diff ops the app image is
/// merge(app base + user, diff(builder before the venv, builder), code on
/// scratch): the venv is never copied, and the runtime base is an input of
/// the merge only (and of the code layer's user lookup).
#[test]
fn with_merge_and_diff_the_app_stacks_the_builders_venv_layers() {
    let l = lowered_opts(&with_user("app"), Default::default(), true);
    let ops = ops(&l.app);
    assert!(
        !ops.iter().any(|o| o["metadata"]["name"]
            .as_str()
            .is_some_and(|n| n.contains("COPY --from=builder"))),
        "the venv is copied"
    );
    let merge = named(&ops, "[app] stack the base, /opt/venv and the app code");
    assert_eq!(merge["op"]["merge"], serde_json::json!([0, 1, 2]));
    let inputs = merge["op"]["inputs"].as_array().unwrap();
    let user = digest_of(&ops, "[app] create user app");
    let diff = named(&ops, "[app] the builder's /opt/venv layers");
    let code = named(&ops, "[app] COPY . /app");
    for (input, digest) in inputs
        .iter()
        .zip([user, digest_str(diff), digest_str(code)])
    {
        assert!(input.as_str().unwrap().starts_with(digest), "{merge}");
    }
    // The diff starts right before the venv step and ends at the install.
    assert_eq!(
        diff["op"]["diff"],
        serde_json::json!({"lower": 0, "upper": 1})
    );
    let venv_step = named(&ops, "[builder] python3 -m venv");
    let lower = diff["op"]["inputs"][0].as_str().unwrap();
    assert_eq!(venv_step["op"]["inputs"][0].as_str().unwrap(), lower);
    let install = named(
        &ops,
        "[builder] pip install -r requirements.txt from the wheelhouse",
    );
    assert!(diff["op"]["inputs"][1]
        .as_str()
        .unwrap()
        .starts_with(digest_str(install)));
    // The code lands on scratch (-1), its owner looked up in the user step.
    let copy = &code["op"]["file"][0];
    assert_eq!(copy["input"], -1, "{code}");
    assert_eq!(
        copy["action"]["copy"]["owner"],
        serde_json::json!({"user": {"name": "app", "input": 0}, "group": null})
    );
    assert!(code["op"]["inputs"][0].as_str().unwrap().starts_with(user));
    // One history entry per layer the merge stacks.
    let created: Vec<&str> = l.app_layers.iter().map(|h| h.created_by.as_str()).collect();
    assert_eq!(
        created,
        [
            "pyfront: create user app (uid 10001, gid 10001) if the base lacks it",
            "pyfront: python3 -m venv --without-pip /opt/venv",
            created[2],
            "pyfront: COPY . /app",
        ]
    );
    assert!(
        created[2].starts_with("pyfront: pip install -r"),
        "{created:?}"
    );
    // The builder is the same graph either way: its cache serves both.
    let copied = lowered_opts(&with_user("app"), Default::default(), false);
    assert_eq!(
        marshal(&copied.builder).to_bytes(),
        marshal(&l.builder).to_bytes()
    );
}

/// Without a named user the code layer does not depend on the runtime
/// base, so a new base re-runs nothing: only the merge changes.
#[test]
fn with_merge_and_diff_the_runtime_base_feeds_only_the_merge() {
    // A builder base of its own: the same image would be one op.
    let spec = format!("{SPEC}\n[build]\nbase = \"python:3.11\"\n");
    let l = lowered_opts(&spec, Default::default(), true);
    let ops = ops(&l.app);
    let base = digest_of(&ops, "[app] FROM python:3.11-slim");
    let users: Vec<&Value> = ops
        .iter()
        .filter(|o| {
            o["op"]["inputs"]
                .as_array()
                .is_some_and(|i| i.iter().any(|d| d.as_str().unwrap().starts_with(base)))
        })
        .collect();
    assert_eq!(users.len(), 1, "{users:?}");
    assert!(users[0]["op"].get("merge").is_some());
}

fn digest_str(op: &Value) -> &str {
    op["digest"].as_str().unwrap()
}
