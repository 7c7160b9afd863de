//! uv: `uv sync --locked` of `pyproject.toml` + `uv.lock` into the venv.
//!
//! Credentials go in as `UV_INDEX_<NAME>_USERNAME/PASSWORD`, so each spec
//! `[[index]]` must have the name of a `[[tool.uv.index]]`. uv sends them on
//! the first request to that index, so GitLab answers with the private
//! package instead of forwarding an anonymous request to PyPI.

use super::{lock_install_step, LockInstaller, Mode};
use crate::plan::InstallStep;
use crate::spec::Spec;

pub(super) fn install_step(spec: &Spec) -> InstallStep {
    lock_install_step(
        spec,
        &LockInstaller {
            tool: "uv",
            cache_dir: "/root/.cache/uv",
            cache_id: "pyfront-uv-cache",
            title: format!("uv sync --locked ({})", spec.install.groups.join(", ")),
            hint:
                "if uv says the lock file needs to be updated, run `uv lock` and commit `uv.lock`",
        },
        Mode::UvSync,
    )
}
