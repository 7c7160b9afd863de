//! pip: `pip install -r` of the spec's requirement files into the venv.

use super::{helper_step, pip_cache, Access, HelperConfig, Mode, INSTALL};
use crate::plan::{ContextInputs, InstallStep, CONTEXT_MOUNT, VENV};
use crate::spec::Spec;

/// pip reads the spec's files as `-r` and follows their `-r` / `-c`
/// includes itself, relative to each file: every file reached is mounted at
/// its context path, so the includes resolve and each one keys the step.
pub(super) fn install_step(spec: &Spec, context: &ContextInputs) -> InstallStep {
    let files: Vec<String> = spec
        .install
        .inputs
        .iter()
        .map(|r| r.value.as_str().to_owned())
        .collect();
    let mounted = if context.requirement_files.is_empty() {
        files.clone()
    } else {
        context.requirement_files.clone()
    };
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
    let mut step = helper_step(
        spec,
        title,
        &INSTALL,
        config.to_json(),
        mounted,
        Access::Credentials,
    );
    step.caches = vec![pip_cache()];
    // A local path requirement (`./libs/sdk`, `.`) needs its files: the
    // step sees the whole context (minus `.dockerignore`), so an app change
    // re-runs it.
    step.whole_context = context.local_requirements;
    step
}
