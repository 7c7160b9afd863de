use super::*;

#[test]
fn local_requirements_are_found_relative_to_the_context_root() {
    // (line, Some((path, editable)) when local)
    let cases: &[(&str, Option<(&str, bool)>)] = &[
        ("-e .", Some((".", true))),
        ("-e ./libs/sdk", Some(("libs/sdk", true))),
        ("--editable=./libs/sdk/", Some(("libs/sdk", true))),
        ("-e .[dev,test]", Some((".", true))),
        (
            "-e ./libs/sdk[async] -C editable_mode=compat",
            Some(("libs/sdk", true)),
        ),
        ("-e file:libs/sdk#egg=sdk", Some(("libs/sdk", true))),
        ("./libs/sdk", Some(("libs/sdk", false))),
        (
            "./libs/sdk[extra] ; python_version >= \"3.10\"",
            Some(("libs/sdk", false)),
        ),
        ("libs/sdk", Some(("libs/sdk", false))),
        ("file:libs/sdk", Some(("libs/sdk", false))),
        (
            "file:./libs/sdk#subdirectory=python",
            Some(("libs/sdk", false)),
        ),
        ("sdk @ file:libs/sdk", Some(("libs/sdk", false))),
        (
            "sdk[async] @ file:libs/my%20sdk ; os_name == \"posix\"",
            Some(("libs/my sdk", false)),
        ),
        ("sdk @ file://localhost/", None),
        (
            "dist/sdk-1.0-py3-none-any.whl",
            Some(("dist/sdk-1.0-py3-none-any.whl", false)),
        ),
        ("sdk-1.0.tar.gz", Some(("sdk-1.0.tar.gz", false))),
        ("django>=4.2", None),
        ("requests[security]>=2.31; python_version < \"3.13\"", None),
        ("git+https://github.com/org/repo.git@v1#egg=repo", None),
        ("-e git+https://github.com/org/repo.git#egg=repo", None),
        ("-e git+ssh://git@github.com/org/repo.git#egg=repo", None),
        ("pkg @ https://example.com/pkg-1.0-py3-none-any.whl", None),
        ("pkg @ git+https://github.com/org/pkg", None),
        ("https://example.com/pkg-1.0.tar.gz", None),
    ];
    for (line, want) in cases {
        let result = run(&[("requirements.txt", line)], &["requirements.txt"]);
        if line.contains("localhost/") {
            // `file:///` is absolute: refused, see the error table.
            assert!(result.is_err(), "{line}");
            continue;
        }
        let set = result.unwrap_or_else(|e| panic!("{line}: {e}"));
        let got: Vec<(&str, bool)> = set
            .local
            .iter()
            .map(|l| (l.path.as_str(), l.editable))
            .collect();
        assert_eq!(got, want.iter().copied().collect::<Vec<_>>(), "{line}");
    }
    // In a file in a subdirectory, still from the context root.
    let set = ok(&[("requirements/dev.txt", "-e ./libs/sdk\n")]);
    assert_eq!(set.local[0].path, "libs/sdk");
    assert!(!set.local[0].constraint);
    let set = ok(&[("requirements.txt", "./libs/sdk -C k=v\n")]);
    assert!(set.local[0].config_settings);
    // A named local requirement in a constraint file is marked so: pip
    // installs it only if something requires its name.
    let set = run(
        &[
            ("requirements.txt", "-c c.txt\nsdk\n"),
            ("c.txt", "sdk @ file:libs/sdk\n"),
        ],
        &["requirements.txt"],
    )
    .unwrap();
    let got: Vec<(&str, bool)> = set
        .local
        .iter()
        .map(|l| (l.path.as_str(), l.constraint))
        .collect();
    assert_eq!(got, [("libs/sdk", true)]);
}

/// pip builds a URL or VCS requirement whatever `--only-binary` says, so
/// the set must not be fetched wheels-only next to the credentials.
#[test]
fn remote_references_are_flagged() {
    let cases: &[(&str, bool)] = &[
        ("requests==2.31.0", false),
        ("requests[socks] ; python_version >= \"3.8\"", false),
        ("./libs/sdk", false),
        ("sdk @ file:libs/sdk", false),
        ("docopt @ https://files.example/docopt-0.6.2.tar.gz", true),
        ("https://files.example/docopt-0.6.2.tar.gz", true),
        ("git+https://git.example/acme/sdk.git@v1#egg=sdk", true),
        ("sdk @ git+ssh://git@git.example/acme/sdk.git", true),
        (
            "sdk[x] @ https://files.example/sdk-1.0.tar.gz ; os_name == \"posix\"",
            true,
        ),
    ];
    for (line, remote) in cases {
        let set = ok(&[("requirements.txt", &format!("{line}\n"))]);
        assert_eq!(set.remote.is_some(), *remote, "{line}");
    }
}
