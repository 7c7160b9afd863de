//! The redaction policy: what counts as a secret in text pyfront shows, and
//! how it is masked. Every output channel (diagnostics, the errdefs source
//! detail, source info and step names in the LLB, lint warnings, the
//! outline, frontend errors) goes through here.
//!
//! The policy's data (secret words, token prefixes, the mask) is
//! `src/redact_rules.json`, which the Python install helper reads too;
//! `src/redact_cases.json` holds cases both languages assert.
//!
//! Three rules find secrets in a text:
//! - URL userinfo: the password of `scheme://user:password@host`, or the
//!   whole userinfo when it has no `:` ([`url`]).
//! - Recognised tokens: a `token_prefixes` prefix not preceded by a letter
//!   or digit, followed by at least its minimum of characters of its
//!   charset (`glpat-…`, `ghp_…`, `pypi-AgE…`), wherever it appears.
//! - Secret-looking names: the value after `name =` or `name=` when the name
//!   looks secret ([`looks_secret_name`]: `password`, `CI_JOB_TOKEN`,
//!   `?private_token=`): a quoted string (`"…"` with `\` escapes, `'…'`, up
//!   to the end of the line when unterminated; `"""…"""` and `'''…'''`
//!   across lines), or a bare value up to a space or delimiter. Arrays and
//!   tables are not looked into. `==`, `!=`, `<=`, `>=` and `~=` compare and
//!   assign nothing (`tokenizers==0.19`).
//!
//! Two ways to mask what they find: [`redact_spec`] byte for byte with `*`
//! (lines and spans keep their offsets), [`redact_text`] and [`Redacted`]
//! with the rule file's mask, for messages. A value that is already all `*`
//! is left alone, so masking twice changes nothing.

mod rules;
mod url;

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

pub use url::DisplaySafeUrl;

use rules::rules;

/// The work the scans do, in bytes looked at. Unit tests read it to bound
/// the work by the input's length (linear), never by the clock; outside
/// them it counts nothing.
#[cfg(test)]
mod work {
    use std::cell::Cell;

    thread_local! {
        static BYTES: Cell<usize> = const { Cell::new(0) };
    }

    pub(super) fn charge(bytes: usize) {
        BYTES.with(|w| w.set(w.get() + bytes));
    }

    /// The work `f` does.
    pub(super) fn of<T>(f: impl FnOnce() -> T) -> (T, usize) {
        let before = BYTES.with(Cell::get);
        let value = f();
        (value, BYTES.with(Cell::get) - before)
    }
}

#[cfg(not(test))]
mod work {
    #[inline(always)]
    pub(super) fn charge(_bytes: usize) {}
}

/// What a masked value is replaced by in messages (`****`).
pub fn mask() -> &'static str {
    &rules().mask
}

/// Whether a name (a spec key, a build arg, a query parameter) says its
/// value is a credential: it contains a secret word (`password`, `secret`,
/// `apikey`), or one of its `-`/`_`/`.` parts is a secret part (`token`,
/// `key`, `auth`, `pat`: `CI_JOB_TOKEN` but not `TOKENIZER_MODEL`). Only
/// `password-secret`, `username-secret` (and `_` forms) are exempt: they
/// name a BuildKit secret id, whose value is shown.
pub fn looks_secret_name(name: &str) -> bool {
    let r = rules();
    let name = name.to_ascii_lowercase();
    let id_key = r.id_key_roles.iter().any(|role| {
        name.strip_prefix(role.as_str())
            .is_some_and(|rest| r.id_key_suffixes.iter().any(|s| s == rest))
    });
    if id_key {
        return false;
    }
    r.secret_key_words.iter().any(|w| name.contains(w.as_str()))
        || name
            .split(['-', '_', '.'])
            .any(|part| r.secret_key_parts.iter().any(|p| p == part))
}

/// `source` with every secret masked byte for byte with `*`, so that lines,
/// columns and spans computed on the original stay valid on the result.
pub fn redact_spec(source: &str) -> String {
    let mut bytes = source.as_bytes().to_vec();
    for range in secret_ranges(source) {
        // Line breaks stay (a `"""` value spans lines): lines keep their
        // numbers.
        for b in &mut bytes[range] {
            if !matches!(*b, b'\n' | b'\r') {
                *b = b'*';
            }
        }
    }
    // Ranges start and end at ASCII delimiters or the ends of the text, so
    // only whole characters were replaced, by ASCII: still UTF-8.
    String::from_utf8(bytes).unwrap_or_default()
}

/// `text` with every secret replaced by the mask (`****`), for messages.
pub fn redact_text(text: &str) -> String {
    let ranges = secret_ranges(text);
    if ranges.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for range in ranges {
        out.push_str(&text[at..range.start]);
        let value = &text[range.clone()];
        if is_masked(value) {
            out.push_str(value);
        } else {
            out.push_str(mask());
        }
        at = range.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Whether `value` was masked already (by either masking).
fn is_masked(value: &str) -> bool {
    value.bytes().all(|b| matches!(b, b'*' | b'\n' | b'\r'))
}

/// Whether `text` holds a recognised token (`glpat-…`, `ghp_…`, ...).
pub fn contains_token(text: &str) -> bool {
    !token_ranges(text).is_empty()
}

/// Text that has been through the policy, so it can be printed anywhere.
/// Made only by [`Redacted::new`]; channels that print messages hold these.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Redacted(String);

impl Redacted {
    pub fn new(text: impl AsRef<str>) -> Self {
        Self(redact_text(text.as_ref()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Values known to be secret while one spec is handled: what the policy
/// finds in its source, and the values of build args whose name looks
/// secret. A message can quote one after interpolation moved it out of
/// its place (`invalid index URL `ftp://host/<value>``); [`Self::mask`]
/// masks it there too.
#[derive(Debug, Clone, Default)]
pub struct KnownSecrets(Vec<String>);

/// Shorter values are not masked in messages: they would mask ordinary
/// words and numbers (`1` in `line 1`). The source view still masks them.
const MIN_KNOWN_SECRET: usize = 4;

impl KnownSecrets {
    pub fn new(source: &str, build_args: &BTreeMap<String, String>) -> Self {
        let from_source = secret_ranges(source)
            .into_iter()
            .filter_map(|r| source.get(r));
        let from_args = build_args
            .iter()
            .filter(|(name, _)| looks_secret_name(name))
            .map(|(_, value)| value.as_str());
        let mut values: Vec<String> = from_source
            .chain(from_args)
            .filter(|v| v.len() >= MIN_KNOWN_SECRET)
            .map(str::to_owned)
            .collect();
        // Longest first, so that a value containing another is masked whole.
        values.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        values.dedup();
        Self(values)
    }

    /// `text` with every whole occurrence of a known value replaced by the
    /// mask. Whole: not inside a longer token, so a password `pass` does
    /// not mask the `pass` of `password`.
    pub fn mask(&self, text: &str) -> String {
        let is_token = |c: char| c.is_alphanumeric() || "-_.~".contains(c);
        let mut out = text.to_owned();
        for v in &self.0 {
            let mut masked = String::with_capacity(out.len());
            let mut rest = out.as_str();
            while let Some(at) = rest.find(v.as_str()) {
                let before = rest[..at].chars().next_back();
                let after = rest[at + v.len()..].chars().next();
                masked.push_str(&rest[..at]);
                if before.is_some_and(is_token) || after.is_some_and(is_token) {
                    masked.push_str(v);
                } else {
                    masked.push_str(mask());
                }
                rest = &rest[at + v.len()..];
            }
            masked.push_str(rest);
            out = masked;
        }
        out
    }
}

/// Byte ranges of every secret in `text`, sorted, overlaps merged.
fn secret_ranges(text: &str) -> Vec<Range<usize>> {
    let mut ranges: Vec<Range<usize>> = url::userinfo_secrets(text)
        .chain(token_ranges(text))
        .chain(named_values(text))
        .filter(|r| !r.is_empty())
        .collect();
    // Three runs, each sorted already: the sort merges them.
    work::charge(ranges.len());
    ranges.sort_by_key(|r| (r.start, r.end));
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    merged
}

/// Recognised tokens: a prefix at a word start, then enough of its charset.
fn token_ranges(text: &str) -> Vec<Range<usize>> {
    let prefixes = &rules().token_prefixes;
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        work::charge(1);
        let at_word_start = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let token = at_word_start
            .then(|| {
                prefixes.iter().find_map(|t| {
                    let body_start = i + t.prefix.len();
                    work::charge(t.prefix.len());
                    if !bytes[i..].starts_with(t.prefix.as_bytes()) {
                        return None;
                    }
                    let body = bytes[body_start..]
                        .iter()
                        .take_while(|&&b| t.charset.contains(b))
                        .count();
                    work::charge(body + 1);
                    (body >= t.min_body_length).then_some(i..body_start + body)
                })
            })
            .flatten();
        match token {
            Some(range) => {
                i = range.end;
                found.push(range);
            }
            None => i += 1,
        }
    }
    found
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// Values of secret-looking names: `name = value`, `name=value`.
fn named_values(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    // The last run of name bytes, while only spaces and quotes follow it.
    let mut name: Option<Range<usize>> = None;
    let mut i = 0;
    while i < bytes.len() {
        work::charge(1);
        let b = bytes[i];
        if is_name_byte(b) {
            let start = i;
            while i < bytes.len() && is_name_byte(bytes[i]) {
                i += 1;
            }
            work::charge(i - start);
            name = Some(start..i);
            continue;
        }
        if b == b'=' {
            let assigns = i > 0
                && !matches!(bytes[i - 1], b'=' | b'!' | b'<' | b'>' | b'~')
                && bytes.get(i + 1) != Some(&b'=');
            let secret = name.take().is_some_and(|n| {
                // Each name is looked at once, against a fixed word list.
                work::charge(n.len());
                looks_secret_name(&text[n])
            });
            if assigns && secret {
                if let Some(value) = value_after(text, i + 1) {
                    i = value.end.max(i + 1);
                    found.push(value);
                    continue;
                }
            }
        } else if !matches!(b, b' ' | b'\t' | b'"' | b'\'') {
            name = None;
        }
        i += 1;
    }
    found
}

/// Whether `b` ends a bare (unquoted) value.
fn ends_bare_value(b: u8) -> bool {
    b.is_ascii_whitespace()
        || matches!(
            b,
            b'&' | b'"' | b'\'' | b'`' | b',' | b';' | b')' | b']' | b'}' | b'<' | b'>'
        )
}

/// The value that starts after spaces at byte `i` (just after `=`).
fn value_after(text: &str, mut i: usize) -> Option<Range<usize>> {
    let bytes = text.as_bytes();
    let spaces_from = i;
    while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
        i += 1;
    }
    work::charge(i - spaces_from + 1);
    for triple in ["\"\"\"", "'''"] {
        work::charge(triple.len());
        if text[i..].starts_with(triple) {
            let start = i + 3;
            let end = text[start..].find(triple).map_or(text.len(), |e| start + e);
            work::charge(end - start + triple.len());
            return Some(start..end);
        }
    }
    match *bytes.get(i)? {
        quote @ (b'"' | b'\'') => {
            let start = i + 1;
            let mut j = start;
            while j < bytes.len() {
                let c = bytes[j];
                if c == b'\n' || c == b'\r' || c == quote {
                    break;
                }
                // An escaped quote does not end a basic string.
                if quote == b'"' && c == b'\\' && j + 1 < bytes.len() && bytes[j + 1] != b'\n' {
                    j += 2;
                    continue;
                }
                j += 1;
            }
            work::charge(j - start + 1);
            Some(start..j.min(bytes.len()))
        }
        b'[' | b'{' => None,
        _ => {
            let end = bytes[i..]
                .iter()
                .position(|&b| ends_bare_value(b))
                .map_or(bytes.len(), |len| i + len);
            work::charge(end - i + 1);
            Some(i..end)
        }
    }
}

#[cfg(test)]
mod tests;
