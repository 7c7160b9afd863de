//! Arbitrary bytes as a spec: parsing, validation and error rendering must
//! never panic, whatever the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyfront::spec::{BuildArgs, Diagnostic, Spec};

fuzz_target!(|data: &[u8]| {
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
});
