//! Capability checks against `Ping`. Checked up front so that an old engine
//! gets one clear message naming the BuildKit version it needs, instead of
//! failing halfway through a build.

use std::collections::BTreeSet;

use bollard_buildkit_proto::moby::buildkit::v1::frontend::PongResponse;

/// Gateway API caps pyfront cannot work without.
pub const REQUIRED_API_CAPS: &[&str] = &["solve.base", "readfile", "resolveimage", "return"];

/// The enabled caps an engine reported.
#[derive(Debug, Clone, Default)]
pub struct Caps {
    pub api: BTreeSet<String>,
    pub llb: BTreeSet<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("this BuildKit lacks the {kind} capability `{cap}` that pyfront needs (it is in {since} and later); upgrade Docker or BuildKit")]
pub struct MissingCap {
    pub kind: &'static str,
    pub cap: String,
    pub since: &'static str,
}

impl Caps {
    pub fn from_pong(pong: &PongResponse) -> Self {
        let enabled = |caps: &[bollard_buildkit_proto::moby::buildkit::v1::apicaps::ApiCap]| {
            caps.iter()
                .filter(|c| c.enabled)
                .map(|c| c.id.clone())
                .collect()
        };
        Self {
            api: enabled(&pong.frontend_api_caps),
            llb: enabled(&pong.llb_caps),
        }
    }

    pub fn has_api(&self, cap: &str) -> bool {
        self.api.contains(cap)
    }

    pub fn has_llb(&self, cap: &str) -> bool {
        self.llb.contains(cap)
    }

    pub fn require_api(&self, caps: &[&str]) -> Result<(), MissingCap> {
        match caps.iter().find(|c| !self.api.contains(**c)) {
            Some(c) => Err(MissingCap {
                kind: "gateway",
                cap: (*c).to_owned(),
                since: since(c),
            }),
            None => Ok(()),
        }
    }

    /// Checks the LLB caps a definition uses (see `llb::Definition::caps`).
    pub fn require_llb<'a>(
        &self,
        caps: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), MissingCap> {
        match caps.into_iter().find(|c| !self.llb.contains(*c)) {
            Some(c) => Err(MissingCap {
                kind: "LLB",
                cap: c.to_owned(),
                since: since(c),
            }),
            None => Ok(()),
        }
    }
}

/// The release that introduced a cap, from BuildKit's history.
fn since(cap: &str) -> &'static str {
    match cap {
        "exec.secretenv" => "BuildKit v0.10 (Docker 20.10.14 with buildx, Docker 23)",
        "gateway.warnings" | "frontend.caps" => "BuildKit v0.11 / v0.12 (Docker 23+)",
        "file.copy.includeexcludepatterns" | "mergeop" | "diffop" => "BuildKit v0.10 (Docker 23)",
        "importcaches" | "proto.refarray" | "return" | "readdir" | "statfile" => {
            "BuildKit v0.6 (Docker 19.03)"
        }
        _ => "BuildKit v0.8 (Docker 20.10)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_caps_name_the_version() {
        let caps = Caps {
            api: ["solve.base", "readfile"].map(str::to_owned).into(),
            llb: ["source.image"].map(str::to_owned).into(),
        };
        let err = caps.require_api(REQUIRED_API_CAPS).unwrap_err();
        assert_eq!(err.cap, "resolveimage");
        assert!(err.to_string().contains("BuildKit v0.8"));
        assert!(caps.require_llb(["source.image"]).is_ok());
        let err = caps
            .require_llb(["source.image", "exec.secretenv"])
            .unwrap_err();
        assert!(err.to_string().contains("`exec.secretenv`"), "{err}");
        assert!(err.to_string().contains("v0.10"), "{err}");
    }
}
