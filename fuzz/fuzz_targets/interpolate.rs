//! Fuzz target: `${...}` interpolation of arbitrary values and build args.
//! The check itself is `checks::interpolate` (fuzz/checks.rs), which `cargo test`
//! also runs on the kept corpus (tests/fuzz_corpus.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

// Each target uses one of the checks.
#[allow(dead_code)]
#[path = "../checks.rs"]
mod checks;

fuzz_target!(|text: &str| checks::interpolate(text));
