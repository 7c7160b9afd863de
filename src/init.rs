//! `pyfront init`: a starter spec from what a project directory already says
//! (its lock file or requirement files, its indexes, its Python version, its
//! entry module). It asks nothing; what it cannot infer (which index needs
//! credentials) it writes as commented lines to fill in.

use std::path::Path;

use crate::pyproject::PyProject;

/// What `init` found in a project directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub installer: &'static str,
    /// pip: the requirement files, `requirements.txt` first.
    pub requirements: Vec<String>,
    /// `(name, url)` of each index `pyproject.toml` names.
    pub indexes: Vec<(String, String)>,
    /// `major.minor`.
    pub python: String,
    /// A module with `__main__.py`, for `cmd`.
    pub module: Option<String>,
    pub module_in_src: bool,
}

const DEFAULT_PYTHON: &str = "3.12";

/// `3.11` from `>=3.11`, `~=3.11.2`, `^3.11`, `3.11.*` and the like.
fn python_version(spec: &str) -> Option<String> {
    let start = spec.find(|c: char| c.is_ascii_digit())?;
    let mut parts = spec[start..].split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?;
    let minor = parts.next().filter(|m| !m.is_empty())?;
    (major == "3").then(|| format!("{major}.{minor}"))
}

/// Looks at `dir` and says what the spec should contain.
pub fn detect(dir: &Path) -> Result<Project, String> {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
    let pyproject_text = read("pyproject.toml");
    let pyproject: PyProject = match &pyproject_text {
        Some(t) => toml::from_str(t)
            .map_err(|e| format!("`pyproject.toml` is not valid TOML: {}", e.message()))?,
        None => PyProject::default(),
    };
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
        let mut found: Vec<String> = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.starts_with("requirements") && n.ends_with(".txt"))
            .filter(|n| !n.contains("dev") && !n.contains("test"))
            .collect();
        found.sort_by_key(|n| (n != "requirements.txt", n.clone()));
        if found.is_empty() {
            return Err(format!(
                "no `uv.lock`, `poetry.lock` or `requirements*.txt` in `{}`; lock the project first (`uv lock`, `poetry lock`) or write a requirements.txt",
                dir.display()
            ));
        }
        requirements = found;
    }
    let python = read(".python-version")
        .and_then(|v| python_version(v.trim()))
        .or_else(|| {
            pyproject
                .project
                .and_then(|p| p.requires_python)
                .and_then(|r| python_version(&r))
        })
        .or_else(|| {
            tool.poetry
                .and_then(|p| p.dependencies)
                .and_then(|d| d.python)
                .and_then(|r| python_version(&r))
        })
        .unwrap_or_else(|| DEFAULT_PYTHON.to_owned());
    let (module, module_in_src) = entry_module(dir);
    Ok(Project {
        installer,
        requirements,
        indexes: named
            .into_iter()
            // Credentials a `pyproject.toml` may carry stay there: the spec
            // refuses them, and the starter spec is printed and committed.
            .filter_map(|n| {
                let url = crate::redact::DisplaySafeUrl::new(n.url?).without_userinfo();
                Some((n.name, url.unredacted().to_owned()))
            })
            .collect(),
        python,
        module,
        module_in_src,
    })
}

/// The first `<module>/__main__.py` under `src/` or the project root.
fn entry_module(dir: &Path) -> (Option<String>, bool) {
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

/// The starter spec's text.
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
            if p.module_in_src {
                out.push_str("env = { PYTHONPATH = \"/app/src\" }\n");
            }
        }
        None => out.push_str("# cmd = [\"python\", \"-m\", \"yourapp\"]\n"),
    }
    out.push_str(&format!(
        "\n[build]\nbase = {}\n# system-packages = [\"build-essential\"]\n\n[install]\nwith = \"{}\"\n",
        quoted(&format!("python:{}-bookworm", p.python)),
        p.installer
    ));
    if !p.requirements.is_empty() {
        let list: Vec<String> = p.requirements.iter().map(|r| quoted(r)).collect();
        out.push_str(&format!("requirements = [{}]\n", list.join(", ")));
    }
    for (name, url) in &p.indexes {
        out.push_str(&format!(
            "\n[[index]]\nname = {}\nurl = {}\n# If it needs credentials (then build with --secret id=pypi_token,env=YOUR_TOKEN_VAR):\n# username = \"gitlab-ci-token\"\n# password-secret = \"pypi_token\"\n",
            quoted(name),
            quoted(url)
        ));
    }
    if p.indexes.is_empty() {
        out.push_str(
            "\n# A private index (credentials only as a BuildKit secret):\n# [[index]]\n# name = \"private\"\n# url = \"${CI_API_V4_URL}/groups/${GROUP_ID}/-/packages/pypi/simple\"\n# username = \"gitlab-ci-token\"\n# password-secret = \"pypi_token\"\n# default = true\n",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{BuildArgs, Spec};

    fn dir(files: &[(&str, &str)]) -> tempdir::Dir {
        let d = tempdir::Dir::new();
        for (name, text) in files {
            let path = d.0.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        d
    }

    /// A scratch directory without a dev-dependency.
    mod tempdir {
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Self {
                let mut bytes = [0u8; 8];
                let _ = std::fs::File::open("/dev/urandom")
                    .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
                let name: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                let path = std::env::temp_dir().join(format!("pyfront-init-{name}"));
                std::fs::create_dir_all(&path).unwrap();
                Self(path)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn a_uv_project() {
        let d = dir(&[
            ("uv.lock", "version = 1\n"),
            (
                "pyproject.toml",
                "[project]\nname = \"x\"\nrequires-python = \">=3.11\"\n[[tool.uv.index]]\nname = \"private\"\nurl = \"https://pypi.corp.example/simple\"\n",
            ),
            ("src/myapp/__main__.py", ""),
        ]);
        let p = detect(&d.0).unwrap();
        assert_eq!(p.installer, "uv");
        assert_eq!(p.python, "3.11");
        assert_eq!(
            p.indexes,
            [(
                "private".to_owned(),
                "https://pypi.corp.example/simple".to_owned()
            )]
        );
        assert_eq!(p.module.as_deref(), Some("myapp"));
        let text = render(&p, "pyfront:dev");
        let spec = Spec::parse(&text, &BuildArgs::new()).unwrap();
        assert_eq!(spec.app.base.original, "python:3.11-slim-bookworm");
        assert_eq!(spec.app.cmd.clone().unwrap(), ["python", "-m", "myapp"]);
        assert_eq!(spec.indexes[0].name.as_str(), "private");
    }

    #[test]
    fn a_pip_project() {
        let d = dir(&[
            ("requirements-prod.txt", "x\n"),
            ("requirements.txt", "y\n"),
            ("requirements-dev.txt", "z\n"),
            (".python-version", "3.10.4\n"),
        ]);
        let p = detect(&d.0).unwrap();
        assert_eq!(p.installer, "pip");
        assert_eq!(
            p.requirements,
            ["requirements.txt", "requirements-prod.txt"]
        );
        assert_eq!(p.python, "3.10");
        let spec = Spec::parse(&render(&p, "pyfront:dev"), &BuildArgs::new()).unwrap();
        assert_eq!(spec.install.inputs.len(), 2);
    }

    #[test]
    fn a_poetry_project_and_an_empty_one() {
        let d = dir(&[
            ("poetry.lock", ""),
            ("pyproject.toml", "[tool.poetry.dependencies]\npython = \"^3.12\"\n[[tool.poetry.source]]\nname = \"corp\"\nurl = \"https://corp.example/simple\"\n"),
        ]);
        let p = detect(&d.0).unwrap();
        assert_eq!((p.installer, p.python.as_str()), ("poetry", "3.12"));
        assert!(Spec::parse(&render(&p, "pyfront:dev"), &BuildArgs::new()).is_ok());
        let empty = dir(&[]);
        assert!(detect(&empty.0).unwrap_err().contains("no `uv.lock`"));
    }

    #[test]
    fn python_versions() {
        assert_eq!(python_version(">=3.11").as_deref(), Some("3.11"));
        assert_eq!(python_version("~=3.9.2").as_deref(), Some("3.9"));
        assert_eq!(python_version("^3.12").as_deref(), Some("3.12"));
        assert_eq!(python_version("3").as_deref(), None);
        assert_eq!(python_version("2.7").as_deref(), None);
    }
}
