//! Installer specifics: turn the spec's `[install]` and `[[index]]` tables
//! into the plan's builder steps. Installers never build LLB.
//!
//! Every step runs one of pyfront's helper programs (`helper/`): the entry
//! point and the modules it imports ([`Program`]), a JSON config, and the
//! shared masking rules (`redact_rules.json`) next to them. Configs hold
//! index URLs, plain usernames and secret *ids*; a program that needs a
//! secret reads its value from `/run/secrets/<id>` at run time. Spec values
//! travel as JSON data, so no value is ever interpreted by a shell.
//!
//! A lock (uv, Poetry) installs hermetically ([`Install::Hermetic`]):
//! `lockselect.py` plans the files offline, `fetch.py` downloads them with
//! the credentials, and `install.py` installs them with neither credentials
//! nor network. pip requirement files: `pip download` (wheels only) with the
//! credentials, then its pinned resolution installed offline (`pip.rs`),
//! unless the spec sets `build-code-sees-index-login` (one step with the
//! credentials).

mod config;
mod pip;
pub mod pip_local;
mod poetry;
mod project;
mod requirements;
mod uv;

pub use project::{check_project, matches_pattern};
pub use requirements::{
    collect, requirement_lines, Collector, FileRole, LocalRequirement, Location, RequirementFile,
    RequirementSet, RequirementsError, RequirementsErrorKind, MAX_DEPTH, MAX_FILES,
};

use config::{HelperConfig, Mode, Select, SelectConfig};

use super::{
    BuilderStage, CacheDir, ContextInputs, Earlier, HelperFile, HermeticInstall, Install,
    InstallStep, CONTEXT_MOUNT, HELPER_MOUNT, MEMBERS_DIR, MEMBERS_MOUNT, PLAN_DIR, PLAN_MOUNT,
    TOOLS_VENV, VENV, WHEELHOUSE_DIR, WHEELHOUSE_MOUNT,
};
use crate::spec::{Installer, Spec};

/// `(file name, contents)` of each named file of `helper/`.
macro_rules! helper_modules {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("helper/", $name)))),*]
    };
}

/// A helper program as mounted at [`HELPER_MOUNT`]: its entry point, then
/// every module it imports, directly or not (`helper_modules_are_complete`
/// checks the lists against their imports), in a fixed order so the
/// step's bytes are the same on every build.
struct Program {
    modules: &'static [(&'static str, &'static str)],
}

impl Program {
    fn entry(&self) -> &'static str {
        self.modules[0].0
    }
}

/// Installs: the steps that run an installer (pip, uv).
const INSTALL: Program = Program {
    modules: helper_modules![
        "install.py",
        "install_compile.py",
        "install_config.py",
        "install_credentials.py",
        "install_failure.py",
        "install_local.py",
        "install_modes.py",
        "install_process.py",
        "install_wheelhouse.py",
        "install_wheels.py",
        "pyfront_config.py",
        "pyfront_files.py",
        "pyfront_hints.py",
        "pyfront_names.py",
        "pyfront_pipenv.py",
        "pyfront_redact.py",
        "pyfront_secrets.py",
    ],
};

/// Reads a lock offline and plans what to fetch and install.
const LOCKSELECT: Program = Program {
    modules: helper_modules![
        "lockselect.py",
        "fetch_config.py",
        "fetch_errors.py",
        "install_failure.py",
        "lockselect_config.py",
        "lockselect_members.py",
        "lockselect_plan.py",
        "lockselect_poetry.py",
        "lockselect_poetry_hash.py",
        "lockselect_uv.py",
        "pyfront_config.py",
        "pyfront_redact.py",
        "pyfront_secrets.py",
        "pyfront_toml.py",
        "pyfront_wheels.py",
    ],
};

/// Downloads the planned files with the index credentials.
const FETCH: Program = Program {
    modules: helper_modules![
        "fetch.py",
        "fetch_build.py",
        "fetch_config.py",
        "fetch_download.py",
        "fetch_errors.py",
        "fetch_http.py",
        "fetch_index.py",
        "fetch_pool.py",
        "pyfront_config.py",
        "pyfront_files.py",
        "pyfront_hints.py",
        "pyfront_names.py",
        "pyfront_pipenv.py",
        "pyfront_redact.py",
        "pyfront_secrets.py",
        "pyfront_toml.py",
    ],
};

/// Provisions a pinned tool (uv) with the index credentials: pyfront's own
/// fetch and wheel install, or pip (install.py) where those cannot.
const PROVISION: Program = Program {
    modules: helper_modules![
        "provision.py",
        "fetch_config.py",
        "fetch_download.py",
        "fetch_errors.py",
        "fetch_http.py",
        "fetch_index.py",
        "fetch_pool.py",
        "install.py",
        "install_compile.py",
        "install_config.py",
        "install_credentials.py",
        "install_failure.py",
        "install_local.py",
        "install_modes.py",
        "install_process.py",
        "install_wheelhouse.py",
        "install_wheels.py",
        "pyfront_config.py",
        "pyfront_files.py",
        "pyfront_hints.py",
        "pyfront_names.py",
        "pyfront_pipenv.py",
        "pyfront_redact.py",
        "pyfront_secrets.py",
        "pyfront_wheels.py",
    ],
};

#[cfg(test)]
const PROGRAMS: [&Program; 4] = [&INSTALL, &LOCKSELECT, &FETCH, &PROVISION];

/// The masking policy pyfront's Rust code shares; every program reads its
/// `mask` from next to itself.
const REDACT_RULES: &str = include_str!("../../redact_rules.json");
const REDACT_RULES_NAME: &str = "redact_rules.json";
/// Where the fetch step keeps downloaded files between builds (a cache
/// mount), by content digest: it never holds a credential.
const FETCH_CACHE_DIR: &str = "/root/.cache/pyfront-fetch";

/// The builder stage for the spec's installer.
pub fn builder_stage(spec: &Spec, context: &ContextInputs) -> BuilderStage {
    let (tools, install, project) = match spec.install.with {
        Installer::Pip => (None, pip::install(spec, context), None),
        Installer::Poetry => (
            None,
            Install::Hermetic(poetry::install(spec, context)),
            spec.install.project.then(|| project_step(spec)),
        ),
        Installer::Uv => (
            Some(tools_step(spec, "uv")),
            Install::Hermetic(uv::install(spec, context)),
            spec.install.project.then(|| project_step(spec)),
        ),
    };
    BuilderStage {
        base: spec.build.base.clone(),
        system_packages: spec.build.system_packages.clone(),
        tools,
        install,
        project,
        run: super::run_steps(spec),
    }
}

/// Who a step lets in: the secrets and the network, or neither.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// The spec's secrets are mounted, the build's network is on.
    Credentials,
    /// No secret, network mode none.
    Sealed,
}

/// `project = true`: the builder's pip installs the project (non-editable,
/// without dependencies: the lock's are already in the venv) from a
/// writable copy of the context. Its build backend comes from the
/// wheelhouse (the select step planned it), so the project's own build code
/// runs with no credential and no network.
fn project_step(spec: &Spec) -> InstallStep {
    let config = HelperConfig::new(
        Mode::PipProject {
            venv: VENV,
            project: CONTEXT_MOUNT,
            find_links: Some(WHEELHOUSE_MOUNT),
        },
        &[],
    );
    let mut step = helper_step(
        spec,
        "pip install --no-deps . (the project, no network, no secrets)".to_owned(),
        &INSTALL,
        config.to_json(),
        Vec::new(),
        Access::Sealed,
    );
    step.whole_context = true;
    step.sees = vec![Earlier::Wheelhouse];
    step
}

/// A step that runs `program` with `config` (its file name is the
/// program's, with `.json`) and `access`.
fn helper_step(
    spec: &Spec,
    title: String,
    program: &Program,
    config: Vec<u8>,
    context_files: Vec<String>,
    access: Access,
) -> InstallStep {
    let mut title = title;
    let secrets = match access {
        Access::Credentials => spec.secret_ids(),
        Access::Sealed => Vec::new(),
    };
    if !secrets.is_empty() {
        let ids: Vec<&str> = secrets.iter().map(|s| s.as_str()).collect();
        title.push_str(&format!(" (secrets: {})", ids.join(", ")));
    }
    let entry = program.entry();
    let config_name = format!("{}.json", entry.trim_end_matches(".py"));
    let mut helper_files: Vec<HelperFile> = program
        .modules
        .iter()
        .map(|(name, source)| HelperFile {
            name: (*name).to_owned(),
            contents: source.as_bytes().to_vec(),
        })
        .collect();
    helper_files.push(HelperFile {
        name: REDACT_RULES_NAME.to_owned(),
        contents: REDACT_RULES.as_bytes().to_vec(),
    });
    if !config.is_empty() {
        helper_files.push(HelperFile {
            name: config_name.clone(),
            contents: config,
        });
    }
    InstallStep {
        title,
        context_files,
        whole_context: false,
        local_dirs: Vec::new(),
        helper_files,
        args: vec![
            "python3".to_owned(),
            format!("{HELPER_MOUNT}/{entry}"),
            format!("{HELPER_MOUNT}/{config_name}"),
        ],
        env: Vec::new(),
        secrets,
        network: access == Access::Credentials,
        sees: Vec::new(),
        caches: Vec::new(),
        locations: std::iter::once(spec.install.with_span.clone())
            .chain(spec.indexes.iter().map(|i| i.span.clone()))
            .collect(),
    }
}

/// What differs between the lock-file installers (uv, Poetry).
struct LockInstaller {
    /// Whose lock the select step reads: `uv` or `poetry`.
    lock: &'static str,
    /// uv's executable in the tools venv; `None`: pyfront reads the lock
    /// and the builder's pip installs it.
    uv: Option<String>,
    /// The select step's title.
    select_title: String,
    /// Printed when the select step fails (usually a stale lock).
    hint: &'static str,
    /// uv: the context root is a workspace, or the spec names a member
    /// (`package`); uv and Poetry: the lock has path packages. The select
    /// step then sees the whole context and copies the local packages the
    /// install needs into [`MEMBERS_DIR`]; its outputs are keyed by
    /// content, so an app-only change still leaves the fetch and the
    /// install cached.
    local_packages: bool,
}

/// The hermetic install of a lock: select (the lock and `pyproject.toml`
/// as its only context inputs) → fetch → install.
fn hermetic_install(spec: &Spec, installer: &LockInstaller) -> HermeticInstall {
    let install = &spec.install;
    let files = install
        .inputs
        .iter()
        .map(|f| f.value.as_str().to_owned())
        .collect();
    let select = SelectConfig::new(
        Select {
            mode: installer.lock,
            tool: installer.uv.clone(),
            cwd: CONTEXT_MOUNT,
            groups: &install.groups,
            extras: &install.extras,
            project: install.project,
            package: install.package.as_deref(),
            out: PLAN_DIR,
            members: installer.local_packages.then_some(MEMBERS_DIR),
            wheelhouse: WHEELHOUSE_DIR,
            fetch_cache_dir: FETCH_CACHE_DIR,
            hints: vec![installer.hint.to_owned()],
        },
        &spec.indexes,
    );
    let mut select = helper_step(
        spec,
        installer.select_title.clone(),
        &LOCKSELECT,
        select.to_json(),
        files,
        Access::Sealed,
    );
    if installer.local_packages {
        select.context_files = Vec::new();
        select.whole_context = true;
    }

    // The fetch step's config is the select step's output, so it is keyed
    // by what was planned: a token rotation or a rebuilt builder that plans
    // the same files leaves it cached.
    let mut fetch = helper_step(
        spec,
        "fetch the planned files".to_owned(),
        &FETCH,
        Vec::new(),
        Vec::new(),
        Access::Credentials,
    );
    fetch.args = vec![
        "python3".to_owned(),
        "-I".to_owned(),
        format!("{HELPER_MOUNT}/{}", FETCH.entry()),
        format!("{PLAN_MOUNT}/fetch.json"),
    ];
    fetch.sees = vec![Earlier::Plan];
    fetch.caches = vec![CacheDir {
        id: "pyfront-fetch-cache".to_owned(),
        path: FETCH_CACHE_DIR.to_owned(),
    }];

    let (name, tool) = match &installer.uv {
        Some(uv) => ("uv", Some(uv.clone())),
        None => ("pip", None),
    };
    let config = HelperConfig::new(
        Mode::WheelhouseInstall {
            venv: VENV,
            installer: name,
            tool,
            wheelhouse: WHEELHOUSE_MOUNT,
            requirements: format!("{PLAN_MOUNT}/requirements.txt"),
            members: installer.local_packages.then_some(MEMBERS_MOUNT),
            hints: Vec::new(),
        },
        &[],
    );
    let mut install = helper_step(
        spec,
        format!("{name} install from the wheelhouse (no network, no secrets)"),
        &INSTALL,
        config.to_json(),
        Vec::new(),
        Access::Sealed,
    );
    install.sees = vec![Earlier::Plan, Earlier::Wheelhouse];
    if installer.local_packages {
        install.sees.push(Earlier::Members);
    }
    HermeticInstall {
        select: Some(select),
        fetch,
        install,
    }
}

/// Installs `tool==version` into its own venv, which the app stage never
/// copies: pyfront's fetcher takes the tool's wheel from the indexes and
/// pyfront's wheel installer unpacks it (provision.py; pip where that
/// cannot). Its inputs are the builder, the version and the indexes: not
/// the app's lock, so a lock change reuses it. Wheels only: no code of the
/// tool's package runs while the credentials are mounted.
fn tools_step(spec: &Spec, tool: &str) -> InstallStep {
    let version = spec.install.tool_version.as_deref().unwrap_or_default();
    let requirement = format!("{tool}=={version}");
    let config = HelperConfig::new(
        Mode::ToolProvision {
            venv: TOOLS_VENV,
            requirements: vec![format!("{HELPER_MOUNT}/tools.txt")],
        },
        &spec.indexes,
    );
    let mut step = helper_step(
        spec,
        format!("provision {requirement} in {TOOLS_VENV}"),
        &PROVISION,
        config.to_json(),
        Vec::new(),
        Access::Credentials,
    );
    step.helper_files.push(HelperFile {
        name: "tools.txt".to_owned(),
        contents: format!("{requirement}\n").into_bytes(),
    });
    step.caches = vec![pip_cache()];
    step
}

fn pip_cache() -> CacheDir {
    CacheDir {
        id: "pyfront-pip-cache".to_owned(),
        path: "/root/.cache/pip".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::PROGRAMS;

    /// The helper modules a module's source imports: `import x` and
    /// `from x import ...` lines naming a file of `helper/`.
    fn helper_imports(source: &str) -> BTreeSet<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/plan/installers/helper");
        source
            .lines()
            .filter_map(|line| {
                let rest = line
                    .strip_prefix("from ")
                    .or_else(|| line.strip_prefix("import "))?;
                let module = rest.split([' ', ',', '.']).next()?;
                let file = format!("{module}.py");
                dir.join(&file).is_file().then_some(file)
            })
            .collect()
    }

    /// A module missing from the mount fails only in a build; one mounted
    /// for nothing changes every step's cache key for nothing.
    #[test]
    fn helper_modules_are_complete() {
        for program in PROGRAMS {
            let modules = program.modules;
            let entry = program.entry();
            let mounted: BTreeSet<String> =
                modules.iter().map(|(name, _)| (*name).to_owned()).collect();
            assert_eq!(mounted.len(), modules.len(), "a module listed twice");
            let mut reached = BTreeSet::from([entry.to_owned()]);
            let mut todo = vec![entry.to_owned()];
            while let Some(name) = todo.pop() {
                let Some((_, source)) = modules.iter().find(|(n, _)| *n == name) else {
                    panic!("`{name}` is imported by {entry} but not in its module list");
                };
                for import in helper_imports(source) {
                    if reached.insert(import.clone()) {
                        todo.push(import);
                    }
                }
            }
            assert_eq!(
                reached, mounted,
                "{entry}'s module list has a module nothing imports"
            );
        }
    }
}
