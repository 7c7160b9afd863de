//! The Python project files pyfront reads: `pyproject.toml` (`[project]`,
//! `[tool.poetry]`, `[tool.uv]`) and the lock files (`uv.lock`,
//! `poetry.lock`). One model for `pyfront init` (which infers a starter
//! spec) and the installers' project check (which compares the indexes with
//! the spec's). Each struct holds only the fields pyfront reads; every other
//! key is ignored, so a project file is never rejected for what pyfront
//! does not use.
//!
//! A leaf: plain `serde` structs, nothing of the crate.

use serde::{Deserialize, Deserializer};

/// `pyproject.toml`.
#[derive(Debug, Default, Deserialize)]
pub struct PyProject {
    #[serde(default, deserialize_with = "hint")]
    pub project: Option<Project>,
    #[serde(default)]
    pub tool: Tool,
}

/// `[project]` (PEP 621).
#[derive(Debug, Default, Deserialize)]
pub struct Project {
    #[serde(default, rename = "requires-python", deserialize_with = "hint")]
    pub requires_python: Option<String>,
    /// PEP 508 requirements, for the system packages `init` proposes.
    #[serde(default, deserialize_with = "hint")]
    pub dependencies: Option<Vec<String>>,
}

/// `[tool]`.
#[derive(Debug, Default, Deserialize)]
pub struct Tool {
    #[serde(default)]
    pub poetry: Option<Poetry>,
    #[serde(default)]
    pub uv: Option<Uv>,
}

/// `[tool.poetry]`.
#[derive(Debug, Default, Deserialize)]
pub struct Poetry {
    /// `[[tool.poetry.source]]`.
    #[serde(default)]
    pub source: Vec<NamedIndex>,
    #[serde(default, deserialize_with = "hint")]
    pub dependencies: Option<PoetryDependencies>,
}

/// `[tool.poetry.dependencies]`, only the Python constraint.
#[derive(Debug, Default, Deserialize)]
pub struct PoetryDependencies {
    #[serde(default, deserialize_with = "hint")]
    pub python: Option<String>,
}

/// `[tool.uv]`.
#[derive(Debug, Default, Deserialize)]
pub struct Uv {
    /// `[[tool.uv.index]]`.
    #[serde(default)]
    pub index: Vec<NamedIndex>,
    /// `[tool.uv.workspace]`: the project is a workspace root.
    #[serde(default, deserialize_with = "hint")]
    pub workspace: Option<Workspace>,
}

/// `[tool.uv.workspace]`. Its member globs are uv's business (the select
/// step's `uv export` reads them): pyfront only notes that there is one.
#[derive(Debug, Default, Deserialize)]
pub struct Workspace {}

impl PyProject {
    /// Whether this `pyproject.toml` is the root of a uv workspace.
    pub fn is_uv_workspace(&self) -> bool {
        self.tool
            .uv
            .as_ref()
            .is_some_and(|uv| uv.workspace.is_some())
    }
}

/// A `[[tool.poetry.source]]` or `[[tool.uv.index]]`.
#[derive(Debug, Deserialize)]
pub struct NamedIndex {
    pub name: String,
    #[serde(default)]
    pub url: Option<String>,
    /// uv: `default = true`, the index replaces PyPI.
    #[serde(default)]
    pub default: Option<bool>,
    /// Poetry: `primary` (also when unset), `supplemental`, `explicit`, or
    /// the deprecated `default`.
    #[serde(default)]
    pub priority: Option<String>,
}

impl NamedIndex {
    /// Whether this index, with its siblings `all`, replaces PyPI for the
    /// installer: uv's `default = true`; for Poetry a primary source (also
    /// one with no priority, or the deprecated `default`) when no source is
    /// PyPI itself, which Poetry then does not ask.
    pub fn replaces_pypi(&self, installer: &str, all: &[NamedIndex]) -> bool {
        match installer {
            "uv" => self.default == Some(true),
            "poetry" => {
                let is_pypi = |n: &NamedIndex| {
                    n.name.eq_ignore_ascii_case("pypi")
                        || n.url.as_deref().is_some_and(|u| u.contains("://pypi.org/"))
                };
                !all.iter().any(is_pypi)
                    && matches!(self.priority.as_deref(), None | Some("primary" | "default"))
            }
            _ => false,
        }
    }
}

/// A lock file (`uv.lock`, `poetry.lock`), only each package's name and
/// source, and uv's top-level `requires-python`.
#[derive(Debug, Default, Deserialize)]
pub struct Lock {
    #[serde(default)]
    pub package: Vec<LockedPackage>,
    #[serde(default, rename = "requires-python")]
    pub requires_python: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LockedPackage {
    pub name: String,
    #[serde(default)]
    pub source: Option<LockedSource>,
}

/// uv: `source = { registry = "URL" }` (or `directory`, `editable`,
/// `virtual`, `git`, ...); Poetry: `[package.source] type = "legacy", url,
/// reference = NAME` (a path dependency: `type = "directory", url = PATH`).
#[derive(Debug, Deserialize)]
pub struct LockedSource {
    #[serde(default)]
    pub registry: Option<String>,
    /// uv: a path source or a workspace member, non-editable.
    #[serde(default)]
    pub directory: Option<String>,
    /// uv: a path source or a workspace member, editable (the root
    /// project is `editable = "."`).
    #[serde(default)]
    pub editable: Option<String>,
    /// uv: a workspace member (or the root, `"."`) that is not a package.
    #[serde(default, rename = "virtual")]
    pub virtual_path: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub reference: Option<String>,
}

/// A package the lock takes from a directory of the project's own
/// repository: a uv workspace member or path source, a Poetry path
/// dependency. `path` is as the lock writes it, relative to the lock's
/// directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPackage<'a> {
    pub name: &'a str,
    pub path: &'a str,
}

impl Lock {
    /// The packages locked from a directory other than the project's own,
    /// in lock order.
    pub fn local_packages(&self) -> Vec<LocalPackage<'_>> {
        self.package
            .iter()
            .filter_map(|p| {
                let source = p.source.as_ref()?;
                let path = match source.kind.as_deref() {
                    Some("directory") => source.url.as_deref(),
                    Some(_) => None,
                    None => source.directory.as_deref().or(source.editable.as_deref()),
                }?;
                (path != ".").then_some(LocalPackage {
                    name: &p.name,
                    path,
                })
            })
            .collect()
    }
}

/// Whether the relative `path` (`/`-separated, as locks write it) names a
/// place under the directory it is relative to: not absolute, and no `..`
/// that climbs above it.
pub fn stays_below(path: &str) -> bool {
    if path.starts_with('/') || path.starts_with('\\') || path.get(1..2) == Some(":") {
        return false;
    }
    let mut depth: usize = 0;
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            _ => depth += 1,
        }
    }
    true
}

/// A value pyfront only takes a hint from (the Python version `init`
/// writes): one of another type reads as absent instead of failing the
/// whole file.
fn hint<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = toml::Value::deserialize(deserializer)?;
    Ok(value.try_into().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_indexes_and_python_and_ignores_the_rest() {
        let p: PyProject = toml::from_str(
            "[project]\nname = \"x\"\nrequires-python = \">=3.11\"\ndependencies = [\"psycopg2>=2.9\"]\n[tool.poetry.dependencies]\npython = \"^3.12\"\nsix = \"*\"\n[[tool.poetry.source]]\nname = \"corp\"\nurl = \"https://corp.example/simple\"\n[[tool.uv.index]]\nname = \"private\"\nexplicit = true\n[tool.black]\nline-length = 100\n",
        )
        .unwrap();
        let project = p.project.unwrap();
        assert_eq!(project.requires_python.as_deref(), Some(">=3.11"));
        assert_eq!(project.dependencies.unwrap(), ["psycopg2>=2.9"]);
        let poetry = p.tool.poetry.unwrap();
        assert_eq!(poetry.source[0].name, "corp");
        assert_eq!(
            poetry.dependencies.and_then(|d| d.python).as_deref(),
            Some("^3.12")
        );
        let uv = p.tool.uv.unwrap();
        assert_eq!(
            (uv.index[0].name.as_str(), uv.index[0].url.as_deref()),
            ("private", None)
        );
    }

    #[test]
    fn lists_the_local_packages_of_a_lock() {
        let uv: Lock = toml::from_str(
            "[[package]]\nname = \"app\"\nsource = { editable = \".\" }\n\
             [[package]]\nname = \"sdk\"\nsource = { editable = \"libs/sdk\" }\n\
             [[package]]\nname = \"sdk2\"\nsource = { directory = \"../sdk2\" }\n\
             [[package]]\nname = \"six\"\nsource = { registry = \"https://pypi.org/simple\" }\n",
        )
        .unwrap();
        let names: Vec<(&str, &str)> = uv
            .local_packages()
            .iter()
            .map(|l| (l.name, l.path))
            .collect();
        assert_eq!(names, [("sdk", "libs/sdk"), ("sdk2", "../sdk2")]);
        let poetry: Lock = toml::from_str(
            "[[package]]\nname = \"sdk-a\"\n[package.source]\ntype = \"directory\"\nurl = \"sdks/sdk-a\"\n\
             [[package]]\nname = \"six\"\n[package.source]\ntype = \"legacy\"\nurl = \"https://x/simple\"\nreference = \"x\"\n",
        )
        .unwrap();
        assert_eq!(
            poetry.local_packages(),
            [LocalPackage {
                name: "sdk-a",
                path: "sdks/sdk-a"
            }]
        );
    }

    #[test]
    fn paths_that_stay_below_their_directory() {
        for ok in ["sdks/sdk-a", "./a", "a/../b", "a/b/../../c", "."] {
            assert!(stays_below(ok), "{ok}");
        }
        for out in [
            "..",
            "../sdk",
            "a/../../b",
            "/abs/sdk",
            "C:/sdk",
            "a\\..\\..\\b",
        ] {
            assert!(!stays_below(out), "{out}");
        }
    }

    #[test]
    fn a_hint_of_another_type_reads_as_absent() {
        let p: PyProject =
            toml::from_str("project = 3\n[tool.poetry]\ndependencies = \"x\"\n").unwrap();
        assert!(p.project.is_none());
        assert!(p.tool.poetry.unwrap().dependencies.is_none());
        let p: PyProject = toml::from_str("[project]\nrequires-python = 3\n").unwrap();
        assert!(p.project.unwrap().requires_python.is_none());
        // What the check compares is still checked.
        assert!(toml::from_str::<PyProject>("[[tool.uv.index]]\nurl = \"u\"\n").is_err());
    }

    #[test]
    fn notes_a_uv_workspace() {
        let p: PyProject = toml::from_str(
            "[project]\nname = \"root\"\n[tool.uv.workspace]\nmembers = [\"packages/*\"]\n",
        )
        .unwrap();
        assert!(p.is_uv_workspace());
        let p: PyProject = toml::from_str("[tool.uv]\npackage = false\n").unwrap();
        assert!(!p.is_uv_workspace());
        // An empty table is a workspace of the root alone: still one.
        let p: PyProject = toml::from_str("[tool.uv.workspace]\n").unwrap();
        assert!(p.is_uv_workspace());
    }

    #[test]
    fn reads_both_lock_formats() {
        let uv: Lock = toml::from_str(
            "version = 1\n[[package]]\nname = \"six\"\nversion = \"1\"\nsource = { registry = \"https://pypi.org/simple\" }\n",
        )
        .unwrap();
        let source = uv.package[0].source.as_ref().unwrap();
        assert_eq!(source.registry.as_deref(), Some("https://pypi.org/simple"));
        let poetry: Lock = toml::from_str(
            "[[package]]\nname = \"corp-lib\"\nversion = \"1\"\n[package.source]\ntype = \"legacy\"\nurl = \"https://corp.example/simple\"\nreference = \"corp\"\n",
        )
        .unwrap();
        let source = poetry.package[0].source.as_ref().unwrap();
        assert_eq!(
            (source.kind.as_deref(), source.reference.as_deref()),
            (Some("legacy"), Some("corp"))
        );
    }
}
