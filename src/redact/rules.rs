//! The policy's data, `src/redact_rules.json`: the one rule file the
//! frontend (here) and the Python install helper both read, so that a
//! word or token prefix added there is masked in both.
//!
//! Parsed once, on first use. The file is compiled in, so a parse failure is
//! a build defect that `tests::the_rule_file_parses` catches; at run time it
//! falls back to [`Rules::default`] (no words, no prefixes: URL userinfo,
//! which needs no data, is still masked) instead of panicking.

use std::sync::LazyLock;

use serde::Deserialize;

/// The rule file as compiled into the binary.
pub(crate) const JSON: &str = include_str!("../redact_rules.json");

/// The schema version this code reads.
const VERSION: u32 = 1;

static RULES: LazyLock<Rules> = LazyLock::new(|| Rules::parse(JSON).unwrap_or_default());

/// The rules in force.
pub(crate) fn rules() -> &'static Rules {
    &RULES
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Rules {
    version: u32,
    /// What the file is, for readers of the JSON.
    #[serde(default, rename = "about")]
    _about: String,
    /// What a masked value is replaced by in messages.
    pub mask: String,
    /// A name containing one of these (lowercase) looks secret.
    pub secret_key_words: Vec<String>,
    /// A name with one of these as a whole `-`/`_`/`.` part looks secret
    /// (`CI_JOB_TOKEN`, but not `TOKENIZER_MODEL`).
    pub secret_key_parts: Vec<String>,
    /// `<role><suffix>` names (`password-secret`) hold a secret id.
    pub id_key_suffixes: Vec<String>,
    pub id_key_roles: Vec<String>,
    /// Token formats recognised wherever they appear.
    pub token_prefixes: Vec<TokenPrefix>,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            version: VERSION,
            _about: String::new(),
            mask: "****".to_owned(),
            secret_key_words: Vec::new(),
            secret_key_parts: Vec::new(),
            id_key_suffixes: Vec::new(),
            id_key_roles: Vec::new(),
            token_prefixes: Vec::new(),
        }
    }
}

/// A recognised token format: `prefix` then at least `min_body_length`
/// characters of `charset`; the whole run is the token.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenPrefix {
    pub prefix: String,
    pub charset: Charset,
    pub min_body_length: usize,
    /// Who issues it and why pyfront cares; documentation only.
    #[serde(rename = "why")]
    _why: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Charset {
    /// `A-Z a-z 0-9`.
    Alnum,
    /// `A-Z 0-9`.
    UpperAlnum,
    /// `A-Z a-z 0-9 - _`.
    Base64url,
}

impl Charset {
    pub fn contains(self, b: u8) -> bool {
        match self {
            Self::Alnum => b.is_ascii_alphanumeric(),
            Self::UpperAlnum => b.is_ascii_uppercase() || b.is_ascii_digit(),
            Self::Base64url => b.is_ascii_alphanumeric() || b == b'-' || b == b'_',
        }
    }
}

/// Why a rule file was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RulesError {
    #[error("the rule file is not valid")]
    Json(#[from] serde_json::Error),
    #[error("the rule file has version {0}; this build reads version {VERSION}")]
    Version(u32),
    #[error("the rule file is not usable: {0}")]
    Invalid(&'static str),
}

impl Rules {
    pub(crate) fn parse(json: &str) -> Result<Self, RulesError> {
        let rules: Self = serde_json::from_str(json)?;
        if rules.version != VERSION {
            return Err(RulesError::Version(rules.version));
        }
        if rules.mask.is_empty() || rules.mask.chars().any(|c| c != '*') {
            // Masked text is recognised by being all `*` (see
            // `super::redact_text`), so a mask of other characters would be
            // masked again on every pass.
            return Err(RulesError::Invalid("`mask` must be one or more `*`"));
        }
        let words = rules
            .secret_key_words
            .iter()
            .chain(&rules.secret_key_parts)
            .chain(&rules.id_key_roles)
            .chain(&rules.id_key_suffixes);
        for word in words {
            if word.is_empty() || word.to_ascii_lowercase() != *word {
                return Err(RulesError::Invalid("names must be lowercase and not empty"));
            }
        }
        for t in &rules.token_prefixes {
            if t.prefix.is_empty() || !t.prefix.is_ascii() || t.min_body_length == 0 {
                return Err(RulesError::Invalid(
                    "a token prefix must be ASCII, not empty, with a body of at least one character",
                ));
            }
        }
        Ok(rules)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_file_parses() {
        let rules = Rules::parse(JSON).unwrap();
        assert!(!rules.secret_key_words.is_empty());
        assert!(!rules.token_prefixes.is_empty());
        assert_eq!(rules.mask, "****");
    }

    #[test]
    fn bad_rule_files_are_refused() {
        assert!(Rules::parse("{").is_err());
        let good: serde_json::Value = serde_json::from_str(JSON).unwrap();
        let with = |key: &str, value: serde_json::Value| {
            let mut v = good.clone();
            v[key] = value;
            Rules::parse(&v.to_string())
        };
        assert!(matches!(
            with("version", 2.into()),
            Err(RulesError::Version(2))
        ));
        assert!(with("mask", "[hidden]".into()).is_err());
        assert!(with("secret_key_words", serde_json::json!(["Token"])).is_err());
        assert!(with("unknown", serde_json::json!(1)).is_err());
        assert!(with(
            "token_prefixes",
            serde_json::json!([{"prefix": "x", "charset": "hex", "min_body_length": 1, "why": ""}])
        )
        .is_err());
    }
}
