//! Issue 12: a private SDK wheel (`acme-sdk-c`) depends on a hostile sdist
//! (`acme-telemetry`, tests/fixtures/hostile) whose setup.py, while an
//! installer builds it, gathers its environment, every /proc/*/environ and
//! /proc/*/cmdline and every file under /run/secrets, writes it all into
//! `acme_telemetry/_stolen.py` with a per-build MARKER, and sends it to port
//! 38999 on the loopback and the default gateway (the engine's bridge).
//!
//! For pip, uv and Poetry, each test builds the app and `--target builder`
//! with a canary token and checks that the build succeeds, that the hostile
//! code ran (its module is in the image with a MARKER and its harvest), and
//! that the token is nowhere: not in what the module found, not on the
//! listener, not in the build output, not in any layer, history or config of
//! either image, not in the engine's data root (its cache mounts live there)
//! or logs; wheels, zips and tars inside layers and caches are unpacked.
//! Then a token rotation plus an app change keeps the install cached (same
//! venv layer digest, same MARKER). For uv and Poetry, a lock whose hash of
//! the hostile sdist was tampered with fails, naming the file.
//!
//! pip requirement files are fetched wheels only, so there the sdist-only
//! dependency fails the fetch, before its code runs, with the fix (lock it).
//!
//! They run for the installers listed in `PYFRONT_E2E_HOSTILE` (`uv,poetry,pip`,
//! `all` (the default) or `none`). The port is fixed, so run them with
//! `--test-threads=1`.
//!
//! Measured on the code before the fix (2026-11-29, 5b6535c), d12 and d13
//! alike, for every installer: the setup.py saw the token in its own env
//! (`UV_INDEX_PRIVATE_PASSWORD`, `POETRY_HTTP_BASIC_*`, pip's
//! `PIP_INDEX_URL`), in the installer's `/proc/<pid>/environ` and in
//! `/run/secrets/pypi_token`; it sent it to the loopback listener (once per
//! build hook); the token was in `_stolen.py` in the venv layer of the app
//! and builder images and, in the engine's data root (d12) or containerd
//! root (d13), in the layer snapshots and the installers' cache mounts (uv:
//! `archive-v0`, `sdists-v11` with the built wheel; pip: `wheels/`; Poetry:
//! `artifacts/`, the last two only inside wheels). A tampered hash failed,
//! but without the file name (uv: "Hash mismatch for `acme-telemetry==..`";
//! Poetry: "did not match any known checksums"). Rotation kept the install
//! cached.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::harness::{Build, BuildResult, Harness};
use crate::scan::{Canary, Scanner};
use crate::surfaces;

/// The port the hostile setup.py sends its harvest to.
const PORT: u16 = 38999;

/// Whether `PYFRONT_E2E_HOSTILE` lists `installer` (or says `all`, the
/// default).
fn enabled(installer: &str) -> bool {
    let list = std::env::var("PYFRONT_E2E_HOSTILE").unwrap_or_else(|_| "all".to_owned());
    let on = list
        .split(',')
        .map(str::trim)
        .any(|i| i == installer || i == "all");
    if !on {
        eprintln!(
            "skipping the hostile-dependency test for {installer}: PYFRONT_E2E_HOSTILE={list}"
        );
    }
    on
}

/// Connections a listener got: the peer and the bytes it sent.
type Received = Vec<(String, Vec<u8>)>;

/// What the listener's threads share. Connections are numbered in the
/// order they are accepted (the kernel's accept queue is first in, first
/// out); each is `done` once read to its end.
#[derive(Default)]
struct State {
    /// How many connections were accepted.
    accepted: usize,
    /// The numbers of the connections read to their end.
    done: std::collections::BTreeSet<usize>,
    /// What the senders sent, since [`Listener::start`].
    got: Received,
    /// The fences that arrived (see [`Listener::received`]): their
    /// payload and number.
    fences: Vec<(Vec<u8>, usize)>,
    /// The payloads of the fences [`Listener::received`] waits for.
    awaited: Vec<Vec<u8>>,
}

type Shared = Arc<(Mutex<State>, Condvar)>;

/// A TCP listener on 0.0.0.0:38999 (the loopback and the engine's bridge)
/// that keeps whatever it is sent. One per test process (the tests run one
/// at a time): [`Listener::start`] forgets what earlier tests got.
struct Listener {
    shared: Shared,
}

static LISTENER: std::sync::OnceLock<Shared> = std::sync::OnceLock::new();

impl Listener {
    fn start() -> Self {
        let shared = LISTENER.get_or_init(|| {
            let listener = TcpListener::bind(("0.0.0.0", PORT)).unwrap_or_else(|e| {
                panic!("cannot listen on port {PORT} (is another hostile test running?): {e}")
            });
            let shared: Shared = Arc::default();
            let seen = Arc::clone(&shared);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { continue };
                    let number = {
                        let mut state = seen.0.lock().unwrap();
                        state.accepted += 1;
                        state.accepted - 1
                    };
                    let seen = Arc::clone(&seen);
                    std::thread::spawn(move || record(stream, number, &seen));
                }
            });
            shared
        });
        shared.0.lock().unwrap().got.clear();
        Self {
            shared: Arc::clone(shared),
        }
    }

    /// Every connection since [`Listener::start`]: the peer and the bytes
    /// it sent. Called when the build is over, so every sender has
    /// connected (or never will): a fence, our own connection with a
    /// random payload, queues behind them, and once it is read, every
    /// connection accepted before it is waited for until it is read to
    /// its end (a sender's close, or the 120 s read timeout). No clock.
    fn received(&self) -> Received {
        let payload = format!("pyfront-fence-{}", random_hex()).into_bytes();
        let (lock, changed) = &*self.shared;
        lock.lock().unwrap().awaited.push(payload.clone());
        let mut fence = TcpStream::connect(("127.0.0.1", PORT))
            .unwrap_or_else(|e| panic!("cannot reach our own listener on port {PORT}: {e}"));
        fence.write_all(&payload).unwrap();
        fence.shutdown(std::net::Shutdown::Write).unwrap();
        let state = changed
            .wait_while(lock.lock().unwrap(), |s| {
                match s.fences.iter().find(|(p, _)| *p == payload) {
                    Some((_, number)) => (0..*number).any(|n| !s.done.contains(&n)),
                    None => true,
                }
            })
            .unwrap();
        state.got.clone()
    }
}

fn record(mut stream: TcpStream, number: usize, shared: &Shared) {
    let peer = stream
        .peer_addr()
        .map_or_else(|_| "?".to_owned(), |a| a.to_string());
    // The hang guard for a sender that never closes: far above any pause a
    // busy machine puts between one sender's writes, so no slow sender's
    // bytes are cut off (the scan wants all of them).
    let _ = stream.set_read_timeout(Some(Duration::from_secs(120)));
    let mut bytes = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&buf[..n]);
    }
    let (lock, changed) = &**shared;
    let mut state = lock.lock().unwrap();
    if state.awaited.contains(&bytes) {
        state.awaited.retain(|p| *p != bytes);
        state.fences.push((bytes, number));
    } else {
        state.got.push((peer, bytes));
    }
    state.done.insert(number);
    changed.notify_all();
}

/// The fixture app of `installer` with a fresh nonce in its dependencies, so
/// the install really runs (the engine's cache outlives test runs), locked
/// with `token` for uv and Poetry.
fn context(h: &Harness, installer: &str, token: &str, nonce: &str) -> tempfile::TempDir {
    let ctx = h.app_context(&format!("hostile-{installer}"));
    match installer {
        "pip" => {
            let req = ctx.path().join("requirements.txt");
            let mut text = std::fs::read_to_string(&req).unwrap();
            text.push_str(&format!("# {nonce}\n"));
            std::fs::write(&req, text).unwrap();
        }
        _ => {
            let pyproject = ctx.path().join("pyproject.toml");
            let mut text = std::fs::read_to_string(&pyproject).unwrap();
            if installer == "uv" {
                text.push_str(&format!("\n[dependency-groups]\n{nonce} = [\"six\"]\n"));
            } else {
                text.push_str(&format!(
                    "\n[tool.poetry.group.{nonce}.dependencies]\nsix = \"*\"\n"
                ));
            }
            std::fs::write(&pyproject, text).unwrap();
            h.lock(&ctx, installer, token);
        }
    }
    ctx
}

/// The hostile sdist as a version of this run only (`index.sh hostile`):
/// no installer cache on the engine has a wheel built from it, so its code
/// must run in this build. Removed from the index when dropped.
struct FreshSdist {
    version: String,
    path: std::path::PathBuf,
}

impl FreshSdist {
    fn add() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let version = format!("1.0.0.post{secs}");
        let out = std::process::Command::new("bash")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/harness/index.sh"
            ))
            .arg("hostile")
            .arg(&version)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "index.sh hostile {version}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        Self {
            version,
            path: path.into(),
        }
    }

    fn file_name(&self) -> String {
        format!("acme_telemetry-{}.tar.gz", self.version)
    }
}

impl Drop for FreshSdist {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// 24 random hex digits.
fn random_hex() -> String {
    let c = Canary::with_prefix("", "");
    c.value
}

/// The installed version of acme-telemetry, the MARKER of its hostile
/// module and what that found, as (source, text) pairs, from the image.
fn stolen(h: &Harness, image: &str) -> (String, String, Vec<(String, String)>) {
    let out = h.python(
        image,
        "import json, importlib.metadata as m\nfrom acme_telemetry import _stolen as s\n\
         print(json.dumps({'version': m.version('acme-telemetry'), 'marker': s.MARKER, 'found': s.FOUND}))",
    );
    let line = out
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no _stolen module in {image}: {out}"));
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    let version = v["version"].as_str().unwrap_or_default().to_owned();
    let marker = v["marker"].as_str().unwrap_or_default().to_owned();
    let found = v["found"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e[0].as_str().unwrap_or_default().to_owned(),
                e[1].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    (version, marker, found)
}

fn hostile_dependency(installer: &str) {
    let Some(h) = Harness::from_env() else { return };
    if !enabled(installer) {
        return;
    }
    let engine = std::env::var("PYFRONT_ENGINE").unwrap_or_default();
    // A prefix of this run only: a token that leaked in an earlier run (on
    // the code before the fix) stays in the engine's data root and must not
    // fail this one, nor the leak suite (whose prefix is another).
    let prefix = format!("pyfronthostile{}", &random_hex()[..8]);
    let token_a = Canary::with_prefix(&prefix, "A");
    let token_b = Canary::with_prefix(&prefix, "B");
    let (a_val, b_val) = (token_a.value.clone(), token_b.value.clone());
    let tokens = [a_val.as_str(), b_val.as_str()];
    let tag = |t: &str| format!("e2e-hostile-{installer}:{t}");
    let nonce = format!("hostile{}", &random_hex()[..12]);

    h.set_index_token(&a_val);
    let sdist = FreshSdist::add();
    // Locked before the listener starts: `uv lock` / `poetry lock` may build
    // the sdist on the host (where it harvests nothing, see its setup.py).
    let ctx = context(&h, installer, &a_val, &nonce);
    let listener = Listener::start();
    let mut problems: Vec<String> = Vec::new();

    let first = h.build(Build::new(&ctx, &tag("a")).secret_env("pypi_token", &a_val));
    if installer == "pip" {
        // An unlocked pip set is fetched wheels only: the sdist-only
        // dependency fails the fetch, before any of its code can run, with
        // the fix (lock it). Nothing reached the listener.
        first.assert_failure();
        for want in [
            "No matching distribution found for acme-telemetry",
            "wheels only",
        ] {
            assert!(
                first.output.contains(want),
                "want `{want}` in:\n{}",
                first.output
            );
        }
        assert!(!first.output.contains(&a_val), "the token is in the output");
        let received = listener.received();
        assert!(received.is_empty(), "the listener got {received:?}");
        return;
    }
    first.assert_success();
    let builder = h.build(
        Build::new(&ctx, &tag("builder"))
            .secret_env("pypi_token", &a_val)
            .arg("--target=builder"),
    );
    builder.assert_success();

    // The hostile code ran during this build: its module is in the image,
    // with a marker and a real harvest (it runs only in a build sandbox).
    let run = h.run(&tag("a"));
    assert!(
        run.contains("hostileapp: hello world from acme-sdk-c"),
        "{run}"
    );
    let (version, marker, found) = stolen(&h, &tag("a"));
    assert_eq!(version, sdist.version, "not this run's hostile sdist");
    assert!(
        marker.len() == 32 && marker.bytes().all(|b| b.is_ascii_hexdigit()),
        "no per-build MARKER in _stolen.py: {marker:?}"
    );
    assert!(run.contains(&marker), "{run}");
    let sources: Vec<&str> = found.iter().map(|(s, _)| s.as_str()).collect();
    assert!(
        found
            .iter()
            .any(|(s, t)| s == "hostname" && t == "buildkitsandbox"),
        "the hostile setup.py did not harvest in a build sandbox: {sources:?}"
    );
    assert!(sources.contains(&"env"), "{sources:?}");
    let leaked: Vec<&str> = found
        .iter()
        .filter(|(_, text)| tokens.iter().any(|t| text.contains(t)))
        .map(|(s, _)| s.as_str())
        .collect();
    if !leaked.is_empty() {
        problems.push(format!(
            "the hostile setup.py saw the token in: {leaked:?} (of {} sources read)",
            found.len()
        ));
    }
    eprintln!(
        "[{engine}] {installer}: hostile code ran, MARKER {marker}, read {} source(s): {:?}",
        found.len(),
        {
            let mut kinds: Vec<String> = sources
                .iter()
                .map(|s| {
                    if s.starts_with("/proc/") {
                        format!("/proc/*/{}", s.rsplit('/').next().unwrap_or(""))
                    } else {
                        (*s).to_owned()
                    }
                })
                .collect();
            kinds.dedup();
            kinds.sort();
            kinds.dedup();
            kinds
        }
    );

    // Rotation and an app change: the install stays cached.
    h.set_index_token(&b_val);
    let change = format!("CHANGED = {:?}\n", random_hex());
    std::fs::write(ctx.path().join("src/hostileapp/changed.py"), change).unwrap();
    let second = h.build(Build::new(&ctx, &tag("b")).secret_env("pypi_token", &b_val));
    second.assert_success();
    let (la, lb) = (h.layers(&tag("a")), h.layers(&tag("b")));
    let n = la.len();
    assert_eq!(n, lb.len(), "{}", second.output);
    assert_eq!(
        la[n - 2],
        lb[n - 2],
        "the venv layer changed after a token rotation and an app change:\n{}",
        second.output
    );
    assert_ne!(la[n - 1], lb[n - 1], "the app layer did not change");
    let rerun = builder_steps_run(&second);
    assert!(
        rerun.is_empty(),
        "builder steps re-ran after a token rotation and an app change: {rerun:?}\n{}",
        second.output
    );
    let (_, marker_b, _) = stolen(&h, &tag("b"));
    assert_eq!(marker, marker_b, "the hostile sdist was built again");

    // Everywhere a token could have gone.
    let received = listener.received();
    for (peer, bytes) in &received {
        let has = tokens
            .iter()
            .any(|t| memchr::memmem::find(bytes, t.as_bytes()).is_some());
        problems.push(format!(
            "the listener on port {PORT} got {} byte(s) from {peer}{}",
            bytes.len(),
            if has { ", with the token" } else { "" }
        ));
    }
    let mut sc = Scanner::with_prefix(&prefix, vec![token_a, token_b]).deep();
    for (what, out) in [
        ("build app (A)", &first.output),
        ("build --target=builder (A)", &builder.output),
        ("build app (B)", &second.output),
    ] {
        surfaces::output(&mut sc, what, out);
    }
    for (peer, bytes) in &received {
        sc.scan_bytes("loopback listener", peer, bytes);
    }
    for t in ["a", "b", "builder"] {
        surfaces::image(&mut sc, &h, &tag(t));
    }
    surfaces::daemon(&mut sc);
    let summary = sc.summary(&format!("[{engine}] hostile {installer}"));
    eprint!("{summary}");
    // With the containerd image store (d13), layers and cache mounts live in
    // the engine's containerd root: either counts as the data root.
    let data_files: u64 = ["daemon data root", surfaces::CONTAINERD_SURFACE]
        .iter()
        .filter_map(|s| sc.stats.get(*s))
        .map(|s| s.files)
        .sum();
    assert!(
        data_files > 1000,
        "the data root scan read {data_files} file(s), too few to mean anything:\n{summary}"
    );
    // One line per surface and file (a file often holds the token more
    // than once), with its number of hits.
    let mut places: Vec<(String, usize)> = Vec::new();
    for hit in &sc.hits {
        let at = hit
            .location
            .split(" (byte ")
            .next()
            .unwrap_or(&hit.location);
        let at = at.split(" (unpacked, byte ").next().unwrap_or(at);
        let place = format!("[{}] {at}: {}", hit.surface, hit.what);
        match places.iter_mut().find(|(p, _)| *p == place) {
            Some((_, n)) => *n += 1,
            None => places.push((place, 1)),
        }
    }
    for (place, n) in places {
        problems.push(format!("{place} ({n} hit(s))"));
    }
    assert!(
        problems.is_empty(),
        "[{engine}] {installer}: the hostile dependency got the token ({} finding(s)):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

/// The `[builder]` steps that ran code (were not `CACHED`, and printed
/// exec output or had secrets) in a build's output. Local sources and file
/// ops (helpers, inputs) are re-checked on every build and do not count.
fn builder_steps_run(r: &BuildResult) -> Vec<String> {
    let mut names = Vec::new();
    for line in r.output.lines() {
        let Some(rest) = line.strip_prefix('#') else {
            continue;
        };
        let Some((number, name)) = rest.split_once(' ') else {
            continue;
        };
        if !name.starts_with("[builder]") || names.contains(&name.to_owned()) {
            continue;
        }
        let cached = format!("#{number} CACHED");
        let log = format!("#{number} ");
        let ran = !r.output.lines().any(|l| l.trim() == cached)
            && (name.contains("secrets")
                || r.output.lines().any(|l| {
                    l.strip_prefix(&log)
                        .and_then(|t| t.split_whitespace().next())
                        .is_some_and(|t| t.contains('.') && t.parse::<f64>().is_ok())
                }));
        if ran {
            names.push(name.to_owned());
        }
    }
    names
}

/// A lock whose sha256 of the hostile sdist was changed fails, naming the
/// file and a hash, and prints no token.
fn tampered_lock(installer: &str) {
    let Some(h) = Harness::from_env() else { return };
    if !enabled(installer) {
        return;
    }
    let prefix = format!("pyfronthostile{}", &random_hex()[..8]);
    let token = Canary::with_prefix(&prefix, "T").value;
    h.set_index_token(&token);
    let nonce = format!("tamper{}", &random_hex()[..12]);
    let sdist = FreshSdist::add();
    let ctx = context(&h, installer, &token, &nonce);
    let file = sdist.file_name();
    let file = file.as_str();
    let lock_path = ctx.path().join(format!("{installer}.lock"));
    let lock = std::fs::read_to_string(&lock_path).unwrap();
    let tampered: String = lock
        .lines()
        .map(|line| {
            let Some(at) = line.find("sha256:").filter(|_| line.contains(file)) else {
                return format!("{line}\n");
            };
            let digit = at + "sha256:".len();
            let old = &line[digit..=digit];
            let new = if old == "0" { "1" } else { "0" };
            format!("{}{new}{}\n", &line[..digit], &line[digit + 1..])
        })
        .collect();
    assert_ne!(
        lock, tampered,
        "no sha256 of {file} in {installer}.lock:\n{lock}"
    );
    std::fs::write(&lock_path, tampered).unwrap();

    let r = h.build(
        Build::new(&ctx, &format!("e2e-hostile-{installer}:tampered"))
            .secret_env("pypi_token", &token),
    );
    r.assert_failure();
    let lower = r.output.to_lowercase();
    assert!(
        (lower.contains("hash") || lower.contains("sha256")) && r.output.contains(file),
        "want a hash error naming `{file}` in:\n{}",
        r.output
    );
    assert!(!r.output.contains(&token), "the token is in the output");
}

#[test]
fn hostile_sdist_gets_no_token_with_pip() {
    hostile_dependency("pip");
}

#[test]
fn hostile_sdist_gets_no_token_with_uv() {
    hostile_dependency("uv");
}

#[test]
fn hostile_sdist_gets_no_token_with_poetry() {
    hostile_dependency("poetry");
}

#[test]
fn hostile_tampered_uv_lock_fails_naming_the_file() {
    tampered_lock("uv");
}

#[test]
fn hostile_tampered_poetry_lock_fails_naming_the_file() {
    tampered_lock("poetry");
}
