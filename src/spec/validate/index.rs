//! `[[index]]`: names, URLs, credentials (secret ids only) and pins.

use toml::Spanned;

use super::{is_package_pattern, normalize_package_name, Validator};
use crate::spec::raw::RawIndex;
use crate::spec::{Index, IndexName, IndexUrl, SecretId, SpecError, SpecErrorKind, Username};

impl Validator<'_> {
    pub(super) fn indexes(&mut self, raw: Vec<Spanned<RawIndex>>) -> Result<Vec<Index>, SpecError> {
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
}
