//! Robustness of the spec front end against huge and hostile input.
//!
//! - No panic, no hang, no stack overflow, bounded time: 10 MB specs, 10,000
//!   `[[index]]` tables, 10,000 levels of nesting, invalid UTF-8, NUL, BOM,
//!   CRLF, very long lines, unicode everywhere.
//! - Injection: every string field with shell metacharacters, quotes,
//!   newlines, `$(...)`, backticks and NUL is either rejected with a
//!   positioned diagnostic or reaches the LLB (`pyfront llb --json`) and the
//!   image config only as data: never inside the apt `sh -c` script (the one
//!   shell string pyfront emits) and never as an apt argument that starts
//!   with `-`.
//! - `Diagnostic::new`, `render` and `Display` never panic, whatever the span.
//!
//! Work is bounded by counting, never by the clock, so a busy machine cannot
//! fail a test (see `work.rs`): each big input's allocations stay within a
//! linear budget, and the same input at an eighth of the size costs about an
//! eighth. A hang guard of 120 s remains. Timings belong in `bench/`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use pyfront::convert::runtime_config;
use pyfront::image::BaseConfig;
use pyfront::redact::DisplaySafeUrl;
use pyfront::spec::{interpolate, BuildArgs, Diagnostic, Spec, SpecError, SpecErrorKind};
use serde_json::Value;

#[path = "robustness/work.rs"]
mod work;

use work::{assert_linear, assert_scales_linearly, within, Budget, Measured};

const MINIMAL: &str = "[app]\nbase = \"python:3.12-slim\"\n\n[install]\nwith = \"pip\"\nrequirements = [\"requirements.txt\"]\n";

/// What a parse produced, rendered the way the CLI renders it.
#[derive(Debug)]
enum Parsed {
    Ok(Box<Spec>),
    Err {
        line: usize,
        column: usize,
        message: String,
        rendered: String,
        display: String,
    },
}

impl Parsed {
    fn unwrap_err(self) -> (usize, usize, String, String) {
        match self {
            Self::Err {
                line,
                column,
                message,
                rendered,
                ..
            } => (line, column, message, rendered),
            Self::Ok(spec) => panic!("expected an error, got {spec:?}"),
        }
    }
}

fn parse_with(source: &str, args: &BuildArgs) -> Parsed {
    match Spec::parse(source, args) {
        Ok(spec) => {
            // The installers and the plan see the same huge input.
            let _ = pyfront::plan::Plan::new(&spec, &pyfront::plan::ContextInputs::default());
            Parsed::Ok(Box::new(spec))
        }
        Err(e) => {
            let d = Diagnostic::new("pyfront.toml", source, &e);
            let _ = d.end_line_column();
            Parsed::Err {
                line: d.line,
                column: d.column,
                message: d.message.clone(),
                rendered: d.render(),
                display: d.to_string(),
            }
        }
    }
}

/// Parses (and renders any error) on a small-stack thread, measured.
fn parse_measured(what: &str, source: String) -> Measured<Parsed> {
    within(what, move || parse_with(&source, &BuildArgs::new()))
}

/// Parses (and renders any error) on a small-stack thread.
fn parse_bounded(what: &str, source: String) -> Parsed {
    parse_measured(what, source).value
}

/// Parses the spec `input(size)` returns with its item count, at `size` and
/// at a [`work::FACTOR`]th of it: both parses stay within `budget`, and the
/// big one costs no more than linearly more than the small one. Returns the
/// big parse and its item count.
fn parse_big(
    what: &str,
    size: usize,
    budget: Budget,
    input: impl Fn(usize) -> (String, usize),
) -> (Parsed, usize) {
    let big = assert_scales_linearly(what, size, |size| {
        let (source, items) = input(size);
        let bytes = source.len();
        let parsed = parse_measured(what, source);
        assert_linear(what, parsed.allocated, bytes, items, budget);
        Measured {
            value: (parsed.value, items),
            allocated: parsed.allocated,
            cpu: parsed.cpu,
        }
    });
    big.value
}

fn build_args(pairs: &[(&str, &str)]) -> BuildArgs {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// `value` as a TOML basic string: every character survives exactly.
fn toml_str(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------------------
// Size: 10 MB specs, 10,000 indexes.
// ---------------------------------------------------------------------------

const TEN_MB: usize = 10 << 20;

/// The size of the specs that exercise the TOML parser and the renderer
/// hardest (arrays of 500,000 strings, a 10 MB rendered line): 10 MB in an
/// optimized build, 2 MB in a debug build, where the unoptimized `toml` and
/// `annotate-snippets` alone take 1-7 s per 10 MB. `PYFRONT_ROBUSTNESS_MB`
/// overrides it. The cost checks compare counts with the input size, not with
/// a time limit: the size only sets how far a quadratic step stands out.
fn big() -> usize {
    std::env::var("PYFRONT_ROBUSTNESS_MB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(if cfg!(debug_assertions) { 2 } else { 10 })
        << 20
}

#[test]
fn a_small_spec_costs_less_than_the_fixed_allowance() {
    // Every budget grants `work::FIXED` for the rest of the spec; this is
    // where that allowance is calibrated.
    let parsed = parse_measured("small spec", MINIMAL.to_owned());
    assert!(matches!(parsed.value, Parsed::Ok(_)), "{:?}", parsed.value);
    let nothing_more = Budget {
        bytes_per_input_byte: 0,
        allocations_per_item: 0,
    };
    assert_linear(
        "small spec",
        parsed.allocated,
        MINIMAL.len(),
        1,
        nothing_more,
    );
}

/// A TOML array body of distinct strings, `item(0)`, `item(1)`, ..., at least
/// `size` bytes long, and how many strings it holds.
fn distinct_items(size: usize, item: impl Fn(usize) -> String) -> (String, usize) {
    let mut list = String::with_capacity(size + 64);
    let mut n = 0;
    while list.len() < size {
        list.push_str(&format!("\"{}\", ", item(n)));
        n += 1;
    }
    (list, n)
}

#[test]
fn a_10_mb_string_value_parses() {
    // Measured: 8.9 bytes per input byte; 68 allocations in all.
    const BUDGET: Budget = Budget {
        bytes_per_input_byte: 48,
        allocations_per_item: 8,
    };
    // `[app.labels]` after `[install]` is a valid TOML sub-table of `[app]`.
    let (parsed, _) = parse_big("10 MB label", TEN_MB, BUDGET, |size| {
        let big = "x".repeat(size);
        (format!("{MINIMAL}\n[app.labels]\nbig = \"{big}\"\n"), 1)
    });
    match parsed {
        Parsed::Ok(spec) => assert_eq!(spec.app.labels["big"].len(), TEN_MB),
        Parsed::Err { rendered, .. } => panic!("{}", &rendered[..rendered.len().min(2000)]),
    }
}

#[test]
fn a_big_bad_value_is_reported_without_blowup() {
    // Measured: 62 bytes per input byte (the message and the rendered line
    // copy the value); 94 allocations in all.
    const BUDGET: Budget = Budget {
        bytes_per_input_byte: 320,
        allocations_per_item: 8,
    };
    // An invalid image reference of 10 MB: the message repeats the value and
    // the renderer prints the 10 MB line; both must stay linear.
    let (parsed, _) = parse_big("big image ref", big(), BUDGET, |size| {
        (MINIMAL.replace("python:3.12-slim", &"A".repeat(size)), 1)
    });
    let (line, column, message, _) = parsed.unwrap_err();
    assert_eq!((line, column), (2, 8));
    assert!(
        message.starts_with("invalid image reference"),
        "{}",
        &message[..100]
    );
}

#[test]
fn a_big_array_of_distinct_requirements_parses() {
    // Measured: 58 bytes per input byte, 8.2 allocations per item.
    const BUDGET: Budget = Budget {
        bytes_per_input_byte: 320,
        allocations_per_item: 48,
    };
    // ~160,000 distinct requirement files (650,000 in an optimized build).
    // Deduplicating them must not be quadratic.
    let (parsed, n) = parse_big("distinct requirements", big(), BUDGET, |size| {
        let (list, n) = distinct_items(size, |n| format!("r{n:07}.txt"));
        (MINIMAL.replace("\"requirements.txt\"", &list), n)
    });
    match parsed {
        Parsed::Ok(spec) => assert_eq!(spec.install.inputs.len(), n),
        Parsed::Err { message, .. } => panic!("{message}"),
    }
}

#[test]
fn a_big_array_of_one_repeated_requirement_parses() {
    // Measured: 31 bytes per input byte, 5.0 allocations per item.
    const BUDGET: Budget = Budget {
        bytes_per_input_byte: 160,
        allocations_per_item: 32,
    };
    let item = "\"requirements.txt\", ";
    let (parsed, _) = parse_big("repeated requirement", big(), BUDGET, |size| {
        let count = size / item.len();
        let list = item.repeat(count);
        (MINIMAL.replace("\"requirements.txt\"", &list), count)
    });
    match parsed {
        Parsed::Ok(spec) => assert_eq!(spec.install.inputs.len(), 1),
        Parsed::Err { message, .. } => panic!("{message}"),
    }
}

#[test]
fn a_big_array_of_distinct_groups_parses() {
    // Measured: 53 bytes per input byte, 3.2 allocations per item.
    const BUDGET: Budget = Budget {
        bytes_per_input_byte: 320,
        allocations_per_item: 24,
    };
    // uv/Poetry groups and extras are deduplicated too.
    let (parsed, items) = parse_big("distinct groups", big(), BUDGET, |size| {
        let (list, n) = distinct_items(size, |n| format!("g{n:07}"));
        let source = format!(
            "[app]\nbase = \"python:3.12-slim\"\n[install]\nwith = \"uv\"\ngroups = [{list}]\nextras = [{list}]\n"
        );
        (source, 2 * n)
    });
    match parsed {
        // `items` counts the groups and the extras.
        Parsed::Ok(spec) => assert_eq!(spec.install.groups.len(), items / 2),
        Parsed::Err { message, .. } => panic!("{message}"),
    }
}

#[test]
fn a_big_array_of_system_packages_parses() {
    // Measured: 33 bytes per input byte, 4.0 allocations per item.
    const BUDGET: Budget = Budget {
        bytes_per_input_byte: 160,
        allocations_per_item: 24,
    };
    let item = "\"build-essential\", ";
    let (parsed, _) = parse_big("system packages", big(), BUDGET, |size| {
        let count = size / item.len();
        let list = item.repeat(count);
        (
            format!("{MINIMAL}[build]\nsystem-packages = [{list}]\n"),
            count,
        )
    });
    match parsed {
        Parsed::Ok(spec) => assert!(!spec.build.system_packages.is_empty()),
        Parsed::Err { message, .. } => panic!("{message}"),
    }
}

#[test]
fn megabytes_of_comments_then_an_error_points_at_the_right_line() {
    // Measured: 14 bytes per input byte; 72 allocations in all.
    const BUDGET: Budget = Budget {
        bytes_per_input_byte: 64,
        allocations_per_item: 1,
    };
    let comments = "# a comment line of about sixty bytes, repeated many times\n";
    let (parsed, count) = parse_big("comments", big(), BUDGET, |size| {
        let count = size / comments.len();
        let source = format!("{}{MINIMAL}wokdir = 1\n", comments.repeat(count));
        (source, count)
    });
    let (line, column, message, rendered) = parsed.unwrap_err();
    assert_eq!((line, column), (count + 7, 1), "{message}");
    assert!(rendered.contains("wokdir = 1"), "{rendered}");
}

#[test]
fn a_1_mb_line_then_an_error_at_its_end() {
    // Measured: 10 bytes per input byte; 66 allocations in all.
    const BUDGET: Budget = Budget {
        bytes_per_input_byte: 48,
        allocations_per_item: 8,
    };
    // The column counts characters: 1 MB of `é` is 512 Ki characters.
    let chars = 1 << 19;
    let (parsed, _) = parse_big("1 MB line", chars, BUDGET, |chars| {
        let pad = "é".repeat(chars);
        let source = MINIMAL.replace(
            "[install]",
            &format!("labels = {{ a = \"{pad}\", b = 1 }}\n[install]"),
        );
        (source, 1)
    });
    let (line, column, message, rendered) = parsed.unwrap_err();
    assert_eq!(line, 4, "{message}");
    // `labels = { a = "` is 16 characters, then the padding and `", b = `.
    assert_eq!(column, 16 + chars + 8, "{message}");
    assert!(message.contains("string"), "{message}");
    assert!(rendered.contains("pyfront.toml:4:"), "{}", &rendered[..200]);
}

#[test]
fn interpolating_a_value_with_a_million_references_is_linear() {
    // `${A}`, an escaped `$$`, and a lone `$`.
    // Measured: 7.1 bytes per input byte, 1.0 allocation per reference.
    const BUDGET: Budget = Budget {
        bytes_per_input_byte: 40,
        allocations_per_item: 6,
    };
    let what = "references";
    let references = |size: usize| size / 14;
    let out = assert_scales_linearly(what, big(), |size| {
        let value = "${A}$${B:-x}$ ".repeat(references(size));
        let bytes = value.len();
        let out = within(what, move || {
            interpolate(&value, &build_args(&[("A", "1")])).map(|(v, used)| (v, used.len()))
        });
        assert_linear(what, out.allocated, bytes, references(size), BUDGET);
        out
    });
    let (v, used) = out.value.expect("interpolates");
    assert_eq!(v, "1${B:-x}$ ".repeat(references(big())));
    assert_eq!(used, references(big()));
}

fn indexes(count: usize) -> String {
    let mut source = String::from(MINIMAL);
    for i in 0..count {
        source.push_str(&format!(
            "\n[[index]]\nname = \"index-{i}\"\nurl = \"https://pypi{i}.example/simple\"\n"
        ));
    }
    source
}

#[test]
fn ten_thousand_indexes_parse() {
    // Measured: 65 bytes per input byte, 8.2 allocations per item.
    const BUDGET: Budget = Budget {
        bytes_per_input_byte: 320,
        allocations_per_item: 48,
    };
    match parse_big("indexes", 10_000, BUDGET, |count| (indexes(count), count)).0 {
        Parsed::Ok(spec) => assert_eq!(spec.indexes.len(), 10_000),
        Parsed::Err { message, .. } => panic!("{message}"),
    }
}

#[test]
fn a_duplicate_after_ten_thousand_indexes_is_found() {
    // Measured: 65 bytes per input byte, 8.2 allocations per item.
    const BUDGET: Budget = Budget {
        bytes_per_input_byte: 320,
        allocations_per_item: 48,
    };
    let input = |count| {
        let mut source = indexes(count);
        source
            .push_str("\n[[index]]\nname = \"index-0\"\nurl = \"https://again.example/simple\"\n");
        (source, count + 1)
    };
    let lines = input(10_000).0.lines().count();
    let (parsed, _) = parse_big("duplicate index", 10_000, BUDGET, input);
    let (line, column, message, _) = parsed.unwrap_err();
    assert_eq!(message, "index `index-0` is defined twice");
    assert_eq!((line, column), (lines - 1, 8));
}

#[test]
fn a_second_default_after_ten_thousand_indexes_is_found() {
    // Measured: 65 bytes per input byte, 8.2 allocations per item.
    const BUDGET: Budget = Budget {
        bytes_per_input_byte: 320,
        allocations_per_item: 48,
    };
    let (parsed, _) = parse_big("second default", 10_000, BUDGET, |count| {
        let mut source = indexes(count).replacen(
            "url = \"https://pypi0.example/simple\"",
            "url = \"https://pypi0.example/simple\"\ndefault = true",
            1,
        );
        source.push_str(
            "\n[[index]]\nname = \"last\"\nurl = \"https://last.example/simple\"\ndefault = true\n",
        );
        (source, count + 1)
    });
    let (_, _, message, _) = parsed.unwrap_err();
    assert_eq!(message, "only one index can have `default = true`");
}

// ---------------------------------------------------------------------------
// Depth: 10,000 levels must be an error or a parse, never a stack overflow.
// ---------------------------------------------------------------------------

const DEPTH: usize = 10_000;

fn deep(what: &str, nested: String) {
    // Both as an unknown key (the whole document is parsed before the keys
    // are checked) and as a known key of the wrong type.
    for source in [
        format!("{MINIMAL}{nested}\n"),
        MINIMAL.replace("\"requirements.txt\"", &nested.replacen("x = ", "", 1)),
    ] {
        let parsed = parse_bounded(what, source);
        assert!(matches!(parsed, Parsed::Err { .. }), "{what}: {parsed:?}");
    }
}

#[test]
fn deeply_nested_arrays_do_not_overflow_the_stack() {
    deep(
        "nested arrays",
        format!("x = {}{}", "[".repeat(DEPTH), "]".repeat(DEPTH)),
    );
}

#[test]
fn deeply_nested_inline_tables_do_not_overflow_the_stack() {
    deep(
        "nested inline tables",
        format!("x = {}1{}", "{ a = ".repeat(DEPTH), " }".repeat(DEPTH)),
    );
}

#[test]
fn deeply_nested_dotted_keys_and_headers_do_not_overflow_the_stack() {
    let path = vec!["a"; DEPTH].join(".");
    deep("dotted key", format!("x = 1\n{path} = 1"));
    deep("table header", format!("x = 1\n[{path}]\nb = 1"));
    deep(
        "array of tables header",
        format!("x = 1\n[[{path}]]\nb = 1"),
    );
}

#[test]
fn unclosed_nesting_is_an_error() {
    for open in ["[", "{ a = ", "[{ a = "] {
        let source = format!("{MINIMAL}x = {}", open.repeat(DEPTH));
        let parsed = parse_bounded("unclosed nesting", source);
        assert!(matches!(parsed, Parsed::Err { .. }), "{parsed:?}");
    }
}

// ---------------------------------------------------------------------------
// Encoding: invalid UTF-8, NUL, BOM, CRLF.
// ---------------------------------------------------------------------------

fn pyfront(subcommand: &str, spec: &[u8], context: &Path, extra: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pyfront.toml");
    std::fs::write(&file, spec).unwrap();
    Command::new(env!("CARGO_BIN_EXE_pyfront"))
        .current_dir(dir.path())
        .arg(subcommand)
        .arg("-f")
        .arg("pyfront.toml")
        .arg("--context")
        .arg(context)
        .args(extra)
        .output()
        .unwrap()
}

/// A context with the install inputs the specs below name: the requirement
/// file, and a uv project whose index is the clean spec's.
fn context() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("requirements.txt"), "six\n").unwrap();
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[project]\nname = \"app\"\nversion = \"0.1.0\"\n\n[[tool.uv.index]]\nname = \"private\"\nurl = \"https://pypi.example/simple\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("uv.lock"), "version = 1\n").unwrap();
    dir
}

fn assert_clean_failure(out: &Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert!(stderr.starts_with("error: "), "{what}: {stderr}");
    stderr
}

#[test]
fn invalid_utf8_is_a_clear_error() {
    let ctx = context();
    for bytes in [
        b"\xff\xfe[app]\n".to_vec(),
        [MINIMAL.as_bytes(), b"# caf\xe9\n"].concat(),
        b"[app]\nbase = \"py\xc3\"\n".to_vec(),
        b"\xc0\x80".to_vec(),
    ] {
        let out = pyfront("check", &bytes, ctx.path(), &[]);
        let stderr = assert_clean_failure(&out, "invalid UTF-8");
        assert!(stderr.contains("not valid UTF-8"), "{stderr}");
        assert!(stderr.contains("pyfront.toml"), "{stderr}");
    }
}

#[test]
fn raw_nul_and_control_bytes_are_toml_errors_at_their_position() {
    for (byte, name) in [
        ('\0', "NUL"),
        ('\u{1}', "SOH"),
        ('\u{7f}', "DEL"),
        ('\u{1b}', "ESC"),
    ] {
        for (source, at) in [
            (MINIMAL.replace("slim", &format!("sl{byte}im")), (2, 23)),
            (format!("{MINIMAL}# comment {byte}\n"), (7, 11)),
            (format!("{MINIMAL}k{byte}y = 1\n"), (7, 2)),
        ] {
            let (line, column, message, rendered) = parse_bounded(name, source).unwrap_err();
            assert_eq!((line, column), at, "{name}: {message}");
            assert!(
                !rendered.contains(byte),
                "{name}: raw byte echoed: {rendered:?}"
            );
        }
    }
}

#[test]
fn escaped_nul_is_rejected_or_kept_as_data_and_never_echoed_raw() {
    // The message becomes BuildKit's error text (`Display`): a raw NUL or
    // control character from the value must not be copied into it.
    let mut raw = Vec::new();
    for field in Field::ALL {
        let source = field.spec("a\0b\u{1b}[2Jc");
        let (_, _, message, _) = parse_bounded(field.name, source).unwrap_err_or_accepted(field);
        if message.chars().any(char::is_control) {
            raw.push(format!("{}: {message:?}", field.name));
        }
    }
    assert!(
        raw.is_empty(),
        "raw control characters in messages:\n{}",
        raw.join("\n")
    );
}

#[test]
fn a_bom_is_accepted_and_positions_ignore_it() {
    let bom = "\u{feff}";
    match parse_bounded("BOM", format!("{bom}{MINIMAL}")) {
        Parsed::Ok(_) => {}
        Parsed::Err { rendered, .. } => panic!("{rendered}"),
    }
    let (line, column, message, _) =
        parse_bounded("BOM + error", format!("{bom}wokdir = 1\n{MINIMAL}")).unwrap_err();
    assert_eq!((line, column), (1, 1), "{message}");
}

#[test]
fn crlf_line_endings_parse_and_keep_positions() {
    let crlf = MINIMAL.replace('\n', "\r\n");
    assert!(matches!(parse_bounded("CRLF", crlf.clone()), Parsed::Ok(_)));
    let bad = crlf.replace("python:3.12-slim", "Python:3.12-slim");
    let (line, column, message, rendered) = parse_bounded("CRLF + error", bad).unwrap_err();
    assert_eq!((line, column), (2, 8), "{message}");
    assert!(rendered.contains("pyfront.toml:2:8"), "{rendered}");
    assert!(!rendered.contains('\r'), "{rendered:?}");
    let unknown = format!("{crlf}wokdir = 1\r\n");
    let (line, column, _, _) = parse_bounded("CRLF + unknown key", unknown).unwrap_err();
    assert_eq!((line, column), (7, 1));
    // A lone CR is not a line ending in TOML.
    let lone = MINIMAL.replacen('\n', "\r", 1);
    assert!(matches!(parse_bounded("lone CR", lone), Parsed::Err { .. }));
}

#[test]
fn unicode_in_every_string_field_is_accepted_or_located() {
    for value in [
        "ñ日本🎉",
        "é\u{202e}x",
        "\u{200b}",
        "ｐｙｔｈｏｎ",
        "a\u{301}",
    ] {
        for field in Field::ALL {
            let source = field.spec(value);
            match parse_bounded(field.name, source.clone()) {
                Parsed::Ok(_) => {}
                Parsed::Err {
                    line,
                    column,
                    message,
                    ..
                } => {
                    field.assert_points_at_value(&source, line, column, &message);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Injection.
// ---------------------------------------------------------------------------

/// Appears in every payload; must never reach an exec's argv, env or cwd.
const MARK: &str = "PWNMARK";

/// Shell metacharacters, quotes, newlines, command substitution, option
/// injection, NUL, terminal escapes, and `$` forms the interpolation treats
/// specially. `${EVIL}` expands to a build arg holding a payload.
const PAYLOADS: &[&str] = &[
    "$(touch /tmp/PWNMARK)",
    "`touch /tmp/PWNMARK`",
    "x; touch /tmp/PWNMARK;",
    "x && touch /tmp/PWNMARK",
    "x | touch /tmp/PWNMARK",
    "x' \"PWNMARK",
    "x\\\" PWNMARK",
    "x\ntouch /tmp/PWNMARK",
    "x\r\nPWNMARK",
    "x\0PWNMARK",
    "-o PWNMARK",
    "--PWNMARK",
    "-PWNMARK",
    "x${IFS}PWNMARK",
    "$$(touch /tmp/PWNMARK)",
    "${EVIL}",
    "x-${EVIL:-PWNMARK}",
    "x\u{1b}]0;PWNMARK\u{7}",
    "../../PWNMARK",
    "PWNMARK*?[x]",
    "ñPWNMARK🎉",
];

const EVIL: &str = "$(touch /tmp/PWNMARK)`id`;\"'\n-PWNMARK";

/// A string field of the spec and how to write a spec where it holds a value.
#[derive(Clone, Copy)]
struct Field {
    name: &'static str,
    /// Spec text with `@name` where each TOML string goes.
    template: &'static str,
}

/// pip: every field but the uv/Poetry-only ones.
const SPEC_TEMPLATE: &str = r#"[app]
base = @app.base
workdir = @app.workdir
cmd = [@app.cmd, "-m", "app"]
entrypoint = [@app.entrypoint]
user = @app.user
expose = [@app.expose]
env = { @app.env-key = "1", A = @app.env }
labels = { @app.label-key = "1", a = @app.label }

[build]
base = @build.base
system-packages = ["cmake", @build.system-packages]

[install]
with = "pip"
requirements = ["requirements.txt", @install.requirements]

[[index]]
name = @index.name
url = @index.url
username = @index.username
password-secret = @index.password-secret
default = true

[[index]]
name = "other"
url = "https://other.example/simple"
username-secret = @index.username-secret
password-secret = "other_token"
"#;

/// uv: groups, extras, the tool version and index package routing.
const UV_TEMPLATE: &str = r#"[app]
base = "python:3.12-slim"

[install]
with = "uv"
groups = ["main", @install.groups]
extras = [@install.extras]
uv-version = @install.uv-version

[[index]]
name = "private"
url = "https://pypi.example/simple"
username = "ci"
password-secret = "pypi_token"
packages = ["acme-*", @index.packages]
"#;

const DEFAULTS: &[(&str, &str)] = &[
    ("app.base", "python:3.12-slim"),
    ("app.workdir", "/app"),
    ("app.cmd", "python"),
    ("app.entrypoint", "tini"),
    ("app.user", "app"),
    ("app.expose", "8080"),
    ("app.env-key", "B"),
    ("app.env", "1"),
    ("app.label-key", "b"),
    ("app.label", "1"),
    ("build.base", "python:3.12"),
    ("build.system-packages", "libpq-dev"),
    ("install.requirements", "dev.txt"),
    ("index.name", "private"),
    ("index.url", "https://pypi.example/simple"),
    ("index.username", "ci"),
    ("index.password-secret", "pypi_token"),
    ("index.username-secret", "other_user"),
    ("install.groups", "ml"),
    ("install.extras", "s3"),
    ("install.uv-version", "0.13.9"),
    ("index.packages", "acme-lib"),
];

const FIELDS: usize = DEFAULTS.len();

impl Field {
    const ALL: [Field; FIELDS] = {
        let mut all = [Field {
            name: "",
            template: SPEC_TEMPLATE,
        }; FIELDS];
        let mut i = 0;
        while i < FIELDS {
            all[i].name = DEFAULTS[i].0;
            if i >= 18 {
                all[i].template = UV_TEMPLATE;
            }
            i += 1;
        }
        all
    };

    /// The full spec with `value` in this field and defaults elsewhere.
    fn spec(self, value: &str) -> String {
        let mut out = self.template.to_owned();
        // Longest names first: `@app.env-key` before `@app.env`.
        let mut names: Vec<&(&str, &str)> = DEFAULTS.iter().collect();
        names.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
        for (name, default) in names {
            let v = if *name == self.name { value } else { default };
            out = out.replace(&format!("@{name}"), &toml_str(v));
        }
        out
    }

    /// An error's position must be inside this field's value on its line.
    fn assert_points_at_value(self, source: &str, line: usize, column: usize, message: &str) {
        let text = source.lines().nth(line - 1).unwrap_or_default();
        let key = self.name.rsplit('.').next().unwrap();
        let key = key.trim_end_matches("-key");
        assert!(
            text.contains(key) || text.contains(&key.replace("label", "labels")),
            "{}: error at {line}:{column} ({message}) is on line {text:?}",
            self.name
        );
        let chars = text.chars().count();
        assert!(
            column >= 1 && column <= chars + 1,
            "{}: column {column} past {text:?}",
            self.name
        );
    }
}

impl Parsed {
    /// For NUL: some fields reject it, others (not interpolated) may keep
    /// it as data; both are fine as long as nothing panics.
    fn unwrap_err_or_accepted(self, field: Field) -> (usize, usize, String, String) {
        match self {
            Self::Err {
                line,
                column,
                message,
                rendered,
                ..
            } => (line, column, message, rendered),
            Self::Ok(_) => {
                assert!(
                    ACCEPTS_NUL.contains(&field.name),
                    "{}: NUL accepted",
                    field.name
                );
                (0, 0, String::new(), String::new())
            }
        }
    }
}

/// Fields that keep a NUL as data (they reach only the image config JSON).
const ACCEPTS_NUL: &[&str] = &["app.label-key"];

/// The apt step of a successful `pyfront llb --json`, if any, and every
/// check that the output holds spec values only as data.
fn check_llb(json: &Value, what: &str, apt_script: Option<&str>) -> Option<String> {
    let mut script = None;
    for op in json["ops"].as_array().unwrap() {
        let op = &op["op"];
        if let Some(exec) = op.get("exec") {
            let args: Vec<&str> = exec["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            let env = exec["env"].as_array().unwrap();
            let cwd = exec["cwd"].as_str().unwrap();
            for text in args
                .iter()
                .copied()
                .chain(env.iter().map(|e| e.as_str().unwrap()))
                .chain([cwd])
            {
                assert!(
                    !text.contains(MARK),
                    "{what}: spec value in an exec: {text:?}\n{args:?}"
                );
            }
            let shell = args.first().is_some_and(|a| a.ends_with("sh")) || args.contains(&"-c");
            if shell {
                assert_eq!(&args[1..2], ["-c"], "{what}: {args:?}");
                assert_eq!(args[3], "pyfront-apt", "{what}: {args:?}");
                assert!(args[2].contains("\"$@\""), "{what}: {args:?}");
                if let Some(expected) = apt_script {
                    assert_eq!(
                        args[2], expected,
                        "{what}: the apt script changed with the spec"
                    );
                }
                for package in &args[4..] {
                    assert!(!package.starts_with('-'), "{what}: apt option {package:?}");
                    assert!(
                        package
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "+-.=~:".contains(c)),
                        "{what}: apt argument {package:?}"
                    );
                }
                assert!(script.is_none(), "{what}: two shell steps");
                script = Some(args[2].to_owned());
            }
        }
        // Patterns and helper files are JSON inside strings: they must parse.
        if let Some(attrs) = op.pointer("/source/attrs").and_then(Value::as_object) {
            for (key, value) in attrs {
                if key.ends_with("pattern") || key.ends_with("patterns") {
                    let list: Vec<String> = serde_json::from_str(value.as_str().unwrap())
                        .unwrap_or_else(|e| panic!("{what}: {key} is not JSON: {e}"));
                    let _ = list;
                }
            }
        }
        if let Some(actions) = op.get("file").and_then(Value::as_array) {
            for a in actions {
                if let Some(mkfile) = a.pointer("/action/mkfile") {
                    let path = mkfile["path"].as_str().unwrap();
                    if path.ends_with(".json") {
                        let data = mkfile["data"].as_str().unwrap();
                        serde_json::from_str::<Value>(data)
                            .unwrap_or_else(|e| panic!("{what}: {path} is not JSON: {e}"));
                    }
                }
            }
        }
    }
    script
}

fn llb_json(spec: &str, ctx: &Path) -> Result<Value, String> {
    let out = pyfront(
        "llb",
        spec.as_bytes(),
        ctx,
        &["--json", "--build-arg", &format!("EVIL={EVIL}")],
    );
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).unwrap())
    } else {
        Err(assert_clean_failure(&out, "llb"))
    }
}

#[test]
fn injected_values_are_rejected_or_stay_data_in_the_llb() {
    let ctx = context();
    std::fs::write(ctx.path().join("dev.txt"), "").unwrap();
    // The apt script of a clean spec: every other run must emit it unchanged.
    let clean = Field::ALL[0].spec(DEFAULTS[0].1);
    let baseline = llb_json(&clean, ctx.path()).expect("the clean spec builds");
    let script = check_llb(&baseline, "clean", None).expect("an apt step");
    assert!(
        !script.contains("cmake") && !script.contains("libpq"),
        "{script}"
    );
    let uv = Field::ALL[FIELDS - 1].spec(DEFAULTS[FIELDS - 1].1);
    let uv = llb_json(&uv, ctx.path()).expect("the clean uv spec builds");
    check_llb(&uv, "clean uv", Some(&script));

    let cases: Vec<(Field, &str)> = Field::ALL
        .iter()
        .flat_map(|f| PAYLOADS.iter().map(move |p| (*f, *p)))
        .collect();
    let accepted = std::sync::Mutex::new(BTreeMap::<&str, Vec<&str>>::new());
    std::thread::scope(|s| {
        for chunk in cases.chunks(cases.len().div_ceil(4)) {
            let (ctx, script, accepted) = (ctx.path(), &script, &accepted);
            s.spawn(move || {
                for (field, payload) in chunk {
                    let what = format!("{} = {payload:?}", field.name);
                    let spec = field.spec(payload);
                    match llb_json(&spec, ctx) {
                        Ok(json) => {
                            check_llb(&json, &what, Some(script));
                            accepted
                                .lock()
                                .unwrap()
                                .entry(field.name)
                                .or_default()
                                .push(payload);
                        }
                        Err(stderr) => {
                            // The diagnostic names a position and repeats no
                            // raw control character (a terminal escape in a
                            // value must not reach the build output).
                            assert!(stderr.contains("pyfront.toml:"), "{what}: {stderr}");
                            assert!(
                                !stderr.chars().any(|c| c.is_control() && c != '\n'),
                                "{what}: control character in {stderr:?}"
                            );
                        }
                    }
                }
            });
        }
    });
    // Fields that must reject every payload: they are validated names.
    let accepted = accepted.into_inner().unwrap();
    for (field, payloads) in &accepted {
        eprintln!("accepted as data: {field}: {payloads:?}");
    }
    for strict in [
        "app.base",
        "build.base",
        "app.expose",
        "app.env-key",
        "build.system-packages",
        "index.name",
        "index.password-secret",
        "index.username-secret",
    ] {
        assert_eq!(accepted.get(strict), None, "{strict} accepted a payload");
    }
}

#[test]
fn injected_values_reach_the_image_config_only_as_json_data() {
    let args = build_args(&[("EVIL", EVIL)]);
    for field in [
        "app.cmd",
        "app.entrypoint",
        "app.env",
        "app.label",
        "app.label-key",
        "app.user",
        "app.workdir",
    ] {
        let field = Field::ALL.iter().find(|f| f.name == field).unwrap();
        for payload in PAYLOADS {
            let spec = match Spec::parse(&field.spec(payload), &args) {
                Ok(spec) => spec,
                Err(_) => continue,
            };
            let expected =
                interpolate(payload, &args).map_or_else(|_| (*payload).to_owned(), |(v, _)| v);
            let config = runtime_config(
                BaseConfig::default(),
                &spec.app,
                &BTreeMap::new(),
                &[],
                "2026-01-01T00:00:00Z",
            );
            let json: Value = serde_json::from_slice(&config.to_json()).unwrap();
            let c = &json["config"];
            let found = match field.name {
                "app.cmd" => c["Cmd"][0] == expected.as_str(),
                "app.entrypoint" => c["Entrypoint"][0] == expected.as_str(),
                "app.env" => c["Env"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e.as_str() == Some(&format!("A={expected}"))),
                "app.label" => c["Labels"]["a"] == expected.as_str(),
                "app.label-key" => c["Labels"].get(payload).is_some(),
                "app.user" => c["User"] == expected.as_str(),
                // Normalized (`/app/x/../y` would have been rejected).
                _ => c["WorkingDir"].as_str().unwrap().contains(MARK),
            };
            assert!(
                found,
                "{} = {payload:?}: not found as data in {c}",
                field.name
            );
        }
    }
}

#[test]
fn dockerignore_lines_stay_data() {
    let ctx = context();
    let ignore: String = PAYLOADS.iter().map(|p| format!("{p}\n")).collect();
    std::fs::write(ctx.path().join(".dockerignore"), ignore).unwrap();
    let json = llb_json(MINIMAL, ctx.path()).unwrap();
    check_llb(&json, ".dockerignore", None);
}

// ---------------------------------------------------------------------------
// Diagnostics never panic.
// ---------------------------------------------------------------------------

fn every_kind() -> Vec<SpecErrorKind> {
    let s = || "v\u{e9}\0\n".to_owned();
    vec![
        SpecErrorKind::Toml { message: s() },
        SpecErrorKind::NotUtf8,
        SpecErrorKind::MissingBuildArg { name: s() },
        SpecErrorKind::BadInterpolation { reason: s() },
        SpecErrorKind::InvalidImageRef {
            value: s(),
            reason: s(),
        },
        SpecErrorKind::CredentialsInUrl,
        SpecErrorKind::LooksLikeToken { what: "x" },
        SpecErrorKind::InvalidUrl {
            value: DisplaySafeUrl::new(s()),
            reason: s(),
        },
        SpecErrorKind::InvalidName {
            what: "x",
            value: s(),
            reason: "y",
        },
        SpecErrorKind::InvalidUser { value: s() },
        SpecErrorKind::DuplicateIndex { name: s() },
        SpecErrorKind::MultipleDefaultIndexes,
        SpecErrorKind::UsernameConflict { name: s() },
        SpecErrorKind::IncompleteCredentials {
            name: s(),
            given: "a",
            missing: "b",
        },
        SpecErrorKind::EmptyRequirements,
        SpecErrorKind::InvalidPath {
            value: s(),
            reason: "z",
        },
        SpecErrorKind::InvalidPort { value: s() },
        SpecErrorKind::MissingContextFile { path: s() },
    ]
}

#[test]
fn diagnostics_render_for_any_span_and_source() {
    let sources = [
        "",
        "\n",
        "é",
        "🎉\n",
        "a\r\nb\r\n",
        "url = \"https://u:p@h/\"",
        "url = \"https://u:p@",
        "@://:@",
        "\u{feff}x",
        MINIMAL,
    ];
    for source in sources {
        let len = source.len();
        let mut spans = vec![None];
        for start in [0, 1, 2, 3, len.saturating_sub(1), len, len + 1, usize::MAX] {
            for end in [
                0,
                1,
                2,
                start,
                start.saturating_add(1),
                len,
                len + 7,
                usize::MAX,
            ] {
                spans.push(Some(start..end));
            }
        }
        for kind in every_kind() {
            for span in &spans {
                let error = SpecError {
                    span: span.clone(),
                    kind: kind.clone(),
                };
                let d = Diagnostic::new("pyfront.toml", source, &error);
                let rendered = d.render();
                let display = d.to_string();
                let _ = d.end_line_column();
                assert!(d.line >= 1 && d.column >= 1, "{source:?} {span:?}");
                assert!(display.starts_with("pyfront.toml:"), "{display}");
                assert!(rendered.starts_with("error"), "{rendered}");
                if kind == SpecErrorKind::CredentialsInUrl && source.contains("u:p@h") {
                    let whole = Some(7..source.len() - 1);
                    if *span == whole {
                        assert!(!rendered.contains("u:p@"), "{rendered}");
                    }
                }
            }
        }
    }
}

#[test]
fn diagnostics_from_real_errors_render_for_odd_sources() {
    // Each source fails somewhere odd: at EOF, inside a multi-byte character,
    // after CRLF, in an empty file.
    for source in [
        "",
        "\u{feff}",
        "[app",
        "[app]\nbase = \"é",
        "[app]\nbase = 'python:3.12'\u{e9}",
        "[app]\r\nbase = \"🎉\"\r\n",
        "é = 1",
        "[[index]]\nname = \"\"\nurl = \"x\"",
        "x = \"${",
        "x = \"\\u0000\"",
        "[app]\nbase = \"python:${A:-}\"\n[install]\nwith = \"pip\"\nrequirements = [\"${B\"]",
    ] {
        match parse_bounded("odd source", source.to_owned()) {
            Parsed::Ok(spec) => panic!("{source:?} parsed: {spec:?}"),
            Parsed::Err {
                line,
                column,
                display,
                ..
            } => {
                assert!(line >= 1 && column >= 1, "{source:?}: {display}");
            }
        }
    }
}
