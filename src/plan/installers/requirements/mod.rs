//! pip requirement files, read the way pip reads them (pip 24.3 and later,
//! `pip/_internal/req/req_file.py`), without any I/O of our own.
//!
//! The spec names the root files; they pull in others with `-r` and `-c`.
//! Every file reached becomes an input of the install step (mounted, and
//! part of its cache key), so they must all be known before the build, and
//! each must be inside the build context.
//!
//! # Lines
//!
//! As pip does: lines split at Python's line boundaries; a line ending in
//! `\` is joined with the next (unless it is a comment line); a comment
//! starts at a `#` that begins the line or follows whitespace; blank lines
//! are skipped. The requirement is what comes before the first word that
//! starts with `-`; the rest is split like a shell would (`shlex`) and read
//! as options, with pip's spellings (`-rFILE`, `-r FILE`, `--requirement
//! FILE`, `--requirement=FILE`, and any unambiguous prefix of a long
//! option, as `optparse` allows).
//!
//! # Includes
//!
//! `-r` and `-c` paths are relative to the directory of the file that names
//! them (pip joins them to that directory). They must stay inside the build
//! context; URLs are refused (a remote file is not an input we can mount or
//! key a cache on). A file reached twice is read once. Like pip 24.3+, a
//! file that includes itself, directly or through others, is an error
//! (older pip crashed with `RecursionError`); a file reached through two
//! branches (a diamond) is fine. As in pip, a file is a constraint file if
//! the line that names it says `-c`, whatever the including file is.
//!
//! # Local requirements
//!
//! `-e .`, `-e ./libs/sdk`, `./libs/sdk`, `./dist/x.whl`, `file:libs/sdk`
//! and `name @ file:libs/sdk` name something in the context. pip resolves
//! these from its working directory, which the install step sets to the
//! context root: not from the requirement file's directory.
//!
//! # Options
//!
//! Passed through as written (they stay in the files pip reads):
//! `--hash` (it turns on pip's hash-checking mode, reported as
//! [`RequirementSet::require_hashes`]), `--require-hashes`, `--pre`,
//! `--prefer-binary`, `--only-binary`, `--no-binary`, `--use-feature` and
//! `-C`/`--config-settings`. They select among the packages of the spec's
//! indexes, or configure a build backend; none names a host or a file.
//!
//! Refused:
//! - `-i`/`--index-url`, `--extra-index-url`, `--no-index`,
//!   `-f`/`--find-links` and `--trusted-host`: the spec's `[[index]]`
//!   tables decide where packages come from, and only they can carry
//!   credentials, as BuildKit secrets. An index in a requirement file would
//!   bypass both (and its credentials would sit in the build context).
//! - `--global-option` (and the older `--install-option`): pip 25.3 removed
//!   them, older versions deprecate them; `-C` replaces them.
//! - `${VAR}`: pip would expand it from the build step's environment, where
//!   nothing of the user's environment is; a token there would also have to
//!   be a plain build argument. Refused so that it fails here, clearly,
//!   rather than as an odd URL inside pip.
//! - URLs with credentials (`https://user:token@host/...`).
//! - What pip silently ignores, since it is always a mistake: options after
//!   a requirement other than `--hash` and `-C`, other options on a line
//!   with `-r`/`-c` (pip recurses and drops them), a second `-r`/`-c`/`-e`
//!   on a line, `--hash` without a requirement, stray words after options.
//! - What pip itself rejects: unknown or ambiguous options, a missing or
//!   unexpected option value, an unclosed quote, a malformed `--hash`,
//!   `-e` and unnamed requirements in constraint files, include cycles.
//!
//! # Use
//!
//! [`collect`] reads through a callback. A caller that reads
//! asynchronously (the frontend, through the gateway) drives a
//! [`Collector`] instead: it asks for one wave of files at a time, so each
//! wave can be one context transfer. Results and errors do not depend on
//! the order in which files are provided.
//!
//! # Files
//!
//! `lexer` turns a file's text into logical lines and words, `options`
//! reads pip's options from the words, `parse` turns each line into events,
//! `paths` resolves the paths a line names, `walk` follows the includes in
//! pip's order, and `error` holds every message and hint.

mod error;
mod lexer;
mod options;
mod parse;
mod paths;
mod walk;

pub use error::{Location, RequirementsError, RequirementsErrorKind};
pub use paths::is_archive;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use crate::spec::ContextPath;
use parse::{parse_file, Event};
use walk::Walk;

/// At most this many files are read, roots included.
pub const MAX_FILES: usize = 1000;
/// At most this many `-r`/`-c` steps from a root to a file.
pub const MAX_DEPTH: usize = 32;

// ---------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------

/// Everything the install step needs to know about the requirement files.
/// Every list is sorted, so equal inputs give equal values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementSet {
    /// Every file reached, sorted by path, each once.
    pub files: Vec<RequirementFile>,
    /// pip will check hashes: a requirement has `--hash`, or a file says
    /// `--require-hashes`. pip then demands a hash for every requirement,
    /// so nothing unhashed may be added to this install.
    pub require_hashes: bool,
    /// The first requirement that names a remote URL or a VCS repository:
    /// its file and the byte range of the requirement in it.
    pub remote: Option<(ContextPath, Range<usize>)>,
    /// Requirements on paths inside the context, sorted by path, then
    /// location.
    pub local: Vec<LocalRequirement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementFile {
    pub path: ContextPath,
    pub role: FileRole,
}

/// How a file was reached: by the spec or `-r` (requirements), by `-c`
/// (constraints), or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    Requirements,
    Constraints,
    Both,
}

impl FileRole {
    fn with(self, constraint: bool) -> Self {
        match (self, constraint) {
            (Self::Requirements, true) | (Self::Constraints, false) => Self::Both,
            (role, _) => role,
        }
    }
}

/// A requirement on a directory or archive in the context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalRequirement {
    /// Relative to the context root, normalized (no `.` or `..`
    /// components, no trailing `/`); `.` is the context root itself.
    pub path: String,
    /// `-e`: pip installs it in place, so the install step needs it at run
    /// time, not only while installing.
    pub editable: bool,
    /// Named in a constraint file (`name @ file:...` after `-c`): pip
    /// takes it only if something else requires `name`.
    pub constraint: bool,
    /// The line passes `-C` / `--config-settings` to its build.
    pub config_settings: bool,
    /// Where it is written: a requirement file and the byte range of the
    /// requirement in it.
    pub file: ContextPath,
    pub span: Range<usize>,
}

// ---------------------------------------------------------------------------
// Driving the reads
// ---------------------------------------------------------------------------

/// Reads the requirement files reachable from `roots`. `read` gets a
/// context-relative path and returns the file's text, or `None` when the
/// context has no such file. Each file is read at most once.
pub fn collect(
    roots: &[ContextPath],
    read: &mut dyn FnMut(&ContextPath) -> Option<String>,
) -> Result<RequirementSet, RequirementsError> {
    let mut collector = Collector::new(roots);
    loop {
        let wanted = collector.wanted();
        if wanted.is_empty() {
            break;
        }
        for path in wanted {
            let text = read(&path);
            collector.provide(&path, text);
        }
    }
    collector.finish()
}

/// Reads requirement files in waves: [`Collector::wanted`] lists the files
/// to read next; once all of them are provided, the next wave is the files
/// they include. When `wanted` is empty, [`Collector::finish`] gives the
/// result.
///
/// Errors are reported by `finish`, in the order pip would meet them (a
/// depth-first walk from the roots, in line order), so they do not depend
/// on the order of `provide` calls.
#[derive(Debug)]
pub struct Collector {
    roots: Vec<ContextPath>,
    files: BTreeMap<ContextPath, FileState>,
    /// Wanted in this wave and not provided yet.
    wave: BTreeSet<ContextPath>,
    /// Includes first named by files of this wave.
    discovered: BTreeSet<ContextPath>,
    /// `-r`/`-c` steps from a root to the files of this wave.
    depth: usize,
}

#[derive(Debug)]
enum FileState {
    Wanted,
    Missing,
    Read { text: String, events: Vec<Event> },
}

impl Collector {
    pub fn new(roots: &[ContextPath]) -> Self {
        let mut files = BTreeMap::new();
        for root in roots {
            if files.len() == MAX_FILES {
                break;
            }
            files.insert(root.clone(), FileState::Wanted);
        }
        Self {
            roots: roots.to_vec(),
            wave: files.keys().cloned().collect(),
            files,
            discovered: BTreeSet::new(),
            depth: 0,
        }
    }

    /// The files to provide next, sorted; empty when all are read.
    pub fn wanted(&self) -> Vec<ContextPath> {
        self.wave.iter().cloned().collect()
    }

    /// The text of a wanted file, or `None` when the context has no such
    /// file. A path that is not wanted is ignored.
    pub fn provide(&mut self, path: &ContextPath, text: Option<String>) {
        if !self.wave.remove(path) {
            return;
        }
        let state = match text {
            None => FileState::Missing,
            Some(text) => {
                let events = parse_file(path, &text);
                for event in &events {
                    if let Event::Include { target, .. } = event {
                        if !self.files.contains_key(target) {
                            self.discovered.insert(target.clone());
                        }
                    }
                }
                FileState::Read { text, events }
            }
        };
        self.files.insert(path.clone(), state);
        if self.wave.is_empty() {
            self.next_wave();
        }
    }

    /// The text a file was provided with, to render an error located in it.
    pub fn source(&self, path: &ContextPath) -> Option<&str> {
        match self.files.get(path) {
            Some(FileState::Read { text, .. }) => Some(text),
            _ => None,
        }
    }

    fn next_wave(&mut self) {
        let discovered = std::mem::take(&mut self.discovered);
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return;
        }
        for path in discovered {
            if self.files.len() == MAX_FILES {
                break;
            }
            if !self.files.contains_key(&path) {
                self.files.insert(path.clone(), FileState::Wanted);
                self.wave.insert(path);
            }
        }
    }

    /// The requirement set, or the first error pip would meet. A wanted
    /// file that was never provided counts as missing.
    pub fn finish(&self) -> Result<RequirementSet, RequirementsError> {
        let mut walk = Walk {
            files: &self.files,
            roles: BTreeMap::new(),
            visited: BTreeSet::new(),
            stack: Vec::new(),
            local: Vec::new(),
            require_hashes: false,
            remote: None,
        };
        for (index, root) in self.roots.iter().enumerate() {
            let problem = match self.files.get(root) {
                Some(FileState::Read { .. }) => {
                    walk.visit(root, false)?;
                    continue;
                }
                Some(_) => RequirementsErrorKind::MissingRoot {
                    path: root.as_str().to_owned(),
                },
                None => RequirementsErrorKind::TooManyFiles { limit: MAX_FILES },
            };
            return Err(RequirementsError {
                location: Location::Root(index),
                kind: problem,
            });
        }
        let mut local = walk.local;
        // A file walked as requirements and as constraints adds its
        // requirements twice.
        local.sort_by(|a, b| {
            (&a.path, &a.file, a.span.start, a.span.end, a.editable).cmp(&(
                &b.path,
                &b.file,
                b.span.start,
                b.span.end,
                b.editable,
            ))
        });
        local.dedup();
        Ok(RequirementSet {
            files: walk
                .roles
                .into_iter()
                .map(|(path, role)| RequirementFile { path, role })
                .collect(),
            require_hashes: walk.require_hashes,
            remote: walk.remote,
            local,
        })
    }
}

/// The requirement of each line of a file's text, as pip splits a line
/// (continuations joined, comments dropped, the words before the first
/// option): `psycopg2>=2.9`, `uwsgi ; sys_platform == "linux"`, `./libs/sdk`.
/// Lines with options only (`-r base.txt`, `-e .`) give nothing. For
/// `pyfront init`, which reads names from files that [`collect`] found.
pub fn requirement_lines(text: &str) -> Vec<String> {
    let start = if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    lexer::join_lines(text, lexer::physical_lines(text, start))
        .iter()
        .filter_map(|logical| {
            let line = &logical.text[lexer::content_range(&logical.text)];
            let before_options = line
                .split(' ')
                .take_while(|word| !word.starts_with('-'))
                .collect::<Vec<_>>()
                .join(" ");
            let requirement = before_options.trim();
            (!requirement.is_empty()).then(|| requirement.to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests;
