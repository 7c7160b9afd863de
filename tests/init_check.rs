//! `pyfront init` then `pyfront check`, through the binary, on project
//! shapes whose dependencies need system packages: the spec init writes is
//! one the build accepts (issue 11: "`pyfront check` then validates exactly
//! what the build validates").

use std::path::Path;
use std::process::Command;

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// Runs `pyfront init` and `pyfront check` in `dir`; returns the spec.
fn init_then_check(dir: &Path) -> String {
    let bin = env!("CARGO_BIN_EXE_pyfront");
    let init = Command::new(bin)
        .args(["init", "--dir"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let check = Command::new(bin)
        .arg("check")
        .arg("-f")
        .arg(dir.join("pyfront.toml"))
        .arg("--context")
        .arg(dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(check.status.success(), "{stderr}");
    assert!(stderr.ends_with(": ok\n"), "{stderr}");
    std::fs::read_to_string(dir.join("pyfront.toml")).unwrap()
}

#[test]
fn requirement_files_with_includes_and_known_sdists() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "requirements.txt",
                "-r requirements/base.txt\n-c constraints.txt\nDjango>=4.2\n",
            ),
            (
                "requirements/base.txt",
                "psycopg2==2.9.9\nuWSGI ; sys_platform == \"linux\"\n",
            ),
            ("constraints.txt", "mysqlclient==2.2.4\n"),
        ],
    );
    let spec = init_then_check(dir.path());
    assert!(spec.contains("libpq-dev"), "{spec}");
    assert!(spec.contains("libpq5"), "{spec}");
    assert!(
        !spec.contains("mysql"),
        "a constraint installs nothing:\n{spec}"
    );
}

#[test]
fn a_uv_project_with_a_known_sdist_in_its_lock() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "pyproject.toml",
                "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = [\"python-ldap\"]\n",
            ),
            (
                "uv.lock",
                "version = 1\nrequires-python = \">=3.11\"\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = { editable = \".\" }\n[[package]]\nname = \"python-ldap\"\nversion = \"3.4.4\"\nsource = { registry = \"https://pypi.org/simple\" }\n",
            ),
        ],
    );
    let spec = init_then_check(dir.path());
    assert!(spec.contains("libldap-dev"), "{spec}");
}

/// A Poetry app with an in-repository library as a path dependency (the
/// monorepo case of issue 11): init names the library from the lock, and
/// check accepts the spec with the library in the context.
#[test]
fn a_poetry_project_with_a_path_dependency() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "pyproject.toml",
                "[tool.poetry]\nname = \"billing\"\nversion = \"2.1.0\"\npackage-mode = false\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\ncorp-money = { path = \"libs/corp-money\", develop = false }\nsix = \"^1.16\"\n",
            ),
            (
                "poetry.lock",
                "[[package]]\nname = \"corp-money\"\nversion = \"0.4.0\"\noptional = false\npython-versions = \">=3.9\"\ngroups = [\"main\"]\nfiles = []\ndevelop = false\n\n[package.source]\ntype = \"directory\"\nurl = \"libs/corp-money\"\n\n[[package]]\nname = \"six\"\nversion = \"1.16.0\"\noptional = false\npython-versions = \">=2.7\"\ngroups = [\"main\"]\nfiles = []\n\n[metadata]\nlock-version = \"2.1\"\npython-versions = \"^3.11\"\ncontent-hash = \"0\"\n",
            ),
            (
                "libs/corp-money/pyproject.toml",
                "[project]\nname = \"corp-money\"\nversion = \"0.4.0\"\n[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n",
            ),
            ("libs/corp-money/corp_money/__init__.py", ""),
            ("billing/__main__.py", ""),
        ],
    );
    let spec = init_then_check(dir.path());
    assert!(spec.contains("with = \"poetry\""), "{spec}");
    assert!(spec.contains("#   corp-money: libs/corp-money\n"), "{spec}");
    assert!(!spec.contains("WARNING"), "{spec}");
}

/// A uv project whose SDK comes from a path source (`[tool.uv.sources]`,
/// not a workspace member): named from the lock, and check accepts it.
#[test]
fn a_uv_project_with_a_path_source() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "pyproject.toml",
                "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = [\"corp-sdk\"]\n\n[tool.uv.sources]\ncorp-sdk = { path = \"sdks/corp-sdk\" }\n",
            ),
            (
                "uv.lock",
                "version = 1\nrequires-python = \">=3.11\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = { editable = \".\" }\ndependencies = [{ name = \"corp-sdk\" }]\n\n[[package]]\nname = \"corp-sdk\"\nversion = \"1.0.0\"\nsource = { directory = \"sdks/corp-sdk\" }\n",
            ),
            (
                "sdks/corp-sdk/pyproject.toml",
                "[project]\nname = \"corp-sdk\"\nversion = \"1.0.0\"\n",
            ),
            ("src/app/__main__.py", ""),
        ],
    );
    let spec = init_then_check(dir.path());
    assert!(spec.contains("with = \"uv\""), "{spec}");
    assert!(spec.contains("#   corp-sdk: sdks/corp-sdk\n"), "{spec}");
    assert!(!spec.contains("WARNING"), "{spec}");
}
