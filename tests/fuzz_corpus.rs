//! The fuzz targets' checks (fuzz/checks.rs) on every kept corpus input
//! (fuzz/corpus/<target>/: seeds from the test cases and examples, and every
//! input that once failed), plus each input's prefixes at a fixed stride: a
//! cut spec is the commonest malformed input there is.
//!
//! This is what `make test` runs instead of fuzzing: cargo-fuzz's
//! instrumented build cost five minutes of every CI run for twenty seconds
//! of new inputs per target. Fuzzing itself is `make fuzz-smoke` (a short
//! run) or `cargo fuzz run` (fuzz/README.md).

use std::fs;
use std::path::{Path, PathBuf};

#[path = "../fuzz/checks.rs"]
mod checks;

/// Every prefix of an input whose length is a multiple of this, and the whole
/// input: about 5,000 inputs for spec_parse's 134 KB corpus.
const PREFIX_STRIDE: usize = 31;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut inputs: Vec<(PathBuf, Vec<u8>)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("a corpus entry").path();
            let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, bytes)
        })
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no corpus in {}", dir.display());
    inputs
}

/// The input and its prefixes; a panic names the corpus file and the cut.
fn replay(target: &str, check: impl Fn(&[u8])) -> usize {
    let mut ran = 0;
    for (path, bytes) in corpus(target) {
        let cuts = (0..bytes.len()).step_by(PREFIX_STRIDE).chain([bytes.len()]);
        for cut in cuts {
            let input = &bytes[..cut];
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(input)));
            assert!(
                outcome.is_ok(),
                "{target}: {} cut at byte {cut} panicked (reproduce: cargo fuzz run -s none -O {target} FILE)",
                path.display()
            );
            ran += 1;
        }
    }
    ran
}

/// libFuzzer hands a `&str` target only the inputs that are UTF-8.
fn as_text(check: fn(&str)) -> impl Fn(&[u8]) {
    move |bytes| {
        if let Ok(text) = std::str::from_utf8(bytes) {
            check(text);
        }
    }
}

#[test]
fn spec_parse_corpus() {
    assert!(replay("spec_parse", checks::spec_parse) > 437);
}

#[test]
fn dockerignore_corpus() {
    assert!(replay("dockerignore", as_text(checks::dockerignore)) > 13);
}

#[test]
fn interpolate_corpus() {
    assert!(replay("interpolate", as_text(checks::interpolate)) > 36);
}
