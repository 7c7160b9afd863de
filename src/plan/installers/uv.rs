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
use crate::plan::{HermeticInstall, TOOLS_VENV};
use crate::spec::Spec;

pub(super) fn install(spec: &Spec) -> HermeticInstall {
    hermetic_install(
        spec,
        &LockInstaller {
            lock: "uv",
            uv: Some(format!("{TOOLS_VENV}/bin/uv")),
            select_title: format!(
                "uv export --locked ({}): plan the files to fetch (no network, no secrets)",
                spec.install.groups.join(", ")
            ),
            hint:
                "if uv says the lock file needs to be updated, run `uv lock` and commit `uv.lock`",
        },
    )
}
