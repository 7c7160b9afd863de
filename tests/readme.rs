//! The README and `docs/*.md` say what the code does (issue 14): every
//! snippet they show is taken from the Markdown itself, not from a copy,
//! and checked against the real thing, without an engine:
//!
//! - a ```` ```toml ```` block is a whole spec: written to a scratch context
//!   (requirement files, or `pyproject.toml` and a reduced lock made from the
//!   spec's own indexes) and run through the `pyfront check` binary, which
//!   must pass with no lint warning; ```` ```toml fragment ```` is completed
//!   with the required keys it leaves out, then checked the same way;
//!   ```` ```toml error ```` must fail, printing the next ```` ```text ````
//!   block;
//! - a shell line (fenced or an inline code span) that runs `pyfront` is
//!   parsed by the binary's own CLI (`--help` appended: an unknown
//!   subcommand or flag fails), and a `check`/`plan`/`llb` line whose spec
//!   exists is run, its shown output compared; `make X` names a Makefile
//!   target; a `docker` build line uses only flags that the e2e suite and the
//!   example scripts it runs use;
//! - repository paths in code spans, and links (with their `#anchor`) in
//!   every Markdown file, exist;
//! - the spec reference documents exactly the keys of `src/spec/raw.rs`,
//!   and the lints table exactly the rules of `src/lint`.
//!
//! It prints how many snippets of each kind it checked.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The documents whose snippets are checked: the README and `docs/*.md`
/// (not `docs/design/`, which records decisions as they were made).
fn documents() -> Vec<(String, String)> {
    let mut docs = vec![("README.md".to_owned(), read(&root().join("README.md")))];
    let mut names: Vec<String> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.ends_with(".md").then_some(name)
        })
        .collect();
    names.sort();
    for name in names {
        let path = format!("docs/{name}");
        docs.push((path.clone(), read(&root().join(&path))));
    }
    docs
}

/// Every Markdown file of the repository, for the link check.
fn markdown_files() -> Vec<String> {
    fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap())
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().into_string().unwrap();
            let path = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            if e.file_type().unwrap().is_dir() {
                if !name.starts_with('.') && !matches!(path.as_str(), "target" | "fuzz/corpus") {
                    walk(&e.path(), &path, out);
                }
            } else if name.ends_with(".md") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root(), "", &mut out);
    out
}

/// A fenced block: where it starts, its info string and its text.
struct Block {
    line: usize,
    info: String,
    body: String,
}

/// The fenced blocks, and the lines outside them (number, text).
fn parse_markdown(text: &str) -> (Vec<Block>, Vec<(usize, String)>) {
    let mut blocks = Vec::new();
    let mut prose = Vec::new();
    let mut open: Option<(usize, String, String, usize)> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        match &mut open {
            None if trimmed.starts_with("```") => {
                open = Some((
                    i + 1,
                    trimmed.trim_start_matches('`').trim().to_owned(),
                    String::new(),
                    indent,
                ));
            }
            None => prose.push((i + 1, line.to_owned())),
            Some((start, info, body, indent)) => {
                if trimmed.starts_with("```") {
                    blocks.push(Block {
                        line: *start,
                        info: std::mem::take(info),
                        body: std::mem::take(body),
                    });
                    open = None;
                } else {
                    let cut = line.len() - line.trim_start().len();
                    body.push_str(&line[cut.min(*indent)..]);
                    body.push('\n');
                }
            }
        }
    }
    assert!(open.is_none(), "an unclosed ``` block");
    (blocks, prose)
}

/// The inline code spans of a prose line (single backticks; a span in
/// double backticks is taken whole).
fn code_spans(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        let ticks = rest[start..].chars().take_while(|c| *c == '`').count();
        let after = &rest[start + ticks..];
        let fence = "`".repeat(ticks);
        match after.find(&fence) {
            Some(end) => {
                out.push(after[..end].trim().to_owned());
                rest = &after[end + ticks..];
            }
            None => break,
        }
    }
    out
}

/// GitHub's anchor for a heading.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(text: &str) -> BTreeSet<String> {
    let (_, prose) = parse_markdown(text);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    for (_, line) in prose {
        if let Some(h) = line.strip_prefix('#') {
            let base = slug(h.trim_start_matches('#'));
            let n = seen.entry(base.clone()).or_insert(0);
            out.insert(if *n == 0 {
                base.clone()
            } else {
                format!("{base}-{n}")
            });
            *n += 1;
        }
    }
    out
}

/// Splits a shell line into words: quotes and backslashes as a shell reads
/// them, no expansion.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    w.push(c);
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => w.extend(chars.next()),
                        c => w.push(c),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).extend(chars.next()),
            '#' if word.is_none() => break,
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// Drops leading `NAME=value` assignments (and `export`).
fn command_words(words: &[String]) -> &[String] {
    let mut i = 0;
    while i < words.len()
        && (words[i] == "export"
            || words[i].split_once('=').is_some_and(|(k, _)| {
                !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            }))
    {
        i += 1;
    }
    &words[i..]
}

fn makefile_targets() -> BTreeSet<String> {
    read(&root().join("Makefile"))
        .lines()
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            let ok = !rest.starts_with('=')
                && !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            ok.then(|| name.to_owned())
        })
        .collect()
}

/// The flags the e2e suite passes to `docker build`/`buildx`, and those of
/// the example scripts and CI files it runs: what a docs `docker` line may
/// use.
fn harness_flags() -> BTreeSet<String> {
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in ["tests/e2e", "tests/ci-recipes"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            files.push(e.unwrap().path());
        }
    }
    for f in [
        "examples/gitlab-ci/.gitlab-ci.yml",
        "examples/github-actions/build.yml",
        "examples/local-dev/build.sh",
        "examples/demo/run-demo.sh",
    ] {
        files.push(root().join(f));
    }
    let mut flags = BTreeSet::new();
    for f in files {
        let text = read(&f);
        let bytes = text.as_bytes();
        for (i, _) in text.match_indices('-') {
            let before = i.checked_sub(1).map(|j| bytes[j]);
            if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'-') {
                continue;
            }
            let flag: String = text[i..]
                .chars()
                .enumerate()
                .take_while(|(n, c)| {
                    *c == '-' && *n < 2 || c.is_ascii_alphanumeric() || *c == '-' && *n > 1
                })
                .map(|(_, c)| c)
                .collect();
            if !flag.trim_start_matches('-').is_empty() {
                flags.insert(flag);
            }
        }
    }
    flags
}

/// Values for the build args the docs' specs reference without a default.
fn example_arg(name: &str) -> Option<&'static str> {
    Some(match name {
        "CI_API_V4_URL" => "https://gitlab.example.com/api/v4",
        "MLOPS_GROUP_ID" => "1234",
        "PYPI_INDEX_URL" => "https://gitlab.example.com/api/v4/groups/1234/-/packages/pypi/simple",
        _ => return None,
    })
}

fn referenced_args(spec: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in spec.match_indices("${") {
        let name: String = spec[i + 2..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if spec[i + 2 + name.len()..].starts_with('}') && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

fn pyfront() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pyfront"))
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    )
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A build context for `spec`: the requirement files it names, or a
/// `pyproject.toml` and a reduced lock that declare the spec's indexes and
/// take a package for each `packages` pattern from its index.
fn context_for(spec: &str, args: &BTreeMap<String, String>) -> Result<tempfile::TempDir, String> {
    let table: toml::Table = toml::from_str(spec).map_err(|e| format!("not TOML: {e}"))?;
    let dir = tempfile::tempdir().unwrap();
    let install = table.get("install").and_then(|i| i.as_table());
    let with = install
        .and_then(|i| i.get("with"))
        .and_then(|w| w.as_str())
        .unwrap_or("pip");
    let interpolate = |s: &str| {
        let mut s = s.to_owned();
        for (k, v) in args {
            s = s.replace(&format!("${{{k}}}"), v);
        }
        s
    };
    let indexes: Vec<(String, String, Vec<String>)> = table
        .get("index")
        .and_then(|i| i.as_array())
        .map(|list| {
            list.iter()
                .filter_map(|i| {
                    let name = i.get("name")?.as_str()?.to_owned();
                    let url = interpolate(i.get("url")?.as_str()?);
                    let packages = i
                        .get("packages")
                        .and_then(|p| p.as_array())
                        .map(|p| {
                            p.iter()
                                .filter_map(|p| p.as_str())
                                .map(|p| p.replace('*', "sdk").trim_matches('-').to_owned())
                                .collect()
                        })
                        .unwrap_or_default();
                    Some((name, url, packages))
                })
                .collect()
        })
        .unwrap_or_default();
    match with {
        "pip" => {
            for file in install
                .and_then(|i| i.get("requirements"))
                .and_then(|r| r.as_array())
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_str())
            {
                write(dir.path(), file, "requests==2.32.3\n");
            }
        }
        "uv" => {
            let deps: Vec<String> = indexes
                .iter()
                .flat_map(|(_, _, p)| p.iter().map(|p| format!("\"{p}\"")))
                .collect();
            let mut pyproject = format!(
                "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = [{}]\n",
                deps.join(", ")
            );
            let mut lock = "version = 1\nrequires-python = \">=3.11\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = { virtual = \".\" }\n".to_owned();
            for (name, url, packages) in &indexes {
                pyproject.push_str(&format!(
                    "\n[[tool.uv.index]]\nname = \"{name}\"\nurl = \"{url}\"\nexplicit = true\n"
                ));
                for p in packages {
                    lock.push_str(&format!(
                        "\n[[package]]\nname = \"{p}\"\nversion = \"1.0.0\"\nsource = {{ registry = \"{url}\" }}\n"
                    ));
                }
            }
            write(dir.path(), "pyproject.toml", &pyproject);
            write(dir.path(), "uv.lock", &lock);
        }
        "poetry" => {
            let mut pyproject = "[tool.poetry]\nname = \"app\"\nversion = \"0.1.0\"\ndescription = \"\"\nauthors = []\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\n".to_owned();
            let mut lock = String::new();
            for (name, url, packages) in &indexes {
                for p in packages {
                    pyproject.push_str(&format!(
                        "{p} = {{ version = \"^1.0\", source = \"{name}\" }}\n"
                    ));
                    lock.push_str(&format!(
                        "[[package]]\nname = \"{p}\"\nversion = \"1.0.0\"\ndescription = \"\"\noptional = false\npython-versions = \">=3.9\"\nfiles = []\n\n[package.source]\ntype = \"legacy\"\nurl = \"{url}\"\nreference = \"{name}\"\n\n"
                    ));
                }
            }
            for (name, url, _) in &indexes {
                pyproject.push_str(&format!(
                    "\n[[tool.poetry.source]]\nname = \"{name}\"\nurl = \"{url}\"\npriority = \"explicit\"\n"
                ));
            }
            lock.push_str("[metadata]\nlock-version = \"2.1\"\npython-versions = \"^3.11\"\ncontent-hash = \"0\"\n");
            write(dir.path(), "pyproject.toml", &pyproject);
            write(dir.path(), "poetry.lock", &lock);
        }
        other => return Err(format!("unknown installer `{other}`")),
    }
    write(dir.path(), "pyfront.toml", spec);
    Ok(dir)
}

/// A fragment made whole: the required keys it leaves out (`[app] base`,
/// an `[install]`), added under its own table headers or as tables of
/// their own.
fn complete_fragment(fragment: &str) -> String {
    let table: toml::Table = toml::from_str(fragment).unwrap_or_default();
    let mut spec = fragment.to_owned();
    let has = |t: &str, k: &str| table.get(t).and_then(|t| t.get(k)).is_some();
    if table.contains_key("app") && !has("app", "base") {
        spec = spec.replacen("[app]\n", "[app]\nbase = \"python:3.12-slim\"\n", 1);
    } else if !table.contains_key("app") {
        spec.push_str("\n[app]\nbase = \"python:3.12-slim\"\n");
    }
    if !table.contains_key("install") {
        spec.push_str("\n[install]\nwith = \"pip\"\nrequirements = [\"requirements.txt\"]\n");
    }
    spec
}

/// The arguments of `pyfront check` for a spec written to a context.
fn args_for(spec: &str) -> Result<BTreeMap<String, String>, String> {
    referenced_args(spec)
        .into_iter()
        .map(|name| match example_arg(&name) {
            Some(v) => Ok((name, v.to_owned())),
            None => Err(format!(
                "`${{{name}}}` has no example value: add one to tests/readme.rs `example_arg`"
            )),
        })
        .collect()
}

fn check_in(dir: &Path, args: &BTreeMap<String, String>) -> Output {
    let mut cmd = pyfront();
    cmd.current_dir(dir).args(["check", "-f", "pyfront.toml"]);
    for (k, v) in args {
        cmd.arg("--build-arg").arg(format!("{k}={v}"));
    }
    cmd.output().unwrap()
}

/// A repository path in a code span: `src/...`, `tests/...`, a top-level
/// file. Returns the part to look for (up to a `*`, `<` or `{`).
fn repo_path(span: &str) -> Option<String> {
    if span.contains(char::is_whitespace) || span.contains("://") {
        return None;
    }
    let top = [
        "src/",
        "tests/",
        "examples/",
        "bench/",
        "docs/",
        "fuzz/",
        ".ci/",
    ];
    let files = [
        "Makefile",
        "Cargo.toml",
        "Cargo.lock",
        "Dockerfile.frontend",
        "README.md",
    ];
    if !top.iter().any(|t| span.starts_with(t)) && !files.contains(&span) {
        return None;
    }
    // Up to the directory that holds a wildcard or placeholder.
    let path = match span.find(['*', '<', '{']) {
        Some(cut) => &span[..span[..cut].rfind('/').map_or(0, |i| i + 1)],
        None => span,
    };
    // `file.rs:12` and the like.
    let path = match path.rsplit_once(':') {
        Some((p, line)) if line.chars().all(|c| c.is_ascii_digit()) => p,
        _ => path,
    };
    Some(path.to_owned())
}

#[derive(Default)]
struct Counts(BTreeMap<&'static str, usize>);

impl Counts {
    fn add(&mut self, kind: &'static str) {
        *self.0.entry(kind).or_insert(0) += 1;
    }
    fn get(&self, kind: &str) -> usize {
        self.0.get(kind).copied().unwrap_or(0)
    }
}

struct Checker {
    counts: Counts,
    failures: Vec<String>,
    targets: BTreeSet<String>,
    flags: BTreeSet<String>,
}

impl Checker {
    fn fail(&mut self, at: &str, message: impl std::fmt::Display) {
        self.failures.push(format!("{at}: {message}"));
    }

    /// `pyfront ARGS`: the real CLI must accept the subcommand and flags.
    fn pyfront_parses(&mut self, at: &str, args: &[String]) {
        let out = pyfront().args(args).arg("--help").output().unwrap();
        if out.status.success() {
            self.counts.add("pyfront command lines parsed by the CLI");
        } else {
            self.fail(
                at,
                format!(
                    "`pyfront {}` is refused by the CLI: {}",
                    args.join(" "),
                    text(&out)
                ),
            );
        }
    }

    fn make(&mut self, at: &str, words: &[String]) {
        match words.get(1) {
            Some(t) if !t.starts_with('-') => {
                if self.targets.contains(t) {
                    self.counts.add("make targets");
                } else {
                    self.fail(at, format!("`make {t}`: no such Makefile target"));
                }
            }
            _ => {}
        }
    }

    fn docker(&mut self, at: &str, words: &[String]) {
        for w in words.iter().filter(|w| w.starts_with('-')) {
            let flag = w.split('=').next().unwrap();
            if self.flags.contains(flag) {
                self.counts
                    .add("docker build flags used by the e2e harness");
            } else {
                self.fail(
                    at,
                    format!("`{flag}` is not a flag the e2e suite or the examples it runs use"),
                );
            }
        }
    }

    fn path(&mut self, at: &str, span: &str) {
        if let Some(path) = repo_path(span) {
            if root().join(&path).exists() {
                self.counts.add("repository paths");
            } else {
                self.fail(at, format!("`{span}`: no such file in the repository"));
            }
        }
    }

    /// A shell command line: classify and check it. `spec_dir` is the
    /// context of the last spec block of the document, for a
    /// `pyfront check -f pyfront.toml` that refers to it; `expected` the
    /// output shown after it in a console block.
    fn command(
        &mut self,
        at: &str,
        line: &str,
        spec_dir: Option<&(PathBuf, BTreeMap<String, String>)>,
        expected: Option<&str>,
    ) {
        let words = shell_words(line);
        let words = command_words(&words);
        let Some(first) = words.first() else { return };
        match first.as_str() {
            "pyfront" => {
                self.pyfront_parses(at, &words[1..]);
                let sub = words.get(1).map(String::as_str);
                if !matches!(sub, Some("check" | "plan" | "llb")) {
                    return;
                }
                let file = words
                    .windows(2)
                    .find(|w| w[0] == "-f" || w[0] == "--file")
                    .map_or("pyfront.toml", |w| w[1].as_str());
                let (dir, extra) = if root().join(file).is_file() {
                    (root(), BTreeMap::new())
                } else if let (Some((dir, args)), "pyfront.toml") = (spec_dir, file) {
                    (dir.clone(), args.clone())
                } else {
                    return;
                };
                let mut cmd = pyfront();
                cmd.current_dir(&dir).args(&words[1..]);
                for (k, v) in &extra {
                    if !words.iter().any(|w| w.starts_with(&format!("{k}="))) {
                        cmd.arg("--build-arg").arg(format!("{k}={v}"));
                    }
                }
                let out = cmd.output().unwrap();
                if !out.status.success() {
                    self.fail(at, format!("`{line}` failed:\n{}", text(&out)));
                } else if let Some(expected) = expected.filter(|e| !e.trim().is_empty()) {
                    let got = text(&out);
                    if got.trim_end() != expected.trim_end() {
                        self.fail(
                            at,
                            format!("`{line}` prints\n{got}\nbut the docs show\n{expected}"),
                        );
                    } else {
                        self.counts.add("pyfront outputs compared");
                    }
                } else {
                    self.counts.add("pyfront commands run");
                }
            }
            "make" => self.make(at, words),
            "docker" | "$PYFRONT_BUILD" => {
                if words.iter().any(|w| w == "build") {
                    self.counts.add("docker build lines");
                    self.docker(at, words);
                }
            }
            _ => {
                for w in words {
                    self.path(at, w);
                }
            }
        }
    }

    fn spec_block(
        &mut self,
        at: &str,
        block: &Block,
        next: Option<&Block>,
    ) -> Option<(PathBuf, BTreeMap<String, String>, tempfile::TempDir)> {
        let words: Vec<&str> = block.info.split_whitespace().collect();
        let fragment = words.contains(&"fragment");
        let error = words.contains(&"error");
        let spec = if fragment {
            complete_fragment(&block.body)
        } else {
            block.body.clone()
        };
        let args = match args_for(&spec) {
            Ok(a) => a,
            Err(e) => {
                self.fail(at, e);
                return None;
            }
        };
        let dir = match context_for(&spec, &args) {
            Ok(d) => d,
            Err(e) => {
                self.fail(at, e);
                return None;
            }
        };
        let out = check_in(dir.path(), &args);
        let printed = text(&out);
        if error {
            let expected = next.filter(|n| n.info == "text").map(|n| n.body.trim_end());
            match (out.status.success(), expected) {
                (true, _) => self.fail(
                    at,
                    format!("the error example passes `pyfront check`:\n{printed}"),
                ),
                (false, None) => self.fail(
                    at,
                    "an error example needs the ```text block it prints right after it",
                ),
                (false, Some(e)) if !printed.contains(e) => self.fail(
                    at,
                    format!("`pyfront check` prints\n{printed}\nnot the text shown:\n{e}"),
                ),
                (false, Some(_)) => self
                    .counts
                    .add("error examples (spec + the error text shown)"),
            }
            return None;
        }
        if !out.status.success() {
            self.fail(
                at,
                format!("`pyfront check` refuses the spec:\n{printed}\n{spec}"),
            );
            return None;
        }
        if printed.contains("warning:") {
            self.fail(
                at,
                format!("the spec example draws a lint warning:\n{printed}"),
            );
        }
        self.counts.add(if fragment {
            "spec fragments"
        } else {
            "whole specs"
        });
        Some((dir.path().to_owned(), args, dir))
    }

    fn shell_block(
        &mut self,
        doc: &str,
        block: &Block,
        spec_dir: Option<&(PathBuf, BTreeMap<String, String>)>,
    ) {
        let console = block.info == "console";
        // Continuation lines joined; in a console block, the lines after a
        // `$ ` command are its output.
        let mut commands: Vec<(usize, String, String)> = Vec::new();
        let mut pending: Option<(usize, String)> = None;
        for (i, raw) in block.body.lines().enumerate() {
            let at_line = block.line + 1 + i;
            if let Some((start, mut cmd)) = pending.take() {
                cmd.push(' ');
                cmd.push_str(raw.trim().trim_end_matches('\\'));
                if raw.trim_end().ends_with('\\') {
                    pending = Some((start, cmd));
                } else {
                    commands.push((start, cmd, String::new()));
                }
                continue;
            }
            let line = if console {
                match raw.strip_prefix("$ ") {
                    Some(l) => l,
                    None => {
                        if let Some(last) = commands.last_mut() {
                            last.2.push_str(raw);
                            last.2.push('\n');
                        }
                        continue;
                    }
                }
            } else {
                raw
            };
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(l) = line.strip_suffix('\\') {
                pending = Some((at_line, l.trim_end().to_owned()));
            } else {
                commands.push((at_line, line.to_owned(), String::new()));
            }
        }
        for (line, cmd, output) in commands {
            self.counts.add("shell command lines");
            let at = format!("{doc}:{line}");
            let expected = console.then_some(output.as_str());
            self.command(&at, &cmd, spec_dir, expected);
        }
    }

    fn prose(&mut self, doc: &str, line: usize, text: &str) {
        let at = format!("{doc}:{line}");
        for span in code_spans(text) {
            let words = shell_words(&span.replace(['[', ']'], " ").replace("...", " "));
            match words.first().map(String::as_str) {
                Some("pyfront")
                    if words.len() > 1 && words[1].chars().all(|c| c.is_ascii_lowercase()) =>
                {
                    self.counts.add("inline pyfront commands");
                    self.pyfront_parses(&at, &words[1..]);
                }
                Some("make") if words.len() > 1 => self.make(&at, &words),
                _ => self.path(&at, &span),
            }
        }
    }

    fn links(&mut self, file: &str) {
        let text = read(&root().join(file));
        let (_, prose) = parse_markdown(&text);
        let dir = Path::new(file).parent().unwrap_or(Path::new(""));
        for (line, l) in prose {
            let mut rest = l.as_str();
            while let Some(i) = rest.find("](") {
                rest = &rest[i + 2..];
                let Some(end) = rest.find(')') else { break };
                let target = &rest[..end];
                rest = &rest[end..];
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                let at = format!("{file}:{line}");
                let (path, anchor) = target.split_once('#').unwrap_or((target, ""));
                let resolved = if path.is_empty() {
                    root().join(file)
                } else {
                    root().join(dir).join(path)
                };
                if !resolved.exists() {
                    self.fail(&at, format!("link `{target}`: no such file"));
                    continue;
                }
                self.counts.add("links");
                if !anchor.is_empty() {
                    if resolved.extension().is_some_and(|e| e == "md")
                        && anchors(&read(&resolved)).contains(anchor)
                    {
                        self.counts.add("link anchors");
                    } else {
                        self.fail(&at, format!("link `{target}`: no heading with that anchor"));
                    }
                }
            }
        }
    }
}

/// The fields of `struct NAME` in `src/spec/raw.rs`, as spec keys.
fn raw_fields(raw: &str, name: &str) -> BTreeSet<String> {
    let start = raw
        .find(&format!("struct {name} {{"))
        .unwrap_or_else(|| panic!("no {name} in raw.rs"));
    let body = &raw[start..];
    let body = &body[..body.find("\n}").unwrap()];
    body.lines()
        .filter_map(|l| l.trim().strip_prefix("pub(super) "))
        .filter_map(|l| l.split_once(':'))
        .map(|(f, _)| f.replace('_', "-"))
        .collect()
}

/// The keys in the first column of the tables of the `##` sections of
/// `doc` whose heading contains `marker`.
fn documented_keys(doc: &str, marker: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut inside = false;
    for line in doc.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            inside = h.contains(marker);
        } else if inside {
            if let Some(key) = line.strip_prefix("| `").and_then(|l| l.split('`').next()) {
                out.insert(key.to_owned());
            }
        }
    }
    out
}

#[test]
fn readme_and_docs_say_what_the_code_does() {
    let mut c = Checker {
        counts: Counts::default(),
        failures: Vec::new(),
        targets: makefile_targets(),
        flags: harness_flags(),
    };
    for (doc, text) in documents() {
        let (blocks, prose) = parse_markdown(&text);
        let mut spec_dir: Option<(PathBuf, BTreeMap<String, String>, tempfile::TempDir)> = None;
        for (i, block) in blocks.iter().enumerate() {
            let at = format!("{doc}:{}", block.line);
            let kind = block.info.split_whitespace().next().unwrap_or("");
            match kind {
                "toml" => {
                    if let Some(dir) = c.spec_block(&at, block, blocks.get(i + 1)) {
                        spec_dir = Some(dir);
                    }
                }
                "sh" | "console" => {
                    let dir = spec_dir.as_ref().map(|(p, a, _)| (p.clone(), a.clone()));
                    c.shell_block(&doc, block, dir.as_ref());
                }
                // Shown, not run: a Dockerfile, output, an error text (checked
                // with its spec above).
                "dockerfile" | "text" => c.counts.add("blocks shown only (dockerfile, text)"),
                other => c.fail(&at, format!("a ```{other} block: give it a kind this test checks (toml, toml fragment, toml error, sh, console, dockerfile, text)")),
            }
        }
        for (line, l) in &prose {
            c.prose(&doc, *line, l);
        }
    }
    for file in markdown_files() {
        c.links(&file);
    }

    // The reference documents every spec key and nothing else.
    let raw = read(&root().join("src/spec/raw.rs"));
    let reference = read(&root().join("docs/reference.md"));
    for (table, strukt) in [
        ("app", "RawApp"),
        ("build", "RawBuild"),
        ("install", "RawInstall"),
        ("index", "RawIndex"),
    ] {
        let marker = if table == "index" {
            "`[[index]]`".to_owned()
        } else {
            format!("`[{table}]`")
        };
        let fields = raw_fields(&raw, strukt);
        let documented = documented_keys(&reference, &marker);
        for f in &fields {
            // A sub-table may have a section of its own (`[[build.run]]`).
            let own_section = reference
                .lines()
                .any(|l| l.starts_with("## ") && l.contains(&format!("{table}.{f}]")));
            if documented.contains(f) || own_section {
                c.counts.add("spec keys documented");
            } else {
                c.fail(
                    "docs/reference.md",
                    format!("`{f}` of `{marker}` is not documented"),
                );
            }
        }
        for d in documented.difference(&fields) {
            c.fail(
                "docs/reference.md",
                format!("`{d}` is documented under {marker} but is not a key of it"),
            );
        }
    }
    // The lints table lists exactly the rules.
    let lints = read(&root().join("src/lint/mod.rs"));
    let rules: BTreeSet<String> = lints
        .split("Warning::new(")
        .skip(1) // the text before the first call
        .filter_map(|s| s.split('"').nth(1).map(str::to_owned))
        .collect();
    let listed = documented_keys(&reference, "Lints");
    if rules == listed {
        c.counts.0.insert("lint rules", rules.len());
    } else {
        c.fail(
            "docs/reference.md",
            format!("the lints table lists {listed:?}; src/lint has {rules:?}"),
        );
    }

    eprintln!("checked snippets, per kind:");
    for (kind, n) in &c.counts.0 {
        eprintln!("  {n:4}  {kind}");
    }
    assert!(
        c.failures.is_empty(),
        "the docs drifted from the code:\n{}",
        c.failures.join("\n")
    );
    // Every checker saw something: a docs change cannot switch one off
    // unnoticed.
    for kind in [
        "whole specs",
        "spec fragments",
        "error examples (spec + the error text shown)",
        "pyfront command lines parsed by the CLI",
        "pyfront commands run",
        "pyfront outputs compared",
        "make targets",
        "docker build flags used by the e2e harness",
        "repository paths",
        "links",
        "link anchors",
        "spec keys documented",
        "lint rules",
    ] {
        assert!(c.counts.get(kind) > 0, "no {kind} checked");
    }
}

#[test]
fn the_front_page_is_one_short_page() {
    let readme = read(&root().join("README.md"));
    let lines = readme.lines().count();
    assert!(
        lines < 60,
        "README.md has {lines} lines: the front page stays under 60"
    );
    for must in [
        "make demo",
        "make test",
        "docs/reference.md",
        "```dockerfile",
        "```toml",
        "docker build",
    ] {
        assert!(readme.contains(must), "the front page lacks {must}");
    }
}
