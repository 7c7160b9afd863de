use super::*;

#[test]
fn hashes_turn_on_hash_checking() {
    let cases = [
        ("django==4.2\n", false),
        ("django==4.2 --hash=sha256:abc\n", true),
        ("django==4.2 --hash sha512:abc\n", true),
        (
            "django==4.2 \\\n    --hash=sha256:abc \\\n    --hash=sha256:def\n",
            true,
        ),
        ("django==4.2 --hash=sha256:abc#not-a-comment\n", true),
        ("django==4.2 # --hash=sha256:abc\n", false),
        ("--require-hashes\ndjango==4.2\n", true),
    ];
    for (text, want) in cases {
        assert_eq!(
            ok(&[("requirements.txt", text)]).require_hashes,
            want,
            "{text:?}"
        );
    }
    // Hashes in a constraint file count: pip puts constraints in the
    // same list of requirements it checks for hashes.
    let set = ok(&[
        ("requirements.txt", "-c constraints.txt\ndjango\n"),
        ("constraints.txt", "django==4.2 --hash=sha256:abc\n"),
    ]);
    assert!(set.require_hashes);
}

#[test]
fn allowed_options_pass_through() {
    let text = "\
--pre
--prefer-binary
--only-binary :all:
--no-binary=psycopg
--use-feature=fast-deps
--require-hashes
pycairo==1.26 -C setup-args=-Dtests=false --config-settings=builddir=build \\
    --hash=sha256:abc
-e . --config-settings editable_mode=compat
git+ssh://git@github.com/org/repo.git#egg=repo
";
    let set = ok(&[("requirements.txt", text)]);
    assert!(set.require_hashes);
    assert_eq!(set.local.len(), 1);
}
