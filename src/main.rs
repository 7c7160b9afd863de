//! The `pyfront` binary: the BuildKit frontend (no subcommand, gateway env
//! present) plus offline tools. It parses arguments and calls the library
//! (`frontend::run`, `offline`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    /// Print the build plan as JSON: the stages and steps a build would
    /// run, before they are lowered to LLB (helper files by digest).
    Plan {
        #[command(flatten)]
        input: SpecInput,
    },
    /// Write a starter `pyfront.toml` for the project in a directory.
    Init {
        /// The project directory (the future build context).
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The `# syntax=` image of the new spec: the pyfront image your
        /// builds can reach (default: `$PYFRONT_SYNTAX`, else `pyfront:dev`,
        /// the image `make image` builds).
        #[arg(long, env = "PYFRONT_SYNTAX", default_value = pyfront::init::DEFAULT_SYNTAX)]
        syntax: String,
        /// Overwrite an existing `pyfront.toml`.
        #[arg(long)]
        force: bool,
    },
    /// Validate a spec offline, as a build would; errors print as
    /// `file:line:col`.
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
    /// The build context (`.dockerignore`, install inputs).
    #[arg(long, default_value = ".")]
    context: PathBuf,
    /// A build arg, `NAME=VALUE`.
    #[arg(long = "build-arg", value_name = "NAME=VALUE")]
    build_args: Vec<String>,
    /// `builder` or `app`.
    #[arg(long, default_value = "app")]
    target: String,
    /// `os/arch[/variant]` (comma-separated for several).
    #[arg(long, default_value = "linux/amd64")]
    platform: String,
    /// As with `--network=host`: download steps use the host network.
    #[arg(long = "network-host")]
    network_host: bool,
    /// Lower as for an engine with merge and diff ops and the copy's
    /// include patterns (BuildKit v0.10+, Docker 23+): the app image stacks
    /// the builder's venv layers.
    #[arg(long)]
    graft: bool,
}

impl SpecInput {
    fn request(self) -> pyfront::offline::Request {
        pyfront::offline::Request {
            file: self.file,
            context: self.context,
            build_args: self.build_args,
            target: self.target,
            platform: self.platform,
            network_host: self.network_host,
            graft: self.graft,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None if is_gateway() => pyfront::frontend::run(),
        None => Err("no subcommand; run `pyfront --help` (as a BuildKit frontend, pyfront runs from a `# syntax=` line)".to_owned()),
        Some(Command::Llb { input, json }) => pyfront::offline::llb(&input.request(), json)
            .and_then(|bytes| write_stdout(&bytes)),
        Some(Command::Plan { input }) => {
            pyfront::offline::plan(&input.request()).and_then(|bytes| write_stdout(&bytes))
        }
        Some(Command::Init { dir, syntax, force }) => {
            pyfront::offline::init(&dir, &syntax, force).map(|message| eprintln!("{message}"))
        }
        Some(Command::Check { input }) => {
            pyfront::offline::check(&input.request()).and_then(|report| {
                eprint!("{}", report.stderr);
                write_stdout(report.stdout.as_bytes())
            })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{}", message.trim_end());
            ExitCode::FAILURE
        }
    }
}

fn write_stdout(bytes: &[u8]) -> Result<(), String> {
    std::io::stdout()
        .lock()
        .write_all(bytes)
        .map_err(|e| format!("cannot write to stdout: {e}"))
}

/// BuildKit starts frontends with these variables set.
fn is_gateway() -> bool {
    std::env::var_os("BUILDKIT_SESSION_ID").is_some()
        || std::env::vars_os()
            .any(|(k, _)| k.to_string_lossy().starts_with("BUILDKIT_FRONTEND_OPT_"))
}
