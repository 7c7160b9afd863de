//! From text to words, as pip reads a file: physical lines (Python's line
//! boundaries), logical lines (continuations joined, each piece keeping its
//! offset in the file), comments, `${VAR}` references and `shlex` words.

use std::ops::Range;

use super::error::{LineError, RequirementsErrorKind};

/// The byte ranges of the lines of `text` from `start`, without their
/// terminators, split where Python's `str.splitlines` splits.
pub(super) fn physical_lines(text: &str, start: usize) -> Vec<Range<usize>> {
    let mut lines = Vec::new();
    let mut line_start = start;
    let mut chars = text[start..].char_indices().peekable();
    while let Some((offset, c)) = chars.next() {
        let at = start + offset;
        let terminator = match c {
            '\r' if matches!(chars.peek(), Some((_, '\n'))) => {
                chars.next();
                2
            }
            '\n' | '\r' | '\u{b}' | '\u{c}' | '\u{1c}' | '\u{1d}' | '\u{1e}' | '\u{85}'
            | '\u{2028}' | '\u{2029}' => c.len_utf8(),
            _ => continue,
        };
        lines.push(line_start..at);
        line_start = at + terminator;
    }
    if line_start < text.len() {
        lines.push(line_start..text.len());
    }
    lines
}

/// Whitespace as Python's `str.isspace` (and the regex `\s`) sees it.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// A line after joining continuations, with the file offset of each piece.
pub(super) struct Logical {
    pub(super) text: String,
    /// (offset in `text`, offset in the file) where each piece starts; a
    /// piece is contiguous in the file.
    pieces: Vec<(usize, usize)>,
}

impl Logical {
    fn new() -> Self {
        Self {
            text: String::new(),
            pieces: Vec::new(),
        }
    }

    fn push(&mut self, file: &str, range: Range<usize>) {
        self.pieces.push((self.text.len(), range.start));
        self.text.push_str(&file[range]);
    }

    fn file_offset(&self, offset: usize) -> usize {
        let index = self
            .pieces
            .partition_point(|&(start, _)| start <= offset)
            .saturating_sub(1);
        self.pieces
            .get(index)
            .map_or(offset, |&(start, file)| file + offset.saturating_sub(start))
    }

    pub(super) fn file_span(&self, span: Range<usize>) -> Range<usize> {
        let start = self.file_offset(span.start);
        let end = if span.end > span.start {
            self.file_offset(span.end - 1) + 1
        } else {
            start
        };
        start..end
    }
}

/// A comment line: `#` first, after optional whitespace.
fn is_comment_line(line: &str) -> bool {
    line.trim_start_matches(is_py_space).starts_with('#')
}

/// pip's `join_lines`: a line ending in `\` (not a comment line) is joined
/// with the next, without its leading and trailing backslashes. A comment
/// line that ends a continuation gets a space in front, so that it is
/// still removed as a comment.
pub(super) fn join_lines(text: &str, lines: Vec<Range<usize>>) -> Vec<Logical> {
    let mut logical = Vec::new();
    let mut pending: Option<Logical> = None;
    for range in lines {
        let line = &text[range.clone()];
        let comment = is_comment_line(line);
        if !line.ends_with('\\') || comment {
            let mut current = pending.take().unwrap_or_else(Logical::new);
            if comment {
                // Zero width in the file: a synthetic separator.
                current.pieces.push((current.text.len(), range.start));
                current.text.push(' ');
            }
            current.push(text, range);
            logical.push(current);
        } else {
            let leading = line.len() - line.trim_start_matches('\\').len();
            let kept = line.trim_matches('\\');
            let start = range.start + leading;
            pending
                .get_or_insert_with(Logical::new)
                .push(text, start..start + kept.len());
        }
    }
    logical.extend(pending);
    logical
}

/// The range of `text` left after removing a comment (a `#` at the start
/// or after whitespace, with that whitespace) and surrounding whitespace.
pub(super) fn content_range(text: &str) -> Range<usize> {
    let mut space_run: Option<usize> = None;
    let mut end = text.len();
    for (i, c) in text.char_indices() {
        if c == '#' && (i == 0 || space_run.is_some()) {
            end = space_run.unwrap_or(0);
            break;
        }
        if is_py_space(c) {
            space_run.get_or_insert(i);
        } else {
            space_run = None;
        }
    }
    let kept = &text[..end];
    let trimmed_end = kept.trim_end_matches(is_py_space).len();
    let start = trimmed_end - kept[..trimmed_end].trim_start_matches(is_py_space).len();
    start..trimmed_end
}

/// `${NAME}` as pip expands it: uppercase letters, digits and `_`.
pub(super) fn find_env_var(line: &str) -> Option<(Range<usize>, &str)> {
    let bytes = line.as_bytes();
    let mut from = 0;
    while let Some(found) = line[from..].find("${") {
        let start = from + found;
        let name_start = start + 2;
        let len = bytes[name_start..]
            .iter()
            .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || **b == b'_')
            .count();
        if len > 0 && bytes.get(name_start + len) == Some(&b'}') {
            return Some((
                start..name_start + len + 1,
                &line[name_start..name_start + len],
            ));
        }
        from = start + 1;
    }
    None
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub(super) value: String,
    /// In the logical line, quotes included.
    pub(super) span: Range<usize>,
}

/// Python's `shlex.split` (POSIX mode, no comments), keeping spans.
pub(super) fn shell_split(text: &str, base: usize) -> Result<Vec<Token>, LineError> {
    let mut tokens = Vec::new();
    let mut current: Option<Token> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if matches!(c, ' ' | '\t' | '\r' | '\n') {
            tokens.extend(current.take());
            continue;
        }
        let token = current.get_or_insert_with(|| Token {
            value: String::new(),
            span: base + i..base + i,
        });
        match c {
            '\\' => match chars.next() {
                Some((_, next)) => token.value.push(next),
                None => {
                    return Err((
                        RequirementsErrorKind::BackslashNotAtEnd,
                        base + i..base + i + 1,
                    ))
                }
            },
            '\'' => loop {
                match chars.next() {
                    Some((_, '\'')) => break,
                    Some((_, inner)) => token.value.push(inner),
                    None => {
                        return Err((RequirementsErrorKind::UnclosedQuote, base + i..base + i + 1))
                    }
                }
            },
            '"' => loop {
                match chars.next() {
                    Some((_, '"')) => break,
                    Some((_, '\\')) => match chars.peek() {
                        Some(&(_, escaped @ ('"' | '\\'))) => {
                            chars.next();
                            token.value.push(escaped);
                        }
                        _ => token.value.push('\\'),
                    },
                    Some((_, inner)) => token.value.push(inner),
                    None => {
                        return Err((RequirementsErrorKind::UnclosedQuote, base + i..base + i + 1))
                    }
                }
            },
            _ => token.value.push(c),
        }
        token.span.end = base + chars.peek().map_or(text.len(), |&(next, _)| next);
    }
    tokens.extend(current);
    Ok(tokens)
}
