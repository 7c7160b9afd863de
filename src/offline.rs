//! The CLI's offline entry point: `pyfront check`, `pyfront plan` and
//! `pyfront llb` run the same conversion core as a build
//! ([`crate::convert::convert`]), with the context directory as inputs and
//! no engine (base images are not resolved). So `check` fails wherever a
//! build would fail before solving, with the same message.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::convert::{block_on, convert, ConvertError, Converted, FsInputs};
use crate::image::{timestamp, Platform};
use crate::llb::to_json;
use crate::options::{keys, BuildOptions};
use crate::redact::Redacted;

/// What `check`, `plan` and `llb` are asked, as flags.
pub struct Request {
    pub file: PathBuf,
    pub context: PathBuf,
    /// `NAME=VALUE` build args.
    pub build_args: Vec<String>,
    pub target: String,
    /// `os/arch[/variant]`, comma-separated.
    pub platform: String,
    pub network_host: bool,
    /// Lower as for an engine with merge and diff ops and the copy's include
    /// patterns (BuildKit v0.10+).
    pub graft: bool,
}

impl Request {
    /// The opts a `docker build -f FILE` with these flags would send (the
    /// client sends the file's name; its directory is the local source).
    fn options(&self) -> Result<BuildOptions, String> {
        let mut raw = BTreeMap::new();
        let filename = self
            .file
            .file_name()
            .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
        raw.insert(keys::FILENAME.to_owned(), filename);
        raw.insert(keys::TARGET.to_owned(), self.target.clone());
        raw.insert(keys::PLATFORM.to_owned(), self.platform.clone());
        if self.network_host {
            raw.insert(keys::FORCE_NETWORK_MODE.to_owned(), "host".to_owned());
        }
        for arg in &self.build_args {
            let (name, value) = arg
                .split_once('=')
                .ok_or_else(|| format!("`--build-arg {arg}`: expected NAME=VALUE"))?;
            raw.insert(
                format!("{}{name}", keys::BUILD_ARG_PREFIX),
                value.to_owned(),
            );
        }
        let mut options = BuildOptions::parse(&raw).map_err(|e| e.to_string())?;
        options.graft = self.graft;
        Ok(options)
    }

    fn display(&self) -> String {
        self.file.display().to_string()
    }

    /// Runs the conversion core on the spec and the context directory.
    fn convert(&self) -> Result<(BuildOptions, Converted), String> {
        // Bad flags are quoted back (`--build-arg SOURCE_DATE_EPOCH=...`).
        let options = self.options().map_err(|e| Redacted::new(e).into_string())?;
        let source = std::fs::read(&self.file).map_err(|e| {
            Redacted::new(format!("cannot read `{}`: {e}", self.display())).into_string()
        })?;
        let platforms = if options.platforms.is_empty() {
            vec![Platform::linux_amd64()]
        } else {
            options.platforms.clone()
        };
        let created = timestamp::rfc3339(options.source_date_epoch.unwrap_or(0));
        let inputs = FsInputs {
            context: self.context.clone(),
        };
        let converted = block_on(convert(&source, &options, &platforms, &inputs, &created))
            .map_err(|mut e| {
                // Name the spec as the user gave it.
                if let ConvertError::Spec(d) = &mut e {
                    if d.file == options.filename {
                        d.file = self.display();
                    }
                }
                render(&e)
            })?;
        Ok((options, converted))
    }
}

/// An error as the CLI prints it: a located one rustc-style, anything else
/// with its causes; through the redaction policy (a rendered diagnostic is
/// redacted already, and masking twice changes nothing).
fn render(error: &ConvertError) -> String {
    Redacted::new(unredacted_render(error)).into_string()
}

fn unredacted_render(error: &ConvertError) -> String {
    match error {
        ConvertError::Spec(d) => d.render(),
        other => {
            let mut message = other.to_string();
            let mut source = std::error::Error::source(other);
            while let Some(s) = source {
                message.push_str(": ");
                message.push_str(&s.to_string());
                source = s.source();
            }
            message
        }
    }
}

/// What `check` prints: the diagnostics (stderr) and the outline (stdout).
pub struct CheckReport {
    pub stderr: String,
    pub stdout: String,
}

/// Validates the spec, its install inputs and lints exactly as a build
/// does; reports the warnings and what the build needs (the outline
/// `docker buildx build --call=outline` shows).
pub fn check(request: &Request) -> Result<CheckReport, String> {
    let (_options, converted) = request.convert()?;
    let display = request.display();
    let map = crate::source::SourceMap::new(&display, &converted.spec_text);
    let mut stderr = String::new();
    for warning in &converted.warnings {
        let at = warning.span.as_ref().map_or_else(
            || display.clone(),
            |span| {
                let at = map.position(span.start);
                format!("{display}:{}:{}", at.line, at.column)
            },
        );
        stderr.push_str(&format!("{at}: warning: {warning}\n"));
    }
    stderr.push_str(&format!("{display}: ok\n"));
    let outline =
        crate::convert::subrequests::outline_text(&converted.spec, &converted.spec_text, &display);
    // Both are text made of redacted parts and the file's path: once more
    // through the policy as a whole.
    Ok(CheckReport {
        stderr: Redacted::new(stderr).into_string(),
        stdout: Redacted::new(align_columns(&outline)).into_string(),
    })
}

/// The definition `llb` prints: protobuf bytes, or readable JSON. Several
/// platforms need `json`: each platform's definition plus the result a
/// build would return.
pub fn llb(request: &Request, json: bool) -> Result<Vec<u8>, String> {
    let (options, converted) = request.convert()?;
    match (converted.images.as_slice(), json) {
        ([one], false) => Ok(one.definition.to_bytes()),
        ([one], true) => pretty(&to_json(&one.definition.proto)),
        (_, true) => pretty(&multi_platform_json(&options, converted)),
        (several, false) => Err(format!(
            "{} platforms give {} definitions: add `--json` to see them all, or pass one `--platform`",
            several.len(),
            several.len()
        )),
    }
}

/// The plan `plan` prints: the stages and steps of the build, as JSON. It
/// does not depend on `--target` or `--platform` (lowering does), but the
/// flags are checked as for `llb`.
pub fn plan(request: &Request) -> Result<Vec<u8>, String> {
    let (_options, converted) = request.convert()?;
    // Straight from the struct, not through `Value`: fields keep their
    // declaration order (builder before app, base first).
    let mut text = serde_json::to_string_pretty(&converted.plan).map_err(|e| e.to_string())?;
    text.push('\n');
    Ok(text.into_bytes())
}

fn pretty(value: &serde_json::Value) -> Result<Vec<u8>, String> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    text.push('\n');
    Ok(text.into_bytes())
}

/// Several platforms, offline: each platform's LLB, and the result a build
/// would return (refs by platform, `refs.platforms`, one image config per
/// platform on an empty base: no engine resolves the real one; `created`
/// is `SOURCE_DATE_EPOCH` or 1970).
fn multi_platform_json(options: &BuildOptions, converted: Converted) -> serde_json::Value {
    use crate::frontend::result::{shape, SolvedImage};
    let mut llb = serde_json::Map::new();
    let mut images = Vec::new();
    for image in converted.images {
        llb.insert(image.platform.to_string(), to_json(&image.definition.proto));
        images.push(SolvedImage {
            ref_id: format!("<ref of {}>", image.platform),
            platform: image.platform,
            config: image.config.to_json(),
        });
    }
    let result = shape(images, options.platforms.len() > 1);
    let metadata: serde_json::Map<String, serde_json::Value> = result
        .metadata
        .into_iter()
        .map(|(k, v)| {
            let value = serde_json::from_slice(&v).unwrap_or(serde_json::Value::Null);
            (k, value)
        })
        .collect();
    serde_json::json!({
        "platforms": llb,
        "result": { "refs": result.refs, "metadata": metadata },
    })
}

/// Pads the tab-separated columns of each table (tables are separated by
/// blank lines) to a common width, as buildx prints an outline.
fn align_columns(text: &str) -> String {
    let mut out = String::new();
    for (i, table) in text.trim_end().split("\n\n").enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let rows: Vec<Vec<&str>> = table.lines().map(|l| l.split('\t').collect()).collect();
        let mut widths: Vec<usize> = Vec::new();
        for row in &rows {
            for (c, cell) in row.iter().enumerate() {
                let w = cell.chars().count();
                match widths.get_mut(c) {
                    Some(max) => *max = (*max).max(w),
                    None => widths.push(w),
                }
            }
        }
        for row in &rows {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                line.push_str(cell);
                if c + 1 < row.len() {
                    let pad = widths[c] - cell.chars().count() + 3;
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    out
}

/// Writes `DIR/pyfront.toml` for the project in `dir`; returns the message
/// to print.
pub fn init(dir: &Path, syntax: &str, force: bool) -> Result<String, String> {
    let target = dir.join("pyfront.toml");
    if target.exists() && !force {
        return Err(format!(
            "`{}` exists; pass `--force` to overwrite it",
            target.display()
        ));
    }
    // A broken `pyproject.toml` is quoted back by its TOML error.
    let project = crate::init::detect(dir).map_err(|e| Redacted::new(e).into_string())?;
    let text = crate::init::render(&project, syntax);
    std::fs::write(&target, &text)
        .map_err(|e| format!("cannot write `{}`: {e}", target.display()))?;
    let secrets: String = crate::init::secret_ids(&text)
        .iter()
        .map(|id| format!(" --secret id={id},env=VARIABLE"))
        .collect();
    let build = if secrets.is_empty() {
        String::new()
    } else {
        format!("; build with{secrets} (delete an index's credential lines if it needs none)")
    };
    // What init cannot fix in the spec: the project has to change first.
    let refused: String = project
        .pip_local
        .iter()
        .filter_map(crate::init::PipLocal::refusal)
        .map(|r| format!("\nwarning: {}", Redacted::new(r)))
        .collect();
    Ok(format!(
        "wrote {} (with = \"{}\", Python {}, frontend `{syntax}`); check it with `pyfront check -f {}`{build}{refused}",
        target.display(),
        project.installer,
        project.python,
        target.display()
    ))
}
