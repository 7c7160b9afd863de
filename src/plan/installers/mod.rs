//! Installer specifics: turn the spec's `[install]` and `[[index]]` tables
//! into the plan's builder steps. Installers never build LLB.
//!
//! Every step runs the same helper program, `install.py`, with a JSON
//! config (`install.json`, defined in `config`) and the shared masking
//! rules (`redact_rules.json`) next to it. The config holds index URLs,
//! plain usernames and secret *ids*; the program reads the secret values
//! from `/run/secrets/<id>` at run time. Spec values travel as JSON data,
//! so no value is ever interpreted by a shell.

mod config;
mod pip;
mod poetry;
mod project;
mod requirements;
mod uv;

pub use project::{check_project, matches_pattern};
pub use requirements::{
    collect, Collector, FileRole, LocalRequirement, Location, RequirementFile, RequirementSet,
    RequirementsError, RequirementsErrorKind, MAX_DEPTH, MAX_FILES,
};

use config::{HelperConfig, LockInstall, Mode};

use super::{
    BuilderStage, CacheDir, ContextInputs, HelperFile, InstallStep, CONTEXT_MOUNT, HELPER_MOUNT,
    TOOLS_VENV, VENV,
};
use crate::spec::{Installer, Spec};

const PROGRAM: &str = include_str!("helper/install.py");
const PROGRAM_NAME: &str = "install.py";
const CONFIG_NAME: &str = "install.json";
/// The masking policy pyfront's Rust code shares; the helper reads its
/// `mask` from next to itself.
const REDACT_RULES: &str = include_str!("../../redact_rules.json");
const REDACT_RULES_NAME: &str = "redact_rules.json";

/// The builder stage for the spec's installer: the tool provisioning step
/// (Poetry and uv; it does not depend on the app's lock file), the
/// dependency install, and (`project = true`) the project itself.
pub fn builder_stage(spec: &Spec, context: &ContextInputs) -> BuilderStage {
    let project = spec.install.project.then(|| project_step(spec));
    let (tools, install, project) = match spec.install.with {
        Installer::Pip => (None, pip::install_step(spec, context), None),
        Installer::Poetry => (
            Some(tools_step(spec, "poetry")),
            poetry::install_step(spec),
            project,
        ),
        Installer::Uv => (
            Some(tools_step(spec, "uv")),
            uv::install_step(spec),
            project,
        ),
    };
    BuilderStage {
        base: spec.build.base.clone(),
        system_packages: spec.build.system_packages.clone(),
        tools,
        install,
        project,
    }
}

/// `project = true`: the builder's pip installs the project (non-editable,
/// without dependencies: the lock's are already in the venv) from a
/// writable copy of the context. The build backend comes from the spec's
/// indexes, with their credentials.
fn project_step(spec: &Spec) -> InstallStep {
    let config = HelperConfig::new(
        Mode::PipProject {
            venv: VENV,
            project: CONTEXT_MOUNT,
        },
        &spec.indexes,
    );
    let mut step = helper_step(
        spec,
        "pip install --no-deps . (the project)".to_owned(),
        &config,
        Vec::new(),
        Vec::new(),
        vec![pip_cache()],
    );
    step.whole_context = true;
    step
}

/// A step that runs the helper with `config` (plus `extra_files`).
fn helper_step(
    spec: &Spec,
    title: String,
    config: &HelperConfig<'_>,
    context_files: Vec<String>,
    extra_files: Vec<HelperFile>,
    caches: Vec<CacheDir>,
) -> InstallStep {
    let mut title = title;
    let secret_ids = spec.secret_ids();
    if !secret_ids.is_empty() {
        let ids: Vec<&str> = secret_ids.iter().map(|s| s.as_str()).collect();
        title.push_str(&format!(" (secrets: {})", ids.join(", ")));
    }
    let mut helper_files = vec![
        HelperFile {
            name: PROGRAM_NAME.to_owned(),
            contents: PROGRAM.as_bytes().to_vec(),
        },
        HelperFile {
            name: CONFIG_NAME.to_owned(),
            contents: config.to_json(),
        },
        HelperFile {
            name: REDACT_RULES_NAME.to_owned(),
            contents: REDACT_RULES.as_bytes().to_vec(),
        },
    ];
    helper_files.extend(extra_files);
    InstallStep {
        title,
        context_files,
        whole_context: false,
        helper_files,
        args: vec![
            "python3".to_owned(),
            format!("{HELPER_MOUNT}/{PROGRAM_NAME}"),
            format!("{HELPER_MOUNT}/{CONFIG_NAME}"),
        ],
        env: Vec::new(),
        secrets: secret_ids,
        caches,
        locations: std::iter::once(spec.install.with_span.clone())
            .chain(spec.indexes.iter().map(|i| i.span.clone()))
            .collect(),
    }
}

/// What differs between the lock-file installers (uv, Poetry).
struct LockInstaller {
    /// The tool's executable name in the tools venv.
    tool: &'static str,
    cache_dir: &'static str,
    cache_id: &'static str,
    title: String,
    /// Printed when the installer fails (usually a stale lock).
    hint: &'static str,
}

/// The install step of a lock-file installer: the tool from the tools venv,
/// `pyproject.toml` and the lock as its only context inputs, its own cache.
/// `mode` is the installer's helper mode (`Mode::UvSync`, ...).
fn lock_install_step<'a>(
    spec: &'a Spec,
    installer: &LockInstaller,
    mode: fn(LockInstall<'a>) -> Mode<'a>,
) -> InstallStep {
    let install = &spec.install;
    let config = HelperConfig::new(
        mode(LockInstall {
            venv: VENV,
            tool: format!("{TOOLS_VENV}/bin/{}", installer.tool),
            cwd: CONTEXT_MOUNT,
            cache_dir: installer.cache_dir,
            groups: &install.groups,
            extras: &install.extras,
            hints: vec![installer.hint.to_owned()],
        }),
        &spec.indexes,
    );
    let files = install
        .inputs
        .iter()
        .map(|f| f.value.as_str().to_owned())
        .collect();
    helper_step(
        spec,
        installer.title.clone(),
        &config,
        files,
        Vec::new(),
        vec![CacheDir {
            id: installer.cache_id.to_owned(),
            path: installer.cache_dir.to_owned(),
        }],
    )
}

/// Installs `tool==version` with pip into its own venv, which the app stage
/// never copies. Its inputs are the builder, the version and the indexes:
/// not the app's lock, so a lock change reuses it.
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
    helper_step(
        spec,
        format!("provision {requirement} in {TOOLS_VENV}"),
        &config,
        Vec::new(),
        vec![HelperFile {
            name: "tools.txt".to_owned(),
            contents: format!("{requirement}\n").into_bytes(),
        }],
        vec![pip_cache()],
    )
}

fn pip_cache() -> CacheDir {
    CacheDir {
        id: "pyfront-pip-cache".to_owned(),
        path: "/root/.cache/pip".to_owned(),
    }
}
