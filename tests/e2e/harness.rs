//! Drives the engine and index that `tests/harness/up.sh` started.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The engine and index under test, from the harness env files.
pub struct Harness {
    /// The docker client for this engine (`PYFRONT_DOCKER`).
    docker: String,
    /// The build command prefix (`PYFRONT_BUILD`), e.g. `docker buildx build`.
    build: Vec<String>,
    index_url: String,
    repo: PathBuf,
    engine: String,
    /// Settings added to every engine command: empty for the engine the
    /// process env names; a [`Runner`]'s own `DOCKER_HOST` and friends.
    engine_env: Vec<(String, String)>,
}

/// A finished build: whether it succeeded and everything it printed.
pub struct BuildResult {
    pub success: bool,
    pub output: String,
}

/// One `docker build` invocation.
pub struct Build<'a> {
    context: &'a Path,
    tag: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl<'a> Build<'a> {
    pub fn new(context: &'a tempfile::TempDir, tag: &str) -> Self {
        Self {
            context: context.path(),
            tag: tag.to_owned(),
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// `--secret id=ID,env=VAR` with VAR holding `value` in the client's env
    /// only, as a CI job passes `CI_JOB_TOKEN`.
    pub fn secret_env(mut self, id: &str, value: &str) -> Self {
        let var = format!("PYFRONT_E2E_SECRET_{}", id.to_uppercase());
        self.args.push(format!("--secret=id={id},env={var}"));
        self.env.push((var, value.to_owned()));
        self
    }

    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_owned());
        self
    }
}

impl BuildResult {
    pub fn assert_success(&self) {
        assert!(self.success, "build failed:\n{}", self.output);
    }

    pub fn assert_failure(&self) {
        assert!(
            !self.success,
            "build unexpectedly succeeded:\n{}",
            self.output
        );
    }

    /// Whether the progress output shows the step whose name starts with
    /// `name_prefix` as `CACHED`.
    pub fn step_cached(&self, name_prefix: &str) -> bool {
        let vertex = self.output.lines().find_map(|line| {
            let rest = line.strip_prefix('#')?;
            let (number, name) = rest.split_once(' ')?;
            name.starts_with(name_prefix).then(|| number.to_owned())
        });
        let Some(vertex) = vertex else {
            panic!("no step `{name_prefix}` in the output:\n{}", self.output)
        };
        let cached = format!("#{vertex} CACHED");
        self.output.lines().any(|l| l.trim() == cached)
    }
}

impl Harness {
    /// The harness from the environment, or `None` (with a message) when the
    /// suite runs outside `tests/run-all.sh`.
    pub fn from_env() -> Option<Self> {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let (Some(docker), Some(build), Some(index_url), Some(engine)) = (
            get("PYFRONT_DOCKER"),
            get("PYFRONT_BUILD"),
            get("PYFRONT_INDEX_URL"),
            get("PYFRONT_ENGINE"),
        ) else {
            assert!(
                get("PYFRONT_E2E_REQUIRED").is_none(),
                "PYFRONT_E2E_REQUIRED is set but the harness env is missing; run `make test`"
            );
            eprintln!("skipping: no harness env (run the end-to-end suite with `make test`)");
            return None;
        };
        Some(Self {
            docker,
            build: build.split_whitespace().map(str::to_owned).collect(),
            index_url,
            repo: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            engine,
            engine_env: Vec::new(),
        })
    }

    /// The private index's URL (no credentials).
    pub fn index_url(&self) -> &str {
        &self.index_url
    }

    /// The engine's kind (`d12`, `d13`), also for an extra instance (`d13-r1`).
    pub fn engine_kind(&self) -> &str {
        self.engine.split('-').next().unwrap_or(&self.engine)
    }

    /// The local registry (`host:port`) that `tests/harness/registry.sh`
    /// runs, or `None` (with a message) outside the full suite.
    pub fn registry(&self) -> Option<String> {
        match std::env::var("PYFRONT_REGISTRY")
            .ok()
            .filter(|v| !v.is_empty())
        {
            Some(r) => Some(r),
            None => {
                assert!(
                    std::env::var_os("PYFRONT_E2E_REQUIRED").is_none(),
                    "PYFRONT_E2E_REQUIRED is set but PYFRONT_REGISTRY is missing; run `make test`"
                );
                eprintln!("skipping: no registry in the harness env");
                None
            }
        }
    }

    /// Pushes the base images and `pyfront:dev` from this engine to the
    /// registry, where fresh runners pull them (`registry.sh seed`).
    pub fn seed_registry(&self) {
        self.registry_script("seed");
    }

    /// `seed`, plus amd64+386 base image indexes under
    /// `$PYFRONT_REGISTRY/multiarch/` (`registry.sh seed-multiarch`).
    pub fn seed_registry_multiarch(&self) {
        self.registry_script("seed-multiarch");
    }

    fn registry_script(&self, command: &str) {
        let status = self
            .command("bash")
            .arg(self.repo.join("tests/harness/registry.sh"))
            .arg(command)
            .status()
            .unwrap();
        assert!(status.success(), "registry.sh {command} failed");
    }

    /// A fresh engine of this kind with an empty data root: another CI
    /// runner. Stopped when the [`Runner`] is dropped.
    pub fn fresh_runner(&self, instance: &str) -> Runner {
        let kind = self.engine_kind().to_owned();
        let script = self.repo.join(format!("tests/harness/engine-{kind}.sh"));
        let status = Command::new("bash")
            .arg(&script)
            .arg("fresh")
            .env("PYFRONT_ENGINE_INSTANCE", instance)
            .status()
            .unwrap();
        assert!(
            status.success(),
            "{} fresh ({instance}) failed",
            script.display()
        );
        let state = std::env::var("PYFRONT_HARNESS_DIR").expect("PYFRONT_HARNESS_DIR");
        let env_file = Path::new(&state).join(format!("env-{kind}-{instance}.sh"));
        let env = read_env_file(&env_file);
        let get = |k: &str| {
            env.iter()
                .find(|(name, _)| name == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("{} sets no {k}", env_file.display()))
        };
        let harness = Harness {
            docker: get("PYFRONT_DOCKER"),
            build: get("PYFRONT_BUILD")
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            index_url: self.index_url.clone(),
            repo: self.repo.clone(),
            engine: get("PYFRONT_ENGINE"),
            engine_env: env,
        };
        Runner {
            harness,
            script,
            instance: instance.to_owned(),
        }
    }

    /// A fresh copy of `examples/<name>`.
    pub fn example_context(&self, name: &str) -> tempfile::TempDir {
        let dir = tempfile::Builder::new()
            .prefix("pyfront-e2e-")
            .tempdir()
            .unwrap();
        copy_dir(&self.repo.join("examples").join(name), dir.path());
        dir
    }

    /// A fresh copy of `examples/demo` to build and modify.
    pub fn demo_context(&self) -> tempfile::TempDir {
        let dir = tempfile::Builder::new()
            .prefix("pyfront-e2e-")
            .tempdir()
            .unwrap();
        copy_dir(&self.repo.join("examples/demo"), dir.path());
        dir
    }

    /// A fresh copy of `tests/fixtures/apps/<name>` with the index URLs of
    /// its `pyproject.toml` (if it has one) filled in.
    pub fn app_context(&self, name: &str) -> tempfile::TempDir {
        let dir = tempfile::Builder::new()
            .prefix("pyfront-e2e-")
            .tempdir()
            .unwrap();
        copy_dir(
            &self.repo.join("tests/fixtures/apps").join(name),
            dir.path(),
        );
        let public = std::env::var("PYFRONT_PUBLIC_INDEX_URL").expect("PYFRONT_PUBLIC_INDEX_URL");
        let pyproject = dir.path().join("pyproject.toml");
        if !pyproject.exists() {
            return dir;
        }
        let text = std::fs::read_to_string(&pyproject)
            .unwrap()
            .replace("@PRIVATE_URL@", &self.index_url)
            .replace("@PUBLIC_URL@", &public);
        std::fs::write(&pyproject, text).unwrap();
        dir
    }

    /// Locks the project in `ctx` on the host with `installer` (`uv` or
    /// `poetry`), authenticating to the private index with `token`.
    pub fn lock(&self, ctx: &tempfile::TempDir, installer: &str, token: &str) {
        let (tool, env): (String, Vec<(&str, &str)>) = match installer {
            "uv" => (
                std::env::var("PYFRONT_HOST_UV").expect("PYFRONT_HOST_UV"),
                vec![
                    ("UV_INDEX_PRIVATE_USERNAME", "gitlab-ci-token"),
                    ("UV_INDEX_PRIVATE_PASSWORD", token),
                ],
            ),
            _ => (
                std::env::var("PYFRONT_HOST_POETRY").expect("PYFRONT_HOST_POETRY"),
                vec![
                    ("POETRY_HTTP_BASIC_PRIVATE_USERNAME", "gitlab-ci-token"),
                    ("POETRY_HTTP_BASIC_PRIVATE_PASSWORD", token),
                    ("POETRY_KEYRING_ENABLED", "false"),
                ],
            ),
        };
        let cache = tempfile::tempdir().unwrap();
        let out = Command::new(tool)
            .arg("lock")
            .current_dir(ctx.path())
            .envs(env)
            .env("UV_CACHE_DIR", cache.path())
            .env("POETRY_CACHE_DIR", cache.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{installer} lock failed:\n{}",
            combined(&out)
        );
    }

    /// A random token that is easy to find wherever it leaks.
    pub fn canary(&self, label: &str) -> String {
        let mut bytes = [0u8; 12];
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
            .unwrap();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("canary{label}{hex}")
    }

    /// Makes `token` the index's only valid password (revoking the old one).
    pub fn set_index_token(&self, token: &str) {
        let status = Command::new("bash")
            .arg(self.repo.join("tests/harness/index.sh"))
            .arg("set-token")
            .arg(token)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "index.sh set-token failed");
    }

    pub fn build(&self, b: Build<'_>) -> BuildResult {
        let mut cmd = self.command(&self.build[0]);
        cmd.args(&self.build[1..])
            .arg("--progress=plain")
            .arg("--network=host")
            .arg("-f")
            .arg(b.context.join("pyfront.toml"))
            // Timing in the daemon log, for the record (never on stdout).
            .arg("--build-arg=PYFRONT_TIMING=1")
            .arg(format!("--build-arg=PYPI_INDEX_URL={}", self.index_url))
            .arg(format!(
                "--build-arg=PUBLIC_INDEX_URL={}",
                std::env::var("PYFRONT_PUBLIC_INDEX_URL").unwrap_or_default()
            ))
            .arg("-t")
            .arg(&b.tag)
            .args(&b.args)
            .arg(b.context)
            .envs(b.env.iter().map(|(k, v)| (k, v)));
        self.run_command(&format!("build {}", b.tag), cmd)
    }

    /// Runs `image` with its own command, without network; returns its output.
    pub fn run(&self, image: &str) -> String {
        self.docker(&["run", "--rm", "--network=none", image])
    }

    /// Runs `python3 -c code` in `image` (whatever its entrypoint), without
    /// network; returns its output.
    pub fn python(&self, image: &str, code: &str) -> String {
        self.docker(&[
            "run",
            "--rm",
            "--network=none",
            "--entrypoint",
            "python3",
            image,
            "-c",
            code,
        ])
    }

    /// Whether builds go through buildx (which has `--print`).
    pub fn has_buildx(&self) -> bool {
        self.build.iter().any(|w| w == "buildx")
    }

    /// Whether this engine's buildx has `--call` (buildx 0.15+: d28), which
    /// replaced the experimental `--print` (buildx 0.13: d13).
    pub fn has_buildx_call(&self) -> bool {
        self.has_buildx()
            && self
                .command(&self.build[0])
                .args(&self.build[1..])
                .arg("--help")
                .output()
                .is_ok_and(|out| combined(&out).contains("--call"))
    }

    /// `--call=<what>` (or, on buildx 0.13, `--print=<what>`) of the spec in
    /// `dir` (syntax pinned to `pyfront:dev`); panics on failure.
    pub fn buildx_print(&self, dir: &Path, what: &str) -> String {
        let (flag, result) = self.buildx_call(dir, what);
        assert!(result.success, "{flag} failed:\n{}", result.output);
        result.output
    }

    /// `--call=<what>` (or `--print=<what>`) of the spec in `dir`, as it
    /// went: the flag used and the result (`--call=check` fails when there
    /// are warnings).
    pub fn buildx_call(&self, dir: &Path, what: &str) -> (String, BuildResult) {
        let flag = if self.has_buildx_call() {
            format!("--call={what}")
        } else {
            format!("--print={what}")
        };
        let out = self
            .command(&self.build[0])
            .args(&self.build[1..])
            .arg(&flag)
            .arg("--build-arg=BUILDKIT_SYNTAX=pyfront:dev")
            .arg("-f")
            .arg(dir.join("pyfront.toml"))
            .arg(dir)
            .env("BUILDX_EXPERIMENTAL", "1")
            .output()
            .unwrap();
        let result = BuildResult {
            success: out.status.success(),
            output: combined(&out),
        };
        (flag, result)
    }

    /// A command aimed at this engine: its env (`DOCKER_HOST`, ...) set
    /// first, so the caller's own settings come after it.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.envs(self.engine_env.iter().cloned());
        cmd
    }

    /// Runs `cmd` (made by [`Harness::command`]), logs `what` and whether it
    /// worked, and collects what it printed, like a build.
    pub fn run_command(&self, what: &str, mut cmd: Command) -> BuildResult {
        let out = cmd.output().unwrap();
        eprintln!(
            "[{}] {what}: {}",
            self.engine,
            if out.status.success() { "ok" } else { "failed" }
        );
        BuildResult {
            success: out.status.success(),
            output: combined(&out),
        }
    }

    /// The build command (`PYFRONT_BUILD`), e.g. `docker buildx build`.
    pub fn build_command(&self) -> String {
        self.build.join(" ")
    }

    /// The docker client of this engine, as a command.
    pub fn docker_command(&self) -> Command {
        self.command(&self.docker)
    }

    /// Runs the docker client; panics on failure; returns stdout + stderr.
    pub fn docker(&self, args: &[&str]) -> String {
        let out = self.command(&self.docker).args(args).output().unwrap();
        let text = combined(&out);
        assert!(out.status.success(), "docker {args:?} failed:\n{text}");
        text
    }

    /// The demo app's image config: venv first on PATH, the spec's workdir,
    /// cmd and env, the `--label`, and one readable history entry per
    /// added layer.
    pub fn assert_runtime_config(&self, image: &str) {
        let json = self.docker(&["inspect", "-f", "{{json .Config}}", image]);
        let config: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
        let env: Vec<&str> = config["Env"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert!(
            env.iter().any(|e| e.starts_with("PATH=/opt/venv/bin:")),
            "{env:?}"
        );
        assert!(env.contains(&"VIRTUAL_ENV=/opt/venv"), "{env:?}");
        assert!(env.contains(&"PYTHONPATH=/opt/app/src"), "{env:?}");
        assert_eq!(config["WorkingDir"], "/opt/app");
        assert_eq!(
            config["Cmd"],
            serde_json::json!(["python3", "-m", "demoapp"])
        );
        assert_eq!(config["Labels"]["org.example.team"], "mlops");
        let history = self.docker(&[
            "history",
            "--no-trunc",
            "--format",
            "{{.CreatedBy}}|{{.Comment}}",
            image,
        ]);
        let ours: Vec<&str> = history
            .lines()
            .filter(|l| l.ends_with("|pyfront"))
            .collect();
        assert_eq!(
            ours,
            [
                "pyfront: COPY . /opt/app|pyfront",
                "pyfront: COPY --from=builder /opt/venv /opt/venv|pyfront"
            ],
            "{history}"
        );
    }

    /// The image's layer diff ids, base first.
    pub fn layers(&self, image: &str) -> Vec<String> {
        let json = self.docker(&["inspect", "-f", "{{json .RootFS.Layers}}", image]);
        serde_json::from_str(json.trim()).unwrap()
    }

    /// The token is in no layer (`docker save`), not in the history, the
    /// config or `docker inspect`.
    pub fn assert_image_clean(&self, image: &str, tokens: &[&str]) {
        let history = self.docker(&["history", "--no-trunc", image]);
        let inspect = self.docker(&["inspect", image]);
        let dir = tempfile::tempdir().unwrap();
        let tar = dir.path().join("image.tar");
        self.docker(&["save", "-o", tar.to_str().unwrap(), image]);
        // `docker save` writes layers uncompressed, so a token in any file of
        // any layer appears verbatim in the archive.
        let bytes = std::fs::read(&tar).unwrap();
        for token in tokens {
            assert!(
                !history.contains(token),
                "token in `docker history` of {image}"
            );
            assert!(
                !inspect.contains(token),
                "token in `docker inspect` of {image}"
            );
            assert!(
                memchr::memmem::find(&bytes, token.as_bytes()).is_none(),
                "token found in the layers of {image}"
            );
        }
    }
}

/// One CI runner: an engine of its own, started empty by
/// [`Harness::fresh_runner`]; `harness` drives it like the main engine.
pub struct Runner {
    pub harness: Harness,
    script: PathBuf,
    instance: String,
}

impl Runner {
    /// Runs `job` of the `.gitlab-ci.yml` in `ctx` as a GitLab runner would
    /// (`tests/ci-recipes/gitlab-job.py`), with this runner's engine as the
    /// job's docker service. `vars` play the project's CI/CD variables.
    pub fn gitlab_job(&self, ctx: &Path, job: &str, vars: &[(&str, &str)]) -> BuildResult {
        let h = &self.harness;
        let script = Command::new("python3")
            .arg(h.repo.join("tests/ci-recipes/gitlab-job.py"))
            .arg(ctx.join(".gitlab-ci.yml"))
            .arg(job)
            .output()
            .unwrap();
        assert!(
            script.status.success(),
            "gitlab-job.py failed: {}",
            String::from_utf8_lossy(&script.stderr)
        );
        // The job's `docker` is this engine's client (the 20.10 one for d12:
        // the newer client on PATH has no classic BuildKit builder).
        let bin = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(&h.docker, bin.path().join("docker")).unwrap();
        let path = format!(
            "{}:{}",
            bin.path().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = h.command("bash");
        cmd.arg("-c")
            .arg(String::from_utf8(script.stdout).unwrap())
            .current_dir(ctx)
            .env("PATH", path)
            // The job's dind TLS settings do not apply to a local socket.
            .env("DOCKER_TLS_VERIFY", "")
            .env("DOCKER_CERT_PATH", "")
            .envs(vars.iter().copied());
        h.run_command(&format!("gitlab job {job}"), cmd)
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(&self.script)
            .arg("down")
            .env("PYFRONT_ENGINE_INSTANCE", &self.instance)
            .status();
    }
}

/// What a finished command printed: stdout, then stderr.
fn combined(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// An OCI image layout (`--output type=oci`, `make release-image`),
/// unpacked into a temp dir.
pub struct OciLayout {
    dir: tempfile::TempDir,
}

impl OciLayout {
    pub fn unpack(tar: &Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("tar")
            .arg("-xf")
            .arg(tar)
            .arg("-C")
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "tar -xf {}", tar.display());
        Self { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    fn json(path: &Path) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    /// `index.json`.
    pub fn index(&self) -> serde_json::Value {
        Self::json(&self.path().join("index.json"))
    }

    /// The JSON blob `digest` names.
    pub fn blob(&self, digest: &serde_json::Value) -> serde_json::Value {
        let name = digest.as_str().unwrap().replace(':', "/");
        Self::json(&self.path().join("blobs").join(name))
    }

    /// The first image's manifest; when that image is an index, its
    /// manifest for `arch` (or its first).
    pub fn manifest(&self, arch: Option<&str>) -> serde_json::Value {
        let top = self.blob(&self.index()["manifests"][0]["digest"]);
        let Some(list) = top["manifests"].as_array() else {
            return top;
        };
        let entry = match arch {
            Some(arch) => list
                .iter()
                .find(|m| m["platform"]["architecture"] == arch)
                .unwrap_or_else(|| panic!("no {arch} manifest in {top}")),
            None => &list[0],
        };
        self.blob(&entry["digest"])
    }
}

/// `export NAME='value'` lines of a harness env file (see `write_env` in
/// `tests/harness/lib.sh`).
fn read_env_file(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .filter_map(|line| line.strip_prefix("export "))
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            let v = v
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .unwrap_or(v);
            (k.to_owned(), v.replace("'\\''", "'"))
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
