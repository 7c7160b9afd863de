//! `[install]`: the installer, its inputs, groups, extras and tool version.

use std::ops::Range;

use toml::Spanned;

use super::{is_group_name, is_package_name, is_version, normalize_package_name, Validator};
use crate::spec::raw::RawInstall;
use crate::spec::{
    ContextPath, Install, Installer, Located, SpecError, SpecErrorKind, DEFAULT_POETRY_VERSION,
    DEFAULT_UV_VERSION,
};

impl Validator<'_> {
    pub(super) fn install(&mut self, raw: RawInstall) -> Result<Install, SpecError> {
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
        let build_code_sees_index_login = match (&raw.build_code_sees_index_login, with) {
            (None, _) => None,
            (Some(b), Installer::Pip) => b.get_ref().then(|| b.span()),
            (Some(b), _) => {
                return Err(only_for(b.span(), "build-code-sees-index-login", "`pip`"));
            }
        };
        let package = match (&raw.package, with) {
            (None, _) => None,
            (Some(p), Installer::Uv) => {
                let value = self.plain(p, "package")?;
                if !is_package_name(&value) {
                    return Err(SpecError::new(
                        p.span(),
                        SpecErrorKind::InvalidName {
                            what: "package",
                            value,
                            reason: "expected the name of a workspace member, such as `backend`",
                        },
                    ));
                }
                let package = normalize_package_name(&value);
                if let (true, Some(project)) = (project, &raw.project) {
                    return Err(SpecError::new(
                        project.span(),
                        SpecErrorKind::ProjectWithPackage { package },
                    ));
                }
                Some(package)
            }
            (Some(p), _) => return Err(only_for(p.span(), "package", "`uv`")),
        };
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
            package,
            build_code_sees_index_login,
            with_span: raw.with.span(),
        })
    }
}
