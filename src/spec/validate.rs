//! Raw → model: interpolates `${ARG}` references and validates every value
//! into a newtype or a checked string, pointing errors at the value's span.
//! `[install]`, `[[index]]` and `[[build.run]]` have their own files.

mod index;
mod install;
mod run;

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use super::raw::{RawApp, RawPort, RawSpec};
use super::{
    interpolate, App, AppUser, AptPackage, Build, BuildArgs, ImagePath, ImageRef, Installer, Spec,
    SpecError, SpecErrorKind, DEFAULT_WORKDIR,
};

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
}

/// An environment variable's name from a table key, or the error at it.
fn env_name(key: &Spanned<String>) -> Result<String, SpecError> {
    if !is_env_name(key.get_ref()) {
        return Err(SpecError::new(
            key.span(),
            SpecErrorKind::InvalidName {
                what: "environment variable",
                value: key.get_ref().clone(),
                reason: "use letters, digits and `_`, not starting with a digit",
            },
        ));
    }
    Ok(key.get_ref().clone())
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
            run: self.build_runs(&raw.build.run)?,
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
            env.insert(env_name(k)?, self.text(v)?);
        }
        // Runtime data like the rest of `[app]`, but it also names the user
        // the app stage creates: a portable name or numeric ids only.
        let user = match &raw.user {
            Some(u) => {
                let value = self.text(u)?;
                Some(AppUser::parse(&value).map_err(|kind| SpecError::new(u.span(), kind))?)
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
        let system_packages = raw
            .system_packages
            .iter()
            .map(|p| self.checked(p, "system package", AptPackage::parse))
            .collect::<Result<_, _>>()?;
        Ok(App {
            base,
            workdir,
            cmd,
            entrypoint,
            env,
            user,
            expose,
            labels,
            system_packages,
        })
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

/// A PEP 508 project name: letters, digits, `-`, `_`, `.`, starting and
/// ending with a letter or digit.
fn is_package_name(name: &str) -> bool {
    name.len() <= 200 && is_group_name(name) && name.ends_with(|c: char| c.is_ascii_alphanumeric())
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
