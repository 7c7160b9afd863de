//! Errors: where a problem is (a root, or a byte range in a file) and
//! what it is. All wording, and the hints, live in
//! [`RequirementsErrorKind`].

use std::fmt;
use std::ops::Range;

use crate::spec::ContextPath;

/// A problem in the requirement files, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementsError {
    pub location: Location,
    pub kind: RequirementsErrorKind,
}

/// Where an error is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The root with this index in the slice given to
    /// [`collect`](super::collect) or [`Collector::new`](super::Collector::new)
    /// (the spec's `requirements` entry).
    Root(usize),
    /// A byte range in the text of a requirement file, as it was provided.
    File {
        file: ContextPath,
        span: Range<usize>,
    },
}

impl RequirementsError {
    pub(super) fn at(file: &ContextPath, span: Range<usize>, kind: RequirementsErrorKind) -> Self {
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

pub(super) type LineError = (RequirementsErrorKind, Range<usize>);
