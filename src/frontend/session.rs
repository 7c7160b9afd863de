//! The gateway calls of one build: solves, file reads, image resolution.
//! The only code that talks to BuildKit besides `Ping`/`Return`/`Warn`; it
//! is also the gateway's [`Inputs`] for the conversion core.

use bollard_buildkit_proto::moby::buildkit::v1::frontend::{
    self as fpb, result::Result as ResultKind,
};
use bollard_buildkit_proto::pb;

use super::caps::Caps;
use super::gateway::Bridge;
use super::trace::{Trace, FINAL_SOLVE};
use super::FrontendError;
use crate::convert::{InputError, Inputs, CONTEXT_LOCAL};
use crate::image::{BaseConfig, Platform};
use crate::llb::{local, marshal, Constraints, LocalOptions};
use crate::options::BuildOptions;

/// Per-build state shared by the gateway calls.
pub(super) struct Session<'a> {
    pub(super) bridge: Bridge,
    pub(super) caps: &'a Caps,
    pub(super) options: &'a BuildOptions,
    /// The platform the helper solves (file reads) run on.
    pub(super) platform: &'a Platform,
    /// Where every gateway call is recorded for the timing log.
    pub(super) trace: &'a Trace,
}

impl Session<'_> {
    pub(super) fn constraints(&self) -> Constraints {
        Constraints {
            platform: self.platform.clone(),
            ignore_cache: false,
            session_id: self.options.session_id.clone(),
        }
    }

    /// Solves `def` and returns the result's ref id. `what` names the
    /// solve in the timing log.
    pub(super) async fn solve(
        &self,
        def: pb::Definition,
        what: &str,
    ) -> Result<String, FrontendError> {
        self.solve_request(def, false, format!("Solve {what}"))
            .await
    }

    /// A final solve: the image for `platform`.
    pub(super) async fn solve_image(
        &self,
        def: pb::Definition,
        platform: &Platform,
    ) -> Result<String, FrontendError> {
        self.solve_request(def, false, format!("{FINAL_SOLVE} {platform}"))
            .await
    }

    /// Solves `def` for its outcome: BuildKit runs it now (`evaluate`) and
    /// the build fails if it fails.
    pub(super) async fn evaluate(
        &self,
        def: pb::Definition,
        what: &str,
    ) -> Result<String, FrontendError> {
        self.solve_request(def, true, format!("Solve {what}")).await
    }

    async fn solve_request(
        &self,
        def: pb::Definition,
        evaluate: bool,
        name: String,
    ) -> Result<String, FrontendError> {
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
            evaluate,
            cache_imports,
            frontend_opt: self.options.cache_opts.clone().into_iter().collect(),
            ..Default::default()
        };
        let response = self
            .trace
            .call(name, self.bridge.clone().solve(request))
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
    pub(super) fn local_digest(&self, local_name: &str, path: &str) -> String {
        let def = marshal(&self.local_files_source(local_name, &[path.to_owned()], path)).proto;
        def.def
            .first()
            .map(|op| crate::llb::digest(op))
            .unwrap_or_default()
    }

    /// A local source with only `paths`. `key` names the files for
    /// BuildKit's shared transfer cache.
    fn local_files_source(
        &self,
        local_name: &str,
        paths: &[String],
        key: &str,
    ) -> crate::llb::Output {
        let shown = paths.join(", ");
        local(
            local_name,
            &LocalOptions {
                include_patterns: paths.to_vec(),
                shared_key_hint: Some(key.to_owned()),
                ..LocalOptions::default()
            },
            &self.constraints(),
            &format!("[internal] load {shown}"),
        )
    }

    /// Reads one file from a local source. `None` when it does not exist and
    /// `required` is false.
    pub(super) async fn read_local_file(
        &self,
        local_name: &str,
        path: &str,
        required: bool,
    ) -> Result<Option<Vec<u8>>, FrontendError> {
        let source = self.local_files_source(local_name, &[path.to_owned()], path);
        let ref_id = self
            .solve(marshal(&source).proto, &format!("load {path}"))
            .await?;
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
        let mut client = self.bridge.clone();
        let read = client.read_file(fpb::ReadFileRequest {
            r#ref: ref_id.to_owned(),
            file_path: path.to_owned(),
            ..Default::default()
        });
        Ok(self
            .trace
            .call(format!("ReadFile {path}"), read)
            .await?
            .into_inner()
            .data)
    }
}

/// The build context and base images, read through BuildKit.
impl Inputs for Session<'_> {
    /// One solve of the context with exactly `paths`, then a `ReadFile` of
    /// each, concurrently.
    async fn context_files(&self, paths: &[String]) -> Result<Vec<Option<Vec<u8>>>, InputError> {
        let source = self.local_files_source(CONTEXT_LOCAL, paths, "pyfront-inputs");
        let ref_id = self
            .solve(marshal(&source).proto, "load context")
            .await
            .map_err(|e| InputError {
                what: "cannot read the build context".to_owned(),
                source: Box::new(e),
            })?;
        let reads = paths.iter().map(|path| self.read_file(&ref_id, path));
        // A file the local source did not send is absent: BuildKit answers
        // `ReadFile` of it with an error.
        Ok(futures_util::future::join_all(reads)
            .await
            .into_iter()
            .map(Result::ok)
            .collect())
    }

    async fn image_config(
        &self,
        image: &str,
        platform: &Platform,
    ) -> Result<Option<BaseConfig>, InputError> {
        let mut client = self.bridge.clone();
        let resolve = client.resolve_image_config(fpb::ResolveImageConfigRequest {
            r#ref: image.to_owned(),
            platform: Some(platform.to_pb()),
            resolve_mode: self.options.resolve_mode.as_str().to_owned(),
            log_name: format!("[internal] load metadata for {image}"),
            ..Default::default()
        });
        let response = self
            .trace
            .call(format!("ResolveImageConfig {image} {platform}"), resolve)
            .await
            .map_err(|source| InputError {
                what: format!("cannot resolve the image `{image}`"),
                source: Box::new(source),
            })?
            .into_inner();
        BaseConfig::parse(image, &response.config)
            .map(Some)
            .map_err(|e| InputError {
                what: format!("cannot use the image `{image}`"),
                source: Box::new(e),
            })
    }
}
