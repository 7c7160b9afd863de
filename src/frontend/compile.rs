//! Spec → LLB without an engine: shared by the gateway build and by
//! `pyfront llb`, so the offline output is what the frontend would send.

use crate::llb::lower::{lower, LowerOptions, Lowered};
use crate::llb::{marshal_with_source, pb, Constraints, Definition, Platform};
use crate::plan::{runtime_config, BaseConfig, Plan, Target};
use crate::spec::{App, Diagnostic, Spec};

use super::opts::BuildOptions;
use super::FrontendError;

/// Parses the spec; errors carry the file, line and column.
pub fn parse_spec(
    filename: &str,
    source: &[u8],
    options: &BuildOptions,
) -> Result<Spec, FrontendError> {
    let text = std::str::from_utf8(source).map_err(|_| {
        let error = crate::spec::SpecError {
            span: None,
            kind: crate::spec::SpecErrorKind::NotUtf8,
        };
        FrontendError::Spec(Box::new(Diagnostic::new(filename, "", &error)))
    })?;
    Spec::parse(text, &options.build_args)
        .map_err(|e| FrontendError::Spec(Box::new(Diagnostic::new(filename, text, &e))))
}

/// The LLB of the requested target, plus the lowered stages.
pub struct Compiled {
    pub lowered: Lowered,
    pub definition: Definition,
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
            .with_venv()
            .with_labels(labels)
            .with_layers(&lowered.builder_layers, created),
    }
    .for_platform(platform)
}

/// The `SOURCE_DATE_EPOCH` the builder's steps see in a reproducible build:
/// 1980-01-01, the earliest time a wheel (a zip) can store.
pub const REPRODUCIBLE_EPOCH: u64 = 315_532_800;

/// Lowers `plan` for `platform`. `builder_base` is the builder image's config
/// (its env reaches every builder step); `None` offline, where the default
/// `PATH` stands in.
pub fn compile(
    plan: &Plan,
    options: &BuildOptions,
    platform: &Platform,
    builder_base: Option<&BaseConfig>,
    spec_text: Option<&str>,
) -> Compiled {
    // The base image's own environment, without the venv: the helper must
    // run on the builder's Python (whose pip installs into the venv), not on
    // the venv's (which has no pip). An empty env gets BuildKit's PATH.
    let mut builder_env = builder_base.map(BaseConfig::env).unwrap_or_default();
    if !builder_env.iter().any(|e| e.starts_with("PATH=")) {
        builder_env.push(format!("PATH={}", crate::plan::DEFAULT_PATH));
    }
    // A reproducible build (`--build-arg SOURCE_DATE_EPOCH`): the builder's
    // steps see a fixed epoch, so Python writes hash-checked .pyc files
    // (py_compile's default when the variable is set) and sdists build with
    // 1980 stamps; with `rewrite-timestamp`, two runners then produce the
    // same bytes. A constant, not the build's epoch, which changes every
    // commit and would rebuild the install layer each time. Not set without
    // the build arg: timestamp .pyc make every install's venv unique, so
    // BuildKit never has two different venv layers under one cache key to
    // choose between (seen: the layer digest flipped on a token rotation).
    if options.source_date_epoch.is_some() {
        builder_env.retain(|e| !e.starts_with("SOURCE_DATE_EPOCH="));
        builder_env.push(format!("SOURCE_DATE_EPOCH={REPRODUCIBLE_EPOCH}"));
    }
    let lowered = lower(
        plan,
        &LowerOptions {
            constraints: Constraints {
                platform: platform.clone(),
                ignore_cache: options.no_cache,
                session_id: options.session_id.clone(),
            },
            resolve_mode: options.resolve_mode,
            network: options.network,
            builder_env,
            spec_text: spec_text.map(str::to_owned),
            platform_in_names: options.platforms.len() > 1,
        },
    );
    // The spec rides along (redacted, as in error details) so that BuildKit
    // can show the `[install]` / `[[index]]` lines when a step fails.
    let info = spec_text.map(|text| pb::SourceInfo {
        filename: options.filename.clone(),
        data: super::errdefs::redact(text).into_bytes(),
        language: "TOML".to_owned(),
        definition: None,
    });
    let definition = match options.target {
        Target::App => marshal_with_source(&lowered.app, info),
        Target::Builder => marshal_with_source(&lowered.builder, info),
    };
    Compiled {
        lowered,
        definition,
    }
}
