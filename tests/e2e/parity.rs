//! `pyfront check` says what the build says (issue 10): a table of specs
//! that must fail before anything is solved, each run through both entry
//! points of the conversion core: `pyfront check` on the directory, and a
//! real build on the engine. The build's error must contain check's
//! diagnostic exactly (file, line, column, message and hint).

use std::path::Path;
use std::process::Command;

use super::harness::{Build, Harness};

const BASES: &str = "[app]\nbase = \"pyfront-test/python:3.11-slim-bookworm\"\nuser = \"1000\"\n\n[build]\nbase = \"pyfront-test/python:3.11-bookworm\"\n\n";

const UV_PYPROJECT: &str = "[project]\nname = \"app\"\nversion = \"0.1.0\"\n\n[[tool.uv.index]]\nname = \"public\"\nurl = \"https://pypi.example/simple\"\n";

/// A case: its name, the spec after the bases, and the context files.
type Case = (&'static str, String, Vec<(&'static str, &'static str)>);

fn cases() -> Vec<Case> {
    let pip = "[install]\nwith = \"pip\"\nrequirements = [\"requirements.txt\"]\n";
    vec![
        (
            "unknown key",
            format!("{pip}wrokdir = \"/typo\"\n"),
            vec![("requirements.txt", "six\n")],
        ),
        ("missing requirement file", pip.to_owned(), vec![]),
        (
            "uv in an empty directory",
            "[install]\nwith = \"uv\"\n".to_owned(),
            vec![],
        ),
        (
            "poetry without its lock",
            "[install]\nwith = \"poetry\"\n".to_owned(),
            vec![(
                "pyproject.toml",
                "[tool.poetry]\nname = \"app\"\nversion = \"0.1.0\"\n",
            )],
        ),
        (
            "uv index not in pyproject",
            "[install]\nwith = \"uv\"\n\n[[index]]\nname = \"private\"\nurl = \"https://pypi.example/simple\"\n"
                .to_owned(),
            vec![("pyproject.toml", UV_PYPROJECT), ("uv.lock", "version = 1\n")],
        ),
        (
            "pip cannot pin",
            format!("{pip}\n[[index]]\nname = \"private\"\nurl = \"https://pypi.example/simple\"\npackages = [\"acme-*\"]\n"),
            vec![("requirements.txt", "six\n")],
        ),
        (
            "missing build arg",
            format!("{pip}\n[[index]]\nname = \"private\"\nurl = \"${{PYFRONT_PARITY_UNSET}}/simple\"\n"),
            vec![("requirements.txt", "six\n")],
        ),
        (
            "lints as errors",
            format!("{pip}\n[[index]]\nname = \"plain\"\nurl = \"http://pypi.example/simple\"\ndefault = true\n"),
            vec![("requirements.txt", "six\n")],
        ),
    ]
}

/// `check`'s diagnostic in the one-line form a build prints:
/// `file:line:col: message (hint: hint)`, or the message of an unlocated
/// error. `stderr` is check's rustc-style rendering.
fn one_line(stderr: &str) -> String {
    let mut message = None;
    let mut at = None;
    let mut hint = None;
    for line in stderr.lines() {
        let line = line.trim();
        if let Some(m) = line.strip_prefix("error: ") {
            message.get_or_insert(m.to_owned());
        } else if let Some(a) = line.strip_prefix("--> ") {
            at.get_or_insert(a.to_owned());
        } else if let Some(h) = line.strip_prefix("= help: ") {
            hint.get_or_insert(h.to_owned());
        }
    }
    match (message, at) {
        (Some(m), Some(at)) => {
            // The build names the spec by its file name.
            let at = Path::new(&at)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            match hint {
                Some(h) => format!("{at}: {m} (hint: {h})"),
                None => format!("{at}: {m}"),
            }
        }
        _ => stderr.lines().next().unwrap_or_default().to_owned(),
    }
}

#[test]
fn check_reports_exactly_what_the_build_reports() {
    let Some(h) = Harness::from_env() else { return };
    let public = std::env::var("PYFRONT_PUBLIC_INDEX_URL").unwrap_or_default();
    let mut checked = 0;
    for (name, body, files) in cases() {
        let ctx = tempfile::Builder::new()
            .prefix("pyfront-e2e-parity-")
            .tempdir()
            .unwrap();
        let mut spec = format!("# syntax=pyfront:dev\n# check=error=true\n{BASES}{body}");
        if name != "lints as errors" {
            spec = spec.replace("# check=error=true\n", "");
        }
        std::fs::write(ctx.path().join("pyfront.toml"), &spec).unwrap();
        for (path, text) in &files {
            std::fs::write(ctx.path().join(path), text).unwrap();
        }
        // The build args the harness passes to every build.
        let check = Command::new(env!("CARGO_BIN_EXE_pyfront"))
            .arg("check")
            .arg("-f")
            .arg(ctx.path().join("pyfront.toml"))
            .arg("--context")
            .arg(ctx.path())
            .arg("--build-arg=PYFRONT_TIMING=1")
            .arg(format!("--build-arg=PYPI_INDEX_URL={}", h.index_url()))
            .arg(format!("--build-arg=PUBLIC_INDEX_URL={public}"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&check.stderr);
        assert!(!check.status.success(), "{name}: check said ok:\n{stderr}");
        let want = one_line(&stderr);
        assert!(!want.is_empty(), "{name}: no diagnostic in:\n{stderr}");

        let build = h.build(Build::new(&ctx, "e2e-parity:x"));
        build.assert_failure();
        assert!(
            build.output.contains(&want),
            "{name}: the build does not say what check says\ncheck: {want}\nbuild:\n{}",
            build.output
        );
        eprintln!("parity ok: {name}: {want}");
        checked += 1;
    }
    assert_eq!(checked, cases().len());
}
