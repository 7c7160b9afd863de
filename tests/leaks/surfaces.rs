//! The surfaces a token could reach, each fed to the scanner: the LLB, the
//! build output, the image (config, history, every layer), the exported
//! build cache, the provenance attestation (buildx engines), and the
//! daemon's data root, exec root and logs.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::harness::Harness;
use crate::scan::Scanner;

/// `pyfront llb` for both targets, as protobuf bytes and as JSON, with every
/// token in the process environment (as `CI_JOB_TOKEN` is in CI): none may
/// reach the definition.
pub fn llb(sc: &mut Scanner, ctx: &Path) {
    let index = std::env::var("PYFRONT_INDEX_URL").unwrap_or_default();
    let public = std::env::var("PYFRONT_PUBLIC_INDEX_URL").unwrap_or_default();
    let env: Vec<(String, String)> = sc
        .canaries()
        .iter()
        .enumerate()
        .flat_map(|(i, c)| {
            [
                (format!("CI_JOB_TOKEN{i}"), c.value.clone()),
                (format!("PYFRONT_E2E_SECRET_PYPI_TOKEN{i}"), c.value.clone()),
            ]
        })
        .collect();
    for target in ["app", "builder"] {
        for json in [false, true] {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_pyfront"));
            cmd.arg("llb")
                .arg("-f")
                .arg(ctx.join("pyfront.toml"))
                .arg("--context")
                .arg(ctx)
                .arg(format!("--build-arg=PYPI_INDEX_URL={index}"))
                .arg(format!("--build-arg=PUBLIC_INDEX_URL={public}"))
                .arg("--network-host")
                .arg(format!("--target={target}"))
                .envs(env.iter().map(|(k, v)| (k, v)));
            if json {
                cmd.arg("--json");
            }
            let out = cmd.output().unwrap();
            assert!(
                out.status.success(),
                "pyfront llb failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(!out.stdout.is_empty(), "pyfront llb printed nothing");
            let form = if json { "json" } else { "protobuf" };
            sc.scan_bytes(
                "llb",
                &format!("pyfront llb --target={target} ({form}) stdout"),
                &out.stdout,
            );
            sc.scan_bytes(
                "llb",
                &format!("pyfront llb --target={target} ({form}) stderr"),
                &out.stderr,
            );
        }
    }
}

pub fn output(sc: &mut Scanner, what: &str, text: &str) {
    sc.scan_bytes("build output", what, text.as_bytes());
}

/// `docker inspect`, `docker history --no-trunc` and every file of `docker
/// save` (the layer tars, the manifests and configs).
pub fn image(sc: &mut Scanner, h: &Harness, image: &str) {
    let inspect = h.docker(&["inspect", image]);
    sc.scan_bytes("image config (inspect)", image, inspect.as_bytes());
    let history = h.docker(&["history", "--no-trunc", image]);
    sc.scan_bytes("image history", image, history.as_bytes());
    let history = h.docker(&["history", "--no-trunc", "--format", "{{json .}}", image]);
    sc.scan_bytes(
        "image history",
        &format!("{image} (json)"),
        history.as_bytes(),
    );
    let dir = tempfile::tempdir().unwrap();
    let tar = dir.path().join("image.tar");
    h.docker(&["save", "-o", tar.to_str().unwrap(), image]);
    // The archive whole (tar headers too), then each file in it: a hit in a
    // layer then names the layer and the file in it.
    sc.scan_file("docker save (archive)", &tar);
    let files = dir.path().join("files");
    std::fs::create_dir(&files).unwrap();
    let status = Command::new("tar")
        .arg("-xf")
        .arg(&tar)
        .arg("-C")
        .arg(&files)
        .status()
        .unwrap();
    assert!(status.success(), "tar -xf of the saved {image} failed");
    sc.scan_tree(&format!("docker save layers ({})", kind_of(image)), &files);
}

fn kind_of(image: &str) -> &'static str {
    if image.ends_with("builder") {
        "builder"
    } else {
        "app"
    }
}

/// Every blob of a `--cache-to type=local` export (gzip layers decompressed).
pub fn cache_export(sc: &mut Scanner, dir: &Path) {
    sc.scan_tree("exported cache", dir);
    assert!(
        sc.stats.get("exported cache").is_some_and(|s| s.files > 0),
        "the cache export at {} is empty",
        dir.display()
    );
}

pub fn not_available(sc: &mut Scanner, surface: &str, why: &str) {
    sc.stats
        .entry(surface.to_owned())
        .or_default()
        .not_scanned
        .push(why.to_owned());
}

/// The attestations attached to `image` (`--provenance`; the containerd
/// image store keeps them next to the image): every blob of every
/// attestation manifest, read from this engine's own containerd with `ctr`
/// and scanned. Returns the blobs' texts (the in-toto statements).
pub fn attestations(sc: &mut Scanner, h: &Harness, image: &str) -> Vec<String> {
    let d = engine_dir();
    let content = |digest: &str| -> Vec<u8> {
        let out = Command::new(d.join("bin/ctr"))
            .arg("--address")
            .arg(d.join("containerd/containerd.sock"))
            .args(["-n", "moby", "content", "get", digest])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ctr content get {digest} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let json = |bytes: &[u8]| -> serde_json::Value { serde_json::from_slice(bytes).unwrap() };
    let id = h.docker(&["image", "inspect", "--format", "{{.Id}}", image]);
    let index_bytes = content(id.trim());
    sc.scan_bytes(
        "attestations",
        &format!("{image} image index"),
        &index_bytes,
    );
    let index = json(&index_bytes);
    let mut statements = Vec::new();
    let manifests = index["manifests"].as_array().cloned().unwrap_or_default();
    for m in manifests
        .iter()
        .filter(|m| m["annotations"]["vnd.docker.reference.type"] == "attestation-manifest")
    {
        let digest = m["digest"].as_str().unwrap();
        let manifest_bytes = content(digest);
        sc.scan_bytes(
            "attestations",
            &format!("{image} attestation manifest {digest}"),
            &manifest_bytes,
        );
        for layer in json(&manifest_bytes)["layers"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let blob_digest = layer["digest"].as_str().unwrap();
            let blob = content(blob_digest);
            let kind = layer["annotations"]["in-toto.io/predicate-type"]
                .as_str()
                .unwrap_or("?");
            sc.scan_bytes(
                "attestations",
                &format!("{image} attestation {kind} {blob_digest}"),
                &blob,
            );
            statements.push(String::from_utf8_lossy(&blob).into_owned());
        }
    }
    assert!(
        !statements.is_empty(),
        "{image} has no attestation (index: {index})"
    );
    statements
}

/// The harness state dir of this engine (`$PYFRONT_HARNESS_DIR/<engine>`).
pub fn engine_dir() -> PathBuf {
    let state = std::env::var("PYFRONT_HARNESS_DIR").expect("PYFRONT_HARNESS_DIR");
    let engine = std::env::var("PYFRONT_ENGINE").expect("PYFRONT_ENGINE");
    Path::new(&state).join(engine)
}

/// The surface name of a daemon's own containerd (d13).
pub const CONTAINERD_SURFACE: &str = "containerd (root, state, log)";

/// The daemon's data root (images, layers, BuildKit's cache and its bolt
/// databases, its TMPDIR where secret tmpfs mounts live), exec root, logs and,
/// for d13, its own containerd's root, state and log.
pub fn daemon(sc: &mut Scanner) {
    let d = engine_dir();
    sc.scan_tree("daemon data root", &d.join("data"));
    sc.scan_tree("daemon exec root", &d.join("exec"));
    sc.scan_file("daemon log", &d.join("dockerd.log"));
    if d.join("containerd").is_dir() {
        sc.scan_tree(CONTAINERD_SURFACE, &d.join("containerd"));
    }
}

/// Waits until no BuildKit secret tmpfs is mounted under this engine's data
/// root (the daemon's TMPDIR), so a cancelled build has been torn down.
pub fn wait_for_secret_mounts_gone(timeout: Duration) -> Vec<String> {
    let root = engine_dir().join("data").display().to_string();
    let started = Instant::now();
    loop {
        let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
        let left: Vec<String> = mounts
            .lines()
            .filter_map(|l| l.split_whitespace().nth(1))
            .filter(|m| m.starts_with(&root) && m.contains("buildkit-secrets"))
            .map(str::to_owned)
            .collect();
        if left.is_empty() || started.elapsed() > timeout {
            return left;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// An index that accepts connections and never answers: an install that
/// asks it hangs with the secrets mounted. Records every request it gets.
pub struct SlowIndex {
    pub url: String,
    pub requests: Arc<Mutex<Vec<u8>>>,
}

impl SlowIndex {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/simple/", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let seen = Arc::clone(&seen);
                std::thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(120)));
                    let mut buf = [0u8; 4096];
                    // Keep reading (and never answer) until the client gives up.
                    while let Ok(n) = stream.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        seen.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                });
            }
        });
        Self { url, requests }
    }

    pub fn asked(&self) -> bool {
        !self.requests.lock().unwrap().is_empty()
    }
}

/// A build started like `Harness::build` but left running: the caller kills
/// the client. Returns the child and its progress output as it arrives.
pub fn spawn_build(
    ctx: &Path,
    tag: &str,
    args: &[String],
    env: &[(String, String)],
) -> (std::process::Child, Arc<Mutex<String>>) {
    let build = std::env::var("PYFRONT_BUILD").unwrap();
    let build: Vec<&str> = build.split_whitespace().collect();
    let index = std::env::var("PYFRONT_INDEX_URL").unwrap();
    let mut child = Command::new(build[0])
        .args(&build[1..])
        .arg("--progress=plain")
        .arg("--network=host")
        .arg("-f")
        .arg(ctx.join("pyfront.toml"))
        .arg(format!("--build-arg=PYPI_INDEX_URL={index}"))
        .arg(format!(
            "--build-arg=PUBLIC_INDEX_URL={}",
            std::env::var("PYFRONT_PUBLIC_INDEX_URL").unwrap_or_default()
        ))
        .arg("-t")
        .arg(tag)
        .args(args)
        .arg(ctx)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let text = Arc::new(Mutex::new(String::new()));
    for pipe in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let text = Arc::clone(&text);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                let mut t = text.lock().unwrap();
                t.push_str(&line);
                t.push('\n');
            }
        });
    }
    (child, text)
}
