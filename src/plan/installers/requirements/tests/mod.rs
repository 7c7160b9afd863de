//! Helpers shared by the tests, which are in files named for their topic,
//! and the Django tree several of them read.

mod collector;
mod errors;
mod includes;
mod limits;
mod lines;
mod local;
mod options;
mod trees;

use super::*;
use crate::spec::{Diagnostic, SpecError, SpecErrorKind};
use FileRole::{Both, Constraints, Requirements};

fn path(p: &str) -> ContextPath {
    ContextPath::parse(p).unwrap()
}

fn run(files: &[(&str, &str)], roots: &[&str]) -> Result<RequirementSet, RequirementsError> {
    let map: BTreeMap<&str, &str> = files.iter().copied().collect();
    let roots: Vec<ContextPath> = roots.iter().map(|r| path(r)).collect();
    collect(&roots, &mut |p| {
        map.get(p.as_str()).map(|t| (*t).to_owned())
    })
}

/// The first file is the root.
fn ok(files: &[(&str, &str)]) -> RequirementSet {
    run(files, &[files[0].0]).unwrap_or_else(|e| panic!("{}", located(files, &e)))
}

/// `file:line:col: message`, located by the spec's own [`Diagnostic`]
/// (a `Toml` kind only carries the message through).
fn located(files: &[(&str, &str)], error: &RequirementsError) -> String {
    match &error.location {
        Location::Root(index) => format!("root {index}: {error}"),
        Location::File { file, span } => {
            let source = files
                .iter()
                .find(|(p, _)| *p == file.as_str())
                .map(|(_, text)| *text)
                .unwrap();
            let spec_error = SpecError {
                span: Some(span.clone()),
                kind: SpecErrorKind::Toml {
                    message: error.to_string(),
                },
            };
            Diagnostic::new(file.as_str(), source, &spec_error).to_string()
        }
    }
}

fn fails(files: &[(&str, &str)]) -> String {
    let error = run(files, &[files[0].0]).unwrap_err();
    located(files, &error)
}

fn paths(set: &RequirementSet) -> Vec<(&str, FileRole)> {
    set.files
        .iter()
        .map(|f| (f.path.as_str(), f.role))
        .collect()
}

const DJANGO_ROOT: &str = "\
# Production entry point: see requirements/
-r requirements/production.txt
";
const DJANGO_PRODUCTION: &str = "\
-r base.txt
-c ../constraints.txt

gunicorn==21.2.0 \\
    --hash=sha256:aaa \\
    --hash=sha256:bbb
psycopg[binary,pool]==3.1.18 ; python_version >= \"3.10\" \\
    --hash=sha256:ccc  # the pool extra needs it
";
const DJANGO_BASE: &str = "\
Django==4.2.11 --hash=sha256:ddd
django-environ==0.11.2 \\
    --hash=sha256:eee
sdk-client @ file:libs/client --hash=sha256:fff
";
const DJANGO_DEV: &str = "\
-r base.txt
-e .
-e ./libs/sdk[async]
./libs/utils ; sys_platform == \"linux\"
pytest==8.1.1
--pre
";
const DJANGO_CONSTRAINTS: &str = "urllib3<3\nsqlparse>=0.5\n";

fn django_tree() -> Vec<(&'static str, &'static str)> {
    vec![
        ("requirements.txt", DJANGO_ROOT),
        ("requirements/production.txt", DJANGO_PRODUCTION),
        ("requirements/base.txt", DJANGO_BASE),
        ("requirements/dev.txt", DJANGO_DEV),
        ("constraints.txt", DJANGO_CONSTRAINTS),
    ]
}
