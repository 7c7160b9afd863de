//! The conversion core: spec bytes + [`Inputs`] → one LLB definition and
//! image config per platform, plus the lint warnings.
//!
//! It is the one pipeline behind both entry points, in the spirit of
//! BuildKit's `dockerfile2llb`: the gateway build (`frontend`, which reads
//! inputs through BuildKit and solves the result) and the offline CLI
//! (`pyfront check` / `pyfront llb`, which read a directory). The same checks
//! run in the same order in both, so `check` fails wherever a build would
//! fail before solving.
//!
//! Order: parse the spec → read `.dockerignore` and the install inputs (one
//! batch) and check them, while the base images of every platform resolve
//! (all concurrently: one round trip; an install-input error wins over an
//! image error, as if they ran in turn) → plan → lint → lower each platform
//! to LLB.

mod compile;
pub mod go_json;
mod image_config;
mod inputs;
mod lower;
pub mod subrequests;

use std::collections::{BTreeMap, BTreeSet};

pub use compile::{compile, Compiled, REPRODUCIBLE_EPOCH};
pub use image_config::{image_config, runtime_config};
pub use inputs::{block_on, FsInputs, InputError, Inputs};
pub use lower::{lower, LowerOptions, Lowered, CONTEXT_LOCAL};

use crate::image::{BaseConfig, Platform};
use crate::lint::{Bases, Warning};
use crate::llb::Definition;
use crate::options::BuildOptions;
use crate::plan::installers::pip_local::{self, NotStatic, StaticLocal};
use crate::plan::installers::{Collector, Location, RequirementsError};
use crate::plan::{ContextInputs, Plan, Target};
use crate::spec::{BuildArgs, ContextPath, Diagnostic, Spec, SpecError, SpecErrorKind};

/// The context file whose patterns the app code copy excludes.
pub const DOCKERIGNORE: &str = ".dockerignore";

/// Everything that stops a conversion. Messages never hold a secret value:
/// spec errors and lint findings are redacted when made, and the entry
/// points pass every message through `crate::redact` once more.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// A spec (or install input) error, located: `file:line:col: message`.
    #[error("{0}")]
    Spec(Box<Diagnostic>),
    #[error(transparent)]
    Input(#[from] InputError),
    /// Lint findings, as errors (`# check=error=true` or `PYFRONT_CHECK=error`).
    #[error("{} check(s) failed: {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Lint(Vec<Warning>),
}

/// One platform's result.
pub struct PlatformImage {
    pub platform: Platform,
    pub definition: Definition,
    /// The app target's load check (`lower::load_check`): solved for its
    /// outcome, never part of the image.
    pub load_check: Option<Definition>,
    pub config: BaseConfig,
}

/// The conversion's result.
pub struct Converted {
    pub spec: Spec,
    /// The spec's text (lossy UTF-8), for locations.
    pub spec_text: String,
    pub plan: Plan,
    /// Lint findings to report (empty when they were turned into errors).
    pub warnings: Vec<Warning>,
    /// In the order of `platforms`.
    pub images: Vec<PlatformImage>,
}

/// Parses the spec; errors carry the file, line and column.
pub fn parse_spec(
    filename: &str,
    source: &[u8],
    options: &BuildOptions,
) -> Result<Spec, ConvertError> {
    let text = std::str::from_utf8(source).map_err(|_| {
        let error = SpecError {
            span: None,
            kind: SpecErrorKind::NotUtf8,
        };
        ConvertError::Spec(Box::new(Diagnostic::new(filename, "", &error)))
    })?;
    Spec::parse(text, &options.build_args).map_err(|e| {
        ConvertError::Spec(Box::new(Diagnostic::with_build_args(
            filename,
            text,
            &options.build_args,
            &e,
        )))
    })
}

/// Converts the spec `source` for `platforms` (at least one). `created` is
/// the image configs' creation time.
pub async fn convert<I: Inputs>(
    source: &[u8],
    options: &BuildOptions,
    platforms: &[Platform],
    inputs: &I,
    created: &str,
) -> Result<Converted, ConvertError> {
    let spec = parse_spec(&options.filename, source, options)?;
    let spec_text = String::from_utf8_lossy(source).into_owned();
    // The install inputs and the base images only need the spec: one round
    // trip for both. Base images resolve per platform: a multi-arch base
    // gives each platform its own config (and Python, env, user).
    let context = read_install_inputs(&spec, &spec_text, options, inputs);
    let resolved = futures_util::future::try_join_all(
        platforms
            .iter()
            .map(|platform| resolve_bases(&spec, options.target, platform, inputs)),
    );
    let ((context, input_warnings), resolved) = first_error_first(context, resolved).await?;
    let plan = Plan::new(&spec, &context);

    let warnings = lint(&spec, &spec_text, options, resolved.first(), input_warnings)?;

    let images = platforms
        .iter()
        .zip(resolved)
        .map(|(platform, (builder, app))| {
            let compiled = compile(&plan, options, platform, builder.as_ref(), Some(&spec_text));
            let config = image_config(
                &compiled.lowered,
                options,
                &spec.app,
                builder.unwrap_or_default(),
                match options.target {
                    Target::App => Some(app.unwrap_or_default()),
                    Target::Builder => None,
                },
                platform,
                created,
            );
            PlatformImage {
                platform: platform.clone(),
                definition: compiled.definition,
                load_check: compiled.load_check,
                config,
            }
        })
        .collect();
    Ok(Converted {
        spec,
        spec_text,
        plan,
        warnings,
        images,
    })
}

/// Runs `first` and `second` side by side. The error is the one a
/// sequential `first` then `second` would give: `first`'s wins whenever it
/// fails (returned at once), `second`'s only once `first` has succeeded.
/// Which call answers first never changes which error the user sees.
pub(crate) async fn first_error_first<A, B, E>(
    first: impl std::future::Future<Output = Result<A, E>>,
    second: impl std::future::Future<Output = Result<B, E>>,
) -> Result<(A, B), E> {
    use futures_util::future::{select, Either};
    let (first, second) = (std::pin::pin!(first), std::pin::pin!(second));
    match select(first, second).await {
        Either::Left((a, second)) => Ok((a?, second.await?)),
        Either::Right((Ok(b), first)) => Ok((first.await?, b)),
        Either::Right((Err(e), first)) => {
            first.await?;
            Err(e)
        }
    }
}

/// The builder base's config and, for the app target, the runtime base's.
async fn resolve_bases<I: Inputs>(
    spec: &Spec,
    target: Target,
    platform: &Platform,
    inputs: &I,
) -> Result<(Option<BaseConfig>, Option<BaseConfig>), ConvertError> {
    let builder = inputs.image_config(&spec.build.base.normalized, platform);
    let app = async {
        match target {
            Target::App => {
                inputs
                    .image_config(&spec.app.base.normalized, platform)
                    .await
            }
            Target::Builder => Ok(None),
        }
    };
    let (builder, app) = futures_util::future::try_join(builder, app).await?;
    Ok((builder, app))
}

/// The lints, on the first platform's bases. Errors when they are
/// requested as errors.
fn lint(
    spec: &Spec,
    spec_text: &str,
    options: &BuildOptions,
    bases: Option<&(Option<BaseConfig>, Option<BaseConfig>)>,
    input_warnings: Vec<Warning>,
) -> Result<Vec<Warning>, ConvertError> {
    let passed: BTreeSet<String> = options.build_args.keys().cloned().collect();
    let bases = bases.and_then(|(builder, app)| {
        Some(Bases {
            builder: builder.as_ref()?,
            app: app.as_ref(),
        })
    });
    let mut warnings = crate::lint::lint(spec, &passed, bases);
    warnings.extend(input_warnings);
    if !warnings.is_empty() && (options.lint_errors || crate::lint::errors_requested(spec_text)) {
        return Err(ConvertError::Lint(warnings));
    }
    Ok(warnings)
}

/// A path dependency or path source the lock takes from outside the build
/// context, which neither the select step nor the install can see; located
/// at its path in the lock file.
fn local_package_outside(
    file: &str,
    lock: &str,
    package: &crate::pyproject::LocalPackage<'_>,
    options: &BuildOptions,
) -> ConvertError {
    let quoted = format!("\"{}\"", package.path);
    let span = lock.find(&quoted).map(|at| at..at + quoted.len());
    ConvertError::Spec(Box::new(Diagnostic::located(
        file,
        lock,
        &options.build_args,
        span,
        &format!(
            "`{}` is a local package at `{}`, outside the build context",
            package.name, package.path
        ),
        Some(LOCAL_OUTSIDE_HINT.to_owned()),
    )))
}

/// The fix for [`local_package_outside`] (the select step says the same).
const LOCAL_OUTSIDE_HINT: &str = "pyfront reads pyproject.toml and the lock at the root of the build \
context and sees nothing outside it: make that root a directory that holds the app and its local packages \
(for example the repository root, with the app's pyproject.toml and lock there), or move the package under \
the app's directory, update its path and re-lock";

/// Reads `.dockerignore` and the install inputs (one batch, then one per
/// level of pip `-r` / `-c` includes, then one for the `pyproject.toml`s of
/// pip's local path requirements), fails with the location when an input
/// is missing or invalid (a requirement file's own errors point into that
/// file) or a Poetry or uv project does not match the spec's indexes, and
/// returns what the plan needs from the context.
async fn read_install_inputs<I: Inputs>(
    spec: &Spec,
    spec_text: &str,
    options: &BuildOptions,
    inputs: &I,
) -> Result<(ContextInputs, Vec<Warning>), ConvertError> {
    let files = &spec.install.inputs;
    let mut warnings = Vec::new();
    let mut paths = vec![DOCKERIGNORE.to_owned()];
    paths.extend(files.iter().map(|f| f.value.as_str().to_owned()));
    let mut read = inputs.context_files(&paths).await?.into_iter();
    let dockerignore = read.next().flatten().unwrap_or_default();
    let mut context = ContextInputs {
        dockerignore: String::from_utf8_lossy(&dockerignore).into_owned(),
        ..ContextInputs::default()
    };
    let locate = |error: SpecError| {
        ConvertError::Spec(Box::new(Diagnostic::with_build_args(
            &options.filename,
            spec_text,
            &options.build_args,
            &error,
        )))
    };
    let mut contents = Vec::new();
    for (file, bytes) in files.iter().zip(read) {
        let Some(bytes) = bytes else {
            let path = file.value.as_str().to_owned();
            let kind = match spec.install.with.lock_file() {
                None => SpecErrorKind::MissingContextFile { path },
                Some(lock) => SpecErrorKind::MissingProjectFile {
                    path,
                    installer: spec.install.with.name(),
                    lock,
                },
            };
            return Err(locate(SpecError::new(file.span.clone(), kind)));
        };
        contents.push(String::from_utf8_lossy(&bytes).into_owned());
    }
    match (spec.install.with.lock_file(), contents.as_slice()) {
        (Some(_), [pyproject, lock]) => {
            crate::plan::installers::check_project(spec, pyproject, lock).map_err(locate)?;
            // check_project has parsed it: it is valid TOML.
            context.uv_workspace = spec.install.with == crate::spec::Installer::Uv
                && toml::from_str::<crate::pyproject::PyProject>(pyproject)
                    .is_ok_and(|p| p.is_uv_workspace());
            let locked = toml::from_str::<crate::pyproject::Lock>(lock).unwrap_or_default();
            let local = locked.local_packages();
            if let Some(outside) = local
                .iter()
                .find(|l| !crate::pyproject::stays_below(l.path))
            {
                let file = files.get(1).map(|f| f.value.as_str()).unwrap_or_default();
                return Err(local_package_outside(file, lock, outside, options));
            }
            context.local_packages = !local.is_empty();
        }
        (None, _) => {
            let roots: Vec<ContextPath> = files.iter().map(|f| f.value.clone()).collect();
            let mut collector = Collector::new(&roots);
            for (root, text) in roots.iter().zip(contents) {
                collector.provide(root, Some(text));
            }
            loop {
                let wanted = collector.wanted();
                if wanted.is_empty() {
                    break;
                }
                let names: Vec<String> = wanted.iter().map(|p| p.as_str().to_owned()).collect();
                let read = inputs.context_files(&names).await?;
                for (path, bytes) in wanted.iter().zip(read) {
                    let text = bytes.map(|b| String::from_utf8_lossy(&b).into_owned());
                    collector.provide(path, text);
                }
            }
            let set = collector.finish().map_err(|e| match &e.location {
                Location::Root(i) => locate_requirement(
                    &options.filename,
                    spec_text,
                    files.get(*i).map(|f| f.span.clone()),
                    &e,
                ),
                Location::File { file, span } => locate_requirement(
                    file.as_str(),
                    collector.source(file).unwrap_or_default(),
                    Some(span.clone()),
                    &e,
                ),
            })?;
            context.requirement_files = set
                .files
                .iter()
                .map(|f| f.path.as_str().to_owned())
                .collect();
            // pip would run the build code of a local path or a URL or VCS
            // requirement to learn its dependencies, whatever
            // `--only-binary` says: in the step that reads the token. Only
            // an explicit, linted opt-out allows that, but for local
            // packages whose metadata is static (`pip_local`): they install
            // hermetically.
            if spec.install.build_code_sees_index_login.is_none() {
                if !set.local.is_empty() {
                    context.local_static =
                        Some(static_local(&set, &collector, inputs, options).await?);
                    warnings.extend(set.local.iter().filter(|l| l.editable).map(|l| {
                        editable_copied(l, collector.source(&l.file).unwrap_or_default(), files)
                    }));
                }
                if let Some((file, span)) = &set.remote {
                    return Err(build_code_refused(
                        file,
                        span.clone(),
                        collector.source(file).unwrap_or_default(),
                        "a URL or VCS",
                        None,
                        None,
                        options,
                    ));
                }
                return Ok((context, warnings));
            }
            // The opted-out install hands the files to pip as written, and
            // pip would link the venv to the build's temporary mount.
            if let Some(editable) = set.local.iter().find(|l| l.editable) {
                let source = collector.source(&editable.file).unwrap_or_default();
                let path = source.get(editable.span.clone()).unwrap_or(&editable.path);
                return Err(ConvertError::Spec(Box::new(Diagnostic::located(
                    editable.file.as_str(),
                    source,
                    &options.build_args,
                    Some(editable.span.clone()),
                    &format!("with `build-code-sees-index-login`, pip installs the requirement files as written, and `-e {path}` would link the venv to the build context, which the image does not have"),
                    Some(format!("write `{path}` without `-e`: pip then installs a copy of it into the venv")),
                ))));
            }
            context.local_requirements = !set.local.is_empty();
            context.remote_requirements = set.remote.is_some();
        }
        _ => {}
    }
    Ok((context, warnings))
}

/// The warning for an `-e` requirement installed as a copy: located in its
/// requirement file in the message (a warning's span is in the spec: there,
/// the spec's entry for that file, when it is one).
fn editable_copied(
    local: &crate::plan::installers::LocalRequirement,
    source: &str,
    files: &[crate::spec::Located<ContextPath>],
) -> Warning {
    let at = crate::source::SourceMap::new(local.file.as_str(), source).position(local.span.start);
    let written = source.get(local.span.clone()).unwrap_or(&local.path);
    crate::lint::editable_installed_as_copy(
        &format!("{}:{}:{}", local.file.as_str(), at.line, at.column),
        written,
        &local.path,
        files
            .iter()
            .find(|f| f.value == local.file)
            .map(|f| f.span.clone()),
    )
}

/// The other fix for a refused `.` (`-e .`): a line that only makes the app
/// importable is not needed in an image (`pyfront init` says the same).
pub const ROOT_HINT: &str = "or, if `.` is only there to make the app importable, drop the line: the app code is copied into [app] workdir (run the app from there, or set PYTHONPATH in [app] env)";

/// The refusal of a requirement whose build code pip would run in the
/// fetch step; `why`: what keeps a local package from installing
/// hermetically.
fn build_code_refused(
    file: &ContextPath,
    span: std::ops::Range<usize>,
    source: &str,
    what: &str,
    why: Option<&NotStatic>,
    local: Option<&crate::plan::installers::LocalRequirement>,
    options: &BuildOptions,
) -> ConvertError {
    let mut message = format!(
        "pip would run the build code of {what} requirement in the step that reads the index token"
    );
    let mut hint = String::new();
    if let Some(why) = why {
        message.push_str(&format!(
            " (pyfront cannot tell its dependencies without running it: {why})"
        ));
        if let Some(fix) = why.fix() {
            hint.push_str(fix);
            hint.push_str(", ");
        }
    }
    hint.push_str("install it from a uv or Poetry lock (their builds run without the token), publish it to the index as a wheel, or set `build-code-sees-index-login = true` in [install] to accept the risk");
    if local.is_some_and(|l| l.editable) {
        // The opted-out install passes the line to pip as written.
        hint.push_str(" (and write the line without `-e`)");
    }
    if local.is_some_and(|l| l.path == ".") {
        hint.push_str(&format!("; {ROOT_HINT}"));
    }
    ConvertError::Spec(Box::new(Diagnostic::located(
        file.as_str(),
        source,
        &options.build_args,
        Some(span),
        &message,
        Some(hint),
    )))
}

/// The local requirements of `set`, installed hermetically: reads each
/// directory's `pyproject.toml` (one batch) and refuses, located at the
/// requirement, the first whose dependencies are not static.
async fn static_local<I: Inputs>(
    set: &crate::plan::installers::RequirementSet,
    collector: &Collector,
    inputs: &I,
    options: &BuildOptions,
) -> Result<StaticLocal, ConvertError> {
    let dirs: Vec<&str> = set
        .local
        .iter()
        .map(|l| l.path.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let names: Vec<String> = dirs.iter().map(|d| pip_local::pyproject_path(d)).collect();
    let read = inputs.context_files(&names).await?;
    let texts: BTreeMap<&str, Option<String>> = dirs
        .iter()
        .zip(read)
        .map(|(d, b)| (*d, b.map(|b| String::from_utf8_lossy(&b).into_owned())))
        .collect();
    let mut metadata = BTreeMap::new();
    let mut requests = Vec::new();
    for local in &set.local {
        let source = collector.source(&local.file).unwrap_or_default();
        let request = pip_local::Request::of(local, source);
        let pyproject = texts.get(local.path.as_str()).cloned().flatten();
        let checked = pip_local::check(&request, local, set.require_hashes, pyproject.as_deref());
        match checked {
            Ok(m) => {
                metadata.insert(local.path.clone(), m);
            }
            Err(why) => {
                return Err(build_code_refused(
                    &local.file,
                    local.span.clone(),
                    source,
                    "a local path",
                    Some(&why),
                    Some(local),
                    options,
                ))
            }
        }
        requests.push(request);
    }
    Ok(pip_local::resolve(&requests, &metadata))
}

/// A requirement-file error as a diagnostic in `file`.
fn locate_requirement(
    file: &str,
    source: &str,
    span: Option<std::ops::Range<usize>>,
    error: &RequirementsError,
) -> ConvertError {
    ConvertError::Spec(Box::new(Diagnostic::located(
        file,
        source,
        &BuildArgs::new(),
        span,
        &error.to_string(),
        error.hint(),
    )))
}

#[cfg(test)]
mod rounds_tests;
