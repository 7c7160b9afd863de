use super::*;
use crate::spec::{BuildArgs, Spec};

fn dir(files: &[(&str, &str)]) -> tempdir::Dir {
    let d = tempdir::Dir::new();
    for (name, text) in files {
        let path = d.0.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    d
}

/// A scratch directory without a dev-dependency.
mod tempdir {
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Self {
            let mut bytes = [0u8; 8];
            let _ = std::fs::File::open("/dev/urandom")
                .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
            let name: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let path = std::env::temp_dir().join(format!("pyfront-init-{name}"));
            std::fs::create_dir_all(&path).unwrap();
            Self(path)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[test]
fn a_uv_project() {
    let d = dir(&[
        ("uv.lock", "version = 1\n"),
        (
            "pyproject.toml",
            "[project]\nname = \"x\"\nrequires-python = \">=3.11\"\n[[tool.uv.index]]\nname = \"private\"\nurl = \"https://pypi.corp.example/simple\"\n",
        ),
        ("src/myapp/__main__.py", ""),
    ]);
    let p = detect(&d.0).unwrap();
    assert_eq!(p.installer, "uv");
    // `>=3.11` allows the default.
    assert_eq!(p.python, "3.12");
    assert_eq!(
        p.indexes,
        [(
            "private".to_owned(),
            "https://pypi.corp.example/simple".to_owned()
        )]
    );
    assert_eq!(p.module.as_deref(), Some("myapp"));
    let text = render(&p, "pyfront:dev");
    let spec = Spec::parse(&text, &BuildArgs::new()).unwrap();
    assert_eq!(spec.app.base.original, "python:3.12-slim-bookworm");
    assert_eq!(spec.app.cmd.clone().unwrap(), ["python", "-m", "myapp"]);
    assert_eq!(spec.indexes[0].name.as_str(), "private");
}

#[test]
fn a_pip_project() {
    let d = dir(&[
        ("requirements-prod.txt", "x\n"),
        ("requirements.txt", "y\n"),
        ("requirements-dev.txt", "z\n"),
        (".python-version", "3.10.4\n"),
    ]);
    let p = detect(&d.0).unwrap();
    assert_eq!(p.installer, "pip");
    assert_eq!(
        p.requirements,
        ["requirements.txt", "requirements-prod.txt"]
    );
    assert_eq!(p.python, "3.10");
    let spec = Spec::parse(&render(&p, "pyfront:dev"), &BuildArgs::new()).unwrap();
    assert_eq!(spec.install.inputs.len(), 2);
}

#[test]
fn a_poetry_project_and_an_empty_one() {
    let d = dir(&[
        ("poetry.lock", ""),
        ("pyproject.toml", "[tool.poetry.dependencies]\npython = \"^3.12\"\n[[tool.poetry.source]]\nname = \"corp\"\nurl = \"https://corp.example/simple\"\n"),
    ]);
    let p = detect(&d.0).unwrap();
    assert_eq!((p.installer, p.python.as_str()), ("poetry", "3.12"));
    assert!(Spec::parse(&render(&p, "pyfront:dev"), &BuildArgs::new()).is_ok());
    let empty = dir(&[]);
    assert!(detect(&empty.0).unwrap_err().contains("no `uv.lock`"));
}

#[test]
fn includes_and_runtime_txt_and_pip_conf() {
    let d = dir(&[
        ("requirements.txt", "-r requirements/production.txt\n"),
        ("requirements/production.txt", "-r base.txt\n"),
        ("requirements/base.txt", "django\n"),
        ("runtime.txt", "python-3.11.6\n"),
        (
            "pip.conf",
            "[global]\nindex-url = https://u:tok@gitlab.example.com/api/v4/projects/1/packages/pypi/simple\n",
        ),
    ]);
    let p = detect(&d.0).unwrap();
    assert_eq!(p.requirements, ["requirements.txt"]);
    assert_eq!(p.python, "3.11");
    let text = render(&p, "registry.example.com/platform/pyfront:0.1.0");
    assert!(text.starts_with("# syntax=registry.example.com/platform/pyfront:0.1.0\n"));
    let spec = Spec::parse(&text, &BuildArgs::new()).unwrap();
    let index = &spec.indexes[0];
    assert!(index.default);
    assert_eq!(
        index.url.unredacted(),
        "https://gitlab.example.com/api/v4/projects/1/packages/pypi/simple"
    );
    assert_eq!(secret_ids(&text), ["pypi_token"]);
}

#[test]
fn root_files_that_others_include_are_not_listed() {
    let d = dir(&[
        (
            "requirements-prod.txt",
            "-r requirements-base.txt\ngunicorn\n",
        ),
        ("requirements-base.txt", "django\n"),
        ("requirements-dev.txt", "-r requirements-prod.txt\npytest\n"),
    ]);
    assert_eq!(
        detect(&d.0).unwrap().requirements,
        ["requirements-prod.txt"]
    );
    let folder = dir(&[
        ("requirements/production.txt", "x\n"),
        ("requirements/local.txt", "y\n"),
    ]);
    assert_eq!(
        detect(&folder.0).unwrap().requirements,
        ["requirements/production.txt"]
    );
}

#[test]
fn other_indexes_get_a_username_and_password_secret() {
    let d = dir(&[
        ("poetry.lock", ""),
        ("pyproject.toml", "[[tool.poetry.source]]\nname = \"Nexus-Private\"\nurl = \"https://nexus.example/repository/pypi/simple\"\n"),
    ]);
    let text = render(&detect(&d.0).unwrap(), DEFAULT_SYNTAX);
    assert_eq!(
        secret_ids(&text),
        ["nexus_private_username", "nexus_private_password"]
    );
    assert!(Spec::parse(&text, &BuildArgs::new()).is_ok());
}

fn packages(list: &[crate::spec::AptPackage]) -> Vec<&str> {
    list.iter().map(|p| p.as_str()).collect()
}

/// The spec `pyfront init` writes for `d`, which must parse. That
/// `pyfront check` accepts it, with the context, is `tests/init_check.rs`'s
/// (through the binary: `offline` uses `init`, not the other way round).
fn init_and_check(d: &Path) -> String {
    let text = render(&detect(d).unwrap(), DEFAULT_SYNTAX);
    Spec::parse(&text, &BuildArgs::new()).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    text
}

#[test]
fn requirement_files_and_their_includes_name_the_system_packages() {
    let d = dir(&[
        (
            "requirements.txt",
            "-r requirements/base.txt\n-c constraints.txt\nDjango>=4.2\n",
        ),
        (
            "requirements/base.txt",
            "psycopg2==2.9.9 \\\n    --hash=sha256:00\nuWSGI ; sys_platform == \"linux\"  # serves it\n",
        ),
        // A constraint installs nothing.
        ("constraints.txt", "mysqlclient==2.2.4\n"),
    ]);
    let p = detect(&d.0).unwrap();
    assert_eq!(p.dependencies, ["django", "psycopg2", "uwsgi"]);
    let text = init_and_check(&d.0);
    assert!(
        text.contains("#   psycopg2: gcc, libpq-dev\n#   uwsgi: gcc, libpcre2-dev, libxml2-dev\n"),
        "{text}"
    );
    assert!(text.contains("#   psycopg2: libpq5\n"), "{text}");
    let spec = Spec::parse(&text, &BuildArgs::new()).unwrap();
    assert_eq!(
        packages(&spec.build.system_packages),
        ["gcc", "libpcre2-dev", "libpq-dev", "libxml2-dev"]
    );
    assert_eq!(
        packages(&spec.app.system_packages),
        ["libpcre2-8-0", "libpq5", "libxml2"]
    );
}

#[test]
fn project_dependencies_and_uv_lock_packages_name_the_system_packages() {
    let d = dir(&[
        (
            "uv.lock",
            "version = 1\nrequires-python = \">=3.11\"\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = { editable = \".\" }\n[[package]]\nname = \"python-ldap\"\nversion = \"3.4.4\"\nsource = { registry = \"https://pypi.org/simple\" }\n",
        ),
        (
            "pyproject.toml",
            "[project]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"Python_Magic>=0.4\", \"ldap-helper\"]\n",
        ),
    ]);
    let p = detect(&d.0).unwrap();
    assert_eq!(
        p.dependencies,
        ["app", "ldap-helper", "python-ldap", "python-magic"]
    );
    let text = init_and_check(&d.0);
    let spec = Spec::parse(&text, &BuildArgs::new()).unwrap();
    assert_eq!(
        packages(&spec.build.system_packages),
        ["gcc", "libldap-dev", "libsasl2-dev"]
    );
    // python-magic builds nothing: no builder line for it.
    let (app, build) = text.split_once("\n[build]\n").unwrap();
    assert!(app.contains("#   python-magic: libmagic1\n"), "{text}");
    assert!(!build.contains("python-magic"), "{text}");
    assert_eq!(
        packages(&spec.app.system_packages),
        ["libldap-2.5-0", "libmagic1"]
    );
}

#[test]
fn poetry_lock_packages_name_the_system_packages() {
    let d = dir(&[
        (
            "poetry.lock",
            "[[package]]\nname = \"PyAudio\"\nversion = \"0.2.14\"\n[[package]]\nname = \"requests\"\nversion = \"2.32.3\"\n",
        ),
        ("pyproject.toml", "[tool.poetry.dependencies]\npython = \"^3.12\"\n"),
    ]);
    let text = init_and_check(&d.0);
    let spec = Spec::parse(&text, &BuildArgs::new()).unwrap();
    assert_eq!(
        packages(&spec.build.system_packages),
        ["gcc", "portaudio19-dev"]
    );
    assert_eq!(packages(&spec.app.system_packages), ["libportaudio2"]);
}

#[test]
fn no_known_dependency_writes_no_system_packages() {
    let d = dir(&[("requirements.txt", "django\npsycopg2-binary\n")]);
    let text = init_and_check(&d.0);
    assert!(!text.contains("\nsystem-packages"), "{text}");
    assert!(text.contains("# system-packages = [\"build-essential\"]\n"));
}

#[test]
fn path_dependencies_are_named_and_one_outside_is_flagged() {
    let d = dir(&[
        (
            "poetry.lock",
            "[[package]]\nname = \"sdk-a\"\nversion = \"1.0.0\"\n[package.source]\ntype = \"directory\"\nurl = \"sdks/sdk-a\"\n\
             [[package]]\nname = \"sdk-b\"\nversion = \"1.0.0\"\n[package.source]\ntype = \"directory\"\nurl = \"../sdk-b\"\n",
        ),
        ("pyproject.toml", "[tool.poetry.dependencies]\npython = \"^3.12\"\nsdk-a = { path = \"sdks/sdk-a\", develop = true }\n"),
    ]);
    let p = detect(&d.0).unwrap();
    assert_eq!(
        p.local_packages,
        [
            ("sdk-a".to_owned(), "sdks/sdk-a".to_owned()),
            ("sdk-b".to_owned(), "../sdk-b".to_owned())
        ]
    );
    let text = init_and_check(&d.0);
    assert!(text.contains("#   sdk-a: sdks/sdk-a\n"), "{text}");
    assert!(
        text.contains("# WARNING: `sdk-b` is at `../sdk-b`, outside this directory"),
        "{text}"
    );
    assert!(!text.contains("`sdk-a` is at"), "{text}");
}

#[test]
fn a_uv_workspace_names_the_member_with_the_entry_module() {
    let d = dir(&[
        (
            "pyproject.toml",
            "[project]\nname = \"monorepo\"\nrequires-python = \">=3.11\"\n[tool.uv]\npackage = false\n[tool.uv.workspace]\nmembers = [\"packages/*\"]\n",
        ),
        (
            "uv.lock",
            "version = 1\nrequires-python = \">=3.11\"\n\n[[package]]\nname = \"monorepo\"\nsource = { virtual = \".\" }\n\n[[package]]\nname = \"corp-base\"\nsource = { editable = \"packages/corp-base\" }\n\n[[package]]\nname = \"wsapp\"\nsource = { editable = \"packages/app\" }\n\n[[package]]\nname = \"evil\"\nsource = { editable = \"../outside\" }\n",
        ),
        ("packages/app/src/wsapp/__main__.py", ""),
        ("packages/corp-base/src/corp_base/__init__.py", ""),
    ]);
    let p = detect(&d.0).unwrap();
    assert_eq!(p.package.as_deref(), Some("wsapp"));
    assert_eq!(p.module.as_deref(), Some("wsapp"));
    assert_eq!(p.module_dir.as_deref(), Some("packages/app/src"));
    let text = render(&p, "pyfront:dev");
    let spec = Spec::parse(&text, &BuildArgs::new()).unwrap();
    assert_eq!(spec.app.cmd.clone().unwrap(), ["python", "-m", "wsapp"]);
    assert!(
        text.contains("env = { PYTHONPATH = \"/app/packages/app/src\" }\n"),
        "{text}"
    );
    assert!(text.contains("\npackage = \"wsapp\"\n"), "{text}");
}

/// The index names whose spec block says `default = true` in what init
/// writes for a `pyproject.toml` with `tool`'s indexes and `lock`.
fn default_indexes(lock: &str, pyproject: &str) -> Vec<String> {
    let d = dir(&[(lock, ""), ("pyproject.toml", pyproject)]);
    let text = init_and_check(&d.0);
    let spec = Spec::parse(&text, &BuildArgs::new()).unwrap();
    spec.indexes
        .iter()
        .filter(|i| i.default)
        .map(|i| i.name.as_str().to_owned())
        .collect()
}

#[test]
fn an_index_that_replaces_pypi_for_the_installer_is_the_default() {
    let uv = |default: &str| {
        format!("[[tool.uv.index]]\nname = \"pypi-mirror\"\nurl = \"https://a.example/simple\"\n[[tool.uv.index]]\nname = \"private\"\nurl = \"https://b.example/simple\"\n{default}")
    };
    assert_eq!(
        default_indexes("uv.lock", &uv("default = true\n")),
        ["private"]
    );
    // Without `default = true`, uv still asks PyPI last: so does the spec.
    assert!(default_indexes("uv.lock", &uv("")).is_empty());
    let poetry = |sources: &str| format!("[tool.poetry]\nname = \"x\"\n{sources}");
    let source = |name: &str, url: &str, priority: &str| {
        format!("[[tool.poetry.source]]\nname = \"{name}\"\nurl = \"{url}\"\n{priority}")
    };
    // A primary source (also one with no priority) turns Poetry's PyPI off.
    assert_eq!(
        default_indexes(
            "poetry.lock",
            &poetry(
                &(source(
                    "extra",
                    "https://a.example/simple",
                    "priority = \"supplemental\"\n"
                ) + &source(
                    "private",
                    "https://b.example/simple",
                    "priority = \"primary\"\n"
                ))
            )
        ),
        ["private"]
    );
    assert_eq!(
        default_indexes(
            "poetry.lock",
            &poetry(&source("corp", "https://b.example/simple", ""))
        ),
        ["corp"]
    );
    // PyPI named as a source, or only supplemental sources: PyPI stays.
    assert!(default_indexes(
        "poetry.lock",
        &poetry(
            &(source(
                "private",
                "https://b.example/simple",
                "priority = \"primary\"\n"
            ) + &source(
                "PyPI",
                "https://pypi.org/simple/",
                "priority = \"primary\"\n"
            ))
        )
    )
    .is_empty());
    assert!(default_indexes(
        "poetry.lock",
        &poetry(&source(
            "private",
            "https://b.example/simple",
            "priority = \"supplemental\"\n"
        ))
    )
    .is_empty());
}
