//! `pyfront init`: a starter spec from what a project directory already says
//! (its lock file or requirement files, its indexes, its Python version, its
//! entry module). It asks nothing. The spec it writes builds as written once
//! the values only the user knows are passed: each index's credentials are
//! active `password-secret` lines, so the build asks for exactly those
//! `--secret` flags.

mod packages;
mod python;

use std::collections::BTreeSet;
use std::path::Path;

pub use packages::SystemPackages;

use crate::pyproject::{Lock, PyProject};

/// What `init` found in a project directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub installer: &'static str,
    /// pip: the requirement files, `requirements.txt` first.
    pub requirements: Vec<String>,
    /// `(name, url)` of each index `pyproject.toml` names.
    pub indexes: Vec<(String, String)>,
    /// The first of `indexes` that replaces PyPI for the installer (uv's
    /// `default = true`, Poetry's primary source): `default = true` in the
    /// spec, so pyfront's own pip (the tools' provisioning, an sdist's build
    /// requirements) does not ask PyPI either.
    pub default_index: Option<String>,
    /// pip: the `index-url` of the project's `pip.conf`.
    pub pip_index: Option<String>,
    /// `major.minor`.
    pub python: String,
    /// A module with `__main__.py`, for `cmd`.
    pub module: Option<String>,
    /// The directory that holds `module`, relative to the project (`src`,
    /// `packages/app/src`): `PYTHONPATH`; `None` for the project root.
    pub module_dir: Option<String>,
    /// uv workspace: the member whose module is the entry (`[install]
    /// package`).
    pub package: Option<String>,
    /// The dependencies' names, PEP 503 normalized, sorted: the requirement
    /// files (and what they include), `[project] dependencies`, the lock's
    /// packages.
    pub dependencies: Vec<String>,
    /// uv and Poetry: `(name, path)` of each package the lock takes from a
    /// directory (path dependencies, path sources, workspace members), the
    /// path relative to the project.
    pub local_packages: Vec<(String, String)>,
    /// pip: the local path requirements of the requirement files (`-e .`,
    /// `./libs/sdk`), in file order.
    pub pip_local: Vec<PipLocal>,
}

/// A local path requirement of a pip requirement file, and whether the
/// build installs it hermetically (the conversion's own check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipLocal {
    /// As written (`-e ./libs/sdk[s3]`, `.`).
    pub written: String,
    /// `file:line:col` of the requirement.
    pub at: String,
    /// `None`: it installs hermetically; else why the build refuses it
    /// and the fix.
    pub refused: Option<(String, String)>,
}

impl PipLocal {
    /// The note for `pyfront init`'s output, when the build refuses it.
    pub fn refusal(&self) -> Option<String> {
        let (why, fix) = self.refused.as_ref()?;
        Some(format!(
            "the build refuses `{}` at {}: pyfront cannot tell its dependencies without running its build code ({why}); fix: {fix}",
            self.written, self.at
        ))
    }
}

const DEFAULT_PYTHON: &str = "3.12";

/// The `# syntax=` image when neither `--syntax` nor `PYFRONT_SYNTAX` names
/// one: what `make image` tags.
pub const DEFAULT_SYNTAX: &str = "pyfront:dev";

/// Looks at `dir` and says what the spec should contain.
pub fn detect(dir: &Path) -> Result<Project, String> {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
    let pyproject_text = read("pyproject.toml");
    let pyproject: PyProject = match &pyproject_text {
        Some(t) => toml::from_str(t)
            .map_err(|e| format!("`pyproject.toml` is not valid TOML: {}", e.message()))?,
        None => PyProject::default(),
    };
    let pyproject_is_workspace = pyproject.is_uv_workspace();
    let mut tool = pyproject.tool;
    let (installer, named) = if dir.join("uv.lock").is_file() {
        ("uv", tool.uv.unwrap_or_default().index)
    } else if dir.join("poetry.lock").is_file() {
        (
            "poetry",
            tool.poetry
                .as_mut()
                .map(|p| std::mem::take(&mut p.source))
                .unwrap_or_default(),
        )
    } else {
        ("pip", Vec::new())
    };
    let mut requirements = Vec::new();
    if installer == "pip" {
        requirements = requirement_roots(dir)?;
    }
    let pip_index = (installer == "pip")
        .then(|| read("pip.conf").and_then(|t| pip_conf_index(&t)))
        .flatten();
    // An exact pin wins; else the newest Python every declared constraint
    // allows (the project's, Poetry's, the lock's).
    let lock = match installer {
        "uv" => read("uv.lock"),
        "poetry" => read("poetry.lock"),
        _ => None,
    }
    .and_then(|t| toml::from_str::<Lock>(&t).ok())
    .unwrap_or_default();
    let (project_requires, project_dependencies) = pyproject
        .project
        .map(|p| (p.requires_python, p.dependencies.unwrap_or_default()))
        .unwrap_or_default();
    let (pip_lines, pip_local, local_dependencies) = requirements_of_files(dir, &requirements);
    let mut dependencies: BTreeSet<String> = project_dependencies
        .iter()
        .chain(&pip_lines)
        .chain(&local_dependencies)
        .filter_map(|r| packages::requirement_name(r))
        .collect();
    dependencies.extend(lock.package.iter().map(|p| packages::normalize(&p.name)));
    let local_packages = lock
        .local_packages()
        .iter()
        .map(|l| (l.name.to_owned(), l.path.to_owned()))
        .collect();
    let lock_requires = if installer == "uv" {
        lock.requires_python.clone()
    } else {
        None
    };
    let constraints: Vec<String> = [
        project_requires,
        tool.poetry
            .and_then(|p| p.dependencies)
            .and_then(|d| d.python),
        lock_requires,
    ]
    .into_iter()
    .flatten()
    .collect();
    let python = read(".python-version")
        .and_then(|v| python::exact(&v))
        .or_else(|| read("runtime.txt").and_then(|v| python::exact(&v)))
        .or_else(|| {
            let refs: Vec<&str> = constraints.iter().map(String::as_str).collect();
            (!refs.is_empty())
                .then(|| python::newest_allowed(&refs))
                .flatten()
        })
        .unwrap_or_else(|| DEFAULT_PYTHON.to_owned());
    let (mut module, mut module_dir) = entry_module(dir);
    let mut package = None;
    if installer == "uv" && module.is_none() && pyproject_is_workspace {
        if let Some((member, m, d)) = workspace_entry(dir, &lock) {
            (package, module, module_dir) = (Some(member), Some(m), d);
        }
    }
    let default_index = named
        .iter()
        .find(|n| n.url.is_some() && n.replaces_pypi(installer, &named))
        .map(|n| n.name.clone());
    Ok(Project {
        installer,
        requirements,
        default_index,
        indexes: named
            .into_iter()
            // Credentials a `pyproject.toml` may carry stay there: the spec
            // refuses them, and the starter spec is printed and committed.
            .filter_map(|n| {
                let url = crate::redact::DisplaySafeUrl::new(n.url?).without_userinfo();
                Some((n.name, url.unredacted().to_owned()))
            })
            .collect(),
        pip_index,
        python,
        module,
        module_dir,
        package,
        dependencies: dependencies.into_iter().collect(),
        local_packages,
        pip_local,
    })
}

/// The requirements of the requirement files `roots` and of the files they
/// include (`-r`; not `-c`, which installs nothing), as pip reads them; their
/// local path requirements, checked as the build checks them; and the
/// dependencies of those with static metadata. A set pip would refuse is
/// read from its roots only: `pyfront check` will say what is wrong with it.
fn requirements_of_files(
    dir: &Path,
    roots: &[String],
) -> (Vec<String>, Vec<PipLocal>, Vec<String>) {
    use crate::plan::installers::pip_local;
    use crate::plan::installers::{collect, requirement_lines, FileRole};
    let read = |path: &str| std::fs::read_to_string(dir.join(path)).ok();
    let parsed: Option<Vec<crate::spec::ContextPath>> = roots
        .iter()
        .map(|r| crate::spec::ContextPath::parse(r).ok())
        .collect();
    let set = parsed.and_then(|roots| collect(&roots, &mut |p| read(p.as_str())).ok());
    let files: Vec<String> = set
        .as_ref()
        .map(|set| {
            set.files
                .iter()
                .filter(|f| f.role != FileRole::Constraints)
                .map(|f| f.path.as_str().to_owned())
                .collect()
        })
        .unwrap_or_else(|| roots.to_vec());
    let lines = files
        .iter()
        .filter_map(|f| read(f))
        .flat_map(|text| requirement_lines(&text))
        .collect();
    let mut local: Vec<((String, usize), PipLocal)> = Vec::new();
    let mut local_dependencies = Vec::new();
    for l in set.iter().flat_map(|s| &s.local) {
        let source = read(l.file.as_str()).unwrap_or_default();
        let request = pip_local::Request::of(l, &source);
        let text = request.text;
        let pyproject = read(&pip_local::pyproject_path(&l.path));
        let require_hashes = set.as_ref().is_some_and(|s| s.require_hashes);
        let checked = pip_local::check(&request, l, require_hashes, pyproject.as_deref());
        let at = crate::source::SourceMap::new(l.file.as_str(), &source).position(l.span.start);
        let refused = match checked {
            Ok(m) => {
                local_dependencies.extend(m.dependencies);
                None
            }
            Err(why) => {
                let mut fix = why
                    .fix()
                    .unwrap_or("publish it to the index as a wheel, or install it from a uv or Poetry lock")
                    .to_owned();
                if l.path == "." {
                    fix.push_str(&format!(" {}", crate::convert::ROOT_HINT));
                }
                Some((why.to_string(), fix))
            }
        };
        let key = (l.file.as_str().to_owned(), l.span.start);
        local.push((
            key,
            PipLocal {
                written: if l.editable {
                    format!("-e {text}")
                } else {
                    text.to_owned()
                },
                at: format!("{}:{}:{}", l.file.as_str(), at.line, at.column),
                refused,
            },
        ));
    }
    // In file order (the set is by path).
    local.sort_by(|a, b| a.0.cmp(&b.0));
    local.dedup_by(|a, b| a.0 == b.0);
    let local = local.into_iter().map(|(_, l)| l).collect();
    (lines, local, local_dependencies)
}

/// The requirement files to name in the spec: the root
/// `requirements*.txt` (not dev or test, `requirements.txt` first) that no
/// other one includes (pip follows `-r` / `-c` itself), or else the
/// production file of a `requirements/` folder.
fn requirement_roots(dir: &Path) -> Result<Vec<String>, String> {
    let wanted = |n: &str| {
        n.starts_with("requirements")
            && n.ends_with(".txt")
            && !n.contains("dev")
            && !n.contains("test")
    };
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| wanted(n))
        .collect();
    found.sort_by_key(|n| (n != "requirements.txt", n.clone()));
    // A file another found file includes (`-r requirements-base.txt`) is
    // read through it.
    let included: Vec<String> = found
        .iter()
        .filter_map(|f| std::fs::read_to_string(dir.join(f)).ok())
        .flat_map(|text| {
            text.lines()
                .filter_map(|l| {
                    let l = l.trim();
                    l.strip_prefix("-r")
                        .or_else(|| l.strip_prefix("--requirement"))
                        .map(|rest| rest.trim_start_matches('=').trim().to_owned())
                })
                .collect::<Vec<_>>()
        })
        .collect();
    found.retain(|f| !included.contains(f));
    if found.is_empty() {
        for name in ["production.txt", "prod.txt", "base.txt", "main.txt"] {
            if dir.join("requirements").join(name).is_file() {
                found.push(format!("requirements/{name}"));
                break;
            }
        }
    }
    if found.is_empty() {
        return Err(format!(
            "no `uv.lock`, `poetry.lock` or `requirements*.txt` in `{}`; lock the project first (`uv lock`, `poetry lock`) or write a requirements.txt",
            dir.display()
        ));
    }
    Ok(found)
}

/// The `index-url` of a project's `pip.conf` (`[global]` or `[install]`),
/// without credentials.
fn pip_conf_index(text: &str) -> Option<String> {
    let url = text.lines().find_map(|l| {
        let (key, value) = l.split_once('=')?;
        matches!(key.trim(), "index-url" | "index_url").then(|| value.trim().to_owned())
    })?;
    let url = crate::redact::DisplaySafeUrl::new(url).without_userinfo();
    Some(url.unredacted().to_owned())
}

/// The first `<module>/__main__.py` under `src/` or the project root, and
/// `Some("src")` for the former.
fn entry_module(dir: &Path) -> (Option<String>, Option<String>) {
    match entry_module_in(dir) {
        (Some(m), true) => (Some(m), Some("src".to_owned())),
        (m, _) => (m, None),
    }
}

/// A uv workspace whose root has no entry module: the first member of the
/// lock (by path) that has one, as `(member, module, module_dir)`; that
/// member is the app (`[install] package`), it runs from the app code.
fn workspace_entry(dir: &Path, lock: &Lock) -> Option<(String, String, Option<String>)> {
    let mut members: Vec<(&str, &str)> = lock
        .package
        .iter()
        .filter_map(|p| {
            let s = p.source.as_ref()?;
            let path = s.editable.as_deref().or(s.virtual_path.as_deref())?;
            Some((path, p.name.as_str()))
        })
        .filter(|(path, _)| {
            *path != "."
                && !path.starts_with('/')
                && path.split('/').all(|c| !c.is_empty() && c != "..")
        })
        .collect();
    members.sort();
    members.into_iter().find_map(|(path, name)| {
        let (module, in_src) = entry_module_in(&dir.join(path));
        let module_dir = if in_src {
            format!("{path}/src")
        } else {
            path.to_owned()
        };
        module.map(|m| (name.to_owned(), m, Some(module_dir)))
    })
}

fn entry_module_in(dir: &Path) -> (Option<String>, bool) {
    for (base, in_src) in [(dir.join("src"), true), (dir.to_path_buf(), false)] {
        let Ok(entries) = std::fs::read_dir(&base) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().join("__main__.py").is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .collect();
        names.sort();
        if let Some(first) = names.into_iter().next() {
            return (Some(first), in_src);
        }
    }
    (None, false)
}

fn quoted(s: &str) -> String {
    // A JSON string is a valid TOML basic string (same escapes).
    serde_json::to_string(s).unwrap_or_default()
}

/// The credential lines of the `i`-th index: active, so the build asks for
/// exactly these secrets (an index that needs none: delete them). A GitLab
/// registry takes the CI job token with the user `gitlab-ci-token`; other
/// indexes get a username and a password secret.
fn credential_lines(name: &str, url: &str, i: usize) -> Vec<String> {
    let base: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if url.contains("/packages/pypi") {
        let id = if i == 0 {
            "pypi_token".to_owned()
        } else {
            format!("{base}_token")
        };
        vec![
            "username = \"gitlab-ci-token\"".to_owned(),
            format!("password-secret = {}", quoted(&id)),
        ]
    } else {
        vec![
            format!("username-secret = {}", quoted(&format!("{base}_username"))),
            format!("password-secret = {}", quoted(&format!("{base}_password"))),
        ]
    }
}

/// The secret ids the starter spec asks for, in order.
pub fn secret_ids(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with("password-secret") || l.starts_with("username-secret"))
        .filter_map(|l| l.split('"').nth(1).map(str::to_owned))
        .collect()
}

/// `system-packages = [...]` for the packages of `by_dependency`, merged,
/// after a comment naming the dependency each is for; nothing when empty.
fn system_packages_lines(
    by_dependency: &std::collections::BTreeMap<String, Vec<String>>,
    why: &str,
) -> String {
    if by_dependency.is_empty() {
        return String::new();
    }
    let mut out = format!("# Debian packages {why} (`pyfront init`'s table, see the README):\n");
    for (dependency, packages) in by_dependency {
        out.push_str(&format!("#   {dependency}: {}\n", packages.join(", ")));
    }
    let list: Vec<String> = SystemPackages::merged(by_dependency)
        .iter()
        .map(|p| quoted(p))
        .collect();
    out.push_str(&format!("system-packages = [{}]\n", list.join(", ")));
    out
}

/// The starter spec's text.
/// The comment on the lock's local packages: they need no key (the build
/// finds them in the lock), but the build context must hold them.
fn local_packages_lines(local: &[(String, String)]) -> String {
    if local.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "# Local packages of this repository, from the lock: built from the build context\n\
         # in the install step (no network, no secrets) and installed non-editable:\n",
    );
    for (name, path) in local {
        out.push_str(&format!("#   {name}: {path}\n"));
    }
    for (name, path) in local {
        if !crate::pyproject::stays_below(path) {
            out.push_str(&format!(
                "# WARNING: `{name}` is at `{path}`, outside this directory: the build fails until the\n\
                 # build context holds it (make the repository root the project, or move it here).\n"
            ));
        }
    }
    out
}

/// The comment on pip's local path requirements: what the install step
/// builds (a copy, also for `-e`), and what the build refuses, with the fix.
fn pip_local_lines(local: &[PipLocal]) -> String {
    if local.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "# Local packages of the requirement files: built from the build context in the\n\
         # install step (no network, no secrets) and installed as a copy (`-e` too: an\n\
         # image has no build context to link to):\n",
    );
    for l in local.iter().filter(|l| l.refused.is_none()) {
        out.push_str(&format!("#   {} ({})\n", l.written, l.at));
    }
    for l in local {
        if let Some((why, fix)) = &l.refused {
            out.push_str(&format!(
                "# WARNING: the build refuses `{}` ({}): pyfront cannot tell its\n\
                 # dependencies without running its build code: {why}.\n\
                 # Fix: {fix}.\n",
                l.written, l.at
            ));
        }
    }
    out
}

pub fn render(p: &Project, syntax: &str) -> String {
    let mut out = format!(
        "# syntax={syntax}\n# Written by `pyfront init`; see the README for every key.\n\n[app]\n"
    );
    out.push_str(&format!(
        "base = {}\n",
        quoted(&format!("python:{}-slim-bookworm", p.python))
    ));
    out.push_str("workdir = \"/app\"\n# Not root: the app cannot change its own code or venv.\nuser = \"1000:1000\"\n");
    match &p.module {
        Some(m) => {
            out.push_str(&format!("cmd = [\"python\", \"-m\", {}]\n", quoted(m)));
            if let Some(d) = &p.module_dir {
                out.push_str(&format!(
                    "env = {{ PYTHONPATH = {} }}\n",
                    quoted(&format!("/app/{d}"))
                ));
            }
        }
        None => out.push_str("# cmd = [\"python\", \"-m\", \"yourapp\"]\n"),
    }
    let system = SystemPackages::for_dependencies(&p.dependencies);
    out.push_str(&system_packages_lines(
        &system.runtime,
        "needed at run time",
    ));
    out.push_str(&format!(
        "\n[build]\nbase = {}\n",
        quoted(&format!("python:{}-bookworm", p.python)),
    ));
    if system.build.is_empty() {
        out.push_str("# system-packages = [\"build-essential\"]\n");
    } else {
        out.push_str(&system_packages_lines(
            &system.build,
            "to build these from source",
        ));
    }
    out.push_str(&format!("\n[install]\nwith = \"{}\"\n", p.installer));
    out.push_str(&local_packages_lines(&p.local_packages));
    out.push_str(&pip_local_lines(&p.pip_local));
    if let Some(member) = &p.package {
        out.push_str(&format!(
            "# The workspace member that is the app: its dependencies (other members\n# included) go into the venv; it runs from the app code (PYTHONPATH).\npackage = {}\n",
            quoted(member)
        ));
    }
    if !p.requirements.is_empty() {
        let list: Vec<String> = p.requirements.iter().map(|r| quoted(r)).collect();
        out.push_str(&format!("requirements = [{}]\n", list.join(", ")));
    }
    let mut indexes: Vec<(String, String, bool)> = p
        .indexes
        .iter()
        .map(|(n, u)| (n.clone(), u.clone(), p.default_index.as_ref() == Some(n)))
        .collect();
    if let Some(url) = &p.pip_index {
        indexes.push(("private".to_owned(), url.clone(), true));
    }
    for (i, (name, url, default)) in indexes.iter().enumerate() {
        out.push_str(&format!(
            "\n[[index]]\nname = {}\nurl = {}\n",
            quoted(name),
            quoted(url)
        ));
        for line in credential_lines(name, url, i) {
            out.push_str(&line);
            out.push('\n');
        }
        if *default {
            out.push_str("default = true\n");
        }
    }
    if indexes.is_empty() {
        out.push_str(
            "\n# A private index (credentials only as a BuildKit secret):\n# [[index]]\n# name = \"private\"\n# url = \"${CI_API_V4_URL}/groups/${GROUP_ID}/-/packages/pypi/simple\"\n# username = \"gitlab-ci-token\"\n# password-secret = \"pypi_token\"\n# default = true\n",
        );
    }
    out
}

#[cfg(test)]
mod tests;
