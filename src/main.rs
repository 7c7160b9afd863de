//! The `pyfront` binary: the BuildKit frontend (no subcommand, gateway env
//! present) plus offline tools. It parses arguments and calls the library.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use pyfront::frontend::compile::{compile, image_config, parse_spec};
use pyfront::frontend::opts::{keys, BuildOptions};
use pyfront::frontend::FrontendError;
use pyfront::llb::{to_json, Platform};
use pyfront::plan::{BaseConfig, Plan};
use pyfront::spec::Spec;

#[derive(Parser)]
#[command(
    name = "pyfront",
    version,
    about = "A BuildKit frontend for Python app images with secret-only index credentials"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Print the LLB definition a build would send, without an engine.
    Llb {
        #[command(flatten)]
        input: SpecInput,
        /// Print readable JSON instead of protobuf bytes.
        #[arg(long)]
        json: bool,
    },
    /// Write a starter `pyfront.toml` for the project in a directory.
    Init {
        /// The project directory (the future build context).
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The `# syntax=` image of the new spec.
        #[arg(long, default_value = "pyfront:dev")]
        syntax: String,
        /// Overwrite an existing `pyfront.toml`.
        #[arg(long)]
        force: bool,
    },
    /// Validate a spec offline; errors print as `file:line:col`.
    Check {
        #[command(flatten)]
        input: SpecInput,
    },
}

#[derive(clap::Args)]
struct SpecInput {
    /// The spec file.
    #[arg(short = 'f', long = "file", default_value = "pyfront.toml")]
    file: PathBuf,
    /// The build context (for `.dockerignore`).
    #[arg(long, default_value = ".")]
    context: PathBuf,
    /// A build arg, `NAME=VALUE`.
    #[arg(long = "build-arg", value_name = "NAME=VALUE")]
    build_args: Vec<String>,
    /// `builder` or `app`.
    #[arg(long, default_value = "app")]
    target: String,
    /// `os/arch[/variant]`.
    #[arg(long, default_value = "linux/amd64")]
    platform: String,
    /// As with `--network=host`: download steps use the host network.
    #[arg(long = "network-host")]
    network_host: bool,
}

impl SpecInput {
    /// The opts a `docker build` with these flags would send.
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
        BuildOptions::parse(&raw).map_err(|e| e.to_string())
    }

    /// The opts, the plan, the spec and its text.
    fn plan(&self) -> Result<(BuildOptions, Plan, Spec, String), String> {
        let options = self.options()?;
        let display = self.file.display().to_string();
        let source =
            std::fs::read(&self.file).map_err(|e| format!("cannot read `{display}`: {e}"))?;
        let spec = parse_spec(&display, &source, &options).map_err(|e| match e {
            FrontendError::Spec(d) => d.render(),
            other => other.chain(),
        })?;
        if let Some(lock_name) = spec.install.with.lock_file() {
            let text = String::from_utf8_lossy(&source);
            let read = |name: &str| std::fs::read_to_string(self.context.join(name));
            if let (Ok(pyproject), Ok(lock)) = (read("pyproject.toml"), read(lock_name)) {
                pyfront::installers::check_project(&spec, &pyproject, &lock)
                    .map_err(|e| pyfront::spec::Diagnostic::new(&display, &text, &e).render())?;
            }
        }
        let dockerignore =
            std::fs::read_to_string(self.context.join(".dockerignore")).unwrap_or_default();
        let text = String::from_utf8_lossy(&source).into_owned();
        let plan = Plan::new(&spec, &dockerignore);
        Ok((options, plan, spec, text))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None if is_gateway() => pyfront::frontend::run(),
        None => Err("no subcommand; run `pyfront --help` (as a BuildKit frontend, pyfront runs from a `# syntax=` line)".to_owned()),
        Some(Command::Llb { input, json }) => llb(&input, json),
        Some(Command::Init { dir, syntax, force }) => init(&dir, &syntax, force),
        Some(Command::Check { input }) => check(&input),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{}", message.trim_end());
            ExitCode::FAILURE
        }
    }
}

/// Validates the spec (and, for Poetry and uv, the project and lock), then
/// prints what a build needs: the outline `docker buildx build --call=outline`
/// would show.
fn check(input: &SpecInput) -> Result<(), String> {
    let (_options, _plan, spec, text) = input.plan()?;
    let display = input.file.display().to_string();
    eprintln!("{display}: ok");
    let outline = pyfront::frontend::subrequests::outline_text(&spec, &text, &display);
    std::io::stdout()
        .write_all(align_columns(&outline).as_bytes())
        .map_err(|e| format!("cannot write the outline: {e}"))
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

/// BuildKit starts frontends with these variables set.
fn is_gateway() -> bool {
    std::env::var_os("BUILDKIT_SESSION_ID").is_some()
        || std::env::vars_os()
            .any(|(k, _)| k.to_string_lossy().starts_with("BUILDKIT_FRONTEND_OPT_"))
}

fn llb(input: &SpecInput, json: bool) -> Result<(), String> {
    let (options, plan, spec, text) = input.plan()?;
    let platforms = if options.platforms.is_empty() {
        vec![Platform::linux_amd64()]
    } else {
        options.platforms.clone()
    };
    let mut out = std::io::stdout().lock();
    let written = if platforms.len() == 1 {
        let compiled = compile(&plan, &options, &platforms[0], None, Some(&text));
        if json {
            let text = serde_json::to_string_pretty(&to_json(&compiled.definition.proto))
                .map_err(|e| e.to_string())?;
            writeln!(out, "{text}")
        } else {
            out.write_all(&compiled.definition.to_bytes())
        }
    } else if json {
        let value = multi_platform_json(&options, &plan, &spec, &text, &platforms);
        let text = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
        writeln!(out, "{text}")
    } else {
        return Err(format!(
            "{} platforms give {} definitions: add `--json` to see them all, or pass one `--platform`",
            platforms.len(),
            platforms.len()
        ));
    };
    written.map_err(|e| format!("cannot write the definition: {e}"))
}

/// Several platforms, offline: each platform's LLB, and the result a build
/// would return (refs by platform, `refs.platforms`, one image config per
/// platform on an empty base: no engine to resolve the real one; `created`
/// is `SOURCE_DATE_EPOCH` or 1970).
fn multi_platform_json(
    options: &BuildOptions,
    plan: &Plan,
    spec: &Spec,
    text: &str,
    platforms: &[Platform],
) -> serde_json::Value {
    use pyfront::frontend::platforms::{shape, PlatformImage};
    let created = pyfront::frontend::timestamp::rfc3339(options.source_date_epoch.unwrap_or(0));
    let mut llb = serde_json::Map::new();
    let mut images = Vec::new();
    for platform in platforms {
        let compiled = compile(plan, options, platform, None, Some(text));
        let config = image_config(
            &compiled.lowered,
            options,
            &spec.app,
            BaseConfig::default(),
            Some(BaseConfig::default()),
            platform,
            &created,
        );
        llb.insert(platform.to_string(), to_json(&compiled.definition.proto));
        images.push(PlatformImage {
            platform: platform.clone(),
            ref_id: format!("<ref of {platform}>"),
            config: config.to_json(),
        });
    }
    let result = shape(images, true);
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

fn init(dir: &std::path::Path, syntax: &str, force: bool) -> Result<(), String> {
    let target = dir.join("pyfront.toml");
    if target.exists() && !force {
        return Err(format!(
            "`{}` exists; pass `--force` to overwrite it",
            target.display()
        ));
    }
    let project = pyfront::init::detect(dir)?;
    let text = pyfront::init::render(&project, syntax);
    std::fs::write(&target, text)
        .map_err(|e| format!("cannot write `{}`: {e}", target.display()))?;
    eprintln!(
        "wrote {} (with = \"{}\", Python {}); check it with `pyfront check -f {}`",
        target.display(),
        project.installer,
        project.python,
        target.display()
    );
    Ok(())
}
