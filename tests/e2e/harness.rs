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

    /// A setting of a [`Runner`]'s engine from its env file (`DOCKER_HOST`,
    /// `DOCKER_CONFIG`, ...).
    pub fn engine_var(&self, name: &str) -> &str {
        self.engine_env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("engine {} has no {name}", self.engine))
    }

    /// The private index's URL (no credentials).
    pub fn index_url(&self) -> &str {
        &self.index_url
    }

    /// The engine's kind (`d12`, `d13`), also for an extra instance (`d13-r1`).
    pub fn engine_kind(&self) -> &str {
        self.engine.split('-').next().unwrap_or(&self.engine)
    }

    /// Whether pyfront grafts the builder's venv layers into the app image
    /// on this engine (merge and diff ops: BuildKit v0.10+, every engine
    /// but Docker 20.10's) instead of copying the venv.
    pub fn grafts(&self) -> bool {
        self.engine_kind() != "d12"
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

    /// The gitlab-ci-local command that `tests/harness/gitlab-ci-local.sh`
    /// installed, or `None` (with a message) outside the full suite.
    pub fn gitlab_ci_local(&self) -> Option<PathBuf> {
        match std::env::var_os("PYFRONT_GITLAB_CI_LOCAL").filter(|v| !v.is_empty()) {
            Some(path) => Some(PathBuf::from(path)),
            None => {
                assert!(
                    std::env::var_os("PYFRONT_E2E_REQUIRED").is_none(),
                    "PYFRONT_E2E_REQUIRED is set but PYFRONT_GITLAB_CI_LOCAL is missing; run `make test`"
                );
                eprintln!("skipping: no gitlab-ci-local in the harness env");
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
        let oldest_first: Vec<&str> = ours.iter().rev().copied().collect();
        self.assert_venv_history(&oldest_first[..oldest_first.len() - 1], &history);
        assert_eq!(
            oldest_first.last().copied(),
            Some("pyfront: COPY . /opt/app|pyfront"),
            "{history}"
        );
    }

    /// `entries` (pyfront's history entries, oldest first, `|pyfront`
    /// comments stripped or not) are the venv's layers: on an engine that
    /// grafts, the builder's venv step then its install step(s); otherwise
    /// the one venv copy.
    pub fn assert_venv_history(&self, entries: &[&str], context: &str) {
        let entries: Vec<&str> = entries
            .iter()
            .map(|e| e.trim_end_matches("|pyfront"))
            .collect();
        if self.grafts() {
            assert!(entries.len() >= 2, "{entries:?}\n{context}");
            assert_eq!(
                entries[0], "pyfront: python3 -m venv --without-pip /opt/venv",
                "{context}"
            );
            assert!(
                entries[1..].iter().all(|e| e.contains(" install ")),
                "{entries:?}\n{context}"
            );
        } else {
            assert_eq!(
                entries,
                ["pyfront: COPY --from=builder /opt/venv /opt/venv"],
                "{context}"
            );
        }
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
    /// Runs the pipeline of the `.gitlab-ci.yml` in `project` with
    /// gitlab-ci-local (`gitlab_ci_local`, the command `tests/harness/
    /// gitlab-ci-local.sh` installed), every job in its shell executor, this
    /// runner's engine standing in for the job's dind service. `vars` play
    /// the project's CI/CD variables: gitlab-ci-local gets them as
    /// `GCL_VARIABLE_<NAME>` in its environment (never on its command line,
    /// never in a file). The job's `docker` is this engine's client (the
    /// 20.10 one for d12: the newer client on PATH has no classic BuildKit
    /// builder), as on a shell runner's host.
    pub fn gitlab_pipeline(
        &self,
        gitlab_ci_local: &Path,
        project: &GitProject,
        service: (&str, &str),
        vars: &[(&str, &str)],
    ) -> BuildResult {
        let h = &self.harness;
        // gitlab-ci-local starts a job's `services` even in its shell
        // executor. No dind image can be had here, so the service's image
        // name (`service.0`) is a stand-in (`service.1`, pulled from the
        // local registry), found locally (`--pull-policy if-not-present`);
        // it exposes no port, so gitlab-ci-local skips its health check.
        // The job does not use it: DOCKER_HOST points at this engine.
        h.docker(&["pull", "-q", service.1]);
        h.docker(&["tag", service.1, service.0]);
        let bin = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(&h.docker, bin.path().join("docker")).unwrap();
        let path = format!(
            "{}:{}",
            bin.path().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        // gitlab-ci-local's own home: no variables.yml of this machine's user.
        let home = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(gitlab_ci_local);
        cmd.arg("--home")
            .arg(home.path())
            .arg("--force-shell-executor")
            .arg("--pull-policy")
            .arg("if-not-present")
            .arg("--no-color")
            .current_dir(project.path())
            .env("PATH", path)
            // The registry variables point at the harness's registry on
            // purpose: no warning about overriding predefined ones.
            .env(
                "GCL_IGNORE_PREDEFINED_VARS",
                vars.iter()
                    .map(|(k, _)| *k)
                    .filter(|k| k.starts_with("CI_"))
                    .collect::<Vec<_>>()
                    .join(","),
            )
            .envs(
                vars.iter()
                    .map(|(k, v)| (format!("GCL_VARIABLE_{k}"), v.to_string())),
            );
        // gitlab-ci-local's own docker calls (the service's network and
        // container) go to this engine; the job's come from `vars`.
        for name in ["DOCKER_HOST", "DOCKER_CONFIG"] {
            cmd.env(name, h.engine_var(name));
        }
        cmd.env_remove("DOCKER_BUILDKIT");
        h.run_command("gitlab-ci-local pipeline", cmd)
    }
}

/// A GitLab project's checkout, as a runner clones it: a copy of
/// `examples/<name>` in a git repository with an `origin` remote (the
/// project gitlab-ci-local derives `CI_PROJECT_*` from) and one commit.
pub struct GitProject {
    dir: tempfile::TempDir,
}

impl GitProject {
    pub fn new(h: &Harness, example: &str, remote: &str) -> Self {
        let project = Self {
            dir: h.example_context(example),
        };
        project.git(&["init", "-q", "-b", "main"]);
        project.git(&["remote", "add", "origin", remote]);
        project.commit("import the example");
        project
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A fresh clone (the next runner's checkout), `origin` set to `remote`.
    pub fn clone_to(&self, remote: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("pyfront-e2e-")
            .tempdir()
            .unwrap();
        let out = Command::new("git")
            .args(["clone", "-q"])
            .arg(self.path())
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "git clone: {}", combined(&out));
        let clone = Self { dir };
        clone.git(&["remote", "set-url", "origin", remote]);
        clone.track_origin();
        clone
    }

    /// `CI_COMMIT_SHORT_SHA` of the checked-out commit (GitLab's 8 characters).
    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])[..8].to_owned()
    }

    /// The log gitlab-ci-local wrote for `job`
    /// (`.gitlab-ci-local/output/<job>.log`).
    pub fn job_log(&self, job: &str) -> BuildResult {
        let path = self
            .path()
            .join(format!(".gitlab-ci-local/output/{job}.log"));
        let output =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        BuildResult {
            success: true,
            output,
        }
    }

    /// Commits everything; returns the commit's short SHA, as GitLab's
    /// `CI_COMMIT_SHORT_SHA` (8 characters).
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&[
            "-c",
            "user.name=pyfront e2e",
            "-c",
            "user.email=e2e@pyfront.invalid",
            "commit",
            "-q",
            "-m",
            message,
        ]);
        self.track_origin();
        self.head()
    }

    /// A clone's view of the default branch: `origin/HEAD` (gitlab-ci-local
    /// asks for it) names `origin/main` at this commit.
    fn track_origin(&self) {
        self.git(&["update-ref", "refs/remotes/origin/main", "HEAD"]);
        self.git(&[
            "symbolic-ref",
            "refs/remotes/origin/HEAD",
            "refs/remotes/origin/main",
        ]);
    }

    fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(self.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", combined(&out));
        String::from_utf8(out.stdout).unwrap()
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

/// C shared objects built on the host with `cc`, for the load-check tests:
/// stubs that carry only a soname, and objects linked against them, so an
/// object needs (DT_NEEDED) a library that the host itself need not have.
pub struct NativeObjects {
    scratch: tempfile::TempDir,
}

impl NativeObjects {
    /// Stubs of `sonames`, for `object` to link against.
    pub fn with_stubs(sonames: &[&str]) -> Self {
        let objects = Self {
            scratch: tempfile::tempdir().unwrap(),
        };
        let stub_c = objects.source("stub.c", "void pyfront_stub(void) {}\n");
        for soname in sonames {
            let stub = objects.scratch.path().join(soname);
            Self::cc(&[
                "-shared",
                "-fPIC",
                &format!("-Wl,-soname,{soname}"),
                "-o",
                stub.to_str().unwrap(),
                stub_c.to_str().unwrap(),
            ]);
        }
        objects
    }

    /// Writes to `out` a shared object of the C `code` that needs
    /// `soname`, one of the stubs.
    pub fn object(&self, out: &Path, code: &str, soname: &str) {
        let name = out.file_name().unwrap().to_str().unwrap();
        let source = self.source(&format!("{name}.c"), code);
        Self::cc(&[
            "-shared",
            "-fPIC",
            "-o",
            out.to_str().unwrap(),
            source.to_str().unwrap(),
            "-Wl,--no-as-needed",
            &format!("-L{}", self.scratch.path().display()),
            &format!("-l:{soname}"),
        ]);
    }

    fn source(&self, name: &str, code: &str) -> PathBuf {
        let path = self.scratch.path().join(name);
        std::fs::write(&path, code).unwrap();
        path
    }

    fn cc(args: &[&str]) {
        let out = Command::new("cc").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "cc {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
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
