//! One platform's plan → LLB definition: the builder steps' environment,
//! the lowering, and the marshalled target with the spec as source info.

use super::lower::{lower, LowerOptions, Lowered};
use crate::image::{BaseConfig, Platform};
use crate::llb::{marshal, marshal_with_source, pb, Constraints, Definition};
use crate::options::BuildOptions;
use crate::plan::{Plan, Target};
use crate::source::SourceMap;

/// The LLB of the requested target, plus the lowered stages.
pub struct Compiled {
    pub lowered: Lowered,
    pub definition: Definition,
    /// The app target's load check, to solve for its outcome.
    pub load_check: Option<Definition>,
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
        builder_env.push(format!("PATH={}", crate::image::DEFAULT_PATH));
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
    let lower_options = LowerOptions {
        constraints: Constraints {
            platform: platform.clone(),
            ignore_cache: options.no_cache,
            session_id: options.session_id.clone(),
        },
        resolve_mode: options.resolve_mode,
        network: options.network,
        builder_env,
        source_map: spec_text.map(|text| SourceMap::new(&options.filename, text)),
        platform_in_names: options.platforms.len() > 1,
        graft: options.graft,
    };
    let lowered = lower(plan, &lower_options);
    // The spec rides along (redacted, as in error details) so that BuildKit
    // can show the `[install]` / `[[index]]` lines when a step fails.
    let info = lower_options.source_map.map(|map| pb::SourceInfo {
        filename: map.name().to_owned(),
        data: crate::redact::redact_spec(map.text()).into_bytes(),
        language: "TOML".to_owned(),
        definition: None,
    });
    let definition = match options.target {
        Target::App => marshal_with_source(&lowered.app, info),
        Target::Builder => marshal_with_source(&lowered.builder, info),
    };
    let load_check = (options.target == Target::App).then(|| marshal(&lowered.load_check));
    Compiled {
        lowered,
        definition,
        load_check,
    }
}
