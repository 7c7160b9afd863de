//! The spec as written: `serde` reads the TOML straight into these structs.
//! Field names are the spec-v1 contract. Unknown keys, wrong types and
//! missing keys are rejected here, by the TOML parser, with their span;
//! every value keeps its span (`Spanned`) for the errors found later by
//! `validate`.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::Installer;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSpec {
    pub(super) app: RawApp,
    #[serde(default)]
    pub(super) build: RawBuild,
    pub(super) install: RawInstall,
    #[serde(default)]
    pub(super) index: Vec<Spanned<RawIndex>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawApp {
    pub(super) base: Spanned<String>,
    pub(super) workdir: Option<Spanned<String>>,
    pub(super) cmd: Option<Vec<Spanned<String>>>,
    pub(super) entrypoint: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub(super) env: BTreeMap<Spanned<String>, Spanned<String>>,
    pub(super) user: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) expose: Vec<Spanned<RawPort>>,
    #[serde(default)]
    pub(super) labels: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    pub(super) system_packages: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum RawPort {
    Number(i64),
    Text(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawBuild {
    pub(super) base: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) system_packages: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) run: Vec<Spanned<RawRun>>,
}

/// A `[[build.run]]` step.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawRun {
    pub(super) command: Spanned<RawCommand>,
    #[serde(default)]
    pub(super) outputs: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) env: BTreeMap<Spanned<String>, Spanned<String>>,
    pub(super) network: Option<Spanned<bool>>,
}

/// `command`: an argv list. A string is read too, only to refuse it with
/// the fix (pyfront never hands a spec value to a shell).
#[derive(Debug)]
pub(super) enum RawCommand {
    Argv(Vec<Spanned<String>>),
    Text,
}

impl<'de> Deserialize<'de> for RawCommand {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawCommand;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an argv list of strings")
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<RawCommand, E> {
                Ok(RawCommand::Text)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<RawCommand, A::Error> {
                let mut argv = Vec::new();
                while let Some(arg) = seq.next_element::<Spanned<String>>()? {
                    argv.push(arg);
                }
                Ok(RawCommand::Argv(argv))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawInstall {
    pub(super) with: Spanned<Installer>,
    pub(super) requirements: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) groups: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) extras: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) project: Option<Spanned<bool>>,
    pub(super) build_code_sees_index_login: Option<Spanned<bool>>,
    pub(super) poetry_version: Option<Spanned<String>>,
    pub(super) uv_version: Option<Spanned<String>>,
    pub(super) package: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct RawIndex {
    pub(super) name: Spanned<String>,
    pub(super) url: Spanned<String>,
    pub(super) username: Option<Spanned<String>>,
    pub(super) username_secret: Option<Spanned<String>>,
    pub(super) password_secret: Option<Spanned<String>>,
    pub(super) default: Option<Spanned<bool>>,
    pub(super) packages: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) allow_dependency_confusion: Option<Spanned<bool>>,
}
