use super::*;

#[test]
fn a_django_production_tree() {
    let files = django_tree();
    let set = run(&files, &["requirements.txt"]).unwrap();
    assert_eq!(
        paths(&set),
        [
            ("constraints.txt", Constraints),
            ("requirements.txt", Requirements),
            ("requirements/base.txt", Requirements),
            ("requirements/production.txt", Requirements),
        ]
    );
    assert!(set.require_hashes);
    let [client] = set.local.as_slice() else {
        panic!("{:?}", set.local)
    };
    assert_eq!(
        (client.path.as_str(), client.editable),
        ("libs/client", false)
    );
    assert_eq!(client.file.as_str(), "requirements/base.txt");
    assert_eq!(
        &DJANGO_BASE[client.span.clone()],
        "sdk-client @ file:libs/client"
    );
}

#[test]
fn a_django_development_tree() {
    let files = django_tree();
    let set = run(&files, &["requirements/dev.txt"]).unwrap();
    assert_eq!(
        paths(&set),
        [
            ("requirements/base.txt", Requirements),
            ("requirements/dev.txt", Requirements),
        ]
    );
    // base.txt has hashes: pip would then refuse the `-e` lines, but
    // that is pip's to say.
    assert!(set.require_hashes);
    let local: Vec<(&str, bool, &str, &str)> = set
        .local
        .iter()
        .map(|l| {
            let text = if l.file.as_str() == "requirements/dev.txt" {
                DJANGO_DEV
            } else {
                DJANGO_BASE
            };
            (
                l.path.as_str(),
                l.editable,
                l.file.as_str(),
                &text[l.span.clone()],
            )
        })
        .collect();
    assert_eq!(
        local,
        [
            (".", true, "requirements/dev.txt", "."),
            (
                "libs/client",
                false,
                "requirements/base.txt",
                "sdk-client @ file:libs/client"
            ),
            (
                "libs/sdk",
                true,
                "requirements/dev.txt",
                "./libs/sdk[async]"
            ),
            (
                "libs/utils",
                false,
                "requirements/dev.txt",
                "./libs/utils ; sys_platform == \"linux\""
            ),
        ]
    );
}
