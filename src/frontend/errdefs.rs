//! BuildKit's `errdefs.Source` error detail: the spec lines a spec error
//! points at, so `docker buildx build` prints them with `>>>` markers.
//!
//! The wire contract, from BuildKit's sources:
//! - `solver/errdefs/errdefs.proto`: `message Source { pb.SourceInfo info = 1;
//!   repeated pb.Range ranges = 2; }`; `SourceInfo`, `Range` and `Position`
//!   are in `solver/pb/ops.proto`.
//! - `solver/errdefs/vertex.go` registers the Go type with
//!   `typeurl.Register((*Source)(nil), "github.com/moby/buildkit",
//!   "errdefs.Source+json")`, so the type URL is the `path.Join` of the two.
//! - `util/grpcerrors/grpcerrors.go`: `withDetails` writes a detail's value
//!   with Go's `encoding/json` (not protobuf), and `FromGRPC` reads it back
//!   through `typeurl.UnmarshalAny`, which uses `json.Unmarshal` for a
//!   registered type. A detail it cannot decode is dropped without a word.
//! - `frontend/gateway/gateway.go`: `Return` turns the frontend's status into
//!   a Go error with `grpcerrors.FromGRPC`, so the typed detail is kept when
//!   the engine's Dockerfile frontend forwards to `gateway.v0` (`# syntax=`).
//! - `solver/errdefs/source.go`: `Source.Print` splits `info.data` on `\n`,
//!   marks the lines from `ranges[].start.line` to `ranges[].end.line`
//!   (1-based), and shows at most two lines of context either side.
//!
//! So the value is Go-style JSON: `data` is base64 (`[]byte`), zero numbers
//! are left out (`omitempty`), unknown fields such as `language` on BuildKit
//! 0.8 are ignored.
//!
//! The data is the spec with secrets masked and every line farther than
//! [`CONTEXT_LINES`] from the range blanked: the detail reaches build logs and
//! the engine's build history, and a spec may hold a token by mistake.

use bollard_buildkit_proto::google::protobuf::Any;
use serde::Serialize;

use crate::convert::go_json::{base64, proto_range, Range};
use crate::source::SourceMap;
use crate::spec::Diagnostic;

/// The type URL BuildKit registers for `errdefs.Source`.
pub(crate) const SOURCE_TYPE_URL: &str = "github.com/moby/buildkit/errdefs.Source+json";

/// `pb.SourceInfo.language` for a spec.
const LANGUAGE: &str = "TOML";

/// Lines of context `Source.Print` shows either side of the range (it pads
/// by two for one marked line and by one for several); other lines are sent
/// empty so line numbers still hold.
const CONTEXT_LINES: usize = 2;

/// `errdefs.Source`.
#[derive(Serialize)]
struct Source<'a> {
    /// `Source.info`.
    info: SourceInfo<'a>,
    /// `Source.ranges`.
    ranges: Vec<Range>,
}

/// `pb.SourceInfo`; `definition` (the LLB that loads the file) is left out:
/// `Print` does not use it.
#[derive(Serialize)]
struct SourceInfo<'a> {
    filename: &'a str,
    /// `[]byte` in Go: base64 in JSON.
    data: String,
    language: &'a str,
}

/// The `errdefs.Source` detail for a located spec error; `None` when there
/// is no source to show (the spec could not be read as text).
pub(crate) fn source_detail(diagnostic: &Diagnostic) -> Option<Any> {
    if diagnostic.source().is_empty() {
        return None;
    }
    let range = diagnostic.line_range();
    let data = excerpt(diagnostic.source(), range.start.line, range.end.line);
    let source = Source {
        info: SourceInfo {
            filename: &diagnostic.file,
            data: base64(data.as_bytes()),
            language: LANGUAGE,
        },
        ranges: vec![Range::from(range)],
    };
    Some(Any {
        type_url: SOURCE_TYPE_URL.to_owned(),
        value: serde_json::to_vec(&source).ok()?,
    })
}

/// `source` with the lines outside `first - CONTEXT_LINES ..= last +
/// CONTEXT_LINES` (1-based) emptied.
fn excerpt(source: &str, first: usize, last: usize) -> String {
    let keep = first.saturating_sub(CONTEXT_LINES)..=last.saturating_add(CONTEXT_LINES);
    let lines: Vec<&str> = source
        .split('\n')
        .enumerate()
        .map(|(i, line)| if keep.contains(&(i + 1)) { line } else { "" })
        .collect();
    lines.join("\n")
}

/// The spec's location of a warning as `Warn` takes it: the redacted file
/// (only the lines near `span` kept) and the 1-based line range.
pub(crate) fn warn_location(
    file: &str,
    source: &str,
    span: std::ops::Range<usize>,
) -> (
    bollard_buildkit_proto::pb::SourceInfo,
    Vec<bollard_buildkit_proto::pb::Range>,
) {
    let map = SourceMap::new(file, crate::redact::redact_spec(source));
    let range = map.range(span);
    let info = bollard_buildkit_proto::pb::SourceInfo {
        filename: file.to_owned(),
        data: excerpt(map.text(), range.start.line, range.end.line).into_bytes(),
        language: LANGUAGE.to_owned(),
        definition: None,
    };
    (info, vec![proto_range(range)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{SpecError, SpecErrorKind};

    fn diagnostic(source: &str, needle: &str) -> Diagnostic {
        let start = source.find(needle).unwrap();
        let error = SpecError::new(
            start..start + needle.len(),
            SpecErrorKind::EmptyRequirements,
        );
        Diagnostic::new("pyfront.toml", source, &error)
    }

    fn decoded_data(detail: &Any) -> String {
        let json: serde_json::Value = serde_json::from_slice(&detail.value).unwrap();
        let data = json["info"]["data"].as_str().unwrap();
        String::from_utf8(base64_decode(data)).unwrap()
    }

    fn base64_decode(text: &str) -> Vec<u8> {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let digits: Vec<u32> = text
            .bytes()
            .filter(|&b| b != b'=')
            .map(|b| ALPHABET.iter().position(|&a| a == b).unwrap() as u32)
            .collect();
        let mut out = Vec::new();
        for chunk in digits.chunks(4) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0, |n, (i, d)| n | d << (18 - 6 * i));
            for i in 0..chunk.len() - 1 {
                out.push((n >> (16 - 8 * i)) as u8);
            }
        }
        out
    }

    #[test]
    fn the_detail_is_go_json_under_buildkits_type_url() {
        let source = "[app]\nbase = \"x\"\ncolour = \"blue\"\n";
        let detail = source_detail(&diagnostic(source, "colour")).unwrap();
        assert_eq!(
            detail.type_url,
            "github.com/moby/buildkit/errdefs.Source+json"
        );
        assert_eq!(
            String::from_utf8(detail.value).unwrap(),
            concat!(
                r#"{"info":{"filename":"pyfront.toml","#,
                r#""data":"W2FwcF0KYmFzZSA9ICJ4Igpjb2xvdXIgPSAiYmx1ZSIK","#,
                r#""language":"TOML"},"#,
                r#""ranges":[{"start":{"line":3},"end":{"line":3,"character":6}}]}"#,
            )
        );
    }

    #[test]
    fn no_detail_without_a_source() {
        let error = SpecError {
            span: None,
            kind: SpecErrorKind::EmptyRequirements,
        };
        assert!(source_detail(&Diagnostic::new("pyfront.toml", "", &error)).is_none());
    }

    #[test]
    fn lines_far_from_the_range_are_sent_empty() {
        let source: String = (1..=12).map(|i| format!("k{i} = {i}\n")).collect();
        let detail = source_detail(&diagnostic(&source, "k6 ")).unwrap();
        assert_eq!(
            decoded_data(&detail),
            "\n\n\nk4 = 4\nk5 = 5\nk6 = 6\nk7 = 7\nk8 = 8\n\n\n\n\n"
        );
    }

    #[test]
    fn any_span_gives_a_detail_without_panicking() {
        let source = "[[index]]\nurl = \"https://ü:pässwörd@h/\"\ntoken = \"🎉\\\"\n\r\n";
        for start in 0..=source.len() + 1 {
            for end in [0, start, start + 1, source.len(), usize::MAX] {
                let error = SpecError {
                    span: Some(start..end),
                    kind: SpecErrorKind::CredentialsInUrl,
                };
                let d = Diagnostic::new("pyfront.toml", source, &error);
                let data = decoded_data(&source_detail(&d).unwrap());
                assert!(!data.contains("pässwörd") && !data.contains('🎉'), "{data}");
            }
        }
    }

    #[test]
    fn the_detail_holds_only_redacted_source() {
        let source =
            "[[index]]\nurl = \"https://user:glpat-XYZ@host/simple\"\npassword = \"tok\"\n";
        let detail = source_detail(&diagnostic(source, "password =")).unwrap();
        let sent = decoded_data(&detail);
        assert!(sent.contains("password = \"***\""), "{sent}");
        assert!(!sent.contains("glpat") && !sent.contains("tok\""), "{sent}");
    }
}
