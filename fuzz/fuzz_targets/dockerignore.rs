//! Arbitrary `.dockerignore` text: no panic, and every pattern is non-empty,
//! context-relative and on one line.
//!
//! A line `/!x` becomes `!x` (read as a negation by BuildKit), as Docker's
//! own `.dockerignore` reader does, so a negated pattern may still start with
//! `/` after its `!`; and `/ x` keeps its space (a file named ` x`), as in
//! Docker.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    for pattern in pyfront::plan::parse_dockerignore(text) {
        let body = pattern.strip_prefix('!').unwrap_or(&pattern);
        assert!(!body.is_empty(), "empty pattern from {text:?}");
        assert!(!pattern.starts_with('/'), "absolute pattern {pattern:?}");
        assert!(!pattern.contains('\n'), "pattern spans lines {pattern:?}");
    }
});
