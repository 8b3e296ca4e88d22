//! The JSON reader behind [`Value::parse_json`](super::Value::parse_json):
//! checks a text as serde_json does and reads its top level, without
//! building anything below it.
//!
//! A record is read once, on every pipeline run, and most of it is never
//! looked into: all the reader must do below the top level is find where
//! each member ends and check that it is valid JSON. serde_json does that
//! through its general deserializer (a visitor call per member, a raw-value
//! buffer per member, strings scanned eight bytes at a time); this reader
//! does only that, and finds the end of a long string with memchr. On the
//! pipeline benchmark's 1 KB records it runs a third fewer instructions
//! than serde_json did (callgrind).
//!
//! It accepts exactly what serde_json accepts (the property tests below
//! check it against serde_json on generated texts, valid and broken) but says
//! only *that* a text is refused: the caller then reads it again with
//! serde_json for the message, line and column, so errors are worded as
//! serde_json words them.

use std::borrow::Cow;

use super::Value;
use crate::formats::json::{skip_whitespace, special_bytes};

/// The text is not valid JSON (serde_json says why).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Invalid;

/// Members of a top-level object reserved up front: records are objects
/// of a dozen or two members, and regrowing from four costs three copies.
const MEMBERS: usize = 16;

/// Whether `bytes` hold a control character, which JSON forbids
/// unescaped in a string.
#[inline]
fn has_control(bytes: &[u8]) -> bool {
    // No early exit, so that the compiler checks sixteen bytes per vector
    // instruction; an early-exit loop goes a byte at a time.
    bytes.iter().fold(false, |found, &b| found | (b < 0x20))
}

/// Past the string whose opening quote is just before `at`, and whether it
/// has escapes. Escapes are checked for their form only (`\u` and four hex
/// digits), as serde_json checks a string it skips.
#[inline]
fn string_end(bytes: &[u8], at: usize) -> Result<(usize, bool), Invalid> {
    // Most names and values are short: a look at their first words, eight
    // bytes at a time, finds their end before memchr would have set up.
    const SHORT_WORDS: usize = 3;
    let mut from = at;
    for _ in 0..SHORT_WORDS {
        let Some(word) = bytes.get(from..from + 8) else {
            break;
        };
        let mut word8 = [0; 8];
        word8.copy_from_slice(word);
        let found = special_bytes(u64::from_le_bytes(word8));
        if found != 0 {
            let at = from + (found.trailing_zeros() / 8) as usize;
            return match bytes[at] {
                b'"' => Ok((at + 1, false)),
                b'\\' => long_string_end(bytes, at),
                _ => Err(Invalid), // a control character
            };
        }
        from += 8;
    }
    long_string_end(bytes, from)
}

/// [`string_end`] from `at`, with no control character before it.
fn long_string_end(bytes: &[u8], mut at: usize) -> Result<(usize, bool), Invalid> {
    let mut escaped = false;
    loop {
        // The end or an escape, found by memchr (vector instructions chosen
        // for the machine at run time), then the control characters before
        // it. On 500-byte strings this measured ten times faster than a
        // byte loop, and twice as fast as eight bytes at a time (the way of
        // serde_json's string scan).
        let rest = bytes.get(at..).ok_or(Invalid)?;
        let found = memchr::memchr2(b'"', b'\\', rest).ok_or(Invalid)?;
        if has_control(&rest[..found]) {
            return Err(Invalid);
        }
        at += found;
        match bytes[at] {
            b'"' => return Ok((at + 1, escaped)),
            _ => {
                escaped = true;
                at += match bytes.get(at + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => 2,
                    Some(b'u') => match bytes.get(at + 2..at + 6) {
                        Some(hex) if hex.iter().all(u8::is_ascii_hexdigit) => 6,
                        _ => return Err(Invalid),
                    },
                    _ => return Err(Invalid),
                };
            }
        }
    }
}

/// Past the number starting at `at`: `-`, then `0` or digits not starting
/// with `0`, then an optional fraction and exponent, each with at least one
/// digit. Its size is not checked (`1e400` is valid JSON text; the number
/// is kept as written).
fn number_end(bytes: &[u8], mut at: usize) -> Result<usize, Invalid> {
    let digits = |mut at: usize| {
        while let Some(b'0'..=b'9') = bytes.get(at) {
            at += 1;
        }
        at
    };
    if bytes.get(at) == Some(&b'-') {
        at += 1;
    }
    at = match bytes.get(at) {
        Some(b'0') if matches!(bytes.get(at + 1), Some(b'0'..=b'9')) => return Err(Invalid),
        Some(b'0') => at + 1,
        Some(b'1'..=b'9') => digits(at + 1),
        _ => return Err(Invalid),
    };
    if bytes.get(at) == Some(&b'.') {
        let end = digits(at + 1);
        if end == at + 1 {
            return Err(Invalid);
        }
        at = end;
    }
    if let Some(b'e' | b'E') = bytes.get(at) {
        at += 1;
        if let Some(b'+' | b'-') = bytes.get(at) {
            at += 1;
        }
        let end = digits(at);
        if end == at {
            return Err(Invalid);
        }
        at = end;
    }
    Ok(at)
}

/// Past `word` (`true`, `false`, `null`) at `at`.
fn literal_end(bytes: &[u8], at: usize, word: &[u8]) -> Result<usize, Invalid> {
    match bytes.get(at..at + word.len()) {
        Some(found) if found == word => Ok(at + word.len()),
        _ => Err(Invalid),
    }
}

/// The containers a value is inside, innermost last: one bit each (object
/// or array), so that nesting costs no allocation until it passes 64
/// levels. There is no depth limit, as serde_json has none for what it
/// skips.
#[derive(Default)]
struct Nesting {
    depth: usize,
    /// The innermost 64 levels or fewer; bit 0 is the innermost.
    bits: u64,
    /// Outer levels, 64 to a word.
    outer: Vec<u64>,
}

impl Nesting {
    fn push(&mut self, object: bool) {
        if self.depth > 0 && self.depth % 64 == 0 {
            self.outer.push(self.bits);
            self.bits = 0;
        }
        self.bits = self.bits << 1 | u64::from(object);
        self.depth += 1;
    }

    fn pop(&mut self) {
        self.depth -= 1;
        self.bits >>= 1;
        if self.depth > 0 && self.depth % 64 == 0 {
            self.bits = self.outer.pop().unwrap_or_default();
        }
    }

    /// Whether the innermost container is an object; `None` at the top.
    fn innermost_is_object(&self) -> Option<bool> {
        (self.depth > 0).then_some(self.bits & 1 == 1)
    }
}

/// Past an object member's name and its colon, the name's opening quote
/// being at `at` (after whitespace).
fn name_and_colon(bytes: &[u8], at: usize) -> Result<usize, Invalid> {
    if bytes.get(at) != Some(&b'"') {
        return Err(Invalid);
    }
    let (end, _) = string_end(bytes, at + 1)?;
    let colon = skip_whitespace(bytes, end);
    if bytes.get(colon) != Some(&b':') {
        return Err(Invalid);
    }
    Ok(colon + 1)
}

/// Past the JSON value starting at `at` (after whitespace), checked whole.
fn value_end(bytes: &[u8], mut at: usize) -> Result<usize, Invalid> {
    let mut nesting = Nesting::default();
    loop {
        // A value starts here.
        at = skip_whitespace(bytes, at);
        match bytes.get(at) {
            Some(b'"') => at = string_end(bytes, at + 1)?.0,
            Some(&open @ (b'{' | b'[')) => {
                let close = if open == b'{' { b'}' } else { b']' };
                let inside = skip_whitespace(bytes, at + 1);
                if bytes.get(inside) == Some(&close) {
                    at = inside + 1;
                } else {
                    nesting.push(open == b'{');
                    at = if open == b'{' {
                        name_and_colon(bytes, inside)?
                    } else {
                        inside
                    };
                    continue;
                }
            }
            Some(b't') => at = literal_end(bytes, at, b"true")?,
            Some(b'f') => at = literal_end(bytes, at, b"false")?,
            Some(b'n') => at = literal_end(bytes, at, b"null")?,
            Some(b'-' | b'0'..=b'9') => at = number_end(bytes, at)?,
            _ => return Err(Invalid),
        }
        // A value ended: close containers until one takes a comma.
        loop {
            let Some(object) = nesting.innermost_is_object() else {
                return Ok(at);
            };
            at = skip_whitespace(bytes, at);
            match bytes.get(at) {
                Some(b',') if object => {
                    at = name_and_colon(bytes, skip_whitespace(bytes, at + 1))?;
                    break;
                }
                Some(b',') => {
                    at += 1;
                    break;
                }
                Some(b'}') if object => {
                    at += 1;
                    nesting.pop();
                }
                Some(b']') if !object => {
                    at += 1;
                    nesting.pop();
                }
                _ => return Err(Invalid),
            }
        }
    }
}

/// A string's value from its text (quotes included): borrowed when it has
/// no escapes; otherwise decoded by serde_json, which refuses what JSON
/// allows in form but not in meaning (a lone surrogate, `\uD800`).
#[inline(always)]
fn string_value(quoted: &str, escaped: bool) -> Result<Cow<'_, str>, Invalid> {
    if escaped {
        serde_json::from_str::<String>(quoted)
            .map(Cow::Owned)
            .map_err(|_| Invalid)
    } else {
        Ok(Cow::Borrowed(&quoted[1..quoted.len() - 1]))
    }
}

/// One member's value: a scalar as its value, an object or array as its
/// text ([`Value::Raw`]), looked into only when a stage asks.
#[inline(always)]
fn member(text: &str, at: usize) -> Result<(Value<'_>, usize), Invalid> {
    let bytes = text.as_bytes();
    match bytes.get(at) {
        Some(b'"') => {
            let (end, escaped) = string_end(bytes, at + 1)?;
            // A member's string is checked for its form only, as serde_json
            // checks what it skips; one whose escapes do not decode stays
            // raw text.
            let quoted = &text[at..end];
            let value = string_value(quoted, escaped)
                .map_or_else(|_| Value::Raw(Cow::Borrowed(quoted)), Value::Str);
            Ok((value, end))
        }
        Some(b'{' | b'[') => {
            let end = value_end(bytes, at)?;
            Ok((Value::Raw(Cow::Borrowed(&text[at..end])), end))
        }
        _ => scalar(text, at),
    }
}

/// A number, `true`, `false` or `null` at `at`.
#[inline(always)]
fn scalar(text: &str, at: usize) -> Result<(Value<'_>, usize), Invalid> {
    let bytes = text.as_bytes();
    match bytes.get(at) {
        Some(b't') => Ok((Value::Bool(true), literal_end(bytes, at, b"true")?)),
        Some(b'f') => Ok((Value::Bool(false), literal_end(bytes, at, b"false")?)),
        Some(b'n') => Ok((Value::Null, literal_end(bytes, at, b"null")?)),
        Some(b'-' | b'0'..=b'9') => {
            let end = number_end(bytes, at)?;
            Ok((Value::Number(Cow::Borrowed(&text[at..end])), end))
        }
        _ => Err(Invalid),
    }
}

/// The value starting at `at` (after whitespace), read one level deep:
/// an object's or array's members are read as by [`member`], the rest of
/// it only checked. Returns the value and the position past it.
pub(super) fn top_level(text: &str, at: usize) -> Result<(Value<'_>, usize), Invalid> {
    let bytes = text.as_bytes();
    match bytes.get(at) {
        Some(b'{') => {
            let mut members = Vec::with_capacity(MEMBERS);
            let mut at = skip_whitespace(bytes, at + 1);
            if bytes.get(at) == Some(&b'}') {
                return Ok((Value::Object(members), at + 1));
            }
            loop {
                if bytes.get(at) != Some(&b'"') {
                    return Err(Invalid);
                }
                let (name_end, escaped) = string_end(bytes, at + 1)?;
                // A name is decoded, so its escapes are checked in meaning
                // too, as serde_json does for the names it reads.
                let name = string_value(&text[at..name_end], escaped)?;
                let colon = skip_whitespace(bytes, name_end);
                if bytes.get(colon) != Some(&b':') {
                    return Err(Invalid);
                }
                let (value, end) = member(text, skip_whitespace(bytes, colon + 1))?;
                members.push((name, value));
                at = skip_whitespace(bytes, end);
                match bytes.get(at) {
                    Some(b',') => at = skip_whitespace(bytes, at + 1),
                    Some(b'}') => return Ok((Value::Object(members), at + 1)),
                    _ => return Err(Invalid),
                }
            }
        }
        Some(b'[') => {
            let mut items = Vec::new();
            let mut at = skip_whitespace(bytes, at + 1);
            if bytes.get(at) == Some(&b']') {
                return Ok((Value::Array(items), at + 1));
            }
            loop {
                let (value, end) = member(text, at)?;
                items.push(value);
                at = skip_whitespace(bytes, end);
                match bytes.get(at) {
                    Some(b',') => at = skip_whitespace(bytes, at + 1),
                    Some(b']') => return Ok((Value::Array(items), at + 1)),
                    _ => return Err(Invalid),
                }
            }
        }
        Some(b'"') => {
            let (end, escaped) = string_end(bytes, at + 1)?;
            // The text itself is a string: decoded, so checked in meaning.
            Ok((Value::Str(string_value(&text[at..end], escaped)?), end))
        }
        _ => scalar(text, at),
    }
}

/// Whether a value that ends at `at` in a stream is properly ended: a
/// number or literal must be followed by whitespace, the end, or a byte
/// that cannot continue it, as serde_json's stream reader asks
/// (`1 2` is two values, `12` one, `1x` an error).
fn ends_stream_value(bytes: &[u8], at: usize) -> bool {
    matches!(
        bytes.get(at),
        None | Some(b' ' | b'\n' | b'\t' | b'\r' | b'"' | b'[' | b']' | b'{' | b'}' | b',' | b':')
    )
}

/// A whole text that is one JSON value (whitespace around it allowed),
/// read as by [`top_level`].
pub(super) fn document(text: &str) -> Result<Value<'_>, Invalid> {
    let bytes = text.as_bytes();
    let (value, end) = top_level(text, skip_whitespace(bytes, 0))?;
    if skip_whitespace(bytes, end) == bytes.len() {
        Ok(value)
    } else {
        Err(Invalid)
    }
}

/// The JSON values of a text, one after another, each read as by
/// [`top_level`] and given with its own text; ends after the first error.
pub(super) fn stream(text: &str) -> impl Iterator<Item = Result<(Value<'_>, &str), Invalid>> {
    let bytes = text.as_bytes();
    let mut at = 0;
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed {
            return None;
        }
        let start = skip_whitespace(bytes, at);
        if start == bytes.len() {
            return None;
        }
        let delimited = matches!(bytes[start], b'{' | b'[' | b'"');
        match top_level(text, start) {
            Ok((value, end)) if delimited || ends_stream_value(bytes, end) => {
                at = end;
                Some(Ok((value, &text[start..end])))
            }
            _ => {
                failed = true;
                Some(Err(Invalid))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(text: &str) -> bool {
        let bytes = text.as_bytes();
        let at = skip_whitespace(bytes, 0);
        value_end(bytes, at).is_ok_and(|end| skip_whitespace(bytes, end) == bytes.len())
    }

    #[test]
    fn strings_are_scanned_past_blocks_and_escapes() {
        let long = format!("\"{}\\n{}\"", "a".repeat(40), "é".repeat(20));
        assert_eq!(string_end(long.as_bytes(), 1), Ok((long.len(), true)));
        assert_eq!(string_end(b"\"abc\" x", 1), Ok((5, false)));
        for bad in [
            "\"a\u{1}b\"",
            "\"abc",
            "\"\\x\"",
            "\"\\u12g4\"",
            "\"\\u12\"",
        ] {
            assert_eq!(string_end(bad.as_bytes(), 1), Err(Invalid), "{bad:?}");
        }
    }

    #[test]
    fn numbers_follow_the_grammar() {
        for good in ["0", "-0", "12", "1.5", "1e400", "-1.25E+3", "0.0e-0"] {
            assert_eq!(number_end(good.as_bytes(), 0), Ok(good.len()), "{good:?}");
        }
        for bad in ["01", "-", "1.", "1.e3", "1e", "1e+", "+1", ".5", "-a"] {
            assert!(!valid(bad), "{bad:?}");
        }
    }

    #[test]
    fn nesting_deeper_than_a_word_of_bits_is_tracked() {
        let deep = format!("{}1{}", "[{\"a\":".repeat(100), "}]".repeat(100));
        assert!(valid(&deep));
        let wrong = format!("{}1{}", "[{\"a\":".repeat(100), "]}".repeat(100));
        assert!(!valid(&wrong));
    }

    #[test]
    fn the_top_level_is_read_and_the_rest_kept_raw() {
        let text = r#"{"a":[1, 2],"b":"x","c\n":"\ud83d\ude00","d":"\udc00","e":-1.5}"#;
        let (value, end) = top_level(text, 0).unwrap();
        assert_eq!(end, text.len());
        let Value::Object(members) = value else {
            panic!("an object")
        };
        assert_eq!(
            members[0],
            (Cow::Borrowed("a"), Value::Raw("[1, 2]".into()))
        );
        assert_eq!(members[1].1, Value::Str("x".into()));
        assert_eq!(members[2], (Cow::Borrowed("c\n"), Value::Str("😀".into())));
        // Valid in form, not in meaning: kept as written.
        assert_eq!(members[3].1, Value::Raw(r#""\udc00""#.into()));
        assert_eq!(members[4].1, Value::Number("-1.5".into()));
        // A name must decode.
        assert_eq!(top_level(r#"{"\udc00":1}"#, 0), Err(Invalid));
    }

    /// The reader against serde_json, on generated JSON texts and on the
    /// same texts broken by a few edits: the same verdict, the same values.
    mod agrees_with_serde_json {
        use proptest::prelude::*;
        use serde::de::IgnoredAny;

        use super::super::super::serde_read;
        use super::*;

        /// JSON whitespace, often none.
        fn space() -> impl Strategy<Value = String> {
            "[ \t\n\r]{0,2}"
        }

        /// Numbers of every shape JSON allows, some past f64's range.
        fn number() -> impl Strategy<Value = String> {
            "-?(0|[1-9][0-9]{0,24})(\\.[0-9]{1,4})?([eE][+-]?[0-9]{1,3})?"
        }

        /// Strings with plain text, multi-byte characters, every short
        /// escape, and `\u` escapes of any code unit (lone surrogates too).
        fn string() -> impl Strategy<Value = String> {
            let piece = prop_oneof![
                "[a-z é😀/]{1,20}",
                prop::sample::select(vec![
                    "\\n", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\r", "\\t"
                ])
                .prop_map(str::to_string),
                prop_oneof![any::<u16>(), 0xd800..0xe000u16].prop_map(|u| format!("\\u{u:04x}")),
                Just("\\ud83d\\ude00".to_string()),
            ];
            prop::collection::vec(piece, 0..4).prop_map(|pieces| format!("\"{}\"", pieces.concat()))
        }

        fn value() -> impl Strategy<Value = String> {
            let leaf = prop_oneof![
                Just("null".to_string()),
                Just("true".to_string()),
                Just("false".to_string()),
                number(),
                string(),
            ];
            leaf.prop_recursive(4, 48, 6, |inner| {
                prop_oneof![
                    prop::collection::vec(
                        (space(), string(), space(), inner.clone(), space()),
                        0..6
                    )
                    .prop_map(|members| {
                        let members: Vec<String> = members
                            .into_iter()
                            .map(|(a, k, b, v, c)| format!("{a}{k}{b}:{c}{v}"))
                            .collect();
                        format!("{{{}}}", members.join(","))
                    }),
                    prop::collection::vec((space(), inner, space()), 0..6).prop_map(|items| {
                        let items: Vec<String> = items
                            .into_iter()
                            .map(|(a, v, b)| format!("{a}{v}{b}"))
                            .collect();
                        format!("[{}]", items.join(","))
                    }),
                ]
            })
        }

        /// A text broken (or not) by deleting, inserting or replacing a
        /// few characters with ones that matter to JSON.
        fn edited(text: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
            let edit = (
                any::<prop::sample::Index>(),
                0..3u8,
                prop::sample::select(
                    "[]{}\",:0-.eE+\\utfanl \n\u{1}\u{1f}é9"
                        .chars()
                        .collect::<Vec<_>>(),
                ),
            );
            (text, prop::collection::vec(edit, 0..3)).prop_map(|(text, edits)| {
                let mut chars: Vec<char> = text.chars().collect();
                for (at, op, c) in edits {
                    let at = at.index(chars.len() + 1);
                    match op {
                        0 if at < chars.len() => {
                            chars.remove(at);
                        }
                        1 if at < chars.len() => chars[at] = c,
                        _ => chars.insert(at, c),
                    }
                }
                chars.into_iter().collect()
            })
        }

        /// Several values, separated by whitespace, nothing, or not quite
        /// a separator.
        fn several() -> impl Strategy<Value = String> {
            let separator = prop::sample::select(vec!["", " ", "\n", "\r\n", "\n\n", ",", "x"]);
            prop::collection::vec((value(), separator), 1..4)
                .prop_map(|values| values.into_iter().map(|(v, s)| format!("{v}{s}")).collect())
        }

        /// What the reader says of the whole text, checked as serde_json
        /// checks what it skips.
        fn valid(text: &str) -> bool {
            let bytes = text.as_bytes();
            let at = skip_whitespace(bytes, 0);
            value_end(bytes, at).is_ok_and(|end| skip_whitespace(bytes, end) == bytes.len())
        }

        fn same_as_serde_json(text: &str) {
            assert_eq!(
                valid(text),
                serde_json::from_str::<IgnoredAny>(text).is_ok(),
                "validity of {text:?}"
            );
            let reference = serde_read::parse_json(text);
            match document(text) {
                Ok(value) => assert_eq!(Ok(value), reference, "{text:?}"),
                Err(Invalid) => assert!(reference.is_err(), "refused {text:?}: {reference:?}"),
            }
            let mut reference = serde_read::parse_json_stream(text);
            for read in stream(text) {
                let expected = reference.next();
                match (read, expected) {
                    (Ok(read), Some(Ok(expected))) => assert_eq!(read, expected, "{text:?}"),
                    (Err(Invalid), Some(Err(_))) => return,
                    // serde_json's stream reads a number value through
                    // f64 and refuses one past its range; it is valid JSON
                    // text, kept as written here, as in `document`.
                    (Ok((Value::Number(n), _)), Some(Err(error)))
                        if error.message() == "number out of range" =>
                    {
                        assert!(n.parse::<f64>().is_ok_and(f64::is_infinite), "{n}");
                        return;
                    }
                    (read, expected) => panic!("{text:?}: read {read:?}, serde_json {expected:?}"),
                }
            }
            assert!(
                reference.next().is_none(),
                "{text:?}: serde_json reads more values"
            );
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4000))]

            #[test]
            fn on_json_texts(text in prop_oneof![value(), (space(), value(), space()).prop_map(|(a, v, b)| format!("{a}{v}{b}"))]) {
                same_as_serde_json(&text);
            }

            #[test]
            fn on_broken_texts(text in edited(value())) {
                same_as_serde_json(&text);
            }

            #[test]
            fn on_streams_of_values(text in edited(several())) {
                same_as_serde_json(&text);
            }

            #[test]
            fn on_any_text_of_json_characters(text in "[\\[\\]{}\",:0-9.eE+\\- \n\\\\utrfalsn\u{1}é]{0,24}") {
                same_as_serde_json(&text);
            }
        }
    }
}
