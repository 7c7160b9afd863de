use super::*;

#[test]
fn errors_name_the_file_line_and_column() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("requirements.txt", "django==4.2\n# shared pins\n-r requirements/base.txt\n")],
            "requirements.txt:3:4: `requirements/base.txt` (included here) is not in the build context",
        ),
        (
            &[("requirements/prod.txt", "gunicorn\n-c ../constraints.txt\n")],
            "requirements/prod.txt:2:4: `constraints.txt` (included here) is not in the build context",
        ),
        (
            &[("requirements.txt", "-r dev.txt\n"), ("dev.txt", "pytest\n--requirement requirements.txt\n")],
            "dev.txt:2:15: include cycle: `requirements.txt` -> `dev.txt` -> `requirements.txt`",
        ),
        (
            &[("requirements.txt", "-r ./requirements.txt\n")],
            "requirements.txt:1:4: include cycle: `requirements.txt` -> `requirements.txt`",
        ),
        (
            &[("requirements.txt", "-r https://example.com/requirements.txt\n")],
            "requirements.txt:1:4: `-r` must name a file in the build context, not a URL",
        ),
        (
            &[("requirements.txt", "--constraint=file:///src/constraints.txt\n")],
            "requirements.txt:1:14: `--constraint` must name a file in the build context, not a URL",
        ),
        (
            &[("requirements.txt", "-r /etc/requirements.txt\n")],
            "requirements.txt:1:4: `/etc/requirements.txt` is an absolute path",
        ),
        (
            &[("requirements/prod.txt", "-r ../../base.txt\n")],
            "requirements/prod.txt:1:4: `../../base.txt` is outside the build context",
        ),
        (
            &[("requirements.txt", "-e /src/sdk\n")],
            "requirements.txt:1:4: local requirement `/src/sdk` is an absolute path",
        ),
        (
            &[("requirements.txt", "sdk @ file:///src/sdk\n")],
            "requirements.txt:1:1: local requirement `/src/sdk` is an absolute path",
        ),
        (
            &[("requirements/dev.txt", "pytest\n-e ../libs/sdk\n")],
            "requirements/dev.txt:2:4: local requirement `../libs/sdk` is outside the build context",
        ),
        (
            &[("requirements.txt", "-r base*.txt\n")],
            "requirements.txt:1:4: invalid path `base*.txt`: wildcards are not supported; name each file",
        ),
        (
            &[("requirements.txt", "django\n--extra-index-url https://user:token@gitlab.example/simple\n")],
            "requirements.txt:2:1: `--extra-index-url` cannot be used in a requirement file",
        ),
        (
            &[("requirements.txt", "-i https://pypi.example/simple\n")],
            "requirements.txt:1:1: `-i` cannot be used in a requirement file",
        ),
        (
            &[("requirements.txt", "-ihttps://pypi.example/simple\n")],
            "requirements.txt:1:1: `-i` cannot be used in a requirement file",
        ),
        (
            &[("requirements.txt", "  --index-url=https://pypi.example/simple\n")],
            "requirements.txt:1:3: `--index-url` cannot be used in a requirement file",
        ),
        (
            &[("requirements.txt", "--pypi-url https://pypi.example/simple\n")],
            "requirements.txt:1:1: `--pypi-url` cannot be used in a requirement file",
        ),
        (
            &[("requirements.txt", "--extra https://pypi.example/simple\n")],
            "requirements.txt:1:1: `--extra-index-url` cannot be used in a requirement file",
        ),
        (
            &[("requirements.txt", "--no-index\n")],
            "requirements.txt:1:1: `--no-index` cannot be used in a requirement file",
        ),
        (
            &[("requirements.txt", "-f ./wheels\n")],
            "requirements.txt:1:1: `-f` cannot be used in a requirement file",
        ),
        (
            &[("requirements.txt", "--find-links=https://example.com/wheels/\n")],
            "requirements.txt:1:1: `--find-links` cannot be used in a requirement file",
        ),
        (
            &[("requirements.txt", "--trusted-host pypi.example\n")],
            "requirements.txt:1:1: `--trusted-host` cannot be used in a requirement file",
        ),
        (
            &[("requirements.txt", "django==4.2 --index-url https://pypi.example/simple\n")],
            "requirements.txt:1:13: `--index-url` cannot be used in a requirement file",
        ),
        (
            &[("requirements.txt", "pycairo --global-option=--verbose\n")],
            "requirements.txt:1:9: `--global-option` is not supported",
        ),
        (
            &[("requirements.txt", "-Z\n")],
            "requirements.txt:1:1: unknown option `-Z`",
        ),
        (
            &[("requirements.txt", "django\n--allow-external django\n")],
            "requirements.txt:2:1: unknown option `--allow-external`",
        ),
        (
            &[("requirements.txt", "--req base.txt\n")],
            "requirements.txt:1:1: ambiguous option `--req`: it could be `--requirement` or `--require-hashes`",
        ),
        (
            &[("requirements.txt", "--no- x\n")],
            "requirements.txt:1:1: ambiguous option `--no-`: it could be `--no-index` or `--no-binary`",
        ),
        (
            &[("requirements.txt", "--p\n")],
            "requirements.txt:1:1: ambiguous option `--p`: it could be `--pypi-url`, `--prefer-binary` or `--pre`",
        ),
        (
            &[("requirements.txt", "django\n-r\n")],
            "requirements.txt:2:1: `-r` needs a value",
        ),
        (
            &[("requirements.txt", "--pre=yes\n")],
            "requirements.txt:1:1: `--pre` does not take a value",
        ),
        (
            &[("requirements.txt", "-r \"base.txt\n")],
            "requirements.txt:1:4: this quote is never closed",
        ),
        (
            &[("requirements.txt", "django==4.2 \\ \n    --hash=sha256:abc\n")],
            "requirements.txt:1:13: this `\\` does not end the line, so the next line is not joined to this one",
        ),
        (
            &[("requirements.txt", "django==4.2 \\ # pinned\n    --hash=sha256:abc\n")],
            "requirements.txt:1:13: this `\\` does not end the line, so the next line is not joined to this one",
        ),
        (
            &[("requirements.txt", "git+https://${GITHUB_TOKEN}@github.com/org/repo.git\n")],
            "requirements.txt:1:13: requirement files cannot use environment variables (`****`)",
        ),
        (
            &[("requirements.txt", "-r ${ENV}/base.txt\n")],
            "requirements.txt:1:4: requirement files cannot use environment variables (`${ENV}`)",
        ),
        (
            &[("requirements.txt", "pkg @ https://user:secret@host.example/pkg-1.0.whl\n")],
            "requirements.txt:1:7: URLs in requirement files must not contain credentials",
        ),
        (
            &[("requirements.txt", "-e git+https://ghp_token@github.com/org/repo.git#egg=repo\n")],
            "requirements.txt:1:4: URLs in requirement files must not contain credentials",
        ),
        (
            &[("requirements.txt", "django==4.2 --hash=abc\n")],
            "requirements.txt:1:20: `--hash` expects `ALGORITHM:DIGEST`, such as `sha256:<hex digest>`",
        ),
        (
            &[("requirements.txt", "django==4.2 \\\n    --hash=md5:abc\n")],
            "requirements.txt:2:12: `--hash` does not accept `md5`; use `sha256`, `sha384` or `sha512`",
        ),
        (
            &[("requirements.txt", "django==4.2\n    --hash=sha256:abc\n")],
            "requirements.txt:2:5: `--hash` needs a requirement on the same line",
        ),
        (
            &[("requirements.txt", "-C editable_mode=compat\n")],
            "requirements.txt:1:1: `-C` needs a requirement on the same line",
        ),
        (
            &[("requirements.txt", "django==4.2 --pre\n")],
            "requirements.txt:1:13: pip ignores `--pre` after a requirement",
        ),
        (
            &[("requirements.txt", "django -r base.txt\n")],
            "requirements.txt:1:8: pip ignores `-r` after a requirement",
        ),
        (
            &[("requirements.txt", "-e . --prefer-binary\n")],
            "requirements.txt:1:6: pip ignores `--prefer-binary` after a requirement",
        ),
        (
            &[("requirements.txt", "-r a.txt -r b.txt\n")],
            "requirements.txt:1:10: pip reads only one `-r`, `-c` or `-e` per line",
        ),
        (
            &[("requirements.txt", "-e . -r a.txt\n")],
            "requirements.txt:1:6: pip reads only one `-r`, `-c` or `-e` per line",
        ),
        (
            &[("requirements.txt", "-r base.txt --pre\n")],
            "requirements.txt:1:13: pip ignores `--pre` on a line with `-r` or `-c`",
        ),
        (
            &[("requirements.txt", "--require-hashes -c constraints.txt\n")],
            "requirements.txt:1:1: pip ignores `--require-hashes` on a line with `-r` or `-c`",
        ),
        (
            &[("requirements.txt", "-e . --hash=sha256:abc\n")],
            "requirements.txt:1:6: `--hash` does not apply to `-e` requirements",
        ),
        (
            &[("requirements.txt", "-r base.txt extra.txt\n")],
            "requirements.txt:1:13: pip ignores this argument",
        ),
        (
            &[("requirements.txt", "-e ./libs/sdk ; python_version > \"3.8\"\n")],
            "requirements.txt:1:15: pip ignores this argument",
        ),
        (
            &[("requirements.txt", "-c constraints.txt\n"), ("constraints.txt", "urllib3<3\n-e ./libs/sdk\n")],
            "constraints.txt:2:4: constraint files cannot contain `-e` requirements",
        ),
        (
            &[("requirements.txt", "-c constraints.txt\n"), ("constraints.txt", "./libs/sdk\n")],
            "constraints.txt:1:1: constraint files cannot contain requirements without a name",
        ),
    ];
    // The limits have tests of their own (they need many files).
    let mut covered = BTreeSet::from([
        kind_index(&RequirementsErrorKind::TooManyFiles { limit: 0 }),
        kind_index(&RequirementsErrorKind::TooDeep { limit: 0 }),
    ]);
    for (files, want) in cases {
        let error = run(files, &[files[0].0]).unwrap_err();
        assert_eq!(located(files, &error), *want, "{files:?}");
        covered.insert(kind_index(&error.kind));
    }
    let missing = run(&[], &["requirements.txt"]).unwrap_err();
    assert_eq!(
        located(&[], &missing),
        "root 0: requirement file `requirements.txt` is not in the build context"
    );
    covered.insert(kind_index(&missing.kind));
    assert_eq!(
        covered,
        (0..KINDS).collect(),
        "every kind needs a case here"
    );
}

const KINDS: usize = 31;

/// Numbers every kind; a new kind fails to compile here until it is
/// numbered, and then the table above needs a case for it.
fn kind_index(kind: &RequirementsErrorKind) -> usize {
    use RequirementsErrorKind as K;
    match kind {
        K::MissingRoot { .. } => 0,
        K::MissingInclude { .. } => 1,
        K::IncludeCycle { .. } => 2,
        K::TooManyFiles { .. } => 3,
        K::TooDeep { .. } => 4,
        K::UrlInclude { .. } => 5,
        K::AbsoluteInclude { .. } => 6,
        K::IncludeLeavesContext { .. } => 7,
        K::AbsoluteLocal { .. } => 8,
        K::LocalLeavesContext { .. } => 9,
        K::InvalidPath { .. } => 10,
        K::IndexOption { .. } => 11,
        K::RemovedOption { .. } => 12,
        K::UnknownOption { .. } => 13,
        K::AmbiguousOption { .. } => 14,
        K::MissingValue { .. } => 15,
        K::UnexpectedValue { .. } => 16,
        K::UnclosedQuote => 17,
        K::BackslashNotAtEnd => 18,
        K::EnvironmentVariable { .. } => 19,
        K::CredentialsInUrl => 20,
        K::HashFormat => 21,
        K::WeakHash { .. } => 22,
        K::OptionWithoutRequirement { .. } => 23,
        K::OptionAfterRequirement { .. } => 24,
        K::OneIncludePerLine { .. } => 25,
        K::OptionOnIncludeLine { .. } => 26,
        K::HashOnEditable => 27,
        K::IgnoredArgument => 28,
        K::EditableConstraint => 29,
        K::UnnamedConstraint => 30,
    }
}

#[test]
fn messages_never_repeat_credentials() {
    let cases = [
        "--extra-index-url https://user:tok3n@host/simple\n",
        "-r https://user:tok3n@host/requirements.txt\n",
        "pkg @ https://user:tok3n@host/pkg.whl\n",
        "-r base.txt https://user:tok3n@host/x\n",
    ];
    for text in cases {
        let error = run(&[("requirements.txt", text)], &["requirements.txt"]).unwrap_err();
        assert!(error.masks_credentials(), "{text}");
        let message = format!("{error} {}", error.hint().unwrap_or_default());
        assert!(!message.contains("tok3n"), "{message}");
    }
}

#[test]
fn hints_say_what_to_do() {
    let hint = |files: &[(&str, &str)]| run(files, &[files[0].0]).unwrap_err().hint().unwrap();
    assert_eq!(
        hint(&[("requirements.txt", "-r requirements/base.txt\n")]),
        "`-r` and `-c` paths are relative to the directory of the file that names them"
    );
    assert_eq!(
        hint(&[(
            "requirements.txt",
            "--extra-index-url https://host/simple\n"
        )]),
        "declare package indexes in the spec's `[[index]]` tables (with `username` and \
         `password-secret` for credentials), and remove this option"
    );
    assert_eq!(
        hint(&[("requirements/dev.txt", "-e ../libs/sdk\n")]),
        "pip resolves local paths from the build context root, not from the requirement \
         file: write the path relative to the build context"
    );
    assert_eq!(
        hint(&[("requirements.txt", "git+https://${TOKEN}@github.com/o/r\n")]),
        "nothing from your environment reaches the build: write the value out, or declare \
         a private index in the spec's `[[index]]` tables with `password-secret`"
    );
    assert_eq!(
        hint(&[("requirements.txt", "-r requirements.txt\n")]),
        "pip stops with \"recursively references itself\"; remove one of these includes"
    );
    assert_eq!(
        hint(&[("requirements.txt", "django==4.2 --pre\n")]),
        "put `--pre` on a line of its own"
    );
    assert_eq!(
        hint(&[("requirements.txt", "django\n--hash=sha256:abc\n")]),
        "end the previous line with `\\` to continue it onto this line"
    );
    assert_eq!(
        run(&[], &["requirements.txt"]).unwrap_err().hint().unwrap(),
        "check that `requirements.txt` exists relative to the build context directory"
    );
}
