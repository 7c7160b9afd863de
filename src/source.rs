//! Positions in a source file, made in one place. After BuildKit's
//! `client/llb/sourcemap.go`: a [`SourceMap`] holds a file's name and text,
//! and turns the byte spans that errors, plan steps and lints carry into
//! the positions each reader wants: `file:line:col` for people, and the
//! 1-based line ranges of `pb.Range` for BuildKit (op locations, the
//! `errdefs.Source` detail, warnings, the outline).
//!
//! A leaf: it knows no spec, no LLB and no proto; callers map a
//! [`SourceRange`] onto the wire type they send.

use std::ops::Range;

/// A named source text (the spec, as read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceMap {
    name: String,
    text: String,
}

/// A place in the text: `line` 1-based, `column` 1-based and counted in
/// characters, not bytes (what editors and `file:line:col` show).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// `pb.Position.character`: the column, 0-based.
    pub fn character(self) -> usize {
        self.column - 1
    }
}

/// Where a span starts and ends, end exclusive, as `pb.Range` wants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceRange {
    pub start: Position,
    pub end: Position,
}

impl SourceRange {
    /// The same lines, whole (column 1 at both ends): an op's location and
    /// the outline name lines, not characters.
    pub fn whole_lines(self) -> Self {
        let line_start = |p: Position| Position {
            line: p.line,
            column: 1,
        };
        Self {
            start: line_start(self.start),
            end: line_start(self.end),
        }
    }
}

impl SourceMap {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// `span` inside the text: clamped to its length, both ends moved back
    /// to a character boundary, the end not before the start. Spans come
    /// from the TOML parser or from other texts of the same length (a
    /// redacted copy), so clamping only guards against the unexpected.
    pub fn clamp(&self, span: Range<usize>) -> Range<usize> {
        let start = floor_char_boundary(&self.text, span.start.min(self.text.len()));
        let end = floor_char_boundary(&self.text, span.end.clamp(start, self.text.len()));
        start..end
    }

    /// The line and column of byte `offset` (clamped like [`Self::clamp`]).
    /// Lines end at `\n`, so a `\r\n` file counts like a `\n` one; a
    /// byte-order mark is not a column (editors do not show it).
    pub fn position(&self, offset: usize) -> Position {
        let offset = self.clamp(offset..offset).start;
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or_else(
            || {
                if before.starts_with('\u{feff}') {
                    '\u{feff}'.len_utf8()
                } else {
                    0
                }
            },
            |i| i + 1,
        );
        let column = self.text[line_start..offset].chars().count() + 1;
        Position { line, column }
    }

    /// The start and end of `span` (clamped). A span that ends with a
    /// newline ends on the line that newline closes, so no extra line is
    /// marked.
    pub fn range(&self, span: Range<usize>) -> SourceRange {
        let Range { start, mut end } = self.clamp(span);
        if end > start && self.text[..end].ends_with('\n') {
            end -= 1;
        }
        SourceRange {
            start: self.position(start),
            end: self.position(end),
        }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize, column: usize) -> Position {
        Position { line, column }
    }

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let map = SourceMap::new("pyfront.toml", "a = 1\nbé = \"x\"\n");
        assert_eq!(map.position(0), at(1, 1));
        assert_eq!(map.position(map.text().find('"').unwrap()), at(2, 6));
        assert_eq!(map.position(map.text().find('"').unwrap()).character(), 5);
        assert_eq!(map.name(), "pyfront.toml");
    }

    #[test]
    fn a_byte_order_mark_is_no_column_and_crlf_ends_a_line() {
        let map = SourceMap::new("f", "\u{feff}a = 1\r\nb = 2\r\n");
        assert_eq!(map.position(3), at(1, 1));
        assert_eq!(map.position(map.text().find('b').unwrap()), at(2, 1));
        // A span over a whole CRLF line ends on that line.
        let b = map.text().find('b').unwrap();
        assert_eq!(map.range(b..map.text().len()).end.line, 2);
    }

    #[test]
    fn a_span_ending_with_a_newline_ends_on_the_line_it_closes() {
        let map = SourceMap::new("f", "[app]\nbé = \"x\"\n[build]\n");
        let start = map.text().find('"').unwrap();
        assert_eq!(
            map.range(start..start + 3),
            SourceRange {
                start: at(2, 6),
                end: at(2, 9)
            }
        );
        assert_eq!(
            map.range(0..start + 4),
            SourceRange {
                start: at(1, 1),
                end: at(2, 9)
            }
        );
        assert_eq!(
            map.range(0..start + 4).whole_lines(),
            SourceRange {
                start: at(1, 1),
                end: at(2, 1)
            }
        );
    }

    #[test]
    fn any_span_is_clamped_without_panicking() {
        let map = SourceMap::new("f", "é\n🎉\r\n");
        for start in 0..=map.text().len() + 2 {
            for end in [0, start, start + 1, usize::MAX] {
                let span = map.clamp(start..end);
                assert!(span.start <= span.end && span.end <= map.text().len());
                let _ = map.range(start..end);
                let _ = map.position(start);
            }
        }
        assert_eq!(map.position(usize::MAX), at(3, 1));
    }
}
