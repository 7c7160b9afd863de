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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;

use crate::spec::{ContextPath, SpecErrorKind};

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
    /// Where it is written: a requirement file and the byte range of the
    /// requirement in it.
    pub file: ContextPath,
    pub span: Range<usize>,
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// A problem in the requirement files, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementsError {
    pub location: Location,
    pub kind: RequirementsErrorKind,
}

/// Where an error is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The root with this index in the slice given to [`collect`] or
    /// [`Collector::new`] (the spec's `requirements` entry).
    Root(usize),
    /// A byte range in the text of a requirement file, as it was provided.
    File {
        file: ContextPath,
        span: Range<usize>,
    },
}

impl RequirementsError {
    fn at(file: &ContextPath, span: Range<usize>, kind: RequirementsErrorKind) -> Self {
        Self {
            location: Location::File {
                file: file.clone(),
                span,
            },
            kind,
        }
    }

    /// A one-line fix the user can apply, printed under the message.
    pub fn hint(&self) -> Option<String> {
        self.kind.hint()
    }

    /// The span may hold a URL with credentials: a renderer must mask the
    /// userinfo of URLs in it before showing the source line.
    pub fn masks_credentials(&self) -> bool {
        matches!(
            self.kind,
            RequirementsErrorKind::IndexOption { .. }
                | RequirementsErrorKind::UrlInclude { .. }
                | RequirementsErrorKind::CredentialsInUrl
                | RequirementsErrorKind::IgnoredArgument
        )
    }
}

impl fmt::Display for RequirementsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

impl std::error::Error for RequirementsError {}

/// Every way requirement files can be refused. All wording lives here.
/// Messages never repeat a URL or an option value that could hold a
/// credential; the span points at it instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequirementsErrorKind {
    #[error("requirement file `{path}` is not in the build context")]
    MissingRoot { path: String },
    #[error("`{path}` (included here) is not in the build context")]
    MissingInclude { path: String },
    #[error("include cycle: {}", chain_text(.chain))]
    IncludeCycle { chain: Vec<String> },
    #[error("requirement files include more than {limit} files")]
    TooManyFiles { limit: usize },
    #[error("requirement files are nested more than {limit} levels deep")]
    TooDeep { limit: usize },
    #[error("`{option}` must name a file in the build context, not a URL")]
    UrlInclude { option: String },
    #[error("`{path}` is an absolute path")]
    AbsoluteInclude { path: String },
    #[error("`{path}` is outside the build context")]
    IncludeLeavesContext { path: String },
    #[error("local requirement `{path}` is an absolute path")]
    AbsoluteLocal { path: String },
    #[error("local requirement `{path}` is outside the build context")]
    LocalLeavesContext { path: String },
    #[error("invalid path `{path}`: {reason}")]
    InvalidPath { path: String, reason: &'static str },
    #[error("`{option}` cannot be used in a requirement file")]
    IndexOption { option: String },
    #[error("`{option}` is not supported")]
    RemovedOption { option: String },
    #[error("unknown option `{option}`")]
    UnknownOption { option: String },
    #[error("ambiguous option `{option}`: it could be {}", or_list(.candidates))]
    AmbiguousOption {
        option: String,
        candidates: Vec<&'static str>,
    },
    #[error("`{option}` needs a value")]
    MissingValue { option: String },
    #[error("`{option}` does not take a value")]
    UnexpectedValue { option: String },
    #[error("this quote is never closed")]
    UnclosedQuote,
    #[error("this `\\` does not end the line, so the next line is not joined to this one")]
    BackslashNotAtEnd,
    #[error("requirement files cannot use environment variables (`${{{name}}}`)")]
    EnvironmentVariable { name: String },
    #[error("URLs in requirement files must not contain credentials")]
    CredentialsInUrl,
    #[error("`--hash` expects `ALGORITHM:DIGEST`, such as `sha256:<hex digest>`")]
    HashFormat,
    #[error("`--hash` does not accept `{algorithm}`; use `sha256`, `sha384` or `sha512`")]
    WeakHash { algorithm: String },
    #[error("`{option}` needs a requirement on the same line")]
    OptionWithoutRequirement { option: String },
    #[error("pip ignores `{option}` after a requirement")]
    OptionAfterRequirement { option: String },
    #[error("pip reads only one `-r`, `-c` or `-e` per line")]
    OneIncludePerLine { option: String },
    #[error("pip ignores `{option}` on a line with `-r` or `-c`")]
    OptionOnIncludeLine { option: String },
    #[error("`--hash` does not apply to `-e` requirements")]
    HashOnEditable,
    #[error("pip ignores this argument")]
    IgnoredArgument,
    #[error("constraint files cannot contain `-e` requirements")]
    EditableConstraint,
    #[error("constraint files cannot contain requirements without a name")]
    UnnamedConstraint,
}

impl RequirementsErrorKind {
    fn hint(&self) -> Option<String> {
        let text = match self {
            Self::MissingRoot { path } => {
                return Some(format!(
                    "check that `{path}` exists relative to the build context directory"
                ))
            }
            Self::MissingInclude { .. } | Self::IncludeLeavesContext { .. } => {
                "`-r` and `-c` paths are relative to the directory of the file that names them"
            }
            Self::IncludeCycle { .. } => {
                "pip stops with \"recursively references itself\"; remove one of these includes"
            }
            Self::UrlInclude { .. } => {
                "put the file in the build context and name its path: a remote file can change \
                 without changing the build's cache key"
            }
            Self::AbsoluteInclude { .. } => {
                "name the file relative to the directory of this requirement file"
            }
            Self::AbsoluteLocal { .. } | Self::LocalLeavesContext { .. } => {
                "pip resolves local paths from the build context root, not from the requirement \
                 file: write the path relative to the build context"
            }
            Self::IndexOption { .. } => {
                "declare package indexes in the spec's `[[index]]` tables (with `username` and \
                 `password-secret` for credentials), and remove this option"
            }
            Self::RemovedOption { .. } => {
                "pass build backend settings with `--config-settings KEY=VALUE` (`-C`); pip 25.3 \
                 removed `--global-option` and `--install-option`"
            }
            Self::UnknownOption { .. } => {
                "requirement files accept `-r`, `-c`, `-e`, `--hash`, `-C`, `--pre`, \
                 `--prefer-binary`, `--only-binary`, `--no-binary`, `--require-hashes` and \
                 `--use-feature`"
            }
            Self::BackslashNotAtEnd => "remove the spaces or the comment after the `\\`",
            Self::EnvironmentVariable { .. } => {
                "nothing from your environment reaches the build: write the value out, or \
                 declare a private index in the spec's `[[index]]` tables with `password-secret`"
            }
            Self::CredentialsInUrl => {
                "remove `user:password@`; credentials reach pip only as BuildKit secrets, from \
                 the spec's `[[index]]` tables (`username`, `password-secret`)"
            }
            Self::OptionWithoutRequirement { .. } => {
                "end the previous line with `\\` to continue it onto this line"
            }
            Self::OptionAfterRequirement { option }
            | Self::OneIncludePerLine { option }
            | Self::OptionOnIncludeLine { option } => {
                return Some(format!("put `{option}` on a line of its own"))
            }
            Self::HashOnEditable => {
                "pip checks hashes of downloaded archives, and an editable install has none"
            }
            Self::IgnoredArgument => {
                "only an option's value may follow it; put each requirement on a line of its own"
            }
            Self::EditableConstraint | Self::UnnamedConstraint => {
                "pip rejects it in a constraint file: move it to a file included with `-r`"
            }

            _ => return None,
        };
        Some(text.to_owned())
    }
}

fn chain_text(chain: &[String]) -> String {
    chain
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(" -> ")
}

fn or_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
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
            local,
        })
    }
}

/// The depth-first walk of `finish`, in pip's order.
struct Walk<'a> {
    files: &'a BTreeMap<ContextPath, FileState>,
    roles: BTreeMap<ContextPath, FileRole>,
    /// (file, reached as constraints): a file's lines are checked once per
    /// role, since constraint files have rules of their own.
    visited: BTreeSet<(ContextPath, bool)>,
    /// The include chain from the root to the file being walked.
    stack: Vec<ContextPath>,
    local: Vec<LocalRequirement>,
    require_hashes: bool,
}

impl Walk<'_> {
    fn visit(&mut self, path: &ContextPath, constraint: bool) -> Result<(), RequirementsError> {
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
                        file: path.clone(),
                        span: span.clone(),
                    });
                }
                // pip turns hash checking on for hashes in constraint files
                // too: constraints join the same list of requirements.
                Event::Hashes => self.require_hashes = true,
                Event::Error { kind, span } => {
                    return Err(RequirementsError::at(path, span.clone(), kind.clone()))
                }
            }
        }
        self.stack.pop();
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// One file
// ---------------------------------------------------------------------------

/// What a file says, in line order. Parsing stops at the first error, as
/// pip does; includes before it are still followed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Include {
        target: ContextPath,
        constraint: bool,
        /// The path as written.
        span: Range<usize>,
    },
    Local {
        path: String,
        editable: bool,
        /// `name @ file:...`: pip accepts it as a constraint.
        named: bool,
        span: Range<usize>,
    },
    /// A requirement with `--hash`, or `--require-hashes`.
    Hashes,
    Error {
        kind: RequirementsErrorKind,
        span: Range<usize>,
    },
}

impl Event {
    /// Moves the span from the coordinates of a logical line (continuations
    /// joined) to those of the file.
    fn in_file(mut self, logical: &Logical) -> Self {
        match &mut self {
            Self::Include { span, .. } | Self::Local { span, .. } | Self::Error { span, .. } => {
                *span = logical.file_span(span.clone());
            }
            Self::Hashes => {}
        }
        self
    }
}

fn parse_file(path: &ContextPath, text: &str) -> Vec<Event> {
    // pip decodes with the BOM's codec, which drops it.
    let start = if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    let mut events = Vec::new();
    for logical in join_lines(text, physical_lines(text, start)) {
        match parse_line(path, &logical) {
            Ok(line_events) => {
                events.extend(line_events.into_iter().map(|e| e.in_file(&logical)));
            }
            Err((kind, span)) => {
                events.push(Event::Error { kind, span }.in_file(&logical));
                break;
            }
        }
    }
    events
}

/// The byte ranges of the lines of `text` from `start`, without their
/// terminators, split where Python's `str.splitlines` splits.
fn physical_lines(text: &str, start: usize) -> Vec<Range<usize>> {
    let mut lines = Vec::new();
    let mut line_start = start;
    let mut chars = text[start..].char_indices().peekable();
    while let Some((offset, c)) = chars.next() {
        let at = start + offset;
        let terminator = match c {
            '\r' if matches!(chars.peek(), Some((_, '\n'))) => {
                chars.next();
                2
            }
            '\n' | '\r' | '\u{b}' | '\u{c}' | '\u{1c}' | '\u{1d}' | '\u{1e}' | '\u{85}'
            | '\u{2028}' | '\u{2029}' => c.len_utf8(),
            _ => continue,
        };
        lines.push(line_start..at);
        line_start = at + terminator;
    }
    if line_start < text.len() {
        lines.push(line_start..text.len());
    }
    lines
}

/// Whitespace as Python's `str.isspace` (and the regex `\s`) sees it.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// A line after joining continuations, with the file offset of each piece.
struct Logical {
    text: String,
    /// (offset in `text`, offset in the file) where each piece starts; a
    /// piece is contiguous in the file.
    pieces: Vec<(usize, usize)>,
}

impl Logical {
    fn new() -> Self {
        Self {
            text: String::new(),
            pieces: Vec::new(),
        }
    }

    fn push(&mut self, file: &str, range: Range<usize>) {
        self.pieces.push((self.text.len(), range.start));
        self.text.push_str(&file[range]);
    }

    fn file_offset(&self, offset: usize) -> usize {
        let index = self
            .pieces
            .partition_point(|&(start, _)| start <= offset)
            .saturating_sub(1);
        self.pieces
            .get(index)
            .map_or(offset, |&(start, file)| file + offset.saturating_sub(start))
    }

    fn file_span(&self, span: Range<usize>) -> Range<usize> {
        let start = self.file_offset(span.start);
        let end = if span.end > span.start {
            self.file_offset(span.end - 1) + 1
        } else {
            start
        };
        start..end
    }
}

/// A comment line: `#` first, after optional whitespace.
fn is_comment_line(line: &str) -> bool {
    line.trim_start_matches(is_py_space).starts_with('#')
}

/// pip's `join_lines`: a line ending in `\` (not a comment line) is joined
/// with the next, without its leading and trailing backslashes. A comment
/// line that ends a continuation gets a space in front, so that it is
/// still removed as a comment.
fn join_lines(text: &str, lines: Vec<Range<usize>>) -> Vec<Logical> {
    let mut logical = Vec::new();
    let mut pending: Option<Logical> = None;
    for range in lines {
        let line = &text[range.clone()];
        let comment = is_comment_line(line);
        if !line.ends_with('\\') || comment {
            let mut current = pending.take().unwrap_or_else(Logical::new);
            if comment {
                // Zero width in the file: a synthetic separator.
                current.pieces.push((current.text.len(), range.start));
                current.text.push(' ');
            }
            current.push(text, range);
            logical.push(current);
        } else {
            let leading = line.len() - line.trim_start_matches('\\').len();
            let kept = line.trim_matches('\\');
            let start = range.start + leading;
            pending
                .get_or_insert_with(Logical::new)
                .push(text, start..start + kept.len());
        }
    }
    logical.extend(pending);
    logical
}

/// The range of `text` left after removing a comment (a `#` at the start
/// or after whitespace, with that whitespace) and surrounding whitespace.
fn content_range(text: &str) -> Range<usize> {
    let mut space_run: Option<usize> = None;
    let mut end = text.len();
    for (i, c) in text.char_indices() {
        if c == '#' && (i == 0 || space_run.is_some()) {
            end = space_run.unwrap_or(0);
            break;
        }
        if is_py_space(c) {
            space_run.get_or_insert(i);
        } else {
            space_run = None;
        }
    }
    let kept = &text[..end];
    let trimmed_end = kept.trim_end_matches(is_py_space).len();
    let start = trimmed_end - kept[..trimmed_end].trim_start_matches(is_py_space).len();
    start..trimmed_end
}

type LineError = (RequirementsErrorKind, Range<usize>);

/// The events of one logical line, spans in the line's coordinates.
fn parse_line(path: &ContextPath, logical: &Logical) -> Result<Vec<Event>, LineError> {
    let mut events = Vec::new();
    let range = content_range(&logical.text);
    if range.is_empty() {
        return Ok(events);
    }
    let base = range.start;
    let line = &logical.text[range];
    if line.ends_with('\\') {
        return Err((
            RequirementsErrorKind::BackslashNotAtEnd,
            base + line.len() - 1..base + line.len(),
        ));
    }
    if let Some((span, name)) = find_env_var(line) {
        return Err((
            RequirementsErrorKind::EnvironmentVariable {
                name: name.to_owned(),
            },
            base + span.start..base + span.end,
        ));
    }
    // pip's `break_args_options`: the requirement is every space-separated
    // word before the first that starts with `-`.
    let mut options_at = None;
    let mut offset = 0;
    for word in line.split(' ') {
        if word.starts_with('-') {
            options_at = Some(offset);
            break;
        }
        offset += word.len() + 1;
    }
    let (args, options) = match options_at {
        Some(at) => (&line[..at.saturating_sub(1)], &line[at..]),
        None => (line, ""),
    };
    let options_base = base + options_at.unwrap_or(line.len());
    let tokens = shell_split(options, options_base)?;
    let items = read_options(tokens)?;
    let editable = items.iter().find_map(|item| match item {
        Item::Option {
            opt: Opt::Editable,
            value: Some(value),
            ..
        } => Some(value),
        _ => None,
    });
    let args = args.trim_end();
    if !args.is_empty() {
        requirement_line(base, args, &items, &mut events)?;
    } else if let Some(value) = editable {
        editable_line(value, &items, &mut events)?;
    } else {
        options_line(path, &items, &mut events)?;
    }
    Ok(events)
}

/// `${NAME}` as pip expands it: uppercase letters, digits and `_`.
fn find_env_var(line: &str) -> Option<(Range<usize>, &str)> {
    let bytes = line.as_bytes();
    let mut from = 0;
    while let Some(found) = line[from..].find("${") {
        let start = from + found;
        let name_start = start + 2;
        let len = bytes[name_start..]
            .iter()
            .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || **b == b'_')
            .count();
        if len > 0 && bytes.get(name_start + len) == Some(&b'}') {
            return Some((
                start..name_start + len + 1,
                &line[name_start..name_start + len],
            ));
        }
        from = start + 1;
    }
    None
}

#[derive(Debug, Clone)]
struct Token {
    value: String,
    /// In the logical line, quotes included.
    span: Range<usize>,
}

/// Python's `shlex.split` (POSIX mode, no comments), keeping spans.
fn shell_split(text: &str, base: usize) -> Result<Vec<Token>, LineError> {
    let mut tokens = Vec::new();
    let mut current: Option<Token> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if matches!(c, ' ' | '\t' | '\r' | '\n') {
            tokens.extend(current.take());
            continue;
        }
        let token = current.get_or_insert_with(|| Token {
            value: String::new(),
            span: base + i..base + i,
        });
        match c {
            '\\' => match chars.next() {
                Some((_, next)) => token.value.push(next),
                None => {
                    return Err((
                        RequirementsErrorKind::BackslashNotAtEnd,
                        base + i..base + i + 1,
                    ))
                }
            },
            '\'' => loop {
                match chars.next() {
                    Some((_, '\'')) => break,
                    Some((_, inner)) => token.value.push(inner),
                    None => {
                        return Err((RequirementsErrorKind::UnclosedQuote, base + i..base + i + 1))
                    }
                }
            },
            '"' => loop {
                match chars.next() {
                    Some((_, '"')) => break,
                    Some((_, '\\')) => match chars.peek() {
                        Some(&(_, escaped @ ('"' | '\\'))) => {
                            chars.next();
                            token.value.push(escaped);
                        }
                        _ => token.value.push('\\'),
                    },
                    Some((_, inner)) => token.value.push(inner),
                    None => {
                        return Err((RequirementsErrorKind::UnclosedQuote, base + i..base + i + 1))
                    }
                }
            },
            _ => token.value.push(c),
        }
        token.span.end = base + chars.peek().map_or(text.len(), |&(next, _)| next);
    }
    tokens.extend(current);
    Ok(tokens)
}

/// The options pip's requirement-file parser knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opt {
    Requirement,
    Constraint,
    Editable,
    IndexUrl,
    ExtraIndexUrl,
    NoIndex,
    FindLinks,
    TrustedHost,
    NoBinary,
    OnlyBinary,
    PreferBinary,
    RequireHashes,
    Pre,
    UseFeature,
    Hash,
    ConfigSettings,
    /// `--global-option`, `--install-option`: matched only when spelled out.
    Removed,
}

struct OptSpec {
    opt: Opt,
    short: Option<char>,
    long: &'static [&'static str],
    takes_value: bool,
}

const fn spec(
    opt: Opt,
    short: Option<char>,
    long: &'static [&'static str],
    takes_value: bool,
) -> OptSpec {
    OptSpec {
        opt,
        short,
        long,
        takes_value,
    }
}

/// pip's `SUPPORTED_OPTIONS` and `SUPPORTED_OPTIONS_REQ`, spelled as in
/// `cmdoptions.py`.
const OPTIONS: &[OptSpec] = &[
    spec(
        Opt::IndexUrl,
        Some('i'),
        &["--index-url", "--pypi-url"],
        true,
    ),
    spec(Opt::ExtraIndexUrl, None, &["--extra-index-url"], true),
    spec(Opt::NoIndex, None, &["--no-index"], false),
    spec(Opt::Constraint, Some('c'), &["--constraint"], true),
    spec(Opt::Requirement, Some('r'), &["--requirement"], true),
    spec(Opt::Editable, Some('e'), &["--editable"], true),
    spec(Opt::FindLinks, Some('f'), &["--find-links"], true),
    spec(Opt::NoBinary, None, &["--no-binary"], true),
    spec(Opt::OnlyBinary, None, &["--only-binary"], true),
    spec(Opt::PreferBinary, None, &["--prefer-binary"], false),
    spec(Opt::RequireHashes, None, &["--require-hashes"], false),
    spec(Opt::Pre, None, &["--pre"], false),
    spec(Opt::TrustedHost, None, &["--trusted-host"], true),
    spec(Opt::UseFeature, None, &["--use-feature"], true),
    spec(Opt::Hash, None, &["--hash"], true),
    spec(Opt::ConfigSettings, Some('C'), &["--config-settings"], true),
];

const REMOVED: OptSpec = spec(
    Opt::Removed,
    None,
    &["--global-option", "--install-option"],
    true,
);

/// An option token read the way `optparse` reads it: a long option by its
/// full name or an unambiguous prefix; a short one with its value attached
/// or in the next token.
#[derive(Debug)]
enum Item {
    Option {
        opt: Opt,
        /// As written, or the full name when abbreviated.
        name: String,
        /// From the option to the end of its value.
        span: Range<usize>,
        value: Option<Token>,
    },
    /// A word that is no option's value: `optparse` returns it, pip drops it.
    Positional(Range<usize>),
}

fn read_options(tokens: Vec<Token>) -> Result<Vec<Item>, LineError> {
    let mut items = Vec::new();
    let mut tokens = tokens.into_iter();
    while let Some(token) = tokens.next() {
        if token.value == "--" {
            items.extend(tokens.map(|t| Item::Positional(t.span)));
            break;
        }
        let (spec, name, inline) = if let Some(long) = token.value.strip_prefix("--") {
            let (written, inline) = match long.split_once('=') {
                Some((name, value)) => (format!("--{name}"), Some(value.to_owned())),
                None => (token.value.clone(), None),
            };
            let (spec, name) = match_long(&written).map_err(|kind| (kind, token.span.clone()))?;
            (spec, name, inline)
        } else if token.value.len() > 1 && token.value.starts_with('-') {
            let written: String = token.value.chars().take(2).collect();
            let short = written.chars().nth(1);
            let spec = OPTIONS
                .iter()
                .find(|s| s.short.is_some() && s.short == short)
                .ok_or_else(|| {
                    (
                        RequirementsErrorKind::UnknownOption {
                            option: written.clone(),
                        },
                        token.span.clone(),
                    )
                })?;
            let rest = &token.value[written.len()..];
            (
                spec,
                written.clone(),
                (!rest.is_empty()).then(|| rest.to_owned()),
            )
        } else {
            items.push(Item::Positional(token.span));
            continue;
        };
        let value = match (spec.takes_value, inline) {
            (true, Some(inline)) => {
                // Attached values start after the option name (and `=`).
                let skip = token.value.len() - inline.len();
                let start = (token.span.start + skip).min(token.span.end);
                Some(Token {
                    value: inline,
                    span: start..token.span.end,
                })
            }
            (true, None) => Some(tokens.next().ok_or_else(|| {
                (
                    RequirementsErrorKind::MissingValue {
                        option: name.clone(),
                    },
                    token.span.clone(),
                )
            })?),
            (false, Some(_)) => {
                return Err((
                    RequirementsErrorKind::UnexpectedValue { option: name },
                    token.span,
                ))
            }
            (false, None) => None,
        };
        let end = value.as_ref().map_or(token.span.end, |v| v.span.end);
        items.push(Item::Option {
            opt: spec.opt,
            name,
            span: token.span.start..end,
            value,
        });
    }
    Ok(items)
}

/// `optparse`'s `_match_abbrev`: an exact name, else the only long option
/// that starts with it.
fn match_long(written: &str) -> Result<(&'static OptSpec, String), RequirementsErrorKind> {
    if REMOVED.long.contains(&written) {
        return Ok((&REMOVED, written.to_owned()));
    }
    let mut candidates = Vec::new();
    for spec in OPTIONS {
        for long in spec.long {
            if *long == written {
                return Ok((spec, written.to_owned()));
            }
            if long.starts_with(written) {
                candidates.push((spec, *long));
            }
        }
    }
    match candidates.as_slice() {
        [(spec, long)] => Ok((spec, (*long).to_owned())),
        [] => Err(RequirementsErrorKind::UnknownOption {
            option: written.to_owned(),
        }),
        many => Err(RequirementsErrorKind::AmbiguousOption {
            option: written.to_owned(),
            candidates: many.iter().map(|(_, long)| *long).collect(),
        }),
    }
}

/// Refuses what no line may hold, whatever its kind.
fn check_refused(opt: Opt, name: &str, span: &Range<usize>) -> Result<(), LineError> {
    let kind = match opt {
        Opt::IndexUrl | Opt::ExtraIndexUrl | Opt::NoIndex | Opt::FindLinks | Opt::TrustedHost => {
            RequirementsErrorKind::IndexOption {
                option: name.to_owned(),
            }
        }
        Opt::Removed => RequirementsErrorKind::RemovedOption {
            option: name.to_owned(),
        },
        _ => return Ok(()),
    };
    Err((kind, span.clone()))
}

/// A line with a requirement: only `--hash` and `-C` apply to it.
fn requirement_line(
    base: usize,
    args: &str,
    items: &[Item],
    events: &mut Vec<Event>,
) -> Result<(), LineError> {
    let args_span = base..base + args.len();
    check_credentials(args, base)?;
    let mut hashes = false;
    for item in items {
        match item {
            Item::Positional(span) => {
                return Err((RequirementsErrorKind::IgnoredArgument, span.clone()))
            }
            Item::Option {
                opt,
                name,
                span,
                value,
            } => {
                check_refused(*opt, name, span)?;
                match opt {
                    Opt::Hash => {
                        if let Some(value) = value {
                            check_hash(value)?;
                        }
                        hashes = true;
                    }
                    Opt::ConfigSettings => {}
                    _ => {
                        return Err((
                            RequirementsErrorKind::OptionAfterRequirement {
                                option: name.clone(),
                            },
                            span.clone(),
                        ))
                    }
                }
            }
        }
    }
    if let Some(target) = local_target(args) {
        let local = normalize_local(&target.path).map_err(|kind| (kind, args_span.clone()))?;
        events.push(Event::Local {
            path: local,
            editable: false,
            named: target.named,
            span: args_span,
        });
    }
    if hashes {
        events.push(Event::Hashes);
    }
    Ok(())
}

/// An `-e` line: only `-C` applies to it.
fn editable_line(value: &Token, items: &[Item], events: &mut Vec<Event>) -> Result<(), LineError> {
    let mut seen_editable = false;
    for item in items {
        match item {
            Item::Positional(span) => {
                return Err((RequirementsErrorKind::IgnoredArgument, span.clone()))
            }
            Item::Option {
                opt, name, span, ..
            } => {
                check_refused(*opt, name, span)?;
                let kind = match opt {
                    Opt::ConfigSettings => continue,
                    Opt::Editable if !seen_editable => {
                        seen_editable = true;
                        continue;
                    }
                    Opt::Editable | Opt::Requirement | Opt::Constraint => {
                        RequirementsErrorKind::OneIncludePerLine {
                            option: name.clone(),
                        }
                    }
                    Opt::Hash => RequirementsErrorKind::HashOnEditable,
                    _ => RequirementsErrorKind::OptionAfterRequirement {
                        option: name.clone(),
                    },
                };
                return Err((kind, span.clone()));
            }
        }
    }
    check_credentials(&value.value, value.span.start)?;
    if let Some(raw) = editable_target(&value.value) {
        let local = normalize_local(&raw).map_err(|kind| (kind, value.span.clone()))?;
        events.push(Event::Local {
            path: local,
            editable: true,
            named: false,
            span: value.span.clone(),
        });
    }
    Ok(())
}

/// A line of options only: at most one `-r` or `-c`, and the options that
/// apply to the whole install.
fn options_line(
    path: &ContextPath,
    items: &[Item],
    events: &mut Vec<Event>,
) -> Result<(), LineError> {
    // pip recurses into a `-r`/`-c` line and never reads its other options.
    let includes = items.iter().any(|item| {
        matches!(
            item,
            Item::Option {
                opt: Opt::Requirement | Opt::Constraint,
                ..
            }
        )
    });
    let mut include: Option<Event> = None;
    for item in items {
        let (opt, name, span, value) = match item {
            Item::Positional(span) => {
                return Err((RequirementsErrorKind::IgnoredArgument, span.clone()))
            }
            Item::Option {
                opt,
                name,
                span,
                value,
            } => (*opt, name, span, value),
        };
        check_refused(opt, name, span)?;
        match opt {
            Opt::Requirement | Opt::Constraint => {
                if include.is_some() {
                    return Err((
                        RequirementsErrorKind::OneIncludePerLine {
                            option: name.clone(),
                        },
                        span.clone(),
                    ));
                }
                let Some(value) = value else { continue };
                let target = resolve_include(path, name, value)?;
                include = Some(Event::Include {
                    target,
                    constraint: opt == Opt::Constraint,
                    span: value.span.clone(),
                });
            }
            _ if includes => {
                return Err((
                    RequirementsErrorKind::OptionOnIncludeLine {
                        option: name.clone(),
                    },
                    span.clone(),
                ))
            }
            Opt::Hash | Opt::ConfigSettings => {
                return Err((
                    RequirementsErrorKind::OptionWithoutRequirement {
                        option: name.clone(),
                    },
                    span.clone(),
                ))
            }
            Opt::RequireHashes => events.push(Event::Hashes),
            _ => {}
        }
    }
    events.extend(include);
    Ok(())
}

fn check_hash(value: &Token) -> Result<(), LineError> {
    let Some((algorithm, _)) = value.value.split_once(':') else {
        return Err((RequirementsErrorKind::HashFormat, value.span.clone()));
    };
    if !matches!(algorithm, "sha256" | "sha384" | "sha512") {
        return Err((
            RequirementsErrorKind::WeakHash {
                algorithm: algorithm.to_owned(),
            },
            value.span.clone(),
        ));
    }
    Ok(())
}

/// Refuses a URL with a password, or with any user for HTTP(S): that user
/// is a token. `git+ssh://git@host` names an SSH user, not a secret.
fn check_credentials(text: &str, base: usize) -> Result<(), LineError> {
    let mut offset = 0;
    for word in text.split(' ') {
        if let Some((scheme, rest)) = word.split_once("://") {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
            if let Some((userinfo, _)) = authority.rsplit_once('@') {
                let transport = scheme.rsplit('+').next().unwrap_or_default();
                let web = transport.eq_ignore_ascii_case("http")
                    || transport.eq_ignore_ascii_case("https");
                if userinfo.contains(':') || (web && !userinfo.is_empty()) {
                    return Err((
                        RequirementsErrorKind::CredentialsInUrl,
                        base + offset..base + offset + word.len(),
                    ));
                }
            }
        }
        offset += word.len() + 1;
    }
    Ok(())
}

/// `http:`, `https:` and `file:` includes are URLs to pip (`SCHEME_RE`).
fn is_include_url(value: &str) -> bool {
    value.split_once(':').is_some_and(|(scheme, _)| {
        ["http", "https", "file"]
            .iter()
            .any(|s| scheme.eq_ignore_ascii_case(s))
    })
}

/// The context path of an include, relative to the including file's
/// directory.
fn resolve_include(
    including: &ContextPath,
    option: &str,
    value: &Token,
) -> Result<ContextPath, LineError> {
    let written = value.value.as_str();
    let fail = |kind| (kind, value.span.clone());
    if is_include_url(written) {
        return Err((
            RequirementsErrorKind::UrlInclude {
                option: option.to_owned(),
            },
            value.span.clone(),
        ));
    }
    if written.starts_with('/') {
        return Err(fail(RequirementsErrorKind::AbsoluteInclude {
            path: written.to_owned(),
        }));
    }
    let directory = including
        .as_str()
        .rsplit_once('/')
        .map_or("", |(directory, _)| directory);
    let joined = join_relative(directory, written).ok_or_else(|| {
        fail(RequirementsErrorKind::IncludeLeavesContext {
            path: written.to_owned(),
        })
    })?;
    ContextPath::parse(&joined).map_err(|error| {
        fail(RequirementsErrorKind::InvalidPath {
            path: written.to_owned(),
            reason: path_reason(&error),
        })
    })
}

fn path_reason(error: &SpecErrorKind) -> &'static str {
    match error {
        SpecErrorKind::InvalidPath { reason, .. } => reason,
        _ => "not a path in the build context",
    }
}

/// `directory` joined with `relative`, `.` and `..` resolved; `None` when
/// `..` climbs above the context root. (Lexical, as pip's join is, except
/// through symbolic links.)
fn join_relative(directory: &str, relative: &str) -> Option<String> {
    let mut parts: Vec<&str> = directory.split('/').filter(|p| !p.is_empty()).collect();
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            _ => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// A local requirement's path relative to the context root, `.` for the
/// root itself.
fn normalize_local(raw: &str) -> Result<String, RequirementsErrorKind> {
    if raw.starts_with('/') {
        return Err(RequirementsErrorKind::AbsoluteLocal {
            path: raw.to_owned(),
        });
    }
    let joined =
        join_relative("", raw).ok_or_else(|| RequirementsErrorKind::LocalLeavesContext {
            path: raw.to_owned(),
        })?;
    if joined.is_empty() {
        return Ok(".".to_owned());
    }
    ContextPath::parse(&joined)
        .map(|p| p.as_str().to_owned())
        .map_err(|error| RequirementsErrorKind::InvalidPath {
            path: raw.to_owned(),
            reason: path_reason(&error),
        })
}

struct LocalTarget {
    /// Decoded path, relative to the context root unless absolute.
    path: String,
    named: bool,
}

/// pip's `is_url`: a scheme it can download from or a VCS scheme.
fn url_scheme(text: &str) -> Option<String> {
    let (scheme, _) = text.split_once(':')?;
    let scheme = scheme.to_ascii_lowercase();
    let vcs = ["git", "hg", "svn", "bzr"]
        .iter()
        .any(|v| scheme == *v || scheme.starts_with(&format!("{v}+")));
    (vcs || ["http", "https", "file", "ftp"].contains(&scheme.as_str())).then_some(scheme)
}

/// The local path a requirement names, if it names one (pip's
/// `parse_req_from_line`, without looking at the disk).
fn local_target(args: &str) -> Option<LocalTarget> {
    let scheme = url_scheme(args);
    // Markers: pip splits URLs at `; ` (a URL may contain `;`), others at `;`.
    let separator = if scheme.is_some() { "; " } else { ";" };
    let requirement = args.split(separator).next().unwrap_or_default().trim();
    match scheme.as_deref() {
        Some("file") => {
            return Some(LocalTarget {
                path: file_url_path(requirement),
                named: false,
            })
        }
        Some(_) => return None,
        None => {}
    }
    // `name[extras] @ URL`, unless what precedes `@` looks like a path.
    if let Some((name, url)) = requirement.split_once('@') {
        if !looks_like_path(name) {
            let url = url.trim();
            return url_scheme(url)
                .is_some_and(|s| s == "file")
                .then(|| LocalTarget {
                    path: file_url_path(url),
                    named: true,
                });
        }
    }
    let path = strip_extras(requirement);
    (looks_like_path(requirement) || is_archive(path)).then(|| LocalTarget {
        path: path.to_owned(),
        named: false,
    })
}

/// The local path an `-e` value names: anything that is not a VCS URL
/// (pip's `parse_editable`).
fn editable_target(value: &str) -> Option<String> {
    let value = strip_extras(value);
    match url_scheme(value).as_deref() {
        Some("file") => Some(file_url_path(value)),
        Some(_) => None,
        None if value.contains("://") => None,
        None => Some(value.to_owned()),
    }
}

fn looks_like_path(name: &str) -> bool {
    name.contains('/') || name.starts_with('.')
}

/// pip's `_strip_extras`: a trailing `[...]`.
fn strip_extras(text: &str) -> &str {
    let Some(inner_end) = text.len().checked_sub(1).filter(|_| text.ends_with(']')) else {
        return text;
    };
    match text[..inner_end].rfind('[') {
        Some(open)
            if open > 0 && open + 1 < inner_end && !text[open + 1..inner_end].contains(']') =>
        {
            &text[..open]
        }
        _ => text,
    }
}

/// pip's `ARCHIVE_EXTENSIONS`.
fn is_archive(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    [
        ".whl",
        ".zip",
        ".tar.gz",
        ".tgz",
        ".tar",
        ".tar.bz2",
        ".tbz",
        ".tar.xz",
        ".txz",
        ".tlz",
        ".tar.lz",
        ".tar.lzma",
    ]
    .iter()
    .any(|ext| lower.ends_with(ext))
}

/// The path of a `file:` URL, percent-decoded: `file:libs/x` and
/// `file:./libs/x` are relative (to pip's working directory);
/// `file:///x` and `file://localhost/x` are absolute; `file://host/x`
/// names another machine and is kept absolute-looking (`//host/x`).
fn file_url_path(url: &str) -> String {
    let rest = &url["file:".len().min(url.len())..];
    let rest = rest.split(['#', '?']).next().unwrap_or_default();
    let path = match rest.strip_prefix("//") {
        Some(after) => {
            let (host, path) = after.split_at(after.find('/').unwrap_or(after.len()));
            if host.is_empty() || host.eq_ignore_ascii_case("localhost") {
                path.to_owned()
            } else {
                format!("//{host}{path}")
            }
        }
        None => rest.to_owned(),
    };
    percent_decode(&path)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Diagnostic, SpecError};

    fn path(p: &str) -> ContextPath {
        ContextPath::parse(p).unwrap()
    }

    fn run(files: &[(&str, &str)], roots: &[&str]) -> Result<RequirementSet, RequirementsError> {
        let map: BTreeMap<&str, &str> = files.iter().copied().collect();
        let roots: Vec<ContextPath> = roots.iter().map(|r| path(r)).collect();
        collect(&roots, &mut |p| {
            map.get(p.as_str()).map(|t| (*t).to_owned())
        })
    }

    /// The first file is the root.
    fn ok(files: &[(&str, &str)]) -> RequirementSet {
        run(files, &[files[0].0]).unwrap_or_else(|e| panic!("{}", located(files, &e)))
    }

    /// `file:line:col: message`, located by the spec's own [`Diagnostic`]
    /// (a `Toml` kind only carries the message through).
    fn located(files: &[(&str, &str)], error: &RequirementsError) -> String {
        match &error.location {
            Location::Root(index) => format!("root {index}: {error}"),
            Location::File { file, span } => {
                let source = files
                    .iter()
                    .find(|(p, _)| *p == file.as_str())
                    .map(|(_, text)| *text)
                    .unwrap();
                let spec_error = SpecError {
                    span: Some(span.clone()),
                    kind: SpecErrorKind::Toml {
                        message: error.to_string(),
                    },
                };
                Diagnostic::new(file.as_str(), source, &spec_error).to_string()
            }
        }
    }

    fn fails(files: &[(&str, &str)]) -> String {
        let error = run(files, &[files[0].0]).unwrap_err();
        located(files, &error)
    }

    fn paths(set: &RequirementSet) -> Vec<(&str, FileRole)> {
        set.files
            .iter()
            .map(|f| (f.path.as_str(), f.role))
            .collect()
    }

    use FileRole::{Both, Constraints, Requirements};

    #[test]
    fn every_include_spelling_pip_accepts() {
        let cases = [
            ("-r base.txt", Requirements),
            ("-rbase.txt", Requirements),
            ("--requirement=base.txt", Requirements),
            ("--requirement base.txt", Requirements),
            ("--requirement   base.txt", Requirements),
            ("--requirem base.txt", Requirements),
            ("-r 'base.txt'", Requirements),
            ("-r \"base.txt\"", Requirements),
            ("-r\tbase.txt", Requirements),
            ("-r ./base.txt", Requirements),
            ("-r sub/../base.txt", Requirements),
            ("-c base.txt", Constraints),
            ("-cbase.txt", Constraints),
            ("--constraint=base.txt", Constraints),
            ("--constraint base.txt", Constraints),
            ("--constr=base.txt", Constraints),
        ];
        for (line, role) in cases {
            let set = ok(&[("requirements.txt", line), ("base.txt", "django\n")]);
            assert_eq!(
                paths(&set),
                [("base.txt", role), ("requirements.txt", Requirements)],
                "{line}"
            );
        }
    }

    #[test]
    fn includes_are_relative_to_the_including_file() {
        let set = ok(&[
            (
                "requirements/prod.txt",
                "-r base.txt\n-c ../constraints.txt\n-r ./common/../extra.txt\n",
            ),
            ("requirements/base.txt", "-r ../shared/common.txt\n"),
            ("requirements/extra.txt", ""),
            ("constraints.txt", ""),
            ("shared/common.txt", ""),
        ]);
        assert_eq!(
            paths(&set),
            [
                ("constraints.txt", Constraints),
                ("requirements/base.txt", Requirements),
                ("requirements/extra.txt", Requirements),
                ("requirements/prod.txt", Requirements),
                ("shared/common.txt", Requirements),
            ]
        );
    }

    #[test]
    fn the_including_option_decides_the_role_as_in_pip() {
        // pip: `-r` inside a constraint file names a requirement file.
        let set = ok(&[
            ("requirements.txt", "-c constraints.txt\n-r common.txt\n"),
            ("constraints.txt", "-r pins.txt\n-c common.txt\n"),
            ("pins.txt", "urllib3<3\n"),
            ("common.txt", "urllib3\n"),
        ]);
        assert_eq!(
            paths(&set),
            [
                ("common.txt", Both),
                ("constraints.txt", Constraints),
                ("pins.txt", Requirements),
                ("requirements.txt", Requirements),
            ]
        );
    }

    #[test]
    fn lines_are_read_as_pip_reads_them() {
        // (root text, files reached besides the root)
        let cases: &[(&str, &[&str])] = &[
            ("# -r a.txt\n", &[]),
            ("   # -r a.txt\n", &[]),
            ("django # -r a.txt\n", &[]),
            ("-r a.txt # a comment\n", &["a.txt"]),
            ("-r a.txt#not-a-comment\n", &["a.txt#not-a-comment"]),
            ("\n\n   \n\t\n-r a.txt\n\n", &["a.txt"]),
            ("-r \\\n  a.txt\n", &["a.txt"]),
            ("-r \\\n\\\n  a.txt\n", &["a.txt"]),
            // A comment line ends a continuation and does not continue.
            (
                "django==4.2 \\\n# trailing comment \\\n-r a.txt\n",
                &["a.txt"],
            ),
            ("-r a.txt\r\n-r b.txt\r\n", &["a.txt", "b.txt"]),
            ("-r a.txt\r-r b.txt", &["a.txt", "b.txt"]),
            ("-r a.txt\u{c}-r b.txt\u{2028}", &["a.txt", "b.txt"]),
            ("\u{feff}-r a.txt\n", &["a.txt"]),
            // Lowercase names are not variables to pip: left alone.
            (
                "-r a.txt\npkg @ https://host/${token}/pkg.whl\n",
                &["a.txt"],
            ),
        ];
        for (text, expected) in cases {
            let mut files = vec![("requirements.txt", *text)];
            files.extend(expected.iter().map(|p| (*p, "")));
            let set = ok(&files);
            let reached: Vec<&str> = set
                .files
                .iter()
                .map(|f| f.path.as_str())
                .filter(|p| *p != "requirements.txt")
                .collect();
            assert_eq!(reached, *expected, "{text:?}");
        }
    }

    #[test]
    fn hashes_turn_on_hash_checking() {
        let cases = [
            ("django==4.2\n", false),
            ("django==4.2 --hash=sha256:abc\n", true),
            ("django==4.2 --hash sha512:abc\n", true),
            (
                "django==4.2 \\\n    --hash=sha256:abc \\\n    --hash=sha256:def\n",
                true,
            ),
            ("django==4.2 --hash=sha256:abc#not-a-comment\n", true),
            ("django==4.2 # --hash=sha256:abc\n", false),
            ("--require-hashes\ndjango==4.2\n", true),
        ];
        for (text, want) in cases {
            assert_eq!(
                ok(&[("requirements.txt", text)]).require_hashes,
                want,
                "{text:?}"
            );
        }
        // Hashes in a constraint file count: pip puts constraints in the
        // same list of requirements it checks for hashes.
        let set = ok(&[
            ("requirements.txt", "-c constraints.txt\ndjango\n"),
            ("constraints.txt", "django==4.2 --hash=sha256:abc\n"),
        ]);
        assert!(set.require_hashes);
    }

    #[test]
    fn local_requirements_are_found_relative_to_the_context_root() {
        // (line, Some((path, editable)) when local)
        let cases: &[(&str, Option<(&str, bool)>)] = &[
            ("-e .", Some((".", true))),
            ("-e ./libs/sdk", Some(("libs/sdk", true))),
            ("--editable=./libs/sdk/", Some(("libs/sdk", true))),
            ("-e .[dev,test]", Some((".", true))),
            (
                "-e ./libs/sdk[async] -C editable_mode=compat",
                Some(("libs/sdk", true)),
            ),
            ("-e file:libs/sdk#egg=sdk", Some(("libs/sdk", true))),
            ("./libs/sdk", Some(("libs/sdk", false))),
            (
                "./libs/sdk[extra] ; python_version >= \"3.10\"",
                Some(("libs/sdk", false)),
            ),
            ("libs/sdk", Some(("libs/sdk", false))),
            ("file:libs/sdk", Some(("libs/sdk", false))),
            (
                "file:./libs/sdk#subdirectory=python",
                Some(("libs/sdk", false)),
            ),
            ("sdk @ file:libs/sdk", Some(("libs/sdk", false))),
            (
                "sdk[async] @ file:libs/my%20sdk ; os_name == \"posix\"",
                Some(("libs/my sdk", false)),
            ),
            ("sdk @ file://localhost/", None),
            (
                "dist/sdk-1.0-py3-none-any.whl",
                Some(("dist/sdk-1.0-py3-none-any.whl", false)),
            ),
            ("sdk-1.0.tar.gz", Some(("sdk-1.0.tar.gz", false))),
            ("django>=4.2", None),
            ("requests[security]>=2.31; python_version < \"3.13\"", None),
            ("git+https://github.com/org/repo.git@v1#egg=repo", None),
            ("-e git+https://github.com/org/repo.git#egg=repo", None),
            ("-e git+ssh://git@github.com/org/repo.git#egg=repo", None),
            ("pkg @ https://example.com/pkg-1.0-py3-none-any.whl", None),
            ("pkg @ git+https://github.com/org/pkg", None),
            ("https://example.com/pkg-1.0.tar.gz", None),
        ];
        for (line, want) in cases {
            let result = run(&[("requirements.txt", line)], &["requirements.txt"]);
            if line.contains("localhost/") {
                // `file:///` is absolute: refused, see the error table.
                assert!(result.is_err(), "{line}");
                continue;
            }
            let set = result.unwrap_or_else(|e| panic!("{line}: {e}"));
            let got: Vec<(&str, bool)> = set
                .local
                .iter()
                .map(|l| (l.path.as_str(), l.editable))
                .collect();
            assert_eq!(got, want.iter().copied().collect::<Vec<_>>(), "{line}");
        }
        // In a file in a subdirectory, still from the context root.
        let set = ok(&[("requirements/dev.txt", "-e ./libs/sdk\n")]);
        assert_eq!(set.local[0].path, "libs/sdk");
    }

    const DJANGO_ROOT: &str = "\
# Production entry point: see requirements/
-r requirements/production.txt
";
    const DJANGO_PRODUCTION: &str = "\
-r base.txt
-c ../constraints.txt

gunicorn==21.2.0 \\
    --hash=sha256:aaa \\
    --hash=sha256:bbb
psycopg[binary,pool]==3.1.18 ; python_version >= \"3.10\" \\
    --hash=sha256:ccc  # the pool extra needs it
";
    const DJANGO_BASE: &str = "\
Django==4.2.11 --hash=sha256:ddd
django-environ==0.11.2 \\
    --hash=sha256:eee
sdk-client @ file:libs/client --hash=sha256:fff
";
    const DJANGO_DEV: &str = "\
-r base.txt
-e .
-e ./libs/sdk[async]
./libs/utils ; sys_platform == \"linux\"
pytest==8.1.1
--pre
";
    const DJANGO_CONSTRAINTS: &str = "urllib3<3\nsqlparse>=0.5\n";

    fn django_tree() -> Vec<(&'static str, &'static str)> {
        vec![
            ("requirements.txt", DJANGO_ROOT),
            ("requirements/production.txt", DJANGO_PRODUCTION),
            ("requirements/base.txt", DJANGO_BASE),
            ("requirements/dev.txt", DJANGO_DEV),
            ("constraints.txt", DJANGO_CONSTRAINTS),
        ]
    }

    #[test]
    fn a_django_production_tree() {
        let files = django_tree();
        let set = run(&files, &["requirements.txt"]).unwrap();
        assert_eq!(
            paths(&set),
            [
                ("constraints.txt", Constraints),
                ("requirements.txt", Requirements),
                ("requirements/base.txt", Requirements),
                ("requirements/production.txt", Requirements),
            ]
        );
        assert!(set.require_hashes);
        let [client] = set.local.as_slice() else {
            panic!("{:?}", set.local)
        };
        assert_eq!(
            (client.path.as_str(), client.editable),
            ("libs/client", false)
        );
        assert_eq!(client.file.as_str(), "requirements/base.txt");
        assert_eq!(
            &DJANGO_BASE[client.span.clone()],
            "sdk-client @ file:libs/client"
        );
    }

    #[test]
    fn a_django_development_tree() {
        let files = django_tree();
        let set = run(&files, &["requirements/dev.txt"]).unwrap();
        assert_eq!(
            paths(&set),
            [
                ("requirements/base.txt", Requirements),
                ("requirements/dev.txt", Requirements),
            ]
        );
        // base.txt has hashes: pip would then refuse the `-e` lines, but
        // that is pip's to say.
        assert!(set.require_hashes);
        let local: Vec<(&str, bool, &str, &str)> = set
            .local
            .iter()
            .map(|l| {
                let text = if l.file.as_str() == "requirements/dev.txt" {
                    DJANGO_DEV
                } else {
                    DJANGO_BASE
                };
                (
                    l.path.as_str(),
                    l.editable,
                    l.file.as_str(),
                    &text[l.span.clone()],
                )
            })
            .collect();
        assert_eq!(
            local,
            [
                (".", true, "requirements/dev.txt", "."),
                (
                    "libs/client",
                    false,
                    "requirements/base.txt",
                    "sdk-client @ file:libs/client"
                ),
                (
                    "libs/sdk",
                    true,
                    "requirements/dev.txt",
                    "./libs/sdk[async]"
                ),
                (
                    "libs/utils",
                    false,
                    "requirements/dev.txt",
                    "./libs/utils ; sys_platform == \"linux\""
                ),
            ]
        );
    }

    /// Drives a [`Collector`], providing each wave in the given order.
    fn drive(
        files: &[(&str, &str)],
        roots: &[&str],
        reverse: bool,
    ) -> Result<RequirementSet, RequirementsError> {
        let map: BTreeMap<&str, &str> = files.iter().copied().collect();
        let roots: Vec<ContextPath> = roots.iter().map(|r| path(r)).collect();
        let mut collector = Collector::new(&roots);
        loop {
            let mut wanted = collector.wanted();
            if wanted.is_empty() {
                break;
            }
            if reverse {
                wanted.reverse();
            }
            for p in wanted {
                collector.provide(&p, map.get(p.as_str()).map(|t| (*t).to_owned()));
            }
        }
        collector.finish()
    }

    #[test]
    fn results_do_not_depend_on_read_or_root_order() {
        let files = django_tree();
        let roots = ["requirements/dev.txt", "requirements.txt"];
        let forward = drive(&files, &roots, false).unwrap();
        assert_eq!(drive(&files, &roots, true).unwrap(), forward);
        assert_eq!(
            drive(&files, &["requirements.txt", "requirements/dev.txt"], true).unwrap(),
            forward
        );
        assert_eq!(run(&files, &roots).unwrap(), forward);
        let sorted = |set: &RequirementSet| {
            set.files.windows(2).all(|w| w[0].path < w[1].path)
                && set.local.windows(2).all(|w| w[0].path <= w[1].path)
        };
        assert!(sorted(&forward));

        // The order of the include lines does not matter either.
        let a = ok(&[
            ("r.txt", "-r b.txt\n-c a.txt\n-r c/d.txt\n"),
            ("a.txt", ""),
            ("b.txt", ""),
            ("c/d.txt", ""),
        ]);
        let b = ok(&[
            ("r.txt", "-r c/d.txt\n-r b.txt\n-c a.txt\n"),
            ("a.txt", ""),
            ("b.txt", ""),
            ("c/d.txt", ""),
        ]);
        assert_eq!(a, b);

        // Errors too: the first pip would meet, whatever the read order.
        let broken = [
            ("r.txt", "-r a.txt\n-r b.txt\n"),
            ("a.txt", "--index-url https://example.com/simple\n"),
            ("b.txt", "--bogus\n"),
        ];
        let first = drive(&broken, &["r.txt"], false).unwrap_err();
        assert_eq!(drive(&broken, &["r.txt"], true).unwrap_err(), first);
        assert_eq!(
            located(&broken, &first),
            "a.txt:1:1: `--index-url` cannot be used in a requirement file"
        );
    }

    #[test]
    fn each_file_is_read_once() {
        // A diamond, a file reached as requirements and as constraints, and
        // a root listed twice.
        let files = [
            ("requirements.txt", "-r a.txt\n-r b.txt\n-c shared.txt\n"),
            ("a.txt", "-r shared.txt\n"),
            ("b.txt", "-r shared.txt\n-r a.txt\n"),
            ("shared.txt", "django\n"),
        ];
        let map: BTreeMap<&str, &str> = files.iter().copied().collect();
        let mut reads: BTreeMap<String, usize> = BTreeMap::new();
        let roots = [path("requirements.txt"), path("requirements.txt")];
        let set = collect(&roots, &mut |p| {
            *reads.entry(p.as_str().to_owned()).or_default() += 1;
            map.get(p.as_str()).map(|t| (*t).to_owned())
        })
        .unwrap();
        assert!(reads.values().all(|n| *n == 1), "{reads:?}");
        assert_eq!(reads.len(), 4);
        assert_eq!(set.files.len(), 4);
        assert_eq!(set.files[3].path.as_str(), "shared.txt");
        assert_eq!(set.files[3].role, Both);
    }

    #[test]
    fn the_collector_asks_in_waves() {
        let files = django_tree();
        let map: BTreeMap<&str, &str> = files.iter().copied().collect();
        let mut collector = Collector::new(&[path("requirements.txt")]);
        let mut waves = Vec::new();
        loop {
            let wanted = collector.wanted();
            if wanted.is_empty() {
                break;
            }
            waves.push(
                wanted
                    .iter()
                    .map(|p| p.as_str().to_owned())
                    .collect::<Vec<_>>(),
            );
            // Unknown paths are ignored.
            collector.provide(&path("elsewhere.txt"), Some("-r x.txt".to_owned()));
            for p in wanted {
                collector.provide(&p, map.get(p.as_str()).map(|t| (*t).to_owned()));
            }
        }
        assert_eq!(
            waves,
            [
                vec!["requirements.txt"],
                vec!["requirements/production.txt"],
                vec!["constraints.txt", "requirements/base.txt"],
            ]
        );
        assert!(collector.finish().is_ok());
        assert_eq!(
            collector.source(&path("constraints.txt")),
            Some(DJANGO_CONSTRAINTS)
        );
        assert_eq!(collector.source(&path("elsewhere.txt")), None);

        // A wanted file never provided counts as missing.
        let mut collector = Collector::new(&[path("requirements.txt")]);
        collector.provide(&path("requirements.txt"), Some("-r a.txt\n".to_owned()));
        let error = collector.finish().unwrap_err();
        assert_eq!(
            error.to_string(),
            "`a.txt` (included here) is not in the build context"
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let names: Vec<String> = (0..=MAX_DEPTH + 1)
            .map(|i| format!("f{i:02}.txt"))
            .collect();
        let texts: Vec<String> = (0..=MAX_DEPTH + 1)
            .map(|i| {
                names
                    .get(i + 1)
                    .map_or(String::new(), |next| format!("-r {next}\n"))
            })
            .collect();
        let files: Vec<(&str, &str)> = names
            .iter()
            .zip(&texts)
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        // MAX_DEPTH steps are fine.
        assert!(run(&files[1..], &["f01.txt"]).is_ok());
        assert_eq!(
            fails(&files),
            "f32.txt:1:4: requirement files are nested more than 32 levels deep"
        );
    }

    #[test]
    fn the_number_of_files_is_bounded() {
        let names: Vec<String> = (0..MAX_FILES).map(|i| format!("f{i:04}.txt")).collect();
        let root: String = names.iter().map(|n| format!("-r {n}\n")).collect();
        let mut reads = 0;
        let roots = [path("requirements.txt")];
        let error = collect(&roots, &mut |p| {
            reads += 1;
            (p.as_str() == "requirements.txt")
                .then(|| root.clone())
                .or(Some(String::new()))
        })
        .unwrap_err();
        assert_eq!(reads, MAX_FILES);
        let files = [("requirements.txt", root.as_str())];
        assert_eq!(
            located(&files, &error),
            "requirements.txt:1000:4: requirement files include more than 1000 files"
        );
        // One fewer include fits.
        let fits: String = names[1..].iter().map(|n| format!("-r {n}\n")).collect();
        let roots = [path("requirements.txt")];
        assert!(collect(&roots, &mut |p| {
            (p.as_str() == "requirements.txt")
                .then(|| fits.clone())
                .or(Some(String::new()))
        })
        .is_ok());
        // Roots count too.
        let roots: Vec<ContextPath> = (0..=MAX_FILES)
            .map(|i| path(&format!("r{i:04}.txt")))
            .collect();
        let error = collect(&roots, &mut |_| Some(String::new())).unwrap_err();
        assert_eq!(error.location, Location::Root(MAX_FILES));
    }

    #[test]
    fn a_web_of_includes_stops_at_the_first_cycle() {
        let names: Vec<String> = (0..50).map(|i| format!("f{i:02}.txt")).collect();
        let every: String = names.iter().map(|n| format!("-r {n}\n")).collect();
        let mut reads = 0;
        let error = collect(&[path("f00.txt")], &mut |_| {
            reads += 1;
            Some(every.clone())
        })
        .unwrap_err();
        assert_eq!(reads, 50);
        assert_eq!(error.to_string(), "include cycle: `f00.txt` -> `f00.txt`");
    }

    #[test]
    fn errors_name_the_file_line_and_column() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("requirements.txt", "django==4.2\n# shared pins\n-r requirements/base.txt\n")],
                "requirements.txt:3:4: `requirements/base.txt` (included here) is not in the build context",
            ),
            (
                &[("requirements/prod.txt", "gunicorn\n-c ../constraints.txt\n")],
                "requirements/prod.txt:2:4: `constraints.txt` (included here) is not in the build context",
            ),
            (
                &[("requirements.txt", "-r dev.txt\n"), ("dev.txt", "pytest\n--requirement requirements.txt\n")],
                "dev.txt:2:15: include cycle: `requirements.txt` -> `dev.txt` -> `requirements.txt`",
            ),
            (
                &[("requirements.txt", "-r ./requirements.txt\n")],
                "requirements.txt:1:4: include cycle: `requirements.txt` -> `requirements.txt`",
            ),
            (
                &[("requirements.txt", "-r https://example.com/requirements.txt\n")],
                "requirements.txt:1:4: `-r` must name a file in the build context, not a URL",
            ),
            (
                &[("requirements.txt", "--constraint=file:///src/constraints.txt\n")],
                "requirements.txt:1:14: `--constraint` must name a file in the build context, not a URL",
            ),
            (
                &[("requirements.txt", "-r /etc/requirements.txt\n")],
                "requirements.txt:1:4: `/etc/requirements.txt` is an absolute path",
            ),
            (
                &[("requirements/prod.txt", "-r ../../base.txt\n")],
                "requirements/prod.txt:1:4: `../../base.txt` is outside the build context",
            ),
            (
                &[("requirements.txt", "-e /src/sdk\n")],
                "requirements.txt:1:4: local requirement `/src/sdk` is an absolute path",
            ),
            (
                &[("requirements.txt", "sdk @ file:///src/sdk\n")],
                "requirements.txt:1:1: local requirement `/src/sdk` is an absolute path",
            ),
            (
                &[("requirements/dev.txt", "pytest\n-e ../libs/sdk\n")],
                "requirements/dev.txt:2:4: local requirement `../libs/sdk` is outside the build context",
            ),
            (
                &[("requirements.txt", "-r base*.txt\n")],
                "requirements.txt:1:4: invalid path `base*.txt`: wildcards are not supported; name each file",
            ),
            (
                &[("requirements.txt", "django\n--extra-index-url https://user:token@gitlab.example/simple\n")],
                "requirements.txt:2:1: `--extra-index-url` cannot be used in a requirement file",
            ),
            (
                &[("requirements.txt", "-i https://pypi.example/simple\n")],
                "requirements.txt:1:1: `-i` cannot be used in a requirement file",
            ),
            (
                &[("requirements.txt", "-ihttps://pypi.example/simple\n")],
                "requirements.txt:1:1: `-i` cannot be used in a requirement file",
            ),
            (
                &[("requirements.txt", "  --index-url=https://pypi.example/simple\n")],
                "requirements.txt:1:3: `--index-url` cannot be used in a requirement file",
            ),
            (
                &[("requirements.txt", "--pypi-url https://pypi.example/simple\n")],
                "requirements.txt:1:1: `--pypi-url` cannot be used in a requirement file",
            ),
            (
                &[("requirements.txt", "--extra https://pypi.example/simple\n")],
                "requirements.txt:1:1: `--extra-index-url` cannot be used in a requirement file",
            ),
            (
                &[("requirements.txt", "--no-index\n")],
                "requirements.txt:1:1: `--no-index` cannot be used in a requirement file",
            ),
            (
                &[("requirements.txt", "-f ./wheels\n")],
                "requirements.txt:1:1: `-f` cannot be used in a requirement file",
            ),
            (
                &[("requirements.txt", "--find-links=https://example.com/wheels/\n")],
                "requirements.txt:1:1: `--find-links` cannot be used in a requirement file",
            ),
            (
                &[("requirements.txt", "--trusted-host pypi.example\n")],
                "requirements.txt:1:1: `--trusted-host` cannot be used in a requirement file",
            ),
            (
                &[("requirements.txt", "django==4.2 --index-url https://pypi.example/simple\n")],
                "requirements.txt:1:13: `--index-url` cannot be used in a requirement file",
            ),
            (
                &[("requirements.txt", "pycairo --global-option=--verbose\n")],
                "requirements.txt:1:9: `--global-option` is not supported",
            ),
            (
                &[("requirements.txt", "-Z\n")],
                "requirements.txt:1:1: unknown option `-Z`",
            ),
            (
                &[("requirements.txt", "django\n--allow-external django\n")],
                "requirements.txt:2:1: unknown option `--allow-external`",
            ),
            (
                &[("requirements.txt", "--req base.txt\n")],
                "requirements.txt:1:1: ambiguous option `--req`: it could be `--requirement` or `--require-hashes`",
            ),
            (
                &[("requirements.txt", "--no- x\n")],
                "requirements.txt:1:1: ambiguous option `--no-`: it could be `--no-index` or `--no-binary`",
            ),
            (
                &[("requirements.txt", "--p\n")],
                "requirements.txt:1:1: ambiguous option `--p`: it could be `--pypi-url`, `--prefer-binary` or `--pre`",
            ),
            (
                &[("requirements.txt", "django\n-r\n")],
                "requirements.txt:2:1: `-r` needs a value",
            ),
            (
                &[("requirements.txt", "--pre=yes\n")],
                "requirements.txt:1:1: `--pre` does not take a value",
            ),
            (
                &[("requirements.txt", "-r \"base.txt\n")],
                "requirements.txt:1:4: this quote is never closed",
            ),
            (
                &[("requirements.txt", "django==4.2 \\ \n    --hash=sha256:abc\n")],
                "requirements.txt:1:13: this `\\` does not end the line, so the next line is not joined to this one",
            ),
            (
                &[("requirements.txt", "django==4.2 \\ # pinned\n    --hash=sha256:abc\n")],
                "requirements.txt:1:13: this `\\` does not end the line, so the next line is not joined to this one",
            ),
            (
                &[("requirements.txt", "git+https://${GITHUB_TOKEN}@github.com/org/repo.git\n")],
                "requirements.txt:1:13: requirement files cannot use environment variables (`****`)",
            ),
            (
                &[("requirements.txt", "-r ${ENV}/base.txt\n")],
                "requirements.txt:1:4: requirement files cannot use environment variables (`${ENV}`)",
            ),
            (
                &[("requirements.txt", "pkg @ https://user:secret@host.example/pkg-1.0.whl\n")],
                "requirements.txt:1:7: URLs in requirement files must not contain credentials",
            ),
            (
                &[("requirements.txt", "-e git+https://ghp_token@github.com/org/repo.git#egg=repo\n")],
                "requirements.txt:1:4: URLs in requirement files must not contain credentials",
            ),
            (
                &[("requirements.txt", "django==4.2 --hash=abc\n")],
                "requirements.txt:1:20: `--hash` expects `ALGORITHM:DIGEST`, such as `sha256:<hex digest>`",
            ),
            (
                &[("requirements.txt", "django==4.2 \\\n    --hash=md5:abc\n")],
                "requirements.txt:2:12: `--hash` does not accept `md5`; use `sha256`, `sha384` or `sha512`",
            ),
            (
                &[("requirements.txt", "django==4.2\n    --hash=sha256:abc\n")],
                "requirements.txt:2:5: `--hash` needs a requirement on the same line",
            ),
            (
                &[("requirements.txt", "-C editable_mode=compat\n")],
                "requirements.txt:1:1: `-C` needs a requirement on the same line",
            ),
            (
                &[("requirements.txt", "django==4.2 --pre\n")],
                "requirements.txt:1:13: pip ignores `--pre` after a requirement",
            ),
            (
                &[("requirements.txt", "django -r base.txt\n")],
                "requirements.txt:1:8: pip ignores `-r` after a requirement",
            ),
            (
                &[("requirements.txt", "-e . --prefer-binary\n")],
                "requirements.txt:1:6: pip ignores `--prefer-binary` after a requirement",
            ),
            (
                &[("requirements.txt", "-r a.txt -r b.txt\n")],
                "requirements.txt:1:10: pip reads only one `-r`, `-c` or `-e` per line",
            ),
            (
                &[("requirements.txt", "-e . -r a.txt\n")],
                "requirements.txt:1:6: pip reads only one `-r`, `-c` or `-e` per line",
            ),
            (
                &[("requirements.txt", "-r base.txt --pre\n")],
                "requirements.txt:1:13: pip ignores `--pre` on a line with `-r` or `-c`",
            ),
            (
                &[("requirements.txt", "--require-hashes -c constraints.txt\n")],
                "requirements.txt:1:1: pip ignores `--require-hashes` on a line with `-r` or `-c`",
            ),
            (
                &[("requirements.txt", "-e . --hash=sha256:abc\n")],
                "requirements.txt:1:6: `--hash` does not apply to `-e` requirements",
            ),
            (
                &[("requirements.txt", "-r base.txt extra.txt\n")],
                "requirements.txt:1:13: pip ignores this argument",
            ),
            (
                &[("requirements.txt", "-e ./libs/sdk ; python_version > \"3.8\"\n")],
                "requirements.txt:1:15: pip ignores this argument",
            ),
            (
                &[("requirements.txt", "-c constraints.txt\n"), ("constraints.txt", "urllib3<3\n-e ./libs/sdk\n")],
                "constraints.txt:2:4: constraint files cannot contain `-e` requirements",
            ),
            (
                &[("requirements.txt", "-c constraints.txt\n"), ("constraints.txt", "./libs/sdk\n")],
                "constraints.txt:1:1: constraint files cannot contain requirements without a name",
            ),
        ];
        // The limits have tests of their own (they need many files).
        let mut covered = BTreeSet::from([
            kind_index(&RequirementsErrorKind::TooManyFiles { limit: 0 }),
            kind_index(&RequirementsErrorKind::TooDeep { limit: 0 }),
        ]);
        for (files, want) in cases {
            let error = run(files, &[files[0].0]).unwrap_err();
            assert_eq!(located(files, &error), *want, "{files:?}");
            covered.insert(kind_index(&error.kind));
        }
        let missing = run(&[], &["requirements.txt"]).unwrap_err();
        assert_eq!(
            located(&[], &missing),
            "root 0: requirement file `requirements.txt` is not in the build context"
        );
        covered.insert(kind_index(&missing.kind));
        assert_eq!(
            covered,
            (0..KINDS).collect(),
            "every kind needs a case here"
        );
    }

    const KINDS: usize = 31;

    /// Numbers every kind; a new kind fails to compile here until it is
    /// numbered, and then the table above needs a case for it.
    fn kind_index(kind: &RequirementsErrorKind) -> usize {
        use RequirementsErrorKind as K;
        match kind {
            K::MissingRoot { .. } => 0,
            K::MissingInclude { .. } => 1,
            K::IncludeCycle { .. } => 2,
            K::TooManyFiles { .. } => 3,
            K::TooDeep { .. } => 4,
            K::UrlInclude { .. } => 5,
            K::AbsoluteInclude { .. } => 6,
            K::IncludeLeavesContext { .. } => 7,
            K::AbsoluteLocal { .. } => 8,
            K::LocalLeavesContext { .. } => 9,
            K::InvalidPath { .. } => 10,
            K::IndexOption { .. } => 11,
            K::RemovedOption { .. } => 12,
            K::UnknownOption { .. } => 13,
            K::AmbiguousOption { .. } => 14,
            K::MissingValue { .. } => 15,
            K::UnexpectedValue { .. } => 16,
            K::UnclosedQuote => 17,
            K::BackslashNotAtEnd => 18,
            K::EnvironmentVariable { .. } => 19,
            K::CredentialsInUrl => 20,
            K::HashFormat => 21,
            K::WeakHash { .. } => 22,
            K::OptionWithoutRequirement { .. } => 23,
            K::OptionAfterRequirement { .. } => 24,
            K::OneIncludePerLine { .. } => 25,
            K::OptionOnIncludeLine { .. } => 26,
            K::HashOnEditable => 27,
            K::IgnoredArgument => 28,
            K::EditableConstraint => 29,
            K::UnnamedConstraint => 30,
        }
    }

    #[test]
    fn allowed_options_pass_through() {
        let text = "\
--pre
--prefer-binary
--only-binary :all:
--no-binary=psycopg
--use-feature=fast-deps
--require-hashes
pycairo==1.26 -C setup-args=-Dtests=false --config-settings=builddir=build \\
    --hash=sha256:abc
-e . --config-settings editable_mode=compat
git+ssh://git@github.com/org/repo.git#egg=repo
";
        let set = ok(&[("requirements.txt", text)]);
        assert!(set.require_hashes);
        assert_eq!(set.local.len(), 1);
    }

    #[test]
    fn errors_after_a_continuation_point_into_the_right_line() {
        let text =
            "django==4.2 \\\n    --hash=sha256:abc \\\n    --index-url https://u:p@host/simple\n";
        let error = run(&[("requirements.txt", text)], &["requirements.txt"]).unwrap_err();
        let Location::File { span, .. } = &error.location else {
            panic!("{error:?}")
        };
        // The span covers the option and its value, so a renderer can mask
        // the credentials in it.
        assert_eq!(&text[span.clone()], "--index-url https://u:p@host/simple");
        assert_eq!(
            located(&[("requirements.txt", text)], &error),
            "requirements.txt:3:5: `--index-url` cannot be used in a requirement file"
        );
        assert!(error.masks_credentials());
    }

    #[test]
    fn messages_never_repeat_credentials() {
        let cases = [
            "--extra-index-url https://user:tok3n@host/simple\n",
            "-r https://user:tok3n@host/requirements.txt\n",
            "pkg @ https://user:tok3n@host/pkg.whl\n",
            "-r base.txt https://user:tok3n@host/x\n",
        ];
        for text in cases {
            let error = run(&[("requirements.txt", text)], &["requirements.txt"]).unwrap_err();
            assert!(error.masks_credentials(), "{text}");
            let message = format!("{error} {}", error.hint().unwrap_or_default());
            assert!(!message.contains("tok3n"), "{message}");
        }
    }

    #[test]
    fn hints_say_what_to_do() {
        let hint = |files: &[(&str, &str)]| run(files, &[files[0].0]).unwrap_err().hint().unwrap();
        assert_eq!(
            hint(&[("requirements.txt", "-r requirements/base.txt\n")]),
            "`-r` and `-c` paths are relative to the directory of the file that names them"
        );
        assert_eq!(
            hint(&[(
                "requirements.txt",
                "--extra-index-url https://host/simple\n"
            )]),
            "declare package indexes in the spec's `[[index]]` tables (with `username` and \
             `password-secret` for credentials), and remove this option"
        );
        assert_eq!(
            hint(&[("requirements/dev.txt", "-e ../libs/sdk\n")]),
            "pip resolves local paths from the build context root, not from the requirement \
             file: write the path relative to the build context"
        );
        assert_eq!(
            hint(&[("requirements.txt", "git+https://${TOKEN}@github.com/o/r\n")]),
            "nothing from your environment reaches the build: write the value out, or declare \
             a private index in the spec's `[[index]]` tables with `password-secret`"
        );
        assert_eq!(
            hint(&[("requirements.txt", "-r requirements.txt\n")]),
            "pip stops with \"recursively references itself\"; remove one of these includes"
        );
        assert_eq!(
            hint(&[("requirements.txt", "django==4.2 --pre\n")]),
            "put `--pre` on a line of its own"
        );
        assert_eq!(
            hint(&[("requirements.txt", "django\n--hash=sha256:abc\n")]),
            "end the previous line with `\\` to continue it onto this line"
        );
        assert_eq!(
            run(&[], &["requirements.txt"]).unwrap_err().hint().unwrap(),
            "check that `requirements.txt` exists relative to the build context directory"
        );
    }
}
