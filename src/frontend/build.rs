//! The build over the gateway: the only code that talks to BuildKit.
//!
//! Round trips, in order: `Ping`; the spec and `.dockerignore` (two small
//! solves plus `ReadFile`s, concurrently); the base image configs and the
//! requirement-file check (concurrently); one `Solve` of the final LLB.

use std::collections::BTreeMap;

use bollard_buildkit_proto::moby::buildkit::v1::frontend::{
    self as fpb, result::Result as ResultKind,
};
use bollard_buildkit_proto::pb;

use super::caps::{Caps, REQUIRED_API_CAPS};
use super::compile::{compile, image_config, parse_spec};
use super::gateway::Bridge;
use super::opts::BuildOptions;
use super::platforms::{shape, PlatformImage, ResultShape};
use super::subrequests::Subrequest;
use super::FrontendError;
use crate::llb::{local, marshal, Constraints, LocalOptions, Platform};
use crate::plan::{BaseConfig, Plan, Target};
use crate::spec::{Diagnostic, Spec, SpecError, SpecErrorKind};

const DOCKERFILE_LOCAL: &str = "dockerfile";
pub(super) const CONTEXT_LOCAL: &str = crate::llb::lower::CONTEXT_LOCAL;
const DOCKERIGNORE: &str = ".dockerignore";

/// What the frontend hands back with `Return`.
pub struct BuildResult {
    pub shape: ResultShape,
    /// Whether the engine takes `Result.ref` (`proto.refarray`) or only the
    /// deprecated plain ref ids.
    pub ref_array: bool,
}

impl BuildResult {
    /// A subrequest's answer: metadata only, an empty ref.
    fn metadata_only(metadata: BTreeMap<String, Vec<u8>>, caps: &Caps) -> Self {
        Self {
            shape: ResultShape {
                refs: BTreeMap::from([(String::new(), String::new())]),
                metadata,
                multi_platform: false,
            },
            ref_array: caps.has_api("proto.refarray"),
        }
    }

    pub fn into_proto(self) -> fpb::Result {
        let ResultShape {
            refs,
            metadata,
            multi_platform,
        } = self.shape;
        let result = match (multi_platform, self.ref_array) {
            (true, true) => ResultKind::Refs(fpb::RefMap {
                refs: refs
                    .into_iter()
                    .map(|(platform, id)| (platform, fpb::Ref { id, def: None }))
                    .collect(),
            }),
            (true, false) => ResultKind::RefsDeprecated(fpb::RefMapDeprecated {
                refs: refs.into_iter().collect(),
            }),
            (false, array) => {
                let id = refs.into_values().next().unwrap_or_default();
                if array {
                    ResultKind::Ref(fpb::Ref { id, def: None })
                } else {
                    ResultKind::RefDeprecated(id)
                }
            }
        };
        fpb::Result {
            metadata: metadata.into_iter().collect(),
            result: Some(result),
            ..Default::default()
        }
    }
}

pub async fn build(
    bridge: &Bridge,
    raw_opts: &BTreeMap<String, String>,
) -> Result<BuildResult, FrontendError> {
    let pong = bridge
        .clone()
        .ping(fpb::PingRequest {})
        .await
        .map_err(|source| FrontendError::Rpc {
            call: "Ping",
            source,
        })?
        .into_inner();
    let caps = Caps::from_pong(&pong);
    caps.require_api(REQUIRED_API_CAPS)?;
    let options = BuildOptions::parse(raw_opts)?;
    let platforms = if options.platforms.is_empty() {
        vec![worker_platform(&pong).unwrap_or_else(Platform::linux_amd64)]
    } else {
        options.platforms.clone()
    };
    // The spec, .dockerignore and install inputs are read on the first.
    let platform = platforms[0].clone();
    let session = Session {
        bridge: bridge.clone(),
        caps: &caps,
        options: &options,
        platform: &platform,
    };

    if options.request == Some(Subrequest::Describe) {
        return Ok(BuildResult::metadata_only(
            super::subrequests::result(Subrequest::Describe, None, "", ""),
            &caps,
        ));
    }

    let (spec_bytes, dockerignore) = tokio::try_join!(
        session.read_local_file(DOCKERFILE_LOCAL, &options.filename, true),
        session.read_local_file(CONTEXT_LOCAL, DOCKERIGNORE, false),
    )?;
    let spec_bytes = spec_bytes.unwrap_or_default();
    let spec = match options.request {
        // An outline must work before the user knows which args to pass.
        Some(_) => super::subrequests::parse_for_outline(&options, &spec_bytes)?,
        None => parse_spec(&options.filename, &spec_bytes, &options)?,
    };
    let spec_text = String::from_utf8_lossy(&spec_bytes);

    if let Some(request) = options.request {
        let redacted = super::errdefs::redact(&spec_text);
        return Ok(BuildResult::metadata_only(
            super::subrequests::result(
                request,
                Some((&spec, &spec_text)),
                &options.filename,
                &redacted,
            ),
            &caps,
        ));
    }

    session.check_install_inputs(&spec, &spec_text).await?;
    let dockerignore = String::from_utf8_lossy(&dockerignore.unwrap_or_default()).into_owned();
    let plan = Plan::new(&spec, &dockerignore);
    // One solve per platform, all at once (BuildKit runs them side by
    // side; the first error wins). Results stay in the order asked for.
    let targets: Vec<PlatformBuild<'_>> = platforms
        .iter()
        .enumerate()
        .map(|(i, platform)| PlatformBuild {
            spec: &spec,
            spec_text: &spec_text,
            plan: &plan,
            platform,
            lint: i == 0,
        })
        .collect();
    let images =
        futures_util::future::try_join_all(targets.iter().map(|t| t.build(&session))).await?;
    Ok(BuildResult {
        shape: shape(images, options.platforms.len() > 1),
        ref_array: caps.has_api("proto.refarray"),
    })
}

/// One platform's image of a build.
struct PlatformBuild<'a> {
    spec: &'a Spec,
    spec_text: &'a str,
    plan: &'a Plan,
    platform: &'a Platform,
    /// Whether to report lints (once per build, not per platform).
    lint: bool,
}

impl PlatformBuild<'_> {
    async fn build(&self, session: &Session<'_>) -> Result<PlatformImage, FrontendError> {
        let (spec, spec_text, options) = (self.spec, self.spec_text, session.options);
        let builder_ref = spec.build.base.normalized.clone();
        let app_ref = spec.app.base.normalized.clone();
        // Base images resolve per platform: a multi-arch base gives each
        // platform its own config (and Python, env, user).
        let (builder_config, app_config) = tokio::try_join!(
            session.resolve_image_config(&builder_ref, self.platform),
            async {
                if options.target == Target::App {
                    session
                        .resolve_image_config(&app_ref, self.platform)
                        .await
                        .map(Some)
                } else {
                    Ok(None)
                }
            },
        )?;

        if self.lint {
            let passed_args = options.build_args.keys().cloned().collect();
            let base_user = app_config.as_ref().and_then(|c| c.config.user.as_deref());
            let mut warnings = crate::lint::lint(spec, &passed_args, base_user);
            if let Some(app_config) = &app_config {
                warnings.extend(crate::lint::python_mismatch(
                    &builder_config.env(),
                    &app_config.env(),
                ));
            }
            if !warnings.is_empty() {
                if options.lint_errors || crate::lint::errors_requested(spec_text) {
                    return Err(FrontendError::Lint(warnings));
                }
                let spec_digest = session.local_digest(DOCKERFILE_LOCAL, &options.filename);
                super::warnings::report(session, &warnings, &spec_digest, spec_text).await?;
            }
        }

        let compiled = compile(
            self.plan,
            options,
            self.platform,
            Some(&builder_config),
            Some(spec_text),
        );
        session
            .caps
            .require_llb(compiled.definition.caps.iter().copied())?;
        let ref_id = session.solve(compiled.definition.proto).await?;

        let created = options
            .source_date_epoch
            .map_or_else(super::timestamp::now_rfc3339, super::timestamp::rfc3339);
        let config = image_config(
            &compiled.lowered,
            options,
            &spec.app,
            builder_config,
            app_config,
            self.platform,
            &created,
        );
        Ok(PlatformImage {
            platform: self.platform.clone(),
            ref_id,
            config: config.to_json(),
        })
    }
}

/// The worker's first platform, BuildKit's default target.
fn worker_platform(pong: &fpb::PongResponse) -> Option<Platform> {
    let p = pong.workers.first()?.platforms.first()?;
    Some(Platform {
        os: p.os.clone(),
        architecture: p.architecture.clone(),
        variant: Some(p.variant.clone()).filter(|v| !v.is_empty()),
    })
}

/// Per-build state shared by the gateway calls.
pub(super) struct Session<'a> {
    pub(super) bridge: Bridge,
    pub(super) caps: &'a Caps,
    pub(super) options: &'a BuildOptions,
    platform: &'a Platform,
}

impl Session<'_> {
    pub(super) fn constraints(&self) -> Constraints {
        Constraints {
            platform: self.platform.clone(),
            ignore_cache: false,
            session_id: self.options.session_id.clone(),
        }
    }

    /// Solves `def` and returns the result's ref id.
    pub(super) async fn solve(&self, def: pb::Definition) -> Result<String, FrontendError> {
        let cache_imports = if self.caps.has_api("importcaches") {
            self.options
                .cache_imports
                .iter()
                .map(|c| fpb::CacheOptionsEntry {
                    r#type: c.kind.clone(),
                    attrs: c.attrs.clone().into_iter().collect(),
                })
                .collect()
        } else {
            Vec::new()
        };
        let request = fpb::SolveRequest {
            definition: Some(def),
            allow_result_return: true,
            allow_result_array_ref: true,
            cache_imports,
            frontend_opt: self.options.cache_opts.clone().into_iter().collect(),
            ..Default::default()
        };
        let response = self
            .bridge
            .clone()
            .solve(request)
            .await
            .map_err(|source| FrontendError::Rpc {
                call: "Solve",
                source,
            })?
            .into_inner();
        let id = match response.result.and_then(|r| r.result) {
            Some(ResultKind::Ref(r)) => r.id,
            Some(ResultKind::RefDeprecated(id)) => id,
            _ => response.r#ref,
        };
        Ok(id)
    }

    /// The op digest of the source `read_local_file` solves for `path`.
    fn local_digest(&self, local_name: &str, path: &str) -> String {
        let def = marshal(&self.local_file_source(local_name, path)).proto;
        def.def
            .first()
            .map(|op| crate::llb::digest(op))
            .unwrap_or_default()
    }

    fn local_file_source(&self, local_name: &str, path: &str) -> crate::llb::Output {
        local(
            local_name,
            &LocalOptions {
                include_patterns: vec![path.to_owned()],
                shared_key_hint: Some(path.to_owned()),
                ..LocalOptions::default()
            },
            &self.constraints(),
            &format!("[internal] load {path}"),
        )
    }

    /// Reads one file from a local source. `None` when it does not exist and
    /// `required` is false.
    async fn read_local_file(
        &self,
        local_name: &str,
        path: &str,
        required: bool,
    ) -> Result<Option<Vec<u8>>, FrontendError> {
        let source = self.local_file_source(local_name, path);
        let ref_id = self.solve(marshal(&source).proto).await?;
        match self.read_file(&ref_id, path).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(_) if !required => Ok(None),
            Err(source) => Err(FrontendError::ReadSpec {
                path: path.to_owned(),
                source,
            }),
        }
    }

    pub(super) async fn read_file(
        &self,
        ref_id: &str,
        path: &str,
    ) -> Result<Vec<u8>, tonic::Status> {
        self.read_file_range(ref_id, path, None).await
    }

    /// `ReadFile`, of `range` only when given.
    async fn read_file_range(
        &self,
        ref_id: &str,
        path: &str,
        range: Option<fpb::FileRange>,
    ) -> Result<Vec<u8>, tonic::Status> {
        Ok(self
            .bridge
            .clone()
            .read_file(fpb::ReadFileRequest {
                r#ref: ref_id.to_owned(),
                file_path: path.to_owned(),
                range,
                ..Default::default()
            })
            .await?
            .into_inner()
            .data)
    }

    async fn resolve_image_config(
        &self,
        reference: &str,
        platform: &Platform,
    ) -> Result<BaseConfig, FrontendError> {
        let response = self
            .bridge
            .clone()
            .resolve_image_config(fpb::ResolveImageConfigRequest {
                r#ref: reference.to_owned(),
                platform: Some(platform.to_pb()),
                resolve_mode: self.options.resolve_mode.as_str().to_owned(),
                log_name: format!("[internal] load metadata for {reference}"),
                ..Default::default()
            })
            .await
            .map_err(|source| FrontendError::ResolveImage {
                image: reference.to_owned(),
                source,
            })?
            .into_inner();
        Ok(BaseConfig::parse(reference, &response.config)?)
    }

    /// Fails with the spec location when an install input (requirement
    /// file, `pyproject.toml`, lock) is not in the build context, or when a
    /// Poetry or uv project does not match the spec's indexes.
    async fn check_install_inputs(
        &self,
        spec: &Spec,
        spec_text: &str,
    ) -> Result<(), FrontendError> {
        let files = &spec.install.inputs;
        let source = local(
            CONTEXT_LOCAL,
            &LocalOptions {
                include_patterns: files.iter().map(|f| f.value.as_str().to_owned()).collect(),
                shared_key_hint: Some("pyfront-install-inputs".to_owned()),
                ..LocalOptions::default()
            },
            &self.constraints(),
            "[internal] load install inputs",
        );
        let ref_id = self.solve(marshal(&source).proto).await?;
        let locate = |error: SpecError| {
            FrontendError::Spec(Box::new(Diagnostic::new(
                &self.options.filename,
                spec_text,
                &error,
            )))
        };
        // pip: presence is enough (one byte). Poetry and uv: the whole
        // pyproject.toml and lock, to check them against the spec.
        let whole = spec.install.with.lock_file().is_some();
        let mut contents = Vec::new();
        for file in files {
            let range = (!whole).then_some(fpb::FileRange {
                offset: 0,
                length: 1,
            });
            let read = self
                .read_file_range(&ref_id, file.value.as_str(), range)
                .await;
            let Ok(read) = read else {
                let path = file.value.as_str().to_owned();
                let kind = match spec.install.with.lock_file() {
                    None => SpecErrorKind::MissingContextFile { path },
                    Some(lock) => SpecErrorKind::MissingProjectFile {
                        path,
                        installer: spec.install.with.name(),
                        lock,
                    },
                };
                return Err(locate(SpecError::new(file.span.clone(), kind)));
            };
            contents.push(String::from_utf8_lossy(&read).into_owned());
        }
        if let [pyproject, lock] = contents.as_slice() {
            if whole {
                crate::installers::check_project(spec, pyproject, lock).map_err(locate)?;
            }
        }
        Ok(())
    }
}
