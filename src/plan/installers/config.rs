//! `install.json`: the one definition of the helper's config.
//!
//! The helper (`helper/install_config.py`) validates it strictly (version,
//! mode, the exact key set of the mode, types) and refuses anything else, so
//! a change here is a change of the format: bump [`VERSION`] when a key
//! changes meaning, and update `install_config.py`'s schema and `testdata/`
//! with it.
//!
//! The bytes key the step's build cache: serde writes struct fields in
//! declaration order, `version` first, then `mode` and that mode's fields,
//! then `indexes`. Nothing here is a map, so nothing depends on hashing.

use serde::Serialize;

use crate::spec::{Index, Username};

/// The config format the install helper reads; it refuses any other.
pub(crate) const VERSION: u32 = 1;

/// The whole config. Its fields are private: [`HelperConfig::new`] is the
/// only way to build one, so every config has the current version.
#[derive(Debug, Serialize)]
pub(crate) struct HelperConfig<'a> {
    version: u32,
    #[serde(flatten)]
    mode: Mode<'a>,
    indexes: Vec<IndexConfig<'a>>,
}

/// pip requirement files with local packages of static metadata
/// (`pip_local`): the key is left out when there are none, so other
/// configs keep their bytes.
#[derive(Debug, Serialize)]
pub(crate) struct LocalConfig {
    /// Every requirement file reached, relative to `cwd`: the helper copies
    /// them (includes resolve among the copies)...
    pub(crate) files: Vec<String>,
    /// ...with these `(file, start, end)` byte ranges (the local
    /// requirements) blanked, so pip never builds a local package.
    pub(crate) drop: Vec<(String, usize, usize)>,
    /// pip-download: requirement files resolved and downloaded apart (the
    /// local packages' build backends), wheels only.
    pub(crate) build_requirements: Vec<String>,
    /// wheelhouse-requirements: the local packages' directories, each
    /// built from a writable copy and installed `--no-deps` after the
    /// requirements, offline.
    pub(crate) packages: Vec<String>,
}

/// What the step does; serialized as `"mode": "<kebab-case name>"` next to
/// the mode's own fields. `venv` is where the packages go.
#[derive(Debug, Serialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub(crate) enum Mode<'a> {
    /// pip installs requirement files (`-r`) into the existing app venv,
    /// from `cwd` (relative paths in the files resolve against it).
    PipRequirements {
        venv: &'a str,
        cwd: &'a str,
        requirements: Vec<String>,
    },
    /// pip installs the project at `project` (`--no-deps`), built from a
    /// writable copy because the context mount is read-only. With
    /// `find_links`, its build backend comes from that wheelhouse only
    /// (`--no-index`), with no credentials and no network.
    PipProject {
        venv: &'a str,
        project: &'a str,
        find_links: Option<&'a str>,
    },
    /// pip installs a tool (uv, Poetry) from requirement files into `venv`,
    /// which is created (`--without-pip`) when missing.
    ToolProvision {
        venv: &'a str,
        requirements: Vec<String>,
    },
    /// The fetch step of pip requirement files: the builder's pip, as a
    /// wheels-only resolver (`pip download --only-binary=:all:`), downloads
    /// what the files need into `wheelhouse` and the helper writes its
    /// manifest. No package code runs, so none sees the credentials.
    PipDownload {
        cwd: &'a str,
        requirements: Vec<String>,
        wheelhouse: &'a str,
        hints: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        local: Option<LocalConfig>,
    },
    /// The install step of pip requirement files: pip resolves them again
    /// against `wheelhouse` only (`--no-index`), with no network and no
    /// credentials.
    WheelhouseRequirements {
        venv: &'a str,
        cwd: &'a str,
        requirements: Vec<String>,
        wheelhouse: &'a str,
        hints: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        local: Option<LocalConfig>,
    },
    /// The hermetic install's last step: `installer` (`uv pip install` or
    /// pip) installs `requirements` into `venv` from `wheelhouse` only,
    /// with no index, no network and no credentials, after re-checking the
    /// wheelhouse's manifest.
    WheelhouseInstall {
        venv: &'a str,
        installer: &'a str,
        /// The uv executable; `None` for pip (the builder's own).
        tool: Option<String>,
        wheelhouse: &'a str,
        requirements: String,
        /// uv workspaces: the select step's members directory
        /// (`members.txt` and `src/<name>/`); the listed members are
        /// installed after `requirements`, non-editable and `--no-deps`,
        /// from writable copies. `None`: no workspace.
        members: Option<&'a str>,
        hints: Vec<String>,
    },
}

/// An index as the helper sees it: the URL, a plain username and secret
/// *ids*; the helper reads the secret values from `/run/secrets/<id>`.
/// The spec guarantees that a username (plain or secret) comes with a
/// `password_secret` and the other way round; the helper checks it again.
#[derive(Debug, Serialize)]
pub(crate) struct IndexConfig<'a> {
    name: &'a str,
    url: &'a str,
    username: Option<&'a str>,
    username_secret: Option<&'a str>,
    password_secret: Option<&'a str>,
    default: bool,
}

/// `lockselect.json`: the hermetic install's first step, which reads the
/// lock offline and writes the fetch step's config (`fetch.json`) and the
/// install step's `requirements.txt` into `out`. Its format is
/// `helper/lockselect_config.py`'s, checked as strictly as `install.json`.
/// The bytes key the select step: `version` first, then the
/// [`Select`] fields in their order, then `indexes`.
#[derive(Debug, Serialize)]
pub(crate) struct SelectConfig<'a> {
    version: u32,
    #[serde(flatten)]
    select: Select<'a>,
    indexes: Vec<IndexConfig<'a>>,
}

/// The fields of a [`SelectConfig`] besides its version and indexes.
#[derive(Debug, Serialize)]
pub(crate) struct Select<'a> {
    /// `uv` or `poetry`: whose lock is read.
    pub(crate) mode: &'a str,
    /// uv's executable (`uv export`); `None` for Poetry, whose lock
    /// pyfront reads itself.
    pub(crate) tool: Option<String>,
    pub(crate) cwd: &'a str,
    pub(crate) groups: &'a [String],
    pub(crate) extras: &'a [String],
    /// `project = true`: the project's own build requirements are fetched
    /// too, so the project builds offline.
    pub(crate) project: bool,
    /// uv: the workspace member to export (`uv export --package`).
    pub(crate) package: Option<&'a str>,
    pub(crate) out: &'a str,
    /// uv workspaces: where the workspace members the export lists are
    /// copied (`src/<name>/`) and listed (`members.txt`), their build
    /// requirements planned for the fetch. `None`: no workspace.
    pub(crate) members: Option<&'a str>,
    pub(crate) wheelhouse: &'a str,
    pub(crate) fetch_cache_dir: &'a str,
    pub(crate) hints: Vec<String>,
}

impl<'a> SelectConfig<'a> {
    pub(crate) fn new(select: Select<'a>, indexes: &'a [Index]) -> Self {
        Self {
            version: VERSION,
            select,
            indexes: indexes.iter().map(IndexConfig::from).collect(),
        }
    }

    /// The bytes of `lockselect.json`.
    pub(crate) fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}

impl<'a> HelperConfig<'a> {
    pub(crate) fn new(mode: Mode<'a>, indexes: &'a [Index]) -> Self {
        Self {
            version: VERSION,
            mode,
            indexes: indexes.iter().map(IndexConfig::from).collect(),
        }
    }

    /// The bytes of `install.json`.
    pub(crate) fn to_json(&self) -> Vec<u8> {
        // Cannot fail: only strings, booleans, integers and structs, no
        // maps with non-string keys. An empty file would make the helper
        // stop with a clear error rather than guess.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}

impl<'a> From<&'a Index> for IndexConfig<'a> {
    fn from(index: &'a Index) -> Self {
        let (username, username_secret) = match &index.username {
            Some(Username::Plain(user)) => (Some(user.as_str()), None),
            Some(Username::Secret(id)) => (None, Some(id.as_str())),
            None => (None, None),
        };
        Self {
            name: index.name.as_str(),
            // The installer must reach the index: the one place its URL
            // leaves the redacting type. It holds no credentials (the spec
            // refuses them); those come from the secret mounts.
            url: index.url.unredacted(),
            username,
            username_secret,
            password_secret: index.password_secret.as_ref().map(|s| s.as_str()),
            default: index.default,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An extra index without credentials.
    fn index<'a>(name: &'a str, url: &'a str) -> IndexConfig<'a> {
        IndexConfig {
            name,
            url,
            username: None,
            username_secret: None,
            password_secret: None,
            default: false,
        }
    }

    fn config<'a>(mode: Mode<'a>, indexes: Vec<IndexConfig<'a>>) -> HelperConfig<'a> {
        HelperConfig {
            version: VERSION,
            mode,
            indexes,
        }
    }

    /// One config of each mode, named like its mode; `testdata/<name>.json`
    /// holds its bytes, which `helper/test_install_*.py` feed to the helper.
    fn examples() -> Vec<(&'static str, HelperConfig<'static>)> {
        vec![
            (
                "pip-requirements",
                config(
                    Mode::PipRequirements {
                        venv: "/opt/venv",
                        cwd: "/run/pyfront/context",
                        requirements: vec![
                            "/run/pyfront/context/requirements.txt".to_owned(),
                            "/run/pyfront/context/requirements/extra.txt".to_owned(),
                        ],
                    },
                    vec![
                        IndexConfig {
                            username: Some("gitlab-ci-token"),
                            password_secret: Some("pypi_token"),
                            default: true,
                            ..index("corp", "https://gitlab.example.com/pypi/simple")
                        },
                        IndexConfig {
                            username_secret: Some("art_user"),
                            password_secret: Some("art_token"),
                            ..index("artifactory.eu", "https://artifactory.example.com/simple")
                        },
                        index("mirror", "http://mirror.internal:8080/simple"),
                    ],
                ),
            ),
            (
                "pip-project",
                config(
                    Mode::PipProject {
                        venv: "/opt/venv",
                        project: "/run/pyfront/context",
                        find_links: Some("/run/pyfront/wheelhouse"),
                    },
                    Vec::new(),
                ),
            ),
            (
                "tool-provision",
                config(
                    Mode::ToolProvision {
                        venv: "/opt/pyfront-tools",
                        requirements: vec!["/run/pyfront/helper/tools.txt".to_owned()],
                    },
                    Vec::new(),
                ),
            ),
            (
                "pip-download",
                config(
                    Mode::PipDownload {
                        cwd: "/run/pyfront/context",
                        requirements: vec!["/run/pyfront/context/requirements.txt".to_owned()],
                        wheelhouse: "/var/lib/pyfront/wheelhouse",
                        hints: Vec::new(),
                        local: None,
                    },
                    vec![IndexConfig {
                        username: Some("gitlab-ci-token"),
                        password_secret: Some("pypi_token"),
                        default: true,
                        ..index("corp", "https://gitlab.example.com/pypi/simple")
                    }],
                ),
            ),
            (
                "wheelhouse-requirements",
                config(
                    Mode::WheelhouseRequirements {
                        venv: "/opt/venv",
                        cwd: "/run/pyfront/context",
                        requirements: vec!["/run/pyfront/context/requirements.txt".to_owned()],
                        wheelhouse: "/run/pyfront/wheelhouse",
                        hints: Vec::new(),
                        local: None,
                    },
                    Vec::new(),
                ),
            ),
            (
                "wheelhouse-requirements-local",
                config(
                    Mode::WheelhouseRequirements {
                        venv: "/opt/venv",
                        cwd: "/run/pyfront/context",
                        requirements: vec![
                            "/run/pyfront/context/requirements.txt".to_owned(),
                            "/run/pyfront/helper/local-dependencies.txt".to_owned(),
                        ],
                        wheelhouse: "/run/pyfront/wheelhouse",
                        hints: Vec::new(),
                        local: Some(LocalConfig {
                            files: vec!["requirements.txt".to_owned()],
                            drop: vec![("requirements.txt".to_owned(), 0, 10)],
                            build_requirements: Vec::new(),
                            packages: vec!["/run/pyfront/local/libs/sdk".to_owned()],
                        }),
                    },
                    Vec::new(),
                ),
            ),
            (
                "wheelhouse-install",
                config(
                    Mode::WheelhouseInstall {
                        venv: "/opt/venv",
                        installer: "uv",
                        tool: Some("/opt/pyfront-tools/bin/uv".to_owned()),
                        wheelhouse: "/run/pyfront/wheelhouse",
                        requirements: "/run/pyfront/plan/requirements.txt".to_owned(),
                        members: Some("/run/pyfront/members"),
                        hints: Vec::new(),
                    },
                    Vec::new(),
                ),
            ),
        ]
    }

    fn testdata(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/plan/installers/testdata")
            .join(format!("{name}.json"))
    }

    /// The bytes of every mode's config are exactly `testdata/<mode>.json`
    /// (`UPDATE_GOLDEN=1` rewrites them; review the diff like code).
    #[test]
    fn every_mode_serializes_to_its_testdata() {
        let examples = examples();
        let mut names: Vec<&str> = examples.iter().map(|(name, _)| *name).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "pip-download",
                "pip-project",
                "pip-requirements",
                "tool-provision",
                "wheelhouse-install",
                "wheelhouse-requirements",
                "wheelhouse-requirements-local"
            ]
        );
        for (name, config) in &examples {
            let json = String::from_utf8(config.to_json()).unwrap();
            assert!(
                json.starts_with(&format!(
                    "{{\n  \"version\": 1,\n  \"mode\": \"{}\",\n",
                    name.trim_end_matches("-local")
                )),
                "{json}"
            );
            let path = testdata(name);
            if std::env::var_os("UPDATE_GOLDEN").is_some() {
                std::fs::write(&path, &json).unwrap();
                continue;
            }
            let expected = std::fs::read_to_string(&path).unwrap();
            assert_eq!(json, expected, "{}", path.display());
        }
    }

    #[test]
    fn the_same_config_serializes_to_the_same_bytes() {
        let build = || {
            config(
                Mode::WheelhouseInstall {
                    venv: "/opt/venv",
                    installer: "pip",
                    tool: None,
                    wheelhouse: "/run/pyfront/wheelhouse",
                    requirements: "/run/pyfront/plan/requirements.txt".to_owned(),
                    members: None,
                    hints: Vec::new(),
                },
                vec![IndexConfig {
                    username: Some("u"),
                    password_secret: Some("p"),
                    ..index("a", "https://a.example/simple")
                }],
            )
            .to_json()
        };
        let first = build();
        for _ in 0..10 {
            assert_eq!(build(), first);
        }
    }

    /// `lockselect.json` of each lock, as `testdata/lockselect-<lock>.json`
    /// (`UPDATE_GOLDEN=1` rewrites them), which `helper/test_lockselect*.py`
    /// feed to the select program.
    #[test]
    fn select_configs_serialize_to_their_testdata() {
        let groups = ["main".to_owned(), "ml".to_owned()];
        let extras = ["s3".to_owned()];
        for (lock, tool) in [("uv", Some("/opt/pyfront-tools/bin/uv")), ("poetry", None)] {
            let config = SelectConfig {
                version: VERSION,
                select: Select {
                    mode: lock,
                    tool: tool.map(str::to_owned),
                    cwd: "/run/pyfront/context",
                    groups: &groups,
                    extras: &extras,
                    project: lock == "uv",
                    package: (lock == "uv").then_some("backend"),
                    out: "/var/lib/pyfront/plan",
                    members: Some("/var/lib/pyfront/members"),
                    wheelhouse: "/var/lib/pyfront/wheelhouse",
                    fetch_cache_dir: "/root/.cache/pyfront-fetch",
                    hints: vec![format!("run `{lock} lock`")],
                },
                indexes: vec![IndexConfig {
                    username: Some("gitlab-ci-token"),
                    password_secret: Some("pypi_token"),
                    default: true,
                    ..index("acme-private", "https://gitlab.example.com/acme/simple")
                }],
            };
            let json = String::from_utf8(config.to_json()).unwrap();
            assert!(
                json.starts_with("{\n  \"version\": 1,\n  \"mode\": "),
                "{json}"
            );
            let path = testdata(&format!("lockselect-{lock}"));
            if std::env::var_os("UPDATE_GOLDEN").is_some() {
                std::fs::write(&path, &json).unwrap();
                continue;
            }
            let expected = std::fs::read_to_string(&path).unwrap();
            assert_eq!(json, expected, "{}", path.display());
        }
    }

    #[test]
    fn the_version_and_the_mode_come_first() {
        let config = HelperConfig::new(
            Mode::PipProject {
                venv: "/opt/venv",
                project: "/run/pyfront/context",
                find_links: None,
            },
            &[],
        );
        assert_eq!(
            String::from_utf8(config.to_json()).unwrap(),
            concat!(
                "{\n",
                "  \"version\": 1,\n",
                "  \"mode\": \"pip-project\",\n",
                "  \"venv\": \"/opt/venv\",\n",
                "  \"project\": \"/run/pyfront/context\",\n",
                "  \"find_links\": null,\n",
                "  \"indexes\": []\n",
                "}"
            )
        );
    }
}
