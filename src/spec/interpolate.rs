//! `${NAME}` interpolation of build args into spec strings.
//!
//! Grammar: `${NAME}` (an error when `NAME` is not passed with `--build-arg`),
//! `${NAME:-default}` (the default when `NAME` is unset or empty) and `$$` for
//! a literal `$`. Any other `$` is literal. Interpolation happens once, on the
//! parsed value, so a build arg's value is never re-interpreted.

use std::collections::BTreeMap;
use std::ops::Range;

use super::SpecErrorKind;

/// Build args by name, from the `build-arg:NAME` opts or `--build-arg`.
pub type BuildArgs = BTreeMap<String, String>;

/// An interpolation failure with the byte range inside the value.
#[derive(Debug, PartialEq, Eq)]
pub struct InterpolationError {
    pub range: Range<usize>,
    pub kind: SpecErrorKind,
}

/// Expands `${...}` references in `value`; also returns the names it used.
pub fn interpolate(
    value: &str,
    args: &BuildArgs,
) -> Result<(String, Vec<String>), InterpolationError> {
    let mut out = String::with_capacity(value.len());
    let mut used = Vec::new();
    let mut rest = value;
    let mut offset = 0;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        if let Some(stripped) = after.strip_prefix('$') {
            out.push('$');
            offset += dollar + 2;
            rest = stripped;
            continue;
        }
        let Some(body_and_rest) = after.strip_prefix('{') else {
            out.push('$');
            offset += dollar + 1;
            rest = after;
            continue;
        };
        let start = offset + dollar;
        let Some(close) = body_and_rest.find('}') else {
            return Err(InterpolationError {
                range: start..offset + rest.len(),
                kind: SpecErrorKind::BadInterpolation {
                    reason: "`${` is not closed by `}`".to_owned(),
                },
            });
        };
        let body = &body_and_rest[..close];
        let end = start + 2 + close + 1;
        let (name, default) = match body.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (body, None),
        };
        if !is_arg_name(name) {
            return Err(InterpolationError {
                range: start..end,
                kind: SpecErrorKind::BadInterpolation {
                    reason: format!(
                        "`{name}` is not a build arg name (letters, digits and `_`, not starting with a digit)"
                    ),
                },
            });
        }
        match (args.get(name), default) {
            (Some(v), Some(d)) if v.is_empty() => out.push_str(d),
            (Some(v), _) => out.push_str(v),
            (None, Some(d)) => out.push_str(d),
            (None, None) => {
                return Err(InterpolationError {
                    range: start..end,
                    kind: SpecErrorKind::MissingBuildArg {
                        name: name.to_owned(),
                    },
                })
            }
        }
        used.push(name.to_owned());
        offset = end;
        rest = &body_and_rest[close + 1..];
    }
    out.push_str(rest);
    Ok((out, used))
}

fn is_arg_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(pairs: &[(&str, &str)]) -> BuildArgs {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn expands_args_and_defaults() {
        let a = args(&[("API", "https://gitlab.example/api/v4"), ("EMPTY", "")]);
        let (s, used) = interpolate("${API}/groups/${GROUP:-42}/x${EMPTY:-d}$$y$z", &a).unwrap();
        assert_eq!(s, "https://gitlab.example/api/v4/groups/42/xd$y$z");
        assert_eq!(used, ["API", "GROUP", "EMPTY"]);
    }

    #[test]
    fn a_value_is_not_re_expanded() {
        let a = args(&[("A", "${B}")]);
        assert_eq!(interpolate("${A}", &a).unwrap().0, "${B}");
    }

    #[test]
    fn missing_arg_points_at_the_reference() {
        let err = interpolate("https://${HOST}/simple", &BuildArgs::new()).unwrap_err();
        assert_eq!(err.range, 8..15);
        assert_eq!(
            err.kind,
            SpecErrorKind::MissingBuildArg {
                name: "HOST".to_owned()
            }
        );
    }

    #[test]
    fn unclosed_and_bad_names_are_errors() {
        let err = interpolate("x${A", &BuildArgs::new()).unwrap_err();
        assert_eq!(err.range, 1..4);
        assert!(matches!(err.kind, SpecErrorKind::BadInterpolation { .. }));
        let err = interpolate("${1A}", &BuildArgs::new()).unwrap_err();
        assert!(matches!(err.kind, SpecErrorKind::BadInterpolation { .. }));
        let err = interpolate("${$(touch /tmp/x)}", &BuildArgs::new()).unwrap_err();
        assert!(matches!(err.kind, SpecErrorKind::BadInterpolation { .. }));
    }
}
