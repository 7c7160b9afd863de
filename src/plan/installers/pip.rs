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
//! step's resolution instead of resolving again, and needs no context
//! file. A requirement with no wheel fails the fetch with a hint to lock
//! it.
//!
//! A local path requirement (`./libs/sdk`, `.`) or a URL or VCS one needs
//! its build backend to learn its dependencies, which pip would run in the
//! fetch step, next to the credentials (`--only-binary` does not apply to
//! them). The conversion refuses such a set unless the spec opts out with
//! `build-code-sees-index-login = true`; then it installs in one step, as
//! before the hermetic install.

use super::{helper_step, pip_cache, Access, HelperConfig, Mode, INSTALL};
use crate::plan::{
    ContextInputs, Earlier, HermeticInstall, Install, InstallStep, CONTEXT_MOUNT, VENV,
    WHEELHOUSE_DIR, WHEELHOUSE_MOUNT,
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
    let requirements: Vec<String> = files
        .iter()
        .map(|f| format!("{CONTEXT_MOUNT}/{f}"))
        .collect();
    let title = format!("pip install -r {}", files.join(" -r "));
    if context.local_requirements || context.remote_requirements {
        return Install::Direct(direct_step(spec, title, requirements));
    }

    let config = HelperConfig::new(
        Mode::PipDownload {
            cwd: CONTEXT_MOUNT,
            requirements: requirements.clone(),
            wheelhouse: WHEELHOUSE_DIR,
            hints: vec![NO_WHEEL_HINT.to_owned()],
        },
        &spec.indexes,
    );
    let mut fetch = helper_step(
        spec,
        format!("pip download --only-binary=:all: -r {}", files.join(" -r ")),
        &INSTALL,
        config.to_json(),
        mounted,
        Access::Credentials,
    );
    fetch.caches = vec![pip_cache()];

    let config = HelperConfig::new(
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
    );
    let mut install = helper_step(
        spec,
        format!("{title} from the wheelhouse (no network, no secrets)"),
        &INSTALL,
        config.to_json(),
        Vec::new(),
        Access::Sealed,
    );
    install.sees = vec![Earlier::Wheelhouse];
    Install::Hermetic(HermeticInstall {
        select: None,
        fetch,
        install,
    })
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
