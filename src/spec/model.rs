//! The validated spec: every string interpolated and checked into a
//! newtype. Built only by `validate`; read by the plan, the
//! installers, the lints and the outline.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;

use super::{
    AppUser, AptPackage, ContextPath, ImagePath, ImageRef, IndexName, IndexUrl, SecretId,
    WorkdirPath,
};

/// The default working directory of the app in the runtime image.
pub const DEFAULT_WORKDIR: &str = "/app";

/// The uid and gid of an `[app] user` name that the app stage creates
/// because the runtime base lacks it: fixed, so file ownership is the same
/// in every build, and clear of the ids base images use (system users
/// below 1000, a first login user at 1000, `nobody` at 65534).
pub const APP_USER_ID: u32 = 10001;

/// Which tool installs the dependencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Installer {
    Pip,
    Poetry,
    Uv,
}

impl Installer {
    pub fn name(self) -> &'static str {
        match self {
            Self::Pip => "pip",
            Self::Poetry => "poetry",
            Self::Uv => "uv",
        }
    }

    /// The lock file the installer reads next to `pyproject.toml`.
    pub fn lock_file(self) -> Option<&'static str> {
        match self {
            Self::Pip => None,
            Self::Poetry => Some("poetry.lock"),
            Self::Uv => Some("uv.lock"),
        }
    }
}

/// The Poetry version provisioned in the builder when `poetry-version` is
/// not set.
pub const DEFAULT_POETRY_VERSION: &str = "2.5.1";
/// The uv version provisioned in the builder when `uv-version` is not set.
pub const DEFAULT_UV_VERSION: &str = "0.13.9";

/// A validated spec. Every string here has been interpolated and checked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Spec {
    pub app: App,
    pub build: Build,
    pub install: Install,
    pub indexes: Vec<Index>,
    /// Build args the spec referenced, for lints and the outline.
    pub used_build_args: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct App {
    pub base: ImageRef,
    pub workdir: ImagePath,
    pub cmd: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub env: BTreeMap<String, String>,
    /// A name is created in the app stage when the runtime base lacks it.
    pub user: Option<AppUser>,
    /// `8080/tcp` form, sorted and deduplicated.
    pub expose: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// Debian packages the runtime needs (shared libraries of compiled
    /// extensions: `libpq5`), installed in the app stage before the venv.
    pub system_packages: Vec<AptPackage>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Build {
    /// Defaults to the app base.
    pub base: ImageRef,
    pub system_packages: Vec<AptPackage>,
    /// `[[build.run]]`, in the spec's order.
    pub run: Vec<BuildRun>,
}

/// A `[[build.run]]` step: the user's own build command (`collectstatic`,
/// `compileall`), run in the builder after the dependency install, with
/// the venv on `PATH` and the app code at the workdir. Never a secret;
/// network `none` unless `network = true`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BuildRun {
    /// The argv, exactly as written (interpolated): no shell unless the
    /// user wrote one (`["sh", "-c", "..."]`).
    pub command: Vec<String>,
    /// Paths relative to the workdir that the app image gets from the
    /// build commands' result.
    pub outputs: Vec<Located<WorkdirPath>>,
    pub env: BTreeMap<String, String>,
    pub network: bool,
    /// The whole `[[build.run]]` table, for the step's failures.
    #[serde(skip)]
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Install {
    pub with: Installer,
    /// pip: the requirement files. Poetry and uv: `pyproject.toml` and the
    /// lock file (located at the `with` key, for errors).
    pub inputs: Vec<Located<ContextPath>>,
    /// Dependency groups; `main` is the project's own dependencies.
    pub groups: Vec<String>,
    pub extras: Vec<String>,
    /// Poetry and uv: the version of the tool provisioned in the builder.
    pub tool_version: Option<String>,
    /// Poetry and uv: also install the project itself (non-editable), in a
    /// step after the dependencies that sees the whole context.
    pub project: bool,
    /// uv only: the workspace member whose dependencies are installed
    /// (`uv export --package`), PEP 503 normalized. `None`: the root
    /// project's.
    pub package: Option<String>,
    /// pip only: the explicit opt-out of the hermetic install, for a
    /// requirement set whose build code pip must run to resolve it (a local
    /// path, a URL or VCS requirement). Its span, for the lint that says
    /// the risk; `None`: not set (or `false`).
    pub build_code_sees_index_login: Option<Range<usize>>,
    /// The `with` key, to point run-time failures of the install at.
    #[serde(skip)]
    pub with_span: Range<usize>,
}

/// A value with the byte span of its TOML source, for errors found later
/// (a requirement file missing from the context, say).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Located<T> {
    pub value: T,
    #[serde(skip)]
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Index {
    pub name: IndexName,
    pub url: IndexUrl,
    pub username: Option<Username>,
    pub password_secret: Option<SecretId>,
    /// True: replaces PyPI (`--index-url`); false: an extra index.
    pub default: bool,
    /// Package name patterns pinned to this index (`*` wildcards).
    pub packages: Vec<String>,
    pub allow_dependency_confusion: bool,
    #[serde(skip)]
    pub span: Range<usize>,
    #[serde(skip)]
    pub packages_span: Option<Range<usize>>,
}

/// Where an index's username comes from. Only secret ids, never values.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Username {
    Plain(String),
    Secret(SecretId),
}

/// What an index reads a secret as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretRole {
    Password,
    Username,
}

impl SecretRole {
    pub fn name(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Username => "username",
        }
    }
}

impl std::fmt::Display for SecretRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Index {
    /// The secrets this index reads, password first. The one list: the
    /// plan's secret mounts, the helper's config, the outline and the lints
    /// all read it.
    pub fn secrets(&self) -> impl Iterator<Item = (&SecretId, SecretRole)> {
        let username = match &self.username {
            Some(Username::Secret(id)) => Some(id),
            _ => None,
        };
        let password = self.password_secret.as_ref();
        password
            .map(|id| (id, SecretRole::Password))
            .into_iter()
            .chain(username.map(|id| (id, SecretRole::Username)))
    }

    /// The secret this index reads as `role`, if any.
    pub fn secret(&self, role: SecretRole) -> Option<&SecretId> {
        self.secrets().find(|(_, r)| *r == role).map(|(id, _)| id)
    }
}

impl Spec {
    /// Every secret id the build needs, sorted and deduplicated.
    pub fn secret_ids(&self) -> Vec<SecretId> {
        let mut ids: Vec<SecretId> = self
            .indexes
            .iter()
            .flat_map(|i| i.secrets().map(|(id, _)| id.clone()))
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}
