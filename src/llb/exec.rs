//! Exec ops: a process on a root filesystem, with mounts.

use std::collections::BTreeSet;

use bollard_buildkit_proto::pb;

use super::ops::{node, Constraints, Output};

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
