//! The paths a line names: includes, relative to the including file, and
//! local requirements, relative to the context root, both kept inside the
//! build context; with pip's reading of `file:` URLs, extras and archive
//! names.

use super::error::{LineError, RequirementsErrorKind};
use super::lexer::Token;
use crate::spec::{ContextPath, SpecErrorKind};

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
pub(super) fn resolve_include(
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
pub(super) fn normalize_local(raw: &str) -> Result<String, RequirementsErrorKind> {
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

pub(super) struct LocalTarget {
    /// Decoded path, relative to the context root unless absolute.
    pub(super) path: String,
    pub(super) named: bool,
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

/// Whether a requirement names a remote URL or a VCS repository, directly
/// or as `name @ URL`: anything with a scheme but `file:`.
pub(super) fn is_remote_reference(args: &str) -> bool {
    let remote = |text: &str| url_scheme(text.trim()).is_some_and(|s| s != "file");
    let requirement = args.split("; ").next().unwrap_or_default().trim();
    if remote(requirement) {
        return true;
    }
    requirement
        .split_once('@')
        .is_some_and(|(name, url)| !looks_like_path(name) && remote(url))
}

/// The local path a requirement names, if it names one (pip's
/// `parse_req_from_line`, without looking at the disk).
pub(super) fn local_target(args: &str) -> Option<LocalTarget> {
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
pub(super) fn editable_target(value: &str) -> Option<String> {
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
pub fn is_archive(path: &str) -> bool {
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
