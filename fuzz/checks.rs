//! What each fuzz target checks, as plain functions: the cargo-fuzz targets
//! (`fuzz_targets/*.rs`) call them on generated inputs, and `cargo test`
//! (`tests/fuzz_corpus.rs`) calls them on the kept corpus, so `make test`
//! replays every input that ever found something without cargo-fuzz's
//! instrumented build.

use pyfront::spec::{interpolate as interpolate_value, BuildArgs, Diagnostic, Spec};

/// Arbitrary bytes as a spec: parsing, validation and error rendering must
/// never panic, whatever the input.
pub fn spec_parse(data: &[u8]) {
    // Build args the corpus specs reference, one of them empty (for
    // `${NAME:-default}`) and one holding shell metacharacters.
    let args: BuildArgs = [
        ("CI_API_V4_URL", "https://gitlab.example.com/api/v4"),
        ("MLOPS_GROUP_ID", "42"),
        ("PYTHON", "3.11"),
        ("EMPTY", ""),
        ("EVIL", "$(touch /tmp/pwned)\n`id`;\"'"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    // The frontend rejects non-UTF-8 before parsing; lossy decoding still
    // lets the fuzzer reach the parser from any byte string.
    let source = String::from_utf8_lossy(data);
    match Spec::parse(&source, &args) {
        Ok(spec) => {
            let _ = spec.secret_ids();
            let _ = pyfront::plan::Plan::new(&spec, &pyfront::plan::ContextInputs::default());
        }
        Err(error) => {
            let diagnostic = Diagnostic::new("pyfront.toml", &source, &error);
            let _ = diagnostic.render();
            let _ = diagnostic.to_string();
            let _ = diagnostic.end_line_column();
        }
    }
}

/// Arbitrary `.dockerignore` text: no panic, and every pattern is non-empty,
/// context-relative and on one line.
///
/// A line `/!x` becomes `!x` (read as a negation by BuildKit), as Docker's
/// own `.dockerignore` reader does, so a negated pattern may still start with
/// `/` after its `!`; and `/ x` keeps its space (a file named ` x`), as in
/// Docker.
pub fn dockerignore(text: &str) {
    for pattern in pyfront::plan::parse_dockerignore(text) {
        let body = pattern.strip_prefix('!').unwrap_or(&pattern);
        assert!(!body.is_empty(), "empty pattern from {text:?}");
        assert!(!pattern.starts_with('/'), "absolute pattern {pattern:?}");
        assert!(!pattern.contains('\n'), "pattern spans lines {pattern:?}");
    }
}

/// Arbitrary values and build args through `${...}` interpolation: no panic,
/// error ranges inside the value, and only referenced names reported as used.
///
/// Input: the value, then optionally a NUL byte and `NAME=VALUE` lines (the
/// build args), so corpus files stay readable.
pub fn interpolate(text: &str) {
    let (value, arg_lines) = text.split_once('\0').unwrap_or((text, ""));
    let args: BuildArgs = arg_lines
        .lines()
        .map(|l| l.split_once('=').unwrap_or((l, "")))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    match interpolate_value(value, &args) {
        Ok((out, used)) => {
            for name in &used {
                assert!(
                    value.contains(&format!("${{{name}")),
                    "`{name}` reported as used but not referenced in {value:?}"
                );
            }
            // Without references and `$$`, the value is unchanged.
            if !value.contains('$') {
                assert_eq!(out, value);
            }
        }
        Err(e) => {
            assert!(
                e.range.start <= e.range.end && e.range.end <= value.len(),
                "range {:?} outside {value:?}",
                e.range
            );
            assert!(
                value.is_char_boundary(e.range.start) && value.is_char_boundary(e.range.end),
                "range {:?} splits a character of {value:?}",
                e.range
            );
            let _ = e.kind.to_string();
        }
    }
}
