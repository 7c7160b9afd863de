//! pip: `pip install -r` of the spec's requirement files into the venv.
//!
//! The step runs `pip_install.py` with a JSON config. The config holds index
//! URLs, plain usernames and secret *ids*; the program reads the secret values
//! from `/run/secrets/<id>` at run time. Spec values travel as JSON data, so
//! no value is ever interpreted by a shell.

use serde::Serialize;

use crate::plan::{CacheDir, HelperFile, InstallStep, CONTEXT_MOUNT, HELPER_MOUNT, VENV};
use crate::spec::{Spec, Username};

const PROGRAM: &str = include_str!("pip_install.py");
const PROGRAM_NAME: &str = "pip_install.py";
const CONFIG_NAME: &str = "pip_install.json";

#[derive(Serialize)]
struct Config<'a> {
    venv: &'a str,
    requirements: Vec<String>,
    indexes: Vec<IndexConfig<'a>>,
}

#[derive(Serialize)]
struct IndexConfig<'a> {
    name: &'a str,
    url: &'a str,
    username: Option<&'a str>,
    username_secret: Option<&'a str>,
    password_secret: Option<&'a str>,
    default: bool,
}

pub(super) fn install_step(spec: &Spec) -> InstallStep {
    let context_files: Vec<String> = spec
        .install
        .requirements
        .iter()
        .map(|r| r.value.as_str().to_owned())
        .collect();
    let config = Config {
        venv: VENV,
        requirements: context_files
            .iter()
            .map(|f| format!("{CONTEXT_MOUNT}/{f}"))
            .collect(),
        indexes: spec
            .indexes
            .iter()
            .map(|i| IndexConfig {
                name: i.name.as_str(),
                url: i.url.as_str(),
                username: match &i.username {
                    Some(Username::Plain(u)) => Some(u),
                    _ => None,
                },
                username_secret: match &i.username {
                    Some(Username::Secret(id)) => Some(id.as_str()),
                    _ => None,
                },
                password_secret: i.password_secret.as_ref().map(|s| s.as_str()),
                default: i.default,
            })
            .collect(),
    };
    // Struct fields serialize in declaration order: the bytes are stable.
    let config_json = serde_json::to_vec_pretty(&config).unwrap_or_default();
    let mut title = format!("pip install -r {}", context_files.join(" -r "));
    let secret_ids = spec.secret_ids();
    if !secret_ids.is_empty() {
        let ids: Vec<&str> = secret_ids.iter().map(|s| s.as_str()).collect();
        title.push_str(&format!(" (secrets: {})", ids.join(", ")));
    }
    InstallStep {
        title,
        context_files,
        helper_files: vec![
            HelperFile {
                name: PROGRAM_NAME.to_owned(),
                contents: PROGRAM.as_bytes().to_vec(),
            },
            HelperFile {
                name: CONFIG_NAME.to_owned(),
                contents: config_json,
            },
        ],
        args: vec![
            format!("{VENV}/bin/python"),
            format!("{HELPER_MOUNT}/{PROGRAM_NAME}"),
            format!("{HELPER_MOUNT}/{CONFIG_NAME}"),
        ],
        env: Vec::new(),
        secrets: secret_ids,
        caches: vec![CacheDir {
            id: "pyfront-pip-cache".to_owned(),
            path: "/root/.cache/pip".to_owned(),
        }],
    }
}
