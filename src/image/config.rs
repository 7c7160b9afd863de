//! Image configs: the base image's, as `ResolveImageConfig` returns it, and
//! the result's, built from it by `convert::image_config`.
//!
//! The types are our own rather than `oci-spec`'s: its `Labels` and
//! `ExposedPorts` are `HashMap`s that serialize in random order, which would
//! make the config (and so the image ID) differ between identical builds.
//! Unknown Docker fields of `config` (`Healthcheck`, `Shell`, `OnBuild`...)
//! are kept as they are.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Platform;

/// The PATH BuildKit uses when an image sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

#[derive(Debug, thiserror::Error)]
pub enum ImageConfigError {
    #[error("the config of base image `{image}` is not valid JSON")]
    Invalid {
        image: String,
        #[source]
        source: serde_json::Error,
    },
}

/// An image config (the OCI/Docker `application/vnd.oci.image.config.v1+json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BaseConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default)]
    pub config: ContainerConfig,
    #[serde(default)]
    pub rootfs: RootFs,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<History>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// Docker extensions and anything else, kept as they are.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RootFs {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

impl Default for RootFs {
    fn default() -> Self {
        Self {
            kind: "layers".to_owned(),
            diff_ids: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty_layer: Option<bool>,
}

/// A layer pyfront adds, described for `docker history`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerHistory {
    pub created_by: String,
}

impl BaseConfig {
    /// Parses a config as returned by `ResolveImageConfig`.
    pub fn parse(image: &str, bytes: &[u8]) -> Result<Self, ImageConfigError> {
        serde_json::from_slice(bytes).map_err(|source| ImageConfigError::Invalid {
            image: image.to_owned(),
            source,
        })
    }

    /// The environment a build step inherits, as `KEY=value` lines.
    pub fn env(&self) -> Vec<String> {
        self.config.env.clone().unwrap_or_default()
    }

    /// The same config with the venv `venv` first on `PATH` and
    /// `VIRTUAL_ENV` set.
    #[must_use]
    pub fn with_venv(mut self, venv: &str) -> Self {
        let mut env = self.env();
        let path = get_env(&env, "PATH").unwrap_or(DEFAULT_PATH).to_owned();
        set_env(&mut env, "PATH", &format!("{venv}/bin:{path}"));
        set_env(&mut env, "VIRTUAL_ENV", venv);
        self.config.env = Some(env);
        self
    }

    /// Appends one history entry per layer, all stamped `created`.
    pub fn with_layers(mut self, layers: &[LayerHistory], created: &str) -> Self {
        for layer in layers {
            self.history.push(History {
                created: Some(created.to_owned()),
                created_by: Some(layer.created_by.clone()),
                comment: Some("pyfront".to_owned()),
                empty_layer: None,
            });
        }
        self.created = Some(created.to_owned());
        self
    }

    /// Adds `labels`, which win over the base image's.
    pub fn with_labels(mut self, labels: &BTreeMap<String, String>) -> Self {
        if !labels.is_empty() {
            self.config
                .labels
                .get_or_insert_with(BTreeMap::new)
                .extend(labels.clone());
        }
        self
    }

    /// Names `platform` as the image's platform (the base's config may
    /// omit it, or, for a single-arch base, name another).
    #[must_use]
    pub fn for_platform(mut self, platform: &Platform) -> Self {
        if self.architecture != platform.architecture || platform.variant.is_some() {
            self.variant.clone_from(&platform.variant);
        }
        self.os.clone_from(&platform.os);
        self.architecture.clone_from(&platform.architecture);
        self
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

fn get_env<'a>(env: &'a [String], key: &str) -> Option<&'a str> {
    env.iter()
        .find_map(|e| e.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

pub(crate) fn set_env(env: &mut Vec<String>, key: &str, value: &str) {
    let line = format!("{key}={value}");
    match env
        .iter_mut()
        .find(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) == key)
    {
        Some(existing) => *existing = line,
        None => env.push(line),
    }
}
