//! Installer specifics: turn the spec's `[install]` and `[[index]]` tables
//! into the plan's builder steps. Installers never build LLB.
//!
//! Every step runs the same helper program, `helper/install.py` and the
//! modules it imports (`HELPER_MODULES`), with a JSON config
//! (`install.json`, defined in `config`) and the shared masking rules
//! (`redact_rules.json`) next to it. The config holds index URLs,
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

/// `(file name, contents)` of each named file of `helper/`.
macro_rules! helper_modules {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("helper/", $name)))),*]
    };
}

/// The install helper as mounted at [`HELPER_MOUNT`]: its entry point,
/// then every module it imports, directly or not (`helper_modules_are_complete`
/// checks the list against their imports). A fixed order, so the step's
/// bytes are the same on every build.
const HELPER_MODULES: &[(&str, &str)] = helper_modules![
    "install.py",
    "install_config.py",
    "install_credentials.py",
    "install_failure.py",
    "install_modes.py",
    "install_process.py",
    "pyfront_config.py",
    "pyfront_redact.py",
    "pyfront_secrets.py",
];
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
    let mut helper_files: Vec<HelperFile> = HELPER_MODULES
        .iter()
        .map(|(name, source)| HelperFile {
            name: (*name).to_owned(),
            contents: source.as_bytes().to_vec(),
        })
        .collect();
    helper_files.extend([
        HelperFile {
            name: CONFIG_NAME.to_owned(),
            contents: config.to_json(),
        },
        HelperFile {
            name: REDACT_RULES_NAME.to_owned(),
            contents: REDACT_RULES.as_bytes().to_vec(),
        },
    ]);
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::{HELPER_MODULES, PROGRAM_NAME};

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
        let mounted: BTreeSet<String> = HELPER_MODULES
            .iter()
            .map(|(name, _)| (*name).to_owned())
            .collect();
        assert_eq!(mounted.len(), HELPER_MODULES.len(), "a module listed twice");
        assert_eq!(HELPER_MODULES[0].0, PROGRAM_NAME);
        let mut reached = BTreeSet::from([PROGRAM_NAME.to_owned()]);
        let mut todo = vec![PROGRAM_NAME.to_owned()];
        while let Some(name) = todo.pop() {
            let Some((_, source)) = HELPER_MODULES.iter().find(|(n, _)| *n == name) else {
                panic!("`{name}` is imported but not in HELPER_MODULES");
            };
            for import in helper_imports(source) {
                if reached.insert(import.clone()) {
                    todo.push(import);
                }
            }
        }
        assert_eq!(
            reached, mounted,
            "HELPER_MODULES lists a module nothing imports"
        );
    }
}
