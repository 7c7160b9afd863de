use super::*;

#[test]
fn image_refs_normalize_like_docker() {
    let cases = [
        (
            "python:3.11-slim-bookworm",
            "docker.io/library/python:3.11-slim-bookworm",
        ),
        (
            "pyfront-test/python:3.11",
            "docker.io/pyfront-test/python:3.11",
        ),
        ("python", "docker.io/library/python:latest"),
        ("localhost:5000/a/b", "localhost:5000/a/b:latest"),
        (
            "registry.example.com/x/y:1.0",
            "registry.example.com/x/y:1.0",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(ImageRef::parse(input).unwrap().normalized, want, "{input}");
    }
    let d = format!("python@sha256:{}", "a".repeat(64));
    assert_eq!(
        ImageRef::parse(&d).unwrap().normalized,
        format!("docker.io/library/python@sha256:{}", "a".repeat(64))
    );
}

#[test]
fn bad_image_refs_are_rejected() {
    for bad in [
        "",
        "Python:3",
        "python:",
        "python:-x",
        "a//b",
        "python@md5:1",
        "py thon",
        "$(id)",
    ] {
        assert!(ImageRef::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn urls_with_credentials_are_rejected() {
    assert_eq!(
        IndexUrl::parse("https://u:p@gitlab.example/simple").unwrap_err(),
        SpecErrorKind::CredentialsInUrl
    );
    assert!(IndexUrl::parse("ftp://x").is_err());
    for leaky in ["ftp://u:p@x", "u:p@host/simple", "https://tok@host"] {
        assert_eq!(
            IndexUrl::parse(leaky).unwrap_err(),
            SpecErrorKind::CredentialsInUrl,
            "{leaky}"
        );
    }
    assert!(IndexUrl::parse("https://").is_err());
    assert!(IndexUrl::parse("https://a b/").is_err());
    let url = IndexUrl::parse("http://127.0.0.1:8080/simple/").unwrap();
    assert_eq!((url.scheme(), url.host()), ("http", "127.0.0.1"));
    for token in [
        "https://host/simple?private_token=abc",
        "https://host/glpat-0123456789abcdefghij/simple",
    ] {
        assert_eq!(
            IndexUrl::parse(token).unwrap_err(),
            SpecErrorKind::LooksLikeToken { what: "index URL" },
            "{token}"
        );
    }
}

#[test]
fn names_and_paths() {
    assert!(SecretId::parse("pypi_token").is_ok());
    assert!(SecretId::parse("../x").is_err());
    assert!(SecretId::parse("a b").is_err());
    assert_eq!(
        ContextPath::parse("./reqs//base.txt").unwrap().as_str(),
        "reqs/base.txt"
    );
    assert!(ContextPath::parse("../x").is_err());
    assert!(ContextPath::parse("/etc/passwd").is_err());
    assert!(ContextPath::parse("*.txt").is_err());
    assert_eq!(ImagePath::parse("/opt//app/").unwrap().as_str(), "/opt/app");
    assert!(ImagePath::parse("app").is_err());
    assert!(AptPackage::parse("build-essential").is_ok());
    assert!(AptPackage::parse("libpq-dev=15.5-0+deb12u1").is_ok());
    for bad in ["-o", "--allow-unauthenticated", "a;b", "x", "$(id)", "A"] {
        assert!(AptPackage::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn app_users_are_a_portable_name_or_numeric_ids() {
    let name = |s: &str| AppUser::Name(s.to_owned());
    assert_eq!(AppUser::parse("app"), Ok(name("app")));
    assert_eq!(AppUser::parse("_svc-1"), Ok(name("_svc-1")));
    assert_eq!(AppUser::parse(&"a".repeat(32)), Ok(name(&"a".repeat(32))));
    assert_eq!(
        AppUser::parse("1000"),
        Ok(AppUser::Id {
            uid: 1000,
            gid: None
        })
    );
    assert_eq!(
        AppUser::parse("1000:2000"),
        Ok(AppUser::Id {
            uid: 1000,
            gid: Some(2000)
        })
    );
    for bad in [
        "",
        "App",
        "-app",
        "1app",
        "app user",
        "app:app",
        "1000:app",
        "app:1000",
        "1000:",
        ":1000",
        "4294967296",
        "+1",
        "a.b",
        "app\n",
        &"a".repeat(33),
    ] {
        assert_eq!(
            AppUser::parse(bad),
            Err(SpecErrorKind::InvalidUser {
                value: bad.to_owned()
            }),
            "{bad:?}"
        );
    }
    assert!(AppUser::parse("root").unwrap().is_root());
    assert!(AppUser::parse("0:1000").unwrap().is_root());
    assert!(!AppUser::parse("app").unwrap().is_root());
    assert_eq!(AppUser::parse("10:20").unwrap().to_string(), "10:20");
    assert_eq!(
        serde_json::to_value(AppUser::parse("app").unwrap()).unwrap(),
        "app"
    );
}
