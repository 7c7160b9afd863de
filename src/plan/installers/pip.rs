//! pip: `pip install -r` of the spec's requirement files into the venv.

use super::{helper_step, index_configs, pip_cache, HelperConfig};
use crate::plan::{InstallStep, CONTEXT_MOUNT, VENV};
use crate::spec::Spec;

pub(super) fn install_step(spec: &Spec) -> InstallStep {
    let files: Vec<String> = spec
        .install
        .inputs
        .iter()
        .map(|r| r.value.as_str().to_owned())
        .collect();
    let config = HelperConfig {
        mode: "pip",
        venv: VENV,
        requirements: files
            .iter()
            .map(|f| format!("{CONTEXT_MOUNT}/{f}"))
            .collect(),
        cwd: Some(CONTEXT_MOUNT),
        indexes: index_configs(&spec.indexes),
        ..HelperConfig::default()
    };
    let title = format!("pip install -r {}", files.join(" -r "));
    helper_step(spec, title, &config, files, Vec::new(), vec![pip_cache()])
}
