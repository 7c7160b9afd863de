//! Poetry: `poetry install --no-root` of `pyproject.toml` + `poetry.lock`
//! into the venv (Poetry checks the lock's hashes).
//!
//! Credentials go in as `POETRY_HTTP_BASIC_<SOURCE>_USERNAME/PASSWORD`, so
//! each spec `[[index]]` must have the name of a `[[tool.poetry.source]]`.
//! Nothing is written with `poetry config`: no `auth.toml`, no keyring.

use super::{helper_step, index_configs, HelperConfig};
use crate::plan::{CacheDir, InstallStep, CONTEXT_MOUNT, TOOLS_VENV, VENV};
use crate::spec::Spec;

const CACHE: &str = "/root/.cache/pypoetry";

pub(super) fn install_step(spec: &Spec) -> InstallStep {
    let install = &spec.install;
    let config = HelperConfig {
        mode: "poetry",
        venv: VENV,
        tool: Some(format!("{TOOLS_VENV}/bin/poetry")),
        cwd: Some(CONTEXT_MOUNT),
        cache_dir: Some(CACHE),
        groups: &install.groups,
        extras: &install.extras,
        indexes: index_configs(&spec.indexes),
        hints: vec![
            "if Poetry says `pyproject.toml` changed significantly since `poetry.lock` was generated, run `poetry lock` and commit `poetry.lock`".to_owned(),
        ],
        ..HelperConfig::default()
    };
    let files = install
        .inputs
        .iter()
        .map(|f| f.value.as_str().to_owned())
        .collect();
    helper_step(
        spec,
        format!("poetry install --only {}", install.groups.join(",")),
        &config,
        files,
        Vec::new(),
        vec![CacheDir {
            id: "pyfront-poetry-cache".to_owned(),
            path: CACHE.to_owned(),
        }],
    )
}
