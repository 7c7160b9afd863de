//! Every error a user can get from a spec, its build context or the build
//! options, with its exact text: the message, the located source line and
//! the hint, as `pyfront check` prints them (a BuildKit build shows the same
//! message, position and hint).
//!
//! - `spec_cases()`: one real spec (and context files, and flags) per way a
//!   spec can be wrong, at least one per `SpecErrorKind` variant, plus one
//!   per hint branch and per reason of the variants that have several. Each
//!   case runs `pyfront check` and compares stderr byte for byte. It also
//!   names the variant it must produce: the first line must be that
//!   variant's `Display` and the `help:` line its hint, so a case cannot
//!   drift to another variant with similar words.
//! - `options_cases()`: the same for `OptsError`, from the opts map BuildKit
//!   sends (and the CLI flags where there is one).
//! - `variants!` lists every variant in a `match` without a `_` arm: a new
//!   variant does not compile until it is listed there, and then
//!   `every_*_variant_has_a_case` fails until it has a case here.
//!
//! A changed message or hint is a change of the user interface: update the
//! expected text here in the same commit.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use pyfront::options::{BuildOptions, OptsError};
use pyfront::spec::{BuildArgs, Spec, SpecError, SpecErrorKind as K};

/// Lists every variant of an error enum in one exhaustive `match`, and
/// makes `$all`, the list of their names, from the same words.
macro_rules! variants {
    ($name:ident, $all:ident, $enum:ident { $($variant:ident),+ $(,)? }) => {
        const $all: &[&str] = &[$(stringify!($variant)),+];
        fn $name(value: &$enum) -> &'static str {
            match value {
                $($enum::$variant { .. } => stringify!($variant)),+
            }
        }
    };
}

variants!(
    spec_variant,
    SPEC_VARIANTS,
    K {
        Toml,
        NotUtf8,
        MissingBuildArg,
        BadInterpolation,
        InvalidImageRef,
        CredentialsInUrl,
        LooksLikeToken,
        InvalidUrl,
        InvalidName,
        InvalidUser,
        DuplicateIndex,
        MultipleDefaultIndexes,
        UsernameConflict,
        IncompleteCredentials,
        EmptyRequirements,
        MissingRequirements,
        EmptyGroups,
        InstallOptionNotFor,
        ProjectWithPackage,
        PipCannotPin,
        ProjectFileInvalid,
        IndexNotInProject,
        IndexUrlMismatch,
        LockedFromUndeclaredIndex,
        LockedFromUnknownUrl,
        PinnedPackageFromOtherIndex,
        InvalidPath,
        CommandNotArgv,
        EmptyCommand,
        InvalidPort,
        MissingContextFile,
        MissingProjectFile,
    }
);

variants!(
    options_variant,
    OPTIONS_VARIANTS,
    OptsError {
        Target,
        Platform,
        Network,
        ResolveMode,
        CacheImports,
        Subrequest,
        SourceDateEpoch,
    }
);

/// A spec that must fail, and how.
struct Case {
    /// What the case shows; names it in failures.
    name: &'static str,
    /// The error it must produce, with its values.
    kind: K,
    /// `pyfront.toml`, after the leading newline.
    spec: &'static [u8],
    /// Build context files besides `pyfront.toml` and `requirements.txt`
    /// (always there, empty).
    files: &'static [(&'static str, &'static str)],
    /// Extra `pyfront check` arguments.
    args: &'static [&'static str],
    /// The exact stderr, after the leading newline.
    stderr: &'static str,
}

impl Case {
    /// `pyfront.toml` as written to the context.
    fn spec(&self) -> &'static [u8] {
        self.spec.strip_prefix(b"\n").unwrap_or(self.spec)
    }
}

/// One case per way a spec can be wrong. Most specs are the smallest pip
/// spec plus the one wrong line.
fn spec_cases() -> Vec<Case> {
    vec![
        // ---- TOML: syntax, unknown keys, types, missing keys --------------
        Case {
            name: "toml syntax",
            kind: K::Toml {
                message: "unclosed table, expected `]`".into(),
            },
            spec: br#"
[app
base = "python:3.12-slim"
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: unclosed table, expected `]`
 --> pyfront.toml:1:5
  |
1 | [app
  |     ^
"#,
        },
        Case {
            name: "unknown key",
            kind: K::Toml {
                message: "unknown field `wokdir`, expected one of `base`, `workdir`, `cmd`, `entrypoint`, `env`, `user`, `expose`, `labels`, `system-packages`".into(),
            },
            spec: br#"
[app]
base = "python:3.12-slim"
wokdir = "/srv"

[install]
with = "pip"
requirements = ["requirements.txt"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: unknown field `wokdir`, expected one of `base`, `workdir`, `cmd`, `entrypoint`, `env`, `user`, `expose`, `labels`, `system-packages`
 --> pyfront.toml:3:1
  |
3 | wokdir = "/srv"
  | ^^^^^^
"#,
        },
        Case {
            name: "wrong type",
            kind: K::Toml {
                message: "invalid type: integer `3`, expected a string".into(),
            },
            spec: br#"
[app]
base = 3

[install]
with = "pip"
requirements = ["requirements.txt"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid type: integer `3`, expected a string
 --> pyfront.toml:2:8
  |
2 | base = 3
  |        ^
"#,
        },
        Case {
            name: "missing key",
            kind: K::Toml {
                message: "missing field `base`".into(),
            },
            spec: br#"
[app]
workdir = "/srv"

[install]
with = "pip"
requirements = ["requirements.txt"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: missing field `base`
 --> pyfront.toml:1:1
  |
1 | [app]
  | ^^^^^
"#,
        },
        Case {
            name: "not UTF-8",
            kind: K::NotUtf8,
            spec: b"\n[app]\nbase = \"python:3.12-slim\"\nlabels = { team = \"caf\xe9\" }\n",
            files: &[],
            args: &[],
            stderr: r#"
error: the spec is not valid UTF-8
 --> pyfront.toml:1:1
  |
1 |
  | ^
"#,
        },
        // ---- Interpolation -------------------------------------------------
        Case {
            name: "missing build arg",
            kind: K::MissingBuildArg {
                name: "CI_API_V4_URL".into(),
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]

[[index]]
name = "private"
url = "${CI_API_V4_URL}/groups/7/-/packages/pypi/simple"
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: build arg `CI_API_V4_URL` is not set
  --> pyfront.toml:10:8
   |
10 | url = "${CI_API_V4_URL}/groups/7/-/packages/pypi/simple"
   |        ^^^^^^^^^^^^^^^^
   |
   = help: pass `--build-arg CI_API_V4_URL=VALUE`, or write `${CI_API_V4_URL:-default}` in the spec
"#,
        },
        Case {
            name: "unclosed interpolation",
            kind: K::BadInterpolation {
                reason: "`${` is not closed by `}`".into(),
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]

[[index]]
name = "private"
url = "https://pypi.example/${INDEX_PATH"
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid interpolation: `${` is not closed by `}`
  --> pyfront.toml:10:29
   |
10 | url = "https://pypi.example/${INDEX_PATH"
   |                             ^^^^^^^^^^^^
"#,
        },
        Case {
            name: "bad build arg name",
            kind: K::BadInterpolation {
                reason: "`1PATH` is not a build arg name (letters, digits and `_`, not starting with a digit)".into(),
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]

[[index]]
name = "private"
url = "https://pypi.example/${1PATH}"
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid interpolation: `1PATH` is not a build arg name (letters, digits and `_`, not starting with a digit)
  --> pyfront.toml:10:29
   |
10 | url = "https://pypi.example/${1PATH}"
   |                             ^^^^^^^^
"#,
        },
        // ---- Image references ----------------------------------------------
        Case {
            name: "image: shell characters",
            kind: K::InvalidImageRef {
                value: "python:3.12-slim; rm -rf /".into(),
                reason: "`;` is not allowed in an image reference".into(),
            },
            spec: br#"
[app]
base = "python:3.12-slim; rm -rf /"

[install]
with = "pip"
requirements = ["requirements.txt"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid image reference `python:3.12-slim; rm -rf /`: `;` is not allowed in an image reference
 --> pyfront.toml:2:8
  |
2 | base = "python:3.12-slim; rm -rf /"
  |        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
"#,
        },
        Case {
            name: "image: empty",
            kind: K::InvalidImageRef {
                value: String::new(),
                reason: "it is empty".into(),
            },
            spec: br#"
[app]
base = ""

[install]
with = "pip"
requirements = ["requirements.txt"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid image reference ``: it is empty
 --> pyfront.toml:2:8
  |
2 | base = ""
  |        ^^
"#,
        },
        Case {
            name: "image: uppercase name",
            kind: K::InvalidImageRef {
                value: "Python:3.12".into(),
                reason: "names are lowercase letters, digits and `.`, `_`, `-` between `/`".into(),
            },
            spec: br#"
[app]
base = "Python:3.12"

[install]
with = "pip"
requirements = ["requirements.txt"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid image reference `Python:3.12`: names are lowercase letters, digits and `.`, `_`, `-` between `/`
 --> pyfront.toml:2:8
  |
2 | base = "Python:3.12"
  |        ^^^^^^^^^^^^^
"#,
        },
        Case {
            name: "image: bad tag",
            kind: K::InvalidImageRef {
                value: "python:-slim".into(),
                reason: "the tag may contain letters, digits, `_`, `.` and `-` (at most 128)".into(),
            },
            spec: br#"
[app]
base = "python:-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid image reference `python:-slim`: the tag may contain letters, digits, `_`, `.` and `-` (at most 128)
 --> pyfront.toml:2:8
  |
2 | base = "python:-slim"
  |        ^^^^^^^^^^^^^^
"#,
        },
        Case {
            name: "image: digest algorithm",
            kind: K::InvalidImageRef {
                value: "python@md5:0123".into(),
                reason: "the digest must start with `sha256:`".into(),
            },
            spec: br#"
[app]
base = "python@md5:0123"

[install]
with = "pip"
requirements = ["requirements.txt"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid image reference `python@md5:0123`: the digest must start with `sha256:`
 --> pyfront.toml:2:8
  |
2 | base = "python@md5:0123"
  |        ^^^^^^^^^^^^^^^^^
"#,
        },
        Case {
            name: "image: digest length",
            kind: K::InvalidImageRef {
                value: "python@sha256:0123".into(),
                reason: "the digest must be 64 lowercase hex characters".into(),
            },
            spec: br#"
[app]
base = "python@sha256:0123"

[install]
with = "pip"
requirements = ["requirements.txt"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid image reference `python@sha256:0123`: the digest must be 64 lowercase hex characters
 --> pyfront.toml:2:8
  |
2 | base = "python@sha256:0123"
  |        ^^^^^^^^^^^^^^^^^^^^
"#,
        },
        Case {
            name: "image: registry host",
            kind: K::InvalidImageRef {
                value: "my_registry.example:5000/python:3.12".into(),
                reason: "the registry host is not valid".into(),
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[build]
base = "my_registry.example:5000/python:3.12"

[install]
with = "pip"
requirements = ["requirements.txt"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid image reference `my_registry.example:5000/python:3.12`: the registry host is not valid
 --> pyfront.toml:5:8
  |
5 | base = "my_registry.example:5000/python:3.12"
  |        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
"#,
        },
        // ---- Index URLs ----------------------------------------------------
        Case {
            name: "a token as the username",
            kind: K::LooksLikeToken { what: "username" },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]

[[index]]
name = "private"
url = "https://gitlab.example.com/simple"
username = "glpat-ABCDEFGHIJKLMNOPQRSTUVWX"
password-secret = "pypi_token"
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: the username holds what looks like a token or password
  --> pyfront.toml:11:12
   |
11 | username = "******************************"
   |            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: credentials reach a build only as BuildKit secrets: build with `--secret id=<secret id>,env=VAR` and name the secret with `password-secret = "<secret id>"` on the `[[index]]`
"#,
        },
        Case {
            name: "credentials in URL",
            kind: K::CredentialsInUrl,
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]

[[index]]
name = "private"
url = "https://gitlab-ci-token:glpat-secret@gitlab.example.com/api/v4/groups/1/-/packages/pypi/simple"
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: index URL must not contain credentials
  --> pyfront.toml:10:7
   |
10 | url = "https://gitlab-ci-token:************@gitlab.example.com/api/v4/groups/1/-/packages/pypi/simple"
   |       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
   |
   = help: remove `user:password@` from the URL; set `username = "..."` and `password-secret = "<secret id>"`, then build with `--secret id=<secret id>,env=VAR`
"#,
        },
        Case {
            name: "URL: scheme, from a build arg",
            kind: K::InvalidUrl {
                value: pyfront::redact::DisplaySafeUrl::new("ftp://pypi.example/simple"),
                reason: "expected an `http://` or `https://` URL".into(),
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]

[[index]]
name = "private"
url = "${PYPI_INDEX_URL}"
"#,
            files: &[],
            args: &["--build-arg", "PYPI_INDEX_URL=ftp://pypi.example/simple"],
            stderr: r#"
error: invalid index URL `ftp://pypi.example/simple`: expected an `http://` or `https://` URL
  --> pyfront.toml:10:7
   |
10 | url = "${PYPI_INDEX_URL}"
   |       ^^^^^^^^^^^^^^^^^^^
"#,
        },
        Case {
            name: "URL: no host",
            kind: K::InvalidUrl {
                value: pyfront::redact::DisplaySafeUrl::new("https:///simple"),
                reason: "the URL has no host".into(),
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]

[[index]]
name = "private"
url = "https:///simple"
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid index URL `https:///simple`: the URL has no host
  --> pyfront.toml:10:7
   |
10 | url = "https:///simple"
   |       ^^^^^^^^^^^^^^^^^
"#,
        },
        Case {
            name: "URL: space",
            kind: K::InvalidUrl {
                value: pyfront::redact::DisplaySafeUrl::new("https://pypi.example/my index"),
                reason: "URLs cannot contain spaces or control characters".into(),
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]

[[index]]
name = "private"
url = "https://pypi.example/my index"
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid index URL `https://pypi.example/my index`: URLs cannot contain spaces or control characters
  --> pyfront.toml:10:7
   |
10 | url = "https://pypi.example/my index"
   |       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
"#,
        },
        // ---- Names and values ----------------------------------------------
        Case {
            name: "name: environment variable",
            kind: K::InvalidName {
                what: "environment variable",
                value: "1ST".into(),
                reason: "use letters, digits and `_`, not starting with a digit",
            },
            spec: br#"
[app]
base = "python:3.12-slim"
env = { 1ST = "a" }

[install]
with = "pip"
requirements = ["requirements.txt"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid environment variable `1ST`: use letters, digits and `_`, not starting with a digit
 --> pyfront.toml:3:9
  |
3 | env = { 1ST = "a" }
  |         ^^^
"#,
        },
        Case {
            name: "user: not a name or uid",
            kind: K::InvalidUser {
                value: "app user".into(),
            },
            spec: br#"
[app]
base = "python:3.12-slim"
user = "app user"

[install]
with = "pip"
requirements = ["requirements.txt"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid user `app user`: expected a user name (lowercase letters, digits, `_` and `-`, starting with a letter or `_`, at most 32 characters), a `uid` or a `uid:gid`
 --> pyfront.toml:3:8
  |
3 | user = "app user"
  |        ^^^^^^^^^^
  |
  = help: `user = "app"` runs the app as `app`, created with uid and gid 10001 when the runtime base has no such user
"#,
        },
        Case {
            name: "name: label",
            kind: K::InvalidName {
                what: "label",
                value: String::new(),
                reason: "label keys cannot be empty",
            },
            spec: br#"
[app]
base = "python:3.12-slim"
labels = { "" = "x" }

[install]
with = "pip"
requirements = ["requirements.txt"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid label ``: label keys cannot be empty
 --> pyfront.toml:3:12
  |
3 | labels = { "" = "x" }
  |            ^^
"#,
        },
        Case {
            name: "name: group",
            kind: K::InvalidName {
                what: "group",
                value: "ml tools".into(),
                reason: "use letters, digits, `_`, `-` and `.`, starting with a letter or digit",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "uv"
groups = ["ml tools"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid group `ml tools`: use letters, digits, `_`, `-` and `.`, starting with a letter or digit
 --> pyfront.toml:6:11
  |
6 | groups = ["ml tools"]
  |           ^^^^^^^^^^
"#,
        },
        Case {
            name: "name: extra",
            kind: K::InvalidName {
                what: "extra",
                value: "-s3".into(),
                reason: "use letters, digits, `_`, `-` and `.`, starting with a letter or digit",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "poetry"
extras = ["-s3"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid extra `-s3`: use letters, digits, `_`, `-` and `.`, starting with a letter or digit
 --> pyfront.toml:6:11
  |
6 | extras = ["-s3"]
  |           ^^^^^
"#,
        },
        Case {
            name: "name: tool version",
            kind: K::InvalidName {
                what: "version",
                value: "latest".into(),
                reason: "expected an exact version such as `1.2.3`",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "uv"
uv-version = "latest"
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid version `latest`: expected an exact version such as `1.2.3`
 --> pyfront.toml:6:14
  |
6 | uv-version = "latest"
  |              ^^^^^^^^
"#,
        },
        Case {
            name: "name: empty username",
            kind: K::InvalidName {
                what: "username",
                value: String::new(),
                reason: "it is empty",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]

[[index]]
name = "private"
url = "https://pypi.example/simple"
username = ""
password-secret = "pypi_token"
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid username ``: it is empty
  --> pyfront.toml:11:12
   |
11 | username = ""
   |            ^^
"#,
        },
        Case {
            name: "name: package pattern",
            kind: K::InvalidName {
                what: "package pattern",
                value: "acme sdk".into(),
                reason: "expected a package name, optionally with `*` wildcards (`acme-*`)",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "uv"

[[index]]
name = "private"
url = "https://pypi.example/simple"
packages = ["acme sdk"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid package pattern `acme sdk`: expected a package name, optionally with `*` wildcards (`acme-*`)
  --> pyfront.toml:10:13
   |
10 | packages = ["acme sdk"]
   |             ^^^^^^^^^^
"#,
        },
        Case {
            name: "name: NUL in a value",
            kind: K::InvalidName {
                what: "value",
                value: "my\\0app".into(),
                reason: "NUL bytes are not allowed",
            },
            spec: br#"
[app]
base = "python:3.12-slim"
cmd = ["python", "-m", "my\u0000app"]

[install]
with = "pip"
requirements = ["requirements.txt"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid value `my\0app`: NUL bytes are not allowed
 --> pyfront.toml:3:24
  |
3 | cmd = ["python", "-m", "my\u0000app"]
  |                        ^^^^^^^^^^^^^
"#,
        },
        Case {
            name: "name: secret id",
            kind: K::InvalidName {
                what: "secret id",
                value: "pypi/token".into(),
                reason: "only letters, digits, `_`, `-` and `.` are allowed",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]

[[index]]
name = "private"
url = "https://pypi.example/simple"
username = "ci"
password-secret = "pypi/token"
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid secret id `pypi/token`: only letters, digits, `_`, `-` and `.` are allowed
  --> pyfront.toml:12:19
   |
12 | password-secret = "pypi/token"
   |                   ^^^^^^^^^^^^
"#,
        },
        Case {
            name: "name: index name",
            kind: K::InvalidName {
                what: "index name",
                value: "-private".into(),
                reason: "must start with a letter or digit and be at most 128 characters",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]

[[index]]
name = "-private"
url = "https://pypi.example/simple"
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid index name `-private`: must start with a letter or digit and be at most 128 characters
 --> pyfront.toml:9:8
  |
9 | name = "-private"
  |        ^^^^^^^^^^
"#,
        },
        Case {
            name: "name: system package",
            kind: K::InvalidName {
                what: "system package",
                value: "-oAPT::Get::AllowUnauthenticated=true".into(),
                reason: "expected a Debian package name such as `build-essential` or `libpq-dev=15.5-0+deb12u1`",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[build]
system-packages = ["-oAPT::Get::AllowUnauthenticated=true"]

[install]
with = "pip"
requirements = ["requirements.txt"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid system package `-oAPT::Get::AllowUnauthenticated=true`: expected a Debian package name such as `build-essential` or `libpq-dev=15.5-0+deb12u1`
 --> pyfront.toml:5:20
  |
5 | system-packages = ["-oAPT::Get::AllowUnauthenticated=true"]
  |                    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
"#,
        },
        // ---- Indexes ---------------------------------------------------------
        Case {
            name: "duplicate index",
            kind: K::DuplicateIndex {
                name: "private".into(),
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]

[[index]]
name = "private"
url = "https://pypi.example/simple"

[[index]]
name = "private"
url = "https://mirror.example/simple"
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: index `private` is defined twice
  --> pyfront.toml:13:8
   |
13 | name = "private"
   |        ^^^^^^^^^
"#,
        },
        Case {
            name: "two default indexes",
            kind: K::MultipleDefaultIndexes,
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]

[[index]]
name = "private"
url = "https://pypi.example/simple"
default = true

[[index]]
name = "mirror"
url = "https://mirror.example/simple"
default = true
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: only one index can have `default = true`
  --> pyfront.toml:16:11
   |
16 | default = true
   |           ^^^^
"#,
        },
        Case {
            name: "username twice",
            kind: K::UsernameConflict {
                name: "private".into(),
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]

[[index]]
name = "private"
url = "https://pypi.example/simple"
username = "ci"
username-secret = "pypi_user"
password-secret = "pypi_token"
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: index `private` sets both `username` and `username-secret`
  --> pyfront.toml:12:19
   |
12 | username-secret = "pypi_user"
   |                   ^^^^^^^^^^^
"#,
        },
        Case {
            name: "username without password",
            kind: K::IncompleteCredentials {
                name: "private".into(),
                given: "username",
                missing: "password-secret",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]

[[index]]
name = "private"
url = "https://pypi.example/simple"
username = "ci"
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: index `private` has a `username` but no `password-secret`
 --> pyfront.toml:8:1
  |
8 | [[index]]
  | ^^^^^^^^^
  |
  = help: add `password-secret = "..."` to this `[[index]]`
"#,
        },
        Case {
            name: "password without username",
            kind: K::IncompleteCredentials {
                name: "private".into(),
                given: "password-secret",
                missing: "username",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]

[[index]]
name = "private"
url = "https://pypi.example/simple"
password-secret = "pypi_token"
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: index `private` has a `password-secret` but no `username`
 --> pyfront.toml:8:1
  |
8 | [[index]]
  | ^^^^^^^^^
  |
  = help: add `username = "..."` to this `[[index]]`
"#,
        },
        // ---- [install] -------------------------------------------------------
        Case {
            name: "empty requirements",
            kind: K::EmptyRequirements,
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = []
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: `requirements` must list at least one file
 --> pyfront.toml:6:16
  |
6 | requirements = []
  |                ^^
"#,
        },
        Case {
            name: "pip without requirements",
            kind: K::MissingRequirements,
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: `with = "pip"` needs `requirements`
 --> pyfront.toml:5:8
  |
5 | with = "pip"
  |        ^^^^^
  |
  = help: add `requirements = ["requirements.txt"]`, or use `with = "poetry"` or `"uv"` with a lock file
"#,
        },
        Case {
            name: "empty groups",
            kind: K::EmptyGroups,
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "uv"
groups = []
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: `groups` must name at least one group
 --> pyfront.toml:6:10
  |
6 | groups = []
  |          ^^
"#,
        },
        Case {
            name: "requirements with uv",
            kind: K::InstallOptionNotFor {
                key: "requirements",
                installer: "uv",
                for_: "`pip`",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "uv"
requirements = ["requirements.txt"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: `requirements` is not used with `with = "uv"` (it is for `pip`)
 --> pyfront.toml:6:16
  |
6 | requirements = ["requirements.txt"]
  |                ^^^^^^^^^^^^^^^^^^^^
  |
  = help: remove `requirements`: Poetry and uv install from `pyproject.toml` and their lock file
"#,
        },
        Case {
            name: "package with poetry",
            kind: K::InstallOptionNotFor {
                key: "package",
                installer: "poetry",
                for_: "`uv`",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "poetry"
package = "backend"
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: `package` is not used with `with = "poetry"` (it is for `uv`)
 --> pyfront.toml:6:11
  |
6 | package = "backend"
  |           ^^^^^^^^^
"#,
        },
        Case {
            name: "invalid package",
            kind: K::InvalidName {
                what: "package",
                value: "back end".into(),
                reason: "expected the name of a workspace member, such as `backend`",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "uv"
package = "back end"
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid package `back end`: expected the name of a workspace member, such as `backend`
 --> pyfront.toml:6:11
  |
6 | package = "back end"
  |           ^^^^^^^^^^
"#,
        },
        Case {
            name: "project with package",
            kind: K::ProjectWithPackage {
                package: "backend".into(),
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "uv"
package = "backend"
project = true
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: `project = true` does not install a workspace member (`package = "backend"`) yet
 --> pyfront.toml:7:11
  |
7 | project = true
  |           ^^^^
  |
  = help: remove `project`: the members `package` depends on are installed, and the member itself reaches the image with the app code (add its source directory to `PYTHONPATH` in `[app] env`)
"#,
        },
        Case {
            name: "groups with pip",
            kind: K::InstallOptionNotFor {
                key: "groups",
                installer: "pip",
                for_: "`poetry` or `uv`",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]
groups = ["dev"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: `groups` is not used with `with = "pip"` (it is for `poetry` or `uv`)
 --> pyfront.toml:7:10
  |
7 | groups = ["dev"]
  |          ^^^^^^^
"#,
        },
        Case {
            name: "project with pip",
            kind: K::InstallOptionNotFor {
                key: "project",
                installer: "pip",
                for_: "`poetry` or `uv`",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]
project = true
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: `project` is not used with `with = "pip"` (it is for `poetry` or `uv`)
 --> pyfront.toml:7:11
  |
7 | project = true
  |           ^^^^
"#,
        },
        Case {
            name: "poetry-version with uv",
            kind: K::InstallOptionNotFor {
                key: "poetry-version",
                installer: "uv",
                for_: "`poetry`",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "uv"
poetry-version = "2.1.3"
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: `poetry-version` is not used with `with = "uv"` (it is for `poetry`)
 --> pyfront.toml:6:18
  |
6 | poetry-version = "2.1.3"
  |                  ^^^^^^^
"#,
        },
        Case {
            name: "uv-version with poetry",
            kind: K::InstallOptionNotFor {
                key: "uv-version",
                installer: "poetry",
                for_: "`uv`",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "poetry"
uv-version = "0.13.9"
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: `uv-version` is not used with `with = "poetry"` (it is for `uv`)
 --> pyfront.toml:6:14
  |
6 | uv-version = "0.13.9"
  |              ^^^^^^^^
"#,
        },
        Case {
            name: "pip cannot pin",
            kind: K::PipCannotPin {
                name: "private".into(),
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]

[[index]]
name = "private"
url = "https://pypi.example/simple"
packages = ["acme-*"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: index `private` pins packages, but pip cannot pin a package to an index
  --> pyfront.toml:11:12
   |
11 | packages = ["acme-*"]
   |            ^^^^^^^^^^
   |
   = help: pip takes every package from whichever index has the highest version, so a public package with the same name as a private one can replace it (dependency confusion); use `with = "uv"` or `"poetry"` with a lock file, or set `allow-dependency-confusion = true` on this index to accept the risk
"#,
        },
        // ---- [[build.run]] ------------------------------------------------------
        Case {
            name: "build.run: command is a string",
            kind: K::CommandNotArgv,
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]

[[build.run]]
command = "python manage.py collectstatic --noinput"
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: `command` is a string; pyfront runs an argv list, never a shell of its own
 --> pyfront.toml:9:11
  |
9 | command = "python manage.py collectstatic --noinput"
  |           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  |
  = help: write `command = ["python", "manage.py", "collectstatic", "--noinput"]`; for a shell, write it yourself: `command = ["sh", "-c", "..."]`
"#,
        },
        Case {
            name: "build.run: empty command",
            kind: K::EmptyCommand,
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]

[[build.run]]
command = []
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: `command` names no program to run
 --> pyfront.toml:9:11
  |
9 | command = []
  |           ^^
  |
  = help: write the program, then its arguments: `command = ["python", "manage.py", "collectstatic", "--noinput"]`
"#,
        },
        Case {
            name: "build.run: a secret is not a key",
            kind: K::Toml {
                message: "unknown field `secrets`, expected one of `command`, `outputs`, `env`, `network`".into(),
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]

[[build.run]]
command = ["python", "manage.py", "collectstatic"]
secrets = ["pypi_token"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: unknown field `secrets`, expected one of `command`, `outputs`, `env`, `network`
  --> pyfront.toml:10:1
   |
10 | secrets = ["pypi_token"]
   | ^^^^^^^
"#,
        },
        Case {
            name: "build.run: token in the command",
            kind: K::LooksLikeToken {
                what: "build command",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]

[[build.run]]
command = ["curl", "-H", "PRIVATE-TOKEN: glpat-abcdefghijklmnopqrst", "https://example.com"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: the build command holds what looks like a token or password
 --> pyfront.toml:9:26
  |
9 | command = ["curl", "-H", "PRIVATE-TOKEN: **************************", "https://example.com"]
  |                          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  |
  = help: build commands never see a credential: download what needs one as a dependency, through an `[[index]]` with `password-secret = "<secret id>"`, and use it from the venv
"#,
        },
        Case {
            name: "path: absolute output",
            kind: K::InvalidPath {
                value: "/srv/static".into(),
                reason: "outputs are relative to the app workdir",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]

[[build.run]]
command = ["python", "manage.py", "collectstatic"]
outputs = ["/srv/static"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid path `/srv/static`: outputs are relative to the app workdir
  --> pyfront.toml:10:12
   |
10 | outputs = ["/srv/static"]
   |            ^^^^^^^^^^^^^
"#,
        },
        Case {
            name: "path: output leaves the workdir",
            kind: K::InvalidPath {
                value: "../static".into(),
                reason: "`..` would leave the app workdir",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]

[[build.run]]
command = ["python", "manage.py", "collectstatic"]
outputs = ["../static"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid path `../static`: `..` would leave the app workdir
  --> pyfront.toml:10:12
   |
10 | outputs = ["../static"]
   |            ^^^^^^^^^^^
"#,
        },
        Case {
            name: "path: output is the workdir",
            kind: K::InvalidPath {
                value: ".".into(),
                reason: "name a file or directory inside the workdir, not the workdir itself",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt"]

[[build.run]]
command = ["python", "-m", "compileall", "."]
outputs = ["."]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid path `.`: name a file or directory inside the workdir, not the workdir itself
  --> pyfront.toml:10:12
   |
10 | outputs = ["."]
   |            ^^^
"#,
        },
        // ---- Paths and ports -------------------------------------------------
        Case {
            name: "path: absolute",
            kind: K::InvalidPath {
                value: "/etc/requirements.txt".into(),
                reason: "paths are relative to the build context",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["/etc/requirements.txt"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid path `/etc/requirements.txt`: paths are relative to the build context
 --> pyfront.toml:6:17
  |
6 | requirements = ["/etc/requirements.txt"]
  |                 ^^^^^^^^^^^^^^^^^^^^^^^
"#,
        },
        Case {
            name: "path: leaves the context",
            kind: K::InvalidPath {
                value: "../requirements.txt".into(),
                reason: "`..` would leave the build context",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["../requirements.txt"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid path `../requirements.txt`: `..` would leave the build context
 --> pyfront.toml:6:17
  |
6 | requirements = ["../requirements.txt"]
  |                 ^^^^^^^^^^^^^^^^^^^^^
"#,
        },
        Case {
            name: "path: wildcard",
            kind: K::InvalidPath {
                value: "requirements/*.txt".into(),
                reason: "wildcards are not supported; name each file",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements/*.txt"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid path `requirements/*.txt`: wildcards are not supported; name each file
 --> pyfront.toml:6:17
  |
6 | requirements = ["requirements/*.txt"]
  |                 ^^^^^^^^^^^^^^^^^^^^
"#,
        },
        Case {
            name: "path: no file name",
            kind: K::InvalidPath {
                value: "./".into(),
                reason: "expected a file name",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["./"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid path `./`: expected a file name
 --> pyfront.toml:6:17
  |
6 | requirements = ["./"]
  |                 ^^^^
"#,
        },
        Case {
            name: "path: control character",
            kind: K::InvalidPath {
                value: "requirements\u{1b}.txt".into(),
                reason: "paths cannot contain control characters",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements\u001b.txt"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid path `requirements\u{1b}.txt`: paths cannot contain control characters
 --> pyfront.toml:6:17
  |
6 | requirements = ["requirements\u001b.txt"]
  |                 ^^^^^^^^^^^^^^^^^^^^^^^^
"#,
        },
        Case {
            name: "path: relative workdir",
            kind: K::InvalidPath {
                value: "srv/app".into(),
                reason: "expected an absolute path",
            },
            spec: br#"
[app]
base = "python:3.12-slim"
workdir = "srv/app"

[install]
with = "pip"
requirements = ["requirements.txt"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid path `srv/app`: expected an absolute path
 --> pyfront.toml:3:11
  |
3 | workdir = "srv/app"
  |           ^^^^^^^^^
"#,
        },
        Case {
            name: "path: workdir with ..",
            kind: K::InvalidPath {
                value: "/srv/../etc".into(),
                reason: "`..` is not allowed",
            },
            spec: br#"
[app]
base = "python:3.12-slim"
workdir = "/srv/../etc"

[install]
with = "pip"
requirements = ["requirements.txt"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid path `/srv/../etc`: `..` is not allowed
 --> pyfront.toml:3:11
  |
3 | workdir = "/srv/../etc"
  |           ^^^^^^^^^^^^^
"#,
        },
        Case {
            name: "port: out of range",
            kind: K::InvalidPort {
                value: "70000".into(),
            },
            spec: br#"
[app]
base = "python:3.12-slim"
expose = [70000]

[install]
with = "pip"
requirements = ["requirements.txt"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid port `70000`: expected a number from 1 to 65535, optionally followed by `/tcp` or `/udp`
 --> pyfront.toml:3:11
  |
3 | expose = [70000]
  |           ^^^^^
"#,
        },
        Case {
            name: "port: protocol",
            kind: K::InvalidPort {
                value: "8080/sctp".into(),
            },
            spec: br#"
[app]
base = "python:3.12-slim"
expose = ["8080/sctp"]

[install]
with = "pip"
requirements = ["requirements.txt"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: invalid port `8080/sctp`: expected a number from 1 to 65535, optionally followed by `/tcp` or `/udp`
 --> pyfront.toml:3:11
  |
3 | expose = ["8080/sctp"]
  |           ^^^^^^^^^^^
"#,
        },
        // ---- The build context -----------------------------------------------
        Case {
            name: "missing requirement file",
            kind: K::MissingContextFile {
                path: "requirements/dev.txt".into(),
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "pip"
requirements = ["requirements.txt", "requirements/dev.txt"]
"#,
            files: &[],
            args: &[],
            stderr: r#"
error: requirement file `requirements/dev.txt` is not in the build context
 --> pyfront.toml:6:37
  |
6 | requirements = ["requirements.txt", "requirements/dev.txt"]
  |                                     ^^^^^^^^^^^^^^^^^^^^^^
  |
  = help: check that `requirements/dev.txt` exists relative to the build context directory
"#,
        },
        Case {
            name: "missing lock",
            kind: K::MissingProjectFile {
                path: "uv.lock".into(),
                installer: "uv",
                lock: "uv.lock",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "uv"
"#,
            files: &[("pyproject.toml", "[project]\nname = \"app\"\n")],
            args: &[],
            stderr: r#"
error: `uv.lock` is not in the build context; `with = "uv"` installs from `pyproject.toml` and `uv.lock`
 --> pyfront.toml:5:8
  |
5 | with = "uv"
  |        ^^^^
  |
  = help: run `uv lock` in the project directory and commit `pyproject.toml` and `uv.lock`; the build context must be that directory
"#,
        },
        // ---- The project's pyproject.toml and lock ---------------------------
        Case {
            name: "project: invalid pyproject.toml",
            kind: K::ProjectFileInvalid {
                file: "pyproject.toml".into(),
                reason: "unclosed table, expected `]`".into(),
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "uv"
"#,
            files: &[("pyproject.toml", "[project\n"), ("uv.lock", "version = 1\n")],
            args: &[],
            stderr: r#"
error: `pyproject.toml` is not valid TOML: unclosed table, expected `]`
 --> pyfront.toml:5:8
  |
5 | with = "uv"
  |        ^^^^
"#,
        },
        Case {
            name: "project: index not in pyproject.toml",
            kind: K::IndexNotInProject {
                name: "private".into(),
                table: "[[tool.poetry.source]]",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "poetry"

[[index]]
name = "private"
url = "https://pypi.example/simple"
"#,
            files: &[
                ("pyproject.toml", "[tool.poetry]\nname = \"app\"\n"),
                ("poetry.lock", ""),
            ],
            args: &[],
            stderr: r#"
error: index `private` is not a `[[tool.poetry.source]]` of `pyproject.toml`; the installer finds its credentials by that name
 --> pyfront.toml:7:1
  |
7 | [[index]]
  | ^^^^^^^^^
"#,
        },
        Case {
            name: "project: index URL differs",
            kind: K::IndexUrlMismatch {
                name: "private".into(),
                project_url: pyfront::redact::DisplaySafeUrl::new("https://pypi.example/simple/"),
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "uv"

[[index]]
name = "private"
url = "https://mirror.example/simple"
"#,
            files: &[
                ("pyproject.toml", UV_PYPROJECT),
                ("uv.lock", ""),
            ],
            args: &[],
            stderr: r#"
error: `pyproject.toml` gives index `private` the URL `https://pypi.example/simple/`, not this one
 --> pyfront.toml:7:1
  |
7 | [[index]]
  | ^^^^^^^^^
  |
  = help: set `url = "https://pypi.example/simple/"` here, or change `pyproject.toml` and re-lock
"#,
        },
        Case {
            name: "project: locked from an index the spec lacks",
            kind: K::LockedFromUndeclaredIndex {
                package: "acme-sdk".into(),
                index: "private".into(),
                lock: "uv.lock",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "uv"
"#,
            files: &[
                ("pyproject.toml", UV_PYPROJECT),
                ("uv.lock", UV_LOCK_PRIVATE),
            ],
            args: &[],
            stderr: r#"
error: `acme-sdk` is locked from index `private` in `uv.lock`, but the spec has no `[[index]]` named `private`
 --> pyfront.toml:5:8
  |
5 | with = "uv"
  |        ^^^^
  |
  = help: add an `[[index]]` named `private` with its URL (and `username` / `password-secret` if it needs credentials)
"#,
        },
        Case {
            name: "project: locked from an unknown URL",
            kind: K::LockedFromUnknownUrl {
                package: "acme-sdk".into(),
                url: pyfront::redact::DisplaySafeUrl::new("https://elsewhere.example/simple"),
                lock: "uv.lock",
                table: "[[tool.uv.index]]",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "uv"

[[index]]
name = "private"
url = "https://pypi.example/simple/"
"#,
            files: &[
                ("pyproject.toml", UV_PYPROJECT),
                ("uv.lock", UV_LOCK_ELSEWHERE),
            ],
            args: &[],
            stderr: r#"
error: `acme-sdk` is locked from `https://elsewhere.example/simple` in `uv.lock`, which no `[[tool.uv.index]]` of `pyproject.toml` names
 --> pyfront.toml:5:8
  |
5 | with = "uv"
  |        ^^^^
"#,
        },
        Case {
            name: "project: pinned package from another index",
            kind: K::PinnedPackageFromOtherIndex {
                package: "acme-sdk".into(),
                index: "private".into(),
                locked_from: "PyPI".into(),
                lock: "uv.lock",
            },
            spec: br#"
[app]
base = "python:3.12-slim"

[install]
with = "uv"

[[index]]
name = "private"
url = "https://pypi.example/simple/"
packages = ["acme-*"]
"#,
            files: &[
                ("pyproject.toml", UV_PYPROJECT),
                ("uv.lock", UV_LOCK_PYPI),
            ],
            args: &[],
            stderr: r#"
error: `acme-sdk` is locked from PyPI in `uv.lock`, but `packages` pins it to index `private`
  --> pyfront.toml:10:12
   |
10 | packages = ["acme-*"]
   |            ^^^^^^^^^^
   |
   = help: a public package may have replaced the private one (dependency confusion): pin it to `private` in `pyproject.toml` (uv: an explicit index and `[tool.uv.sources]`; Poetry: `source = "private"`), then re-lock
"#,
        },
    ]
}

/// A uv project with one private index.
const UV_PYPROJECT: &str = r#"[project]
name = "app"
version = "0.1.0"
dependencies = ["acme-sdk"]

[[tool.uv.index]]
name = "private"
url = "https://pypi.example/simple/"
explicit = true
"#;

/// `uv.lock`s that take `acme-sdk` from the private index, from an index
/// `pyproject.toml` does not name, and from PyPI.
const UV_LOCK_PRIVATE: &str = r#"version = 1

[[package]]
name = "acme-sdk"
version = "1.0.0"
source = { registry = "https://pypi.example/simple/" }
"#;
const UV_LOCK_ELSEWHERE: &str = r#"version = 1

[[package]]
name = "acme-sdk"
version = "1.0.0"
source = { registry = "https://elsewhere.example/simple" }
"#;
const UV_LOCK_PYPI: &str = r#"version = 1

[[package]]
name = "Acme_SDK"
version = "9.9.9"
source = { registry = "https://pypi.org/simple" }
"#;

/// Runs `pyfront check` on `case` in a fresh directory (spec and context).
fn check(case: &Case) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pyfront.toml"), case.spec()).unwrap();
    std::fs::write(dir.path().join("requirements.txt"), "").unwrap();
    for (path, text) in case.files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    run_check(dir.path(), case.args)
}

fn run_check(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pyfront"))
        .current_dir(dir)
        .args(["check", "-f", "pyfront.toml", "--context", "."])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// As diagnostics show messages: control characters escaped (`\u{1b}`).
fn escape_controls(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `--build-arg NAME=VALUE` pairs of `args`, for parsing in process.
fn build_args(args: &[&str]) -> BuildArgs {
    args.windows(2)
        .filter(|w| w[0] == "--build-arg")
        .filter_map(|w| w[1].split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[test]
fn every_spec_error_renders_exactly() {
    let mut failures = Vec::new();
    for case in spec_cases() {
        let expected = case.stderr.strip_prefix('\n').unwrap_or(case.stderr);
        let (ok, stdout, stderr) = check(&case);
        if ok || !stdout.is_empty() || stderr != expected {
            failures.push(format!(
                "=== {} (success: {ok}, stdout: {stdout:?}); stderr:\n{stderr}=== end",
                case.name
            ));
        }
        // The case names its variant: its first line is the variant's
        // message and its `help:` line the variant's hint.
        let error = SpecError {
            span: None,
            kind: case.kind.clone(),
        };
        let message = format!("error: {}", escape_controls(&error.to_string()));
        if expected.lines().next() != Some(&message) {
            failures.push(format!("{}: the first line is not `{message}`", case.name));
        }
        let help = match error.hint() {
            Some(hint) => expected.contains(&format!("= help: {hint}\n")),
            None => !expected.contains("help:"),
        };
        if !help {
            failures.push(format!(
                "{}: the help line is not {:?}",
                case.name,
                error.hint()
            ));
        }
        // Where the spec alone fails, the parser returns that very kind.
        if let Ok(text) = std::str::from_utf8(case.spec()) {
            if let Err(e) = Spec::parse(text, &build_args(case.args)) {
                if e.kind != case.kind {
                    failures.push(format!("{}: the parser returns {:?}", case.name, e.kind));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_spec_error_variant_has_a_case() {
    let covered: Vec<&str> = spec_cases().iter().map(|c| spec_variant(&c.kind)).collect();
    let missing: Vec<&&str> = SPEC_VARIANTS
        .iter()
        .filter(|v| !covered.contains(v))
        .collect();
    assert!(missing.is_empty(), "no case in spec_cases(): {missing:?}");
}

/// Build options that must fail, and how.
struct OptionsCase {
    /// The opts BuildKit sends (`key`, `value`).
    opts: &'static [(&'static str, &'static str)],
    /// The same through `pyfront check`, where a flag can say it.
    flags: Option<&'static [&'static str]>,
    /// The error with its causes, `: `-separated, as the frontend returns
    /// it to BuildKit and the CLI prints it.
    message: &'static str,
}

impl OptionsCase {
    /// The error `BuildOptions::parse` returns for the case's opts.
    fn error(&self) -> OptsError {
        let raw: BTreeMap<String, String> = self
            .opts
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        BuildOptions::parse(&raw).expect_err(self.message)
    }
}

fn options_cases() -> Vec<OptionsCase> {
    vec![
        OptionsCase {
            opts: &[("target", "prod")],
            flags: Some(&["--target", "prod"]),
            message: "unknown target `prod`; valid targets: `builder`, `app`",
        },
        OptionsCase {
            opts: &[("platform", "linux/amd64,linux")],
            flags: Some(&["--platform", "linux/amd64,linux"]),
            message: "invalid platform `linux`; expected `os/arch[/variant]` such as `linux/amd64`",
        },
        OptionsCase {
            opts: &[("force-network-mode", "bridge")],
            flags: None,
            message: "invalid `force-network-mode` `bridge`; expected `sandbox`, `host` or `none`",
        },
        OptionsCase {
            opts: &[("image-resolve-mode", "always")],
            flags: None,
            message: "invalid `image-resolve-mode` `always`; expected `default`, `pull` or `local`",
        },
        OptionsCase {
            opts: &[("cache-imports", "type=registry,ref=r/c:1")],
            flags: None,
            message: r#"invalid `cache-imports` opt: expected a JSON list of {"Type": ..., "Attrs": {...}}: expected ident at line 1 column 2"#,
        },
        OptionsCase {
            opts: &[("requestid", "frontend.sbom")],
            flags: None,
            message: "the `frontend.sbom` subrequest is not supported by this frontend",
        },
        OptionsCase {
            opts: &[("build-arg:SOURCE_DATE_EPOCH", "yesterday")],
            flags: Some(&["--build-arg", "SOURCE_DATE_EPOCH=yesterday"]),
            message: "invalid `--build-arg SOURCE_DATE_EPOCH=yesterday`: expected whole seconds since 1970, such as `$(git log -1 --format=%ct)`",
        },
    ]
}

/// An error with its causes, `: `-separated (as `FrontendError::chain`).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[test]
fn every_options_error_renders_exactly() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pyfront.toml"),
        "[app]\nbase = \"python:3.12-slim\"\n[install]\nwith = \"pip\"\nrequirements = [\"requirements.txt\"]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("requirements.txt"), "").unwrap();
    for case in options_cases() {
        assert_eq!(chain(&case.error()), case.message);
        if let Some(flags) = case.flags {
            let (ok, stdout, stderr) = run_check(dir.path(), flags);
            assert!(!ok, "{flags:?}");
            assert_eq!(stdout, "");
            assert_eq!(stderr, format!("{}\n", case.message), "{flags:?}");
        }
    }
}

#[test]
fn every_options_error_variant_has_a_case() {
    let covered: Vec<&str> = options_cases()
        .iter()
        .map(|case| options_variant(&case.error()))
        .collect();
    let missing: Vec<&&str> = OPTIONS_VARIANTS
        .iter()
        .filter(|v| !covered.contains(v))
        .collect();
    assert!(
        missing.is_empty(),
        "no case in options_cases(): {missing:?}"
    );
}
