//! uv: the lock (`pyproject.toml` + `uv.lock`) installed hermetically.
//! `uv export --locked --offline` checks the lock is current and lists its
//! files with their URLs and hashes; pyfront's fetcher downloads them; `uv
//! pip install --offline --no-index` installs them from the wheelhouse.
//!
//! uv itself never sees a credential: only the fetcher does, and it sends
//! each index's credentials to that index's origin only. Each spec
//! `[[index]]` must still have the name of a `[[tool.uv.index]]`, so that
//! the lock's files are fetched with the right index's credentials.

use super::{hermetic_install, LockInstaller};
use crate::plan::{ContextInputs, HermeticInstall, TOOLS_VENV};
use crate::spec::Spec;

/// The select step's hint in a workspace: there, "the lock file needs to
/// be updated" usually means the export saw another workspace than the one
/// locked (a member's `pyproject.toml` excluded from the context), so
/// re-locking alone would not help.
const WORKSPACE_HINT: &str = "in a uv workspace, check that every member's `pyproject.toml` is in the build context \
(not excluded by `.dockerignore`) and that `package` names a member; if uv says the lock file needs to be \
updated after that, run `uv lock` at the workspace root and commit `uv.lock`";

pub(super) fn install(spec: &Spec, context: &ContextInputs) -> HermeticInstall {
    let workspace = context.uv_workspace || spec.install.package.is_some();
    let local_packages = workspace || context.local_packages;
    let select_title = match &spec.install.package {
        Some(package) => format!(
            "uv export --locked --package {package} ({}): plan the files to fetch (no network, no secrets)",
            spec.install.groups.join(", ")
        ),
        None => format!(
            "uv export --locked ({}): plan the files to fetch (no network, no secrets)",
            spec.install.groups.join(", ")
        ),
    };
    hermetic_install(
        spec,
        &LockInstaller {
            lock: "uv",
            uv: Some(format!("{TOOLS_VENV}/bin/uv")),
            select_title,
            hint: if workspace {
                WORKSPACE_HINT
            } else {
                "if uv says the lock file needs to be updated, run `uv lock` and commit `uv.lock`"
            },
            local_packages,
        },
    )
}
