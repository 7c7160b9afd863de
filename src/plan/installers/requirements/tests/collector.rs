use super::*;

/// Drives a [`Collector`], providing each wave in the given order.
fn drive(
    files: &[(&str, &str)],
    roots: &[&str],
    reverse: bool,
) -> Result<RequirementSet, RequirementsError> {
    let map: BTreeMap<&str, &str> = files.iter().copied().collect();
    let roots: Vec<ContextPath> = roots.iter().map(|r| path(r)).collect();
    let mut collector = Collector::new(&roots);
    loop {
        let mut wanted = collector.wanted();
        if wanted.is_empty() {
            break;
        }
        if reverse {
            wanted.reverse();
        }
        for p in wanted {
            collector.provide(&p, map.get(p.as_str()).map(|t| (*t).to_owned()));
        }
    }
    collector.finish()
}

#[test]
fn results_do_not_depend_on_read_or_root_order() {
    let files = django_tree();
    let roots = ["requirements/dev.txt", "requirements.txt"];
    let forward = drive(&files, &roots, false).unwrap();
    assert_eq!(drive(&files, &roots, true).unwrap(), forward);
    assert_eq!(
        drive(&files, &["requirements.txt", "requirements/dev.txt"], true).unwrap(),
        forward
    );
    assert_eq!(run(&files, &roots).unwrap(), forward);
    let sorted = |set: &RequirementSet| {
        set.files.windows(2).all(|w| w[0].path < w[1].path)
            && set.local.windows(2).all(|w| w[0].path <= w[1].path)
    };
    assert!(sorted(&forward));

    // The order of the include lines does not matter either.
    let a = ok(&[
        ("r.txt", "-r b.txt\n-c a.txt\n-r c/d.txt\n"),
        ("a.txt", ""),
        ("b.txt", ""),
        ("c/d.txt", ""),
    ]);
    let b = ok(&[
        ("r.txt", "-r c/d.txt\n-r b.txt\n-c a.txt\n"),
        ("a.txt", ""),
        ("b.txt", ""),
        ("c/d.txt", ""),
    ]);
    assert_eq!(a, b);

    // Errors too: the first pip would meet, whatever the read order.
    let broken = [
        ("r.txt", "-r a.txt\n-r b.txt\n"),
        ("a.txt", "--index-url https://example.com/simple\n"),
        ("b.txt", "--bogus\n"),
    ];
    let first = drive(&broken, &["r.txt"], false).unwrap_err();
    assert_eq!(drive(&broken, &["r.txt"], true).unwrap_err(), first);
    assert_eq!(
        located(&broken, &first),
        "a.txt:1:1: `--index-url` cannot be used in a requirement file"
    );
}

#[test]
fn each_file_is_read_once() {
    // A diamond, a file reached as requirements and as constraints, and
    // a root listed twice.
    let files = [
        ("requirements.txt", "-r a.txt\n-r b.txt\n-c shared.txt\n"),
        ("a.txt", "-r shared.txt\n"),
        ("b.txt", "-r shared.txt\n-r a.txt\n"),
        ("shared.txt", "django\n"),
    ];
    let map: BTreeMap<&str, &str> = files.iter().copied().collect();
    let mut reads: BTreeMap<String, usize> = BTreeMap::new();
    let roots = [path("requirements.txt"), path("requirements.txt")];
    let set = collect(&roots, &mut |p| {
        *reads.entry(p.as_str().to_owned()).or_default() += 1;
        map.get(p.as_str()).map(|t| (*t).to_owned())
    })
    .unwrap();
    assert!(reads.values().all(|n| *n == 1), "{reads:?}");
    assert_eq!(reads.len(), 4);
    assert_eq!(set.files.len(), 4);
    assert_eq!(set.files[3].path.as_str(), "shared.txt");
    assert_eq!(set.files[3].role, Both);
}

#[test]
fn the_collector_asks_in_waves() {
    let files = django_tree();
    let map: BTreeMap<&str, &str> = files.iter().copied().collect();
    let mut collector = Collector::new(&[path("requirements.txt")]);
    let mut waves = Vec::new();
    loop {
        let wanted = collector.wanted();
        if wanted.is_empty() {
            break;
        }
        waves.push(
            wanted
                .iter()
                .map(|p| p.as_str().to_owned())
                .collect::<Vec<_>>(),
        );
        // Unknown paths are ignored.
        collector.provide(&path("elsewhere.txt"), Some("-r x.txt".to_owned()));
        for p in wanted {
            collector.provide(&p, map.get(p.as_str()).map(|t| (*t).to_owned()));
        }
    }
    assert_eq!(
        waves,
        [
            vec!["requirements.txt"],
            vec!["requirements/production.txt"],
            vec!["constraints.txt", "requirements/base.txt"],
        ]
    );
    assert!(collector.finish().is_ok());
    assert_eq!(
        collector.source(&path("constraints.txt")),
        Some(DJANGO_CONSTRAINTS)
    );
    assert_eq!(collector.source(&path("elsewhere.txt")), None);

    // A wanted file never provided counts as missing.
    let mut collector = Collector::new(&[path("requirements.txt")]);
    collector.provide(&path("requirements.txt"), Some("-r a.txt\n".to_owned()));
    let error = collector.finish().unwrap_err();
    assert_eq!(
        error.to_string(),
        "`a.txt` (included here) is not in the build context"
    );
}
