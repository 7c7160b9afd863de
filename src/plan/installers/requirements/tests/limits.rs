use super::*;

#[test]
fn nesting_is_bounded() {
    let names: Vec<String> = (0..=MAX_DEPTH + 1)
        .map(|i| format!("f{i:02}.txt"))
        .collect();
    let texts: Vec<String> = (0..=MAX_DEPTH + 1)
        .map(|i| {
            names
                .get(i + 1)
                .map_or(String::new(), |next| format!("-r {next}\n"))
        })
        .collect();
    let files: Vec<(&str, &str)> = names
        .iter()
        .zip(&texts)
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    // MAX_DEPTH steps are fine.
    assert!(run(&files[1..], &["f01.txt"]).is_ok());
    assert_eq!(
        fails(&files),
        "f32.txt:1:4: requirement files are nested more than 32 levels deep"
    );
}

#[test]
fn the_number_of_files_is_bounded() {
    let names: Vec<String> = (0..MAX_FILES).map(|i| format!("f{i:04}.txt")).collect();
    let root: String = names.iter().map(|n| format!("-r {n}\n")).collect();
    let mut reads = 0;
    let roots = [path("requirements.txt")];
    let error = collect(&roots, &mut |p| {
        reads += 1;
        (p.as_str() == "requirements.txt")
            .then(|| root.clone())
            .or(Some(String::new()))
    })
    .unwrap_err();
    assert_eq!(reads, MAX_FILES);
    let files = [("requirements.txt", root.as_str())];
    assert_eq!(
        located(&files, &error),
        "requirements.txt:1000:4: requirement files include more than 1000 files"
    );
    // One fewer include fits.
    let fits: String = names[1..].iter().map(|n| format!("-r {n}\n")).collect();
    let roots = [path("requirements.txt")];
    assert!(collect(&roots, &mut |p| {
        (p.as_str() == "requirements.txt")
            .then(|| fits.clone())
            .or(Some(String::new()))
    })
    .is_ok());
    // Roots count too.
    let roots: Vec<ContextPath> = (0..=MAX_FILES)
        .map(|i| path(&format!("r{i:04}.txt")))
        .collect();
    let error = collect(&roots, &mut |_| Some(String::new())).unwrap_err();
    assert_eq!(error.location, Location::Root(MAX_FILES));
}

#[test]
fn a_web_of_includes_stops_at_the_first_cycle() {
    let names: Vec<String> = (0..50).map(|i| format!("f{i:02}.txt")).collect();
    let every: String = names.iter().map(|n| format!("-r {n}\n")).collect();
    let mut reads = 0;
    let error = collect(&[path("f00.txt")], &mut |_| {
        reads += 1;
        Some(every.clone())
    })
    .unwrap_err();
    assert_eq!(reads, 50);
    assert_eq!(error.to_string(), "include cycle: `f00.txt` -> `f00.txt`");
}
