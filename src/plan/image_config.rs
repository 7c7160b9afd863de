//! The image config of a result: the base image's config plus the venv and
//! the spec's `[app]` settings, with one history entry per added layer.
//!
//! The types are our own rather than `oci-spec`'s: its `Labels` and
//! `ExposedPorts` are `HashMap`s that serialize in random order, which would
//! make the config (and so the image ID) differ between identical builds.
//! Unknown Docker fields of `config` (`Healthcheck`, `Shell`, `OnBuild`...)
//! are kept as they are.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::VENV;
use crate::spec::App;

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

    /// The same config with the venv first on `PATH` and `VIRTUAL_ENV` set.
    pub fn with_venv(mut self) -> Self {
        let mut env = self.env();
        let path = get_env(&env, "PATH").unwrap_or(DEFAULT_PATH).to_owned();
        set_env(&mut env, "PATH", &format!("{VENV}/bin:{path}"));
        set_env(&mut env, "VIRTUAL_ENV", VENV);
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
    pub fn for_platform(mut self, platform: &crate::llb::Platform) -> Self {
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

fn set_env(env: &mut Vec<String>, key: &str, value: &str) {
    let line = format!("{key}={value}");
    match env
        .iter_mut()
        .find(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) == key)
    {
        Some(existing) => *existing = line,
        None => env.push(line),
    }
}

/// The runtime image's config: base config + venv + `[app]` + `extra_labels`
/// (the `label:*` opts, which win over the spec's labels).
pub fn runtime_config(
    base: BaseConfig,
    app: &App,
    extra_labels: &BTreeMap<String, String>,
    layers: &[LayerHistory],
    created: &str,
) -> BaseConfig {
    let mut c = base.with_venv();
    let mut env = c.env();
    for (k, v) in &app.env {
        set_env(&mut env, k, v);
    }
    c.config.env = Some(env);
    c.config.working_dir = Some(app.workdir.as_str().to_owned());
    if let Some(user) = &app.user {
        c.config.user = Some(user.clone());
    }
    // Docker semantics: a new entrypoint drops the base image's cmd.
    if let Some(entrypoint) = &app.entrypoint {
        c.config.entrypoint = Some(entrypoint.clone());
        c.config.cmd = app.cmd.clone();
    } else if let Some(cmd) = &app.cmd {
        c.config.cmd = Some(cmd.clone());
    }
    if !app.expose.is_empty() {
        let ports = c.config.exposed_ports.get_or_insert_with(BTreeMap::new);
        for p in &app.expose {
            ports.insert(p.clone(), Value::Object(serde_json::Map::new()));
        }
    }
    c.with_labels(&app.labels)
        .with_labels(extra_labels)
        .with_layers(layers, created)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{BuildArgs, Spec};

    const BASE: &str = r#"{"architecture":"amd64","os":"linux",
        "config":{"Env":["PATH=/usr/local/bin:/usr/bin","LANG=C.UTF-8"],"Cmd":["python3"],
                  "Healthcheck":{"Test":["NONE"]},"Labels":{"z":"1"}},
        "rootfs":{"type":"layers","diff_ids":["sha256:aa"]},
        "history":[{"created":"2024-01-01T00:00:00Z","created_by":"base"}]}"#;

    fn app(extra: &str) -> App {
        let spec = format!(
            "[app]\nbase = \"python:3.11\"\n{extra}\n[install]\nwith = \"pip\"\nrequirements = [\"r.txt\"]\n"
        );
        Spec::parse(&spec, &BuildArgs::new()).unwrap().app
    }

    #[test]
    fn runtime_config_applies_the_spec() {
        let base = BaseConfig::parse("python", BASE.as_bytes()).unwrap();
        let app = app("workdir = \"/opt/app\"\ncmd = [\"python\", \"-m\", \"app\"]\nenv = { A = \"1\" }\nuser = \"app\"\nexpose = [8080]\nlabels = { team = \"x\" }");
        let labels = BTreeMap::from([("team".to_owned(), "from-opt".to_owned())]);
        let layers = [
            LayerHistory {
                created_by: "venv".to_owned(),
            },
            LayerHistory {
                created_by: "app".to_owned(),
            },
        ];
        let c = runtime_config(base, &app, &labels, &layers, "2026-01-01T00:00:00Z");
        let env = c.config.env.clone().unwrap();
        assert_eq!(
            env,
            [
                "PATH=/opt/venv/bin:/usr/local/bin:/usr/bin",
                "LANG=C.UTF-8",
                "VIRTUAL_ENV=/opt/venv",
                "A=1"
            ]
        );
        assert_eq!(c.config.working_dir.as_deref(), Some("/opt/app"));
        assert_eq!(c.config.cmd.clone().unwrap(), ["python", "-m", "app"]);
        assert_eq!(c.config.user.as_deref(), Some("app"));
        assert!(c
            .config
            .exposed_ports
            .as_ref()
            .unwrap()
            .contains_key("8080/tcp"));
        assert_eq!(c.config.labels.as_ref().unwrap()["team"], "from-opt");
        assert_eq!(c.config.labels.as_ref().unwrap()["z"], "1");
        assert!(c.config.other.contains_key("Healthcheck"));
        assert_eq!(c.history.len(), 3);
        assert_eq!(c.history[2].created_by.as_deref(), Some("app"));
        let json = String::from_utf8(c.to_json()).unwrap();
        assert!(
            json.contains("\"ExposedPorts\":{\"8080/tcp\":{}}"),
            "{json}"
        );
    }

    #[test]
    fn entrypoint_resets_the_base_cmd() {
        let base = BaseConfig::parse("python", BASE.as_bytes()).unwrap();
        let c = runtime_config(
            base,
            &app("entrypoint = [\"app\"]"),
            &BTreeMap::new(),
            &[],
            "t",
        );
        assert_eq!(c.config.entrypoint.clone().unwrap(), ["app"]);
        assert_eq!(c.config.cmd, None);
    }

    #[test]
    fn the_config_is_deterministic() {
        let base = BaseConfig::parse("python", BASE.as_bytes()).unwrap();
        let a = app("labels = { b = \"2\", a = \"1\", c = \"3\" }\nexpose = [3, 1, 2]");
        let one = runtime_config(base.clone(), &a, &BTreeMap::new(), &[], "t").to_json();
        for _ in 0..20 {
            assert_eq!(
                one,
                runtime_config(base.clone(), &a, &BTreeMap::new(), &[], "t").to_json()
            );
        }
    }
}
