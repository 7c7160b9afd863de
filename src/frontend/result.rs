//! The shape of a build's result: one ref and one image config, or, when
//! several platforms were asked for (`--platform linux/amd64,linux/arm64`),
//! one of each per platform plus `refs.platforms` naming them, which is what
//! BuildKit's image exporters read (Go: `exptypes.Platforms`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::caps::Caps;

use bollard_buildkit_proto::moby::buildkit::v1::frontend::{
    self as fpb, result::Result as ResultKind,
};

use crate::image::Platform;

/// The image config of a single-platform result.
pub const CONFIG_KEY: &str = "containerimage.config";
/// The platform list of a multi-platform result.
pub const PLATFORMS_KEY: &str = "refs.platforms";

/// One platform's finished image.
pub struct SolvedImage {
    pub platform: Platform,
    pub ref_id: String,
    /// The OCI image config, JSON.
    pub config: Vec<u8>,
}

/// What `Return` carries: refs by platform id (one entry, keyed "", for a
/// single-platform result) and the metadata.
#[derive(Debug, PartialEq, Eq)]
pub struct ResultShape {
    pub refs: BTreeMap<String, String>,
    pub metadata: BTreeMap<String, Vec<u8>>,
    pub multi_platform: bool,
}

/// What the frontend hands back with `Return`.
pub struct BuildResult {
    pub shape: ResultShape,
    /// Whether the engine takes `Result.ref` (`proto.refarray`) or only the
    /// deprecated plain ref ids.
    pub ref_array: bool,
}

impl BuildResult {
    /// A subrequest's answer: metadata only, an empty ref.
    pub(super) fn metadata_only(metadata: BTreeMap<String, Vec<u8>>, caps: &Caps) -> Self {
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

#[derive(Serialize)]
struct Platforms {
    #[serde(rename = "Platforms")]
    platforms: Vec<Entry>,
}

#[derive(Serialize)]
struct Entry {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Platform")]
    platform: OciPlatform,
}

/// `ocispecs.Platform` as Go's encoding/json writes it.
#[derive(Serialize)]
struct OciPlatform {
    architecture: String,
    os: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    variant: Option<String>,
}

/// The result for `images`, in the order the platforms were asked for.
/// `requested_several`: the user passed more than one platform (a single
/// one gives BuildKit's classic single-ref result, which every engine and
/// exporter takes).
pub fn shape(images: Vec<SolvedImage>, requested_several: bool) -> ResultShape {
    if !requested_several && images.len() == 1 {
        let image = images.into_iter().next().expect("one image");
        return ResultShape {
            refs: BTreeMap::from([(String::new(), image.ref_id)]),
            metadata: BTreeMap::from([(CONFIG_KEY.to_owned(), image.config)]),
            multi_platform: false,
        };
    }
    let mut refs = BTreeMap::new();
    let mut metadata = BTreeMap::new();
    let mut entries = Vec::new();
    for image in images {
        let id = image.platform.to_string();
        metadata.insert(format!("{CONFIG_KEY}/{id}"), image.config);
        refs.insert(id.clone(), image.ref_id);
        entries.push(Entry {
            id,
            platform: OciPlatform {
                architecture: image.platform.architecture,
                os: image.platform.os,
                variant: image.platform.variant,
            },
        });
    }
    let list = serde_json::to_vec(&Platforms { platforms: entries }).unwrap_or_default();
    metadata.insert(PLATFORMS_KEY.to_owned(), list);
    ResultShape {
        refs,
        metadata,
        multi_platform: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(p: &str, r: &str) -> SolvedImage {
        SolvedImage {
            platform: Platform::parse(p).unwrap(),
            ref_id: r.to_owned(),
            config: format!("{{\"os\":\"{p}\"}}").into_bytes(),
        }
    }

    #[test]
    fn one_platform_is_a_single_ref() {
        let s = shape(vec![image("linux/amd64", "r1")], false);
        assert!(!s.multi_platform);
        assert_eq!(s.refs[""], "r1");
        assert!(s.metadata.contains_key(CONFIG_KEY));
        assert!(!s.metadata.contains_key(PLATFORMS_KEY));
    }

    #[test]
    fn several_platforms_have_refs_configs_and_a_list() {
        let s = shape(
            vec![image("linux/amd64", "r1"), image("linux/arm/v7", "r2")],
            true,
        );
        assert!(s.multi_platform);
        assert_eq!(s.refs["linux/amd64"], "r1");
        assert_eq!(s.refs["linux/arm/v7"], "r2");
        assert!(s
            .metadata
            .contains_key("containerimage.config/linux/arm/v7"));
        let list: serde_json::Value = serde_json::from_slice(&s.metadata[PLATFORMS_KEY]).unwrap();
        assert_eq!(
            list,
            serde_json::json!({"Platforms": [
                {"ID": "linux/amd64", "Platform": {"architecture": "amd64", "os": "linux"}},
                {"ID": "linux/arm/v7", "Platform": {"architecture": "arm", "os": "linux", "variant": "v7"}}
            ]})
        );
    }
}
