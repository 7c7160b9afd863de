//! OCI types every layer shares: the target platform and image configs.
//! A leaf: it knows nothing of specs, plans or LLB.

mod config;
mod platform;
pub mod timestamp;

pub(crate) use config::set_env;
pub use config::{
    BaseConfig, ContainerConfig, History, ImageConfigError, LayerHistory, RootFs, DEFAULT_PATH,
};
pub use platform::Platform;
