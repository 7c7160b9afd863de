//! The redaction policy: what counts as a secret in text pyfront shows, and
//! how it is masked. Every output channel (diagnostics, the errdefs source
//! detail, source info in the LLB, warnings, the outline) goes through here.
//!
//! Masking is byte for byte with `*`, so spans and line/column positions
//! computed on the original text stay valid on the masked one.

/// Masks, byte for byte with `*` (so lines and spans keep their offsets),
/// the password of every `scheme://user:password@host` (the whole userinfo
/// when it has no `:`), and the string value of every key whose name looks
/// secret (`password`, `token`, `auth`, ...) except `*-secret` keys, whose
/// values are secret ids.
pub fn redact_spec(source: &str) -> String {
    let mut bytes = source.as_bytes().to_vec();
    for range in userinfo_passwords(source).chain(secret_value_ranges(source)) {
        bytes[range].fill(b'*');
    }
    // Only whole characters were replaced, by ASCII: still UTF-8.
    String::from_utf8(bytes).unwrap_or_default()
}

/// Byte ranges of URL passwords in `source`.
fn userinfo_passwords(source: &str) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    source.match_indices("://").filter_map(move |(at, _)| {
        let start = at + 3;
        let rest = &source[start..];
        let authority_len = rest
            .find(|c: char| matches!(c, '/' | '?' | '#' | '"' | '\'') || c.is_whitespace())
            .unwrap_or(rest.len());
        let userinfo_len = rest[..authority_len].rfind('@')?;
        let password_start = rest[..userinfo_len].find(':').map_or(0, |i| i + 1);
        Some(start + password_start..start + userinfo_len)
    })
}

/// Byte ranges of the contents of quoted values of secret-looking keys.
fn secret_value_ranges(source: &str) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let mut offset = 0;
    source.split_inclusive('\n').flat_map(move |line| {
        let line_start = offset;
        offset += line.len();
        secret_values_in_line(line)
            .into_iter()
            .map(move |r| line_start + r.start..line_start + r.end)
    })
}

fn secret_values_in_line(line: &str) -> Vec<std::ops::Range<usize>> {
    let mut found = Vec::new();
    for (eq, _) in line.match_indices('=') {
        let key = line[..eq]
            .trim_end()
            .rsplit(|c: char| c.is_whitespace() || matches!(c, '{' | ',' | '.'))
            .next()
            .unwrap_or("")
            .trim_matches(|c| c == '"' || c == '\'');
        if !looks_secret_key(key) {
            continue;
        }
        let value = &line[eq + 1..];
        let value_start = eq + 1 + (value.len() - value.trim_start().len());
        let Some(quote) = line[value_start..].chars().next() else {
            continue;
        };
        if quote != '"' && quote != '\'' {
            continue;
        }
        let contents_start = value_start + 1;
        let contents = &line[contents_start..];
        // An escaped quote does not end a basic string; a multi-line string
        // is masked to the end of this line.
        let mut end = contents.trim_end_matches(['\n', '\r']).len();
        let mut escaped = false;
        for (i, c) in contents.char_indices() {
            if quote == '"' && c == '\\' && !escaped {
                escaped = true;
                continue;
            }
            if c == quote && !escaped {
                end = i;
                break;
            }
            escaped = false;
        }
        found.push(contents_start..contents_start + end);
    }
    found
}

/// Whether a key's value is likely a credential. Keys ending in `-secret`
/// (`password-secret`) name a BuildKit secret id and are shown.
pub fn looks_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    if key.ends_with("-secret") || key.ends_with("_secret") {
        return false;
    }
    const WORDS: [&str; 7] = [
        "password",
        "passwd",
        "token",
        "secret",
        "credential",
        "auth",
        "apikey",
    ];
    WORDS.iter().any(|w| key.contains(w)) || key.split(['-', '_', '.']).any(|part| part == "key")
}

/// The values [`redact_spec`] masks in `source` (URL passwords and values
/// of secret-looking keys), longest first, so that a message quoting one can
/// be masked too.
pub fn secret_values(source: &str) -> Vec<&str> {
    let mut values: Vec<&str> = userinfo_passwords(source)
        .chain(secret_value_ranges(source))
        .filter_map(|r| source.get(r))
        .filter(|v| !v.is_empty())
        .collect();
    values.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    values.dedup();
    values
}

/// `text` with every whole occurrence of each of `values` replaced by
/// `****`. Whole: not inside a longer token, so a password `pass` does not
/// mask the `pass` of `password`.
pub fn mask_values(text: &str, values: &[&str]) -> String {
    let is_token = |c: char| c.is_alphanumeric() || "-_.~+/=".contains(c);
    let mut out = text.to_owned();
    for v in values {
        let mut masked = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(at) = rest.find(v) {
            let before = rest[..at].chars().next_back();
            let after = rest[at + v.len()..].chars().next();
            masked.push_str(&rest[..at]);
            if before.is_some_and(is_token) || after.is_some_and(is_token) {
                masked.push_str(v);
            } else {
                masked.push_str("****");
            }
            rest = &rest[at + v.len()..];
        }
        masked.push_str(rest);
        out = masked;
    }
    out
}

/// Whether a build arg's name says it holds a secret: one of its `_`/`-`
/// separated words is a secret word (`CI_JOB_TOKEN`, `PYPI_PASSWORD`).
pub fn looks_secret_arg(name: &str) -> bool {
    const WORDS: &[&str] = &[
        "TOKEN",
        "PASSWORD",
        "PASSWD",
        "PASS",
        "PWD",
        "SECRET",
        "KEY",
        "APIKEY",
        "CREDENTIAL",
        "CREDENTIALS",
        "CREDS",
        "AUTH",
        "PAT",
    ];
    name.to_ascii_uppercase()
        .split(['_', '-', '.'])
        .any(|w| WORDS.contains(&w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_looking_args() {
        for yes in [
            "CI_JOB_TOKEN",
            "PYPI_PASSWORD",
            "gitlab-token",
            "AWS_SECRET_ACCESS_KEY",
            "NPM_AUTH",
            "GH_PAT",
        ] {
            assert!(looks_secret_arg(yes), "{yes}");
        }
        for no in [
            "CI_API_V4_URL",
            "MLOPS_GROUP_ID",
            "KEYRING_BACKEND",
            "PATH",
            "TOKENIZER_MODEL",
            "PYPI_INDEX_URL",
        ] {
            assert!(!looks_secret_arg(no), "{no}");
        }
    }

    #[test]
    fn secrets_are_masked_byte_for_byte() {
        let source = concat!(
            "[[index]]\n",
            "url = \"https://user:glpat-XYZ@host/simple\"\n",
            "password = \"tok\\\"en\"\n",
            "password-secret = \"pypi_token\"\n",
            "env = { API_KEY = 'k1', OTHER = \"shown\" }\n",
            "username = \"https://TOKEN@host\"\n",
        );
        let data = redact_spec(source);
        assert_eq!(data.len(), source.len());
        assert_eq!(
            data,
            concat!(
                "[[index]]\n",
                "url = \"https://user:*********@host/simple\"\n",
                "password = \"*******\"\n",
                "password-secret = \"pypi_token\"\n",
                "env = { API_KEY = '**', OTHER = \"shown\" }\n",
                "username = \"https://*****@host\"\n",
            )
        );
        assert_eq!(
            mask_values("a glpat-XYZ b", &secret_values(source)),
            "a **** b"
        );
    }
}
