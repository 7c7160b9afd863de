//! Which Python a project wants, from what it writes down: an exact
//! `.python-version` or `runtime.txt`, else a minor version that every
//! `requires-python` style constraint it declares allows (PEP 440
//! specifiers, Poetry's `^` / `~` / `||`): 3.12 when allowed, else the
//! newest allowed.

/// The minor versions `init` picks from, in order of preference: 3.12 (the
/// default; the newest with wheels for nearly everything), then newest
/// first. All have `python:X-bookworm` images.
const SUPPORTED: [(u32, u32); 5] = [(3, 12), (3, 13), (3, 11), (3, 10), (3, 9)];

/// `3.11` from `3.11.4`, `python-3.11.4` (Heroku's `runtime.txt`),
/// `cpython@3.11` (uv) or `3.11`.
pub fn exact(text: &str) -> Option<String> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))?;
    let start = line.find(|c: char| c.is_ascii_digit())?;
    let (major, minor, _) = version(&line[start..])?;
    (major == 3).then(|| format!("{major}.{minor}"))
}

/// The preferred supported minor version allowed by all `constraints`.
pub fn newest_allowed(constraints: &[&str]) -> Option<String> {
    SUPPORTED
        .iter()
        .find(|series| constraints.iter().all(|c| allows(c, **series)))
        .map(|(major, minor)| format!("{major}.{minor}"))
}

/// Whether some release of the `series` (major, minor) satisfies `spec`:
/// `||`-separated alternatives (Poetry), each `,`-separated clauses.
fn allows(spec: &str, series: (u32, u32)) -> bool {
    spec.split("||").any(|alternative| {
        alternative
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .all(|clause| clause_allows(clause, series))
    })
}

fn clause_allows(clause: &str, series: (u32, u32)) -> bool {
    let ops = ["~=", "==", "!=", ">=", "<=", "^", "~", ">", "<", "="];
    let (op, rest) = ops
        .iter()
        .find_map(|op| clause.strip_prefix(op).map(|rest| (*op, rest.trim())))
        .unwrap_or(("==", clause));
    let wildcard = rest.ends_with(".*");
    let Some((major, minor, patch)) = version(rest.trim_end_matches(".*")) else {
        // Not a version we understand: it constrains nothing we can check.
        return true;
    };
    let v = (major, minor);
    match op {
        ">=" | ">" => series >= v,
        "<" => series < v || (series == v && patch > 0),
        "<=" => series <= v,
        "==" | "=" => {
            series == v || (wildcard && rest.matches('.').count() == 1 && series.0 == major)
        }
        "!=" => !(wildcard && series == v),
        // `~=3.11.2`: >=3.11.2, ==3.11.*; `~=3.11`: >=3.11, <4.
        "~=" if patch_given(rest) => series == v,
        "~=" | "^" => series >= v && series.0 == major,
        // Poetry `~3.11`: >=3.11, <3.12.
        "~" => series == v,
        _ => true,
    }
}

fn patch_given(text: &str) -> bool {
    text.trim_end_matches(".*").matches('.').count() >= 2
}

/// `(major, minor, patch)` of `3`, `3.11`, `3.11.4`, `3.11.4rc1`.
fn version(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.split('.');
    let number = |p: Option<&str>| -> Option<u32> {
        let p = p?;
        let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    let major = number(parts.next())?;
    let minor = number(parts.next()).unwrap_or(0);
    let patch = number(parts.next()).unwrap_or(0);
    Some((major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_versions() {
        assert_eq!(exact("3.10.4\n").as_deref(), Some("3.10"));
        assert_eq!(exact("python-3.11.4\n").as_deref(), Some("3.11"));
        assert_eq!(exact("# pinned\ncpython@3.12\n").as_deref(), Some("3.12"));
        assert_eq!(exact("2.7.18").as_deref(), None);
        assert_eq!(exact("").as_deref(), None);
    }

    #[test]
    fn constraints_pick_the_newest_allowed() {
        let cases: [(&[&str], Option<&str>); 13] = [
            (&[">=3.11"], Some("3.12")),
            (&[">=3.13"], Some("3.13")),
            (&[">=3.10,<3.12"], Some("3.11")),
            (&["<3.12,>=3.10"], Some("3.11")),
            (&["~=3.11.2"], Some("3.11")),
            (&["~=3.10"], Some("3.12")),
            (&["^3.11"], Some("3.12")),
            (&["~3.11"], Some("3.11")),
            (&["3.11.*"], Some("3.11")),
            (&[">=3.9,!=3.13.*"], Some("3.12")),
            (&["^3.9", "<3.11"], Some("3.10")),
            (&[">=3.8,<3.9 || >=3.11,<3.12"], Some("3.11")),
            (&[">=4"], None),
        ];
        for (constraints, want) in cases {
            assert_eq!(
                newest_allowed(constraints).as_deref(),
                want,
                "{constraints:?}"
            );
        }
    }
}
