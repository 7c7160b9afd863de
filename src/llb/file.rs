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
