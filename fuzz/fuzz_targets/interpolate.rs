//! Arbitrary values and build args through `${...}` interpolation: no panic,
//! error ranges inside the value, and only referenced names reported as used.
//!
//! Input: the value, then optionally a NUL byte and `NAME=VALUE` lines (the
//! build args), so corpus files stay readable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyfront::spec::{interpolate, BuildArgs};

fuzz_target!(|text: &str| {
    let (value, arg_lines) = text.split_once('\0').unwrap_or((text, ""));
    let args: BuildArgs = arg_lines
        .lines()
        .map(|l| l.split_once('=').unwrap_or((l, "")))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    match interpolate(value, &args) {
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
});
