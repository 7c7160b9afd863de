//! uv: `uv sync --locked` of `pyproject.toml` + `uv.lock` into the venv.
//!
//! Credentials go in as `UV_INDEX_<NAME>_USERNAME/PASSWORD`, so each spec
//! `[[index]]` must have the name of a `[[tool.uv.index]]`. uv sends them on
//! the first request to that index, so GitLab answers with the private
//! package instead of forwarding an anonymous request to PyPI.

use super::{helper_step, index_configs, HelperConfig};
use crate::plan::{CacheDir, InstallStep, CONTEXT_MOUNT, TOOLS_VENV, VENV};
use crate::spec::Spec;

const CACHE: &str = "/root/.cache/uv";

pub(super) fn install_step(spec: &Spec) -> InstallStep {
    let install = &spec.install;
    let config = HelperConfig {
        mode: "uv",
        venv: VENV,
        tool: Some(format!("{TOOLS_VENV}/bin/uv")),
        cwd: Some(CONTEXT_MOUNT),
        cache_dir: Some(CACHE),
        groups: &install.groups,
        extras: &install.extras,
        indexes: index_configs(&spec.indexes),
        hints: vec![
            "if uv says the lock file needs to be updated, run `uv lock` and commit `uv.lock`"
                .to_owned(),
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
        format!("uv sync --locked ({})", install.groups.join(", ")),
        &config,
        files,
        Vec::new(),
        vec![CacheDir {
            id: "pyfront-uv-cache".to_owned(),
            path: CACHE.to_owned(),
        }],
    )
}
