//! The pyfront spec: TOML → typed, validated, interpolated [`Spec`].
//!
//! ```text
//! TOML text ──serde──▶ raw::Raw* ──validate──▶ model::Spec
//!            (spans;            (interpolation,
//!             unknown keys,      newtypes from `names`,
//!             wrong types)       cross-field checks)
//! ```
//!
//! Parsing happens in two steps. `serde` deserializes the TOML straight into
//! the `Raw*` structs of `raw` (unknown keys, wrong types and missing keys
//! are reported by the TOML parser with their span). Then [`Spec::parse`]
//! (`validate`) interpolates `${ARG}` references and validates every value
//! into a newtype (`names`), keeping the span of each value for errors.
//! Errors are a span plus a kind (`error`); `diagnostic` turns the span
//! into a line and column when rendering, through the one
//! [`crate::source::SourceMap`].

mod diagnostic;
mod error;
mod interpolate;
mod model;
mod names;
mod raw;
mod validate;

pub use diagnostic::Diagnostic;
pub use error::{SpecError, SpecErrorKind};
pub use interpolate::{interpolate, BuildArgs};
pub use model::{
    App, Build, BuildRun, Index, Install, Installer, Located, SecretRole, Spec, Username,
    APP_USER_ID, DEFAULT_POETRY_VERSION, DEFAULT_UV_VERSION, DEFAULT_WORKDIR,
};
pub use names::{
    AppUser, AptPackage, ContextPath, ImagePath, ImageRef, IndexName, IndexUrl, SecretId,
    WorkdirPath,
};
pub use validate::normalize_package_name;

#[cfg(test)]
mod tests;
