//! The op graph (`Output`, `Node`, the per-call `Constraints`) and the
//! source ops: image and local. Exec ops are in `exec`, file ops in `file`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bollard_buildkit_proto::pb;

use crate::image::Platform;

/// Settings applied to every op a builder call creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraints {
    pub platform: Platform,
    /// `OpMetadata.ignore_cache`: the `no-cache` opt.
    pub ignore_cache: bool,
    /// The build's session (`BUILDKIT_SESSION_ID`), set on local sources.
    /// Without it two concurrent builds on one engine have byte-identical
    /// local source ops, BuildKit merges them, and one build can be served
    /// the other's files. `None` offline (`pyfront llb`).
    pub session_id: Option<String>,
}

/// One output of an op: what later ops take as input.
#[derive(Debug, Clone)]
pub struct Output {
    pub(crate) node: Arc<Node>,
    pub(crate) index: i64,
}

#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) op: pb::op::Op,
    pub(crate) inputs: Vec<Output>,
    pub(crate) platform: Option<pb::Platform>,
    pub(crate) description: String,
    pub(crate) ignore_cache: bool,
    pub(crate) caps: BTreeSet<&'static str>,
    /// Ranges in the definition's one source file (`pb.Source`).
    pub(crate) source_ranges: Vec<pb::Range>,
}

pub(super) fn node(
    op: pb::op::Op,
    inputs: Vec<Output>,
    c: &Constraints,
    platform: bool,
    description: &str,
    mut caps: BTreeSet<&'static str>,
) -> Output {
    if c.ignore_cache {
        caps.insert("meta.ignorecache");
    }
    if !description.is_empty() {
        caps.insert("meta.description");
    }
    Output {
        node: Arc::new(Node {
            op,
            inputs,
            platform: platform.then(|| c.platform.to_pb()),
            description: description.to_owned(),
            ignore_cache: c.ignore_cache,
            caps,
            source_ranges: Vec::new(),
        }),
        index: 0,
    }
}

/// How an image source is resolved (`image.resolvemode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResolveMode {
    #[default]
    Default,
    Pull,
    Local,
}

impl ResolveMode {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "" | "default" => Some(Self::Default),
            "pull" => Some(Self::Pull),
            "local" => Some(Self::Local),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Pull => "pull",
            Self::Local => "local",
        }
    }
}

/// A container image source. `reference` must be fully normalized.
pub fn image(reference: &str, mode: ResolveMode, c: &Constraints, description: &str) -> Output {
    let mut attrs = BTreeMap::new();
    let mut caps = BTreeSet::from(["source.image"]);
    // Leave the attr out in the default mode so the LLB matches what other
    // frontends produce for the same image.
    if mode != ResolveMode::Default {
        attrs.insert("image.resolvemode".to_owned(), mode.as_str().to_owned());
        caps.insert("source.image.resolvemode");
    }
    let op = pb::op::Op::Source(pb::SourceOp {
        identifier: format!("docker-image://{reference}"),
        attrs,
    });
    node(op, Vec::new(), c, true, description, caps)
}

/// Options of a `local://` source (a directory sent by the client).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalOptions {
    pub include_patterns: Vec<String>,
    pub exclude_patterns: Vec<String>,
    pub shared_key_hint: Option<String>,
}

/// A local source such as `context` or `dockerfile`, read through the
/// build's session (see [`Constraints::session_id`]).
pub fn local(name: &str, opts: &LocalOptions, c: &Constraints, description: &str) -> Output {
    let mut attrs = BTreeMap::new();
    let mut caps = BTreeSet::from(["source.local"]);
    let json = |v: &[String]| serde_json::to_string(v).unwrap_or_else(|_| "[]".to_owned());
    if !opts.include_patterns.is_empty() {
        attrs.insert(
            "local.includepattern".to_owned(),
            json(&opts.include_patterns),
        );
        caps.insert("source.local.includepatterns");
    }
    if !opts.exclude_patterns.is_empty() {
        attrs.insert(
            "local.excludepatterns".to_owned(),
            json(&opts.exclude_patterns),
        );
        caps.insert("source.local.excludepatterns");
    }
    if let Some(hint) = &opts.shared_key_hint {
        attrs.insert("local.sharedkeyhint".to_owned(), hint.clone());
        caps.insert("source.local.sharedkeyhint");
    }
    if let Some(session) = &c.session_id {
        attrs.insert("local.session".to_owned(), session.clone());
        caps.insert("source.local.sessionid");
    }
    let op = pb::op::Op::Source(pb::SourceOp {
        identifier: format!("local://{name}"),
        attrs,
    });
    // Local sources are platform independent (as in Go's llb.Local).
    node(op, Vec::new(), c, false, description, caps)
}

/// Stacks the layers of `inputs`, later ones on top (`pb.MergeOp`, as Go's
/// `llb.Merge`). BuildKit reuses each input's layer blobs as they are: no
/// file is copied. Needs the `mergeop` cap (BuildKit v0.10).
pub fn merge(inputs: &[Output], c: &Constraints, description: &str) -> Output {
    let op = pb::op::Op::Merge(pb::MergeOp {
        inputs: (0..inputs.len())
            .map(|i| pb::MergeInput {
                input: i64::try_from(i).unwrap_or(i64::MAX),
            })
            .collect(),
    });
    node(
        op,
        inputs.to_vec(),
        c,
        true,
        description,
        BTreeSet::from(["mergeop"]),
    )
}

/// The changes from `lower` to `upper` (`pb.DiffOp`, as Go's `llb.Diff`).
/// When `lower` is an ancestor of `upper`, the result is exactly the layers
/// in between, blobs and digests unchanged. Needs the `diffop` cap.
pub fn diff(lower: &Output, upper: &Output, c: &Constraints, description: &str) -> Output {
    let op = pb::op::Op::Diff(pb::DiffOp {
        lower: Some(pb::LowerDiffInput { input: 0 }),
        upper: Some(pb::UpperDiffInput { input: 1 }),
    });
    node(
        op,
        vec![lower.clone(), upper.clone()],
        c,
        true,
        description,
        BTreeSet::from(["diffop"]),
    )
}
