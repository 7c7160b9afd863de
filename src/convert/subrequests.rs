//! Subrequests (`requestid` opt): `frontend.outline`, `frontend.targets`,
//! `frontend.lint` and `frontend.subrequests.describe`, so that `docker
//! buildx build --call=outline` (buildx 0.13: `--print=outline` with
//! `BUILDX_EXPERIMENTAL=1`) tells a user which build args and which
//! `--secret` flags a spec needs, and `--check` (`--call=check`, buildx 0.15+)
//! shows pyfront's lint warnings, without building.
//!
//! Results are metadata only (`result.json`, `result.txt`, `version`), in
//! the JSON shapes of BuildKit's `frontend/subrequests` packages.

use std::collections::BTreeMap;

use serde::Serialize;

use super::go_json::{base64, Range};
use crate::lint::Warning;
use crate::options::{Subrequest, DESCRIBE, LINT, OUTLINE, TARGETS};
use crate::redact::{looks_secret_name, mask, redact_spec, Redacted};
use crate::source::SourceRange;
use crate::spec::Spec;

const VERSION: &str = "1.0.0";

/// `pb.Location` as Go's encoding/json writes it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    source_index: i32,
    ranges: Vec<Range>,
}

/// The whole lines of `range`.
fn location(range: SourceRange) -> Location {
    Location {
        source_index: 0,
        ranges: vec![Range::from(range.whole_lines())],
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Arg {
    name: String,
    description: String,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Secret {
    name: String,
    /// Which indexes read it, and as what.
    description: String,
    required: bool,
    location: Location,
    #[serde(skip)]
    line: usize,
}

#[derive(Serialize)]
struct Outline {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    args: Vec<Arg>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    secrets: Vec<Secret>,
    sources: Vec<String>,
}

/// `${NAME:-default}` defaults written in the spec, by name.
fn defaults(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        rest = &rest[at + 2..];
        let Some(close) = rest.find('}') else { break };
        if let Some((name, default)) = rest[..close].split_once(":-") {
            out.entry(name.to_owned())
                .or_insert_with(|| default.to_owned());
        }
        rest = &rest[close + 1..];
    }
    out
}

/// Parses the spec for an outline: build args the user has not passed yet
/// get placeholders (first a plain word, then, where a field needs a URL,
/// an `https://` one), so the outline can list them instead of failing.
pub fn parse_for_outline(
    options: &crate::options::BuildOptions,
    source: &[u8],
) -> Result<Spec, crate::convert::ConvertError> {
    use crate::spec::SpecErrorKind;
    const WORD: &str = "pyfront-unset";
    const URL: &str = "https://pyfront-unset.invalid";
    let Ok(text) = std::str::from_utf8(source) else {
        return crate::convert::parse_spec(&options.filename, source, options);
    };
    let mut args = options.build_args.clone();
    let mut placeholders: Vec<String> = Vec::new();
    for _ in 0..64 {
        let error = match Spec::parse(text, &args) {
            Ok(spec) => return Ok(spec),
            Err(e) => e,
        };
        if let SpecErrorKind::MissingBuildArg { name } = &error.kind {
            args.insert(name.clone(), WORD.to_owned());
            placeholders.push(name.clone());
            continue;
        }
        // A placeholder in a field that needs a URL: find the one whose URL
        // form changes the error.
        let fixed = placeholders.iter().find(|name| {
            if args.get(*name).map(String::as_str) != Some(WORD) {
                return false;
            }
            let mut trial = args.clone();
            trial.insert((*name).clone(), URL.to_owned());
            Spec::parse(text, &trial).err().is_none_or(|e| e != error)
        });
        match fixed.cloned() {
            Some(name) => {
                args.insert(name, URL.to_owned());
            }
            None => break,
        }
    }
    let mut options = options.clone();
    options.build_args = args;
    crate::convert::parse_spec(&options.filename, source, &options)
}

/// The result metadata of `request` for `spec` (file `filename`, text
/// `text`). Every text in it went through the redaction policy; the spec
/// goes into `sources` as `redact_spec` gives it.
pub fn result(
    request: Subrequest,
    spec: Option<(&Spec, &str)>,
    filename: &str,
) -> BTreeMap<String, Vec<u8>> {
    let (json, txt) = match (request, spec) {
        (Subrequest::Describe, _) | (_, None) => describe(),
        (Subrequest::Outline, Some((spec, text))) => outline(spec, text, filename, true),
        (Subrequest::Targets, Some((spec, _))) => targets(spec),
        // The frontend answers a lint request with `lint_result` after the
        // conversion (the lints need the base images' configs); a spec
        // alone has no findings of its own.
        (Subrequest::Lint, Some((_, text))) => return lint_result(&[], text, filename),
    };
    BTreeMap::from([
        ("result.json".to_owned(), json.into_bytes()),
        ("result.txt".to_owned(), txt.into_bytes()),
        ("version".to_owned(), VERSION.as_bytes().to_vec()),
    ])
}

/// `lint.Source` of BuildKit's `frontend/subrequests/lint`.
#[derive(Serialize)]
struct LintSource {
    #[serde(rename = "fileName")]
    filename: String,
    language: &'static str,
    definition: Option<()>,
    /// The spec as the redaction policy shows it.
    data: String,
}

/// `lint.Warning`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LintWarning {
    rule_name: &'static str,
    description: String,
    detail: String,
    location: Location,
}

/// `lint.LintResults`.
#[derive(Serialize)]
struct LintResults {
    warnings: Vec<LintWarning>,
    sources: Vec<LintSource>,
}

/// The answer to `frontend.lint` (`docker buildx build --check`): the
/// warnings a build of the spec `text` reports, in BuildKit's shape, with
/// `result.statuscode` 1 when there are any (buildx's exit code). buildx
/// prints each warning's source lines, so every warning has a location:
/// its span's whole lines, or the first line for a warning about the spec
/// as a whole.
pub fn lint_result(warnings: &[Warning], text: &str, filename: &str) -> BTreeMap<String, Vec<u8>> {
    let redacted = redact_spec(text);
    let map = crate::source::SourceMap::new(filename, redacted.as_str());
    let first_line = 0..redacted.find('\n').unwrap_or(redacted.len());
    let results = LintResults {
        warnings: warnings
            .iter()
            .map(|w| LintWarning {
                rule_name: w.rule,
                description: w.message.as_str().to_owned(),
                // What buildx prints under the rule's name: the finding and
                // its fix, as the build's one-line form has them.
                detail: match &w.hint {
                    Some(hint) => format!("{} (hint: {hint})", w.message),
                    None => w.message.as_str().to_owned(),
                },
                location: location(map.range(w.span.clone().unwrap_or(first_line.clone()))),
            })
            .collect(),
        sources: vec![LintSource {
            filename: shown(filename),
            language: "TOML",
            definition: None,
            data: base64(redacted.as_bytes()),
        }],
    };
    let mut txt = String::new();
    for w in warnings {
        let at = map.range(w.span.clone().unwrap_or(first_line.clone()));
        txt.push_str(&format!(
            "{}:{}: warning: {w}\n",
            shown(filename),
            at.start.line
        ));
        if let Some(hint) = &w.hint {
            txt.push_str(&format!("  hint: {hint}\n"));
        }
    }
    if warnings.is_empty() {
        txt.push_str("no warnings\n");
    }
    let status = if warnings.is_empty() { "0" } else { "1" };
    BTreeMap::from([
        (
            "result.json".to_owned(),
            serde_json::to_string_pretty(&results)
                .unwrap_or_default()
                .into_bytes(),
        ),
        ("result.txt".to_owned(), txt.into_bytes()),
        ("result.statuscode".to_owned(), status.as_bytes().to_vec()),
        ("version".to_owned(), VERSION.as_bytes().to_vec()),
    ])
}

/// The outline as `pyfront check` prints it: the `result.txt` of
/// `frontend.outline`.
pub fn outline_text(spec: &Spec, text: &str, filename: &str) -> String {
    outline(spec, text, filename, false).1
}

/// The text of an outline field, through the policy.
fn shown(text: &str) -> String {
    Redacted::new(text).into_string()
}

/// The outline as JSON and text; `with_source`: the redacted spec in
/// `sources` (not needed by `pyfront check`).
fn outline(spec: &Spec, text: &str, filename: &str, with_source: bool) -> (String, String) {
    let defaults = defaults(text);
    let args: Vec<Arg> = spec
        .used_build_args
        .iter()
        .map(|name| {
            let default = defaults.get(name).map_or("", String::as_str);
            Arg {
                name: shown(name),
                description: shown(&format!("interpolated into {filename}")),
                // A secret-looking arg's default is a secret whatever it
                // looks like (`${CI_JOB_TOKEN:-...}`).
                value: if looks_secret_name(name) && !default.is_empty() {
                    mask().to_owned()
                } else {
                    shown(default)
                },
            }
        })
        .collect();
    let map = crate::source::SourceMap::new(filename, text);
    let mut secrets: Vec<Secret> = Vec::new();
    for index in &spec.indexes {
        for (id, role) in index.secrets() {
            let use_ = shown(&format!("{role} of index `{}`", index.name.as_str()));
            let name = shown(id.as_str());
            match secrets.iter_mut().find(|s| s.name == name) {
                Some(known) => known.description.push_str(&format!(", {use_}")),
                None => {
                    let range = map.range(index.span.clone());
                    secrets.push(Secret {
                        name,
                        description: use_,
                        required: true,
                        location: location(range),
                        line: range.start.line,
                    });
                }
            }
        }
    }
    let mut args_txt = String::from("BUILD ARG\tDEFAULT\tDESCRIPTION\n");
    for a in &args {
        args_txt.push_str(&format!("{}\t{}\t{}\n", a.name, a.value, a.description));
    }
    let mut secrets_txt = String::from(
        "SECRET	REQUIRED	USED AS	PASS IT WITH
",
    );
    for s in &secrets {
        secrets_txt.push_str(&format!(
            "{}	true	{} ({}:{})	--secret id={},env=VARIABLE (or src=FILE)
",
            s.name,
            s.description,
            shown(filename),
            s.line,
            s.name
        ));
    }
    // An empty table says so: a user (and a snapshot) can tell "needs
    // nothing" from "printed nothing".
    let txt = match (args.is_empty(), secrets.is_empty()) {
        (true, true) => "no build args, no secrets
"
        .to_owned(),
        (true, false) => format!(
            "no build args

{secrets_txt}"
        ),
        (false, true) => format!(
            "{args_txt}
no secrets
"
        ),
        (false, false) => format!(
            "{args_txt}
{secrets_txt}"
        ),
    };
    let sources = if with_source {
        vec![base64(redact_spec(text).as_bytes())]
    } else {
        Vec::new()
    };
    let outline = Outline {
        args,
        secrets,
        sources,
    };
    (
        serde_json::to_string_pretty(&outline).unwrap_or_default(),
        txt,
    )
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TargetList {
    targets: Vec<Target>,
}

#[derive(Serialize)]
struct Target {
    name: &'static str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    default: bool,
    description: &'static str,
    base: String,
}

fn targets(spec: &Spec) -> (String, String) {
    let list = TargetList {
        targets: vec![
            Target {
                name: "app",
                default: true,
                description: "the runtime image: venv and app code on the app base",
                base: shown(&spec.app.base.original),
            },
            Target {
                name: "builder",
                default: false,
                description: "the builder stage with the installed venv",
                base: shown(&spec.build.base.original),
            },
        ],
    };
    let txt = "TARGET\tDESCRIPTION\napp (default)\tthe runtime image\nbuilder\tthe builder stage with the installed venv\n".to_owned();
    (serde_json::to_string_pretty(&list).unwrap_or_default(), txt)
}

#[derive(Serialize)]
struct Request {
    name: &'static str,
    version: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    description: &'static str,
    metadata: Vec<Named>,
}

#[derive(Serialize)]
struct Named {
    name: &'static str,
}

fn describe() -> (String, String) {
    let request = |name, description| Request {
        name,
        version: VERSION,
        kind: "rpc",
        description,
        metadata: vec![Named {
            name: "result.json",
        }],
    };
    let list = vec![
        request(OUTLINE, "List the build args and secrets the spec needs"),
        request(TARGETS, "List the targets: app (default) and builder"),
        request(LINT, "Lint the spec: the warnings a build reports"),
        request(DESCRIBE, "List the subrequests this frontend supports"),
    ];
    let txt = format!("{OUTLINE}\n{TARGETS}\n{LINT}\n{DESCRIBE}\n");
    (serde_json::to_string_pretty(&list).unwrap_or_default(), txt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::BuildArgs;

    const SPEC: &str = "[app]\nbase = \"python:3.11\"\n[install]\nwith = \"pip\"\nrequirements = [\"r.txt\"]\n[[index]]\nname = \"p\"\nurl = \"${API:-https://x.example}/simple\"\nusername = \"u\"\npassword-secret = \"pypi_token\"\n";

    #[test]
    fn outline_lists_args_and_secrets_with_locations() {
        let spec = Spec::parse(SPEC, &BuildArgs::new()).unwrap();
        let meta = result(Subrequest::Outline, Some((&spec, SPEC)), "pyfront.toml");
        let json: serde_json::Value = serde_json::from_slice(&meta["result.json"]).unwrap();
        assert_eq!(json["args"][0]["Name"], "API");
        assert_eq!(json["args"][0]["Value"], "https://x.example");
        assert_eq!(json["secrets"][0]["Name"], "pypi_token");
        assert_eq!(json["secrets"][0]["Required"], true);
        assert_eq!(
            json["secrets"][0]["Location"]["ranges"][0]["start"]["line"],
            6
        );
        let txt = String::from_utf8(meta["result.txt"].clone()).unwrap();
        assert!(txt.contains("--secret id=pypi_token,env=VARIABLE"), "{txt}");
    }

    #[test]
    fn an_empty_outline_says_so() {
        let txt = |spec: &str| {
            let parsed = Spec::parse(spec, &BuildArgs::new()).unwrap();
            outline_text(&parsed, spec, "pyfront.toml")
        };
        let plain = "[app]\nbase = \"python:3.11\"\n[install]\nwith = \"pip\"\nrequirements = [\"r.txt\"]\n";
        assert_eq!(txt(plain), "no build args, no secrets\n");
        let no_secrets = SPEC
            .replace("username = \"u\"\n", "")
            .replace("password-secret = \"pypi_token\"\n", "");
        assert_eq!(
            txt(&no_secrets),
            "BUILD ARG\tDEFAULT\tDESCRIPTION\nAPI\thttps://x.example\tinterpolated into pyfront.toml\n\nno secrets\n"
        );
        let no_args = SPEC.replace("${API:-https://x.example}", "https://x.example");
        assert!(
            txt(&no_args).starts_with("no build args\n\nSECRET\t"),
            "{}",
            txt(&no_args)
        );
    }

    #[test]
    fn lint_answers_in_buildkits_shape_with_a_location_each() {
        let text = "[app]\nbase = \"python:3.11\"\n[install]\nwith = \"pip\"\nrequirements = [\"r.txt\"]\n[[index]]\nname = \"p\"\nurl = \"http://pypi.example/simple\"\nusername = \"u\"\npassword-secret = \"pypi_token\"\n";
        let spec = Spec::parse(text, &BuildArgs::new()).unwrap();
        let passed = std::collections::BTreeSet::from(["API_TOKEN".to_owned()]);
        let warnings = crate::lint::lint(&spec, &passed, None);
        assert!(warnings.iter().any(|w| w.span.is_none()), "{warnings:?}");
        let meta = lint_result(&warnings, text, "pyfront.toml");
        let json: serde_json::Value = serde_json::from_slice(&meta["result.json"]).unwrap();
        let found = json["warnings"].as_array().unwrap();
        assert_eq!(found.len(), warnings.len());
        let http = found
            .iter()
            .find(|w| w["ruleName"] == "plain-http-index")
            .unwrap();
        assert!(http["description"].as_str().unwrap().contains("plain HTTP"));
        let detail = http["detail"].as_str().unwrap();
        assert!(
            detail.ends_with("(hint: use an `https://` URL)"),
            "{detail}"
        );
        // The index's `[[index]]` header, line 6.
        assert_eq!(http["location"]["ranges"][0]["start"]["line"], 6);
        assert_eq!(http["location"]["ranges"][0]["end"]["line"], 6);
        // buildx prints the source lines of every warning's first range.
        assert!(found
            .iter()
            .all(|w| w["location"]["ranges"][0]["start"]["line"]
                .as_i64()
                .is_some_and(|l| l >= 1)));
        assert_eq!(json["sources"][0]["fileName"], "pyfront.toml");
        assert_eq!(json["sources"][0]["language"], "TOML");
        assert_eq!(meta["result.statuscode"], b"1");
        let none = lint_result(&[], text, "pyfront.toml");
        assert_eq!(none["result.statuscode"], b"0");
        let json: serde_json::Value = serde_json::from_slice(&none["result.json"]).unwrap();
        assert_eq!(json["warnings"], serde_json::json!([]));
    }

    #[test]
    fn targets_and_describe() {
        let spec = Spec::parse(SPEC, &BuildArgs::new()).unwrap();
        let meta = result(Subrequest::Targets, Some((&spec, SPEC)), "pyfront.toml");
        let json: serde_json::Value = serde_json::from_slice(&meta["result.json"]).unwrap();
        assert_eq!(json["Targets"][0]["name"], "app");
        assert_eq!(json["Targets"][0]["default"], true);
        let meta = result(Subrequest::Describe, None, "");
        let json: serde_json::Value = serde_json::from_slice(&meta["result.json"]).unwrap();
        assert_eq!(json[0]["name"], OUTLINE);
        assert!(json.as_array().unwrap().iter().any(|r| r["name"] == LINT));
    }
}
