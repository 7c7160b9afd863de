use super::*;

#[test]
fn every_include_spelling_pip_accepts() {
    let cases = [
        ("-r base.txt", Requirements),
        ("-rbase.txt", Requirements),
        ("--requirement=base.txt", Requirements),
        ("--requirement base.txt", Requirements),
        ("--requirement   base.txt", Requirements),
        ("--requirem base.txt", Requirements),
        ("-r 'base.txt'", Requirements),
        ("-r \"base.txt\"", Requirements),
        ("-r\tbase.txt", Requirements),
        ("-r ./base.txt", Requirements),
        ("-r sub/../base.txt", Requirements),
        ("-c base.txt", Constraints),
        ("-cbase.txt", Constraints),
        ("--constraint=base.txt", Constraints),
        ("--constraint base.txt", Constraints),
        ("--constr=base.txt", Constraints),
    ];
    for (line, role) in cases {
        let set = ok(&[("requirements.txt", line), ("base.txt", "django\n")]);
        assert_eq!(
            paths(&set),
            [("base.txt", role), ("requirements.txt", Requirements)],
            "{line}"
        );
    }
}

#[test]
fn includes_are_relative_to_the_including_file() {
    let set = ok(&[
        (
            "requirements/prod.txt",
            "-r base.txt\n-c ../constraints.txt\n-r ./common/../extra.txt\n",
        ),
        ("requirements/base.txt", "-r ../shared/common.txt\n"),
        ("requirements/extra.txt", ""),
        ("constraints.txt", ""),
        ("shared/common.txt", ""),
    ]);
    assert_eq!(
        paths(&set),
        [
            ("constraints.txt", Constraints),
            ("requirements/base.txt", Requirements),
            ("requirements/extra.txt", Requirements),
            ("requirements/prod.txt", Requirements),
            ("shared/common.txt", Requirements),
        ]
    );
}

#[test]
fn the_including_option_decides_the_role_as_in_pip() {
    // pip: `-r` inside a constraint file names a requirement file.
    let set = ok(&[
        ("requirements.txt", "-c constraints.txt\n-r common.txt\n"),
        ("constraints.txt", "-r pins.txt\n-c common.txt\n"),
        ("pins.txt", "urllib3<3\n"),
        ("common.txt", "urllib3\n"),
    ]);
    assert_eq!(
        paths(&set),
        [
            ("common.txt", Both),
            ("constraints.txt", Constraints),
            ("pins.txt", Requirements),
            ("requirements.txt", Requirements),
        ]
    );
}
