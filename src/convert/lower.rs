//! Plan → LLB: the one place that knows both pyfront's plan and LLB.
//! (`llb` itself is a general LLB builder that knows no plan.)
//!
//! Builder stage: builder base → apt (optional) → installer tools (uv) →
//! `python3 -m venv` → install (no secret, no network) → project
//! (optional). The select and fetch steps run on the builder before the
//! venv step, beside it, and the install step mounts what they wrote. Only
//! the tools and fetch steps have the secrets.
//! App stage: app base → apt (optional) → the `[app] user` name, created if
//! the base lacks it → the venv → the context minus `.dockerignore` in the
//! workdir, owned by that user. Each is its own layer: an app change leaves
//! the venv layers untouched.
//! The venv: on engines with merge and diff ops (`LowerOptions::graft`),
//! the builder's own venv layers stacked on the app base (a new base
//! re-stacks, nothing re-runs); on older ones, a copy of `/opt/venv`.
//!
//! The load check (`Lowered::load_check`, not part of the image) loads every
//! shared object of the venv and the app code with the runtime's loader. With
//! `graft` and no build outputs it runs on the app base, with the venv
//! layers and the code's shared objects (a copy of the context filtered by
//! BuildKit) mounted read-only: an app change that touches no shared object
//! leaves it cached, and a new base re-runs it without re-stacking the
//! venv. Otherwise it runs on the whole app image.
//!
//! With `[[build.run]]`: the builder also gets the app code at the workdir,
//! then runs each build command on it (no secret mount, network none unless
//! asked); a check that every named output exists runs on the last result,
//! and each output is copied from there into the app image after the app
//! code, over it. The venv still comes from the builder before the
//! commands, so an app change never touches the venv layers.

use crate::image::{LayerHistory, DEFAULT_PATH};
use crate::llb::{
    copy, copy_to_scratch, diff, exec, image, local, merge, mkfiles, CacheSharing, Constraints,
    CopyOptions, Exec, LocalOptions, Mount, NetMode, Output, Owner, ResolveMode,
};
use crate::plan::{
    display_argv, Earlier, Install, InstallStep, NewUser, Plan, RunOutput, RunStep, CONTEXT_MOUNT,
    HELPER_MOUNT, LOCAL_MOUNT, MEMBERS_DIR, MEMBERS_MOUNT, PLAN_DIR, PLAN_MOUNT, SECRETS_DIR, VENV,
    WHEELHOUSE_DIR, WHEELHOUSE_MOUNT,
};
use crate::redact::Redacted;
use crate::source::SourceMap;
use crate::spec::AptPackage;

use super::go_json::proto_range;

/// The name of the local source holding the build context.
pub const CONTEXT_LOCAL: &str = "context";

/// Everything the lowering needs besides the plan.
#[derive(Debug, Clone)]
pub struct LowerOptions {
    pub constraints: Constraints,
    pub resolve_mode: ResolveMode,
    /// From `force-network-mode`; applies to the steps that download.
    pub network: NetMode,
    /// The builder base image's environment (`KEY=value`). Not the venv's:
    /// the steps run the builder's own Python.
    pub builder_env: Vec<String>,
    /// The spec, to turn the steps' spec spans into line ranges.
    pub source_map: Option<SourceMap>,
    /// Name steps with their platform (`[linux/386 builder] ...`): one of
    /// several platforms is being built.
    pub platform_in_names: bool,
    /// The engine has merge and diff ops (BuildKit v0.10+): the app image
    /// stacks the builder's venv layers instead of copying the venv.
    pub graft: bool,
}

impl LowerOptions {
    /// A step's name (`[builder] pip install ...`): its stage tag, as the
    /// Dockerfile frontend writes it, then `what`, through the redaction
    /// policy (names are shown in every build log).
    fn name(&self, stage: &str, what: &str) -> String {
        let name = if self.platform_in_names {
            format!("[{} {stage}] {what}", self.constraints.platform)
        } else {
            format!("[{stage}] {what}")
        };
        Redacted::new(name).into_string()
    }
}

/// The history entry of a layer pyfront adds (`docker history` shows it),
/// through the redaction policy.
fn history(what: &str) -> LayerHistory {
    LayerHistory {
        created_by: Redacted::new(format!("pyfront: {what}")).into_string(),
    }
}

/// The two stage results plus the history of the layers each adds.
#[derive(Debug, Clone)]
pub struct Lowered {
    pub builder: Output,
    pub builder_layers: Vec<LayerHistory>,
    pub app: Output,
    pub app_layers: Vec<LayerHistory>,
    /// The load check (see [`load_check`]): solved for its outcome only,
    /// never part of the image.
    pub load_check: Output,
}

/// The load check's program, run by the venv's Python in the runtime image.
const LOAD_CHECK: &str = include_str!("../plan/installers/helper/loadcheck.py");
/// Where the load check sees the builder's dpkg database (read-only).
const BUILDER_DPKG_INFO: &str = "/run/pyfront/builder-dpkg";

/// The names loadcheck.py's `shared_objects` loads (`*.so`, `*.so.N...`),
/// anywhere in the context: the include patterns of the copy that takes the
/// app code's shared objects out of it ([`code_shared_objects`]). They match
/// a little more (`x.so.bak`); loadcheck.py skips what is not its name or
/// not an ELF file.
const SHARED_OBJECT_PATTERNS: [&str; 2] = ["**/*.so", "**/*.so.*"];

/// The load check's inputs besides the builder's dpkg database.
struct CheckInputs {
    /// The filesystem it runs in: the app base, or the whole app image.
    root: Output,
    /// The venv layers (the builder's diff), whose `/opt/venv` is mounted
    /// read-only at `/opt/venv` over `root`; `None`: `root` has the venv.
    venv: Option<Output>,
    /// The app code's shared objects, mounted read-only at the workdir;
    /// `None`: `root` is the whole app image, code included.
    code: Option<Output>,
}

/// Whether the load check can mount the app code's shared objects at
/// `workdir` without hiding what the loader needs: not `/`, not the venv
/// or a directory above it, and not a system library directory, one above
/// or one under it (`/usr`, `/usr/lib/x86_64-linux-gnu`, `/etc` for
/// `ld.so.cache`, ...). Such a workdir gets the check on the whole app image.
fn code_mountable_at(workdir: &str) -> bool {
    const LOADER_DIRS: [&str; 11] = [
        "/etc",
        "/lib",
        "/lib32",
        "/lib64",
        "/libx32",
        "/usr/lib",
        "/usr/lib32",
        "/usr/lib64",
        "/usr/libx32",
        "/usr/local/lib",
        VENV,
    ];
    // `a` is `b` or a directory above it.
    let at_or_above =
        |a: &str, b: &str| a == b || b.starts_with(&format!("{}/", a.trim_end_matches('/')));
    workdir != "/"
        && !LOADER_DIRS
            .iter()
            .any(|dir| at_or_above(workdir, dir) || (*dir != VENV && at_or_above(dir, workdir)))
}

/// The app code's shared objects: the context (minus `.dockerignore`, the
/// local the code copy reads) filtered by [`SHARED_OBJECT_PATTERNS`] in a
/// copy onto scratch. BuildKit keys that copy, and the check's read-only
/// mount of its result, by the content they select, so an app change that
/// adds, removes or changes no shared object leaves both, and the check,
/// cached. The filter is BuildKit's (`file.copy.includeexcludepatterns`),
/// not the client's: a client's own include patterns may not know `**`
/// (the Docker 20.10 CLI's do not).
fn code_shared_objects(context: &Output, opts: &LowerOptions) -> Output {
    copy_to_scratch(
        context,
        &CopyOptions {
            src: "/".to_owned(),
            dest: "/".to_owned(),
            contents_only: true,
            owner: None,
            include_patterns: SHARED_OBJECT_PATTERNS.map(str::to_owned).to_vec(),
        },
        context,
        &opts.constraints,
        &opts.name("app", "the app code's shared objects for the load check"),
    )
}

/// Loads every shared object of the venv and the app code with the runtime
/// image's own loader, and fails with the library that is missing and the
/// `[app] system-packages` line that adds it (the package found in the
/// dpkg database of the builder's base plus its system packages). It runs
/// on the app base with the venv and the app code's shared objects mounted,
/// or in the whole app image (see [`CheckInputs`]). No secret, no
/// network, and its result is not part of the image: the frontend solves it
/// for its outcome.
fn load_check(
    inputs: &CheckInputs,
    packages: &Output,
    workdir: &str,
    opts: &LowerOptions,
) -> Output {
    let c = &opts.constraints;
    let program = format!("{HELPER_MOUNT}/loadcheck.py");
    let helper = mkfiles(
        &[("/loadcheck.py", 0o444, LOAD_CHECK.as_bytes())],
        c,
        &opts.name("app", "pyfront load check helper"),
    );
    let mut mounts = vec![
        Mount::ReadOnly {
            dest: HELPER_MOUNT.to_owned(),
            source: helper,
            selector: None,
        },
        Mount::ReadOnly {
            dest: BUILDER_DPKG_INFO.to_owned(),
            source: packages.clone(),
            selector: Some("/var/lib/dpkg/info".to_owned()),
        },
    ];
    if let Some(venv) = &inputs.venv {
        mounts.push(Mount::ReadOnly {
            dest: VENV.to_owned(),
            source: venv.clone(),
            selector: Some(VENV.to_owned()),
        });
    }
    if let Some(code) = &inputs.code {
        mounts.push(Mount::ReadOnly {
            dest: workdir.to_owned(),
            source: code.clone(),
            selector: None,
        });
    }
    exec(
        &inputs.root,
        Exec {
            args: vec![
                format!("{VENV}/bin/python3"),
                "-I".to_owned(),
                program,
                VENV.to_owned(),
                workdir.to_owned(),
                "--dpkg-info".to_owned(),
                BUILDER_DPKG_INFO.to_owned(),
            ],
            env: vec![format!("PATH={DEFAULT_PATH}")],
            cwd: "/".to_owned(),
            network: NetMode::None,
            mounts,
            ..Exec::default()
        },
        c,
        &opts.name("app", "check that the app's shared libraries load"),
    )
}

/// The program that adds the app's user, run by the runtime base's Python.
const APP_USER: &str = include_str!("../plan/installers/helper/appuser.py");

/// Adds `user` to the runtime base unless it has it (see appuser.py): the
/// name and ids are argv, no shell; no secret, no network; the program
/// comes from a read-only mount, like the load check's. Returns the new
/// root and the step's title.
fn create_user(root: &Output, user: &NewUser, opts: &LowerOptions) -> (Output, String) {
    let c = &opts.constraints;
    let helper = mkfiles(
        &[("/appuser.py", 0o444, APP_USER.as_bytes())],
        c,
        &opts.name("app", "pyfront user helper"),
    );
    let title = format!(
        "create user {} (uid {}, gid {}) if the base lacks it",
        user.name, user.uid, user.gid
    );
    let out = exec(
        root,
        Exec {
            args: vec![
                "python3".to_owned(),
                "-I".to_owned(),
                format!("{HELPER_MOUNT}/appuser.py"),
                user.name.clone(),
                user.uid.to_string(),
                user.gid.to_string(),
            ],
            env: vec![format!("PATH={DEFAULT_PATH}")],
            cwd: "/".to_owned(),
            network: NetMode::None,
            mounts: vec![Mount::ReadOnly {
                dest: HELPER_MOUNT.to_owned(),
                source: helper,
                selector: None,
            }],
            ..Exec::default()
        },
        c,
        &opts.name("app", &title),
    );
    (out, title)
}

/// The builder's apt program. Package names arrive as positional
/// arguments (`"$@"`), never pasted into the script; they are also validated
/// as Debian package names by the spec. The builder keeps downloaded debs
/// (in the cache mount), so it drops the official images' `docker-clean`.
const APT_SCRIPT: &str = "rm -f /etc/apt/apt.conf.d/docker-clean && apt-get update && \
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \"$@\"";

/// The app stage's apt program: the same, but the runtime image's apt
/// configuration is left as the base has it.
const APP_APT_SCRIPT: &str = "apt-get update && \
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \"$@\"";

/// An apt step on `root` installing `packages` with `script`: package lists
/// and downloaded debs live in cache mounts, so neither is left in the
/// layer. Returns the new root and the step's title.
fn apt_install(
    root: &Output,
    packages: &[AptPackage],
    script: &str,
    env: Vec<String>,
    stage: &str,
    opts: &LowerOptions,
) -> (Output, String) {
    let packages: Vec<String> = packages.iter().map(|p| p.as_str().to_owned()).collect();
    let mut args = vec![
        "/bin/sh".to_owned(),
        "-c".to_owned(),
        script.to_owned(),
        "pyfront-apt".to_owned(),
    ];
    args.extend(packages.iter().cloned());
    let title = format!("apt-get install {}", packages.join(" "));
    let out = exec(
        root,
        Exec {
            args,
            env,
            cwd: "/".to_owned(),
            network: opts.network,
            mounts: vec![
                Mount::Cache {
                    dest: "/var/cache/apt".to_owned(),
                    id: "pyfront-apt-cache".to_owned(),
                    sharing: CacheSharing::Locked,
                },
                Mount::Cache {
                    dest: "/var/lib/apt/lists".to_owned(),
                    id: "pyfront-apt-lists".to_owned(),
                    sharing: CacheSharing::Locked,
                },
            ],
            ..Exec::default()
        },
        &opts.constraints,
        &opts.name(stage, &title),
    );
    (out, title)
}

/// The outputs of the hermetic install's earlier steps, as later steps
/// mount them.
#[derive(Default)]
struct StepOutputs {
    /// The select step's result (its [`PLAN_DIR`] and, in a uv
    /// workspace, its [`MEMBERS_DIR`]).
    plan: Option<Output>,
    /// The fetch step's result (its [`WHEELHOUSE_DIR`]).
    wheelhouse: Option<Output>,
}

impl StepOutputs {
    /// The read-only mount of `earlier`. Mounted with a selector, so
    /// BuildKit keys the step by that directory's content, not by the
    /// step that wrote it.
    fn mount(&self, earlier: Earlier) -> Option<Mount> {
        let (source, dir, dest) = match earlier {
            Earlier::Plan => (self.plan.as_ref()?, PLAN_DIR, PLAN_MOUNT),
            Earlier::Wheelhouse => (self.wheelhouse.as_ref()?, WHEELHOUSE_DIR, WHEELHOUSE_MOUNT),
            // The select step's output too, its other directory: the
            // members' sources key only the steps that see them.
            Earlier::Members => (self.plan.as_ref()?, MEMBERS_DIR, MEMBERS_MOUNT),
        };
        Some(Mount::ReadOnly {
            dest: dest.to_owned(),
            source: source.clone(),
            selector: Some(dir.to_owned()),
        })
    }
}

/// Runs an install helper step on `root`. Its inputs are `root`, its helper
/// files, the earlier steps' outputs it `sees`, and (if any) exactly its
/// context files, or the whole context for a step that asks for it (its
/// outputs, mounted by content, then shield the later steps). `key` keeps the helper and context sources of different
/// steps apart.
fn helper_exec(
    root: &Output,
    step: &InstallStep,
    earlier: &StepOutputs,
    opts: &LowerOptions,
    key: &str,
    context_excludes: &[String],
) -> Output {
    let c = &opts.constraints;
    let helper_paths: Vec<String> = step
        .helper_files
        .iter()
        .map(|f| format!("/{}", f.name))
        .collect();
    let helper_files: Vec<(&str, i32, &[u8])> = step
        .helper_files
        .iter()
        .zip(&helper_paths)
        .map(|(f, path)| (path.as_str(), 0o444, f.contents.as_slice()))
        .collect();
    let helper = mkfiles(
        &helper_files,
        c,
        &opts.name("builder", &format!("pyfront {key} helper")),
    );
    let mut mounts = vec![Mount::ReadOnly {
        dest: HELPER_MOUNT.to_owned(),
        source: helper,
        selector: None,
    }];
    if step.whole_context {
        mounts.push(Mount::ReadOnly {
            dest: CONTEXT_MOUNT.to_owned(),
            source: context_source(context_excludes, opts),
            selector: None,
        });
    } else if !step.context_files.is_empty() {
        let inputs = local(
            CONTEXT_LOCAL,
            &LocalOptions {
                include_patterns: step.context_files.clone(),
                shared_key_hint: Some(format!("pyfront-{key}-inputs")),
                ..LocalOptions::default()
            },
            c,
            &opts.name("builder", &format!("load {key} inputs")),
        );
        mounts.push(Mount::ReadOnly {
            dest: CONTEXT_MOUNT.to_owned(),
            source: inputs,
            selector: None,
        });
    }
    if !step.local_dirs.is_empty() {
        // Only the local packages' directories, minus `.dockerignore`: an
        // app-only change leaves the step cached.
        let source = if step.local_dirs.iter().any(|d| d == ".") {
            context_source(context_excludes, opts)
        } else {
            local(
                CONTEXT_LOCAL,
                &LocalOptions {
                    include_patterns: step.local_dirs.clone(),
                    exclude_patterns: context_excludes.to_vec(),
                    shared_key_hint: Some(format!("pyfront-{key}-local-packages")),
                },
                c,
                &opts.name("builder", &format!("load {key} local packages")),
            )
        };
        mounts.push(Mount::ReadOnly {
            dest: LOCAL_MOUNT.to_owned(),
            source,
            selector: None,
        });
    }
    mounts.extend(step.sees.iter().filter_map(|e| earlier.mount(*e)));
    for cache in &step.caches {
        mounts.push(Mount::Cache {
            dest: cache.path.clone(),
            id: cache.id.clone(),
            sharing: CacheSharing::Shared,
        });
    }
    for id in &step.secrets {
        // Optional: a missing secret reaches our helper, which names the id
        // and the `--secret` flag to add, instead of BuildKit's terse error.
        mounts.push(Mount::Secret {
            dest: format!("{SECRETS_DIR}/{id}"),
            id: id.as_str().to_owned(),
            mode: 0o400,
            optional: true,
        });
    }
    let mut env = opts.builder_env.clone();
    env.extend(step.env.iter().map(|(k, v)| format!("{k}={v}")));
    let source_ranges = match &opts.source_map {
        Some(map) => step
            .locations
            .iter()
            .map(|span| proto_range(map.range(span.clone()).whole_lines()))
            .collect(),
        None => Vec::new(),
    };
    exec(
        root,
        Exec {
            args: step.args.clone(),
            env,
            cwd: "/".to_owned(),
            network: if step.network {
                opts.network
            } else {
                NetMode::None
            },
            mounts,
            source_ranges,
            ..Exec::default()
        },
        c,
        &opts.name("builder", &step.title),
    )
}

/// The environment of a build command: the builder base's, with the venv
/// first on `PATH` and as `VIRTUAL_ENV` (so `python` is the venv's, with
/// the app's dependencies), then the step's own `env`, which wins.
fn run_env(step: &RunStep, opts: &LowerOptions) -> Vec<String> {
    let mut env: Vec<(String, String)> = opts
        .builder_env
        .iter()
        .map(|e| match e.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (e.clone(), String::new()),
        })
        .collect();
    let path = match env.iter().find(|(k, _)| k == "PATH") {
        Some((_, v)) if !v.is_empty() => format!("{VENV}/bin:{v}"),
        _ => format!("{VENV}/bin:{DEFAULT_PATH}"),
    };
    let mut set = |key: &str, value: String| match env.iter_mut().find(|(k, _)| k == key) {
        Some(entry) => entry.1 = value,
        None => env.push((key.to_owned(), value)),
    };
    set("PATH", path);
    set("VIRTUAL_ENV", VENV.to_owned());
    for (k, v) in &step.env {
        set(k, v.clone());
    }
    env.into_iter().map(|(k, v)| format!("{k}={v}")).collect()
}

/// Runs a build command on `root` in the workdir: the user's argv as
/// it is, no mounts (so no secret, no cache), network none unless the step
/// asks for the build's.
fn run_exec(root: &Output, step: &RunStep, workdir: &str, opts: &LowerOptions) -> Output {
    let source_ranges = match &opts.source_map {
        Some(map) => vec![proto_range(map.range(step.location.clone()).whole_lines())],
        None => Vec::new(),
    };
    exec(
        root,
        Exec {
            args: step.args.clone(),
            env: run_env(step, opts),
            cwd: workdir.to_owned(),
            network: if step.network {
                opts.network
            } else {
                NetMode::None
            },
            source_ranges,
            ..Exec::default()
        },
        &opts.constraints,
        &opts.name("builder", &step.title),
    )
}

/// The check that every output exists after the build commands: a fixed
/// script, the workdir and each `(step, path)` pair as its arguments, never
/// pasted into it. It names the step and the path of each missing one.
const OUTPUTS_SCRIPT: &str = "cd \"$1\" || exit 1; workdir=$1; shift; missing=0; \
while [ $# -ge 2 ]; do \
if [ ! -e \"$2\" ] && [ ! -L \"$2\" ]; then \
printf 'pyfront: %s lists output `%s`, but %s/%s does not exist after the build commands\\n' \"$1\" \"$2\" \"$workdir\" \"$2\" >&2; \
missing=1; fi; shift 2; done; exit $missing";

/// One output of the build commands, copied from the builder's result
/// over the app code.
struct OutputCopy<'a> {
    from: &'a Output,
    opts: CopyOptions,
    title: String,
    name: String,
}

/// Runs the outputs check on the last build command's result; the copies
/// into the app image read from its result (the same files), so a missing
/// output fails the build here, with the step named, not in a copy.
fn check_outputs(
    root: &Output,
    steps: &[RunStep],
    outputs: &[RunOutput],
    workdir: &str,
    opts: &LowerOptions,
) -> Output {
    let mut args = vec![
        "/bin/sh".to_owned(),
        "-c".to_owned(),
        OUTPUTS_SCRIPT.to_owned(),
        "pyfront-outputs".to_owned(),
        workdir.to_owned(),
    ];
    for o in outputs {
        let command = steps
            .get(o.step - 1)
            .map(|s| display_argv(&s.args))
            .unwrap_or_default();
        args.push(format!("[[build.run]] {} ({command})", o.step));
        args.push(o.path.clone());
    }
    let source_ranges = match &opts.source_map {
        Some(map) => outputs
            .iter()
            .map(|o| proto_range(map.range(o.location.clone()).whole_lines()))
            .collect(),
        None => Vec::new(),
    };
    let paths: Vec<&str> = outputs.iter().map(|o| o.path.as_str()).collect();
    exec(
        root,
        Exec {
            args,
            env: vec![format!("PATH={DEFAULT_PATH}")],
            cwd: "/".to_owned(),
            network: NetMode::None,
            source_ranges,
            ..Exec::default()
        },
        &opts.constraints,
        &opts.name(
            "builder",
            &format!("check the build outputs: {}", paths.join(" ")),
        ),
    )
}

/// The whole build context minus `.dockerignore`. One op for every user, so
/// BuildKit sends the context once.
fn context_source(excludes: &[String], opts: &LowerOptions) -> Output {
    local(
        CONTEXT_LOCAL,
        &LocalOptions {
            exclude_patterns: excludes.to_vec(),
            shared_key_hint: Some(CONTEXT_LOCAL.to_owned()),
            ..LocalOptions::default()
        },
        &opts.constraints,
        &opts.name("app", "load build context"),
    )
}

pub fn lower(plan: &Plan, opts: &LowerOptions) -> Lowered {
    let c = &opts.constraints;
    let b = &plan.builder;
    let mut builder_layers = Vec::new();

    let mut root = image(
        &b.base.normalized,
        opts.resolve_mode,
        c,
        &opts.name("builder", &format!("FROM {}", b.base.original)),
    );

    if !b.system_packages.is_empty() {
        let (out, title) = apt_install(
            &root,
            &b.system_packages,
            APT_SCRIPT,
            opts.builder_env.clone(),
            "builder",
            opts,
        );
        root = out;
        builder_layers.push(history(&title));
    }

    // The builder's system packages, before any venv or install step: the
    // load check reads their dpkg database from here, so it never needs the
    // install step's own result (a runner that takes the venv from a
    // registry cache must not re-run the install for the check).
    let packages_only = root.clone();

    let excludes = &plan.app.context_excludes;
    let mut earlier = StepOutputs::default();
    // The installer's own tools (uv) before the venv: everything from the
    // venv step on is the venv alone, so the app stage can graft exactly
    // those layers (`graft_venv`).
    if let Some(tools) = &b.tools {
        root = helper_exec(&root, tools, &earlier, opts, "tools", &[]);
        builder_layers.push(history(&tools.title));
    }
    let before_venv = root.clone();
    let venv_layers_from = builder_layers.len();
    // Without pip: the builder's pip installs into it (see install.py), so
    // the runtime image carries no pip or setuptools, and the step is fast.
    let venv_title = format!("python3 -m venv --without-pip {VENV}");
    root = exec(
        &root,
        Exec {
            args: ["python3", "-m", "venv", "--without-pip", VENV]
                .map(str::to_owned)
                .to_vec(),
            env: opts.builder_env.clone(),
            cwd: "/".to_owned(),
            ..Exec::default()
        },
        c,
        &opts.name("builder", &venv_title),
    );
    builder_layers.push(history(&venv_title));

    let install = match &b.install {
        Install::Direct(step) => step,
        Install::Hermetic(h) => {
            // Both run on the builder before the venv step (they use the
            // builder's own Python and tools, never the venv), so the
            // engine runs them while it makes the venv; only their named
            // directory is used: neither becomes a layer.
            if let Some(select) = &h.select {
                earlier.plan = Some(helper_exec(
                    &before_venv,
                    select,
                    &earlier,
                    opts,
                    "select",
                    excludes,
                ));
            }
            earlier.wheelhouse = Some(helper_exec(
                &before_venv,
                &h.fetch,
                &earlier,
                opts,
                "fetch",
                excludes,
            ));
            &h.install
        }
    };
    root = helper_exec(&root, install, &earlier, opts, "install", excludes);
    builder_layers.push(history(&install.title));
    if let Some(project) = &b.project {
        root = helper_exec(&root, project, &earlier, opts, "project", excludes);
        builder_layers.push(history(&project.title));
    }
    // The venv as the install left it: what the app image copies (or
    // grafts). The build commands' changes to it (if any) are not shipped.
    let venv = root.clone();
    let venv_layers_to = builder_layers.len();
    let a = &plan.app;
    let workdir = a.workdir.as_str();
    // The app code, copied the same way into the builder (for the build
    // commands) and into the app stage.
    let context = context_source(&a.context_excludes, opts);
    let code_title = format!("COPY . {workdir}");
    let code_dest = format!("{}/", workdir.trim_end_matches('/'));
    let mut run_result = None;
    if !b.run.is_empty() {
        root = copy(
            Some(&root),
            &context,
            &CopyOptions {
                src: "/".to_owned(),
                dest: code_dest.clone(),
                contents_only: true,
                owner: None,
                include_patterns: Vec::new(),
            },
            c,
            &opts.name("builder", &code_title),
        );
        builder_layers.push(history(&code_title));
        for step in &b.run {
            root = run_exec(&root, step, workdir, opts);
            builder_layers.push(history(&step.title));
        }
        if !a.outputs.is_empty() {
            run_result = Some(check_outputs(&root, &b.run, &a.outputs, workdir, opts));
        }
    }
    let builder = root;

    let app_base = image(
        &a.base.normalized,
        opts.resolve_mode,
        c,
        &opts.name("app", &format!("FROM {}", a.base.original)),
    );
    // Runtime libraries first, in a layer of their own: a venv change
    // leaves it cached, and the venv copy lands on top of it.
    let mut app_layers = Vec::new();
    let app_base = if a.system_packages.is_empty() {
        app_base
    } else {
        let env = vec![format!("PATH={DEFAULT_PATH}")];
        let (out, title) = apt_install(
            &app_base,
            &a.system_packages,
            APP_APT_SCRIPT,
            env,
            "app",
            opts,
        );
        app_layers.push(history(&title));
        out
    };
    // The user next, also below the venv: a venv change leaves it cached.
    let app_base = match &a.user {
        Some(user) => {
            let (out, title) = create_user(&app_base, user, opts);
            app_layers.push(history(&title));
            out
        }
        None => app_base,
    };
    let code = CopyOptions {
        src: "/".to_owned(),
        dest: code_dest,
        contents_only: true,
        // By name, looked up in the image's own /etc/passwd: the user
        // step made sure it is there, and a base's own user of that
        // name keeps its ids.
        owner: a.user.as_ref().map(|u| Owner::Name(u.name.clone())),
        include_patterns: Vec::new(),
    };
    let code_name = opts.name("app", &code_title);
    // The outputs of the build commands, over the app code: new files are
    // added, files the code copy also has are replaced, nothing is removed.
    // Owned like the code. None without build commands (or outputs).
    let outputs: Vec<OutputCopy> = match &run_result {
        Some(result) => a
            .outputs
            .iter()
            .map(|output| {
                let path = format!("{}/{}", workdir.trim_end_matches('/'), output.path);
                let title = format!("COPY --from=builder {path} {path}");
                OutputCopy {
                    from: result,
                    name: opts.name("app", &title),
                    title,
                    opts: CopyOptions {
                        src: path.clone(),
                        dest: path,
                        contents_only: true,
                        owner: code.owner.clone(),
                        include_patterns: Vec::new(),
                    },
                }
            })
            .collect(),
        None => Vec::new(),
    };
    let (app, check) = if opts.graft {
        // The venv's own layers, stacked on the runtime base: no copy, the
        // builder's blobs as they are, and a new base only re-stacks them.
        let venv_layers = diff(
            &before_venv,
            &venv,
            c,
            &opts.name("app", &format!("the builder's {VENV} layers")),
        );
        app_layers.extend(
            builder_layers[venv_layers_from..venv_layers_to]
                .iter()
                .cloned(),
        );
        let mut layers = vec![
            app_base.clone(),
            venv_layers.clone(),
            copy_to_scratch(&context, &code, &app_base, c, &code_name),
        ];
        layers.extend(
            outputs
                .iter()
                .map(|o| copy_to_scratch(o.from, &o.opts, &app_base, c, &o.name)),
        );
        let app = merge(
            &layers,
            c,
            &opts.name("app", &format!("stack the base, {VENV} and the app code")),
        );
        // The load check on the base with the venv layers and the app
        // code's shared objects mounted: an app change that touches no
        // shared object leaves it cached. Mounts, not a merge of the base
        // and the venv layers: a merge materialises every file of the venv
        // again on each new base (0.4 s of a rebase on the 37-package
        // lock), a mount nothing. The venv layers (the diff), not the
        // builder's state: a runner that takes them from a registry cache
        // must not need the builder's base and install step for the check.
        // The build commands' outputs may be shared objects built from the
        // code: with them it checks the whole app image (an app change
        // re-runs the build commands anyway).
        let check = if outputs.is_empty() && code_mountable_at(workdir) {
            CheckInputs {
                root: app_base.clone(),
                venv: Some(venv_layers),
                code: Some(code_shared_objects(&context, opts)),
            }
        } else {
            CheckInputs {
                root: app.clone(),
                venv: None,
                code: None,
            }
        };
        (app, check)
    } else {
        let venv_title = format!("COPY --from=builder {VENV} {VENV}");
        let with_venv = copy(
            Some(&app_base),
            &venv,
            &CopyOptions {
                src: VENV.to_owned(),
                dest: VENV.to_owned(),
                contents_only: true,
                // root's: the app cannot change its own dependencies.
                owner: None,
                include_patterns: Vec::new(),
            },
            c,
            &opts.name("app", &venv_title),
        );
        app_layers.push(history(&venv_title));
        let app = copy(Some(&with_venv), &context, &code, c, &code_name);
        let app = outputs
            .iter()
            .fold(app, |app, o| copy(Some(&app), o.from, &o.opts, c, &o.name));
        // Engines without merge and diff (BuildKit before v0.10) lack the
        // copy's include patterns too, and a client-side filter cannot be
        // trusted to find every shared object (see `code_shared_objects`):
        // the check runs on the whole app image, so any app change re-runs it.
        let check = CheckInputs {
            root: app.clone(),
            venv: None,
            code: None,
        };
        (app, check)
    };
    // Either way the code and the outputs are the app stage's last layers.
    app_layers.push(history(&code_title));
    app_layers.extend(outputs.iter().map(|o| history(&o.title)));
    let load_check = load_check(&check, &packages_only, workdir, opts);
    Lowered {
        builder,
        builder_layers,
        app,
        app_layers,
        load_check,
    }
}

#[cfg(test)]
mod tests;
