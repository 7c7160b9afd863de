//! What to build, independent of LLB: two stages and their steps.
//!
//! The builder stage turns the builder base into a venv with the app's
//! dependencies; the app stage copies that venv and the app code onto the
//! runtime base. Each installer (`installers`) builds the builder stage's
//! steps for its tool; `convert::lower` turns a [`Plan`] into LLB.

pub mod installers;

use crate::spec::{AppUser, AptPackage, ImagePath, ImageRef, SecretId, Spec, APP_USER_ID};

/// Where the venv lives in both stages.
pub const VENV: &str = "/opt/venv";
/// Where Poetry or uv are installed in the builder; never copied to the app.
pub const TOOLS_VENV: &str = "/opt/pyfront-tools";
/// Where the install step sees its context files (read-only).
pub const CONTEXT_MOUNT: &str = "/run/pyfront/context";
/// Where the install step sees its helper program and config (read-only).
pub const HELPER_MOUNT: &str = "/run/pyfront/helper";
/// BuildKit's secret mount directory; a secret `id` is the file `id` in it.
pub const SECRETS_DIR: &str = "/run/secrets";
/// Where the hermetic install's select step writes the plan of the files
/// to fetch (`fetch.json`) and install (`requirements.txt`).
pub const PLAN_DIR: &str = "/var/lib/pyfront/plan";
/// Where later steps see [`PLAN_DIR`] (read-only).
pub const PLAN_MOUNT: &str = "/run/pyfront/plan";
/// Where the fetch step leaves the downloaded files and their manifest.
pub const WHEELHOUSE_DIR: &str = "/var/lib/pyfront/wheelhouse";
/// Where later steps see [`WHEELHOUSE_DIR`] (read-only).
pub const WHEELHOUSE_MOUNT: &str = "/run/pyfront/wheelhouse";
/// uv workspaces: where the select step copies the sources of the
/// workspace members the install needs (`src/<name>/`) and lists them
/// (`members.txt`). A directory of its own, apart from [`PLAN_DIR`], so a
/// member's source change re-runs the install but not the fetch.
pub const MEMBERS_DIR: &str = "/var/lib/pyfront/members";
/// Where the install step sees [`MEMBERS_DIR`] (read-only).
pub const MEMBERS_MOUNT: &str = "/run/pyfront/members";
/// Where the install step sees the directories of pip's local packages.
pub const LOCAL_MOUNT: &str = "/run/pyfront/local";

/// The build targets (`--target`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    Builder,
    #[default]
    App,
}

impl Target {
    pub const ALL: [&'static str; 2] = ["builder", "app"];

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "" | "app" => Some(Self::App),
            "builder" => Some(Self::Builder),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Plan {
    pub builder: BuilderStage,
    pub app: AppStage,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BuilderStage {
    pub base: ImageRef,
    /// Installed with apt before the venv exists; absent from the app stage.
    pub system_packages: Vec<AptPackage>,
    /// uv, provisioned before the install; independent of the lock.
    pub tools: Option<InstallStep>,
    pub install: Install,
    /// `project = true`: the project itself, after its dependencies. It
    /// sees the whole context, so app changes re-run it. (In a uv workspace
    /// the select step sees it too, but its outputs are keyed by content.)
    pub project: Option<InstallStep>,
    /// `[[build.run]]`, in order, after the install (and the project): on
    /// the builder with the app code copied to the app workdir.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub run: Vec<RunStep>,
}

/// A user build command (`[[build.run]]`). Its argv is the user's, run as
/// written (no shell of pyfront's); its inputs are the builder after the
/// install and the app code at the workdir (with the earlier steps'
/// changes), so an app change re-runs it and a token rotation does not.
/// It never has a secret mount; its network is none unless `network`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RunStep {
    /// Shown in the build progress (`RUN python manage.py ...`).
    pub title: String,
    pub args: Vec<String>,
    /// The spec's `env`, set after the venv's `VIRTUAL_ENV` and `PATH`
    /// (a key here wins).
    pub env: Vec<(String, String)>,
    /// `network = true`: the build's network; `false`: none at all.
    pub network: bool,
    /// The `[[build.run]]` table, for BuildKit to show when it fails.
    #[serde(skip)]
    pub location: std::ops::Range<usize>,
}

/// A `[[build.run]]` output: copied from the last build command's result
/// into the app image at the same path under the workdir, over the app
/// code (overlay: files are added or replaced, none removed).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RunOutput {
    /// Relative to the workdir.
    pub path: String,
    /// The 1-based number of the first step that names it, for the error
    /// when it is missing.
    pub step: usize,
    #[serde(skip)]
    pub location: std::ops::Range<usize>,
}

/// How the dependencies get into the venv.
// One plan per build: the size of a variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Install {
    /// One step with the credentials and the network: the installer runs
    /// with both (pip requirement files).
    Direct(InstallStep),
    /// A lock installed in three steps, so that no code of the packages
    /// being installed ever runs where a credential can be read.
    Hermetic(HermeticInstall),
}

/// select → fetch → install. Only `fetch` has the secrets and the network,
/// and it runs only pyfront's own fetcher or pip as a wheels-only resolver,
/// never a package's code.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HermeticInstall {
    /// Reads the lock offline and writes [`PLAN_DIR`]; checks the lock is
    /// current. No secret, no network. pip requirement files have none:
    /// their fetch step resolves them, wheels only.
    pub select: Option<InstallStep>,
    /// Downloads exactly the planned files into [`WHEELHOUSE_DIR`] and
    /// checks their hashes. Keyed by the plan's content (not by the step
    /// that wrote it), so a rebuilt builder that plans the same files
    /// reuses it.
    pub fetch: InstallStep,
    /// Installs from the wheelhouse only: sdists build here, with no
    /// secret and no network.
    pub install: InstallStep,
}

/// An earlier step's output that a step sees read-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Earlier {
    /// The select step's [`PLAN_DIR`], at [`PLAN_MOUNT`].
    Plan,
    /// The fetch step's [`WHEELHOUSE_DIR`], at [`WHEELHOUSE_MOUNT`].
    Wheelhouse,
    /// The select step's [`MEMBERS_DIR`], at [`MEMBERS_MOUNT`].
    Members,
}

/// A step that runs one of pyfront's helper programs: provisioning uv, or
/// a step of a dependency or project install. Only the steps with
/// `secrets` see credentials; those with `network: false` run with
/// network mode none.
///
/// Its only inputs are the builder filesystem, `context_files` (mounted at
/// [`CONTEXT_MOUNT`]) and `helper_files` (at [`HELPER_MOUNT`]), so app code
/// changes never re-run it, unless it sees the `whole_context` (the
/// project step; a uv workspace's select step). Secrets are mounted as files and read by the
/// helper program at run time: only their ids are in the plan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InstallStep {
    /// Shown in the build progress.
    pub title: String,
    pub context_files: Vec<String>,
    /// Sees the whole context (minus `.dockerignore`) instead of
    /// `context_files`.
    pub whole_context: bool,
    /// Directories of the context (minus `.dockerignore`; `.`: all of it)
    /// mounted at [`LOCAL_MOUNT`]: pip's local packages.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub local_dirs: Vec<String>,
    pub helper_files: Vec<HelperFile>,
    pub args: Vec<String>,
    /// Static, non-secret environment for the step.
    pub env: Vec<(String, String)>,
    pub secrets: Vec<SecretId>,
    /// Runs with the build's network; `false`: with none at all.
    pub network: bool,
    /// Earlier steps' outputs it sees (read-only).
    pub sees: Vec<Earlier>,
    pub caches: Vec<CacheDir>,
    /// Byte spans of the spec this step comes from (`with`, the indexes),
    /// so BuildKit can show them when the step fails.
    #[serde(skip)]
    pub locations: Vec<std::ops::Range<usize>>,
}

/// A file of the helper program (the program, its config, ...), written
/// read-only under [`HELPER_MOUNT`]. Serialized by name, size and digest,
/// not contents: `pyfront plan` and its snapshots show that a file changed
/// in one line (`pyfront llb --json` shows the small ones in full).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelperFile {
    pub name: String,
    pub contents: Vec<u8>,
}

impl serde::Serialize for HelperFile {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        use sha2::{Digest, Sha256};
        // `sha256:HEX`, as `pyfront llb --json` names the same bytes.
        let digest: String =
            Sha256::digest(&self.contents)
                .iter()
                .fold("sha256:".to_owned(), |mut out, b| {
                    out.push_str(&format!("{b:02x}"));
                    out
                });
        let mut s = serializer.serialize_struct("HelperFile", 3)?;
        s.serialize_field("name", &self.name)?;
        s.serialize_field("bytes", &self.contents.len())?;
        s.serialize_field("digest", &digest)?;
        s.end()
    }
}

/// A cache mount that persists between builds (pip's download cache).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CacheDir {
    pub id: String,
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AppStage {
    pub base: ImageRef,
    /// Installed with apt on the runtime base, in a layer of its own before
    /// the venv: the runtime libraries the venv's extensions load.
    pub system_packages: Vec<AptPackage>,
    pub workdir: ImagePath,
    /// `.dockerignore` patterns applied to the app code copy.
    pub context_excludes: Vec<String>,
    /// `[app] user` as a name (not root): created before the venv copy when
    /// the runtime base lacks it, and the owner of the app code copy. The
    /// venv stays root's, read-only for the app; numeric ids own nothing
    /// (the code stays read-only for them too).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<NewUser>,
    /// The `[[build.run]]` outputs, in the order first named, each once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<RunOutput>,
}

/// A user the app stage adds to the runtime base's `/etc/passwd` and
/// `/etc/group` unless the base has it: fixed ids, a home, no login shell.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NewUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// What the conversion read from the build context that shapes the plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContextInputs {
    /// The context's `.dockerignore` (empty when there is none).
    pub dockerignore: String,
    /// pip: every requirement and constraint file the spec's files reach
    /// (`-r`, `-c`), sorted; all are mounted and key the install step.
    /// Empty: the spec's files only.
    pub requirement_files: Vec<String>,
    /// pip: a requirement names a path in the context (`./libs/sdk`, `.`),
    /// so the install step sees the whole context.
    pub local_requirements: bool,
    /// pip: a requirement names a remote URL or a VCS repository, which
    /// pip builds even when told to take wheels only.
    pub remote_requirements: bool,
    /// pip: the local requirements, all of static metadata, installed
    /// hermetically (`installers::pip_local`); `None`: there are none, or
    /// the spec opted out with `build-code-sees-index-login`.
    pub local_static: Option<installers::pip_local::StaticLocal>,
    /// uv: `pyproject.toml` has `[tool.uv.workspace]`, so the select step
    /// sees the whole context (the members' `pyproject.toml`s and
    /// sources) and plans the members the install needs.
    pub uv_workspace: bool,
    /// uv and Poetry: the lock takes packages from directories of the
    /// context (uv path sources, Poetry path dependencies), so the select
    /// step sees the whole context and copies the ones the install needs,
    /// as in a uv workspace.
    pub local_packages: bool,
}

impl Plan {
    /// Plans the build of `spec` with what the context holds.
    pub fn new(spec: &Spec, context: &ContextInputs) -> Self {
        let dockerignore = context.dockerignore.as_str();
        Self {
            builder: installers::builder_stage(spec, context),
            app: AppStage {
                base: spec.app.base.clone(),
                system_packages: spec.app.system_packages.clone(),
                workdir: spec.app.workdir.clone(),
                context_excludes: parse_dockerignore(dockerignore),
                user: match &spec.app.user {
                    Some(AppUser::Name(name)) if name != "root" => Some(NewUser {
                        name: name.clone(),
                        uid: APP_USER_ID,
                        gid: APP_USER_ID,
                    }),
                    _ => None,
                },
                outputs: run_outputs(spec),
            },
        }
    }
}

/// The build commands' outputs, each path once (several steps may write
/// into one directory), with the first step that names it.
fn run_outputs(spec: &Spec) -> Vec<RunOutput> {
    let mut outputs: Vec<RunOutput> = Vec::new();
    for (i, run) in spec.build.run.iter().enumerate() {
        for o in &run.outputs {
            if !outputs.iter().any(|x| x.path == o.value.as_str()) {
                outputs.push(RunOutput {
                    path: o.value.as_str().to_owned(),
                    step: i + 1,
                    location: o.span.clone(),
                });
            }
        }
    }
    outputs
}

/// The build commands, in the spec's order.
pub fn run_steps(spec: &Spec) -> Vec<RunStep> {
    spec.build
        .run
        .iter()
        .map(|r| RunStep {
            title: format!(
                "RUN {} ({}, no secrets)",
                display_argv(&r.command),
                if r.network { "network" } else { "no network" }
            ),
            args: r.command.clone(),
            env: r.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            network: r.network,
            location: r.span.clone(),
        })
        .collect()
}

/// An argv for people to read (step names, messages), quoted like a shell
/// would need it. Never executed.
pub fn display_argv(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars().all(|c| {
                    c.is_ascii_alphanumeric()
                        || matches!(c, '-' | '_' | '.' | '/' | '=' | ':' | ',' | '+' | '@')
                });
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `.dockerignore` lines → patterns: comments and blank lines dropped,
/// whitespace trimmed, leading `/` removed (patterns are context-relative).
/// BuildKit applies the patterns itself (`local.excludepatterns`).
pub fn parse_dockerignore(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (neg, rest) = l.strip_prefix('!').map_or(("", l), |r| ("!", r.trim()));
            let rest = rest.trim_start_matches('/');
            format!("{neg}{rest}")
        })
        .filter(|p| !p.is_empty() && p != "!")
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerignore_lines_become_patterns() {
        let text = "# comment\n\n  .git \n/build\n!keep.txt\n! /also\n*.pyc\n";
        assert_eq!(
            parse_dockerignore(text),
            [".git", "build", "!keep.txt", "!also", "*.pyc"]
        );
    }

    #[test]
    fn helper_files_serialize_by_name_size_and_digest() {
        let file = HelperFile {
            name: "tools.txt".to_owned(),
            contents: b"abc".to_vec(),
        };
        assert_eq!(
            serde_json::to_value(&file).unwrap(),
            serde_json::json!({
                "name": "tools.txt",
                "bytes": 3,
                "digest": "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            })
        );
    }

    #[test]
    fn build_commands_plan_in_order_and_outputs_once() {
        let source = "[app]\nbase = \"python:3.11\"\n[install]\nwith = \"pip\"\nrequirements = [\"r.txt\"]\n\
            [[build.run]]\ncommand = [\"sh\", \"-c\", \"mkdir -p static && echo 'hi' > static/a\"]\noutputs = [\"static\"]\nenv = { B = \"2\", A = \"1\" }\n\
            [[build.run]]\ncommand = [\"python\", \"-m\", \"compileall\", \".\"]\noutputs = [\"static/\", \"__pycache__\"]\nnetwork = true\n";
        let spec = Spec::parse(source, &crate::spec::BuildArgs::new()).unwrap();
        let plan = Plan::new(&spec, &ContextInputs::default());
        let run = &plan.builder.run;
        assert_eq!(run.len(), 2);
        assert_eq!(
            run[0].title,
            "RUN sh -c 'mkdir -p static && echo '\\''hi'\\'' > static/a' (no network, no secrets)"
        );
        assert_eq!(
            run[0].args,
            ["sh", "-c", "mkdir -p static && echo 'hi' > static/a"]
        );
        assert_eq!(
            run[0].env,
            [
                ("A".to_owned(), "1".to_owned()),
                ("B".to_owned(), "2".to_owned())
            ]
        );
        assert!(!run[0].network && run[1].network);
        assert_eq!(
            run[1].title,
            "RUN python -m compileall . (network, no secrets)"
        );
        let outputs: Vec<(&str, usize)> = plan
            .app
            .outputs
            .iter()
            .map(|o| (o.path.as_str(), o.step))
            .collect();
        assert_eq!(outputs, [("static", 1), ("__pycache__", 2)]);
        // Without build commands the plan is as before.
        let plain = Plan::new(
            &Spec::parse(
                "[app]\nbase = \"python:3.11\"\n[install]\nwith = \"pip\"\nrequirements = [\"r.txt\"]\n",
                &crate::spec::BuildArgs::new(),
            )
            .unwrap(),
            &ContextInputs::default(),
        );
        let json = serde_json::to_value(&plain).unwrap();
        assert!(json["builder"].get("run").is_none() && json["app"].get("outputs").is_none());
    }

    #[test]
    fn targets() {
        assert_eq!(Target::parse(""), Some(Target::App));
        assert_eq!(Target::parse("builder"), Some(Target::Builder));
        assert_eq!(Target::parse("x"), None);
    }
}
