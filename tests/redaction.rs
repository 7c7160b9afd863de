//! No channel pyfront writes to shows a token (issue 10).
//!
//! A canary is planted in one place at a time: every string value and key of
//! `[app]`, `[build]`, `[install]` and `[[index]]` (the URL's userinfo, path
//! and query among them), unknown secret-looking keys in every table, build
//! args (values interpolated into fields, secret-looking names, values
//! quoted back by errors), `.dockerignore`, a requirement file's content,
//! and the `pyproject.toml` and lock of uv and Poetry specs. Two canaries:
//! [`TOKEN`] is a recognised token format, masked wherever it appears;
//! [`PLAIN`] looks like nothing, and is planted only where its position
//! makes it a secret (a URL password, a secret-looking key or build arg).
//!
//! Every variant goes through every offline channel:
//! - `pyfront check`: stdout (the outline) and stderr (diagnostics, lints);
//! - `pyfront llb --json`, its protobuf form (which alone carries the spec
//!   as `SourceInfo` data), and `llb --json` for two platforms (which adds
//!   the image configs): stdout and stderr;
//! - the library: the `frontend.outline` and `frontend.targets` results
//!   (JSON, text, and the spec they send as `sources`), the status the
//!   frontend returns for an error (message and `errdefs.Source` detail),
//!   and each lint warning.
//!
//! The canary may appear only at an [`Exception`] its variant lists: user
//! data that must reach the image or BuildKit as is. Anywhere else (a step
//! name, a mount, the helper's config, source info, a message) fails the
//! test with the channel and the JSON path.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use pyfront::convert::subrequests::{parse_for_outline, result};
use pyfront::convert::{block_on, convert, FsInputs};
use pyfront::frontend::FrontendError;
use pyfront::image::Platform;
use pyfront::options::{keys, BuildOptions, Subrequest};
use serde_json::Value;

/// A GitLab access token as the policy recognises it.
const TOKEN: &str = "glpat-CANARY0123456789abcdef";
/// A secret in no known format, with characters URL-quoting changes.
const PLAIN: &str = "Zq7!Canary+PlainValue9";

/// Where a canary may legitimately appear, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exception {
    /// `[app]` runtime config (env, labels, cmd, entrypoint, user) is the
    /// user's configuration of the image: it must reach the image config as
    /// data (shown only by the multi-platform `llb --json`, under
    /// `result.metadata["containerimage.config/<platform>"].config`).
    /// Never in a message, a step name or the history.
    ImageConfig,
    /// `.dockerignore` lines are BuildKit's data: the context sources'
    /// `local.excludepatterns`. Masking one would change which files the
    /// build sees.
    ExcludePatterns,
}

impl Exception {
    fn allows(self, path: &str) -> bool {
        match self {
            Self::ImageConfig => {
                path.starts_with("/result/metadata/containerimage.config/")
                    && path.contains("/config/")
            }
            Self::ExcludePatterns => path.ends_with("/attrs/local.excludepatterns"),
        }
    }
}

struct Variant {
    name: String,
    canary: &'static str,
    spec: String,
    files: BTreeMap<&'static str, String>,
    args: Vec<String>,
    allowed: &'static [Exception],
}

// ---------------------------------------------------------------------------
// The specs the canaries are planted in: each valid on its own.
// ---------------------------------------------------------------------------

const PIP: &str = r#"# syntax=pyfront:dev
[app]
base = "python:3.12-slim"
workdir = "/srv/app"
cmd = ["python", "-m", "app"]
entrypoint = ["tini", "--"]
env = { LOG_LEVEL = "info", API_TOKEN = "runtime-token", DEPLOY_ENV = "${DEPLOY_ENV:-prod}" }
user = "1000"
expose = [8080]
labels = { team = "ml" }

[build]
base = "python:3.12"
system-packages = ["build-essential"]

[install]
with = "pip"
requirements = ["requirements.txt"]

[[index]]
name = "private"
url = "https://pypi.example/simple"
username = "gitlab-ci-token"
password-secret = "pypi_token"
default = true

[[index]]
name = "mirror"
url = "http://mirror.example/simple"
"#;

const UV: &str = r#"[app]
base = "python:3.12-slim"
[install]
with = "uv"
groups = ["main", "ml"]
extras = ["gpu"]
[[index]]
name = "private"
url = "https://pypi.example/simple"
username = "__token__"
password-secret = "pypi_token"
packages = ["acme-*"]
"#;

const UV_PYPROJECT: &str = r#"[project]
name = "app"
version = "0.1.0"
[[tool.uv.index]]
name = "private"
url = "https://pypi.example/simple"
explicit = true
"#;

const UV_LOCK: &str = r#"version = 1
[[package]]
name = "acme-sdk"
version = "1.0.0"
source = { registry = "https://pypi.example/simple" }
[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
"#;

const POETRY: &str = r#"[app]
base = "python:3.12-slim"
[install]
with = "poetry"
[[index]]
name = "corp"
url = "https://corp.example/simple"
username = "ci"
password-secret = "corp_token"
"#;

const POETRY_PYPROJECT: &str = r#"[tool.poetry.dependencies]
python = "^3.12"
[[tool.poetry.source]]
name = "corp"
url = "https://corp.example/simple"
priority = "supplemental"
"#;

const POETRY_LOCK: &str = r#"[[package]]
name = "corp-lib"
version = "1"
[package.source]
type = "legacy"
url = "https://corp.example/simple"
reference = "corp"
"#;

/// `text` with `from` (which must be there) replaced by `to`, where `to`
/// may name the canary as `{C}`.
fn edit(text: &str, from: &str, to: &str, canary: &str) -> String {
    assert!(text.contains(from), "`{from}` is not in the base text");
    text.replacen(from, &to.replace("{C}", canary), 1)
}

struct Base {
    spec: &'static str,
    files: &'static [(&'static str, &'static str)],
}

const PIP_BASE: Base = Base {
    spec: PIP,
    files: &[("requirements.txt", "six\n")],
};
const UV_BASE: Base = Base {
    spec: UV,
    files: &[("pyproject.toml", UV_PYPROJECT), ("uv.lock", UV_LOCK)],
};
const POETRY_BASE: Base = Base {
    spec: POETRY,
    files: &[
        ("pyproject.toml", POETRY_PYPROJECT),
        ("poetry.lock", POETRY_LOCK),
    ],
};

/// Where a variant plants its canary.
enum Plant {
    /// Replace text in the spec.
    Spec(&'static str, &'static str),
    /// Replace text in a context file.
    File(&'static str, &'static str, &'static str),
    /// Write a context file.
    NewFile(&'static str, &'static str),
    /// Build args (`NAME=VALUE`), after optional spec edits.
    Args(
        &'static [&'static str],
        &'static [(&'static str, &'static str)],
    ),
}

fn variant(
    name: &str,
    base: &Base,
    canary: &'static str,
    plant: Plant,
    allowed: &'static [Exception],
) -> Variant {
    let mut spec = base.spec.to_owned();
    let mut files: BTreeMap<&'static str, String> = base
        .files
        .iter()
        .map(|(path, text)| (*path, (*text).to_owned()))
        .collect();
    let mut args = Vec::new();
    match plant {
        Plant::Spec(from, to) => spec = edit(&spec, from, to, canary),
        Plant::File(path, from, to) => {
            let text = edit(&files[path], from, to, canary);
            files.insert(path, text);
        }
        Plant::NewFile(path, text) => {
            files.insert(path, text.replace("{C}", canary));
        }
        Plant::Args(list, edits) => {
            for (from, to) in edits {
                spec = edit(&spec, from, to, canary);
            }
            args = list.iter().map(|a| a.replace("{C}", canary)).collect();
        }
    }
    Variant {
        name: format!(
            "{name} [{}]",
            if canary == TOKEN { "token" } else { "plain" }
        ),
        canary,
        spec,
        files,
        args,
        allowed,
    }
}

/// The table: what is planted where, and where it may show. One line per
/// variant, so the table stays readable.
#[rustfmt::skip]
fn variants() -> Vec<Variant> {
    use Exception::*;
    use Plant::*;
    let p = &PIP_BASE;
    let mut v = vec![
        // [app]
        variant("[app] base", p, TOKEN, Spec(r#"base = "python:3.12-slim""#, r#"base = "{C}""#), &[]),
        variant("[app] workdir", p, TOKEN, Spec(r#""/srv/app""#, r#""/srv/{C}""#), &[]),
        variant("[app] cmd", p, TOKEN, Spec(r#""-m", "app"]"#, r#""-m", "{C}"]"#), &[ImageConfig]),
        variant("[app] entrypoint", p, TOKEN, Spec(r#"["tini", "--"]"#, r#"["tini", "{C}"]"#), &[ImageConfig]),
        variant("[app] env value", p, TOKEN, Spec(r#"LOG_LEVEL = "info""#, r#"LOG_LEVEL = "{C}""#), &[ImageConfig]),
        variant("[app] env value of a secret-looking key", p, PLAIN, Spec(r#""runtime-token""#, r#""{C}""#), &[ImageConfig]),
        variant("[app] env key", p, TOKEN, Spec(r#"LOG_LEVEL = "info""#, r#""{C}" = "info""#), &[]),
        variant("[app] env default of a build arg", p, TOKEN, Spec("${DEPLOY_ENV:-prod}", "${DEPLOY_ENV:-{C}}"), &[ImageConfig]),
        // Not a portable user name: refused, the error masks it.
        variant("[app] user", p, TOKEN, Spec(r#"user = "1000""#, r#"user = "{C}""#), &[]),
        variant("[app] expose", p, TOKEN, Spec("expose = [8080]", r#"expose = ["{C}"]"#), &[]),
        variant("[app] label value", p, TOKEN, Spec(r#"team = "ml""#, r#"team = "{C}""#), &[ImageConfig]),
        variant("[app] label key", p, TOKEN, Spec(r#"team = "ml""#, r#""{C}" = "ml""#), &[ImageConfig]),
        variant("[app] unknown `password`", p, PLAIN, Spec(r#"user = "1000""#, "user = \"1000\"\npassword = \"{C}\""), &[]),
        variant("[app] unknown `password`", p, TOKEN, Spec(r#"user = "1000""#, "user = \"1000\"\npassword = \"{C}\""), &[]),
        // [build]
        variant("[build] base", p, TOKEN, Spec("base = \"python:3.12\"\n", "base = \"{C}\"\n"), &[]),
        variant("[build] system-packages", p, TOKEN, Spec(r#"["build-essential"]"#, r#"["{C}"]"#), &[]),
        variant("[build] unknown `token`", p, PLAIN, Spec(r#"["build-essential"]"#, "[\"build-essential\"]\ntoken = \"{C}\""), &[]),
        variant("[build] unknown `token`", p, TOKEN, Spec(r#"["build-essential"]"#, "[\"build-essential\"]\ntoken = '{C}'"), &[]),
        // [install]
        variant("[install] with", p, TOKEN, Spec(r#"with = "pip""#, r#"with = "{C}""#), &[]),
        variant("[install] requirements", p, TOKEN, Spec(r#"["requirements.txt"]"#, r#"["{C}.txt"]"#), &[]),
        variant("[install] unknown `api-key`", p, PLAIN, Spec(r#"with = "pip""#, "with = \"pip\"\napi-key = \"{C}\""), &[]),
        variant("[install] unknown `api-key`", p, TOKEN, Spec(r#"with = "pip""#, "with = \"pip\"\napi-key = \"{C}\""), &[]),
        // [[index]]
        variant("[[index]] name", p, TOKEN, Spec(r#"name = "private""#, r#"name = "{C}""#), &[]),
        variant("[[index]] url password", p, PLAIN, Spec("https://pypi.example/simple", "https://gitlab-ci-token:{C}@pypi.example/simple"), &[]),
        variant("[[index]] url password", p, TOKEN, Spec("https://pypi.example/simple", "https://gitlab-ci-token:{C}@pypi.example/simple"), &[]),
        variant("[[index]] url user without password", p, PLAIN, Spec("https://pypi.example/simple", "https://{C}@pypi.example/simple"), &[]),
        variant("[[index]] url path", p, TOKEN, Spec("https://pypi.example/simple", "https://pypi.example/{C}/simple"), &[]),
        variant("[[index]] url query", p, PLAIN, Spec("https://pypi.example/simple", "https://pypi.example/simple?private_token={C}"), &[]),
        variant("[[index]] url query", p, TOKEN, Spec("https://pypi.example/simple", "https://pypi.example/simple?page={C}"), &[]),
        variant("[[index]] username", p, TOKEN, Spec(r#"username = "gitlab-ci-token""#, r#"username = "{C}""#), &[]),
        variant("[[index]] username-secret", p, TOKEN, Spec(r#"username = "gitlab-ci-token""#, r#"username-secret = "{C}""#), &[]),
        variant("[[index]] password-secret", p, TOKEN, Spec(r#"password-secret = "pypi_token""#, r#"password-secret = "{C}""#), &[]),
        variant("[[index]] packages", p, TOKEN, Spec("default = true", "default = true\npackages = [\"{C}\"]"), &[]),
        variant("[[index]] unknown `password`", p, PLAIN, Spec("default = true", "default = true\npassword = \"{C}\""), &[]),
        variant("[[index]] unknown bare `token`", p, PLAIN, Spec("default = true", "default = true\ntoken = {C}"), &[]),
        variant("[[index]] unknown bare `token`", p, TOKEN, Spec("default = true", "default = true\ntoken = {C}"), &[]),
        // Top level.
        variant("top-level unknown `token`", p, PLAIN, Spec("# syntax=pyfront:dev\n", "# syntax=pyfront:dev\ntoken = \"{C}\"\n"), &[]),
        variant("top-level unknown `api-key`", p, TOKEN, Spec("# syntax=pyfront:dev\n", "# syntax=pyfront:dev\napi-key = \"{C}\"\n"), &[]),
        // Build args.
        variant("build arg interpolated into the index host", p, TOKEN, Args(&["INDEX_HOST={C}"], &[("https://pypi.example/simple", "https://${INDEX_HOST}/simple")]), &[]),
        variant("secret build arg quoted back by an error", p, PLAIN, Args(&["CI_JOB_TOKEN={C}"], &[("https://pypi.example/simple", "ftp://pypi.example/${CI_JOB_TOKEN}/simple")]), &[]),
        variant("secret build arg quoted back by an error", p, TOKEN, Args(&["CI_JOB_TOKEN={C}"], &[("https://pypi.example/simple", "ftp://pypi.example/${CI_JOB_TOKEN}/simple")]), &[]),
        variant("secret build args passed, unused", p, PLAIN, Args(&["CI_JOB_TOKEN={C}", "GITLAB_PASSWORD={C}"], &[]), &[]),
        variant("secret build args passed, unused", p, TOKEN, Args(&["CI_JOB_TOKEN={C}", "GITLAB_PASSWORD={C}"], &[]), &[]),
        variant("secret build arg interpolated into [app] env", p, PLAIN, Args(&["CI_JOB_TOKEN={C}"], &[(r#"LOG_LEVEL = "info""#, r#"LOG_LEVEL = "${CI_JOB_TOKEN}""#)]), &[ImageConfig]),
        variant("build arg named like a token, unused", p, TOKEN, Args(&["{C}=1"], &[]), &[]),
        variant("build arg named like a token, used", p, TOKEN, Args(&[], &[(r#"LOG_LEVEL = "info""#, r#"LOG_LEVEL = "${{C}}""#)]), &[]),
        variant("SOURCE_DATE_EPOCH build arg", p, TOKEN, Args(&["SOURCE_DATE_EPOCH={C}"], &[]), &[]),
        // Context files.
        variant(".dockerignore line", p, TOKEN, NewFile(".dockerignore", ".git\n{C}\n"), &[ExcludePatterns]),
        variant("requirement file content", p, TOKEN, File("requirements.txt", "six\n", "--index-url https://__token__:{C}@pypi.example/simple\nsix\n"), &[]),
        variant("requirement file content", p, PLAIN, File("requirements.txt", "six\n", "--extra-index-url https://u:{C}@pypi.example/simple\npassword={C}\nsix\n"), &[]),
    ];
    let u = &UV_BASE;
    v.extend([
        variant("uv: groups", u, TOKEN, Spec(r#"["main", "ml"]"#, r#"["main", "{C}"]"#), &[]),
        variant("uv: extras", u, TOKEN, Spec(r#"["gpu"]"#, r#"["{C}"]"#), &[]),
        variant("uv: uv-version", u, TOKEN, Spec(r#"with = "uv""#, "with = \"uv\"\nuv-version = \"{C}\""), &[]),
        variant("uv: pyproject index URL with credentials", u, TOKEN, File("pyproject.toml", "https://pypi.example/simple", "https://__token__:{C}@pypi.example/simple"), &[]),
        variant("uv: pyproject index URL with credentials, another host", u, PLAIN, File("pyproject.toml", "https://pypi.example/simple", "https://__token__:{C}@other.example/simple"), &[]),
        variant("uv: pyproject value quoted by a TOML error", u, TOKEN, File("pyproject.toml", "[[tool.uv.index]]", "[tool.uv]\nindex-strategy = \"first-index\"\nindex = \"{C}\"\n[[tool.uv.sources]]"), &[]),
        variant("uv: pyproject index name", u, TOKEN, File("pyproject.toml", r#"name = "private""#, r#"name = "{C}""#), &[]),
        variant("uv: lock registry URL with credentials", u, PLAIN, File("uv.lock", r#"registry = "https://pypi.example/simple""#, r#"registry = "https://u:{C}@unknown.example/simple""#), &[]),
        variant("uv: lock package name", u, TOKEN, File("uv.lock", "name = \"acme-sdk\"\nversion = \"1.0.0\"\nsource = { registry = \"https://pypi.example/simple\" }", "name = \"{C}\"\nversion = \"1.0.0\"\nsource = { registry = \"https://elsewhere.example/simple\" }"), &[]),
    ]);
    let po = &POETRY_BASE;
    v.extend([
        variant("poetry: poetry-version", po, TOKEN, Spec(r#"with = "poetry""#, "with = \"poetry\"\npoetry-version = \"{C}\""), &[]),
        variant("poetry: lock source reference", po, TOKEN, File("poetry.lock", r#"reference = "corp""#, r#"reference = "{C}""#), &[]),
        variant("poetry: pyproject source URL with credentials", po, PLAIN, File("pyproject.toml", "https://corp.example/simple", "https://ci:{C}@corp.example/simple"), &[]),
        variant("poetry: lock source URL with credentials", po, TOKEN, File("poetry.lock", "https://corp.example/simple", "https://ci:{C}@corp.example/simple"), &[]),
    ]);
    v
}

// ---------------------------------------------------------------------------
// Channels.
// ---------------------------------------------------------------------------

/// The forms of a canary a channel could show: as planted, and
/// URL-quoted. Compared case-insensitively (package names are lowercased).
fn needles(canary: &str) -> Vec<String> {
    let quoted: String = canary
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let mut forms = vec![canary.to_ascii_lowercase(), quoted.to_ascii_lowercase()];
    forms.dedup();
    forms
}

fn occurrences(haystack: &[u8], needles: &[String]) -> usize {
    let hay = haystack.to_ascii_lowercase();
    needles
        .iter()
        .map(|n| {
            let n = n.as_bytes();
            hay.windows(n.len()).filter(|w| *w == n).count()
        })
        .sum()
}

/// JSON paths (`/a/0/b`) of strings and keys that hold a canary.
fn paths_with(value: &Value, needles: &[String], path: &str, out: &mut Vec<String>) {
    let holds = |s: &str| occurrences(s.as_bytes(), needles) > 0;
    match value {
        Value::String(s) if holds(s) => out.push(path.to_owned()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                paths_with(item, needles, &format!("{path}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let here = format!("{path}/{k}");
                if holds(k) {
                    out.push(format!("{here} (key)"));
                }
                paths_with(item, needles, &here, out);
            }
        }
        _ => {}
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let digits: Vec<u32> = text
        .bytes()
        .filter(|&b| b != b'=')
        .map(|b| ALPHABET.iter().position(|&a| a == b).expect("base64") as u32)
        .collect();
    let mut out = Vec::new();
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0, |n, (i, d)| n | d << (18 - 6 * i));
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

/// What one variant's channels showed.
#[derive(Default)]
struct Shown {
    /// (channel, text) that must not hold the canary at all.
    texts: Vec<(String, Vec<u8>)>,
    /// (channel, JSON) where only exceptions may hold it.
    llb: Vec<(String, Value)>,
    /// (channel, bytes, occurrences the JSON of the same definition allows).
    proto: Vec<(String, Vec<u8>, usize)>,
}

impl Shown {
    fn text(&mut self, channel: &str, bytes: impl Into<Vec<u8>>) {
        self.texts.push((channel.to_owned(), bytes.into()));
    }
}

fn write_context(dir: &Path, v: &Variant) {
    std::fs::write(dir.join("pyfront.toml"), &v.spec).unwrap();
    for (path, text) in &v.files {
        std::fs::write(dir.join(path), text).unwrap();
    }
}

fn cli(dir: &Path, v: &Variant, subcommand: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pyfront"));
    cmd.args(subcommand)
        .arg("-f")
        .arg(dir.join("pyfront.toml"))
        .arg("--context")
        .arg(dir);
    for a in &v.args {
        cmd.arg("--build-arg").arg(a);
    }
    cmd.output().unwrap()
}

/// The CLI's channels.
fn run_cli(dir: &Path, v: &Variant, shown: &mut Shown) {
    let check = cli(dir, v, &["check"]);
    shown.text("pyfront check: stdout", check.stdout);
    shown.text("pyfront check: stderr", check.stderr);

    let json = cli(dir, v, &["llb", "--json"]);
    shown.text("pyfront llb --json: stderr", json.stderr);
    let proto = cli(dir, v, &["llb"]);
    shown.text("pyfront llb: stderr", proto.stderr);
    if json.status.success() {
        let value: Value = serde_json::from_slice(&json.stdout).unwrap();
        let allowed = allowed_occurrences(&value, v);
        shown.llb.push(("pyfront llb --json".to_owned(), value));
        shown
            .proto
            .push(("pyfront llb (protobuf)".to_owned(), proto.stdout, allowed));
    } else {
        shown.text("pyfront llb --json: stdout", json.stdout);
        shown.text("pyfront llb: stdout", proto.stdout);
    }

    let multi = cli(
        dir,
        v,
        &["llb", "--json", "--platform", "linux/amd64,linux/arm64"],
    );
    shown.text("pyfront llb --json (2 platforms): stderr", multi.stderr);
    if multi.status.success() {
        let value: Value = serde_json::from_slice(&multi.stdout).unwrap();
        shown
            .llb
            .push(("pyfront llb --json (2 platforms)".to_owned(), value));
    } else {
        shown.text("pyfront llb --json (2 platforms): stdout", multi.stdout);
    }
}

/// How often the canary appears at the variant's exceptions in `value`.
fn allowed_occurrences(value: &Value, v: &Variant) -> usize {
    let needles = needles(v.canary);
    let mut paths = Vec::new();
    paths_with(value, &needles, "", &mut paths);
    paths
        .iter()
        .filter(|p| v.allowed.iter().any(|e| e.allows(p)))
        .map(|p| {
            let pointer = p.trim_end_matches(" (key)");
            let text = value.pointer(pointer).and_then(Value::as_str).unwrap_or("");
            occurrences(text.as_bytes(), &needles)
        })
        .sum()
}

/// The status the frontend returns for `error`: its message, and the spec
/// lines of an `errdefs.Source` detail.
fn status(shown: &mut Shown, channel: &str, error: FrontendError) {
    let status = error.status();
    shown.text(&format!("{channel}: status message"), status.message);
    for detail in status.details {
        let json: Value = serde_json::from_slice(&detail.value).unwrap();
        let data = base64_decode(json["info"]["data"].as_str().unwrap_or_default());
        shown.text(&format!("{channel}: errdefs.Source data"), data);
        shown.text(&format!("{channel}: errdefs.Source"), detail.value);
    }
}

/// The library's channels: subrequests, error statuses, lint warnings.
fn run_library(dir: &Path, v: &Variant, shown: &mut Shown) {
    let mut raw = BTreeMap::from([
        (keys::FILENAME.to_owned(), "pyfront.toml".to_owned()),
        (keys::PLATFORM.to_owned(), "linux/amd64".to_owned()),
    ]);
    for a in &v.args {
        let (name, value) = a.split_once('=').unwrap();
        raw.insert(
            format!("{}{name}", keys::BUILD_ARG_PREFIX),
            value.to_owned(),
        );
    }
    let options = match BuildOptions::parse(&raw) {
        Ok(o) => o,
        Err(e) => return status(shown, "frontend opts", FrontendError::from(e)),
    };
    let source = v.spec.as_bytes();
    let inputs = FsInputs {
        context: dir.to_path_buf(),
    };
    let created = "1970-01-01T00:00:00Z";
    match block_on(convert(
        source,
        &options,
        &[Platform::linux_amd64()],
        &inputs,
        created,
    )) {
        Ok(converted) => {
            for w in &converted.warnings {
                shown.text(&format!("lint warning `{}`", w.rule), w.to_string());
            }
        }
        Err(e) => status(shown, "frontend build", FrontendError::from(e)),
    }
    match parse_for_outline(&options, source) {
        Ok(spec) => {
            for (name, request) in [
                ("frontend.outline", Subrequest::Outline),
                ("frontend.targets", Subrequest::Targets),
            ] {
                let meta = result(request, Some((&spec, &v.spec)), "pyfront.toml");
                for (file, bytes) in &meta {
                    if file == "result.json" {
                        let json: Value = serde_json::from_slice(bytes).unwrap();
                        for s in json["sources"].as_array().into_iter().flatten() {
                            let data = base64_decode(s.as_str().unwrap_or_default());
                            shown.text(&format!("{name}: sources"), data);
                        }
                    }
                    shown.text(&format!("{name}: {file}"), bytes.clone());
                }
            }
        }
        Err(e) => status(shown, "frontend outline", FrontendError::from(e)),
    }
}

/// Every place the canary showed up where it may not, as messages.
fn leaks(v: &Variant, shown: &Shown) -> Vec<String> {
    let needles = needles(v.canary);
    let mut out = Vec::new();
    for (channel, bytes) in &shown.texts {
        if occurrences(bytes, &needles) > 0 {
            let text = String::from_utf8_lossy(bytes);
            let lines: Vec<&str> = text
                .lines()
                .filter(|l| occurrences(l.as_bytes(), &needles) > 0)
                .take(3)
                .collect();
            out.push(format!("{channel}: {}", lines.join(" | ")));
        }
    }
    for (channel, value) in &shown.llb {
        let mut paths = Vec::new();
        paths_with(value, &needles, "", &mut paths);
        for p in paths {
            if !v.allowed.iter().any(|e| e.allows(&p)) {
                out.push(format!("{channel}: at {p}"));
            }
        }
    }
    for (channel, bytes, allowed) in &shown.proto {
        let found = occurrences(bytes, &needles);
        if found != *allowed {
            out.push(format!(
                "{channel}: {found} occurrence(s), {allowed} at allowed places (the rest is in data the JSON view does not show, such as SourceInfo)"
            ));
        }
    }
    out
}

/// Whether the variant's exceptions were used: a listed exception that
/// never holds the canary would hide a wrong expectation.
fn exceptions_used(v: &Variant, shown: &Shown) -> Vec<Exception> {
    let needles = needles(v.canary);
    let mut used = Vec::new();
    for (_, value) in &shown.llb {
        let mut paths = Vec::new();
        paths_with(value, &needles, "", &mut paths);
        for e in v.allowed {
            if paths.iter().any(|p| e.allows(p)) && !used.contains(e) {
                used.push(*e);
            }
        }
    }
    used
}

#[test]
fn no_channel_shows_a_planted_token() {
    // The bases are valid specs: the canaries are what breaks a variant.
    for base in [&PIP_BASE, &UV_BASE, &POETRY_BASE] {
        let dir = tempfile::tempdir().unwrap();
        let v = variant("base", base, TOKEN, Plant::Args(&[], &[]), &[]);
        write_context(dir.path(), &v);
        let out = cli(dir.path(), &v, &["check"]);
        assert!(
            out.status.success(),
            "base spec fails:\n{}\n{}",
            v.spec,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let variants = variants();
    let mut failures = Vec::new();
    let mut checks = 0;
    let mut rejected = 0;
    for v in &variants {
        let dir = tempfile::tempdir().unwrap();
        write_context(dir.path(), v);
        let mut shown = Shown::default();
        run_cli(dir.path(), v, &mut shown);
        run_library(dir.path(), v, &mut shown);
        checks += shown.texts.len() + shown.llb.len() + shown.proto.len();
        if shown.llb.is_empty() {
            rejected += 1;
        }
        let leaked = leaks(v, &shown);
        println!(
            "{} {}: {}",
            if leaked.is_empty() { "ok  " } else { "LEAK" },
            v.name,
            if shown.llb.is_empty() {
                "refused".to_owned()
            } else {
                format!("built, shown only at {:?}", v.allowed)
            }
        );
        if !leaked.is_empty() {
            failures.push(format!("{}:\n  {}", v.name, leaked.join("\n  ")));
        }
        let used = exceptions_used(v, &shown);
        if used.len() != v.allowed.len() {
            failures.push(format!(
                "{}: lists exceptions {:?} but the canary appeared only at {used:?}",
                v.name, v.allowed
            ));
        }
    }
    println!(
        "redaction: {} variants ({} refused by pyfront, {} built), {checks} channel outputs checked",
        variants.len(),
        rejected,
        variants.len() - rejected
    );
    assert!(
        failures.is_empty(),
        "{} of {} variants leak:\n\n{}",
        failures.len(),
        variants.len(),
        failures.join("\n\n")
    );
}

#[test]
fn buildkit_statuses_are_redacted_in_the_returned_error() {
    for canary in [TOKEN, PLAIN] {
        let error = FrontendError::Rpc {
            call: "Solve",
            source: tonic::Status::unknown(format!(
                "failed to fetch https://gitlab-ci-token:{canary}@gitlab.example/simple: 401 (token {TOKEN})"
            )),
        };
        let message = error.status().message;
        assert_eq!(
            occurrences(message.as_bytes(), &needles(canary)),
            0,
            "{message}"
        );
        assert_eq!(error.chain(), message);
    }
}

/// The Python reference (`src/redact_rules_test.py`) passes the case table
/// the Rust unit tests pass, so the install helper and the frontend keep
/// one policy. Skipped where no `python3` is installed.
#[test]
fn the_python_reference_passes_the_shared_cases() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let out = Command::new("python3")
        .args(["-m", "unittest", "discover", "-s"])
        .arg(&src)
        .args(["-p", "redact_rules_test.py"])
        .output();
    match out {
        Err(e) => println!("skipped: cannot run python3 ({e})"),
        Ok(out) => assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}
