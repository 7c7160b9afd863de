//! Issue 11's corpus of real-world project shapes (`tests/corpus/<shape>`),
//! end to end on the engine under test, each as its user would do it:
//! `pyfront init`, `pyfront check`, a build of the spec exactly as init
//! wrote it (the user supplies only the secrets it names), the image's own
//! command (which imports the entry module and its dependencies), a token
//! rotation that keeps every layer, and an app change that keeps every layer
//! but the app's.
//!
//! The harness stands in for what a user's machine has: the private index
//! (the shape's `pip.conf` / `pyproject.toml` name it, and uv and Poetry
//! shapes are locked against it: `tests/corpus/prepare.sh`), and the
//! official `python:3.11-bookworm` / `-slim-bookworm` images, which are the
//! harness's Debian images tagged with those names in the engine (no
//! registry is reachable here). Nothing in the spec is edited.
//!
//! A shape that fails because a feature is not there yet is listed in
//! `tests/corpus/expected-failures.txt`: its test passes only while it fails at that step
//! with that text, and fails (asking for the line to go) once it gets
//! further. `bench/corpus` runs the same flow and writes the table.

use std::path::Path;
use std::process::Command;

use crate::harness::{Build, Harness};

/// A shape that fails today, where and why: a line of
/// `tests/corpus/expected-failures.txt`, THE list (`bench/corpus` reads it
/// too). Delete the line once the feature named there is merged; the
/// shape's test then asserts the whole flow.
struct ExpectedFailure {
    step: Step,
    /// A text the failure's output contains.
    contains: String,
    why: String,
}

fn expected_failure(shape: &str) -> Option<ExpectedFailure> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/expected-failures.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .find(|f| f[0] == shape)
        .map(|f| {
            assert_eq!(
                f.len(),
                4,
                "{}: want shape, step, text, why: {f:?}",
                path.display()
            );
            let step = Step::ALL
                .iter()
                .copied()
                .find(|s| s.name() == f[1])
                .unwrap_or_else(|| panic!("{}: no step `{}`", path.display(), f[1]));
            ExpectedFailure {
                step,
                contains: f[2].to_owned(),
                why: f[3].to_owned(),
            }
        })
}

/// The steps of the flow, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Prepare,
    Init,
    Check,
    Build,
    Runs,
    CachedAfterRotation,
    CachedAfterAppChange,
}

impl Step {
    const ALL: [Step; 7] = [
        Step::Prepare,
        Step::Init,
        Step::Check,
        Step::Build,
        Step::Runs,
        Step::CachedAfterRotation,
        Step::CachedAfterAppChange,
    ];

    /// The name in `expected-failures.txt` and the table's columns.
    fn name(self) -> &'static str {
        match self {
            Step::Prepare => "prepare",
            Step::Init => "init",
            Step::Check => "check",
            Step::Build => "build",
            Step::Runs => "runs",
            Step::CachedAfterRotation => "cached-after-rotation",
            Step::CachedAfterAppChange => "cached-after-app-change",
        }
    }
}

/// What a shape's image must print, and which file an app change touches.
struct Shape {
    name: &'static str,
    /// Texts the image's own command prints.
    prints: &'static [&'static str],
    /// A new file in the app's code (not an install input).
    app_file: &'static str,
}

const SHAPES: &[Shape] = &[
    Shape {
        name: "django-pip-hashes",
        prints: &["corpus: django 4.2.16 health 200 ok"],
        app_file: "mysite/corpus_change.py",
    },
    Shape {
        name: "poetry-path-deps",
        prints: &["corpus: billing total 19.75 from /opt/venv/", "six 1.16.0"],
        app_file: "billing/corpus_change.py",
    },
    Shape {
        name: "uv-workspace-sdks",
        prints: &[
            "wsapp: client -> base 1 (acme-sdk-a 1.0.0)",
            "wsapp: corp_base from /opt/venv/",
        ],
        app_file: "packages/app/src/wsapp/corpus_change.py",
    },
    Shape {
        name: "psycopg2-sdist",
        prints: &["corpus: psycopg2 2.9.10 libpq 15"],
        app_file: "src/ledger_worker/corpus_change.py",
    },
    Shape {
        name: "fastapi-uv",
        prints: &[
            "corpus: fastapi 0.115.4 pydantic-core 2.23.4 routes ['/health', '/orders'] order 2",
        ],
        app_file: "src/shop_api/corpus_change.py",
    },
];

/// The official base images' names the starter spec uses, as tags of the
/// harness's images of the same Debian and Python.
const BASE_ALIASES: &[(&str, &str)] = &[
    ("pyfront-test/python:3.11-bookworm", "python:3.11-bookworm"),
    (
        "pyfront-test/python:3.11-slim-bookworm",
        "python:3.11-slim-bookworm",
    ),
];

/// Where a shape stopped: the step and what it printed.
struct Failure {
    step: Step,
    output: String,
}

fn fail(step: Step, output: impl Into<String>) -> Failure {
    Failure {
        step,
        output: output.into(),
    }
}

/// The secret values for the ids the spec asks for: a `*username*` id gets
/// the index user, any other the token.
fn secrets(spec: &str, token: &str) -> Vec<(String, String)> {
    spec.lines()
        .filter(|l| l.starts_with("password-secret") || l.starts_with("username-secret"))
        .filter_map(|l| l.split('"').nth(1))
        .map(|id| {
            let value = if id.contains("username") {
                "gitlab-ci-token"
            } else {
                token
            };
            (id.to_owned(), value.to_owned())
        })
        .collect()
}

fn build_with(
    h: &Harness,
    ctx: &tempfile::TempDir,
    tag: &str,
    spec: &str,
    token: &str,
) -> crate::harness::BuildResult {
    let mut b = Build::new(ctx, tag);
    for (id, value) in secrets(spec, token) {
        b = b.secret_env(&id, &value);
    }
    h.build(b)
}

fn pyfront(args: &[&str], dir: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pyfront"))
        .args(args)
        .arg(dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The whole flow for one shape; `Err` names the first step that failed.
fn run_shape(h: &Harness, shape: &Shape) -> Result<(), Failure> {
    let tag = |t: &str| format!("e2e-corpus-{}:{t}", shape.name);
    let token_a = h.canary("corpusA");
    h.set_index_token(&token_a);
    let ctx = tempfile::Builder::new()
        .prefix("pyfront-corpus-")
        .tempdir()
        .unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("bash")
        .arg(repo.join("tests/corpus/prepare.sh"))
        .arg(shape.name)
        .arg(ctx.path())
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(fail(
            Step::Prepare,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    }

    let (ok, text) = pyfront(&["init", "--dir"], ctx.path());
    if !ok {
        return Err(fail(Step::Init, text));
    }
    let spec_path = ctx.path().join("pyfront.toml");
    let spec = std::fs::read_to_string(&spec_path).unwrap();
    let (ok, text) = pyfront(
        &[
            "check",
            "--network-host",
            "-f",
            spec_path.to_str().unwrap(),
            "--context",
        ],
        ctx.path(),
    );
    if !ok {
        return Err(fail(Step::Check, format!("{text}\nthe spec:\n{spec}")));
    }

    for (from, to) in BASE_ALIASES {
        h.docker(&["tag", from, to]);
    }
    let first = build_with(h, &ctx, &tag("a"), &spec, &token_a);
    if !first.success {
        return Err(fail(
            Step::Build,
            format!("{}\nthe spec:\n{spec}", first.output),
        ));
    }
    let run = h.run(&tag("a"));
    if let Some(missing) = shape.prints.iter().find(|p| !run.contains(*p)) {
        return Err(fail(Step::Runs, format!("no `{missing}` in:\n{run}")));
    }

    let token_b = h.canary("corpusB");
    h.set_index_token(&token_b);
    let second = build_with(h, &ctx, &tag("b"), &spec, &token_b);
    if !second.success {
        return Err(fail(Step::CachedAfterRotation, second.output));
    }
    let (a, b) = (h.layers(&tag("a")), h.layers(&tag("b")));
    if a != b {
        return Err(fail(
            Step::CachedAfterRotation,
            format!(
                "a rotated token changed the layers:\n{a:?}\n{b:?}\n{}",
                second.output
            ),
        ));
    }

    // A fresh value each run: the engine's cache outlives test runs.
    let change = ctx.path().join(shape.app_file);
    std::fs::write(&change, format!("CHANGED = {:?}\n", h.canary("app"))).unwrap();
    let third = build_with(h, &ctx, &tag("c"), &spec, &token_b);
    if !third.success {
        return Err(fail(Step::CachedAfterAppChange, third.output));
    }
    let c = h.layers(&tag("c"));
    let n = b.len();
    if c.len() != n || c[..n - 1] != b[..n - 1] || c[n - 1] == b[n - 1] {
        return Err(fail(
            Step::CachedAfterAppChange,
            format!(
                "want every layer but the last (the app code) kept:\n{b:?}\n{c:?}\n{}",
                third.output
            ),
        ));
    }
    // Issue 13: the change touches no shared object, so where pyfront grafts
    // the load check stays cached (elsewhere it checks the whole app image).
    if h.grafts() && !third.step_cached(crate::LOAD_CHECK) {
        return Err(fail(
            Step::CachedAfterAppChange,
            format!(
                "the load check re-ran after an app change:\n{}",
                third.output
            ),
        ));
    }
    for token in [&token_a, &token_b] {
        for out in [&first.output, &second.output, &third.output] {
            assert!(!out.contains(token.as_str()), "token in the build output");
        }
    }
    Ok(())
}

/// The engine kinds the corpus runs on: `PYFRONT_CORPUS_ENGINES`
/// (space-separated, e.g. `"d12 d13 d28"`; `none` for none), by default
/// d12 and d28 (the engines run-all runs in full). The corpus is the suite's costliest part (a cold build of
/// five real projects per engine), so CI's budget picks where it runs.
const CORPUS_ENGINES_DEFAULT: &str = "d12 d28";

fn corpus_runs_on(engine_kind: &str) -> bool {
    let list = std::env::var("PYFRONT_CORPUS_ENGINES")
        .unwrap_or_else(|_| CORPUS_ENGINES_DEFAULT.to_owned());
    list.split_whitespace().any(|e| e == engine_kind)
}

/// Runs `name`'s flow and holds it to `expected-failures.txt`.
fn corpus(name: &str) {
    let Some(h) = Harness::from_env() else { return };
    if !corpus_runs_on(h.engine_kind()) {
        eprintln!(
            "skipping the corpus shape {name} on {}: not in PYFRONT_CORPUS_ENGINES (default \"{CORPUS_ENGINES_DEFAULT}\")",
            h.engine_kind()
        );
        return;
    }
    let shape = SHAPES.iter().find(|s| s.name == name).unwrap();
    let expected = expected_failure(name);
    match (run_shape(&h, shape), expected) {
        (Ok(()), None) => {}
        (Ok(()), Some(e)) => panic!(
            "{name} passed every step, but tests/corpus/expected-failures.txt says it fails at {} ({}): delete its line there",
            e.step.name(), e.why
        ),
        (Err(f), Some(e)) if f.step == e.step && f.output.contains(&e.contains) => {
            eprintln!(
                "[{}] {name}: fails at {} as expected ({})",
                h.engine_kind(),
                f.step.name(),
                e.why
            );
        }
        (Err(f), Some(e)) => panic!(
            "{name} failed at {}, tests/corpus/expected-failures.txt says {} with `{}`:\n{}",
            f.step.name(),
            e.step.name(),
            e.contains,
            f.output
        ),
        (Err(f), None) => panic!("{name} failed at {}:\n{}", f.step.name(), f.output),
    }
}

#[test]
fn corpus_django_pip_hashes() {
    corpus("django-pip-hashes");
}

#[test]
fn corpus_poetry_path_deps() {
    corpus("poetry-path-deps");
}

#[test]
fn corpus_uv_workspace_sdks() {
    corpus("uv-workspace-sdks");
}

#[test]
fn corpus_psycopg2_sdist() {
    corpus("psycopg2-sdist");
}

#[test]
fn corpus_fastapi_uv() {
    corpus("fastapi-uv");
}

/// Every shape directory has a test, and every line of
/// `expected-failures.txt` names a shape and a step.
#[test]
fn corpus_lists_agree() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs: Vec<String> = std::fs::read_dir(repo.join("tests/corpus"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().into_string().unwrap())
        .collect();
    dirs.sort();
    let mut names: Vec<String> = SHAPES.iter().map(|s| s.name.to_owned()).collect();
    names.sort();
    assert_eq!(dirs, names, "tests/corpus/* and SHAPES differ");
    for name in names {
        let _ = expected_failure(&name);
    }
}
