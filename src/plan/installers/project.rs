//! Checks a Poetry or uv project against the spec before anything runs:
//! every index the lock installs from must be an `[[index]]` of the spec
//! (that is where its credentials come from), with the same name and URL as
//! in `pyproject.toml`, and every package a spec index pins (`packages`)
//! must be locked from that index. The last check is what stops a lock that
//! took a public package in place of a private one (dependency confusion).

use std::collections::BTreeMap;

use crate::pyproject::{Lock, LockedPackage, NamedIndex, PyProject};
use crate::redact::DisplaySafeUrl;
use crate::spec::{normalize_package_name, Index, Installer, Spec, SpecError, SpecErrorKind};

const PYPI_SIMPLE: &str = "https://pypi.org/simple";

/// The same index: credentials aside (a `pyproject.toml` may carry them;
/// the spec never does), and a trailing `/` aside.
fn same_url(a: &str, b: &str) -> bool {
    let bare = |url: &str| DisplaySafeUrl::new(url).without_userinfo();
    let (a, b) = (bare(a), bare(b));
    a.unredacted().trim_end_matches('/') == b.unredacted().trim_end_matches('/')
}

/// `*` matches any run of characters; names are PEP 503 normalized.
pub fn matches_pattern(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// Checks the project files of a Poetry or uv spec. `with_span` locates
/// errors that belong to no particular `[[index]]`.
pub fn check_project(spec: &Spec, pyproject: &str, lock: &str) -> Result<(), SpecError> {
    let with = spec.install.with;
    let with_span = spec
        .install
        .inputs
        .first()
        .map(|i| i.span.clone())
        .unwrap_or(0..0);
    let lock_name = with.lock_file().unwrap_or_default();
    let invalid = |file: &str, e: toml::de::Error| {
        SpecError::new(
            with_span.clone(),
            SpecErrorKind::ProjectFileInvalid {
                file: file.to_owned(),
                reason: e.message().trim_end().to_owned(),
            },
        )
    };
    let project: PyProject = toml::from_str(pyproject).map_err(|e| invalid("pyproject.toml", e))?;
    let lock: Lock = toml::from_str(lock).map_err(|e| invalid(lock_name, e))?;
    let (table, project_indexes) = match with {
        Installer::Poetry => (
            "[[tool.poetry.source]]",
            project.tool.poetry.unwrap_or_default().source,
        ),
        _ => (
            "[[tool.uv.index]]",
            project.tool.uv.unwrap_or_default().index,
        ),
    };
    let by_name: BTreeMap<&str, &NamedIndex> = project_indexes
        .iter()
        .map(|i| (i.name.as_str(), i))
        .collect();

    // Each spec index must be a project index of the same name and URL:
    // the installer finds credentials by that name.
    for index in &spec.indexes {
        let Some(found) = by_name.get(index.name.as_str()) else {
            return Err(SpecError::new(
                index.span.clone(),
                SpecErrorKind::IndexNotInProject {
                    name: index.name.to_string(),
                    table,
                },
            ));
        };
        if let Some(url) = &found.url {
            if !same_url(url, index.url.unredacted()) {
                return Err(SpecError::new(
                    index.span.clone(),
                    SpecErrorKind::IndexUrlMismatch {
                        name: index.name.to_string(),
                        project_url: DisplaySafeUrl::new(url.as_str()),
                    },
                ));
            }
        }
    }

    for package in &lock.package {
        let Some(locked_from) = locked_index(with, package, &project_indexes) else {
            continue;
        };
        let name = normalize_package_name(&package.name);
        // The dependency-confusion check first: it is the most serious.
        if let Some(pin) = pinning_index(&spec.indexes, &name) {
            if pin.name.as_str() != locked_from.name() {
                return Err(SpecError::new(
                    pin.packages_span
                        .clone()
                        .unwrap_or_else(|| pin.span.clone()),
                    SpecErrorKind::PinnedPackageFromOtherIndex {
                        package: name,
                        index: pin.name.to_string(),
                        locked_from: locked_from.describe(),
                        lock: lock_name,
                    },
                ));
            }
        }
        match &locked_from {
            LockedFrom::Named(index_name)
                if !spec.indexes.iter().any(|i| i.name.as_str() == index_name) =>
            {
                return Err(SpecError::new(
                    with_span.clone(),
                    SpecErrorKind::LockedFromUndeclaredIndex {
                        package: name,
                        index: index_name.clone(),
                        lock: lock_name,
                    },
                ));
            }
            LockedFrom::Unknown(url) => {
                return Err(SpecError::new(
                    with_span.clone(),
                    SpecErrorKind::LockedFromUnknownUrl {
                        package: name,
                        url: url.clone(),
                        lock: lock_name,
                        table,
                    },
                ));
            }
            _ => {}
        }
    }
    // A pinned name missing from the lock is fine (a pattern may match
    // nothing yet); a pinned name locked from PyPI was caught above.
    Ok(())
}

/// Where a locked package comes from.
enum LockedFrom {
    /// A project index with this name.
    Named(String),
    /// The public PyPI (no project index).
    PyPi,
    /// A registry URL the project does not name.
    Unknown(DisplaySafeUrl),
}

impl LockedFrom {
    fn name(&self) -> &str {
        match self {
            Self::Named(n) => n,
            Self::PyPi => "PyPI",
            Self::Unknown(u) => u.unredacted(),
        }
    }
    fn describe(&self) -> String {
        match self {
            Self::Named(n) => format!("index `{n}`"),
            Self::PyPi => "PyPI".to_owned(),
            Self::Unknown(u) => format!("`{u}`"),
        }
    }
}

/// `None` for packages that come from no index (the project itself, git,
/// paths, URLs).
fn locked_index(
    with: Installer,
    package: &LockedPackage,
    project: &[NamedIndex],
) -> Option<LockedFrom> {
    match with {
        Installer::Uv => {
            let url = package.source.as_ref()?.registry.as_ref()?;
            if let Some(i) = project
                .iter()
                .find(|i| i.url.as_deref().is_some_and(|u| same_url(u, url)))
            {
                Some(LockedFrom::Named(i.name.clone()))
            } else if same_url(url, PYPI_SIMPLE) {
                Some(LockedFrom::PyPi)
            } else {
                Some(LockedFrom::Unknown(DisplaySafeUrl::new(url.as_str())))
            }
        }
        _ => match &package.source {
            // Poetry records no source for packages from PyPI.
            None => Some(LockedFrom::PyPi),
            Some(s) if s.kind.as_deref() == Some("legacy") => {
                Some(LockedFrom::Named(s.reference.clone().unwrap_or_default()))
            }
            Some(_) => None,
        },
    }
}

/// The spec index whose `packages` match `name`, if any.
fn pinning_index<'a>(indexes: &'a [Index], name: &str) -> Option<&'a Index> {
    indexes
        .iter()
        .find(|i| i.packages.iter().any(|p| matches_pattern(p, name)))
}

#[cfg(test)]
mod tests;
