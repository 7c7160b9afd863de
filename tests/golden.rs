//! Golden tests of the `pyfront` binary, offline.
//!
//! - `tests/cases/<name>/`: `pyfront.toml`, optional `args` (one CLI word a
//!   line) and `context/`. The expected outputs, read them in this order:
//!   `plan.json` (`pyfront plan`: the stages and steps, helper files by
//!   digest; the main one to review), `llb.json` (`pyfront llb --json`: the
//!   ops BuildKit receives, large file data by digest) and `check.txt`
//!   (what `pyfront check` prints: the verdict and warnings, then the
//!   build args and secrets the build needs).
//! - `tests/invalid/<name>/`: specs that must fail; `stderr.txt` is the
//!   expected rendered diagnostic.
//!
//! `UPDATE_GOLDEN=1 cargo test --test golden` rewrites the expected files;
//! review the diff like code.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn case_dirs(kind: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join(kind))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no cases in tests/{kind}");
    dirs
}

/// Runs `pyfront <subcommand>` on a case with extra environment.
fn pyfront(dir: &Path, subcommand: &[&str], env: &[(&str, &str)]) -> Output {
    let args = std::fs::read_to_string(dir.join("args")).unwrap_or_default();
    let context = if dir.join("context").is_dir() {
        dir.join("context")
    } else {
        dir.to_path_buf()
    };
    Command::new(env!("CARGO_BIN_EXE_pyfront"))
        .current_dir(dir)
        .args(subcommand)
        .arg("-f")
        .arg("pyfront.toml")
        .arg("--context")
        .arg(context)
        .args(args.lines().filter(|l| !l.is_empty()))
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn check_golden(path: &Path, actual: &str) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path)
        .unwrap_or_else(|_| panic!("missing {}; run with UPDATE_GOLDEN=1", path.display()));
    assert!(
        expected == actual,
        "{} differs; run with UPDATE_GOLDEN=1 and review the diff\n--- actual ---\n{actual}",
        path.display()
    );
}

/// `pyfront <subcommand>` on a case that must succeed; its stdout.
fn stdout_of(dir: &Path, subcommand: &[&str]) -> Vec<u8> {
    let out = pyfront(dir, subcommand, &[]);
    assert!(
        out.status.success(),
        "{}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Every valid case's stdout of `subcommand` against its `golden` file.
fn valid_cases_match(subcommand: &[&str], golden: &str) {
    for dir in case_dirs("cases") {
        let stdout = stdout_of(&dir, subcommand);
        check_golden(&dir.join(golden), &String::from_utf8(stdout).unwrap());
    }
}

#[test]
fn valid_cases_match_their_plan() {
    valid_cases_match(&["plan"], "plan.json");
}

#[test]
fn valid_cases_match_their_llb() {
    valid_cases_match(&["llb", "--json"], "llb.json");
}

/// `check.txt`: both streams of `pyfront check`, as a user sees them:
/// the verdict and warnings (stderr), then the outline (stdout), which
/// says so when the build needs no build args or secrets.
#[test]
fn valid_cases_match_their_check_output() {
    for dir in case_dirs("cases") {
        let out = pyfront(&dir, &["check"], &[]);
        assert!(out.status.success(), "{}", dir.display());
        let text = format!(
            "-- stderr --\n{}-- stdout --\n{}",
            String::from_utf8(out.stderr).unwrap(),
            String::from_utf8(out.stdout).unwrap()
        );
        check_golden(&dir.join("check.txt"), &text);
    }
}

#[test]
fn invalid_cases_match_their_diagnostics() {
    for dir in case_dirs("invalid") {
        let out = pyfront(&dir, &["check"], &[]);
        assert!(!out.status.success(), "{} should fail", dir.display());
        check_golden(
            &dir.join("stderr.txt"),
            &String::from_utf8(out.stderr).unwrap(),
        );
    }
}

/// Same spec, context and opts → the same bytes, whatever secrets or
/// tokens the environment holds (the frontend never reads secret values).
#[test]
fn llb_is_deterministic_and_independent_of_secrets() {
    for dir in case_dirs("cases") {
        let first = pyfront(&dir, &["llb"], &[("CI_JOB_TOKEN", "canary-one-7f3a9")]);
        assert!(first.status.success());
        assert!(!first.stdout.is_empty());
        for token in ["canary-two-1b2c3", "canary-three-x"] {
            let again = pyfront(&dir, &["llb"], &[("CI_JOB_TOKEN", token)]);
            assert_eq!(
                first.stdout,
                again.stdout,
                "{}: bytes differ",
                dir.display()
            );
        }
        let bytes = &first.stdout;
        assert!(
            !bytes.windows(6).any(|w| w == b"canary"),
            "{}: secret-like bytes in the LLB",
            dir.display()
        );
        // `glpat-` may appear only as the quoted prefix in the helper's
        // masking rules (`"glpat-"`), never followed by a token body.
        let token_like = bytes
            .windows(7)
            .any(|w| &w[..6] == b"glpat-" && w[6] != b'"');
        assert!(!token_like, "{}: a token in the LLB", dir.display());
    }
}

/// No URL in any LLB carries userinfo (`scheme://user:pass@host`).
#[test]
fn no_url_in_the_llb_has_credentials() {
    for dir in case_dirs("cases") {
        let out = pyfront(&dir, &["llb", "--json"], &[]);
        let text = String::from_utf8(out.stdout).unwrap();
        for (i, _) in text.match_indices("://") {
            let authority: String = text[i + 3..]
                .chars()
                .take_while(|c| !matches!(c, '/' | '"' | '\\' | ' '))
                .collect();
            assert!(
                !authority.contains('@'),
                "{}: URL with userinfo near `{authority}`",
                dir.display()
            );
        }
    }
}

/// #5: several platforms, offline. Each platform gets its own definition
/// (every op on that platform, step names tagged with it, as the Dockerfile
/// frontend does), and the result has a ref and an image config per
/// platform plus the `refs.platforms` list BuildKit's exporters read.
#[test]
fn two_platforms_give_two_definitions_and_a_platform_list() {
    let dir = root().join("cases/pip-gitlab");
    let run = || {
        stdout_of(
            &dir,
            &["llb", "--json", "--platform", "linux/amd64,linux/arm/v7"],
        )
    };
    let bytes = run();
    assert_eq!(bytes, run(), "not deterministic");
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    for platform in ["linux/amd64", "linux/arm/v7"] {
        let ops = json["platforms"][platform]["ops"].as_array().unwrap();
        assert!(ops.len() > 5, "{platform}: {} ops", ops.len());
        for op in ops {
            // The terminal op has neither platform nor name.
            if op["op"]["terminal"] == true {
                continue;
            }
            // Local sources are not platform-specific (Go's llb drops it too).
            let local = op["op"]["source"]["identifier"]
                .as_str()
                .is_some_and(|id| id.starts_with("local://"));
            if !local {
                assert_eq!(op["op"]["platform"], platform, "{op}");
            }
            let name = op["metadata"]["name"].as_str().unwrap_or_default();
            assert!(name.starts_with(&format!("[{platform} ")), "{name}");
        }
        let config = &json["result"]["metadata"][format!("containerimage.config/{platform}")];
        let (arch, variant) = platform
            .trim_start_matches("linux/")
            .split_once('/')
            .map_or((platform.trim_start_matches("linux/"), None), |(a, v)| {
                (a, Some(v))
            });
        assert_eq!(config["architecture"], arch);
        assert_eq!(config["variant"].as_str(), variant);
        assert_eq!(config["os"], "linux");
        assert!(json["result"]["refs"][platform].is_string());
    }
    assert_eq!(
        json["result"]["metadata"]["refs.platforms"],
        serde_json::json!({"Platforms": [
            {"ID": "linux/amd64", "Platform": {"architecture": "amd64", "os": "linux"}},
            {"ID": "linux/arm/v7", "Platform": {"architecture": "arm", "os": "linux", "variant": "v7"}}
        ]})
    );
    // Without --json there is no single definition to print.
    let out = pyfront(&dir, &["llb", "--platform", "linux/amd64,linux/arm64"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("add `--json`"));
}

/// A reproducible build (`SOURCE_DATE_EPOCH`) gives the builder's steps one
/// fixed epoch (hash-checked .pyc), whatever the build's epoch, so a new
/// commit time does not rebuild the install layer; without it, no step sees
/// one.
#[test]
fn source_date_epoch_gives_steps_one_fixed_epoch() {
    let dir = root().join("cases/pip-gitlab");
    let llb = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["llb", "--json"];
        args.extend_from_slice(extra);
        serde_json::from_slice(&stdout_of(&dir, &args)).unwrap()
    };
    let exec_envs = |json: &serde_json::Value| -> Vec<Vec<String>> {
        json["ops"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|op| op["op"]["exec"]["env"].as_array())
            .map(|env| {
                env.iter()
                    .map(|e| e.as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .collect()
    };
    let plain = llb(&[]);
    let one = llb(&["--build-arg", "SOURCE_DATE_EPOCH=1700000000"]);
    let other = llb(&["--build-arg", "SOURCE_DATE_EPOCH=1800000000"]);
    assert_eq!(one, other, "the build's epoch reached the LLB");
    let with = exec_envs(&one);
    assert!(!with.is_empty());
    for env in &with {
        assert!(
            env.contains(&"SOURCE_DATE_EPOCH=315532800".to_owned()),
            "{env:?}"
        );
    }
    for env in exec_envs(&plain) {
        assert!(
            !env.iter().any(|e| e.starts_with("SOURCE_DATE_EPOCH=")),
            "{env:?}"
        );
    }
}
