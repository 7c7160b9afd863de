//! URLs as text: the one place that splits `scheme://userinfo@host:port/…`,
//! and [`DisplaySafeUrl`], a URL that masks its credentials when shown.
//!
//! pyfront never needs a full URL parser: it checks, compares and shows
//! index URLs. Splitting happens on bytes so that it also works inside
//! free text (a TOML line, an installer's output), where the authority ends
//! at a quote or a space as well as at the path.

use std::fmt;
use std::ops::Range;

/// Whether `b` ends an authority: its path, query or fragment starts, or
/// the written URL ends (a quote, a space).
fn ends_authority(b: u8) -> bool {
    matches!(b, b'/' | b'?' | b'#' | b'"' | b'\'' | b'`' | b'<' | b'>') || b.is_ascii_whitespace()
}

/// An authority found in a text, by byte ranges into that text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Authority {
    /// `user[:password]`, without the `@`.
    pub userinfo: Option<Range<usize>>,
    /// `host[:port]`.
    pub host_port: Range<usize>,
}

/// The authority that starts at byte `start` of `text`: just after `://`,
/// or at the start of a URL written without a scheme. The userinfo ends at
/// the authority's last `@`, as in RFC 3986 (a password may hold `@` only
/// percent-encoded, but people paste it raw).
pub(crate) fn authority_at(text: &str, start: usize) -> Authority {
    let rest = &text.as_bytes()[start..];
    let len = rest
        .iter()
        .position(|&b| ends_authority(b))
        .unwrap_or(rest.len());
    // The scan to the end, and back to the last `@`.
    super::work::charge(2 * (len + 1));
    match rest[..len].iter().rposition(|&b| b == b'@') {
        Some(at) => Authority {
            userinfo: Some(start..start + at),
            host_port: start + at + 1..start + len,
        },
        None => Authority {
            userinfo: None,
            host_port: start..start + len,
        },
    }
}

/// The secret part of the userinfo of every `scheme://…@` in `text`: the
/// password, or the whole userinfo when it has no `:` (a lone user name is
/// often a token: `https://TOKEN@host`).
pub(crate) fn userinfo_secrets(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    super::work::charge(text.len());
    text.match_indices("://").filter_map(move |(at, _)| {
        let userinfo = authority_at(text, at + 3).userinfo?;
        super::work::charge(userinfo.len());
        let start = text[userinfo.clone()]
            .find(':')
            .map_or(userinfo.start, |i| userinfo.start + i + 1);
        (start < userinfo.end).then_some(start..userinfo.end)
    })
}

/// A URL that is safe to show: `Display`, `Debug` and `Serialize` give it
/// with the policy applied (userinfo, secret-looking query parameters and
/// recognised tokens masked). The URL as written is reached only through
/// [`DisplaySafeUrl::unredacted`], whose name says what it does.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DisplaySafeUrl(String);

impl DisplaySafeUrl {
    /// Wraps `url` as written; checking it is the caller's business.
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The URL as written, credentials and all: for the installer that
    /// must reach it, never for a message.
    pub fn unredacted(&self) -> &str {
        &self.0
    }

    fn authority(&self) -> Authority {
        let start = self.0.find("://").map_or(0, |i| i + 3);
        authority_at(&self.0, start)
    }

    /// The scheme, when the URL has one (`https`).
    pub fn scheme(&self) -> Option<&str> {
        self.0.split_once("://").map(|(scheme, _)| scheme)
    }

    /// `host[:port]`, without userinfo.
    pub fn host_port(&self) -> &str {
        &self.0[self.authority().host_port]
    }

    /// The host: no port, no IPv6 brackets (`::1`).
    pub fn host(&self) -> &str {
        let host_port = self.host_port();
        match host_port.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => host_port.split(':').next().unwrap_or_default(),
        }
    }

    /// Whether the URL has a `user[:password]@` part.
    pub fn has_userinfo(&self) -> bool {
        self.authority().userinfo.is_some()
    }

    /// Whether showing the URL would reveal a credential: it has userinfo,
    /// or the policy masks something in it (a `?private_token=` value, a
    /// recognised token in the path).
    pub fn has_credentials(&self) -> bool {
        self.has_userinfo() || !super::secret_ranges(&self.0).is_empty()
    }

    /// The URL with its userinfo removed (the query is kept).
    pub fn without_userinfo(&self) -> Self {
        match self.authority().userinfo {
            Some(userinfo) => {
                let mut url = self.0.clone();
                // The `@` goes with the userinfo.
                url.replace_range(userinfo.start..userinfo.end + 1, "");
                Self(url)
            }
            None => self.clone(),
        }
    }
}

impl fmt::Display for DisplaySafeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&super::redact_text(&self.0))
    }
}

impl fmt::Debug for DisplaySafeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DisplaySafeUrl")
            .field(&super::redact_text(&self.0))
            .finish()
    }
}

impl serde::Serialize for DisplaySafeUrl {
    /// Serialized as shown: every serialized model of pyfront is output.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::redact_text(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_debug_mask_credentials() {
        let url =
            DisplaySafeUrl::new("https://user:hunter22@host:8443/simple?private_token=abcd&x=1");
        assert_eq!(
            url.to_string(),
            "https://user:****@host:8443/simple?private_token=****&x=1"
        );
        assert_eq!(
            format!("{url:?}"),
            "DisplaySafeUrl(\"https://user:****@host:8443/simple?private_token=****&x=1\")"
        );
        assert_eq!(
            serde_json::to_string(&url).unwrap(),
            "\"https://user:****@host:8443/simple?private_token=****&x=1\""
        );
        assert!(url.unredacted().contains("hunter22"));
        // A lone user name may be a token.
        assert_eq!(
            DisplaySafeUrl::new("https://tok123@host/").to_string(),
            "https://****@host/"
        );
    }

    #[test]
    fn parts() {
        let url = DisplaySafeUrl::new("http://u:p@[::1]:8080/simple/");
        assert_eq!(url.scheme(), Some("http"));
        assert_eq!(url.host_port(), "[::1]:8080");
        assert_eq!(url.host(), "::1");
        assert!(url.has_userinfo() && url.has_credentials());
        assert_eq!(
            url.without_userinfo().unredacted(),
            "http://[::1]:8080/simple/"
        );
        let plain = DisplaySafeUrl::new("https://pypi.example/simple/a@b");
        assert_eq!(plain.host(), "pypi.example");
        assert!(!plain.has_userinfo() && !plain.has_credentials());
        assert_eq!(plain.without_userinfo(), plain);
        // Without a scheme the whole text up to the path is the authority.
        assert!(DisplaySafeUrl::new("u:p@host/simple").has_userinfo());
        assert!(DisplaySafeUrl::new("https://host/simple?token=x").has_credentials());
    }

    #[test]
    fn userinfo_in_free_text() {
        let text = "a `https://user:pw@h/x` b 'ftp://tok@h' c https://h/x@y ::// http://:@h";
        let found: Vec<&str> = userinfo_secrets(text).map(|r| &text[r]).collect();
        assert_eq!(found, ["pw", "tok"]);
    }
}
