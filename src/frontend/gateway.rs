//! The gateway connection: BuildKit's `LLBBridge` gRPC service, spoken over
//! our own stdin/stdout (BuildKit starts the frontend with the connection on
//! its stdio; the frontend is the HTTP/2 client). stdout is the wire: nothing
//! else may ever write to it.

use std::sync::{Arc, Mutex};

use bollard_buildkit_proto::moby::buildkit::v1::frontend::llb_bridge_client::LlbBridgeClient;
use hyper_util::rt::TokioIo;
use tonic::transport::{Channel, Endpoint, Uri};

use super::FrontendError;

pub type Bridge = LlbBridgeClient<Channel>;

/// Connects to BuildKit over stdin/stdout. The connector hands out the stdio
/// stream once: if the connection drops, reconnecting fails rather than
/// interleaving two HTTP/2 sessions on one pipe.
pub async fn connect_stdio() -> Result<Bridge, FrontendError> {
    let stdio = Arc::new(Mutex::new(Some(tokio::io::join(
        tokio::io::stdin(),
        tokio::io::stdout(),
    ))));
    let connector = tower::service_fn(move |_: Uri| {
        let stream = stdio.lock().ok().and_then(|mut s| s.take());
        async move {
            stream.map(TokioIo::new).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::BrokenPipe,
                    "the gateway connection over stdio was already used",
                )
            })
        }
    });
    // The URI is never dialed; it only names the HTTP/2 authority.
    let channel = Endpoint::from_static("http://buildkit.gateway")
        .connect_with_connector(connector)
        .await
        .map_err(FrontendError::Connect)?;
    // BuildKit sends LLB definitions and files back; allow large messages.
    Ok(LlbBridgeClient::new(channel)
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(64 << 20))
}
