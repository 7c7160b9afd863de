//! Installer specifics: turn the spec's `[install]` and `[[index]]` tables
//! into the plan's builder steps. Installers never build LLB.
//!
//! Every step runs the same helper program, `install.py`, with a JSON
//! config. The config holds index URLs, plain usernames and secret *ids*;
//! the program reads the secret values from `/run/secrets/<id>` at run time.
//! Spec values travel as JSON data, so no value is ever interpreted by a
//! shell.

mod pip;
mod poetry;
mod project;
mod uv;

pub use project::{check_project, matches_pattern};

use serde::Serialize;

use super::{
    BuilderStage, CacheDir, HelperFile, InstallStep, CONTEXT_MOUNT, HELPER_MOUNT, TOOLS_VENV, VENV,
};
use crate::spec::{Index, Installer, SecretId, SecretRole, Spec, Username};

const PROGRAM: &str = include_str!("install.py");
const PROGRAM_NAME: &str = "install.py";
const CONFIG_NAME: &str = "install.json";

/// The builder stage for the spec's installer: the tool provisioning step
/// (Poetry and uv; it does not depend on the app's lock file), the
/// dependency install, and (`project = true`) the project itself.
pub fn builder_stage(spec: &Spec) -> BuilderStage {
    let project = spec.install.project.then(|| project_step(spec));
    let (tools, install, project) = match spec.install.with {
        Installer::Pip => (None, pip::install_step(spec), None),
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
    let config = HelperConfig {
        mode: "pip",
        venv: VENV,
        project: Some(CONTEXT_MOUNT),
        indexes: index_configs(&spec.indexes),
        ..HelperConfig::default()
    };
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

/// The helper's config. Struct fields serialize in declaration order, so
/// the bytes (and the step's cache key) are stable.
#[derive(Serialize, Default)]
struct HelperConfig<'a> {
    mode: &'static str,
    venv: &'static str,
    create_venv: bool,
    tool: Option<String>,
    cwd: Option<&'static str>,
    cache_dir: Option<&'static str>,
    /// pip: a project directory to install with `--no-deps`.
    project: Option<&'static str>,
    requirements: Vec<String>,
    groups: &'a [String],
    extras: &'a [String],
    indexes: Vec<IndexConfig<'a>>,
    hints: Vec<String>,
}

#[derive(Serialize)]
struct IndexConfig<'a> {
    name: &'a str,
    url: &'a str,
    username: Option<&'a str>,
    username_secret: Option<&'a str>,
    password_secret: Option<&'a str>,
    default: bool,
}

fn index_configs(indexes: &[Index]) -> Vec<IndexConfig<'_>> {
    indexes
        .iter()
        .map(|i| IndexConfig {
            name: i.name.as_str(),
            url: i.url.as_str(),
            username: match &i.username {
                Some(Username::Plain(u)) => Some(u),
                _ => None,
            },
            username_secret: i.secret(SecretRole::Username).map(SecretId::as_str),
            password_secret: i.secret(SecretRole::Password).map(SecretId::as_str),
            default: i.default,
        })
        .collect()
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
            contents: serde_json::to_vec_pretty(config).unwrap_or_default(),
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
    /// The helper's mode, also the tool's executable name.
    mode: &'static str,
    cache_dir: &'static str,
    cache_id: &'static str,
    title: String,
    /// Printed when the installer fails (usually a stale lock).
    hint: &'static str,
}

/// The install step of a lock-file installer: the tool from the tools venv,
/// `pyproject.toml` and the lock as its only context inputs, its own cache.
fn lock_install_step(spec: &Spec, installer: &LockInstaller) -> InstallStep {
    let install = &spec.install;
    let config = HelperConfig {
        mode: installer.mode,
        venv: VENV,
        tool: Some(format!("{TOOLS_VENV}/bin/{}", installer.mode)),
        cwd: Some(CONTEXT_MOUNT),
        cache_dir: Some(installer.cache_dir),
        groups: &install.groups,
        extras: &install.extras,
        indexes: index_configs(&spec.indexes),
        hints: vec![installer.hint.to_owned()],
        ..HelperConfig::default()
    };
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
    let config = HelperConfig {
        mode: "pip",
        venv: TOOLS_VENV,
        create_venv: true,
        requirements: vec![format!("{HELPER_MOUNT}/tools.txt")],
        indexes: index_configs(&spec.indexes),
        ..HelperConfig::default()
    };
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
