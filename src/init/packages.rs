//! The Debian packages a starter spec installs for the dependencies that
//! need them: a small table (`system_packages.toml`, documented in
//! `docs/cli.md`) from PyPI names to the builder's and the runtime's packages,
//! and the names a project's requirements, `pyproject.toml` and locks
//! give.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

const TABLE: &str = include_str!("system_packages.toml");

/// One row of the table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub build: Vec<String>,
    pub runtime: Vec<String>,
}

/// The table, by normalized PyPI name.
pub fn table() -> BTreeMap<String, Entry> {
    // The table is part of the source, and a test parses it.
    toml::from_str(TABLE).unwrap_or_default()
}

/// PEP 503: lowercase, each run of `-`, `_` and `.` as one `-` (the
/// spec's own normalization, so init and the build agree on names).
pub use crate::spec::normalize_package_name as normalize;

/// The normalized project name of a PEP 508 requirement (`Django[argon2]
/// >=4.2; python_version > "3"`, `name @ https://...`), or `None` for a
/// path, URL or option (`./libs/sdk`, `git+https://...`).
pub fn requirement_name(requirement: &str) -> Option<String> {
    let requirement = requirement.trim_start();
    let end = requirement
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(requirement.len());
    let name = &requirement[..end];
    let starts_and_ends_well = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    let rest = requirement[end..].trim_start();
    let followed_well =
        rest.is_empty() || rest.starts_with(['[', '(', '<', '>', '=', '!', '~', ';', '@']);
    (starts_and_ends_well && followed_well).then(|| normalize(name))
}

/// What the table says a project's dependencies need: each package with
/// the dependencies that need it, for the builder and for the runtime.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SystemPackages {
    /// Table names among the dependencies, with their `build` packages.
    pub build: BTreeMap<String, Vec<String>>,
    /// Table names among the dependencies, with their `runtime` packages.
    pub runtime: BTreeMap<String, Vec<String>>,
}

impl SystemPackages {
    /// The rows of the table for `dependencies` (normalized names).
    pub fn for_dependencies<'a>(dependencies: impl IntoIterator<Item = &'a String>) -> Self {
        let table = table();
        let mut out = Self::default();
        for name in dependencies {
            let Some(entry) = table.get(name) else {
                continue;
            };
            if !entry.build.is_empty() {
                out.build.insert(name.clone(), entry.build.clone());
            }
            if !entry.runtime.is_empty() {
                out.runtime.insert(name.clone(), entry.runtime.clone());
            }
        }
        out
    }

    /// The packages of `by_dependency`, sorted and each once.
    pub fn merged(by_dependency: &BTreeMap<String, Vec<String>>) -> Vec<String> {
        by_dependency
            .values()
            .flatten()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_is_small_and_normalized() {
        let table: BTreeMap<String, Entry> = toml::from_str(TABLE).unwrap();
        assert!((8..=12).contains(&table.len()), "{}", table.len());
        for (name, entry) in &table {
            assert_eq!(&normalize(name), name);
            assert!(!entry.runtime.is_empty(), "{name}: nothing at run time");
            for package in entry.build.iter().chain(&entry.runtime) {
                // The spec's own rule for a Debian package name.
                assert!(
                    crate::spec::AptPackage::parse(package).is_ok(),
                    "{name}: {package}"
                );
            }
        }
        assert_eq!(table["psycopg2"].runtime, ["libpq5"]);
    }

    #[test]
    fn the_cli_docs_show_the_table() {
        let readme = include_str!("../../docs/cli.md");
        for (name, entry) in table() {
            let row = readme
                .lines()
                .find(|l| l.starts_with(&format!("| `{name}` |")))
                .unwrap_or_else(|| panic!("no docs/cli.md row for {name}"));
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let listed = |cell: &str| -> Vec<String> {
                cell.split(", ")
                    .filter_map(|p| p.split('`').nth(1).map(str::to_owned))
                    .collect()
            };
            assert_eq!(listed(cells[2]), entry.build, "{row}");
            assert_eq!(listed(cells[3]), entry.runtime, "{row}");
        }
    }

    #[test]
    fn names_are_normalized_from_requirements() {
        let cases = [
            ("psycopg2>=2.9", Some("psycopg2")),
            ("Python_LDAP[sasl] ~= 3.4", Some("python-ldap")),
            ("uWSGI ; sys_platform == \"linux\"", Some("uwsgi")),
            (
                "mysqlclient @ https://example.com/m.tar.gz",
                Some("mysqlclient"),
            ),
            ("python..magic", Some("python-magic")),
            ("PyAudio", Some("pyaudio")),
            ("./libs/sdk", None),
            ("git+https://example.com/x.git", None),
            ("https://example.com/x.whl", None),
            ("dist/x.whl", None),
            ("-e .", None),
        ];
        for (requirement, want) in cases {
            assert_eq!(
                requirement_name(requirement).as_deref(),
                want,
                "{requirement}"
            );
        }
    }

    #[test]
    fn packages_are_merged_sorted_and_once() {
        let deps = ["psycopg2", "mysqlclient", "django", "python-magic"].map(str::to_owned);
        let found = SystemPackages::for_dependencies(&deps);
        assert_eq!(
            found.build.keys().collect::<Vec<_>>(),
            ["mysqlclient", "psycopg2"]
        );
        assert_eq!(
            SystemPackages::merged(&found.build),
            [
                "default-libmysqlclient-dev",
                "gcc",
                "libpq-dev",
                "pkg-config"
            ]
        );
        assert_eq!(
            SystemPackages::merged(&found.runtime),
            ["libmagic1", "libmariadb3", "libpq5"]
        );
        assert_eq!(
            SystemPackages::for_dependencies(&["django".to_owned()]),
            SystemPackages::default()
        );
    }
}
