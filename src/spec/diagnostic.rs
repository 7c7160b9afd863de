//! Turns a [`SpecError`] span into a line and column, and renders it.
//!
//! Positions come from the one [`SourceMap`]; the CLI prints
//! [`Diagnostic::render`] and the frontend sends the same position to
//! BuildKit.

use super::{BuildArgs, SpecError};
use crate::redact::{KnownSecrets, Redacted};
use crate::source::{SourceMap, SourceRange};

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
    /// The whole source, redacted, kept for rendering the offending line.
    source: SourceMap,
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
        let written = SourceMap::new(file, source);
        let span = written.clamp(span.unwrap_or(0..0));
        let start = written.position(span.start);
        // Diagnostics hold only redacted text: a token pasted into the spec
        // (a URL password, `password = "..."`, a `glpat-...` anywhere) is
        // masked before any channel can print it, and so is a message or
        // hint quoting it, even after interpolation moved it.
        let known = KnownSecrets::new(source, args);
        let hide = |text: &str| Redacted::new(known.mask(text)).into_string();
        Self {
            file: hide(file),
            line: start.line,
            column: start.column,
            message: hide(&escape_controls(message)),
            hint: hint.map(|h| hide(&h)),
            source: SourceMap::new(file, crate::redact::redact_spec(source)),
            span,
        }
    }

    /// The 0-based line range of the span, for BuildKit source ranges.
    pub fn end_line_column(&self) -> (usize, usize) {
        let end = self.source.position(self.span.end);
        (end.line, end.column)
    }

    /// The source as shown to users: redacted by `crate::redact`, byte for
    /// byte, so positions are unchanged.
    pub fn source(&self) -> &str {
        self.source.text()
    }

    /// The span for BuildKit's `pb.Range`: lines 1-based
    /// (`errdefs.Source.Print` shows `lines[line-1]`), end exclusive, a
    /// trailing newline not marking an extra line.
    pub fn line_range(&self) -> SourceRange {
        self.source.range(self.span.clone())
    }

    /// Rustc-style report: `error: ...`, `--> file:line:col`, the line, a caret.
    pub fn render(&self) -> String {
        use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};
        let mut group = Level::ERROR.primary_title(&self.message).element(
            Snippet::source(self.source.text())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::SpecErrorKind;

    /// `((line, character), (end line, end character))`.
    fn range(d: &Diagnostic) -> ((usize, usize), (usize, usize)) {
        let r = d.line_range();
        (
            (r.start.line, r.start.character()),
            (r.end.line, r.end.character()),
        )
    }

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
        assert_eq!(range(&d), ((2, 5), (2, 8)));
        // A span over whole lines, newline included, ends on its last line.
        let error = SpecError::new(0..start + 4, SpecErrorKind::EmptyRequirements);
        let d = Diagnostic::new("pyfront.toml", source, &error);
        assert_eq!(range(&d), ((1, 0), (2, 8)));
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
