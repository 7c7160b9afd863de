//! Lint warnings on their way to the user: the gateway `Warn` call where the
//! engine has it (`gateway.warnings`, BuildKit 0.11+), else a progress
//! vertex named `WARNING: ...` so they still show in the build output.

use bollard_buildkit_proto::moby::buildkit::v1::frontend as fpb;

use super::session::Session;
use super::FrontendError;
use crate::lint::Warning;
use crate::llb::{local, marshal, LocalOptions};

/// `WarnRequest.level` BuildKit's own lint warnings use.
const WARNING_LEVEL: i64 = 1;

pub(super) async fn report(
    session: &Session<'_>,
    warnings: &[Warning],
    spec_digest: &str,
    spec_text: &str,
) -> Result<(), FrontendError> {
    for warning in warnings {
        if session.caps.has_api("gateway.warnings") {
            let (info, ranges) = match &warning.span {
                Some(span) => {
                    let (info, ranges) = super::errdefs::warn_location(
                        &session.options.filename,
                        spec_text,
                        span.clone(),
                    );
                    (Some(info), ranges)
                }
                None => (None, Vec::new()),
            };
            let mut client = session.bridge.clone();
            let warn = client.warn(fpb::WarnRequest {
                digest: spec_digest.to_owned(),
                level: WARNING_LEVEL,
                short: format!("{} ({})", warning.message, warning.rule).into_bytes(),
                detail: warning
                    .hint
                    .iter()
                    .map(|h| h.as_str().as_bytes().to_vec())
                    .collect(),
                url: String::new(),
                info,
                ranges,
            });
            session
                .trace
                .call("Warn", warn)
                .await
                .map_err(|source| FrontendError::Rpc {
                    call: "Warn",
                    source,
                })?;
        } else {
            // An op that loads nothing; reading from it makes BuildKit run it,
            // and its name shows in the progress output.
            let vertex = local(
                crate::convert::CONTEXT_LOCAL,
                &LocalOptions {
                    include_patterns: vec![".pyfront-warning-nothing".to_owned()],
                    ..LocalOptions::default()
                },
                &session.constraints(),
                &format!("WARNING: {warning}"),
            );
            let ref_id = session.solve(marshal(&vertex).proto, "warning").await?;
            let _ = session.read_file(&ref_id, ".pyfront-warning-nothing").await;
        }
    }
    Ok(())
}
