//! Local path requirements of pip requirement files (`./libs/sdk`, `.`)
//! whose metadata is static: a PEP 621 `[project]` table with a `name`,
//! and `dependencies` (and the `optional-dependencies` of the extras asked
//! for) not listed in `project.dynamic`.
//!
//! Their dependencies are then known without running any build code, so
//! they install hermetically: the fetch step downloads those dependencies
//! (and the packages' `[build-system] requires`, resolved apart) as wheels
//! with the credentials, and the install step builds each local package
//! offline, `--no-deps`, from a copy of its own directory only. The local
//! requirement lines themselves are blanked in copies of the requirement
//! files that pip reads, so pip never builds them next to the token.
//!
//! Pure: the conversion reads the `pyproject.toml`s (one batch) and hands
//! their texts here.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

/// Why a local requirement cannot be installed hermetically; the message
/// completes "cannot tell its dependencies without running its build code:".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotStatic {
    /// A wheel or an sdist archive.
    Archive,
    NoPyproject,
    InvalidPyproject(String),
    NoName,
    /// `dependencies` or `optional-dependencies` in `project.dynamic`.
    Dynamic(&'static str),
    /// A marker on the local requirement line (`./sdk ; python_version < "3.12"`).
    Marker,
    /// A dependency pyfront cannot pass on as a requirement line: a direct
    /// reference (`x @ https://...`), or text pip would read as an option.
    Dependency(String),
    /// `-C` / `--config-settings` on the line: they would be lost with it.
    ConfigSettings,
    /// A URL fragment (`#subdirectory=`, `#egg=`) on the requirement.
    Fragment,
    /// `--hash` mode: pip cannot hash a directory.
    Hashes,
    /// In a constraint file: pip installs it only when something requires
    /// its name, which pyfront cannot tell before resolving.
    Constraint,
}

impl std::fmt::Display for NotStatic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Archive => write!(f, "it is an archive, not a directory with pyproject.toml"),
            Self::NoPyproject => write!(f, "its directory has no pyproject.toml (setup.py only?)"),
            Self::InvalidPyproject(e) => write!(f, "its pyproject.toml is not valid: {e}"),
            Self::NoName => write!(f, "its pyproject.toml has no [project] table with a `name`"),
            Self::Dynamic(key) => {
                write!(f, "its pyproject.toml lists `{key}` in `project.dynamic`")
            }
            Self::Marker => write!(f, "the requirement has an environment marker"),
            Self::Fragment => write!(
                f,
                "the requirement has a URL fragment (`#subdirectory=`, `#egg=`)"
            ),
            Self::Dependency(d) => write!(
                f,
                "its dependency `{d}` is a direct reference or not a plain PEP 508 requirement"
            ),
            Self::Hashes => write!(
                f,
                "the requirement files use --hash, which a directory cannot have"
            ),
            Self::ConfigSettings => {
                write!(f, "the line passes `-C` / `--config-settings` to its build")
            }
            Self::Constraint => write!(
                f,
                "it is in a constraint file, where pip uses it only if something requires it"
            ),
        }
    }
}

impl NotStatic {
    /// The fix that keeps the install hermetic, when there is one.
    pub fn fix(&self) -> Option<&'static str> {
        Some(match self {
            Self::NoPyproject | Self::InvalidPyproject(_) | Self::NoName | Self::Dynamic(_) => {
                "declare `name` and `dependencies` statically in its pyproject.toml's [project] (not in `dynamic`)"
            }
            Self::Dependency(_) => "make its dependencies plain requirements from an index (no `name @ URL`)",
            Self::Marker => "drop the marker from the line",
            Self::ConfigSettings => "set the build's options in the package's own pyproject.toml instead of `-C`",
            Self::Fragment => "name the package's own directory, without a `#` fragment",
            Self::Constraint => "require it in a requirement file instead of a constraint file",
            Self::Archive | Self::Hashes => return None,
        })
    }
}

/// What the install of static local packages needs. Every list is sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StaticLocal {
    /// The packages' directories, relative to the context root (`.`: the
    /// root itself).
    pub packages: Vec<String>,
    /// Their dependencies (extras resolved), minus the ones on each other.
    pub dependencies: Vec<String>,
    /// Their `[build-system] requires` (setuptools' default when missing).
    pub build_requires: Vec<String>,
    /// The local requirements as written: `(file, start, end)` byte ranges
    /// that the helper blanks in its copies of the requirement files.
    pub drop: Vec<(String, usize, usize)>,
}

/// One local requirement: its directory, the text of the requirement (to
/// read its extras and marker), where it is written, and what a copy of
/// its file blanks to drop it (`span`, or a whole `-e ...` line).
pub struct Request<'a> {
    pub path: &'a str,
    pub text: &'a str,
    pub file: &'a str,
    pub span: std::ops::Range<usize>,
    pub drop: std::ops::Range<usize>,
}

impl<'a> Request<'a> {
    /// The request for `local`, written in `source` (its requirement
    /// file's text).
    pub fn of(local: &'a super::LocalRequirement, source: &'a str) -> Self {
        Self {
            path: &local.path,
            text: source.get(local.span.clone()).unwrap_or_default(),
            file: local.file.as_str(),
            span: local.span.clone(),
            drop: local.line.clone(),
        }
    }
}

/// A package's static metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub name: String,
    pub dependencies: Vec<String>,
    /// By normalized extra name.
    pub optional: BTreeMap<String, Vec<String>>,
    pub optional_dynamic: bool,
    pub build_requires: Vec<String>,
}

/// pip's default build requirement for a project without `[build-system]`.
const DEFAULT_BUILD_REQUIRES: &str = "setuptools>=40.8.0";

/// PEP 503 normalization.
pub fn normalize(name: &str) -> String {
    let mut out = String::new();
    let mut separator = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            separator = true;
        } else {
            if separator && !out.is_empty() {
                out.push('-');
            }
            separator = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// The static metadata in a `pyproject.toml`'s text.
pub fn metadata(pyproject: &str) -> Result<Metadata, NotStatic> {
    let value: toml::Table =
        toml::from_str(pyproject).map_err(|e| NotStatic::InvalidPyproject(first_line(&e)))?;
    let project = value
        .get("project")
        .and_then(toml::Value::as_table)
        .ok_or(NotStatic::NoName)?;
    let name = project
        .get("name")
        .and_then(toml::Value::as_str)
        .filter(|n| !n.trim().is_empty())
        .ok_or(NotStatic::NoName)?;
    let dynamic: Vec<&str> = project
        .get("dynamic")
        .and_then(toml::Value::as_array)
        .map(|a| a.iter().filter_map(toml::Value::as_str).collect())
        .unwrap_or_default();
    if dynamic.contains(&"dependencies") {
        return Err(NotStatic::Dynamic("dependencies"));
    }
    let strings = |value: Option<&toml::Value>, what: &str| -> Result<Vec<String>, NotStatic> {
        match value {
            None => Ok(Vec::new()),
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str().map(str::to_owned).ok_or_else(|| {
                        NotStatic::InvalidPyproject(format!("`{what}` must be a list of strings"))
                    })
                })
                .collect(),
            Some(_) => Err(NotStatic::InvalidPyproject(format!(
                "`{what}` must be a list of strings"
            ))),
        }
    };
    let dependencies = strings(project.get("dependencies"), "project.dependencies")?;
    let mut optional = BTreeMap::new();
    if let Some(table) = project.get("optional-dependencies") {
        let table = table.as_table().ok_or_else(|| {
            NotStatic::InvalidPyproject("`project.optional-dependencies` must be a table".into())
        })?;
        for (extra, deps) in table {
            optional.insert(
                normalize(extra),
                strings(Some(deps), "project.optional-dependencies")?,
            );
        }
    }
    let build_requires = match value
        .get("build-system")
        .and_then(toml::Value::as_table)
        .and_then(|b| b.get("requires"))
    {
        None => vec![DEFAULT_BUILD_REQUIRES.to_owned()],
        requires => strings(requires, "build-system.requires")?,
    };
    for d in dependencies
        .iter()
        .chain(optional.values().flatten())
        .chain(&build_requires)
    {
        check_dependency(d)?;
    }
    Ok(Metadata {
        name: name.to_owned(),
        dependencies,
        optional,
        optional_dynamic: dynamic.contains(&"optional-dependencies"),
        build_requires,
    })
}

fn first_line(error: &toml::de::Error) -> String {
    error
        .message()
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// A dependency becomes a line of a requirement file: it must read as one
/// plain requirement there (a name first; no direct reference, which pip
/// would build; nothing pip would read as an option, a comment, a
/// continuation or an environment variable).
fn check_dependency(d: &str) -> Result<(), NotStatic> {
    let plain = d
        .trim_start()
        .starts_with(|c: char| c.is_ascii_alphanumeric())
        && !d.contains(['@', '\n', '\r', '#', '$', '\\'])
        && !d.split_whitespace().any(|w| w.starts_with('-'));
    if plain {
        Ok(())
    } else {
        Err(NotStatic::Dependency(d.to_owned()))
    }
}

/// The normalized name and the extras of a PEP 508 requirement.
fn name_and_extras(requirement: &str) -> (String, Vec<String>) {
    let text = requirement.trim();
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(text.len());
    let rest = text[end..].trim_start();
    let extras = rest
        .strip_prefix('[')
        .and_then(|r| r.split_once(']'))
        .map(|(inner, _)| split_extras(inner))
        .unwrap_or_default();
    (normalize(&text[..end]), extras)
}

fn split_extras(inner: &str) -> Vec<String> {
    inner
        .split(',')
        .map(normalize)
        .filter(|e| !e.is_empty())
        .collect()
}

/// The extras a local requirement asks for (`./sdk[s3]`,
/// `sdk[s3] @ file:libs/sdk`); a marker is refused.
pub fn requested_extras(text: &str) -> Result<Vec<String>, NotStatic> {
    let text = text.trim();
    // pip splits a URL requirement's marker at `; `, a path's at `;`.
    if text.contains(';') {
        return Err(NotStatic::Marker);
    }
    if text.contains('#') {
        return Err(NotStatic::Fragment);
    }
    let before = match text.split_once('@') {
        Some((name, _)) if !name.contains('/') && !name.starts_with('.') => name.trim(),
        _ => text,
    };
    Ok(before
        .strip_suffix(']')
        .and_then(|t| t.rsplit_once('['))
        .map(|(_, inner)| split_extras(inner))
        .unwrap_or_default())
}

/// The hermetic install of `requests`, given each directory's metadata
/// (by path). Extras one local package asks of another are followed.
pub fn resolve(requests: &[Request<'_>], metadata: &BTreeMap<String, Metadata>) -> StaticLocal {
    let by_name: BTreeMap<String, &str> = metadata
        .iter()
        .map(|(path, m)| (normalize(&m.name), path.as_str()))
        .collect();
    // Extras wanted of each package, to a fixed point (bounded: each round
    // adds at least one of finitely many extras).
    let mut wanted: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for r in requests {
        let extras = requested_extras(r.text).unwrap_or_default();
        wanted.entry(r.path).or_default().extend(extras);
    }
    let mut dependencies = BTreeSet::new();
    loop {
        let mut added = false;
        dependencies.clear();
        let snapshot = wanted.clone();
        for (path, extras) in &snapshot {
            let Some(m) = metadata.get(*path) else {
                continue;
            };
            let deps = m
                .dependencies
                .iter()
                .chain(extras.iter().filter_map(|e| m.optional.get(e)).flatten());
            for d in deps {
                let (name, extras) = name_and_extras(d);
                match by_name.get(&name) {
                    Some(other) => {
                        let set = wanted.entry(other).or_default();
                        for e in extras {
                            added |= set.insert(e);
                        }
                    }
                    None => {
                        dependencies.insert(d.trim().to_owned());
                    }
                }
            }
        }
        if !added && wanted.len() == snapshot.len() {
            break;
        }
    }
    let build_requires: BTreeSet<String> = wanted
        .keys()
        .filter_map(|p| metadata.get(*p))
        .flat_map(|m| m.build_requires.iter().map(|r| r.trim().to_owned()))
        .collect();
    let mut drop: Vec<(String, usize, usize)> = requests
        .iter()
        .map(|r| (r.file.to_owned(), r.drop.start, r.drop.end))
        .collect();
    drop.sort();
    drop.dedup();
    StaticLocal {
        packages: wanted.keys().map(|p| (*p).to_owned()).collect(),
        dependencies: dependencies.into_iter().collect(),
        build_requires: build_requires.into_iter().collect(),
        drop,
    }
}

/// pip's archive extensions: a wheel or sdist file, not a directory (the
/// requirement parser's own check).
pub use super::requirements::is_archive;

/// Whether the local requirement `local` (written as `request`) installs
/// hermetically, given its directory's `pyproject.toml` (`None`: there is
/// none) and whether its set is in `--hash` mode: its static metadata, or
/// why not. The conversion and `pyfront init` both ask this.
pub fn check(
    request: &Request<'_>,
    local: &super::LocalRequirement,
    require_hashes: bool,
    pyproject: Option<&str>,
) -> Result<Metadata, NotStatic> {
    if require_hashes {
        Err(NotStatic::Hashes)
    } else if local.constraint {
        Err(NotStatic::Constraint)
    } else if local.config_settings {
        Err(NotStatic::ConfigSettings)
    } else if is_archive(&local.path) {
        Err(NotStatic::Archive)
    } else {
        let m = metadata(pyproject.ok_or(NotStatic::NoPyproject)?)?;
        check_extras(request, &m)?;
        Ok(m)
    }
}

/// The `pyproject.toml` of a local package's directory, relative to the
/// context root.
pub fn pyproject_path(path: &str) -> String {
    match path {
        "." => "pyproject.toml".to_owned(),
        d => format!("{d}/pyproject.toml"),
    }
}

/// The extras a request asks for that the package declares dynamically.
pub fn check_extras(request: &Request<'_>, metadata: &Metadata) -> Result<(), NotStatic> {
    let extras = requested_extras(request.text)?;
    if !extras.is_empty() && metadata.optional_dynamic {
        return Err(NotStatic::Dynamic("optional-dependencies"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDK: &str = "[project]\nname = \"Acme_SDK\"\ndependencies = [\"requests>=2\", \"acme-core[fast]\"]\n[project.optional-dependencies]\nS3 = [\"boto3\"]\n[build-system]\nrequires = [\"hatchling\"]\n";
    const CORE: &str =
        "[project]\nname = \"acme-core\"\ndependencies = [\"attrs\"]\n[project.optional-dependencies]\nfast = [\"orjson ; python_version >= '3.9'\"]\n";

    #[test]
    fn static_metadata_is_read() {
        let m = metadata(SDK).unwrap();
        assert_eq!(m.name, "Acme_SDK");
        assert_eq!(m.dependencies, ["requests>=2", "acme-core[fast]"]);
        assert_eq!(m.optional["s3"], ["boto3"]);
        assert_eq!(m.build_requires, ["hatchling"]);
        assert_eq!(
            metadata(CORE).unwrap().build_requires,
            [DEFAULT_BUILD_REQUIRES]
        );
    }

    #[test]
    fn dynamic_or_missing_metadata_is_refused() {
        assert_eq!(
            metadata("[project]\nname = \"x\"\ndynamic = [\"dependencies\"]\n"),
            Err(NotStatic::Dynamic("dependencies"))
        );
        assert_eq!(metadata("[tool.x]\n"), Err(NotStatic::NoName));
        assert!(matches!(
            metadata("[project\n"),
            Err(NotStatic::InvalidPyproject(_))
        ));
        for bad in [
            "x @ https://e.example/x.whl",
            "-r other.txt",
            "x # c",
            "x ${T}",
        ] {
            let text = format!("[project]\nname = \"x\"\ndependencies = [{bad:?}]\n");
            assert_eq!(metadata(&text), Err(NotStatic::Dependency(bad.to_owned())));
        }
    }

    #[test]
    fn extras_and_markers_of_the_requirement() {
        assert_eq!(requested_extras("./libs/sdk[S3, x]").unwrap(), ["s3", "x"]);
        assert_eq!(requested_extras("sdk[s3] @ file:libs/sdk").unwrap(), ["s3"]);
        assert!(requested_extras(".").unwrap().is_empty());
        assert_eq!(
            requested_extras("./sdk ; python_version < '3.12'"),
            Err(NotStatic::Marker)
        );
        assert_eq!(
            requested_extras("file:./libs/sdk#subdirectory=python"),
            Err(NotStatic::Fragment)
        );
    }

    #[test]
    fn local_packages_depending_on_each_other_are_not_fetched() {
        let metas = BTreeMap::from([
            ("libs/sdk".to_owned(), metadata(SDK).unwrap()),
            ("libs/core".to_owned(), metadata(CORE).unwrap()),
        ]);
        let requests = [
            Request {
                path: "libs/sdk",
                text: "./libs/sdk[s3]",
                file: "requirements.txt",
                span: 10..24,
                drop: 10..24,
            },
            Request {
                path: "libs/core",
                text: "./libs/core",
                file: "base.txt",
                span: 3..14,
                drop: 0..14,
            },
        ];
        let local = resolve(&requests, &metas);
        assert_eq!(local.packages, ["libs/core", "libs/sdk"]);
        assert_eq!(
            local.dependencies,
            [
                "attrs",
                "boto3",
                "orjson ; python_version >= '3.9'",
                "requests>=2"
            ]
        );
        assert_eq!(local.build_requires, ["hatchling", DEFAULT_BUILD_REQUIRES]);
        assert_eq!(
            local.drop,
            [
                ("base.txt".to_owned(), 0, 14),
                ("requirements.txt".to_owned(), 10, 24)
            ]
        );
    }

    /// The one check both the conversion and `pyfront init` run, on an
    /// `-e` line as on a plain one.
    #[test]
    fn check_says_why_a_local_requirement_is_not_hermetic() {
        let local = |path: &str| super::super::LocalRequirement {
            path: path.to_owned(),
            editable: true,
            constraint: false,
            config_settings: false,
            file: crate::spec::ContextPath::parse("requirements.txt").unwrap(),
            span: 3..4,
            line: 0..4,
        };
        let request = |text| Request {
            path: ".",
            text,
            file: "requirements.txt",
            span: 3..4,
            drop: 0..4,
        };
        let root = local(".");
        assert_eq!(
            check(&request("."), &root, false, Some(SDK)).unwrap().name,
            "Acme_SDK"
        );
        assert_eq!(
            check(&request("."), &root, false, None),
            Err(NotStatic::NoPyproject)
        );
        assert_eq!(
            check(&request("."), &root, true, Some(SDK)),
            Err(NotStatic::Hashes)
        );
        let dynamic = "[project]\nname = \"app\"\ndynamic = [\"dependencies\"]\n";
        assert_eq!(
            check(&request("."), &root, false, Some(dynamic)),
            Err(NotStatic::Dynamic("dependencies"))
        );
        let optional =
            "[project]\nname = \"app\"\ndependencies = []\ndynamic = [\"optional-dependencies\"]\n";
        assert!(check(&request("."), &root, false, Some(optional)).is_ok());
        assert_eq!(
            check(&request(".[dev]"), &root, false, Some(optional)),
            Err(NotStatic::Dynamic("optional-dependencies"))
        );
        let configured = super::super::LocalRequirement {
            config_settings: true,
            ..local(".")
        };
        assert_eq!(
            check(&request("."), &configured, false, Some(SDK)),
            Err(NotStatic::ConfigSettings)
        );
        assert_eq!(pyproject_path("."), "pyproject.toml");
        assert_eq!(pyproject_path("libs/sdk"), "libs/sdk/pyproject.toml");
    }

    #[test]
    fn names_normalize() {
        assert_eq!(normalize("Acme_SDK"), "acme-sdk");
        assert_eq!(normalize("a..b--c"), "a-b-c");
    }
}
