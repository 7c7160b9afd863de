//! Lints: spec choices that build, but that a team trusting pyfront with its
//! credentials should hear about. Warnings by default; `# check=error=true`
//! among the spec's leading comment lines, or `--build-arg
//! PYFRONT_CHECK=error`, turns them into errors.
//!
//! Lints see only the validated spec and the build arg names (never values).

use std::collections::BTreeSet;
use std::ops::Range;

use crate::image::BaseConfig;
use crate::redact::Redacted;
use crate::spec::{Installer, Spec, APP_USER_ID};

/// What the resolved base images tell the lints. Offline (`pyfront check`)
/// no engine resolves them, and the lints that need them are skipped.
pub struct Bases<'a> {
    pub builder: &'a BaseConfig,
    /// `None` for the builder target.
    pub app: Option<&'a BaseConfig>,
}

/// A lint finding. `span` points into the spec when the finding has a place.
/// Its texts quote names and URLs from the spec, so they are [`Redacted`]
/// when the warning is made: every channel (`pyfront check`, BuildKit's
/// `Warn`, a progress vertex, a lint error) prints the safe form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub rule: &'static str,
    pub message: Redacted,
    pub hint: Option<Redacted>,
    pub span: Option<Range<usize>>,
}

impl Warning {
    fn new(
        rule: &'static str,
        message: String,
        hint: Option<String>,
        span: Option<Range<usize>>,
    ) -> Self {
        Self {
            rule,
            message: Redacted::new(message),
            hint: hint.map(Redacted::new),
            span,
        }
    }
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.rule)?;
        if let Some(hint) = &self.hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

/// Build args BuildKit and pyfront use themselves; never linted.
fn is_tooling_arg(name: &str) -> bool {
    name.starts_with("BUILDKIT_") || name.starts_with("PYFRONT_") || name == "SOURCE_DATE_EPOCH"
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

/// Runs every lint. `passed_args` are the names of the build args given to
/// the build; `bases` the resolved base images, when known.
pub fn lint(spec: &Spec, passed_args: &BTreeSet<String>, bases: Option<Bases<'_>>) -> Vec<Warning> {
    let mut out = Vec::new();
    let used: BTreeSet<&str> = spec.used_build_args.iter().map(String::as_str).collect();
    for name in passed_args
        .iter()
        .map(String::as_str)
        .chain(used.iter().copied())
        .collect::<BTreeSet<_>>()
    {
        if is_tooling_arg(name) || !crate::redact::looks_secret_name(name) {
            continue;
        }
        let id = name.to_ascii_lowercase();
        let where_ = if used.contains(name) {
            "is interpolated into the spec"
        } else {
            "is passed to the build"
        };
        out.push(Warning::new(
            "secret-build-arg",
            format!(
                "build arg `{name}` looks like a secret and {where_}: build args land in the cache key, the image history and provenance"
            ),
            Some(format!(
                "pass it with `--secret id={id},env={name}` and reference it as `password-secret = \"{id}\"`"
            )),
            None,
        ));
    }
    for index in &spec.indexes {
        if index.url.scheme() == "http" && !is_loopback(index.url.host()) {
            let has_credentials = index.secrets().next().is_some();
            out.push(Warning::new(
                "plain-http-index",
                format!(
                    "index `{}` (`{}`) is plain HTTP{}",
                    index.name,
                    index.url,
                    if has_credentials {
                        ": its credentials cross the network unencrypted"
                    } else {
                        ""
                    }
                ),
                Some("use an `https://` URL".to_owned()),
                Some(index.span.clone()),
            ));
        }
        if spec.install.with == Installer::Pip && !index.default && index.packages.is_empty() {
            out.push(Warning::new(
                "extra-index-confusion",
                format!(
                    "index `{}` is an extra index for pip: pip takes each package from whichever index has the highest version, so a public package can replace a private one of the same name",
                    index.name
                ),
                Some(
                    "set `default = true` on the private index (and serve public packages through it), or use uv or Poetry with a lock".to_owned(),
                ),
                Some(index.span.clone()),
            ));
        }
    }
    if let Some(span) = &spec.install.build_code_sees_index_login {
        out.push(Warning::new(
            "build-code-sees-index-login",
            "`build-code-sees-index-login = true`: pip installs in one step with the index token in its environment, so the build code of every package it builds from source can read the token".to_owned(),
            Some("declare local packages' dependencies statically in their pyproject.toml's [project] (pyfront then installs them without the token), install local, URL and VCS requirements from a uv or Poetry lock, or publish them to the index as wheels, and drop this key".to_owned()),
            Some(span.clone()),
        ));
    }
    // Without the base's config the app's user is known only if the spec
    // sets it.
    let base_user = bases.as_ref().map(|b| {
        b.app
            .and_then(|a| a.config.user.as_deref())
            .unwrap_or_default()
    });
    let runs_as_root = match (&spec.app.user, base_user) {
        (Some(u), _) => u.is_root(),
        (None, Some(u)) => u.is_empty() || u == "root" || u == "0",
        (None, None) => false,
    };
    if runs_as_root {
        out.push(Warning::new(
            "runs-as-root",
            "the app runs as root".to_owned(),
            Some(format!(
                "add `user = \"app\"` under `[app]`: pyfront creates `app` (uid {APP_USER_ID}) when the runtime base lacks it and gives it the workdir"
            )),
            None,
        ));
    }
    if let Some(Bases {
        builder,
        app: Some(app),
    }) = bases
    {
        out.extend(python_mismatch(&builder.env(), &app.env()));
    }
    out
}

/// Whether the spec's leading comment lines say `# check=error=true`.
pub fn errors_requested(source: &str) -> bool {
    source
        .lines()
        .take_while(|l| l.trim_start().starts_with('#') || l.trim().is_empty())
        .filter_map(|l| l.trim_start().strip_prefix('#'))
        .any(|l| {
            let l = l.trim().to_ascii_lowercase();
            l.strip_prefix("check=")
                .is_some_and(|v| v.split(';').any(|kv| kv.trim() == "error=true"))
        })
}

/// The runtime base Python differs from the builder's (the venv's
/// interpreter would be missing or ABI-incompatible at run time). Compares
/// the images' `PYTHON_VERSION` (set by the official images) when both
/// have it.
fn python_mismatch(builder_env: &[String], app_env: &[String]) -> Option<Warning> {
    let version = |env: &[String]| {
        env.iter()
            .find_map(|e| e.strip_prefix("PYTHON_VERSION="))
            .map(|v| v.split('.').take(2).collect::<Vec<_>>().join("."))
    };
    match (version(builder_env), version(app_env)) {
        (Some(b), Some(a)) if a != b => Some(Warning::new(
            "python-mismatch",
            format!(
                "the builder base has Python {b} but the runtime base has Python {a}: the venv built for {b} will not run"
            ),
            Some("use the same Python version in `[build] base` and `[app] base`".to_owned()),
            None,
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::BuildArgs;

    fn spec(extra: &str, index: &str) -> Spec {
        let source = format!(
            "[app]\nbase = \"python:3.11\"\n{extra}\n[install]\nwith = \"pip\"\nrequirements = [\"r.txt\"]\n{index}"
        );
        let args: BuildArgs = [
            ("CI_JOB_TOKEN".to_owned(), "x".to_owned()),
            ("HOST".to_owned(), "h".to_owned()),
        ]
        .into();
        Spec::parse(&source, &args).unwrap()
    }

    fn rules(w: &[Warning]) -> Vec<&str> {
        w.iter().map(|w| w.rule).collect()
    }

    #[test]
    fn a_passed_or_used_secret_arg_warns_once() {
        let s = spec(
            "user = \"app\"",
            "[[index]]\nname = \"p\"\nurl = \"https://x/${CI_JOB_TOKEN}\"\ndefault = true\n",
        );
        let passed: BTreeSet<String> = [
            "CI_JOB_TOKEN".to_owned(),
            "BUILDKIT_SYNTAX".to_owned(),
            "HOST".to_owned(),
        ]
        .into();
        let w = lint(&s, &passed, None);
        assert_eq!(rules(&w), ["secret-build-arg"]);
        assert!(
            w[0].message
                .as_str()
                .contains("is interpolated into the spec"),
            "{}",
            w[0]
        );
        assert!(w[0]
            .hint
            .as_ref()
            .unwrap()
            .as_str()
            .contains("--secret id=ci_job_token,env=CI_JOB_TOKEN"));
    }

    #[test]
    fn index_lints() {
        let s = spec(
            "user = \"app\"",
            "[[index]]\nname = \"p\"\nurl = \"http://pypi.corp.example/simple\"\nusername = \"u\"\npassword-secret = \"t\"\n[[index]]\nname = \"l\"\nurl = \"http://127.0.0.1:8080/simple\"\ndefault = true\n",
        );
        let w = lint(&s, &BTreeSet::new(), None);
        assert_eq!(rules(&w), ["plain-http-index", "extra-index-confusion"]);
        assert!(w[0].message.as_str().contains("unencrypted"));
    }

    #[test]
    fn root_user() {
        // Offline the base's user is unknown: only the spec's user counts.
        assert!(lint(&spec("", ""), &BTreeSet::new(), None).is_empty());
        let root = BaseConfig::default();
        let w = lint(
            &spec("", ""),
            &BTreeSet::new(),
            Some(Bases {
                builder: &root,
                app: Some(&root),
            }),
        );
        assert_eq!(rules(&w), ["runs-as-root"]);
        // The one-line fix: a name, which the app stage creates.
        assert!(
            w[0].hint
                .as_ref()
                .unwrap()
                .as_str()
                .starts_with("add `user = \"app\"` under `[app]`"),
            "{}",
            w[0]
        );
        assert!(lint(
            &spec("user = \"app\"", ""),
            &BTreeSet::new(),
            Some(Bases {
                builder: &root,
                app: Some(&root),
            })
        )
        .is_empty());
        let builder = BaseConfig::default();
        let mut app = BaseConfig::default();
        app.config.user = Some("1000".to_owned());
        let bases = || {
            Some(Bases {
                builder: &builder,
                app: Some(&app),
            })
        };
        assert!(lint(&spec("", ""), &BTreeSet::new(), bases()).is_empty());
        assert_eq!(
            rules(&lint(
                &spec("user = \"0:0\"", ""),
                &BTreeSet::new(),
                bases()
            )),
            ["runs-as-root"]
        );
    }

    #[test]
    fn check_directive() {
        assert!(errors_requested(
            "# syntax=pyfront:dev\n# check=error=true\n[app]\n"
        ));
        assert!(errors_requested("# syntax=x\n#check=skip=a;error=true\n"));
        assert!(!errors_requested("# syntax=x\n[app]\n# check=error=true\n"));
        assert!(!errors_requested("# check=error=false\n"));
    }

    #[test]
    fn python_versions() {
        let b = ["PYTHON_VERSION=3.11.9".to_owned()];
        let a = ["PYTHON_VERSION=3.12.1".to_owned()];
        assert!(python_mismatch(&b, &a)
            .unwrap()
            .message
            .as_str()
            .contains("Python 3.11"));
        assert!(python_mismatch(&b, &["PYTHON_VERSION=3.11.2".to_owned()]).is_none());
        assert!(python_mismatch(&b, &[]).is_none());
    }
}
