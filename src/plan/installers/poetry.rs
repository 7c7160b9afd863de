//! Poetry: the lock (`pyproject.toml` + `poetry.lock`) installed
//! hermetically, without Poetry. pyfront reads `poetry.lock` itself (groups,
//! extras, markers, and its `content-hash` against `pyproject.toml`),
//! finds each file through its index's simple API, and the builder's pip
//! installs the files from the wheelhouse with their hashes.
//!
//! Each spec `[[index]]` must have the name of a `[[tool.poetry.source]]`:
//! the lock names a package's source, and the fetcher sends that index's
//! credentials to that index only.

use super::{hermetic_install, LockInstaller};
use crate::plan::{ContextInputs, HermeticInstall};
use crate::spec::Spec;

/// The select step's hint when the lock has path dependencies: there, a
/// stale lock can also mean a path dependency's `pyproject.toml` is left
/// out of the context.
const PATHS_HINT: &str = "if pyfront says `pyproject.toml` changed since `poetry.lock` was generated, run \
`poetry lock` and commit `poetry.lock`; every path dependency's directory must be in the build context \
(not excluded by `.dockerignore`)";

pub(super) fn install(spec: &Spec, context: &ContextInputs) -> HermeticInstall {
    hermetic_install(
        spec,
        &LockInstaller {
            lock: "poetry",
            uv: None,
            select_title: format!(
                "read poetry.lock (--only {}): plan the files to fetch (no network, no secrets)",
                spec.install.groups.join(",")
            ),
            hint: if context.local_packages {
                PATHS_HINT
            } else {
                "if pyfront says `pyproject.toml` changed since `poetry.lock` was generated, run `poetry lock` and commit `poetry.lock`"
            },
            local_packages: context.local_packages,
        },
    )
}
