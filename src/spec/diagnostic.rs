//! Turns a [`SpecError`] span into a line and column, and renders it.
//!
//! One place computes positions; the CLI prints [`Diagnostic::render`] and the
//! frontend sends the same position to BuildKit.

use super::{BuildArgs, SpecError};
use crate::redact::{KnownSecrets, Redacted};

/// A spec error located in a named file. Every text it holds went
/// through the redaction policy when it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    /// 1-based line and column (column counts characters, not bytes).
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: Option<String>,
    /// The whole source, kept for rendering the offending line.
    source: String,
    span: std::ops::Range<usize>,
}

impl Diagnostic {
    /// A diagnostic for a spec parsed without build args.
    pub fn new(file: &str, source: &str, error: &SpecError) -> Self {
        Self::with_build_args(file, source, &BuildArgs::new(), error)
    }

    /// A diagnostic for a spec parsed with `args`: the values of
    /// secret-looking args are masked wherever the message quotes them.
    pub fn with_build_args(file: &str, source: &str, args: &BuildArgs, error: &SpecError) -> Self {
        Self::located(
            file,
            source,
            args,
            error.span.clone(),
            &error.to_string(),
            error.hint(),
        )
    }

    /// A diagnostic for any input file pyfront reads (the spec, a
    /// requirement file): `message` and `hint` at `span` of `source`,
    /// redacted with the values of the secret-looking `args`.
    pub fn located(
        file: &str,
        source: &str,
        args: &BuildArgs,
        span: Option<std::ops::Range<usize>>,
        message: &str,
        hint: Option<String>,
    ) -> Self {
        let span = span.unwrap_or(0..0);
        let start = floor_char_boundary(source, span.start.min(source.len()));
        let end = floor_char_boundary(source, span.end.clamp(start, source.len()));
        let (line, column) = line_column(source, start);
        // Diagnostics hold only redacted text: a token pasted into the spec
        // (a URL password, `password = "..."`, a `glpat-...` anywhere) is
        // masked before any channel can print it, and so is a message or
        // hint quoting it, even after interpolation moved it.
        let known = KnownSecrets::new(source, args);
        let hide = |text: &str| Redacted::new(known.mask(text)).into_string();
        Self {
            file: hide(file),
            line,
            column,
            message: hide(&escape_controls(message)),
            hint: hint.map(|h| hide(&h)),
            source: crate::redact::redact_spec(source),
            span: start..end,
        }
    }

    /// The 0-based line range of the span, for BuildKit source ranges.
    pub fn end_line_column(&self) -> (usize, usize) {
        line_column(&self.source, self.span.end)
    }

    /// The source as shown to users: redacted by `crate::redact`, byte for
    /// byte, so positions are unchanged.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The span for BuildKit's `pb.Range`: start and end as (line, character),
    /// lines 1-based (`errdefs.Source.Print` shows `lines[line-1]`),
    /// characters 0-based, end exclusive. A span that ends with a newline
    /// ends on the line that newline closes, so no extra line is marked.
    pub fn line_range(&self) -> ((usize, usize), (usize, usize)) {
        let (line, column) = line_column(&self.source, self.span.start);
        let mut end = self.span.end;
        if end > self.span.start && self.source[..end].ends_with('\n') {
            end -= 1;
        }
        let (end_line, end_column) = line_column(&self.source, end);
        ((line, column - 1), (end_line, end_column - 1))
    }

    /// Rustc-style report: `error: ...`, `--> file:line:col`, the line, a caret.
    pub fn render(&self) -> String {
        use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};
        let mut group = Level::ERROR.primary_title(&self.message).element(
            Snippet::source(&self.source)
                .path(&self.file)
                .annotation(AnnotationKind::Primary.span(self.span.clone())),
        );
        if let Some(hint) = &self.hint {
            group = group.element(Level::HELP.message(hint));
        }
        Renderer::plain().render(&[group])
    }
}

impl std::fmt::Display for Diagnostic {
    /// The one-line form used in BuildKit error messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

/// The 1-based first and last line of `span` in `source`.
pub fn span_lines(source: &str, span: std::ops::Range<usize>) -> (usize, usize) {
    let start = floor_char_boundary(source, span.start.min(source.len()));
    let mut end = floor_char_boundary(source, span.end.clamp(start, source.len()));
    if end > start && source[..end].ends_with('\n') {
        end -= 1;
    }
    (line_column(source, start).0, line_column(source, end).0)
}

/// The 1-based line and column (in characters) of byte `offset`.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    // A byte-order mark is not a column: editors do not show it.
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
    let column = source[line_start..offset].chars().count() + 1;
    (line, column)
}

/// Control characters from spec values are shown escaped (`\u{1b}`), so an
/// error message cannot send terminal escapes into a build log.
fn escape_controls(message: &str) -> String {
    if !message.chars().any(char::is_control) {
        return message.to_owned();
    }
    message
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
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
    use crate::spec::SpecErrorKind;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let source = "a = 1\nbé = \"x\"\n";
        let offset = source.find('"').unwrap();
        let error = SpecError::new(offset..offset + 3, SpecErrorKind::EmptyRequirements);
        let d = Diagnostic::new("pyfront.toml", source, &error);
        assert_eq!((d.line, d.column), (2, 6));
        assert!(d.to_string().starts_with("pyfront.toml:2:6: "));
        let rendered = d.render();
        assert!(rendered.contains("pyfront.toml:2:6"), "{rendered}");
        assert!(rendered.contains("bé = \"x\""), "{rendered}");
    }

    #[test]
    fn line_range_is_one_based_lines_and_zero_based_characters() {
        let source = "[app]\nbé = \"x\"\n[build]\n";
        let start = source.find('"').unwrap();
        let error = SpecError::new(start..start + 3, SpecErrorKind::EmptyRequirements);
        let d = Diagnostic::new("pyfront.toml", source, &error);
        assert_eq!(d.line_range(), ((2, 5), (2, 8)));
        // A span over whole lines, newline included, ends on its last line.
        let error = SpecError::new(0..start + 4, SpecErrorKind::EmptyRequirements);
        let d = Diagnostic::new("pyfront.toml", source, &error);
        assert_eq!(d.line_range(), ((1, 0), (2, 8)));
        assert_eq!(d.source(), source);
    }

    #[test]
    fn credentials_in_urls_are_masked_in_the_rendered_line() {
        let source = "url = \"https://user:glpat-XYZ@host/simple\"\n";
        let error = SpecError::new(6..source.len() - 1, SpecErrorKind::CredentialsInUrl);
        let d = Diagnostic::new("pyfront.toml", source, &error);
        let rendered = d.render();
        assert!(!rendered.contains("glpat-XYZ"), "{rendered}");
        assert!(
            rendered.contains("https://user:*********@host/simple"),
            "{rendered}"
        );
        assert!(!d.to_string().contains("glpat"));
    }
}
