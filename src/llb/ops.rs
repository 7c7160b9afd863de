//! LLB op constructors: image and local sources, exec and file ops.

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

fn node(
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

/// `pb.NetMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NetMode {
    #[default]
    Sandbox,
    Host,
    None,
}

/// `pb.CacheSharingOpt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheSharing {
    Shared,
    Private,
    Locked,
}

/// A mount of an exec op other than the root filesystem.
#[derive(Debug, Clone)]
pub enum Mount {
    /// A read-only view of another op's output (`selector`: a path in it).
    ReadOnly {
        dest: String,
        source: Output,
        selector: Option<String>,
    },
    /// A persistent cache directory shared across builds.
    Cache {
        dest: String,
        id: String,
        sharing: CacheSharing,
    },
    /// A BuildKit secret as a file. Only the id is in LLB, never the value.
    Secret {
        dest: String,
        id: String,
        mode: u32,
        optional: bool,
    },
}

impl Mount {
    fn dest(&self) -> &str {
        match self {
            Self::ReadOnly { dest, .. } | Self::Cache { dest, .. } | Self::Secret { dest, .. } => {
                dest
            }
        }
    }
}

/// An exec op's process and mounts.
#[derive(Debug, Clone, Default)]
pub struct Exec {
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: String,
    pub user: String,
    pub network: NetMode,
    pub mounts: Vec<Mount>,
    /// Where in the source file (see `marshal_with_source`) this step comes
    /// from; BuildKit shows those lines when the step fails.
    pub source_ranges: Vec<pb::Range>,
}

/// Runs `spec` on top of `root`; returns the changed root filesystem.
pub fn exec(root: &Output, spec: Exec, c: &Constraints, description: &str) -> Output {
    let mut caps = BTreeSet::from(["exec.meta.base"]);
    let mut inputs = vec![root.clone()];
    let mut mounts = vec![pb::Mount {
        input: 0,
        dest: "/".to_owned(),
        output: 0,
        ..Default::default()
    }];
    // Go's llb sorts mounts by destination; so do we, for stable bytes.
    let mut extra = spec.mounts;
    extra.sort_by(|a, b| a.dest().cmp(b.dest()));
    for m in extra {
        // `output: -1` is pb.SkipOutput: the mount produces no result.
        let mut pm = pb::Mount {
            dest: m.dest().to_owned(),
            output: -1,
            input: -1,
            ..Default::default()
        };
        match m {
            Mount::ReadOnly {
                source, selector, ..
            } => {
                caps.insert("exec.mount.bind");
                pm.input = i64::try_from(inputs.len()).unwrap_or(i64::MAX);
                pm.readonly = true;
                if let Some(s) = selector {
                    caps.insert("exec.mount.selector");
                    pm.selector = s;
                }
                inputs.push(source);
            }
            Mount::Cache { id, sharing, .. } => {
                caps.insert("exec.mount.cache");
                caps.insert("exec.mount.cache.sharing");
                pm.mount_type = pb::MountType::Cache as i32;
                pm.cache_opt = Some(pb::CacheOpt {
                    id,
                    sharing: match sharing {
                        CacheSharing::Shared => pb::CacheSharingOpt::Shared,
                        CacheSharing::Private => pb::CacheSharingOpt::Private,
                        CacheSharing::Locked => pb::CacheSharingOpt::Locked,
                    } as i32,
                });
            }
            Mount::Secret {
                id, mode, optional, ..
            } => {
                caps.insert("exec.mount.secret");
                pm.mount_type = pb::MountType::Secret as i32;
                pm.secret_opt = Some(pb::SecretOpt {
                    id,
                    uid: 0,
                    gid: 0,
                    mode,
                    optional,
                });
            }
        }
        mounts.push(pm);
    }
    let network = match spec.network {
        NetMode::Sandbox => pb::NetMode::Unset,
        NetMode::Host => pb::NetMode::Host,
        NetMode::None => pb::NetMode::None,
    };
    if network != pb::NetMode::Unset {
        caps.insert("exec.meta.network");
    }
    let op = pb::op::Op::Exec(pb::ExecOp {
        meta: Some(pb::Meta {
            args: spec.args.clone(),
            env: spec.env.clone(),
            cwd: spec.cwd.clone(),
            user: spec.user.clone(),
            ..Default::default()
        }),
        mounts,
        network: network as i32,
        ..Default::default()
    });
    let mut out = node(op, inputs, c, true, description, caps);
    if let Some(n) = std::sync::Arc::get_mut(&mut out.node) {
        n.source_ranges = spec.source_ranges;
    }
    out
}

/// Options of a copy between two filesystems (`pb.FileActionCopy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOptions {
    pub src: String,
    pub dest: String,
    /// Copy a directory's contents rather than the directory itself.
    pub contents_only: bool,
}

/// Copies `opts.src` from `from` into `onto` (scratch when `None`).
pub fn copy(
    onto: Option<&Output>,
    from: &Output,
    opts: &CopyOptions,
    c: &Constraints,
    description: &str,
) -> Output {
    let mut inputs = Vec::new();
    let input = match onto {
        Some(o) => {
            inputs.push(o.clone());
            0
        }
        None => -1,
    };
    let secondary = i64::try_from(inputs.len()).unwrap_or(i64::MAX);
    inputs.push(from.clone());
    let action = pb::FileAction {
        input,
        secondary_input: secondary,
        output: 0,
        action: Some(pb::file_action::Action::Copy(pb::FileActionCopy {
            src: opts.src.clone(),
            dest: opts.dest.clone(),
            mode: -1,
            follow_symlink: true,
            dir_copy_contents: opts.contents_only,
            create_dest_path: true,
            allow_wildcard: true,
            allow_empty_wildcard: true,
            // -1: keep the source's timestamps.
            timestamp: -1,
            ..Default::default()
        })),
    };
    let op = pb::op::Op::File(pb::FileOp {
        actions: vec![action],
    });
    node(
        op,
        inputs,
        c,
        true,
        description,
        BTreeSet::from(["file.base"]),
    )
}

/// A scratch filesystem holding the given `(path, mode, bytes)` files.
pub fn mkfiles(files: &[(&str, i32, &[u8])], c: &Constraints, description: &str) -> Output {
    let count = files.len();
    let actions = files
        .iter()
        .enumerate()
        .map(|(i, (path, mode, data))| pb::FileAction {
            // The first action starts from scratch (-1); each later one from
            // the previous action's result (index = inputs + action index).
            input: if i == 0 {
                -1
            } else {
                i64::try_from(i - 1).unwrap_or(0)
            },
            secondary_input: -1,
            output: if i + 1 == count { 0 } else { -1 },
            action: Some(pb::file_action::Action::Mkfile(pb::FileActionMkFile {
                path: (*path).to_owned(),
                mode: *mode,
                data: data.to_vec(),
                owner: None,
                timestamp: -1,
            })),
        })
        .collect();
    let op = pb::op::Op::File(pb::FileOp { actions });
    node(
        op,
        Vec::new(),
        c,
        true,
        description,
        BTreeSet::from(["file.base"]),
    )
}
