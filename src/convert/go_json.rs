//! BuildKit's JSON shapes as Go's `encoding/json` writes them: `pb.Range`,
//! `pb.Position` and `[]byte` as base64. Shared by the outline
//! (`subrequests`) and the frontend's error and warning details. Also
//! [`proto_range`], the same range as the protobuf `pb.Range` that op
//! locations and warnings carry.

use serde::Serialize;

use crate::llb::pb;
use crate::source::SourceRange;

/// `pb.Range`.
#[derive(Serialize)]
pub struct Range {
    pub start: Position,
    pub end: Position,
}

/// `pb.Position`: `line` 1-based, `character` 0-based.
#[derive(Serialize)]
pub struct Position {
    #[serde(skip_serializing_if = "is_zero")]
    line: i32,
    #[serde(skip_serializing_if = "is_zero")]
    character: i32,
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

pub fn position(line: usize, character: usize) -> Position {
    Position {
        line: i32::try_from(line).unwrap_or(i32::MAX),
        character: i32::try_from(character).unwrap_or(i32::MAX),
    }
}

impl From<SourceRange> for Range {
    fn from(range: SourceRange) -> Self {
        Self {
            start: position(range.start.line, range.start.character()),
            end: position(range.end.line, range.end.character()),
        }
    }
}

/// `range` as the protobuf `pb.Range`.
pub fn proto_range(range: SourceRange) -> pb::Range {
    let at = |p: crate::source::Position| pb::Position {
        line: i32::try_from(p.line).unwrap_or(i32::MAX),
        character: i32::try_from(p.character()).unwrap_or(i32::MAX),
    };
    pb::Range {
        start: Some(at(range.start)),
        end: Some(at(range.end)),
    }
}

/// Standard base64 with padding, as Go's `encoding/json` writes `[]byte`.
pub fn base64(bytes: &[u8]) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
