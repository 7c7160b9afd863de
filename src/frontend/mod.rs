//! The BuildKit frontend: gateway client, opts, caps, results and errors.
//!
//! [`run`] is the whole life of the frontend process: connect over stdio,
//! build, `Return` the result or the error, exit.

mod build;
mod caps;
mod errdefs;
#[cfg(test)]
mod fake_gateway_tests;
mod gateway;
pub mod result;
mod session;
mod trace;
mod warnings;

use bollard_buildkit_proto::google::protobuf::Any;
use bollard_buildkit_proto::google::rpc::Status;
use bollard_buildkit_proto::moby::buildkit::v1::frontend::ReturnRequest;

use std::collections::BTreeMap;

pub use caps::{Caps, MissingCap};

use crate::convert::ConvertError;
use crate::options::{keys, OptsError};

/// Everything that can stop a build. Messages are lowercase and never hold a
/// secret value: only ids, names and spec positions.
#[derive(Debug, thiserror::Error)]
pub enum FrontendError {
    #[error("cannot connect to BuildKit over stdio")]
    Connect(#[source] tonic::transport::Error),
    #[error("the gateway call `{call}` failed")]
    Rpc {
        call: &'static str,
        #[source]
        source: tonic::Status,
    },
    #[error(transparent)]
    Opts(#[from] OptsError),
    #[error(transparent)]
    Caps(#[from] MissingCap),
    /// Anything the conversion core found: a located spec error, an input
    /// that could not be read, lint errors.
    #[error(transparent)]
    Convert(#[from] ConvertError),
    #[error("cannot read the spec `{path}`; pass it with `docker build -f {path}`")]
    ReadSpec {
        path: String,
        #[source]
        source: tonic::Status,
    },
}

impl FrontendError {
    /// The message with its causes, `: `-separated, for BuildKit's output,
    /// through the redaction policy: a cause may be a status from BuildKit
    /// that quotes anything (a registry URL with its password).
    pub fn chain(&self) -> String {
        crate::redact::Redacted::new(self.unredacted_chain()).into_string()
    }

    fn unredacted_chain(&self) -> String {
        let mut message = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            let text = match s.downcast_ref::<tonic::Status>() {
                Some(status) => status.message().to_owned(),
                None => s.to_string(),
            };
            message.push_str(": ");
            message.push_str(&text);
            source = s.source();
        }
        message
    }

    /// The gRPC code of the returned status. Always `Unknown`: BuildKit
    /// prefixes the message with the code's name at every hop for any other
    /// code (`InvalidArgument: InvalidArgument: ...` on BuildKit 0.13), which
    /// buries the part the user needs.
    fn code(&self) -> tonic::Code {
        tonic::Code::Unknown
    }

    /// The google.rpc.Status details BuildKit understands: a spec error's
    /// lines as an `errdefs.Source`, which the client prints.
    fn details(&self) -> Vec<Any> {
        match self {
            Self::Convert(ConvertError::Spec(diagnostic)) => {
                errdefs::source_detail(diagnostic).into_iter().collect()
            }
            _ => Vec::new(),
        }
    }

    /// The status `Return` carries for this error: the redacted
    /// [`Self::chain`] and, for a spec error, the redacted source lines.
    pub fn status(&self) -> Status {
        Status {
            code: self.code() as i32,
            message: self.chain(),
            details: self.details(),
        }
    }
}

/// Runs the frontend and exits the process. The exit is explicit: a tokio
/// stdin read cannot be cancelled, so a runtime shutdown would hang.
pub fn run() -> ! {
    let started = std::time::Instant::now();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("pyfront: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = runtime.block_on(async {
        let bridge = match gateway::connect_stdio().await {
            Ok(b) => b,
            Err(e) => {
                eprintln!("pyfront: {}", e.chain());
                return 1;
            }
        };
        let raw_opts = raw_opts_from_env();
        let timing = crate::options::timing_requested(&raw_opts);
        let trace = trace::Trace::new(started);
        let request = match build::build(&bridge, &raw_opts, &trace).await {
            Ok(result) => ReturnRequest {
                result: Some(result.into_proto()),
                error: None,
            },
            Err(e) => {
                let status = e.status();
                eprintln!("pyfront: {}", status.message);
                ReturnRequest {
                    result: None,
                    error: Some(status),
                }
            }
        };
        let returned = trace.call("Return", bridge.clone().r#return(request)).await;
        if timing {
            for line in trace.lines() {
                eprintln!("{line}");
            }
            eprintln!(
                "pyfront: timing: start to Return {} ms, peak RSS {} kB",
                started.elapsed().as_millis(),
                peak_rss_kb().unwrap_or(0)
            );
        }
        match returned {
            Ok(_) => 0,
            Err(source) => {
                let error = FrontendError::Rpc {
                    call: "Return",
                    source,
                };
                eprintln!("pyfront: {}", error.chain());
                1
            }
        }
    });
    std::process::exit(code)
}

/// BuildKit passes each opt as `BUILDKIT_FRONTEND_OPT_<n>=key=value`.
const OPT_ENV_PREFIX: &str = "BUILDKIT_FRONTEND_OPT_";

/// Reads the raw opts from the process environment, plus the session id.
fn raw_opts_from_env() -> BTreeMap<String, String> {
    let mut raw: BTreeMap<String, String> = std::env::vars()
        .filter(|(k, _)| k.starts_with(OPT_ENV_PREFIX))
        .filter_map(|(_, v)| v.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    if let Ok(session) = std::env::var("BUILDKIT_SESSION_ID") {
        raw.insert(keys::SESSION_ID.to_owned(), session);
    }
    raw
}

/// `VmHWM` (peak resident set) from `/proc/self/status`, in kB.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Diagnostic, SpecError, SpecErrorKind};

    #[test]
    fn a_spec_error_returns_its_source_lines_as_a_detail() {
        let source = "[app]\ncolour = \"blue\"\n";
        let error = SpecError::new(6..12, SpecErrorKind::EmptyRequirements);
        let status = FrontendError::Convert(ConvertError::Spec(Box::new(Diagnostic::new(
            "pyfront.toml",
            source,
            &error,
        ))))
        .status();
        assert_eq!(status.code, tonic::Code::Unknown as i32);
        assert!(status.message.starts_with("pyfront.toml:2:1: "));
        assert_eq!(status.details.len(), 1);
        assert_eq!(status.details[0].type_url, errdefs::SOURCE_TYPE_URL);
    }

    #[test]
    fn causes_from_buildkit_are_redacted() {
        let status = FrontendError::Rpc {
            call: "Solve",
            source: tonic::Status::unknown(
                "failed to fetch https://user:hunter22@host/simple?token=abc glpat-0123456789abcdefghij",
            ),
        }
        .status();
        assert_eq!(
            status.message,
            "the gateway call `Solve` failed: failed to fetch https://user:****@host/simple?token=**** ****"
        );
    }

    #[test]
    fn other_errors_return_no_detail() {
        let status = FrontendError::ReadSpec {
            path: "pyfront.toml".to_owned(),
            source: tonic::Status::not_found("no such file"),
        }
        .status();
        assert!(status.details.is_empty());
        assert_eq!(
            status.message,
            "cannot read the spec `pyfront.toml`; pass it with `docker build -f pyfront.toml`: no such file"
        );
    }
}
