//! Spec errors: a byte span into the spec source plus a kind. Line and column
//! are computed only when rendering (see [`super::diagnostic`]), so the same
//! error renders as `file:line:col` in the CLI and as a BuildKit source
//! location in the frontend.

use std::ops::Range;

use crate::redact::DisplaySafeUrl;

/// A spec error with the byte range of the offending TOML value or key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    pub span: Option<Range<usize>>,
    pub kind: SpecErrorKind,
}

impl SpecError {
    pub(crate) fn new(span: Range<usize>, kind: SpecErrorKind) -> Self {
        Self {
            span: Some(span),
            kind,
        }
    }

    /// A one-line fix the user can apply, printed under the message.
    pub fn hint(&self) -> Option<String> {
        self.kind.hint()
    }
}

impl std::fmt::Display for SpecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.kind.fmt(f)
    }
}

impl std::error::Error for SpecError {}

/// Every way a spec can be wrong. All wording lives here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecErrorKind {
    /// TOML syntax, unknown keys, wrong types and missing keys, as reported by
    /// the TOML deserializer (which also gives the span).
    #[error("{message}")]
    Toml { message: String },
    #[error("the spec is not valid UTF-8")]
    NotUtf8,
    #[error("build arg `{name}` is not set")]
    MissingBuildArg { name: String },
    #[error("invalid interpolation: {reason}")]
    BadInterpolation { reason: String },
    #[error("invalid image reference `{value}`: {reason}")]
    InvalidImageRef { value: String, reason: String },
    #[error("index URL must not contain credentials")]
    CredentialsInUrl,
    #[error("invalid index URL `{value}`: {reason}")]
    InvalidUrl {
        value: DisplaySafeUrl,
        reason: String,
    },
    /// A recognised token (`glpat-...`) or a secret-looking value (a
    /// `?private_token=` query) where only names belong: it would be
    /// stored in the LLB, the build cache and the image history.
    #[error("the {what} holds what looks like a token or password")]
    LooksLikeToken { what: &'static str },
    #[error("invalid {what} `{value}`: {reason}")]
    InvalidName {
        what: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error("invalid user `{value}`: expected a user name (lowercase letters, digits, `_` and `-`, starting with a letter or `_`, at most 32 characters), a `uid` or a `uid:gid`")]
    InvalidUser { value: String },
    #[error("index `{name}` is defined twice")]
    DuplicateIndex { name: String },
    #[error("only one index can have `default = true`")]
    MultipleDefaultIndexes,
    #[error("index `{name}` sets both `username` and `username-secret`")]
    UsernameConflict { name: String },
    #[error("index `{name}` has a `{given}` but no `{missing}`")]
    IncompleteCredentials {
        name: String,
        given: &'static str,
        missing: &'static str,
    },
    #[error("`requirements` must list at least one file")]
    EmptyRequirements,
    #[error("`with = \"pip\"` needs `requirements`")]
    MissingRequirements,
    #[error("`groups` must name at least one group")]
    EmptyGroups,
    #[error("`{key}` is not used with `with = \"{installer}\"` (it is for {for_})")]
    InstallOptionNotFor {
        key: &'static str,
        installer: &'static str,
        for_: &'static str,
    },
    #[error(
        "`project = true` does not install a workspace member (`package = \"{package}\"`) yet"
    )]
    ProjectWithPackage { package: String },
    #[error("index `{name}` pins packages, but pip cannot pin a package to an index")]
    PipCannotPin { name: String },
    #[error("`{file}` is not valid TOML: {reason}")]
    ProjectFileInvalid { file: String, reason: String },
    #[error("index `{name}` is not a `{table}` of `pyproject.toml`; the installer finds its credentials by that name")]
    IndexNotInProject { name: String, table: &'static str },
    #[error("`pyproject.toml` gives index `{name}` the URL `{project_url}`, not this one")]
    IndexUrlMismatch {
        name: String,
        project_url: DisplaySafeUrl,
    },
    #[error("`{package}` is locked from index `{index}` in `{lock}`, but the spec has no `[[index]]` named `{index}`")]
    LockedFromUndeclaredIndex {
        package: String,
        index: String,
        lock: &'static str,
    },
    #[error("`{package}` is locked from `{url}` in `{lock}`, which no `{table}` of `pyproject.toml` names")]
    LockedFromUnknownUrl {
        package: String,
        url: DisplaySafeUrl,
        lock: &'static str,
        table: &'static str,
    },
    #[error("`{package}` is locked from {locked_from} in `{lock}`, but `packages` pins it to index `{index}`")]
    PinnedPackageFromOtherIndex {
        package: String,
        index: String,
        locked_from: String,
        lock: &'static str,
    },
    #[error("invalid path `{value}`: {reason}")]
    InvalidPath { value: String, reason: &'static str },
    #[error("`command` is a string; pyfront runs an argv list, never a shell of its own")]
    CommandNotArgv,
    #[error("`command` names no program to run")]
    EmptyCommand,
    #[error("invalid port `{value}`: expected a number from 1 to 65535, optionally followed by `/tcp` or `/udp`")]
    InvalidPort { value: String },
    #[error("requirement file `{path}` is not in the build context")]
    MissingContextFile { path: String },
    #[error("`{path}` is not in the build context; `with = \"{installer}\"` installs from `pyproject.toml` and `{lock}`")]
    MissingProjectFile {
        path: String,
        installer: &'static str,
        lock: &'static str,
    },
}

impl SpecErrorKind {
    fn hint(&self) -> Option<String> {
        match self {
            Self::MissingBuildArg { name } => Some(format!(
                "pass `--build-arg {name}=VALUE`, or write `${{{name}:-default}}` in the spec"
            )),
            Self::CredentialsInUrl => Some(
                "remove `user:password@` from the URL; set `username = \"...\"` and \
                 `password-secret = \"<secret id>\"`, then build with `--secret id=<secret id>,env=VAR`"
                    .to_owned(),
            ),
            Self::LooksLikeToken { what } if what.starts_with("build command") => Some(
                "build commands never see a credential: download what needs one as a dependency, \
                 through an `[[index]]` with `password-secret = \"<secret id>\"`, and use it from the venv"
                    .to_owned(),
            ),
            Self::LooksLikeToken { .. } => Some(
                "credentials reach a build only as BuildKit secrets: build with `--secret id=<secret id>,env=VAR` \
                 and name the secret with `password-secret = \"<secret id>\"` on the `[[index]]`"
                    .to_owned(),
            ),
            Self::InvalidUser { .. } => Some(format!(
                "`user = \"app\"` runs the app as `app`, created with uid and gid {} when the runtime base has no such user",
                super::APP_USER_ID
            )),
            Self::IncompleteCredentials { missing, .. } => {
                Some(format!("add `{missing} = \"...\"` to this `[[index]]`"))
            }
            Self::MissingContextFile { path } => Some(format!(
                "check that `{path}` exists relative to the build context directory"
            )),
            Self::MissingProjectFile { installer, lock, .. } => Some(format!(
                "run `{installer} lock` in the project directory and commit `pyproject.toml` and `{lock}`; the build context must be that directory"
            )),
            Self::LockedFromUndeclaredIndex { index, .. } => Some(format!(
                "add an `[[index]]` named `{index}` with its URL (and `username` / `password-secret` if it needs credentials)"
            )),
            Self::IndexUrlMismatch { project_url, .. } => Some(format!(
                "set `url = \"{}\"` here, or change `pyproject.toml` and re-lock",
                project_url.without_userinfo()
            )),
            Self::PinnedPackageFromOtherIndex { index, .. } => Some(format!(
                "a public package may have replaced the private one (dependency confusion): pin it to `{index}` in \
                 `pyproject.toml` (uv: an explicit index and `[tool.uv.sources]`; Poetry: `source = \"{index}\"`), then re-lock"
            )),
            Self::MissingRequirements => Some(
                "add `requirements = [\"requirements.txt\"]`, or use `with = \"poetry\"` or `\"uv\"` with a lock file"
                    .to_owned(),
            ),
            Self::InstallOptionNotFor { key, .. } if *key == "requirements" => Some(
                "remove `requirements`: Poetry and uv install from `pyproject.toml` and their lock file".to_owned(),
            ),
            Self::ProjectWithPackage { .. } => Some(
                "remove `project`: the members `package` depends on are installed, and the member itself reaches \
                 the image with the app code (add its source directory to `PYTHONPATH` in `[app] env`)"
                    .to_owned(),
            ),
            Self::CommandNotArgv => Some(
                "write `command = [\"python\", \"manage.py\", \"collectstatic\", \"--noinput\"]`; \
                 for a shell, write it yourself: `command = [\"sh\", \"-c\", \"...\"]`"
                    .to_owned(),
            ),
            Self::EmptyCommand => Some(
                "write the program, then its arguments: `command = [\"python\", \"manage.py\", \"collectstatic\", \"--noinput\"]`"
                    .to_owned(),
            ),
            Self::PipCannotPin { .. } => Some(
                "pip takes every package from whichever index has the highest version, so a public package with \
                 the same name as a private one can replace it (dependency confusion); use `with = \"uv\"` or \
                 `\"poetry\"` with a lock file, or set `allow-dependency-confusion = true` on this index to accept the risk"
                    .to_owned(),
            ),
            _ => None,
        }
    }
}
