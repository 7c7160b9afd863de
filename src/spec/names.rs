//! Validated strings. Each constructor rejects what could break out of its
//! place in LLB or a process argv, so later stages never re-check.

use std::fmt;

use super::SpecErrorKind;
use crate::redact::DisplaySafeUrl;

fn invalid(what: &'static str, value: &str, reason: &'static str) -> SpecErrorKind {
    SpecErrorKind::InvalidName {
        what,
        value: value.to_owned(),
        reason,
    }
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// A BuildKit secret id (`--secret id=...`); it names the file under
/// `/run/secrets/`, so it must be a plain file name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct SecretId(String);

impl SecretId {
    pub fn parse(value: &str) -> Result<Self, SpecErrorKind> {
        plain_name(value, "secret id").map(|()| Self(value.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SecretId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name of an `[[index]]`, used in messages and later to match Poetry and
/// uv source names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct IndexName(String);

impl IndexName {
    pub fn parse(value: &str) -> Result<Self, SpecErrorKind> {
        plain_name(value, "index name").map(|()| Self(value.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IndexName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn plain_name(value: &str, what: &'static str) -> Result<(), SpecErrorKind> {
    let mut chars = value.chars();
    let first_ok = matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric());
    if !first_ok || value.len() > 128 {
        return Err(invalid(
            what,
            value,
            "must start with a letter or digit and be at most 128 characters",
        ));
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        return Err(invalid(
            what,
            value,
            "only letters, digits, `_`, `-` and `.` are allowed",
        ));
    }
    Ok(())
}

/// An index URL without credentials: `http(s)://host[:port]/path`. Shown
/// (`Display`, `Debug`, `Serialize`) through the redaction policy, like
/// every URL; [`IndexUrl::unredacted`] gives it to the installer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IndexUrl(DisplaySafeUrl);

impl IndexUrl {
    pub fn parse(value: &str) -> Result<Self, SpecErrorKind> {
        let url = DisplaySafeUrl::new(value);
        // Credentials first, whatever else is wrong: the other messages
        // repeat the value, and it must not carry a password into a log.
        if url.has_userinfo() {
            return Err(SpecErrorKind::CredentialsInUrl);
        }
        if url.has_credentials() {
            return Err(SpecErrorKind::LooksLikeToken { what: "index URL" });
        }
        let bad = |reason: &str| SpecErrorKind::InvalidUrl {
            value: url.clone(),
            reason: reason.to_owned(),
        };
        if !matches!(url.scheme(), Some("http" | "https")) {
            return Err(bad("expected an `http://` or `https://` URL"));
        }
        if url.host_port().is_empty() || url.host_port().starts_with(':') {
            return Err(bad("the URL has no host"));
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("URLs cannot contain spaces or control characters"));
        }
        Ok(Self(url))
    }
    /// The URL as written, for the installer that must reach it.
    pub fn unredacted(&self) -> &str {
        self.0.unredacted()
    }
    pub fn scheme(&self) -> &str {
        self.0.scheme().unwrap_or_default()
    }
    /// The host, without port, for lints.
    pub fn host(&self) -> &str {
        self.0.host()
    }
}

impl fmt::Display for IndexUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The checks every path gets, relative or absolute, after its own check
/// of the leading `/`: no control characters (NUL included) and no `..`
/// part (`leaves` is the reason given for one). Returns the path's parts
/// with the empty and `.` ones dropped, i.e. normalized.
fn path_parts<'v>(value: &'v str, leaves: &'static str) -> Result<Vec<&'v str>, &'static str> {
    if has_control(value) {
        return Err("paths cannot contain control characters");
    }
    let parts: Vec<&str> = value
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.contains(&"..") {
        return Err(leaves);
    }
    Ok(parts)
}

/// What a relative path is relative to, in its error messages.
struct Within {
    absolute: &'static str,
    leaves: &'static str,
    empty: &'static str,
}

/// `value` as a relative path, normalized (no empty or `.` parts), with no
/// `..`, no control characters and no wildcards.
fn relative_path(value: &str, within: &Within) -> Result<String, SpecErrorKind> {
    let bad = |reason| SpecErrorKind::InvalidPath {
        value: value.to_owned(),
        reason,
    };
    if value.starts_with('/') {
        return Err(bad(within.absolute));
    }
    let parts = path_parts(value, within.leaves).map_err(bad)?;
    if parts.is_empty() {
        return Err(bad(within.empty));
    }
    if parts.iter().any(|p| p.contains(['*', '?', '['])) {
        return Err(bad("wildcards are not supported; name each file"));
    }
    Ok(parts.join("/"))
}

/// A path inside the build context: relative, normalized, no `..`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct ContextPath(String);

impl ContextPath {
    pub fn parse(value: &str) -> Result<Self, SpecErrorKind> {
        relative_path(
            value,
            &Within {
                absolute: "paths are relative to the build context",
                leaves: "`..` would leave the build context",
                empty: "expected a file name",
            },
        )
        .map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A path inside the app workdir (a `[[build.run]]` output): relative,
/// normalized, no `..`, not the workdir itself, no wildcards (the copy
/// would expand them).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct WorkdirPath(String);

impl WorkdirPath {
    pub fn parse(value: &str) -> Result<Self, SpecErrorKind> {
        relative_path(
            value,
            &Within {
                absolute: "outputs are relative to the app workdir",
                leaves: "`..` would leave the app workdir",
                empty: "name a file or directory inside the workdir, not the workdir itself",
            },
        )
        .map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WorkdirPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An absolute path inside an image (workdir).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImagePath(String);

impl ImagePath {
    pub fn parse(value: &str) -> Result<Self, SpecErrorKind> {
        let bad = |reason| SpecErrorKind::InvalidPath {
            value: value.to_owned(),
            reason,
        };
        if !value.starts_with('/') {
            return Err(bad("expected an absolute path"));
        }
        let parts = path_parts(value, "`..` is not allowed").map_err(bad)?;
        Ok(Self(format!("/{}", parts.join("/"))))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A Debian package name, optionally `=version`. Checked so that it can only
/// ever be one argv element of `apt-get install`, never an option.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AptPackage(String);

impl AptPackage {
    pub fn parse(value: &str) -> Result<Self, SpecErrorKind> {
        let (name, version) = match value.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (value, None),
        };
        let name_ok = name.len() >= 2
            && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && name.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '+' | '-' | '.')
            });
        let version_ok = version.is_none_or(|v| {
            !v.is_empty()
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '~' | ':' | '-'))
        });
        if name_ok && version_ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(invalid(
                "system package",
                value,
                "expected a Debian package name such as `build-essential` or `libpq-dev=15.5-0+deb12u1`",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The user the app runs as (`[app] user`): a portable user name, which
/// the app stage creates when the runtime base lacks it, or numeric ids,
/// used as they are. Shown and serialized in the written form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppUser {
    /// `[a-z_][a-z0-9_-]{0,31}`: POSIX's portable user names, lowercase,
    /// never starting with `-` or a digit (so never mistaken for a uid).
    Name(String),
    /// `uid` or `uid:gid`.
    Id { uid: u32, gid: Option<u32> },
}

impl AppUser {
    pub fn parse(value: &str) -> Result<Self, SpecErrorKind> {
        let bad = || SpecErrorKind::InvalidUser {
            value: value.to_owned(),
        };
        let id = |s: &str| -> Result<u32, SpecErrorKind> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            s.parse().map_err(|_| bad())
        };
        match value.split_once(':') {
            Some((uid, gid)) => Ok(Self::Id {
                uid: id(uid)?,
                gid: Some(id(gid)?),
            }),
            None if value.starts_with(|c: char| c.is_ascii_digit()) => Ok(Self::Id {
                uid: id(value)?,
                gid: None,
            }),
            None if is_user_name(value) => Ok(Self::Name(value.to_owned())),
            None => Err(bad()),
        }
    }

    /// Whether the app runs as root (uid 0).
    pub fn is_root(&self) -> bool {
        match self {
            Self::Name(name) => name == "root",
            Self::Id { uid, .. } => *uid == 0,
        }
    }
}

fn is_user_name(value: &str) -> bool {
    value.len() <= 32
        && value.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'))
}

impl fmt::Display for AppUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name(name) => f.write_str(name),
            Self::Id { uid, gid: None } => write!(f, "{uid}"),
            Self::Id {
                uid,
                gid: Some(gid),
            } => write!(f, "{uid}:{gid}"),
        }
    }
}

impl serde::Serialize for AppUser {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A container image reference, normalized the way Docker does
/// (`python:3.11` → `docker.io/library/python:3.11`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImageRef {
    /// As written in the spec (after interpolation), for messages.
    pub original: String,
    /// Fully qualified, with a tag or digest.
    pub normalized: String,
}

impl ImageRef {
    pub fn parse(value: &str) -> Result<Self, SpecErrorKind> {
        let bad = |reason: &str| SpecErrorKind::InvalidImageRef {
            value: value.to_owned(),
            reason: reason.to_owned(),
        };
        if value.is_empty() {
            return Err(bad("it is empty"));
        }
        if let Some(c) = value.chars().find(|c| {
            !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '/' | '@'))
        }) {
            return Err(bad(&format!(
                "`{}` is not allowed in an image reference",
                c.escape_default()
            )));
        }
        let (name_tag, digest) = match value.split_once('@') {
            Some((n, d)) => (n, Some(d)),
            None => (value, None),
        };
        if let Some(d) = digest {
            let hex = d
                .strip_prefix("sha256:")
                .ok_or_else(|| bad("the digest must start with `sha256:`"))?;
            if hex.len() != 64
                || !hex
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            {
                return Err(bad("the digest must be 64 lowercase hex characters"));
            }
        }
        let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_tag[last_slash..].rfind(':') {
            Some(i) => (
                &name_tag[..last_slash + i],
                Some(&name_tag[last_slash + i + 1..]),
            ),
            None => (name_tag, None),
        };
        if let Some(t) = tag {
            let ok = !t.is_empty()
                && t.len() <= 128
                && t.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
            if !ok {
                return Err(bad(
                    "the tag may contain letters, digits, `_`, `.` and `-` (at most 128)",
                ));
            }
        }
        let mut components: Vec<&str> = name.split('/').collect();
        let has_domain = components.len() > 1
            && (components[0].contains(['.', ':']) || components[0] == "localhost");
        let domain = if has_domain {
            let d = components.remove(0);
            if !d
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
            {
                return Err(bad("the registry host is not valid"));
            }
            d.to_owned()
        } else {
            "docker.io".to_owned()
        };
        for c in &components {
            let ok = !c.is_empty()
                && c.starts_with(|ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit())
                && c.ends_with(|ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit())
                && c.chars().all(|ch| {
                    ch.is_ascii_lowercase() || ch.is_ascii_digit() || matches!(ch, '.' | '_' | '-')
                });
            if !ok {
                return Err(bad(
                    "names are lowercase letters, digits and `.`, `_`, `-` between `/`",
                ));
            }
        }
        if domain == "docker.io" && components.len() == 1 {
            components.insert(0, "library");
        }
        let mut normalized = format!("{domain}/{}", components.join("/"));
        match (tag, digest) {
            (Some(t), _) => {
                normalized.push(':');
                normalized.push_str(t);
            }
            (None, None) => normalized.push_str(":latest"),
            (None, Some(_)) => {}
        }
        if let Some(d) = digest {
            normalized.push('@');
            normalized.push_str(d);
        }
        Ok(Self {
            original: value.to_owned(),
            normalized,
        })
    }
}

#[cfg(test)]
mod tests;
