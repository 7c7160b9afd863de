//! pip: `pip install -r` of the spec's requirement files into the venv.

use super::{helper_step, pip_cache, HelperConfig, Mode};
use crate::plan::{InstallStep, CONTEXT_MOUNT, VENV};
use crate::spec::Spec;

pub(super) fn install_step(spec: &Spec) -> InstallStep {
    let files: Vec<String> = spec
        .install
        .inputs
        .iter()
        .map(|r| r.value.as_str().to_owned())
        .collect();
    let config = HelperConfig::new(
        Mode::PipRequirements {
            venv: VENV,
            cwd: CONTEXT_MOUNT,
            requirements: files
                .iter()
                .map(|f| format!("{CONTEXT_MOUNT}/{f}"))
                .collect(),
        },
        &spec.indexes,
    );
    let title = format!("pip install -r {}", files.join(" -r "));
    helper_step(spec, title, &config, files, Vec::new(), vec![pip_cache()])
}
