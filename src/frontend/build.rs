//! One build over the gateway: `Ping` and caps while the spec is read, then
//! the conversion core with the session as its inputs, then one `Solve` per
//! platform (concurrently).
//!
//! Sequential round trips before the final solves (issue 13: at most 4):
//! 1. `Ping` and the spec's small local solve, side by side (the spec read
//!    needs nothing from `Ping`: it imports no cache and runs on the asked
//!    platform, else the frontend's own, as the Dockerfile frontend's does);
//! 2. the spec's `ReadFile`;
//! 3. one context solve (`.dockerignore` and the install inputs) side by
//!    side with the base image configs of every platform;
//! 4. the context `ReadFile`s (one more solve and read per level of pip
//!    `-r`/`-c` includes);
//!
//! then the final solves, with the lint findings' `Warn`s (if any) sent
//! beside them, and `Return`.
//! Errors are the ones the calls made in turn would give: a `Ping` or
//! caps error, then a bad opt, then the spec read's; a failed `Warn`
//! before the solves' outcome. With `PYFRONT_TIMING=1`
//! every call and the count of rounds go to the timing log (`super::trace`).

use std::collections::BTreeMap;

use bollard_buildkit_proto::moby::buildkit::v1::frontend as fpb;

use super::caps::{Caps, REQUIRED_API_CAPS};
use super::gateway::Bridge;
use super::result::{shape, BuildResult, SolvedImage};
use super::session::Session;
use super::trace::Trace;
use super::FrontendError;
use crate::convert::convert;
use crate::image::Platform;
use crate::options::{BuildOptions, Subrequest};

/// The local source BuildKit serves the spec file from.
pub(super) const DOCKERFILE_LOCAL: &str = "dockerfile";

pub(super) async fn build(
    bridge: &Bridge,
    raw_opts: &BTreeMap<String, String>,
    trace: &Trace,
) -> Result<BuildResult, FrontendError> {
    let parsed = BuildOptions::parse(raw_opts);
    // The platform the spec is read on: known before `Ping` answers.
    let spec_platform = match &parsed {
        Ok(options) => options.platforms.first().cloned(),
        Err(_) => None,
    }
    .unwrap_or_else(Platform::host);
    let mut pinger = bridge.clone();
    let ping = trace.call("Ping", pinger.ping(fpb::PingRequest {}));
    // `Describe` reads no spec; a bad opt leaves none to read.
    let (pong, spec_read) = match &parsed {
        Ok(options) if options.request != Some(Subrequest::Describe) => {
            let no_caps = Caps::default();
            let reader = Session {
                bridge: bridge.clone(),
                caps: &no_caps,
                options,
                platform: &spec_platform,
                trace,
            };
            let read = reader.read_local_file(DOCKERFILE_LOCAL, &options.filename, true);
            let (pong, read) = futures_util::future::join(ping, read).await;
            (pong, Some(read))
        }
        _ => (ping.await, None),
    };
    let pong = pong
        .map_err(|source| FrontendError::Rpc {
            call: "Ping",
            source,
        })?
        .into_inner();
    let caps = Caps::from_pong(&pong);
    caps.require_api(REQUIRED_API_CAPS)?;
    let mut options = parsed?;
    // All three came with BuildKit v0.10: grafting lowers the load check
    // with a filtered copy too (`convert::lower::code_shared_objects`).
    options.graft = caps.has_llb("mergeop")
        && caps.has_llb("diffop")
        && caps.has_llb("file.copy.includeexcludepatterns");
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
        trace,
    };

    let Some(spec_read) = spec_read else {
        return Ok(BuildResult::metadata_only(
            crate::convert::subrequests::result(Subrequest::Describe, None, ""),
            &caps,
        ));
    };
    let spec_bytes = spec_read?.unwrap_or_default();

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
    let crate::convert::Converted {
        images,
        warnings,
        spec_text,
        ..
    } = converted;
    // The lint warnings go out in order while the images solve: they are
    // not on the critical path. A failed `Warn` still fails the build
    // with its own error, as when it went first (`first_error_first`).
    let warn = async {
        if warnings.is_empty() {
            return Ok(());
        }
        // The op the spec was read through, on the platform it was read on.
        let spec_digest = Session {
            platform: &spec_platform,
            bridge: bridge.clone(),
            ..session
        }
        .local_digest(DOCKERFILE_LOCAL, &options.filename);
        super::warnings::report(&session, &warnings, &spec_digest, &spec_text).await
    };
    // One solve per platform, all at once (BuildKit runs them side by
    // side; the first error wins). Results stay in the order asked for.
    let solves = futures_util::future::try_join_all(images.into_iter().map(|image| {
        let session = &session;
        async move {
            // The image and its load check side by side; a failed check
            // (a library the runtime lacks) fails the build.
            let check = async {
                match image.load_check {
                    Some(check) => session
                        .evaluate(check.proto, &format!("load check {}", image.platform))
                        .await
                        .map(Some),
                    None => Ok(None),
                }
            };
            let (ref_id, _) = futures_util::future::try_join(
                session.solve_image(image.definition.proto, &image.platform),
                check,
            )
            .await?;
            Ok::<_, FrontendError>(SolvedImage {
                platform: image.platform,
                ref_id,
                config: image.config.to_json(),
            })
        }
    }));
    let ((), solved) = crate::convert::first_error_first(warn, solves).await?;
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
