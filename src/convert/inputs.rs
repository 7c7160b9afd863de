//! What the conversion reads besides the spec: files of the build context
//! and base image configs. The gateway build reads them through BuildKit
//! (`frontend::Session`); `pyfront check` and `pyfront llb` read the context
//! directory and resolve no image ([`FsInputs`]). Both go through the same
//! [`super::convert`], so they find the same errors in the same order.

use std::future::Future;
use std::path::PathBuf;

use crate::image::{BaseConfig, Platform};

/// A failure to read an input (not a missing file: that is `Ok(None)`).
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
pub struct InputError {
    pub what: String,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// The conversion's view of the outside world.
pub trait Inputs {
    /// Reads `paths` (context-relative, validated) from the build context,
    /// all at once (the gateway reads them in one context solve). `None`
    /// for a file that does not exist.
    fn context_files(
        &self,
        paths: &[String],
    ) -> impl Future<Output = Result<Vec<Option<Vec<u8>>>, InputError>>;

    /// The config of `image` for `platform`. `None` where no engine can
    /// resolve it (offline): the conversion then uses an empty config and
    /// skips the lints that need the base image.
    fn image_config(
        &self,
        image: &str,
        platform: &Platform,
    ) -> impl Future<Output = Result<Option<BaseConfig>, InputError>>;
}

/// A context directory on disk; no image is resolved.
pub struct FsInputs {
    pub context: PathBuf,
}

impl Inputs for FsInputs {
    async fn context_files(&self, paths: &[String]) -> Result<Vec<Option<Vec<u8>>>, InputError> {
        paths
            .iter()
            .map(|path| match std::fs::read(self.context.join(path)) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                // A directory or an unreadable file: as BuildKit, which
                // sends only regular files, it is not there.
                Err(_) if self.context.join(path).is_dir() => Ok(None),
                Err(e) => Err(InputError {
                    what: format!("cannot read `{path}` in `{}`", self.context.display()),
                    source: Box::new(e),
                }),
            })
            .collect()
    }

    async fn image_config(
        &self,
        _image: &str,
        _platform: &Platform,
    ) -> Result<Option<BaseConfig>, InputError> {
        Ok(None)
    }
}

/// Runs a future whose inputs never wait (such as [`FsInputs`]'s) to
/// completion on this thread. Offline conversion needs no async runtime.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        // Only reached by inputs that really wait; yield and poll again.
        std::thread::yield_now();
    }
}
