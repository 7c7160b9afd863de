//! A readable JSON view of a definition, for `pyfront llb --json`, golden
//! snapshots and reviews. It decodes the serialized bytes, so it shows what
//! BuildKit receives, not what we meant to send. Large file data is shown
//! by name, digest and size (see `INLINE_FILE_LIMIT`): a view, not a copy;
//! the protobuf bytes (`pyfront llb` without `--json`) hold everything.

use bollard_buildkit_proto::pb;
use prost::Message;
use serde_json::{json, Map, Value};

use super::marshal::digest;

/// Decodes `def` op by op into JSON (ops in definition order).
pub fn to_json(def: &pb::Definition) -> Value {
    let ops: Vec<Value> = def
        .def
        .iter()
        .map(|bytes| {
            let d = digest(bytes);
            let mut obj = Map::new();
            obj.insert("digest".into(), json!(d));
            match pb::Op::decode(bytes.as_slice()) {
                Ok(op) => {
                    if let Some(md) = def.metadata.get(&d) {
                        obj.insert("metadata".into(), metadata(md));
                    }
                    obj.insert("op".into(), op_json(&op));
                    if let Some(l) = def.source.as_ref().and_then(|s| s.locations.get(&d)) {
                        let lines: Vec<Value> = l
                            .locations
                            .iter()
                            .flat_map(|loc| loc.ranges.iter())
                            .map(|r| {
                                let line =
                                    |p: &Option<pb::Position>| p.as_ref().map_or(0, |p| p.line);
                                json!([line(&r.start), line(&r.end)])
                            })
                            .collect();
                        obj.insert("source_lines".into(), json!(lines));
                    }
                }
                Err(e) => {
                    obj.insert("error".into(), json!(e.to_string()));
                }
            }
            Value::Object(obj)
        })
        .collect();
    json!({ "ops": ops })
}

fn metadata(md: &pb::OpMetadata) -> Value {
    let mut obj = Map::new();
    if let Some(name) = md.description.get("llb.customname") {
        obj.insert("name".into(), json!(name));
    }
    if md.ignore_cache {
        obj.insert("ignore_cache".into(), json!(true));
    }
    obj.insert("caps".into(), json!(md.caps.keys().collect::<Vec<_>>()));
    Value::Object(obj)
}

fn op_json(op: &pb::Op) -> Value {
    let mut obj = Map::new();
    let inputs: Vec<Value> = op
        .inputs
        .iter()
        .map(|i| json!(format!("{}#{}", i.digest, i.index)))
        .collect();
    if !inputs.is_empty() {
        obj.insert("inputs".into(), json!(inputs));
    }
    if let Some(p) = &op.platform {
        let mut s = format!("{}/{}", p.os, p.architecture);
        if !p.variant.is_empty() {
            s.push('/');
            s.push_str(&p.variant);
        }
        obj.insert("platform".into(), json!(s));
    }
    match &op.op {
        Some(pb::op::Op::Source(s)) => {
            obj.insert(
                "source".into(),
                json!({ "identifier": s.identifier, "attrs": s.attrs }),
            );
        }
        Some(pb::op::Op::Exec(e)) => {
            obj.insert("exec".into(), exec_json(e));
        }
        Some(pb::op::Op::File(f)) => {
            let actions: Vec<Value> = f.actions.iter().map(file_action_json).collect();
            obj.insert("file".into(), json!(actions));
        }
        Some(pb::op::Op::Merge(m)) => {
            let inputs: Vec<i64> = m.inputs.iter().map(|i| i.input).collect();
            obj.insert("merge".into(), json!(inputs));
        }
        Some(pb::op::Op::Diff(d)) => {
            obj.insert(
                "diff".into(),
                json!({
                    "lower": d.lower.map(|l| l.input),
                    "upper": d.upper.map(|u| u.input),
                }),
            );
        }
        Some(_) => {
            obj.insert("other".into(), json!(true));
        }
        None => {
            obj.insert("terminal".into(), json!(true));
        }
    }
    Value::Object(obj)
}

fn exec_json(e: &pb::ExecOp) -> Value {
    let meta = e.meta.clone().unwrap_or_default();
    let mounts: Vec<Value> = e
        .mounts
        .iter()
        .map(|m| {
            let kind = pb::MountType::try_from(m.mount_type)
                .map(|t| t.as_str_name().to_lowercase())
                .unwrap_or_else(|_| m.mount_type.to_string());
            let mut obj = Map::new();
            obj.insert("dest".into(), json!(m.dest));
            obj.insert("type".into(), json!(kind));
            if m.input >= 0 {
                obj.insert("input".into(), json!(m.input));
            }
            if m.output >= 0 {
                obj.insert("output".into(), json!(m.output));
            }
            if m.readonly {
                obj.insert("readonly".into(), json!(true));
            }
            if !m.selector.is_empty() {
                obj.insert("selector".into(), json!(m.selector));
            }
            if let Some(c) = &m.cache_opt {
                let sharing = pb::CacheSharingOpt::try_from(c.sharing)
                    .map(|s| s.as_str_name().to_lowercase())
                    .unwrap_or_default();
                obj.insert("cache".into(), json!({ "id": c.id, "sharing": sharing }));
            }
            if let Some(s) = &m.secret_opt {
                obj.insert(
                    "secret".into(),
                    json!({ "id": s.id, "mode": format!("{:o}", s.mode), "optional": s.optional }),
                );
            }
            Value::Object(obj)
        })
        .collect();
    let network = pb::NetMode::try_from(e.network)
        .map(|n| n.as_str_name().to_lowercase())
        .unwrap_or_default();
    json!({
        "args": meta.args,
        "env": meta.env,
        "cwd": meta.cwd,
        "user": meta.user,
        "network": network,
        "mounts": mounts,
    })
}

/// A `pb.UserOpt`: `{"name": ..., "input": N}` or `{"id": N}`.
fn user_opt_json(u: &pb::UserOpt) -> Value {
    match &u.user {
        Some(pb::user_opt::User::ByName(n)) => json!({ "name": n.name, "input": n.input }),
        Some(pb::user_opt::User::ById(id)) => json!({ "id": id }),
        None => Value::Null,
    }
}

fn file_action_json(a: &pb::FileAction) -> Value {
    let action = match &a.action {
        Some(pb::file_action::Action::Copy(c)) => {
            let mut copy = json!({
                "src": c.src,
                "dest": c.dest,
                "contents_only": c.dir_copy_contents,
                "follow_symlink": c.follow_symlink,
            });
            if !c.include_patterns.is_empty() {
                copy["include_patterns"] = json!(c.include_patterns);
            }
            if let Some(owner) = &c.owner {
                copy["owner"] = json!({
                    "user": owner.user.as_ref().map(user_opt_json),
                    "group": owner.group.as_ref().map(user_opt_json),
                });
            }
            json!({ "copy": copy })
        }
        Some(pb::file_action::Action::Mkfile(f)) => {
            let data = file_data(&f.path, &f.data);
            json!({ "mkfile": { "path": f.path, "mode": format!("{:o}", f.mode), "data": data } })
        }
        Some(pb::file_action::Action::Mkdir(d)) => json!({ "mkdir": { "path": d.path } }),
        Some(pb::file_action::Action::Rm(r)) => json!({ "rm": { "path": r.path } }),
        _ => json!({ "other": true }),
    };
    json!({
        "input": a.input,
        "secondary_input": a.secondary_input,
        "output": a.output,
        "action": action,
    })
}

/// Files up to this size are shown as text. The small files a reviewer must
/// read (the helper's JSON config: under 1 KB with two indexes, about 200
/// bytes more per index; `tools.txt`: one line) stay inline; the helper
/// program (about 10 KB, in every helper step) is shown by digest, so a
/// snapshot shows that it changed without repeating it.
const INLINE_FILE_LIMIT: usize = 4096;

/// A `mkfile`'s data as shown: the text of a small UTF-8 data file
/// (`.json`, `.txt`), else `<NAME sha256:HEX, N bytes>` (the digest of
/// exactly the bytes sent). Program code (the helper's `.py` modules) is
/// reviewed in its source file; a snapshot shows only that it changed.
fn file_data(path: &str, data: &[u8]) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    let is_data = name.ends_with(".json") || name.ends_with(".txt");
    match std::str::from_utf8(data) {
        Ok(text) if is_data && data.len() <= INLINE_FILE_LIMIT => text.to_owned(),
        _ => format!("<{name} {}, {} bytes>", digest(data), data.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_text_files_are_inline_and_large_or_binary_ones_by_digest() {
        assert_eq!(file_data("/tools.txt", b"uv==0.13.9\n"), "uv==0.13.9\n");
        let limit = "x".repeat(INLINE_FILE_LIMIT);
        assert_eq!(file_data("/a.json", limit.as_bytes()), limit);
        let big = format!("{limit}y");
        assert_eq!(
            file_data("/run/install.py", big.as_bytes()),
            format!("<install.py {}, 4097 bytes>", digest(big.as_bytes()))
        );
        assert_eq!(
            file_data("blob", &[0xff, 0]),
            format!("<blob {}, 2 bytes>", digest(&[0xff, 0]))
        );
        assert_eq!(
            file_data("/pyfront_redact.py", b"x = 1\n"),
            format!("<pyfront_redact.py {}, 6 bytes>", digest(b"x = 1\n"))
        );
    }
}
