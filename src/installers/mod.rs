//! Installer specifics: turn the spec's `[install]` and `[[index]]` tables
//! into the plan's install step. Installers never build LLB.

mod pip;

use crate::plan::InstallStep;
use crate::spec::{Installer, Spec};

/// The install step for the spec's installer.
pub fn install_step(spec: &Spec) -> InstallStep {
    match spec.install.with {
        Installer::Pip => pip::install_step(spec),
    }
}
