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
