//! The depth-first walk over the files read, in pip's order: include
//! cycles, the depth limit, each file's role, the rules of constraint
//! files, and the local requirements.

use std::collections::{BTreeMap, BTreeSet};

use super::error::{RequirementsError, RequirementsErrorKind};
use super::parse::Event;
use super::{FileRole, FileState, LocalRequirement, MAX_DEPTH, MAX_FILES};
use crate::spec::ContextPath;

/// The depth-first walk of `finish`, in pip's order.
pub(super) struct Walk<'a> {
    pub(super) files: &'a BTreeMap<ContextPath, FileState>,
    pub(super) roles: BTreeMap<ContextPath, FileRole>,
    /// (file, reached as constraints): a file's lines are checked once per
    /// role, since constraint files have rules of their own.
    pub(super) visited: BTreeSet<(ContextPath, bool)>,
    /// The include chain from the root to the file being walked.
    pub(super) stack: Vec<ContextPath>,
    pub(super) local: Vec<LocalRequirement>,
    pub(super) require_hashes: bool,
    /// The first URL or VCS requirement: its file and span.
    pub(super) remote: Option<(ContextPath, std::ops::Range<usize>)>,
}

impl Walk<'_> {
    pub(super) fn visit(
        &mut self,
        path: &ContextPath,
        constraint: bool,
    ) -> Result<(), RequirementsError> {
        let initial = if constraint {
            FileRole::Constraints
        } else {
            FileRole::Requirements
        };
        self.roles
            .entry(path.clone())
            .and_modify(|role| *role = role.with(constraint))
            .or_insert(initial);
        if !self.visited.insert((path.clone(), constraint)) {
            return Ok(());
        }
        let files = self.files;
        let Some(FileState::Read { events, .. }) = files.get(path) else {
            return Ok(());
        };
        self.stack.push(path.clone());
        for event in events {
            match event {
                Event::Include {
                    target,
                    constraint: nested,
                    span,
                } => {
                    let here = |kind| RequirementsError::at(path, span.clone(), kind);
                    if let Some(start) = self.stack.iter().position(|p| p == target) {
                        let chain = self.stack[start..]
                            .iter()
                            .chain(std::iter::once(target))
                            .map(|p| p.as_str().to_owned())
                            .collect();
                        return Err(here(RequirementsErrorKind::IncludeCycle { chain }));
                    }
                    if self.stack.len() > MAX_DEPTH {
                        return Err(here(RequirementsErrorKind::TooDeep { limit: MAX_DEPTH }));
                    }
                    match files.get(target) {
                        Some(FileState::Read { .. }) => self.visit(target, *nested)?,
                        Some(_) => {
                            return Err(here(RequirementsErrorKind::MissingInclude {
                                path: target.as_str().to_owned(),
                            }))
                        }
                        // Within the depth limit, a file is only left
                        // unread when the file limit was reached.
                        None => {
                            return Err(here(RequirementsErrorKind::TooManyFiles {
                                limit: MAX_FILES,
                            }))
                        }
                    }
                }
                Event::Local {
                    path: local,
                    editable,
                    named,
                    config_settings,
                    span,
                } => {
                    if constraint && *editable {
                        return Err(RequirementsError::at(
                            path,
                            span.clone(),
                            RequirementsErrorKind::EditableConstraint,
                        ));
                    }
                    if constraint && !*named {
                        return Err(RequirementsError::at(
                            path,
                            span.clone(),
                            RequirementsErrorKind::UnnamedConstraint,
                        ));
                    }
                    self.local.push(LocalRequirement {
                        path: local.clone(),
                        editable: *editable,
                        constraint,
                        config_settings: *config_settings,
                        file: path.clone(),
                        span: span.clone(),
                    });
                }
                // pip turns hash checking on for hashes in constraint files
                // too: constraints join the same list of requirements.
                Event::Hashes => self.require_hashes = true,
                Event::Remote { span } => {
                    if self.remote.is_none() {
                        self.remote = Some((path.clone(), span.clone()));
                    }
                }
                Event::Error { kind, span } => {
                    return Err(RequirementsError::at(path, span.clone(), kind.clone()))
                }
            }
        }
        self.stack.pop();
        Ok(())
    }
}
