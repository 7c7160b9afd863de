//! Fuzz target: arbitrary bytes as a spec.
//! The check itself is `checks::spec_parse` (fuzz/checks.rs), which `cargo test`
//! also runs on the kept corpus (tests/fuzz_corpus.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

// Each target uses one of the checks.
#[allow(dead_code)]
#[path = "../checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::spec_parse(data));
