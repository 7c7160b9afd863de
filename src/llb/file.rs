//! File ops: copies between filesystems and files made from bytes.

use std::collections::BTreeSet;

use bollard_buildkit_proto::pb;

use super::ops::{node, Constraints, Output};

/// Options of a copy between two filesystems (`pb.FileActionCopy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOptions {
    pub src: String,
    pub dest: String,
    /// Copy a directory's contents rather than the directory itself.
    pub contents_only: bool,
    /// Who owns the copied files (and the directories the copy creates);
    /// `None`: as in the source.
    pub owner: Option<Owner>,
    /// Only the paths under `src` that match one of these (`**` for any
    /// number of directories), with the directories that lead to them
    /// (`pb.FileActionCopy.include_patterns`, BuildKit v0.10, cap
    /// `file.copy.includeexcludepatterns`); empty: everything.
    pub include_patterns: Vec<String>,
}

/// The owner of copied files (`pb.ChownOpt`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// A user name, looked up by BuildKit in the `/etc/passwd` of the
    /// filesystem copied onto (`pb.NamedUserOpt.input`), for its uid and
    /// primary gid. BuildKit gives a name it does not find uid 0.
    Name(String),
    /// Numeric ids (`pb.UserOpt.byID`); without a gid BuildKit uses the
    /// uid as the gid.
    Id { uid: u32, gid: Option<u32> },
}

impl Owner {
    /// The `pb.ChownOpt`, looking names up in input `onto` of the op.
    fn chown(&self, onto: i64) -> pb::ChownOpt {
        use pb::user_opt::User;
        let by_id = |id| pb::UserOpt {
            user: Some(User::ById(id)),
        };
        match self {
            Self::Name(name) => pb::ChownOpt {
                user: Some(pb::UserOpt {
                    user: Some(User::ByName(pb::NamedUserOpt {
                        name: name.clone(),
                        input: onto,
                    })),
                }),
                group: None,
            },
            Self::Id { uid, gid } => pb::ChownOpt {
                user: Some(by_id(*uid)),
                group: gid.map(by_id),
            },
        }
    }
}

/// Copies `opts.src` from `from` into `onto` (scratch when `None`). An
/// owner by name needs `onto`: it is read from there.
pub fn copy(
    onto: Option<&Output>,
    from: &Output,
    opts: &CopyOptions,
    c: &Constraints,
    description: &str,
) -> Output {
    match onto {
        Some(o) => copy_op(Some(o), from, opts, 0, c, description),
        None => copy_op(None, from, opts, -1, c, description),
    }
}

/// Copies `opts.src` from `from` onto scratch: a layer of its own, to stack
/// with [`super::merge`] (as `COPY --link` does). An owner by name is looked
/// up in the `/etc/passwd` of `names` (the image the layer will sit on):
/// BuildKit reads it from there without copying onto it.
pub fn copy_to_scratch(
    from: &Output,
    opts: &CopyOptions,
    names: &Output,
    c: &Constraints,
    description: &str,
) -> Output {
    if matches!(opts.owner, Some(Owner::Name(_))) {
        copy_op(Some(names), from, opts, -1, c, description)
    } else {
        copy_op(None, from, opts, -1, c, description)
    }
}

/// The copy op. `extra`, when given, is input 0 (the filesystem copied onto
/// when `onto_index` is 0, else only where owner names are looked up);
/// `from` is the next input.
fn copy_op(
    extra: Option<&Output>,
    from: &Output,
    opts: &CopyOptions,
    onto_index: i64,
    c: &Constraints,
    description: &str,
) -> Output {
    let mut inputs = Vec::new();
    let names = match extra {
        Some(o) => {
            inputs.push(o.clone());
            0
        }
        None => -1,
    };
    let input = onto_index;
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
            owner: opts.owner.as_ref().map(|o| o.chown(names)),
            include_patterns: opts.include_patterns.clone(),
            ..Default::default()
        })),
    };
    let op = pb::op::Op::File(pb::FileOp {
        actions: vec![action],
    });
    let mut caps = BTreeSet::from(["file.base"]);
    if !opts.include_patterns.is_empty() {
        caps.insert("file.copy.includeexcludepatterns");
    }
    node(op, inputs, c, true, description, caps)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Platform;
    use crate::llb::{image, marshal, to_json, ResolveMode};

    fn copy_json(onto: bool, owner: Option<Owner>) -> serde_json::Value {
        let c = Constraints {
            platform: Platform::linux_amd64(),
            ignore_cache: false,
            session_id: None,
        };
        let base = image("docker.io/library/a:1", ResolveMode::Default, &c, "a");
        let from = image("docker.io/library/b:1", ResolveMode::Default, &c, "b");
        let opts = CopyOptions {
            src: "/".to_owned(),
            dest: "/app/".to_owned(),
            contents_only: true,
            owner,
            include_patterns: Vec::new(),
        };
        let out = copy(onto.then_some(&base), &from, &opts, &c, "copy");
        let json = to_json(&marshal(&out).proto);
        let ops = json["ops"].as_array().unwrap();
        let op = ops.iter().find(|o| o["op"]["file"].is_array()).unwrap();
        op["op"]["file"][0]["action"]["copy"].clone()
    }

    #[test]
    fn a_copy_owner_is_a_chown_by_name_read_from_the_target_or_by_id() {
        let named = copy_json(true, Some(Owner::Name("app".to_owned())));
        assert_eq!(
            named["owner"],
            serde_json::json!({"user": {"name": "app", "input": 0}, "group": null})
        );
        let ids = copy_json(
            true,
            Some(Owner::Id {
                uid: 1000,
                gid: Some(2000),
            }),
        );
        assert_eq!(
            ids["owner"],
            serde_json::json!({"user": {"id": 1000}, "group": {"id": 2000}})
        );
        let uid_only = copy_json(true, Some(Owner::Id { uid: 7, gid: None }));
        assert_eq!(uid_only["owner"]["group"], serde_json::Value::Null);
        // No owner: no `owner` key (and no chown in the proto).
        assert!(copy_json(false, None).get("owner").is_none());
    }
}
