//! The result's image config: the base image's config plus the venv and the
//! spec's `[app]` settings, with one history entry per added layer.

use std::collections::BTreeMap;

use serde_json::Value;

use super::lower::Lowered;
use crate::image::{set_env, BaseConfig, LayerHistory, Platform};
use crate::options::BuildOptions;
use crate::plan::{Target, VENV};
use crate::spec::App;

/// The runtime image's config: base config + venv + `[app]` + `extra_labels`
/// (the `label:*` opts, which win over the spec's labels).
pub fn runtime_config(
    base: BaseConfig,
    app: &App,
    extra_labels: &BTreeMap<String, String>,
    layers: &[LayerHistory],
    created: &str,
) -> BaseConfig {
    let mut c = base.with_venv(VENV);
    let mut env = c.env();
    for (k, v) in &app.env {
        set_env(&mut env, k, v);
    }
    c.config.env = Some(env);
    c.config.working_dir = Some(app.workdir.as_str().to_owned());
    if let Some(user) = &app.user {
        c.config.user = Some(user.to_string());
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

/// The result's image config, naming `platform`: for the app target,
/// `app_base` with the venv, the spec's `[app]`, `labels` and one
/// history entry per added layer; for the builder (or without an app
/// base), the same from `builder_base` minus `[app]`.
pub fn image_config(
    lowered: &Lowered,
    options: &BuildOptions,
    app: &App,
    builder_base: BaseConfig,
    app_base: Option<BaseConfig>,
    platform: &Platform,
    created: &str,
) -> BaseConfig {
    let labels = &options.labels;
    match (options.target, app_base) {
        (Target::App, Some(base)) => {
            runtime_config(base, app, labels, &lowered.app_layers, created)
        }
        _ => builder_base
            .with_venv(VENV)
            .with_labels(labels)
            .with_layers(&lowered.builder_layers, created),
    }
    .for_platform(platform)
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
