//! A small typed LLB builder, in the spirit of BuildKit's Go `client/llb`.
//!
//! Ops are immutable nodes shared through [`Output`] handles; building a graph
//! never mutates an existing node. [`marshal`] walks a graph from its final
//! output, serializes every op once (inputs first), names each by the sha256
//! of its bytes, and appends the terminal op. prost encodes fields in tag
//! order and the proto maps are `BTreeMap`s, so the same graph always gives
//! the same bytes.
//!
//! A leaf library: it knows no spec and no plan (`convert::lower` maps the
//! plan onto it), only the neutral `image::Platform`.

mod exec;
mod file;
mod json;
mod marshal;
mod ops;

pub use exec::{exec, CacheSharing, Exec, Mount, NetMode};
pub use file::{copy, copy_to_scratch, mkfiles, CopyOptions, Owner};
pub use json::to_json;
pub use marshal::{digest, marshal, marshal_with_source, Definition};
pub use ops::{diff, image, local, merge, Constraints, LocalOptions, Output, ResolveMode};

/// BuildKit's proto types, re-exported for the frontend.
pub use bollard_buildkit_proto::pb;
