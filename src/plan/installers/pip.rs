//! pip: the spec's requirement files (and every file their `-r` / `-c`
//! reach) installed into the venv.
//!
//! Without local path requirements the install is hermetic: the fetch step
//! runs the builder's pip as a wheels-only resolver (`pip download
//! --only-binary=:all:`) with the credentials, so no package's code runs
//! there, and writes what it downloaded as pinned, hashed requirements
//! (`requirements.txt` next to the wheelhouse's manifest). The install step
//! installs exactly those (`--no-deps --require-hashes`) from that
//! wheelhouse alone, with no network and no secret: it takes the fetch
//! step's resolution instead of resolving again, and reads no context
//! file (it mounts the requirement files only so that they key it). A
//! requirement with no wheel fails the fetch with a hint to lock it.
//!
//! A local path requirement (`./libs/sdk`, `.`) whose `pyproject.toml`
//! declares its dependencies statically (`pip_local`) installs
//! hermetically too: the helpers read copies of the requirement files with
//! the local lines blanked, the fetch step also downloads the local
//! packages' dependencies (and, resolved apart, their build backends), and
//! the install step (which resolves the blanked files again against the
//! wheelhouse, as the backends are in it too) builds each local package offline, `--no-deps`, from a
//! copy of its own directory, mounted alone (minus `.dockerignore`): a
//! change there re-runs the install, an app-only change does not (unless
//! the package is the context root, `.`).
//!
//! Any other local path requirement, or a URL or VCS one, needs its build
//! backend to learn its dependencies, which pip would run in the fetch
//! step, next to the credentials (`--only-binary` does not apply to them).
//! The conversion refuses such a set unless the spec opts out with
//! `build-code-sees-index-login = true`; then it installs in one step, as
//! before the hermetic install.

use super::config::LocalConfig;
use super::pip_local::StaticLocal;
use super::{helper_step, pip_cache, Access, HelperConfig, Mode, INSTALL};
use crate::plan::{
    ContextInputs, Earlier, HelperFile, HermeticInstall, Install, InstallStep, CONTEXT_MOUNT,
    HELPER_MOUNT, LOCAL_MOUNT, VENV, WHEELHOUSE_DIR, WHEELHOUSE_MOUNT,
};
use crate::spec::Spec;

/// The fetch step's pinned resolution, in the wheelhouse
/// (`install_wheelhouse.py`'s `PINNED`).
const PINNED: &str = "requirements.txt";

/// Printed when the wheels-only fetch fails.
const NO_WHEEL_HINT: &str = "pyfront resolves pip requirement files wheels only, so that no package's build code runs where the index token can be read: a requirement that exists only as an sdist cannot be fetched; lock the project with uv or Poetry (their sdists build offline, without the token), or publish a wheel of it to the index";

pub(super) fn install(spec: &Spec, context: &ContextInputs) -> Install {
    let files: Vec<String> = spec
        .install
        .inputs
        .iter()
        .map(|r| r.value.as_str().to_owned())
        .collect();
    // Every file reached is mounted at its context path, so the includes
    // resolve and each one keys the steps.
    let mounted = if context.requirement_files.is_empty() {
        files.clone()
    } else {
        context.requirement_files.clone()
    };
    let mut requirements: Vec<String> = files
        .iter()
        .map(|f| format!("{CONTEXT_MOUNT}/{f}"))
        .collect();
    let title = format!("pip install -r {}", files.join(" -r "));
    if context.local_requirements || context.remote_requirements {
        return Install::Direct(direct_step(spec, title, requirements));
    }

    let local = context.local_static.as_ref();
    let mut local_files = Vec::new();
    if let Some(local) = local {
        local_files.push(HelperFile {
            name: LOCAL_DEPENDENCIES.to_owned(),
            contents: lines(&local.dependencies),
        });
        requirements.push(format!("{HELPER_MOUNT}/{LOCAL_DEPENDENCIES}"));
    }
    let config = HelperConfig::new(
        Mode::PipDownload {
            cwd: CONTEXT_MOUNT,
            requirements: requirements.clone(),
            wheelhouse: WHEELHOUSE_DIR,
            hints: vec![NO_WHEEL_HINT.to_owned()],
            local: local.map(|l| LocalConfig {
                build_requirements: vec![format!("{HELPER_MOUNT}/{LOCAL_BUILD_REQUIRES}")],
                ..local_config(l, &mounted)
            }),
        },
        &spec.indexes,
    );
    let mut fetch = helper_step(
        spec,
        format!("pip download --only-binary=:all: -r {}", files.join(" -r ")),
        &INSTALL,
        config.to_json(),
        mounted.clone(),
        Access::Credentials,
    );
    fetch.caches = vec![pip_cache()];
    if let Some(local) = local {
        fetch.helper_files.extend(local_files.iter().cloned());
        fetch.helper_files.push(HelperFile {
            name: LOCAL_BUILD_REQUIRES.to_owned(),
            contents: lines(&local.build_requires),
        });
    }

    // Without local packages the install step takes the fetch step's
    // pinned resolution and reads no context file; with them, the
    // wheelhouse also holds their build backends, so it resolves the
    // (blanked) requirement files again and then builds the packages.
    // Either way it mounts the requirement files (`mounted`): without local
    // packages they are never read, but they key the step by this spec's
    // requirement files, as the fetch step is, so that a build of another
    // spec whose wheelhouse happens to hold the same wheels does not share
    // (and fork) this step's cache records.
    let config = match local {
        None => HelperConfig::new(
            Mode::WheelhouseInstall {
                venv: VENV,
                installer: "pip",
                tool: None,
                wheelhouse: WHEELHOUSE_MOUNT,
                requirements: format!("{WHEELHOUSE_MOUNT}/{PINNED}"),
                members: None,
                hints: Vec::new(),
            },
            &[],
        ),
        Some(l) => HelperConfig::new(
            Mode::WheelhouseRequirements {
                venv: VENV,
                cwd: CONTEXT_MOUNT,
                requirements,
                wheelhouse: WHEELHOUSE_MOUNT,
                hints: Vec::new(),
                local: Some(LocalConfig {
                    packages: l.packages.iter().map(|p| local_mount(p)).collect(),
                    ..local_config(l, &mounted)
                }),
            },
            &[],
        ),
    };
    let title = match local {
        Some(l) => format!(
            "{title} from the wheelhouse, then pip install --no-deps {} (no network, no secrets)",
            l.packages.join(" ")
        ),
        None => format!("{title} from the wheelhouse (no network, no secrets)"),
    };
    let mut install = helper_step(
        spec,
        title,
        &INSTALL,
        config.to_json(),
        mounted,
        Access::Sealed,
    );
    install.sees = vec![Earlier::Wheelhouse];
    if let Some(local) = local {
        install.helper_files.extend(local_files);
        install.local_dirs = local.packages.clone();
    }
    Install::Hermetic(HermeticInstall {
        select: None,
        fetch,
        install,
    })
}

/// The local packages' dependencies, as a requirement file of the fetch
/// and install steps.
const LOCAL_DEPENDENCIES: &str = "local-dependencies.txt";
/// Their build backends: the fetch step downloads them, resolved apart
/// from the app's requirements; the install step's pip takes them from the
/// wheelhouse when it builds the packages.
const LOCAL_BUILD_REQUIRES: &str = "local-build-requires.txt";

fn lines(items: &[String]) -> Vec<u8> {
    items
        .iter()
        .map(|i| format!("{i}\n"))
        .collect::<String>()
        .into_bytes()
}

/// A local package's directory as the install step sees it.
fn local_mount(path: &str) -> String {
    match path {
        "." => LOCAL_MOUNT.to_owned(),
        p => format!("{LOCAL_MOUNT}/{p}"),
    }
}

fn local_config(local: &StaticLocal, files: &[String]) -> LocalConfig {
    LocalConfig {
        files: files.to_vec(),
        drop: local.drop.clone(),
        build_requirements: Vec::new(),
        packages: Vec::new(),
    }
}

/// Today's one step: pip installs with the credentials in its environment.
/// The step sees the whole context (minus `.dockerignore`), so an app
/// change re-runs it.
fn direct_step(spec: &Spec, title: String, requirements: Vec<String>) -> InstallStep {
    let config = HelperConfig::new(
        Mode::PipRequirements {
            venv: VENV,
            cwd: CONTEXT_MOUNT,
            requirements,
        },
        &spec.indexes,
    );
    let mut step = helper_step(
        spec,
        title,
        &INSTALL,
        config.to_json(),
        Vec::new(),
        Access::Credentials,
    );
    step.caches = vec![pip_cache()];
    step.whole_context = true;
    step
}
