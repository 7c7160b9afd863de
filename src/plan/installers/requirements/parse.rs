//! One file: what each logical line says (an include, a local
//! requirement, hash checking, or the first error), as [`Event`]s.

use std::ops::Range;

use super::error::{LineError, RequirementsErrorKind};
use super::lexer::{
    content_range, find_env_var, join_lines, physical_lines, shell_split, Logical, Token,
};
use super::options::{check_refused, read_options, Item, Opt};
use super::paths::{
    editable_target, is_remote_reference, local_target, normalize_local, resolve_include,
};
use crate::spec::ContextPath;

/// What a file says, in line order. Parsing stops at the first error, as
/// pip does; includes before it are still followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Event {
    Include {
        target: ContextPath,
        constraint: bool,
        /// The path as written.
        span: Range<usize>,
    },
    Local {
        path: String,
        editable: bool,
        /// `name @ file:...`: pip accepts it as a constraint.
        named: bool,
        /// The line has `-C` / `--config-settings` for its build.
        config_settings: bool,
        span: Range<usize>,
    },
    /// A requirement with `--hash`, or `--require-hashes`.
    Hashes,
    /// A requirement on a remote URL or a VCS repository (`name @
    /// https://...`, `git+https://...`): pip builds it whatever
    /// `--only-binary` says.
    Remote { span: Range<usize> },
    Error {
        kind: RequirementsErrorKind,
        span: Range<usize>,
    },
}

impl Event {
    /// Moves the span from the coordinates of a logical line (continuations
    /// joined) to those of the file.
    fn in_file(mut self, logical: &Logical) -> Self {
        match &mut self {
            Self::Include { span, .. }
            | Self::Local { span, .. }
            | Self::Remote { span }
            | Self::Error { span, .. } => {
                *span = logical.file_span(span.clone());
            }
            Self::Hashes => {}
        }
        self
    }
}

pub(super) fn parse_file(path: &ContextPath, text: &str) -> Vec<Event> {
    // pip decodes with the BOM's codec, which drops it.
    let start = if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    let mut events = Vec::new();
    for logical in join_lines(text, physical_lines(text, start)) {
        match parse_line(path, &logical) {
            Ok(line_events) => {
                events.extend(line_events.into_iter().map(|e| e.in_file(&logical)));
            }
            Err((kind, span)) => {
                events.push(Event::Error { kind, span }.in_file(&logical));
                break;
            }
        }
    }
    events
}

/// The events of one logical line, spans in the line's coordinates.
fn parse_line(path: &ContextPath, logical: &Logical) -> Result<Vec<Event>, LineError> {
    let mut events = Vec::new();
    let range = content_range(&logical.text);
    if range.is_empty() {
        return Ok(events);
    }
    let base = range.start;
    let line = &logical.text[range];
    if line.ends_with('\\') {
        return Err((
            RequirementsErrorKind::BackslashNotAtEnd,
            base + line.len() - 1..base + line.len(),
        ));
    }
    if let Some((span, name)) = find_env_var(line) {
        return Err((
            RequirementsErrorKind::EnvironmentVariable {
                name: name.to_owned(),
            },
            base + span.start..base + span.end,
        ));
    }
    // pip's `break_args_options`: the requirement is every space-separated
    // word before the first that starts with `-`.
    let mut options_at = None;
    let mut offset = 0;
    for word in line.split(' ') {
        if word.starts_with('-') {
            options_at = Some(offset);
            break;
        }
        offset += word.len() + 1;
    }
    let (args, options) = match options_at {
        Some(at) => (&line[..at.saturating_sub(1)], &line[at..]),
        None => (line, ""),
    };
    let options_base = base + options_at.unwrap_or(line.len());
    let tokens = shell_split(options, options_base)?;
    let items = read_options(tokens)?;
    let editable = items.iter().find_map(|item| match item {
        Item::Option {
            opt: Opt::Editable,
            value: Some(value),
            ..
        } => Some(value),
        _ => None,
    });
    let args = args.trim_end();
    if !args.is_empty() {
        requirement_line(base, args, &items, &mut events)?;
    } else if let Some(value) = editable {
        editable_line(value, &items, &mut events)?;
    } else {
        options_line(path, &items, &mut events)?;
    }
    Ok(events)
}

/// A line with a requirement: only `--hash` and `-C` apply to it.
fn requirement_line(
    base: usize,
    args: &str,
    items: &[Item],
    events: &mut Vec<Event>,
) -> Result<(), LineError> {
    let args_span = base..base + args.len();
    check_credentials(args, base)?;
    let mut hashes = false;
    let mut config_settings = false;
    for item in items {
        match item {
            Item::Positional(span) => {
                return Err((RequirementsErrorKind::IgnoredArgument, span.clone()))
            }
            Item::Option {
                opt,
                name,
                span,
                value,
            } => {
                check_refused(*opt, name, span)?;
                match opt {
                    Opt::Hash => {
                        if let Some(value) = value {
                            check_hash(value)?;
                        }
                        hashes = true;
                    }
                    Opt::ConfigSettings => config_settings = true,
                    _ => {
                        return Err((
                            RequirementsErrorKind::OptionAfterRequirement {
                                option: name.clone(),
                            },
                            span.clone(),
                        ))
                    }
                }
            }
        }
    }
    if is_remote_reference(args) {
        events.push(Event::Remote {
            span: args_span.clone(),
        });
    }
    if let Some(target) = local_target(args) {
        let local = normalize_local(&target.path).map_err(|kind| (kind, args_span.clone()))?;
        events.push(Event::Local {
            path: local,
            editable: false,
            named: target.named,
            config_settings,
            span: args_span,
        });
    }
    if hashes {
        events.push(Event::Hashes);
    }
    Ok(())
}

/// An `-e` line: only `-C` applies to it.
fn editable_line(value: &Token, items: &[Item], events: &mut Vec<Event>) -> Result<(), LineError> {
    let mut seen_editable = false;
    for item in items {
        match item {
            Item::Positional(span) => {
                return Err((RequirementsErrorKind::IgnoredArgument, span.clone()))
            }
            Item::Option {
                opt, name, span, ..
            } => {
                check_refused(*opt, name, span)?;
                let kind = match opt {
                    Opt::ConfigSettings => continue,
                    Opt::Editable if !seen_editable => {
                        seen_editable = true;
                        continue;
                    }
                    Opt::Editable | Opt::Requirement | Opt::Constraint => {
                        RequirementsErrorKind::OneIncludePerLine {
                            option: name.clone(),
                        }
                    }
                    Opt::Hash => RequirementsErrorKind::HashOnEditable,
                    _ => RequirementsErrorKind::OptionAfterRequirement {
                        option: name.clone(),
                    },
                };
                return Err((kind, span.clone()));
            }
        }
    }
    check_credentials(&value.value, value.span.start)?;
    if let Some(raw) = editable_target(&value.value) {
        let local = normalize_local(&raw).map_err(|kind| (kind, value.span.clone()))?;
        events.push(Event::Local {
            path: local,
            editable: true,
            named: false,
            config_settings: false,
            span: value.span.clone(),
        });
    }
    Ok(())
}

/// A line of options only: at most one `-r` or `-c`, and the options that
/// apply to the whole install.
fn options_line(
    path: &ContextPath,
    items: &[Item],
    events: &mut Vec<Event>,
) -> Result<(), LineError> {
    // pip recurses into a `-r`/`-c` line and never reads its other options.
    let includes = items.iter().any(|item| {
        matches!(
            item,
            Item::Option {
                opt: Opt::Requirement | Opt::Constraint,
                ..
            }
        )
    });
    let mut include: Option<Event> = None;
    for item in items {
        let (opt, name, span, value) = match item {
            Item::Positional(span) => {
                return Err((RequirementsErrorKind::IgnoredArgument, span.clone()))
            }
            Item::Option {
                opt,
                name,
                span,
                value,
            } => (*opt, name, span, value),
        };
        check_refused(opt, name, span)?;
        match opt {
            Opt::Requirement | Opt::Constraint => {
                if include.is_some() {
                    return Err((
                        RequirementsErrorKind::OneIncludePerLine {
                            option: name.clone(),
                        },
                        span.clone(),
                    ));
                }
                let Some(value) = value else { continue };
                let target = resolve_include(path, name, value)?;
                include = Some(Event::Include {
                    target,
                    constraint: opt == Opt::Constraint,
                    span: value.span.clone(),
                });
            }
            _ if includes => {
                return Err((
                    RequirementsErrorKind::OptionOnIncludeLine {
                        option: name.clone(),
                    },
                    span.clone(),
                ))
            }
            Opt::Hash | Opt::ConfigSettings => {
                return Err((
                    RequirementsErrorKind::OptionWithoutRequirement {
                        option: name.clone(),
                    },
                    span.clone(),
                ))
            }
            Opt::RequireHashes => events.push(Event::Hashes),
            _ => {}
        }
    }
    events.extend(include);
    Ok(())
}

fn check_hash(value: &Token) -> Result<(), LineError> {
    let Some((algorithm, _)) = value.value.split_once(':') else {
        return Err((RequirementsErrorKind::HashFormat, value.span.clone()));
    };
    if !matches!(algorithm, "sha256" | "sha384" | "sha512") {
        return Err((
            RequirementsErrorKind::WeakHash {
                algorithm: algorithm.to_owned(),
            },
            value.span.clone(),
        ));
    }
    Ok(())
}

/// Refuses a URL with a password, or with any user for HTTP(S): that user
/// is a token. `git+ssh://git@host` names an SSH user, not a secret.
fn check_credentials(text: &str, base: usize) -> Result<(), LineError> {
    let mut offset = 0;
    for word in text.split(' ') {
        if let Some((scheme, rest)) = word.split_once("://") {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
            if let Some((userinfo, _)) = authority.rsplit_once('@') {
                let transport = scheme.rsplit('+').next().unwrap_or_default();
                let web = transport.eq_ignore_ascii_case("http")
                    || transport.eq_ignore_ascii_case("https");
                if userinfo.contains(':') || (web && !userinfo.is_empty()) {
                    return Err((
                        RequirementsErrorKind::CredentialsInUrl,
                        base + offset..base + offset + word.len(),
                    ));
                }
            }
        }
        offset += word.len() + 1;
    }
    Ok(())
}
