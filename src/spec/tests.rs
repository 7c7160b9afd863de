use super::*;

const EXAMPLE: &str = r#"# syntax=pyfront:dev

[app]
base = "python:3.11-slim-bookworm"
workdir = "/opt/app"
cmd = ["python", "-m", "myapp"]
env = { LOG_LEVEL = "info" }
user = "1000:1000"
expose = [8080, "9090/udp"]
labels = { team = "mlops" }

[build]
base = "python:3.11-bookworm"
system-packages = ["cmake", "build-essential"]

[install]
with = "pip"
requirements = ["requirements.txt"]

[[index]]
name = "mlops"
url = "${CI_API_V4_URL}/groups/${MLOPS_GROUP_ID}/-/packages/pypi/simple"
username = "gitlab-ci-token"
password-secret = "pypi_token"
default = true
"#;

fn args() -> BuildArgs {
    [
        ("CI_API_V4_URL", "https://gitlab.example.com/api/v4"),
        ("MLOPS_GROUP_ID", "42"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

#[test]
fn parses_the_issue_example() {
    let spec = Spec::parse(EXAMPLE, &args()).unwrap();
    assert_eq!(
        spec.app.base.normalized,
        "docker.io/library/python:3.11-slim-bookworm"
    );
    assert_eq!(
        spec.build.base.normalized,
        "docker.io/library/python:3.11-bookworm"
    );
    assert_eq!(spec.app.workdir.as_str(), "/opt/app");
    assert_eq!(spec.app.expose, ["8080/tcp", "9090/udp"]);
    assert_eq!(spec.install.inputs[0].value.as_str(), "requirements.txt");
    let index = &spec.indexes[0];
    assert_eq!(
        index.url.unredacted(),
        "https://gitlab.example.com/api/v4/groups/42/-/packages/pypi/simple"
    );
    assert_eq!(
        index.username,
        Some(Username::Plain("gitlab-ci-token".to_owned()))
    );
    assert!(index.default);
    assert_eq!(spec.secret_ids(), [SecretId::parse("pypi_token").unwrap()]);
    assert_eq!(spec.used_build_args, ["CI_API_V4_URL", "MLOPS_GROUP_ID"]);
}

#[test]
fn an_index_lists_its_secrets_password_first() {
    let spec = Spec::parse(
        "[app]\nbase = \"python:3.11\"\n[install]\nwith = \"pip\"\nrequirements = [\"r.txt\"]\n[[index]]\nname = \"a\"\nurl = \"https://a.example/simple\"\nusername-secret = \"user\"\npassword-secret = \"token\"\n[[index]]\nname = \"b\"\nurl = \"https://b.example/simple\"\nusername = \"u\"\npassword-secret = \"token\"\n[[index]]\nname = \"c\"\nurl = \"https://c.example/simple\"\n",
        &BuildArgs::new(),
    )
    .unwrap();
    let listed = |i: &Index| -> Vec<(String, SecretRole)> {
        i.secrets().map(|(id, r)| (id.to_string(), r)).collect()
    };
    assert_eq!(
        listed(&spec.indexes[0]),
        [
            ("token".to_owned(), SecretRole::Password),
            ("user".to_owned(), SecretRole::Username)
        ]
    );
    assert_eq!(
        listed(&spec.indexes[1]),
        [("token".to_owned(), SecretRole::Password)]
    );
    assert!(listed(&spec.indexes[2]).is_empty());
    assert_eq!(
        spec.indexes[0]
            .secret(SecretRole::Username)
            .map(SecretId::as_str),
        Some("user")
    );
    assert_eq!(spec.indexes[1].secret(SecretRole::Username), None);
    assert_eq!(SecretRole::Username.to_string(), "username");
    let ids: Vec<String> = spec.secret_ids().iter().map(ToString::to_string).collect();
    assert_eq!(ids, ["token", "user"]);
}

#[test]
fn minimal_spec_uses_defaults() {
    let spec = Spec::parse(
        "[app]\nbase = \"python:3.11\"\n[install]\nwith = \"pip\"\nrequirements = [\"r.txt\"]\n",
        &BuildArgs::new(),
    )
    .unwrap();
    assert_eq!(spec.app.workdir.as_str(), DEFAULT_WORKDIR);
    assert_eq!(spec.build.base, spec.app.base);
    assert!(spec.indexes.is_empty());
}

/// Renders the error the way `pyfront check` and BuildKit show it.
fn error_of(source: &str) -> String {
    let err = Spec::parse(source, &args()).unwrap_err();
    Diagnostic::new("pyfront.toml", source, &err).to_string()
}

fn with_index(index: &str) -> String {
    format!(
        "[app]\nbase = \"python:3.11\"\n[install]\nwith = \"pip\"\nrequirements = [\"r.txt\"]\n[[index]]\n{index}"
    )
}

#[test]
fn errors_name_the_line_and_column() {
    let cases: &[(&str, &str)] = &[
        // TOML syntax
        ("[app\n", "pyfront.toml:1:5: "),
        // unknown key, at the key
        (
            "[app]\nbase = \"python:3.11\"\nbsae = 1\n[install]\nwith = \"pip\"\nrequirements = [\"r.txt\"]\n",
            "pyfront.toml:3:1: unknown field `bsae`",
        ),
        // wrong type
        (
            "[app]\nbase = 3\n[install]\nwith = \"pip\"\nrequirements = [\"r.txt\"]\n",
            "pyfront.toml:2:8: invalid type: integer `3`, expected a string",
        ),
        // missing required key
        (
            "[app]\nworkdir = \"/x\"\n[install]\nwith = \"pip\"\nrequirements = [\"r.txt\"]\n",
            "pyfront.toml:1:1: missing field `base`",
        ),
        // unknown installer
        (
            "[app]\nbase = \"python:3.11\"\n[install]\nwith = \"conda\"\nrequirements = [\"r.txt\"]\n",
            "pyfront.toml:4:8: unknown variant `conda`, expected one of `pip`, `poetry`, `uv`",
        ),
        // bad image reference
        (
            "[app]\nbase = \"Python:3\"\n[install]\nwith = \"pip\"\nrequirements = [\"r.txt\"]\n",
            "pyfront.toml:2:8: invalid image reference `Python:3`",
        ),
        // empty requirements
        (
            "[app]\nbase = \"python:3.11\"\n[install]\nwith = \"pip\"\nrequirements = []\n",
            "pyfront.toml:5:16: `requirements` must list at least one file",
        ),
        // path escaping the context
        (
            "[app]\nbase = \"python:3.11\"\n[install]\nwith = \"pip\"\nrequirements = [\"../r.txt\"]\n",
            "pyfront.toml:5:17: invalid path `../r.txt`",
        ),
        // bad apt package (would be an option)
        (
            "[app]\nbase = \"python:3.11\"\n[build]\nsystem-packages = [\"-oAPT::x=1\"]\n[install]\nwith = \"pip\"\nrequirements = [\"r.txt\"]\n",
            "pyfront.toml:4:20: invalid system package `-oAPT::x=1`",
        ),
        // bad port
        (
            "[app]\nbase = \"python:3.11\"\nexpose = [70000]\n[install]\nwith = \"pip\"\nrequirements = [\"r.txt\"]\n",
            "pyfront.toml:3:11: invalid port `70000`",
        ),
    ];
    for (source, want) in cases {
        let got = error_of(source);
        assert!(
            got.starts_with(want),
            "\nsource:\n{source}\nwant prefix: {want}\ngot:         {got}"
        );
    }
}

#[test]
fn index_errors() {
    let cases: &[(&str, &str)] = &[
        (
            "name = \"m\"\nurl = \"https://user:pass@gitlab.example/simple\"\n",
            "pyfront.toml:8:7: index URL must not contain credentials (hint: remove `user:password@` from the URL; set `username = \"...\"` and `password-secret = \"<secret id>\"`",
        ),
        (
            "name = \"m\"\nurl = \"${NOPE}/simple\"\n",
            "pyfront.toml:8:8: build arg `NOPE` is not set (hint: pass `--build-arg NOPE=VALUE`",
        ),
        (
            "name = \"m\"\nurl = \"${NOPE:-https://x.example}/simple\"\n",
            "",
        ),
        (
            "name = \"m\"\nurl = \"https://x\"\nusername = \"u\"\n",
            "pyfront.toml:6:1: index `m` has a `username` but no `password-secret`",
        ),
        (
            "name = \"m\"\nurl = \"https://x\"\nusername = \"u\"\nusername-secret = \"s\"\npassword-secret = \"p\"\n",
            "pyfront.toml:10:19: index `m` sets both `username` and `username-secret`",
        ),
        (
            "name = \"m\"\nurl = \"https://x\"\npassword-secret = \"a/b\"\nusername = \"u\"\n",
            "pyfront.toml:9:19: invalid secret id `a/b`",
        ),
        (
            "name = \"m\"\nurl = \"https://x\"\n[[index]]\nname = \"m\"\nurl = \"https://y\"\n",
            "pyfront.toml:10:8: index `m` is defined twice",
        ),
        (
            "name = \"m\"\nurl = \"https://x\"\ndefault = true\n[[index]]\nname = \"n\"\nurl = \"https://y\"\ndefault = true\n",
            "pyfront.toml:13:11: only one index can have `default = true`",
        ),
        (
            "name = \"m\"\nurl = \"https://x\"\npassword = \"hunter2\"\n",
            "pyfront.toml:9:1: unknown field `password`",
        ),
    ];
    for (index, want) in cases {
        let source = with_index(index);
        match Spec::parse(&source, &args()) {
            Ok(_) => assert!(want.is_empty(), "expected an error: {want}\n{source}"),
            Err(err) => {
                let got = Diagnostic::new("pyfront.toml", &source, &err).to_string();
                assert!(
                    !want.is_empty() && got.starts_with(want),
                    "\nsource:\n{source}\nwant prefix: {want}\ngot:         {got}"
                );
            }
        }
    }
}

#[test]
fn interpolation_errors_point_inside_the_string() {
    let source = with_index("name = \"m\"\nurl = \"https://x/${BAD NAME}\"\n");
    let got = error_of(&source);
    assert!(
        got.starts_with("pyfront.toml:8:18: invalid interpolation"),
        "{got}"
    );
}

#[test]
fn rendered_errors_show_the_line_with_a_caret() {
    let source = "[app]\nbase = \"python:3.11\"\nbsae = 1\n[install]\nwith = \"pip\"\nrequirements = [\"r.txt\"]\n";
    let err = Spec::parse(source, &args()).unwrap_err();
    let rendered = Diagnostic::new("pyfront.toml", source, &err).render();
    assert!(
        rendered.contains("error: unknown field `bsae`"),
        "{rendered}"
    );
    assert!(rendered.contains("pyfront.toml:3:1"), "{rendered}");
    assert!(rendered.contains("bsae = 1"), "{rendered}");
    assert!(rendered.contains('^'), "{rendered}");
}

#[test]
fn never_panics_on_garbage() {
    for source in [
        "",
        "\0",
        "[[index]]",
        "app = 1",
        "[app]\nbase = \"\u{202e}\"",
        "x = \"\\u0000\"",
    ] {
        assert!(Spec::parse(source, &BuildArgs::new()).is_err());
    }
}

fn install_spec(install: &str, index: &str) -> String {
    format!("[app]\nbase = \"python:3.11\"\n[install]\n{install}\n{index}")
}

#[test]
fn poetry_and_uv_read_pyproject_and_their_lock() {
    let spec = Spec::parse(&install_spec("with = \"uv\"", ""), &args()).unwrap();
    let inputs: Vec<&str> = spec
        .install
        .inputs
        .iter()
        .map(|i| i.value.as_str())
        .collect();
    assert_eq!(inputs, ["pyproject.toml", "uv.lock"]);
    assert_eq!(spec.install.groups, ["main"]);
    assert_eq!(
        spec.install.tool_version.as_deref(),
        Some(DEFAULT_UV_VERSION)
    );

    let spec = Spec::parse(
        &install_spec(
            "with = \"poetry\"\ngroups = [\"main\", \"ml\"]\nextras = [\"s3\"]\npoetry-version = \"2.1.3\"",
            "",
        ),
        &args(),
    )
    .unwrap();
    let inputs: Vec<&str> = spec
        .install
        .inputs
        .iter()
        .map(|i| i.value.as_str())
        .collect();
    assert_eq!(inputs, ["pyproject.toml", "poetry.lock"]);
    assert_eq!(spec.install.groups, ["main", "ml"]);
    assert_eq!(spec.install.extras, ["s3"]);
    assert_eq!(spec.install.tool_version.as_deref(), Some("2.1.3"));
}

#[test]
fn uv_package_names_a_workspace_member() {
    let spec = Spec::parse(
        &install_spec("with = \"uv\"\npackage = \"Acme_Backend\"", ""),
        &args(),
    )
    .unwrap();
    // Normalized, as uv compares member names.
    assert_eq!(spec.install.package.as_deref(), Some("acme-backend"));
    let spec = Spec::parse(&install_spec("with = \"uv\"", ""), &args()).unwrap();
    assert_eq!(spec.install.package, None);
}

#[test]
fn install_option_errors() {
    let cases: &[(&str, &str)] = &[
        ("with = \"pip\"", "pyfront.toml:4:8: `with = \"pip\"` needs `requirements`"),
        (
            "with = \"uv\"\nrequirements = [\"r.txt\"]",
            "pyfront.toml:5:16: `requirements` is not used with `with = \"uv\"` (it is for `pip`)",
        ),
        (
            "with = \"pip\"\nrequirements = [\"r.txt\"]\ngroups = [\"dev\"]",
            "pyfront.toml:6:10: `groups` is not used with `with = \"pip\"`",
        ),
        (
            "with = \"uv\"\npoetry-version = \"2.0.0\"",
            "pyfront.toml:5:18: `poetry-version` is not used with `with = \"uv\"` (it is for `poetry`)",
        ),
        ("with = \"uv\"\nuv-version = \"latest\"", "pyfront.toml:5:14: invalid version `latest`"),
        ("with = \"uv\"\ngroups = []", "pyfront.toml:5:10: `groups` must name at least one group"),
        ("with = \"uv\"\ngroups = [\"a b\"]", "pyfront.toml:5:11: invalid group `a b`"),
        (
            "with = \"pip\"\nrequirements = [\"r.txt\"]\nproject = true",
            "pyfront.toml:6:11: `project` is not used with `with = \"pip\"` (it is for `poetry` or `uv`)",
        ),
        (
            "with = \"poetry\"\npackage = \"backend\"",
            "pyfront.toml:5:11: `package` is not used with `with = \"poetry\"` (it is for `uv`)",
        ),
        ("with = \"uv\"\npackage = \"back end\"", "pyfront.toml:5:11: invalid package `back end`"),
        ("with = \"uv\"\npackage = \"backend-\"", "pyfront.toml:5:11: invalid package `backend-`"),
        (
            "with = \"uv\"\npackage = \"backend\"\nproject = true",
            "pyfront.toml:6:11: `project = true` does not install a workspace member (`package = \"backend\"`) yet",
        ),
    ];
    for (install, want) in cases {
        let source = install_spec(install, "");
        let got = error_of(&source);
        assert!(
            got.starts_with(want),
            "\nsource:\n{source}\nwant prefix: {want}\ngot:         {got}"
        );
    }
}

#[test]
fn pip_refuses_package_pinning_unless_the_risk_is_accepted() {
    let index = "[[index]]\nname = \"private\"\nurl = \"https://x.example/simple\"\npackages = [\"acme-*\"]\n";
    let source = install_spec("with = \"pip\"\nrequirements = [\"r.txt\"]", index);
    let got = error_of(&source);
    assert!(
        got.starts_with("pyfront.toml:9:12: index `private` pins packages, but pip cannot pin a package to an index"),
        "{got}"
    );
    assert!(got.contains("dependency confusion"), "{got}");
    let accepted = format!("{index}allow-dependency-confusion = true\n");
    let source = install_spec("with = \"pip\"\nrequirements = [\"r.txt\"]", &accepted);
    assert!(Spec::parse(&source, &args()).is_ok());
    // uv and Poetry can pin: no error.
    let source = install_spec("with = \"uv\"", index);
    let spec = Spec::parse(&source, &args()).unwrap();
    assert_eq!(spec.indexes[0].packages, ["acme-*"]);
}

#[test]
fn package_names_normalize() {
    assert_eq!(normalize_package_name("Acme_SDK..b"), "acme-sdk-b");
    assert_eq!(normalize_package_name("acme-*"), "acme-*");
}

fn run_spec(run: &str) -> String {
    format!(
        "[app]\nbase = \"python:3.11\"\n[install]\nwith = \"pip\"\nrequirements = [\"r.txt\"]\n{run}"
    )
}

#[test]
fn build_run_steps_parse_in_order() {
    let source = run_spec(
        "[[build.run]]\ncommand = [\"python\", \"manage.py\", \"collectstatic\", \"--noinput\"]\noutputs = [\"./staticfiles/\", \"media\"]\nenv = { DJANGO_SETTINGS_MODULE = \"${SETTINGS:-site.settings}\" }\n\
         [[build.run]]\ncommand = [\"sh\", \"-c\", \"echo $HOME > out.txt\"]\noutputs = [\"out.txt\"]\nnetwork = true\n",
    );
    let spec = Spec::parse(&source, &args()).unwrap();
    let run = &spec.build.run;
    assert_eq!(run.len(), 2);
    assert_eq!(
        run[0].command,
        ["python", "manage.py", "collectstatic", "--noinput"]
    );
    let outputs: Vec<&str> = run[0].outputs.iter().map(|o| o.value.as_str()).collect();
    assert_eq!(outputs, ["staticfiles", "media"]);
    assert_eq!(run[0].env["DJANGO_SETTINGS_MODULE"], "site.settings");
    assert!(!run[0].network);
    // A shell only because the user wrote one; `$HOME` stays as written.
    assert_eq!(run[1].command, ["sh", "-c", "echo $HOME > out.txt"]);
    assert!(run[1].network);
    assert_eq!(spec.used_build_args, ["SETTINGS"]);
    // No `[[build.run]]`: no steps.
    let spec = Spec::parse(&run_spec(""), &args()).unwrap();
    assert!(spec.build.run.is_empty());
}

#[test]
fn build_run_errors() {
    let cases = [
        (
            "[[build.run]]\ncommand = \"python manage.py collectstatic\"\n",
            "pyfront.toml:7:11: `command` is a string; pyfront runs an argv list, never a shell of its own",
        ),
        (
            "[[build.run]]\ncommand = []\n",
            "pyfront.toml:7:11: `command` names no program to run",
        ),
        (
            "[[build.run]]\ncommand = [\"\", \"x\"]\n",
            "pyfront.toml:7:12: `command` names no program to run",
        ),
        (
            "[[build.run]]\noutputs = [\"x\"]\n",
            "pyfront.toml:6:1: missing field `command`",
        ),
        (
            "[[build.run]]\ncommand = [\"true\"]\nsecrets = [\"t\"]\n",
            "pyfront.toml:8:1: unknown field `secrets`, expected one of `command`, `outputs`, `env`, `network`",
        ),
        (
            "[[build.run]]\ncommand = [\"true\"]\noutputs = [\"/srv/static\"]\n",
            "pyfront.toml:8:12: invalid path `/srv/static`: outputs are relative to the app workdir",
        ),
        (
            "[[build.run]]\ncommand = [\"true\"]\noutputs = [\"static/../../etc\"]\n",
            "pyfront.toml:8:12: invalid path `static/../../etc`: `..` would leave the app workdir",
        ),
        (
            "[[build.run]]\ncommand = [\"true\"]\noutputs = [\"./\"]\n",
            "pyfront.toml:8:12: invalid path `./`: name a file or directory inside the workdir, not the workdir itself",
        ),
        (
            "[[build.run]]\ncommand = [\"true\"]\noutputs = [\"static/*.css\"]\n",
            "pyfront.toml:8:12: invalid path `static/*.css`: wildcards are not supported; name each file",
        ),
        (
            "[[build.run]]\ncommand = [\"true\"]\nenv = { 1X = \"y\" }\n",
            "pyfront.toml:8:9: invalid environment variable `1X`",
        ),
        (
            "[[build.run]]\ncommand = [\"curl\", \"-H\", \"glpat-abcdefghijklmnopqrst\"]\n",
            "pyfront.toml:7:26: the build command holds what looks like a token or password",
        ),
        (
            "[[build.run]]\ncommand = [\"true\"]\nenv = { TOKEN = \"glpat-abcdefghijklmnopqrst\" }\n",
            "pyfront.toml:8:17: the build command environment holds what looks like a token or password",
        ),
        (
            "[[build.run]]\ncommand = [\"true\"]\nnetwork = \"yes\"\n",
            "pyfront.toml:8:11: invalid type: string \"yes\", expected a boolean",
        ),
    ];
    for (run, want) in cases {
        let source = run_spec(run);
        let got = error_of(&source);
        assert!(
            got.starts_with(want),
            "\nsource:\n{source}\nwant prefix: {want}\ngot:         {got}"
        );
    }
}
