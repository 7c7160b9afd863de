//! pip's requirement-file options, read the way `optparse` reads them.

use std::ops::Range;

use super::error::{LineError, RequirementsErrorKind};
use super::lexer::Token;

/// The options pip's requirement-file parser knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Opt {
    Requirement,
    Constraint,
    Editable,
    IndexUrl,
    ExtraIndexUrl,
    NoIndex,
    FindLinks,
    TrustedHost,
    NoBinary,
    OnlyBinary,
    PreferBinary,
    RequireHashes,
    Pre,
    UseFeature,
    Hash,
    ConfigSettings,
    /// `--global-option`, `--install-option`: matched only when spelled out.
    Removed,
}

struct OptSpec {
    opt: Opt,
    short: Option<char>,
    long: &'static [&'static str],
    takes_value: bool,
}

const fn spec(
    opt: Opt,
    short: Option<char>,
    long: &'static [&'static str],
    takes_value: bool,
) -> OptSpec {
    OptSpec {
        opt,
        short,
        long,
        takes_value,
    }
}

/// pip's `SUPPORTED_OPTIONS` and `SUPPORTED_OPTIONS_REQ`, spelled as in
/// `cmdoptions.py`.
const OPTIONS: &[OptSpec] = &[
    spec(
        Opt::IndexUrl,
        Some('i'),
        &["--index-url", "--pypi-url"],
        true,
    ),
    spec(Opt::ExtraIndexUrl, None, &["--extra-index-url"], true),
    spec(Opt::NoIndex, None, &["--no-index"], false),
    spec(Opt::Constraint, Some('c'), &["--constraint"], true),
    spec(Opt::Requirement, Some('r'), &["--requirement"], true),
    spec(Opt::Editable, Some('e'), &["--editable"], true),
    spec(Opt::FindLinks, Some('f'), &["--find-links"], true),
    spec(Opt::NoBinary, None, &["--no-binary"], true),
    spec(Opt::OnlyBinary, None, &["--only-binary"], true),
    spec(Opt::PreferBinary, None, &["--prefer-binary"], false),
    spec(Opt::RequireHashes, None, &["--require-hashes"], false),
    spec(Opt::Pre, None, &["--pre"], false),
    spec(Opt::TrustedHost, None, &["--trusted-host"], true),
    spec(Opt::UseFeature, None, &["--use-feature"], true),
    spec(Opt::Hash, None, &["--hash"], true),
    spec(Opt::ConfigSettings, Some('C'), &["--config-settings"], true),
];

const REMOVED: OptSpec = spec(
    Opt::Removed,
    None,
    &["--global-option", "--install-option"],
    true,
);

/// An option token read the way `optparse` reads it: a long option by its
/// full name or an unambiguous prefix; a short one with its value attached
/// or in the next token.
#[derive(Debug)]
pub(super) enum Item {
    Option {
        opt: Opt,
        /// As written, or the full name when abbreviated.
        name: String,
        /// From the option to the end of its value.
        span: Range<usize>,
        value: Option<Token>,
    },
    /// A word that is no option's value: `optparse` returns it, pip drops it.
    Positional(Range<usize>),
}

pub(super) fn read_options(tokens: Vec<Token>) -> Result<Vec<Item>, LineError> {
    let mut items = Vec::new();
    let mut tokens = tokens.into_iter();
    while let Some(token) = tokens.next() {
        if token.value == "--" {
            items.extend(tokens.map(|t| Item::Positional(t.span)));
            break;
        }
        let (spec, name, inline) = if let Some(long) = token.value.strip_prefix("--") {
            let (written, inline) = match long.split_once('=') {
                Some((name, value)) => (format!("--{name}"), Some(value.to_owned())),
                None => (token.value.clone(), None),
            };
            let (spec, name) = match_long(&written).map_err(|kind| (kind, token.span.clone()))?;
            (spec, name, inline)
        } else if token.value.len() > 1 && token.value.starts_with('-') {
            let written: String = token.value.chars().take(2).collect();
            let short = written.chars().nth(1);
            let spec = OPTIONS
                .iter()
                .find(|s| s.short.is_some() && s.short == short)
                .ok_or_else(|| {
                    (
                        RequirementsErrorKind::UnknownOption {
                            option: written.clone(),
                        },
                        token.span.clone(),
                    )
                })?;
            let rest = &token.value[written.len()..];
            (
                spec,
                written.clone(),
                (!rest.is_empty()).then(|| rest.to_owned()),
            )
        } else {
            items.push(Item::Positional(token.span));
            continue;
        };
        let value = match (spec.takes_value, inline) {
            (true, Some(inline)) => {
                // Attached values start after the option name (and `=`).
                let skip = token.value.len() - inline.len();
                let start = (token.span.start + skip).min(token.span.end);
                Some(Token {
                    value: inline,
                    span: start..token.span.end,
                })
            }
            (true, None) => Some(tokens.next().ok_or_else(|| {
                (
                    RequirementsErrorKind::MissingValue {
                        option: name.clone(),
                    },
                    token.span.clone(),
                )
            })?),
            (false, Some(_)) => {
                return Err((
                    RequirementsErrorKind::UnexpectedValue { option: name },
                    token.span,
                ))
            }
            (false, None) => None,
        };
        let end = value.as_ref().map_or(token.span.end, |v| v.span.end);
        items.push(Item::Option {
            opt: spec.opt,
            name,
            span: token.span.start..end,
            value,
        });
    }
    Ok(items)
}

/// `optparse`'s `_match_abbrev`: an exact name, else the only long option
/// that starts with it.
fn match_long(written: &str) -> Result<(&'static OptSpec, String), RequirementsErrorKind> {
    if REMOVED.long.contains(&written) {
        return Ok((&REMOVED, written.to_owned()));
    }
    let mut candidates = Vec::new();
    for spec in OPTIONS {
        for long in spec.long {
            if *long == written {
                return Ok((spec, written.to_owned()));
            }
            if long.starts_with(written) {
                candidates.push((spec, *long));
            }
        }
    }
    match candidates.as_slice() {
        [(spec, long)] => Ok((spec, (*long).to_owned())),
        [] => Err(RequirementsErrorKind::UnknownOption {
            option: written.to_owned(),
        }),
        many => Err(RequirementsErrorKind::AmbiguousOption {
            option: written.to_owned(),
            candidates: many.iter().map(|(_, long)| *long).collect(),
        }),
    }
}

/// Refuses what no line may hold, whatever its kind.
pub(super) fn check_refused(opt: Opt, name: &str, span: &Range<usize>) -> Result<(), LineError> {
    let kind = match opt {
        Opt::IndexUrl | Opt::ExtraIndexUrl | Opt::NoIndex | Opt::FindLinks | Opt::TrustedHost => {
            RequirementsErrorKind::IndexOption {
                option: name.to_owned(),
            }
        }
        Opt::Removed => RequirementsErrorKind::RemovedOption {
            option: name.to_owned(),
        },
        _ => return Ok(()),
    };
    Err((kind, span.clone()))
}
