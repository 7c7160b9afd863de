//! Serializes an op graph into a `pb.Definition`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bollard_buildkit_proto::pb;
use prost::Message;
use sha2::{Digest, Sha256};

use super::ops::{Node, Output};

/// A marshaled LLB graph plus the LLB caps its ops use.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub proto: pb::Definition,
    /// Every LLB cap some op needs; the frontend checks them against `Ping`.
    pub caps: BTreeSet<&'static str>,
}

impl Definition {
    /// The protobuf bytes of the whole definition.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.proto.encode_to_vec()
    }
}

/// `sha256:<hex>` of `bytes`, the way BuildKit names ops.
pub fn digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut s = String::with_capacity(7 + 64);
    s.push_str("sha256:");
    for b in hash {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Marshals the graph ending at `out`, inputs first, each op once.
pub fn marshal(out: &Output) -> Definition {
    marshal_with_source(out, None)
}

/// As [`marshal`], plus `pb.Source`: `info` is the file the ops' source
/// ranges point into (the spec), so BuildKit can show the lines of a step
/// that fails.
pub fn marshal_with_source(out: &Output, info: Option<pb::SourceInfo>) -> Definition {
    let mut m = Marshaler::default();
    let root = m.visit(&out.node);
    // The terminal op: no op body, one input, the graph's result.
    let terminal = pb::Op {
        inputs: vec![pb::Input {
            digest: root,
            index: out.index,
        }],
        ..Default::default()
    };
    m.def.push(terminal.encode_to_vec());
    let source = info
        .filter(|_| !m.locations.is_empty())
        .map(|info| pb::Source {
            locations: m.locations,
            infos: vec![info],
        });
    Definition {
        proto: pb::Definition {
            def: m.def,
            metadata: m.metadata,
            source,
        },
        caps: m.caps,
    }
}

#[derive(Default)]
struct Marshaler {
    /// Digest of every node already visited, by node address. Keyed by
    /// pointer only to avoid re-walking shared subgraphs; the output order
    /// and bytes depend on the graph alone.
    done: BTreeMap<usize, String>,
    seen_digests: BTreeSet<String>,
    def: Vec<Vec<u8>>,
    metadata: BTreeMap<String, pb::OpMetadata>,
    caps: BTreeSet<&'static str>,
    locations: BTreeMap<String, pb::Locations>,
}

impl Marshaler {
    fn visit(&mut self, node: &Arc<Node>) -> String {
        let key = Arc::as_ptr(node) as usize;
        if let Some(d) = self.done.get(&key) {
            return d.clone();
        }
        let inputs = node
            .inputs
            .iter()
            .map(|i| pb::Input {
                digest: self.visit(&i.node),
                index: i.index,
            })
            .collect();
        let op = pb::Op {
            inputs,
            platform: node.platform.clone(),
            constraints: None,
            op: Some(node.op.clone()),
        };
        let bytes = op.encode_to_vec();
        let d = digest(&bytes);
        if self.seen_digests.insert(d.clone()) {
            self.def.push(bytes);
            let mut description = BTreeMap::new();
            if !node.description.is_empty() {
                description.insert("llb.customname".to_owned(), node.description.clone());
            }
            self.metadata.insert(
                d.clone(),
                pb::OpMetadata {
                    ignore_cache: node.ignore_cache,
                    description,
                    caps: node.caps.iter().map(|c| ((*c).to_owned(), true)).collect(),
                    ..Default::default()
                },
            );
            self.caps.extend(node.caps.iter().copied());
            if !node.source_ranges.is_empty() {
                self.locations.insert(
                    d.clone(),
                    pb::Locations {
                        locations: vec![pb::Location {
                            source_index: 0,
                            ranges: node.source_ranges.clone(),
                        }],
                    },
                );
            }
        }
        self.done.insert(key, d.clone());
        d
    }
}
