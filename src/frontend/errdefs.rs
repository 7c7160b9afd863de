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

/// `pb.Range`.
#[derive(Serialize)]
pub(crate) struct Range {
    pub(crate) start: Position,
    pub(crate) end: Position,
}

/// `pb.Position`: `line` 1-based, `character` 0-based.
#[derive(Serialize)]
pub(crate) struct Position {
    #[serde(skip_serializing_if = "is_zero")]
    line: i32,
    #[serde(skip_serializing_if = "is_zero")]
    character: i32,
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

/// The `errdefs.Source` detail for a located spec error; `None` when there
/// is no source to show (the spec could not be read as text).
pub(crate) fn source_detail(diagnostic: &Diagnostic) -> Option<Any> {
    if diagnostic.source().is_empty() {
        return None;
    }
    let ((line, character), (end_line, end_character)) = diagnostic.line_range();
    let data = excerpt(&redact(diagnostic.source()), line, end_line);
    let source = Source {
        info: SourceInfo {
            filename: &diagnostic.file,
            data: base64(data.as_bytes()),
            language: LANGUAGE,
        },
        ranges: vec![Range {
            start: position(line, character),
            end: position(end_line, end_character),
        }],
    };
    Some(Any {
        type_url: SOURCE_TYPE_URL.to_owned(),
        value: serde_json::to_vec(&source).ok()?,
    })
}

pub(crate) fn position(line: usize, character: usize) -> Position {
    Position {
        line: i32::try_from(line).unwrap_or(i32::MAX),
        character: i32::try_from(character).unwrap_or(i32::MAX),
    }
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

/// Masks, byte for byte with `*` (so lines and spans keep their offsets),
/// the password of every `scheme://user:password@host` (the whole userinfo
/// when it has no `:`), and the string value of every key whose name looks
/// secret (`password`, `token`, `auth`, ...) except `*-secret` keys, whose
/// values are secret ids.
pub(crate) fn redact(source: &str) -> String {
    let mut bytes = source.as_bytes().to_vec();
    for range in userinfo_passwords(source).chain(secret_values(source)) {
        bytes[range].fill(b'*');
    }
    // Only whole characters were replaced, by ASCII: still UTF-8.
    String::from_utf8(bytes).unwrap_or_default()
}

/// Byte ranges of URL passwords in `source`.
fn userinfo_passwords(source: &str) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    source.match_indices("://").filter_map(move |(at, _)| {
        let start = at + 3;
        let rest = &source[start..];
        let authority_len = rest
            .find(|c: char| matches!(c, '/' | '?' | '#' | '"' | '\'') || c.is_whitespace())
            .unwrap_or(rest.len());
        let userinfo_len = rest[..authority_len].rfind('@')?;
        let password_start = rest[..userinfo_len].find(':').map_or(0, |i| i + 1);
        Some(start + password_start..start + userinfo_len)
    })
}

/// Byte ranges of the contents of quoted values of secret-looking keys.
fn secret_values(source: &str) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let mut offset = 0;
    source.split_inclusive('\n').flat_map(move |line| {
        let line_start = offset;
        offset += line.len();
        secret_values_in_line(line)
            .into_iter()
            .map(move |r| line_start + r.start..line_start + r.end)
    })
}

fn secret_values_in_line(line: &str) -> Vec<std::ops::Range<usize>> {
    let mut found = Vec::new();
    for (eq, _) in line.match_indices('=') {
        let key = line[..eq]
            .trim_end()
            .rsplit(|c: char| c.is_whitespace() || matches!(c, '{' | ',' | '.'))
            .next()
            .unwrap_or("")
            .trim_matches(|c| c == '"' || c == '\'');
        if !looks_secret(key) {
            continue;
        }
        let value = &line[eq + 1..];
        let value_start = eq + 1 + (value.len() - value.trim_start().len());
        let Some(quote) = line[value_start..].chars().next() else {
            continue;
        };
        if quote != '"' && quote != '\'' {
            continue;
        }
        let contents_start = value_start + 1;
        let contents = &line[contents_start..];
        // An escaped quote does not end a basic string; a multi-line string
        // is masked to the end of this line.
        let mut end = contents.trim_end_matches(['\n', '\r']).len();
        let mut escaped = false;
        for (i, c) in contents.char_indices() {
            if quote == '"' && c == '\\' && !escaped {
                escaped = true;
                continue;
            }
            if c == quote && !escaped {
                end = i;
                break;
            }
            escaped = false;
        }
        found.push(contents_start..contents_start + end);
    }
    found
}

/// Whether a key's value is likely a credential. Keys ending in `-secret`
/// (`password-secret`) name a BuildKit secret id and are shown.
fn looks_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    if key.ends_with("-secret") || key.ends_with("_secret") {
        return false;
    }
    const WORDS: [&str; 7] = [
        "password",
        "passwd",
        "token",
        "secret",
        "credential",
        "auth",
        "apikey",
    ];
    WORDS.iter().any(|w| key.contains(w)) || key.split(['-', '_', '.']).any(|part| part == "key")
}

/// Standard base64 with padding, as Go's `encoding/json` writes `[]byte`.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
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
    let located = crate::spec::SpecError::new(span, crate::spec::SpecErrorKind::EmptyGroups);
    let diagnostic = Diagnostic::new(file, source, &located);
    let ((line, character), (end_line, end_character)) = diagnostic.line_range();
    let info = bollard_buildkit_proto::pb::SourceInfo {
        filename: file.to_owned(),
        data: excerpt(&redact(source), line, end_line).into_bytes(),
        language: "TOML".to_owned(),
        definition: None,
    };
    let range = bollard_buildkit_proto::pb::Range {
        start: Some(bollard_buildkit_proto::pb::Position {
            line: i32::try_from(line).unwrap_or(i32::MAX),
            character: i32::try_from(character).unwrap_or(i32::MAX),
        }),
        end: Some(bollard_buildkit_proto::pb::Position {
            line: i32::try_from(end_line).unwrap_or(i32::MAX),
            character: i32::try_from(end_character).unwrap_or(i32::MAX),
        }),
    };
    (info, vec![range])
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
    fn secrets_are_masked_byte_for_byte() {
        let source = concat!(
            "[[index]]\n",
            "url = \"https://user:glpat-XYZ@host/simple\"\n",
            "password = \"tok\\\"en\"\n",
            "password-secret = \"pypi_token\"\n",
            "env = { API_KEY = 'k1', OTHER = \"shown\" }\n",
            "username = \"https://TOKEN@host\"\n",
        );
        let data = redact(source);
        assert_eq!(data.len(), source.len());
        assert_eq!(
            data,
            concat!(
                "[[index]]\n",
                "url = \"https://user:*********@host/simple\"\n",
                "password = \"*******\"\n",
                "password-secret = \"pypi_token\"\n",
                "env = { API_KEY = '**', OTHER = \"shown\" }\n",
                "username = \"https://*****@host\"\n",
            )
        );
        let detail = source_detail(&diagnostic(source, "password =")).unwrap();
        let sent = decoded_data(&detail);
        assert!(sent.contains("password = \"*******\""), "{sent}");
        assert!(
            !sent.contains("glpat") && !sent.contains(r#"tok\"en"#),
            "{sent}"
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
    fn base64_matches_go() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
        assert_eq!(base64(&[0xff, 0xfe, 0x00]), "//4A");
    }
}
