use super::*;

/// The cases the Python reference (`src/redact_rules_test.py`) passes
/// too.
const CASES: &str = include_str!("../redact_cases.json");

#[test]
fn the_shared_cases_pass() {
    let cases: serde_json::Value = serde_json::from_str(CASES).unwrap();
    assert_eq!(cases["version"], 1);
    let names = cases["names"].as_array().unwrap();
    let texts = cases["text"].as_array().unwrap();
    assert!(!names.is_empty() && !texts.is_empty());
    for case in names {
        let name = case["name"].as_str().unwrap();
        let secret = case["secret"].as_bool().unwrap();
        assert_eq!(looks_secret_name(name), secret, "{name}");
    }
    for case in texts {
        let why = case["why"].as_str().unwrap();
        let input = case["input"].as_str().unwrap();
        let masked = case["masked"].as_str().unwrap();
        assert_eq!(redact_text(input), masked, "{why}");
        assert_eq!(redact_text(masked), masked, "{why}: masking twice");
        // The byte-for-byte form finds the same secrets.
        let spec = redact_spec(input);
        assert_eq!(spec.len(), input.len(), "{why}");
        assert_eq!(redact_text(&spec), spec, "{why}: spec form");
    }
}

#[test]
fn secrets_are_masked_byte_for_byte() {
    let source = concat!(
        "[[index]]\n",
        "url = \"https://user:glpat-XYZ@host/simple\"\n",
        "password = \"tok\\\"en\"\n",
        "password-secret = \"pypi_token\"\n",
        "env = { API_KEY = 'k1', OTHER = \"shown\" }\n",
        "username = \"https://TOKEN@host\"\n",
        "token = bare-value # a TOML error, shown in a diagnostic\n",
        "cmd = [\"glpat-0123456789abcdefghij\"]\n",
        "api-key = '''\nline\n'''\n",
    );
    let data = redact_spec(source);
    assert_eq!(data.len(), source.len());
    assert_eq!(
        data,
        concat!(
            "[[index]]\n",
            "url = \"https://user:*********@host/simple\"\n",
            "password = \"*******\"\n",
            "password-secret = \"pypi_token\"\n",
            "env = { API_KEY = '**', OTHER = \"shown\" }\n",
            "username = \"https://*****@host\"\n",
            "token = ********** # a TOML error, shown in a diagnostic\n",
            "cmd = [\"**************************\"]\n",
            "api-key = '''\n****\n'''\n",
        )
    );
    // Masking what is masked changes nothing, in either form.
    assert_eq!(redact_spec(&data), data);
    assert_eq!(redact_text(&data), data);
}

#[test]
fn known_secrets_are_masked_where_messages_quote_them() {
    let source = "url = \"https://user:glpat-XYZ@host/simple\"\n";
    let args = BTreeMap::from([
        ("CI_JOB_TOKEN".to_owned(), "plain-value".to_owned()),
        ("HOST".to_owned(), "example.com".to_owned()),
        ("GH_PAT".to_owned(), "abc".to_owned()),
    ]);
    let known = KnownSecrets::new(source, &args);
    assert_eq!(
        known.mask("a glpat-XYZ b `ftp://x/plain-value` example.com abc"),
        "a **** b `ftp://x/****` example.com abc"
    );
    assert_eq!(known.mask("glpat-XYZW"), "glpat-XYZW");
}

/// The work (bytes the scans look at, see `work`) to mask `unit` repeated
/// `copies` times; the result must hide every token.
fn work_for(unit: &str, copies: usize) -> usize {
    let text = unit.repeat(copies);
    let (masked, work) = work::of(|| redact_text(&text));
    assert!(!masked.contains("glpat-0123456789abcdefghij"), "{unit:?}");
    work
}

/// Linear: doubling the input at most doubles the work (a quadratic scan
/// would quadruple it), and the work per input byte stays small. Counted,
/// not timed.
#[test]
fn large_inputs_stay_linear() {
    let units = [
        // Every rule at once, as before.
        "token = \"x\" url = \"https://u:p@h/\" glpat-0123456789abcdefghij == = ",
        // Scans that could run on to the end of the text each time: an
        // unterminated quote or triple quote, an authority without an end,
        // token prefixes with too short a body, names without a value.
        "password = \"glpat-0123456789abcdefghij ",
        "password = \"\"\"glpat-0123456789abcdefghij ",
        "https://u:glpat-0123456789abcdefghij@",
        "glpat-x ghp_ pypi- ",
        "token token-token == != ",
    ];
    for unit in units {
        let once = work_for(unit, 1_000);
        let twice = work_for(unit, 2_000);
        eprintln!("{unit:?}: {once} then {twice} bytes looked at");
        assert!(twice <= 2 * once + 1_000, "{unit:?}: {once} then {twice}");
        let per_byte = twice / (2_000 * unit.len());
        assert!(per_byte <= 64, "{unit:?}: {per_byte} per byte");
    }
}
