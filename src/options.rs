//! Build options: the one place that reads BuildKit's frontend opts. The
//! gateway passes each as `BUILDKIT_FRONTEND_OPT_<n>=key=value` (read by
//! `frontend`); the CLI makes the same key/value map from its flags.
//! [`BuildOptions::parse`] turns the map into a typed struct, so both entry
//! points convert with identical options. Raw opts are never logged (build
//! args may hold values users consider private).

use std::collections::BTreeMap;

use crate::image::Platform;
use crate::llb::{NetMode, ResolveMode};
use crate::plan::Target;
use crate::spec::BuildArgs;

/// Opt keys, all in one block.
pub mod keys {
    pub const FILENAME: &str = "filename";
    pub const BUILD_ARG_PREFIX: &str = "build-arg:";
    pub const LABEL_PREFIX: &str = "label:";
    pub const TARGET: &str = "target";
    pub const PLATFORM: &str = "platform";
    pub const NO_CACHE: &str = "no-cache";
    pub const FORCE_NETWORK_MODE: &str = "force-network-mode";
    pub const IMAGE_RESOLVE_MODE: &str = "image-resolve-mode";
    pub const CACHE_FROM: &str = "cache-from";
    pub const CACHE_IMPORTS: &str = "cache-imports";
    pub const REQUEST_ID: &str = "requestid";
    /// Not an opt: the frontend adds `BUILDKIT_SESSION_ID` under this key.
    pub const SESSION_ID: &str = "pyfront:session-id";
    /// `--build-arg PYFRONT_TIMING=1`: log the frontend's own time and peak
    /// memory to stderr (the daemon log), for `bench/`.
    pub const TIMING_BUILD_ARG: &str = "build-arg:PYFRONT_TIMING";
    pub const SOURCE_DATE_EPOCH_BUILD_ARG: &str = "build-arg:SOURCE_DATE_EPOCH";
    /// `--build-arg PYFRONT_CHECK=error`: lint warnings fail the build.
    pub const CHECK_BUILD_ARG: &str = "build-arg:PYFRONT_CHECK";
}

/// Subrequest ids (the `requestid` opt).
pub const OUTLINE: &str = "frontend.outline";
pub const TARGETS: &str = "frontend.targets";
pub const DESCRIBE: &str = "frontend.subrequests.describe";
/// `docker buildx build --check` (`--call=check`): the lint warnings, no build.
pub const LINT: &str = "frontend.lint";

/// Which subrequest the opts ask for instead of a build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subrequest {
    Outline,
    Targets,
    Describe,
    Lint,
}

impl Subrequest {
    pub fn parse(id: &str) -> Option<Self> {
        match id {
            OUTLINE => Some(Self::Outline),
            TARGETS => Some(Self::Targets),
            DESCRIBE => Some(Self::Describe),
            LINT => Some(Self::Lint),
            _ => None,
        }
    }
}

/// The spec file name when the client sends none (`docker build` without
/// `-f` asks for `Dockerfile`).
pub const DEFAULT_FILENAME: &str = "Dockerfile";

#[derive(Debug, thiserror::Error)]
pub enum OptsError {
    #[error("unknown target `{0}`; valid targets: `builder`, `app`")]
    Target(String),
    #[error("invalid platform `{0}`; expected `os/arch[/variant]` such as `linux/amd64`")]
    Platform(String),
    #[error("invalid `force-network-mode` `{0}`; expected `sandbox`, `host` or `none`")]
    Network(String),
    #[error("invalid `image-resolve-mode` `{0}`; expected `default`, `pull` or `local`")]
    ResolveMode(String),
    #[error("invalid `cache-imports` opt: expected a JSON list of {{\"Type\": ..., \"Attrs\": {{...}}}}")]
    CacheImports(#[source] serde_json::Error),
    #[error("the `{0}` subrequest is not supported by this frontend")]
    Subrequest(String),
    #[error("invalid `--build-arg SOURCE_DATE_EPOCH={0}`: expected whole seconds since 1970, such as `$(git log -1 --format=%ct)`")]
    SourceDateEpoch(String),
}

/// A remote cache to import (`CacheOptionsEntry`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct CacheImport {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Attrs", default)]
    pub attrs: BTreeMap<String, String>,
}

/// Typed frontend opts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOptions {
    pub filename: String,
    pub build_args: BuildArgs,
    pub labels: BTreeMap<String, String>,
    pub target: Target,
    /// The platforms to build, in the order given; empty: the worker's
    /// default platform.
    pub platforms: Vec<Platform>,
    pub no_cache: bool,
    pub network: NetMode,
    pub resolve_mode: ResolveMode,
    pub cache_imports: Vec<CacheImport>,
    /// `cache-from` / `cache-imports` exactly as received, forwarded into
    /// our Solve requests (BuildKit does not add them for gateway frontends).
    pub cache_opts: BTreeMap<String, String>,
    pub lint_errors: bool,
    /// `BUILDKIT_SESSION_ID` (not an opt, but per build like one): the
    /// session local sources are read through.
    pub session_id: Option<String>,
    /// A subrequest (`frontend.outline`, ...) instead of a build.
    pub request: Option<Subrequest>,
    /// `--build-arg SOURCE_DATE_EPOCH=SECS`: the `created` time of the image
    /// config and of our history entries, instead of now, so two builds of
    /// one commit get the same config. Never passed into a step: it would
    /// bust the install layer on every commit.
    pub source_date_epoch: Option<u64>,
    /// Not an opt: whether the engine has the merge and diff ops
    /// (`mergeop`, `diffop`) and the copy's include patterns
    /// (`file.copy.includeexcludepatterns`; all BuildKit v0.10), so the app
    /// image grafts the builder's venv layers instead of copying the venv,
    /// and the load check takes the app code's shared objects from a
    /// filtered copy. The frontend sets it from `Ping`'s caps; offline,
    /// `--graft`.
    pub graft: bool,
}

/// Whether `--build-arg PYFRONT_TIMING=1` asks for the timing log line. A
/// function of the raw opts, not a `BuildOptions` field: it must work even
/// when the other opts fail to parse.
pub fn timing_requested(raw: &BTreeMap<String, String>) -> bool {
    raw.get(keys::TIMING_BUILD_ARG).is_some_and(|v| v == "1")
}

impl BuildOptions {
    pub fn parse(raw: &BTreeMap<String, String>) -> Result<Self, OptsError> {
        let request = match raw.get(keys::REQUEST_ID).filter(|v| !v.is_empty()) {
            Some(id) => {
                Some(Subrequest::parse(id).ok_or_else(|| OptsError::Subrequest(id.clone()))?)
            }
            None => None,
        };
        let filename = raw
            .get(keys::FILENAME)
            .filter(|v| !v.is_empty())
            .cloned()
            .unwrap_or_else(|| DEFAULT_FILENAME.to_owned());
        let prefixed = |prefix: &str| -> BTreeMap<String, String> {
            raw.iter()
                .filter_map(|(k, v)| k.strip_prefix(prefix).map(|n| (n.to_owned(), v.clone())))
                .collect()
        };
        let target_raw = raw.get(keys::TARGET).map_or("", String::as_str);
        let target =
            Target::parse(target_raw).ok_or_else(|| OptsError::Target(target_raw.to_owned()))?;
        let mut platforms: Vec<Platform> = Vec::new();
        for p in raw
            .get(keys::PLATFORM)
            .map_or("", String::as_str)
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let parsed = Platform::parse(p).ok_or_else(|| OptsError::Platform(p.to_owned()))?;
            if !platforms.contains(&parsed) {
                platforms.push(parsed);
            }
        }
        let network = match raw.get(keys::FORCE_NETWORK_MODE).map_or("", String::as_str) {
            "" | "sandbox" | "default" => NetMode::Sandbox,
            "host" => NetMode::Host,
            "none" => NetMode::None,
            other => return Err(OptsError::Network(other.to_owned())),
        };
        let mode_raw = raw.get(keys::IMAGE_RESOLVE_MODE).map_or("", String::as_str);
        let resolve_mode = ResolveMode::parse(mode_raw)
            .ok_or_else(|| OptsError::ResolveMode(mode_raw.to_owned()))?;
        let cache_imports = cache_imports(raw)?;
        let source_date_epoch = match raw
            .get(keys::SOURCE_DATE_EPOCH_BUILD_ARG)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
        {
            None => None,
            Some(v) => Some(
                v.parse::<u64>()
                    .ok()
                    .filter(|secs| *secs <= 253_402_300_799) // 9999-12-31
                    .ok_or_else(|| OptsError::SourceDateEpoch(v.to_owned()))?,
            ),
        };
        let cache_opts = [keys::CACHE_FROM, keys::CACHE_IMPORTS]
            .into_iter()
            .filter_map(|k| raw.get(k).map(|v| (k.to_owned(), v.clone())))
            .collect();
        Ok(Self {
            filename,
            build_args: prefixed(keys::BUILD_ARG_PREFIX),
            labels: prefixed(keys::LABEL_PREFIX),
            target,
            platforms,
            // Present at all (even empty) means "ignore the cache".
            no_cache: raw.contains_key(keys::NO_CACHE),
            network,
            resolve_mode,
            cache_imports,
            cache_opts,
            lint_errors: raw.get(keys::CHECK_BUILD_ARG).is_some_and(|v| v == "error"),
            session_id: raw.get(keys::SESSION_ID).filter(|v| !v.is_empty()).cloned(),
            request,
            source_date_epoch,
            graft: false,
        })
    }
}

/// `cache-imports` (JSON, BuildKit ≥ 0.8) wins over the older `cache-from`
/// (comma-separated registry refs).
fn cache_imports(raw: &BTreeMap<String, String>) -> Result<Vec<CacheImport>, OptsError> {
    if let Some(json) = raw.get(keys::CACHE_IMPORTS).filter(|v| !v.is_empty()) {
        return serde_json::from_str(json).map_err(OptsError::CacheImports);
    }
    Ok(raw
        .get(keys::CACHE_FROM)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(|r| CacheImport {
                    kind: "registry".to_owned(),
                    attrs: BTreeMap::from([("ref".to_owned(), r.to_owned())]),
                })
                .collect()
        })
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn parses_the_common_opts() {
        let o = BuildOptions::parse(&raw(&[
            ("filename", "pyfront.toml"),
            ("build-arg:CI_API_V4_URL", "https://x/api/v4"),
            ("label:team", "mlops"),
            ("target", "builder"),
            ("platform", "linux/arm64/v8"),
            ("no-cache", ""),
            ("force-network-mode", "host"),
            ("image-resolve-mode", "local"),
            (
                "cache-imports",
                r#"[{"Type":"registry","Attrs":{"ref":"r/c:1"}}]"#,
            ),
        ]))
        .unwrap();
        assert_eq!(o.filename, "pyfront.toml");
        assert_eq!(o.build_args["CI_API_V4_URL"], "https://x/api/v4");
        assert_eq!(o.labels["team"], "mlops");
        assert_eq!(o.target, Target::Builder);
        assert_eq!(o.platforms[0].to_string(), "linux/arm64/v8");
        assert!(o.no_cache);
        assert_eq!(o.network, NetMode::Host);
        assert_eq!(o.resolve_mode, ResolveMode::Local);
        assert_eq!(o.cache_imports[0].attrs["ref"], "r/c:1");
        assert!(o.cache_opts.contains_key("cache-imports"));
    }

    #[test]
    fn defaults() {
        let o = BuildOptions::parse(&BTreeMap::new()).unwrap();
        assert_eq!(o.filename, DEFAULT_FILENAME);
        assert_eq!(o.target, Target::App);
        assert!(!o.no_cache);
        assert_eq!(o.network, NetMode::Sandbox);
        assert!(o.cache_imports.is_empty());
    }

    #[test]
    fn source_date_epoch_is_whole_seconds() {
        let o =
            BuildOptions::parse(&raw(&[("build-arg:SOURCE_DATE_EPOCH", "1700000000")])).unwrap();
        assert_eq!(o.source_date_epoch, Some(1_700_000_000));
        assert_eq!(
            BuildOptions::parse(&raw(&[])).unwrap().source_date_epoch,
            None
        );
    }

    #[test]
    fn cache_from_is_a_registry_list() {
        let o = BuildOptions::parse(&raw(&[("cache-from", "a/b:c, d/e:f")])).unwrap();
        assert_eq!(o.cache_imports.len(), 2);
        assert_eq!(o.cache_imports[1].attrs["ref"], "d/e:f");
    }

    #[test]
    fn bad_opts_are_clear_errors() {
        let err =
            |pairs: &[(&str, &str)]| BuildOptions::parse(&raw(pairs)).unwrap_err().to_string();
        assert!(err(&[("target", "prod")]).contains("valid targets: `builder`, `app`"));
        assert!(err(&[("platform", "linux/amd64,linux")]).contains("invalid platform `linux`"));
        let two = BuildOptions::parse(&raw(&[(
            "platform",
            "linux/amd64, linux/arm64,linux/amd64",
        )]))
        .unwrap();
        assert_eq!(two.platforms.len(), 2, "{:?}", two.platforms);
        assert!(err(&[("platform", "linux")]).contains("invalid platform"));
        assert!(err(&[("force-network-mode", "bridge")]).contains("force-network-mode"));
        assert!(err(&[("requestid", "frontend.lint.x")]).contains("frontend.lint.x"));
        let o = BuildOptions::parse(&raw(&[("requestid", "frontend.lint")])).unwrap();
        assert_eq!(o.request, Some(Subrequest::Lint));
        assert!(err(&[("build-arg:SOURCE_DATE_EPOCH", "yesterday")]).contains("whole seconds"));
        assert!(err(&[("build-arg:SOURCE_DATE_EPOCH", "-1")]).contains("whole seconds"));
        let o = BuildOptions::parse(&raw(&[("requestid", "frontend.outline")])).unwrap();
        assert_eq!(o.request, Some(Subrequest::Outline));
    }
}
