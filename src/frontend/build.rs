//! One build over the gateway: `Ping` and caps, the spec, then the
//! conversion core with the session as its inputs, then one `Solve` per
//! platform (concurrently).
//!
//! Round trips, in order: `Ping`; the spec (a small solve plus `ReadFile`);
//! `.dockerignore` and the install inputs (one solve plus `ReadFile`s); the
//! base image configs of every platform (concurrently); the final solves.

use std::collections::BTreeMap;

use bollard_buildkit_proto::moby::buildkit::v1::frontend as fpb;

use super::caps::{Caps, REQUIRED_API_CAPS};
use super::gateway::Bridge;
use super::result::{shape, BuildResult, SolvedImage};
use super::session::Session;
use super::FrontendError;
use crate::convert::convert;
use crate::image::Platform;
use crate::options::{BuildOptions, Subrequest};

/// The local source BuildKit serves the spec file from.
pub(super) const DOCKERFILE_LOCAL: &str = "dockerfile";

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
    let mut options = BuildOptions::parse(raw_opts)?;
    options.graft = caps.has_llb("mergeop") && caps.has_llb("diffop");
    let platforms = if options.platforms.is_empty() {
        vec![worker_platform(&pong).unwrap_or_else(Platform::linux_amd64)]
    } else {
        options.platforms.clone()
    };
    // Files are read on the first platform.
    let session = Session {
        bridge: bridge.clone(),
        caps: &caps,
        options: &options,
        platform: &platforms[0],
    };

    if options.request == Some(Subrequest::Describe) {
        return Ok(BuildResult::metadata_only(
            crate::convert::subrequests::result(Subrequest::Describe, None, ""),
            &caps,
        ));
    }

    let spec_bytes = session
        .read_local_file(DOCKERFILE_LOCAL, &options.filename, true)
        .await?
        .unwrap_or_default();

    let created = options.source_date_epoch.map_or_else(
        crate::image::timestamp::now_rfc3339,
        crate::image::timestamp::rfc3339,
    );
    if options.request == Some(Subrequest::Lint) {
        // The lints of the build itself (one pipeline: the conversion, with
        // the base images' configs), answered instead of solved. Findings
        // asked for as errors are still findings here; any other error is
        // the build's error.
        let (warnings, spec_text) =
            match convert(&spec_bytes, &options, &platforms, &session, &created).await {
                Ok(converted) => (converted.warnings, converted.spec_text),
                Err(crate::convert::ConvertError::Lint(warnings)) => {
                    (warnings, String::from_utf8_lossy(&spec_bytes).into_owned())
                }
                Err(e) => return Err(e.into()),
            };
        return Ok(BuildResult::metadata_only(
            crate::convert::subrequests::lint_result(&warnings, &spec_text, &options.filename),
            &caps,
        ));
    }

    if let Some(request) = options.request {
        // An outline must work before the user knows which args to pass.
        let spec = crate::convert::subrequests::parse_for_outline(&options, &spec_bytes)?;
        let spec_text = String::from_utf8_lossy(&spec_bytes);
        return Ok(BuildResult::metadata_only(
            crate::convert::subrequests::result(
                request,
                Some((&spec, &spec_text)),
                &options.filename,
            ),
            &caps,
        ));
    }

    let converted = convert(&spec_bytes, &options, &platforms, &session, &created).await?;
    for image in &converted.images {
        caps.require_llb(image.definition.caps.iter().copied())?;
        if let Some(check) = &image.load_check {
            caps.require_llb(check.caps.iter().copied())?;
        }
    }
    if !converted.warnings.is_empty() {
        let spec_digest = session.local_digest(DOCKERFILE_LOCAL, &options.filename);
        super::warnings::report(
            &session,
            &converted.warnings,
            &spec_digest,
            &converted.spec_text,
        )
        .await?;
    }
    // One solve per platform, all at once (BuildKit runs them side by
    // side; the first error wins). Results stay in the order asked for.
    let solved = futures_util::future::try_join_all(converted.images.into_iter().map(|image| {
        let session = &session;
        async move {
            // The image and its load check side by side; a failed check
            // (a library the runtime lacks) fails the build.
            let check = async {
                match image.load_check {
                    Some(check) => session.evaluate(check.proto).await.map(Some),
                    None => Ok(None),
                }
            };
            let (ref_id, _) =
                futures_util::future::try_join(session.solve(image.definition.proto), check)
                    .await?;
            Ok::<_, FrontendError>(SolvedImage {
                platform: image.platform,
                ref_id,
                config: image.config.to_json(),
            })
        }
    }))
    .await?;
    Ok(BuildResult {
        shape: shape(solved, options.platforms.len() > 1),
        ref_array: caps.has_api("proto.refarray"),
    })
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
