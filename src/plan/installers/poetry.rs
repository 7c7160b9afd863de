//! Poetry: `poetry install --no-root` of `pyproject.toml` + `poetry.lock`
//! into the venv (Poetry checks the lock's hashes).
//!
//! Credentials go in as `POETRY_HTTP_BASIC_<SOURCE>_USERNAME/PASSWORD`, so
//! each spec `[[index]]` must have the name of a `[[tool.poetry.source]]`.
//! Nothing is written with `poetry config`: no `auth.toml`, no keyring.

use super::{lock_install_step, LockInstaller, Mode};
use crate::plan::InstallStep;
use crate::spec::Spec;

pub(super) fn install_step(spec: &Spec) -> InstallStep {
    lock_install_step(
        spec,
        &LockInstaller {
            tool: "poetry",
            cache_dir: "/root/.cache/pypoetry",
            cache_id: "pyfront-poetry-cache",
            title: format!("poetry install --only {}", spec.install.groups.join(",")),
            hint: "if Poetry says `pyproject.toml` changed significantly since `poetry.lock` was generated, run `poetry lock` and commit `poetry.lock`",
        },
        Mode::PoetryInstall,
    )
}
