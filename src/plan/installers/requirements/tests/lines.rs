use super::*;

#[test]
fn lines_are_read_as_pip_reads_them() {
    // (root text, files reached besides the root)
    let cases: &[(&str, &[&str])] = &[
        ("# -r a.txt\n", &[]),
        ("   # -r a.txt\n", &[]),
        ("django # -r a.txt\n", &[]),
        ("-r a.txt # a comment\n", &["a.txt"]),
        ("-r a.txt#not-a-comment\n", &["a.txt#not-a-comment"]),
        ("\n\n   \n\t\n-r a.txt\n\n", &["a.txt"]),
        ("-r \\\n  a.txt\n", &["a.txt"]),
        ("-r \\\n\\\n  a.txt\n", &["a.txt"]),
        // A comment line ends a continuation and does not continue.
        (
            "django==4.2 \\\n# trailing comment \\\n-r a.txt\n",
            &["a.txt"],
        ),
        ("-r a.txt\r\n-r b.txt\r\n", &["a.txt", "b.txt"]),
        ("-r a.txt\r-r b.txt", &["a.txt", "b.txt"]),
        ("-r a.txt\u{c}-r b.txt\u{2028}", &["a.txt", "b.txt"]),
        ("\u{feff}-r a.txt\n", &["a.txt"]),
        // Lowercase names are not variables to pip: left alone.
        (
            "-r a.txt\npkg @ https://host/${token}/pkg.whl\n",
            &["a.txt"],
        ),
    ];
    for (text, expected) in cases {
        let mut files = vec![("requirements.txt", *text)];
        files.extend(expected.iter().map(|p| (*p, "")));
        let set = ok(&files);
        let reached: Vec<&str> = set
            .files
            .iter()
            .map(|f| f.path.as_str())
            .filter(|p| *p != "requirements.txt")
            .collect();
        assert_eq!(reached, *expected, "{text:?}");
    }
}

#[test]
fn errors_after_a_continuation_point_into_the_right_line() {
    let text =
        "django==4.2 \\\n    --hash=sha256:abc \\\n    --index-url https://u:p@host/simple\n";
    let error = run(&[("requirements.txt", text)], &["requirements.txt"]).unwrap_err();
    let Location::File { span, .. } = &error.location else {
        panic!("{error:?}")
    };
    // The span covers the option and its value, so a renderer can mask
    // the credentials in it.
    assert_eq!(&text[span.clone()], "--index-url https://u:p@host/simple");
    assert_eq!(
        located(&[("requirements.txt", text)], &error),
        "requirements.txt:3:5: `--index-url` cannot be used in a requirement file"
    );
    assert!(error.masks_credentials());
}

#[test]
fn requirement_lines_are_what_comes_before_the_options() {
    let text = "\u{feff}# a comment\npsycopg2>=2.9 --hash=sha256:00 \\\n    --hash=sha256:11\n-r base.txt\n-e .\nuwsgi ; sys_platform == \"linux\"  # the server\n\n./libs/sdk\nmysql\\\nclient\n";
    assert_eq!(
        requirement_lines(text),
        [
            "psycopg2>=2.9",
            "uwsgi ; sys_platform == \"linux\"",
            "./libs/sdk",
            "mysqlclient"
        ]
    );
}
