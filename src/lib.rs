//! pyfront: a BuildKit frontend that builds Python app images from a small
//! TOML spec, with private-index credentials only as BuildKit secret mounts.
//!
//! Data flows one way:
//!
//! ```text
//! spec ──▶ plan (+ plan::installers) ──▶ convert ──▶ llb
//!  (TOML → validated Spec)  (stages, steps)  (the one pipeline:   (typed ops,
//!                                             inputs, lints,       marshal,
//!                                             plan → LLB)          digests)
//! ```
//!
//! Entry points, both thin, both over [`convert::convert`]: `frontend` (the
//! BuildKit gateway: session, caps, subrequests, results) and the CLI
//! (`main.rs`: `pyfront check`, `pyfront plan`, `pyfront llb`,
//! `pyfront init`).
//!
//! Shared leaves: `image` (platform, image configs), `source` (the one
//! source map: byte spans → lines and columns), `redact` (the one redaction
//! policy), `pyproject` (the Python project files, as read). Above them:
//! `options` (typed build options from BuildKit's key/value opts) and
//! `lint`.

pub mod convert;
pub mod frontend;
pub mod image;
pub mod init;
pub mod lint;
pub mod llb;
pub mod offline;
pub mod options;
pub mod plan;
mod pyproject;
pub mod redact;
pub mod source;
pub mod spec;
