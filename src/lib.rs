//! pyfront: a BuildKit frontend that builds Python app images from a small
//! TOML spec, with private-index credentials only as BuildKit secret mounts.
//!
//! Data flows one way:
//! `spec` (TOML → validated [`spec::Spec`]) → `plan` (stages and steps, no
//! LLB) → `llb` (typed LLB builder, deterministic serialization) →
//! `frontend` (the BuildKit gateway client: opts, caps, image configs,
//! results). `installers` turn the spec's `[install]` into plan steps.

pub mod frontend;
pub mod init;
pub mod installers;
pub mod lint;
pub mod llb;
pub mod plan;
pub mod spec;
