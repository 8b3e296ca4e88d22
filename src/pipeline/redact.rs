//! Redaction: fields dropped, masked or hashed, and secrets found inside
//! every string value (e-mail addresses, IP addresses, card numbers, AWS
//! access keys) replaced.
//!
//! Hashing is keyed (HMAC-SHA256 with a secret key, hex): the same value
//! always gives the same hash, so joins and counts still work on the
//! redacted data, while nobody without the key can test guesses against it
//! (a plain SHA-256 of an e-mail address is reversed by hashing a list of
//! addresses).
//!
//! ```
//! use firehose_transform::doc::{Path, Value};
//! use firehose_transform::pipeline::redact::{Action, Hasher, Pattern, Redact, Redactor};
//! use firehose_transform::pipeline::Stage;
//! use firehose_transform::Context;
//!
//! let hasher = Hasher::new(b"a secret key of 32 bytes or more.");
//! let redact = Redact::new()
//!     .field(Path::parse(".user.email").unwrap(), Action::Hash)
//!     .field(Path::parse(".password").unwrap(), Action::Drop)
//!     .patterns(Redactor::new([(Pattern::CreditCard, Action::Mask)], None).unwrap())
//!     .hasher(hasher.clone());
//! let mut doc = Value::parse_json(
//!     r#"{"user":{"email":"jo@example.com"},"password":"hunter2","note":"card 4111 1111 1111 1111 ok"}"#,
//! ).unwrap();
//! redact.apply(&mut doc, &mut Context::default()).unwrap();
//! let expected = format!(
//!     r#"{{"user":{{"email":"{}"}},"note":"card ***** ok"}}"#,
//!     hasher.hash("jo@example.com")
//! );
//! assert_eq!(String::from_utf8(doc.to_json()).unwrap(), expected);
//! ```

use std::borrow::Cow;
use std::fmt;
#[cfg(feature = "regex")]
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use hmac::{Hmac, Mac};
#[cfg(feature = "regex")]
use regex::{Regex, RegexSet};
use sha2::Sha256;

use crate::doc::{Path, Value};
use crate::pipeline::Stage;
use crate::transform::{Context, Failure};

/// What replaces a secret.
pub const MASK: &str = "*****";

/// What redaction does to a field or a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Remove the member (fields only).
    Drop,
    /// Replace with [`MASK`].
    Mask,
    /// Replace with the keyed hash of the value's text.
    Hash,
}

impl FromStr for Action {
    type Err = String;

    fn from_str(s: &str) -> Result<Action, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "drop" => Ok(Action::Drop),
            "mask" => Ok(Action::Mask),
            "hash" => Ok(Action::Hash),
            _ => Err(format!("{s:?} is not an action (drop, mask or hash)")),
        }
    }
}

/// HMAC-SHA256 with a secret key, as lowercase hex.
#[derive(Clone)]
pub struct Hasher {
    keyed: Hmac<Sha256>,
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Hasher(key hidden)")
    }
}

impl Hasher {
    /// A hasher with this key (any length; 32 random bytes or more is right
    /// for HMAC-SHA256).
    pub fn new(key: &[u8]) -> Self {
        Hasher {
            keyed: Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length"),
        }
    }

    /// The hex HMAC of `text`.
    pub fn hash(&self, text: &str) -> String {
        // The keyed state is computed once; each hash starts from a copy.
        let mut mac = self.keyed.clone();
        mac.update(text.as_bytes());
        let digest = mac.finalize().into_bytes();
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut hex = String::with_capacity(64);
        for byte in digest {
            hex.push(HEX[usize::from(byte >> 4)] as char);
            hex.push(HEX[usize::from(byte & 0xf)] as char);
        }
        hex
    }
}

/// The secrets [`Redactor`] finds inside strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pattern {
    /// `name@example.com`.
    Email,
    /// A dotted-quad IPv4 address.
    Ipv4,
    /// An IPv6 address (checked by parsing it).
    Ipv6,
    /// 13 to 19 digits, optionally grouped by spaces or dashes, that pass
    /// the Luhn check (so order numbers and timestamps are left alone).
    CreditCard,
    /// An AWS access key id (`AKIA…`, `ASIA…`, 20 characters).
    AwsAccessKey,
}

impl Pattern {
    /// Every pattern.
    pub const ALL: [Pattern; 5] = [
        Pattern::Email,
        Pattern::Ipv4,
        Pattern::Ipv6,
        Pattern::CreditCard,
        Pattern::AwsAccessKey,
    ];

    /// The name `REDACT_PATTERNS` uses.
    pub fn name(self) -> &'static str {
        match self {
            Pattern::Email => "email",
            Pattern::Ipv4 => "ipv4",
            Pattern::Ipv6 => "ipv6",
            Pattern::CreditCard => "credit_card",
            Pattern::AwsAccessKey => "aws_access_key",
        }
    }

    /// The pattern called `name`.
    pub fn from_name(name: &str) -> Option<Pattern> {
        Pattern::ALL.into_iter().find(|p| p.name() == name.trim())
    }

    /// The candidate regex; [`Pattern::confirm`] then checks each match.
    #[cfg(feature = "regex")]
    fn regex(self) -> &'static str {
        match self {
            Pattern::Email => r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
            Pattern::Ipv4 => r"(?:[0-9]{1,3}\.){3}[0-9]{1,3}",
            Pattern::Ipv6 => {
                r"(?i)[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:(?:[0-9]{1,3}\.){3}[0-9]{1,3})?"
            }
            Pattern::CreditCard => r"[0-9](?:[ -]?[0-9]){12,18}",
            Pattern::AwsAccessKey => {
                r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}"
            }
        }
    }

    /// Whether a candidate match really is one.
    #[cfg(feature = "regex")]
    fn confirm(self, text: &str) -> bool {
        match self {
            Pattern::Ipv4 => Ipv4Addr::from_str(text).is_ok(),
            Pattern::Ipv6 => Ipv6Addr::from_str(text).is_ok(),
            Pattern::CreditCard => luhn(text),
            Pattern::Email | Pattern::AwsAccessKey => true,
        }
    }
}

/// The Luhn checksum over the digits of `text`.
#[cfg(feature = "regex")]
fn luhn(text: &str) -> bool {
    let digits: Vec<u32> = text.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let d = d * 2;
                if d > 9 {
                    d - 9
                } else {
                    d
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// Finds secrets inside text and replaces them (with the `regex` feature).
#[cfg(feature = "regex")]
#[derive(Debug, Clone)]
pub struct Redactor {
    /// One pass tells which patterns occur at all (most strings have none).
    any: RegexSet,
    patterns: Vec<(Pattern, Action, Regex)>,
    hasher: Option<Hasher>,
}

#[cfg(feature = "regex")]
impl Redactor {
    /// A redactor of these patterns; a hasher is needed for [`Action::Hash`].
    pub fn new(
        patterns: impl IntoIterator<Item = (Pattern, Action)>,
        hasher: Option<Hasher>,
    ) -> Result<Redactor, String> {
        let mut list = Vec::new();
        for (pattern, action) in patterns {
            match action {
                Action::Drop => {
                    return Err(format!(
                        "{}: a pattern can be masked or hashed, not dropped",
                        pattern.name()
                    ))
                }
                Action::Hash if hasher.is_none() => {
                    return Err(format!("{}: hashing needs a key", pattern.name()))
                }
                _ => {}
            }
            let regex = Regex::new(pattern.regex()).expect("the built-in patterns compile");
            list.push((pattern, action, regex));
        }
        let any = RegexSet::new(list.iter().map(|(p, _, _)| p.regex()))
            .expect("the built-in patterns compile");
        Ok(Redactor {
            any,
            patterns: list,
            hasher,
        })
    }

    /// `text` with every secret replaced, or `None` when it has none.
    ///
    /// ```
    /// use firehose_transform::pipeline::redact::{Action, Pattern, Redactor};
    /// let redactor = Redactor::new(Pattern::ALL.map(|p| (p, Action::Mask)), None).unwrap();
    /// assert_eq!(
    ///     redactor.redact("from 203.0.113.9 key AKIAIOSFODNN7EXAMPLE to ops@example.com").unwrap(),
    ///     "from ***** key ***** to *****"
    /// );
    /// assert_eq!(redactor.redact("order 1234567890123 at 12:30:45"), None); // not Luhn, not IPv6
    /// ```
    pub fn redact(&self, text: &str) -> Option<String> {
        let which = self.any.matches(text);
        if !which.matched_any() {
            return None;
        }
        // Every confirmed match, then the earliest (longest on ties) of
        // overlapping ones.
        let mut found: Vec<(usize, usize, Action)> = Vec::new();
        for index in which.iter() {
            let (pattern, action, regex) = &self.patterns[index];
            for m in regex.find_iter(text) {
                if let Some((start, end)) = confirmed(*pattern, text, m.start(), m.end()) {
                    found.push((start, end, *action));
                }
            }
        }
        if found.is_empty() {
            return None;
        }
        found.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end, action) in found {
            if start < at {
                if end > at {
                    // Overlaps what was replaced: replace the rest too, so
                    // nothing of either secret survives.
                    at = end;
                }
                continue;
            }
            out.push_str(&text[at..start]);
            match (action, &self.hasher) {
                (Action::Hash, Some(hasher)) => out.push_str(&hasher.hash(&text[start..end])),
                _ => out.push_str(MASK),
            }
            at = end;
        }
        out.push_str(&text[at..]);
        Some(out)
    }
}

/// The confirmed secret within a candidate match, if any. IPv6 candidates
/// may carry a trailing `:` or `.` of the sentence around them.
#[cfg(feature = "regex")]
fn confirmed(pattern: Pattern, text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let candidate = &text[start..end];
    if pattern.confirm(candidate) {
        return Some((start, end));
    }
    if pattern == Pattern::Ipv6 {
        let trimmed = candidate.trim_end_matches([':', '.']);
        if !trimmed.is_empty() && pattern.confirm(trimmed) {
            return Some((start, start + trimmed.len()));
        }
    }
    None
}

/// The redaction stage: fields first, then patterns in every string.
#[derive(Debug, Clone, Default)]
pub struct Redact {
    fields: Vec<(Path, Action)>,
    #[cfg(feature = "regex")]
    patterns: Option<Redactor>,
    hasher: Option<Hasher>,
}

/// The reason of a record whose redaction could not be done.
pub const REDACTION_FAILED: &str = "redaction failed";

impl Redact {
    /// Redacts nothing yet.
    pub fn new() -> Self {
        Redact::default()
    }

    /// Drops, masks or hashes the value at `path` (when present).
    pub fn field(mut self, path: Path, action: Action) -> Self {
        self.fields.push((path, action));
        self
    }

    /// Replaces secrets inside every string value.
    #[cfg(feature = "regex")]
    pub fn patterns(mut self, redactor: Redactor) -> Self {
        self.patterns = Some(redactor);
        self
    }

    /// The hasher for [`Action::Hash`] fields.
    pub fn hasher(mut self, hasher: Hasher) -> Self {
        self.hasher = Some(hasher);
        self
    }

    /// Whether any field is to be hashed (so a key is needed).
    pub fn hashes_fields(&self) -> bool {
        self.fields.iter().any(|(_, a)| *a == Action::Hash)
    }
}

impl Stage for Redact {
    fn apply(&self, doc: &mut Value<'_>, _cx: &mut Context) -> Result<bool, Failure> {
        for (path, action) in &self.fields {
            match action {
                Action::Drop => {
                    doc.remove(path);
                }
                Action::Mask => {
                    if let Some(value) = doc.get_mut(path) {
                        *value = Value::Str(Cow::Borrowed(MASK));
                    }
                }
                Action::Hash => {
                    let hasher = self.hasher.as_ref().ok_or_else(|| {
                        Failure::new(REDACTION_FAILED).with_detail("hashing needs a key")
                    })?;
                    if let Some(value) = doc.get_mut(path) {
                        let hash = match &*value {
                            Value::Str(s) => hasher.hash(s),
                            other => hasher.hash(&String::from_utf8_lossy(&other.to_json())),
                        };
                        *value = Value::Str(Cow::Owned(hash));
                    }
                }
            }
        }
        #[cfg(feature = "regex")]
        if let Some(redactor) = &self.patterns {
            doc.for_each_str_mut(&mut |s| {
                if let Some(clean) = redactor.redact(s) {
                    *s = Cow::Owned(clean);
                }
            });
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "regex")]
    fn all() -> Redactor {
        Redactor::new(Pattern::ALL.map(|p| (p, Action::Mask)), None).unwrap()
    }

    #[cfg(feature = "regex")]
    #[test]
    fn each_pattern_finds_its_secret() {
        let r = all();
        for (text, expected) in [
            ("mail a.b+c@mail.example.co.uk now", "mail ***** now"),
            ("ip 10.0.0.255, next", "ip *****, next"),
            ("v6 2001:db8::1: bad", "v6 *****: bad"),
            ("v6 ::1 loopback", "v6 ***** loopback"),
            ("cc 4111-1111-1111-1111", "cc *****"),
            ("key ASIAY34FZKBOKMUTVV7A.", "key *****."),
        ] {
            assert_eq!(r.redact(text).as_deref(), Some(expected), "{text}");
        }
    }

    #[cfg(feature = "regex")]
    #[test]
    fn lookalikes_are_left_alone() {
        let r = all();
        for text in [
            "version 1.2.3",
            "at 12:30:45",
            "order 4111111111111112",
            "999.1.1.1 is no address",
        ] {
            assert_eq!(r.redact(text), None, "{text}");
        }
    }

    #[test]
    fn hashing_is_keyed_and_stable() {
        let a = Hasher::new(b"key one");
        let b = Hasher::new(b"key two");
        assert_eq!(a.hash("x"), a.hash("x"));
        assert_ne!(a.hash("x"), b.hash("x"));
        assert_eq!(a.hash("x").len(), 64);
        // RFC 4231 test case 2.
        assert_eq!(
            Hasher::new(b"Jefe").hash("what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[cfg(feature = "regex")]
    #[test]
    fn drop_is_refused_for_patterns_and_hash_needs_a_key() {
        assert!(Redactor::new([(Pattern::Email, Action::Drop)], None).is_err());
        assert!(Redactor::new([(Pattern::Email, Action::Hash)], None).is_err());
    }
}
