//! The pyfront spec: TOML → typed, validated, interpolated [`Spec`].
//!
//! Parsing happens in two steps. `serde` deserializes the TOML straight into
//! the `Raw*` structs (unknown keys, wrong types and missing keys are reported
//! by the TOML parser with their span). Then [`Spec::parse`] interpolates
//! `${ARG}` references and validates every value into a newtype, keeping the
//! span of each value for errors.

mod diagnostic;
mod error;
mod interpolate;
mod names;

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

pub use diagnostic::{line_column, span_lines, Diagnostic};
pub use error::{SpecError, SpecErrorKind};
pub use interpolate::{interpolate, BuildArgs};
pub use names::{AptPackage, ContextPath, ImagePath, ImageRef, IndexName, IndexUrl, SecretId};

/// The default working directory of the app in the runtime image.
pub const DEFAULT_WORKDIR: &str = "/app";

// ---------------------------------------------------------------------------
// Raw model: the TOML as written. Field names are the spec-v1 contract.
// ---------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    app: RawApp,
    #[serde(default)]
    build: RawBuild,
    install: RawInstall,
    #[serde(default)]
    index: Vec<Spanned<RawIndex>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawApp {
    base: Spanned<String>,
    workdir: Option<Spanned<String>>,
    cmd: Option<Vec<Spanned<String>>>,
    entrypoint: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    env: BTreeMap<Spanned<String>, Spanned<String>>,
    user: Option<Spanned<String>>,
    #[serde(default)]
    expose: Vec<Spanned<RawPort>>,
    #[serde(default)]
    labels: BTreeMap<Spanned<String>, Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawPort {
    Number(i64),
    Text(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawBuild {
    base: Option<Spanned<String>>,
    #[serde(default)]
    system_packages: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawInstall {
    with: Spanned<Installer>,
    requirements: Option<Spanned<Vec<Spanned<String>>>>,
    groups: Option<Spanned<Vec<Spanned<String>>>>,
    extras: Option<Spanned<Vec<Spanned<String>>>>,
    project: Option<Spanned<bool>>,
    poetry_version: Option<Spanned<String>>,
    uv_version: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawIndex {
    name: Spanned<String>,
    url: Spanned<String>,
    username: Option<Spanned<String>>,
    username_secret: Option<Spanned<String>>,
    password_secret: Option<Spanned<String>>,
    default: Option<Spanned<bool>>,
    packages: Option<Spanned<Vec<Spanned<String>>>>,
    allow_dependency_confusion: Option<Spanned<bool>>,
}

// ---------------------------------------------------------------------------
// Validated model.
// ---------------------------------------------------------------------------

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
    pub user: Option<String>,
    /// `8080/tcp` form, sorted and deduplicated.
    pub expose: Vec<String>,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Build {
    /// Defaults to the app base.
    pub base: ImageRef,
    pub system_packages: Vec<AptPackage>,
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

impl Spec {
    /// Parses and validates `source`, interpolating `args`.
    pub fn parse(source: &str, args: &BuildArgs) -> Result<Self, SpecError> {
        let raw: RawSpec = toml::from_str(source).map_err(|e| SpecError {
            span: e.span(),
            kind: SpecErrorKind::Toml {
                message: e.message().trim_end().to_owned(),
            },
        })?;
        Validator {
            source,
            args,
            used: Vec::new(),
        }
        .spec(raw)
    }

    /// Every secret id the build needs, sorted and deduplicated.
    pub fn secret_ids(&self) -> Vec<SecretId> {
        let mut ids: Vec<SecretId> = self
            .indexes
            .iter()
            .flat_map(|i| {
                let user = match &i.username {
                    Some(Username::Secret(id)) => Some(id.clone()),
                    _ => None,
                };
                user.into_iter().chain(i.password_secret.clone())
            })
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

struct Validator<'a> {
    source: &'a str,
    args: &'a BuildArgs,
    used: Vec<String>,
}

impl Validator<'_> {
    fn spec(mut self, raw: RawSpec) -> Result<Spec, SpecError> {
        let app = self.app(raw.app)?;
        let build = Build {
            base: match &raw.build.base {
                Some(b) => self.checked(b, "image reference", ImageRef::parse)?,
                None => app.base.clone(),
            },
            system_packages: raw
                .build
                .system_packages
                .iter()
                .map(|p| self.checked(p, "system package", AptPackage::parse))
                .collect::<Result<_, _>>()?,
        };
        let install = self.install(raw.install)?;
        let indexes = self.indexes(raw.index)?;
        if install.with == Installer::Pip {
            // pip merges all indexes and takes the highest version it finds:
            // it cannot honour `packages`, so say so instead of pretending.
            if let Some(i) = indexes
                .iter()
                .find(|i| !i.packages.is_empty() && !i.allow_dependency_confusion)
            {
                return Err(SpecError::new(
                    i.packages_span.clone().unwrap_or_else(|| i.span.clone()),
                    SpecErrorKind::PipCannotPin {
                        name: i.name.to_string(),
                    },
                ));
            }
        }
        let mut used = self.used;
        used.sort();
        used.dedup();
        Ok(Spec {
            app,
            build,
            install,
            indexes,
            used_build_args: used,
        })
    }

    fn app(&mut self, raw: RawApp) -> Result<App, SpecError> {
        let base = self.checked(&raw.base, "image reference", ImageRef::parse)?;
        let workdir = match &raw.workdir {
            Some(w) => self.checked(w, "workdir", ImagePath::parse)?,
            None => {
                ImagePath::parse(DEFAULT_WORKDIR).map_err(|kind| SpecError { span: None, kind })?
            }
        };
        let cmd = raw.cmd.as_deref().map(|v| self.argv(v)).transpose()?;
        let entrypoint = raw
            .entrypoint
            .as_deref()
            .map(|v| self.argv(v))
            .transpose()?;
        let mut env = BTreeMap::new();
        for (k, v) in &raw.env {
            if !is_env_name(k.get_ref()) {
                return Err(SpecError::new(
                    k.span(),
                    SpecErrorKind::InvalidName {
                        what: "environment variable",
                        value: k.get_ref().clone(),
                        reason: "use letters, digits and `_`, not starting with a digit",
                    },
                ));
            }
            env.insert(k.get_ref().clone(), self.text(v)?);
        }
        let user = match &raw.user {
            Some(u) => {
                let value = self.text(u)?;
                if value.is_empty() || value.chars().any(char::is_whitespace) {
                    return Err(SpecError::new(
                        u.span(),
                        SpecErrorKind::InvalidName {
                            what: "user",
                            value,
                            reason: "expected `name`, `uid` or `uid:gid` without spaces",
                        },
                    ));
                }
                Some(value)
            }
            None => None,
        };
        let mut expose = raw
            .expose
            .iter()
            .map(|p| port(p).map_err(|kind| SpecError::new(p.span(), kind)))
            .collect::<Result<Vec<_>, _>>()?;
        expose.sort();
        expose.dedup();
        let mut labels = BTreeMap::new();
        for (k, v) in &raw.labels {
            if k.get_ref().is_empty() {
                return Err(SpecError::new(
                    k.span(),
                    SpecErrorKind::InvalidName {
                        what: "label",
                        value: String::new(),
                        reason: "label keys cannot be empty",
                    },
                ));
            }
            labels.insert(k.get_ref().clone(), self.text(v)?);
        }
        Ok(App {
            base,
            workdir,
            cmd,
            entrypoint,
            env,
            user,
            expose,
            labels,
        })
    }

    fn install(&mut self, raw: RawInstall) -> Result<Install, SpecError> {
        let with = *raw.with.get_ref();
        let only_for = |span: Range<usize>, key: &'static str, for_: &'static str| {
            SpecError::new(
                span,
                SpecErrorKind::InstallOptionNotFor {
                    key,
                    installer: with.name(),
                    for_,
                },
            )
        };
        let project = raw.project.as_ref().is_some_and(|p| *p.get_ref());
        if let (Installer::Pip, Some(p)) = (with, &raw.project) {
            return Err(only_for(p.span(), "project", "`poetry` or `uv`"));
        }
        let mut inputs: Vec<Located<ContextPath>> = Vec::new();
        // A set beside the list: a huge `requirements` stays linear.
        let mut seen = std::collections::BTreeSet::new();
        match with {
            Installer::Pip => {
                let requirements = raw.requirements.as_ref().ok_or_else(|| {
                    SpecError::new(raw.with.span(), SpecErrorKind::MissingRequirements)
                })?;
                if requirements.get_ref().is_empty() {
                    return Err(SpecError::new(
                        requirements.span(),
                        SpecErrorKind::EmptyRequirements,
                    ));
                }
                for r in requirements.get_ref() {
                    let value = self.checked(r, "requirement file", ContextPath::parse)?;
                    if seen.insert(value.clone()) {
                        inputs.push(Located {
                            value,
                            span: r.span(),
                        });
                    }
                }
                for (key, span) in [
                    ("groups", raw.groups.as_ref().map(Spanned::span)),
                    ("extras", raw.extras.as_ref().map(Spanned::span)),
                    (
                        "poetry-version",
                        raw.poetry_version.as_ref().map(Spanned::span),
                    ),
                    ("uv-version", raw.uv_version.as_ref().map(Spanned::span)),
                ] {
                    if let Some(span) = span {
                        return Err(only_for(span, key, "`poetry` or `uv`"));
                    }
                }
            }
            Installer::Poetry | Installer::Uv => {
                if let Some(r) = &raw.requirements {
                    return Err(only_for(r.span(), "requirements", "`pip`"));
                }
                let (other_key, other) = match with {
                    Installer::Poetry => ("uv-version", &raw.uv_version),
                    _ => ("poetry-version", &raw.poetry_version),
                };
                if let Some(o) = other {
                    let for_ = if with == Installer::Poetry {
                        "`uv`"
                    } else {
                        "`poetry`"
                    };
                    return Err(only_for(o.span(), other_key, for_));
                }
                for file in ["pyproject.toml", with.lock_file().unwrap_or_default()] {
                    let value = ContextPath::parse(file)
                        .map_err(|kind| SpecError::new(raw.with.span(), kind))?;
                    inputs.push(Located {
                        value,
                        span: raw.with.span(),
                    });
                }
            }
        }
        let names = |list: &Option<Spanned<Vec<Spanned<String>>>>,
                     what: &'static str,
                     this: &mut Self| {
            let mut out: Vec<String> = Vec::new();
            let mut seen = std::collections::BTreeSet::new();
            for item in list
                .as_ref()
                .map(|l| l.get_ref().as_slice())
                .unwrap_or_default()
            {
                let value = this.plain(item, what)?;
                if !is_group_name(&value) {
                    return Err(SpecError::new(
                        item.span(),
                        SpecErrorKind::InvalidName {
                            what,
                            value,
                            reason: "use letters, digits, `_`, `-` and `.`, starting with a letter or digit",
                        },
                    ));
                }
                if seen.insert(value.clone()) {
                    out.push(value);
                }
            }
            Ok(out)
        };
        let mut groups = names(&raw.groups, "group", self)?;
        if raw.groups.is_none() && with != Installer::Pip {
            groups.push("main".to_owned());
        }
        if let Some(g) = &raw.groups {
            if groups.is_empty() {
                return Err(SpecError::new(g.span(), SpecErrorKind::EmptyGroups));
            }
        }
        let extras = names(&raw.extras, "extra", self)?;
        let tool_version = match with {
            Installer::Pip => None,
            Installer::Poetry | Installer::Uv => {
                let (written, default) = match with {
                    Installer::Poetry => (&raw.poetry_version, DEFAULT_POETRY_VERSION),
                    _ => (&raw.uv_version, DEFAULT_UV_VERSION),
                };
                Some(match written {
                    Some(v) => {
                        let value = self.plain(v, "version")?;
                        if !is_version(&value) {
                            return Err(SpecError::new(
                                v.span(),
                                SpecErrorKind::InvalidName {
                                    what: "version",
                                    value,
                                    reason: "expected an exact version such as `1.2.3`",
                                },
                            ));
                        }
                        value
                    }
                    None => default.to_owned(),
                })
            }
        };
        Ok(Install {
            with,
            inputs,
            groups,
            extras,
            tool_version,
            project,
            with_span: raw.with.span(),
        })
    }

    fn indexes(&mut self, raw: Vec<Spanned<RawIndex>>) -> Result<Vec<Index>, SpecError> {
        let mut out: Vec<Index> = Vec::new();
        let mut names_seen = std::collections::BTreeSet::new();
        let mut default_seen = false;
        for spanned in &raw {
            let r = spanned.get_ref();
            let name = self.checked(&r.name, "index name", IndexName::parse)?;
            if !names_seen.insert(name.clone()) {
                return Err(SpecError::new(
                    r.name.span(),
                    SpecErrorKind::DuplicateIndex {
                        name: name.to_string(),
                    },
                ));
            }
            // Not `checked`: `IndexUrl::parse` finds tokens itself, and
            // tells a password in the userinfo apart.
            let url = IndexUrl::parse(&self.text(&r.url)?)
                .map_err(|kind| SpecError::new(r.url.span(), kind))?;
            let username = match (&r.username, &r.username_secret) {
                (Some(_), Some(s)) => {
                    return Err(SpecError::new(
                        s.span(),
                        SpecErrorKind::UsernameConflict {
                            name: name.to_string(),
                        },
                    ))
                }
                (Some(u), None) => {
                    let value = self.plain(u, "username")?;
                    if value.is_empty() {
                        return Err(SpecError::new(
                            u.span(),
                            SpecErrorKind::InvalidName {
                                what: "username",
                                value,
                                reason: "it is empty",
                            },
                        ));
                    }
                    Some(Username::Plain(value))
                }
                (None, Some(s)) => Some(Username::Secret(self.checked(
                    s,
                    "secret id",
                    SecretId::parse,
                )?)),
                (None, None) => None,
            };
            let password_secret = r
                .password_secret
                .as_ref()
                .map(|p| self.checked(p, "secret id", SecretId::parse))
                .transpose()?;
            match (&username, &password_secret) {
                (Some(_), None) => {
                    return Err(SpecError::new(
                        spanned.span(),
                        SpecErrorKind::IncompleteCredentials {
                            name: name.to_string(),
                            given: "username",
                            missing: "password-secret",
                        },
                    ))
                }
                (None, Some(_)) => {
                    return Err(SpecError::new(
                        spanned.span(),
                        SpecErrorKind::IncompleteCredentials {
                            name: name.to_string(),
                            given: "password-secret",
                            missing: "username",
                        },
                    ))
                }
                _ => {}
            }
            let default = r.default.as_ref().is_some_and(|d| *d.get_ref());
            if default && default_seen {
                return Err(SpecError::new(
                    r.default.as_ref().map_or(spanned.span(), Spanned::span),
                    SpecErrorKind::MultipleDefaultIndexes,
                ));
            }
            default_seen |= default;
            let mut packages = Vec::new();
            for p in r
                .packages
                .as_ref()
                .map(|l| l.get_ref().as_slice())
                .unwrap_or_default()
            {
                let value = self.plain(p, "package pattern")?;
                if !is_package_pattern(&value) {
                    return Err(SpecError::new(
                        p.span(),
                        SpecErrorKind::InvalidName {
                            what: "package pattern",
                            value,
                            reason:
                                "expected a package name, optionally with `*` wildcards (`acme-*`)",
                        },
                    ));
                }
                packages.push(normalize_package_name(&value));
            }
            out.push(Index {
                name,
                url,
                username,
                password_secret,
                default,
                packages,
                allow_dependency_confusion: r
                    .allow_dependency_confusion
                    .as_ref()
                    .is_some_and(|a| *a.get_ref()),
                span: spanned.span(),
                packages_span: r.packages.as_ref().map(Spanned::span),
            });
        }
        Ok(out)
    }

    fn argv(&mut self, items: &[Spanned<String>]) -> Result<Vec<String>, SpecError> {
        items.iter().map(|s| self.text(s)).collect()
    }

    /// Interpolates a string and rejects NUL bytes (they cannot reach argv).
    fn text(&mut self, s: &Spanned<String>) -> Result<String, SpecError> {
        let (value, used) = interpolate(s.get_ref(), self.args).map_err(|e| SpecError {
            span: Some(self.inner_span(s, e.range)),
            kind: e.kind,
        })?;
        self.used.extend(used);
        if value.contains('\0') {
            return Err(SpecError::new(
                s.span(),
                SpecErrorKind::InvalidName {
                    what: "value",
                    value: value.replace('\0', "\\0"),
                    reason: "NUL bytes are not allowed",
                },
            ));
        }
        Ok(value)
    }

    /// Interpolates a value that configures the build (a name, a path, a
    /// URL): everything but the `[app]` runtime config, which is the user's
    /// data for the image. Such a value reaches the LLB, the build cache
    /// and messages, so a recognised token in it is refused.
    fn plain(&mut self, s: &Spanned<String>, what: &'static str) -> Result<String, SpecError> {
        let value = self.text(s)?;
        if crate::redact::contains_token(&value) {
            return Err(SpecError::new(
                s.span(),
                SpecErrorKind::LooksLikeToken { what },
            ));
        }
        Ok(value)
    }

    /// Interpolates a build-configuring value (see [`Self::plain`]), then
    /// validates it with `parse`; errors point at the value.
    fn checked<T>(
        &mut self,
        s: &Spanned<String>,
        what: &'static str,
        parse: impl Fn(&str) -> Result<T, SpecErrorKind>,
    ) -> Result<T, SpecError> {
        let value = self.plain(s, what)?;
        parse(&value).map_err(|kind| SpecError::new(s.span(), kind))
    }

    /// Maps a range inside a string value to a range in the source. Exact for
    /// strings written without escapes; otherwise the whole value.
    fn inner_span(&self, s: &Spanned<String>, inner: Range<usize>) -> Range<usize> {
        let span = s.span();
        let written = self.source.get(span.clone()).unwrap_or_default();
        let quoted = written.len() == s.get_ref().len() + 2
            && written.get(1..written.len() - 1) == Some(s.get_ref().as_str());
        if quoted {
            span.start + 1 + inner.start..span.start + 1 + inner.end
        } else {
            span
        }
    }
}

fn is_group_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn is_version(v: &str) -> bool {
    v.starts_with(|c: char| c.is_ascii_digit())
        && v.len() <= 64
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '!' | '-'))
}

fn is_package_pattern(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= 200
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '*'))
        && p.chars().any(|c| c != '*')
}

/// PEP 503 normalization: lowercase, runs of `-_.` become `-`.
pub fn normalize_package_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn port(p: &Spanned<RawPort>) -> Result<String, SpecErrorKind> {
    let text = match p.get_ref() {
        RawPort::Number(n) => n.to_string(),
        RawPort::Text(t) => t.clone(),
    };
    let (number, proto) = match text.split_once('/') {
        Some((n, proto)) => (n, proto),
        None => (text.as_str(), "tcp"),
    };
    match (number.parse::<u16>(), proto) {
        (Ok(n), "tcp" | "udp") if n > 0 && !number.starts_with(['+', '0']) => {
            Ok(format!("{n}/{proto}"))
        }
        _ => Err(SpecErrorKind::InvalidPort { value: text }),
    }
}

#[cfg(test)]
mod tests;
