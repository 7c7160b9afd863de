use super::*;
use crate::spec::{BuildArgs, Diagnostic};

fn parsed(installer: &str, index: &str) -> (String, Spec) {
    let source = format!(
        "[app]\nbase = \"python:3.11\"\n[install]\nwith = \"{installer}\"\n[[index]]\n{index}"
    );
    let spec = Spec::parse(&source, &BuildArgs::new()).unwrap();
    (source, spec)
}

const PRIVATE: &str = "name = \"private\"\nurl = \"http://127.0.0.1:38080/simple/\"\nusername = \"u\"\npassword-secret = \"t\"\npackages = [\"acme-*\"]\n";
const PUBLIC: &str = "[[index]]\nname = \"public\"\nurl = \"http://127.0.0.1:38181/simple/\"\n";

const UV_PYPROJECT: &str = r#"
[project]
name = "app"
[[tool.uv.index]]
name = "private"
url = "http://127.0.0.1:38080/simple/"
explicit = true
[[tool.uv.index]]
name = "public"
url = "http://127.0.0.1:38181/simple/"
default = true
"#;

fn uv_lock(acme_from: &str) -> String {
    format!(
        r#"version = 1
[[package]]
name = "acme-sdk-a"
version = "1.0.0"
source = {{ registry = "{acme_from}" }}
[[package]]
name = "six"
version = "1.16.0"
source = {{ registry = "http://127.0.0.1:38181/simple/" }}
[[package]]
name = "app"
version = "0.1.0"
source = {{ virtual = "." }}
"#
    )
}

fn error(source: &str, spec: &Spec, pyproject: &str, lock: &str) -> Option<String> {
    check_project(spec, pyproject, lock)
        .err()
        .map(|e| Diagnostic::new("pyfront.toml", source, &e).to_string())
}

#[test]
fn uv_lock_from_the_pinned_index_passes() {
    let (source, spec) = parsed("uv", &format!("{PRIVATE}{PUBLIC}"));
    assert_eq!(
        error(
            &source,
            &spec,
            UV_PYPROJECT,
            &uv_lock("http://127.0.0.1:38080/simple")
        ),
        None
    );
    // Without a spec index for `public`, six has no declared index.
    let (source, spec) = parsed("uv", PRIVATE);
    let got = error(
        &source,
        &spec,
        UV_PYPROJECT,
        &uv_lock("http://127.0.0.1:38080/simple"),
    )
    .unwrap();
    assert!(got.contains("`six` is locked from index `public` in `uv.lock`, but the spec has no `[[index]]` named `public`"), "{got}");
}

#[test]
fn uv_lock_that_took_the_public_package_fails() {
    let (source, spec) = parsed("uv", PRIVATE);
    let got = error(
        &source,
        &spec,
        UV_PYPROJECT,
        &uv_lock("http://127.0.0.1:38181/simple/"),
    )
    .unwrap();
    assert!(
        got.starts_with("pyfront.toml:10:12: `acme-sdk-a` is locked from index `public` in `uv.lock`, but `packages` pins it to index `private`"),
        "{got}"
    );
}

#[test]
fn a_spec_index_must_be_a_project_index_with_the_same_url() {
    let (source, spec) = parsed("uv", &PRIVATE.replace("\"private\"", "\"mlops\""));
    let got = error(
        &source,
        &spec,
        UV_PYPROJECT,
        &uv_lock("http://127.0.0.1:38080/simple/"),
    )
    .unwrap();
    assert!(
        got.contains("index `mlops` is not a `[[tool.uv.index]]` of `pyproject.toml`"),
        "{got}"
    );
    let (source, spec) = parsed("uv", &PRIVATE.replace("38080", "9999"));
    let got = error(
        &source,
        &spec,
        UV_PYPROJECT,
        &uv_lock("http://127.0.0.1:38080/simple/"),
    )
    .unwrap();
    assert!(
        got.contains(
            "`pyproject.toml` gives index `private` the URL `http://127.0.0.1:38080/simple/`"
        ),
        "{got}"
    );
}

#[test]
fn poetry_sources_need_a_spec_index() {
    let pyproject = "[[tool.poetry.source]]\nname = \"private\"\nurl = \"http://127.0.0.1:38080/simple/\"\n[[tool.poetry.source]]\nname = \"corp\"\nurl = \"https://corp.example/simple\"\n";
    let lock = "[[package]]\nname = \"corp-lib\"\nversion = \"1\"\n[package.source]\ntype = \"legacy\"\nurl = \"https://corp.example/simple\"\nreference = \"corp\"\n";
    let (source, spec) = parsed("poetry", PRIVATE);
    let got = error(&source, &spec, pyproject, lock).unwrap();
    assert!(
        got.contains("`corp-lib` is locked from index `corp` in `poetry.lock`, but the spec has no `[[index]]` named `corp`"),
        "{got}"
    );
    // From PyPI (no source in the lock) and not pinned: fine.
    let lock = "[[package]]\nname = \"six\"\nversion = \"1\"\n";
    assert_eq!(error(&source, &spec, pyproject, lock), None);
    // A pinned name from PyPI: not fine.
    let lock = "[[package]]\nname = \"Acme_SDK_b\"\nversion = \"9\"\n";
    let got = error(&source, &spec, pyproject, lock).unwrap();
    assert!(got.contains("`acme-sdk-b` is locked from PyPI"), "{got}");
}

#[test]
fn invalid_project_files_are_named() {
    let (source, spec) = parsed("uv", PRIVATE);
    let got = error(&source, &spec, "[[tool.uv.index]\n", "").unwrap();
    assert!(got.contains("`pyproject.toml` is not valid TOML"), "{got}");
}

#[test]
fn patterns() {
    assert!(matches_pattern("acme-*", "acme-sdk-a"));
    assert!(matches_pattern("*-sdk-*", "acme-sdk-a"));
    assert!(matches_pattern("acme-sdk-a", "acme-sdk-a"));
    assert!(!matches_pattern("acme-*", "six"));
    assert!(!matches_pattern("acme", "acme-sdk"));
    assert!(matches_pattern("*", "x"));
    assert!(!matches_pattern("a*b*c", "acb"));
}
