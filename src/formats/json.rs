//! Writing JSON text straight into a byte buffer, without building a tree.
//!
//! Converters emit one small JSON object per record; going through
//! `serde_json::Value` would allocate a map and a string per field. These writers
//! append to the caller's buffer instead and escape exactly as `serde_json` does
//! (RFC 8259: `"` and `\` escaped, control characters as `\n`, `\t`, ... or
//! `\u00XX`, everything else verbatim UTF-8), so their output and `serde_json`'s
//! agree byte for byte.
//!
//! ```
//! use firehose_transform::formats::json::ObjectWriter;
//!
//! let mut out = Vec::new();
//! let mut obj = ObjectWriter::new(&mut out);
//! obj.str("host", "2001:db8::1");
//! obj.u64("bytes", 2326);
//! obj.opt_str("referrer", None);
//! obj.finish();
//! assert_eq!(out, br#"{"host":"2001:db8::1","bytes":2326,"referrer":null}"#);
//! ```

/// For each byte, the escape it needs inside a JSON string: 0 for none, `u` for
/// `\u00XX`, or the letter that follows the backslash. Same table as serde_json.
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = b'u';
        i += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// Appends `s` to `out` as a quoted, escaped JSON string.
///
/// ```
/// let mut out = Vec::new();
/// firehose_transform::formats::json::write_str(&mut out, "say \"hi\"\n");
/// assert_eq!(out, br#""say \"hi\"\n""#);
/// ```
#[inline(always)]
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    write_str_contents(out, s);
    out.push(b'"');
}

/// Whether any byte of `bytes` needs escaping. Branch-free, so it vectorizes:
/// most strings need no escaping, and for them this scan plus a copy is all
/// the work.
fn needs_escape(bytes: &[u8]) -> bool {
    bytes.iter().fold(false, |special, &b| {
        special | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

/// Appends the escaped contents of `s`, without the surrounding quotes.
#[inline(always)]
pub fn write_str_contents(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if !needs_escape(bytes) {
        out.extend_from_slice(bytes);
        return;
    }
    write_escaped(out, bytes);
}

/// The slow path of [`write_str_contents`]: a table walk, for strings that do
/// need escaping (kept out of line so the fast path inlines small).
#[inline(never)]
fn write_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escape = ESCAPE[byte as usize];
        if escape == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        if escape == b'u' {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(byte >> 4) as usize],
                HEX[(byte & 0xf) as usize],
            ]);
        } else {
            out.extend_from_slice(&[b'\\', escape]);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// The number of bytes [`write_str`] appends for `s`, quotes included.
///
/// ```
/// use firehose_transform::formats::json::quoted_len;
/// assert_eq!(quoted_len("a\"b"), 6);
/// assert_eq!(quoted_len("\u{1}"), 8);
/// ```
pub fn quoted_len(s: &str) -> usize {
    // Fast path: ids and keys rarely need escaping. This branch-free scan
    // vectorizes; the table walk below does not.
    let plain = !s.bytes().fold(false, |special, b| {
        special | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if plain {
        return s.len() + 2;
    }
    2 + s
        .bytes()
        .map(|byte| match ESCAPE[byte as usize] {
            0 => 1,
            b'u' => 6,
            _ => 2,
        })
        .sum::<usize>()
}

/// The position of the first byte at or after `at` that is not JSON
/// whitespace (space, tab, line feed, carriage return).
#[inline]
pub(crate) fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\t' | b'\r') = bytes.get(at) {
        at += 1;
    }
    at
}

/// The high bit of each byte of `word` (eight bytes of a JSON string, read
/// little-endian) that ends or interrupts the string's plain text: a quote,
/// a backslash or a control character. Bits may also be set in bytes after
/// the first such one: only the lowest set bit is exact. Shared by the
/// record reader (`doc::scan`) and the event reader (`event::fast`).
#[inline]
pub(crate) fn special_bytes(word: u64) -> u64 {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x;
    let quote = zero_byte(word ^ (ONES * u64::from(b'"')));
    let backslash = zero_byte(word ^ (ONES * u64::from(b'\\')));
    let control = word.wrapping_sub(ONES * 0x20) & !word;
    (quote | backslash | control) & HIGH
}

/// Writes one JSON object, member by member, into a byte buffer.
///
/// Members come out in the order they are written. Keys are escaped like values,
/// so any `&str` is safe as a key. [`ObjectWriter::finish`] writes the closing
/// brace; dropping the writer without it leaves the object open (on purpose: a
/// converter that fails half-way discards the buffer anyway).
///
/// ```
/// use firehose_transform::formats::json::ObjectWriter;
///
/// let mut out = Vec::new();
/// let mut object = ObjectWriter::new(&mut out);
/// object.str("msg", "say \"hi\"\n"); // escaped as JSON requires
/// object.opt_str("user", None);
/// object.u64("bytes", 512);
/// object.i64("offset", -7);
/// object.f64("ratio", 0.25);
/// object.f64("bad", f64::NAN); // JSON has no NaN: null
/// object.bool("ok", true);
/// let mut geo = object.object("geo");
/// geo.str("country", "GB");
/// geo.finish();
/// object.raw("tags", br#"["a","b"]"#); // JSON text, copied as is
/// object.finish();
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     r#"{"msg":"say \"hi\"\n","user":null,"bytes":512,"offset":-7,"ratio":0.25,"bad":null,"ok":true,"geo":{"country":"GB"},"tags":["a","b"]}"#
/// );
///
/// // Members added to an object already written (its closing brace left off).
/// let mut out = br#"{"id":1"#.to_vec();
/// let mut object = ObjectWriter::resume(&mut out, true);
/// object.str("added", "yes");
/// object.finish();
/// assert_eq!(out, br#"{"id":1,"added":"yes"}"#);
/// ```
pub struct ObjectWriter<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

impl<'a> ObjectWriter<'a> {
    /// Opens an object (`{`) at the end of `out`.
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        ObjectWriter { out, empty: true }
    }

    /// Continues an object whose text so far is already in `out` (opening brace
    /// and any members, but not the closing brace), for adding members to an
    /// object copied from the input. `has_members` says whether a comma is
    /// needed before the next member.
    pub fn resume(out: &'a mut Vec<u8>, has_members: bool) -> Self {
        ObjectWriter {
            out,
            empty: !has_members,
        }
    }

    /// Writes `"key":` (with the separating comma when needed) and returns the
    /// buffer, for a value written by other means.
    // Always inlined: keys are nearly always literals, and inlined, the escape
    // check of a literal folds away and its copy becomes a few stores.
    #[inline(always)]
    pub fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        write_str(self.out, key);
        self.out.push(b':');
        self.out
    }

    /// [`key`](Self::key) for a key written as JSON once ([`EncodedKey`]):
    /// the copy alone, for names written in object after object (a log
    /// format's fields).
    #[inline(always)]
    pub fn encoded_key(&mut self, key: &EncodedKey) -> &mut Vec<u8> {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.extend_from_slice(&key.0);
        self.out
    }

    /// A string member.
    #[inline]
    pub fn str(&mut self, key: &str, value: &str) {
        write_str(self.key(key), value);
    }

    /// A string member, or `null` when absent.
    #[inline]
    pub fn opt_str(&mut self, key: &str, value: Option<&str>) {
        match value {
            Some(value) => self.str(key, value),
            None => self.null(key),
        }
    }

    /// A `null` member.
    pub fn null(&mut self, key: &str) {
        self.key(key).extend_from_slice(b"null");
    }

    /// A boolean member.
    pub fn bool(&mut self, key: &str, value: bool) {
        let text: &[u8] = if value { b"true" } else { b"false" };
        self.key(key).extend_from_slice(text);
    }

    /// An unsigned integer member.
    #[inline]
    pub fn u64(&mut self, key: &str, value: u64) {
        write_u64(self.key(key), value);
    }

    /// A signed integer member.
    pub fn i64(&mut self, key: &str, value: i64) {
        let out = self.key(key);
        if value < 0 {
            out.push(b'-');
        }
        let mut digits = itoa_buf();
        out.extend_from_slice(format_u64(&mut digits, value.unsigned_abs()));
    }

    /// A floating-point member, written as `serde_json` writes it (shortest
    /// representation that round-trips); `null` for NaN and infinities, which
    /// JSON cannot express.
    pub fn f64(&mut self, key: &str, value: f64) {
        let out = self.key(key);
        if value.is_finite() {
            // serde_json's own formatting, so that the two never disagree.
            serde_json::to_writer(out, &value).expect("writing to a Vec cannot fail");
        } else {
            out.extend_from_slice(b"null");
        }
    }

    /// A member whose value is already JSON text (copied verbatim).
    pub fn raw(&mut self, key: &str, json: &[u8]) {
        self.key(key).extend_from_slice(json);
    }

    /// A nested object member; finish it before writing to this one again.
    pub fn object(&mut self, key: &str) -> ObjectWriter<'_> {
        let out = self.key(key);
        ObjectWriter::new(out)
    }

    /// Closes the object (`}`).
    pub fn finish(self) {
        self.out.push(b'}');
    }
}

/// An object key as JSON text with its colon (`"name":`), escaped once
/// rather than in every object ([`ObjectWriter::encoded_key`]).
///
/// ```
/// use firehose_transform::formats::json::{EncodedKey, ObjectWriter};
///
/// let status = EncodedKey::new("status \"code\"");
/// let mut out = Vec::new();
/// let mut object = ObjectWriter::new(&mut out);
/// object.str("host", "a");
/// object.encoded_key(&status).extend_from_slice(b"200");
/// object.finish();
/// assert_eq!(out, br#"{"host":"a","status \"code\"":200}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EncodedKey(Box<[u8]>);

impl EncodedKey {
    /// `name` as a key.
    pub fn new(name: &str) -> Self {
        let mut text = Vec::with_capacity(quoted_len(name) + 1);
        write_str(&mut text, name);
        text.push(b':');
        EncodedKey(text.into())
    }
}

fn itoa_buf() -> [u8; 20] {
    [0u8; 20]
}

/// Appends `value` in decimal, without allocating (CSV uses it too).
pub fn write_u64(out: &mut Vec<u8>, value: u64) {
    let mut digits = itoa_buf();
    out.extend_from_slice(format_u64(&mut digits, value));
}

/// Formats `value` in decimal into the end of `buf`, returning the digits.
fn format_u64(buf: &mut [u8; 20], mut value: u64) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    &buf[at..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn control_characters_use_short_escapes_where_json_has_them() {
        let mut out = Vec::new();
        write_str(&mut out, "\u{8}\u{c}\n\r\t\u{0}\u{1f}\\\"/é");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#""\b\f\n\r\t\u0000\u001f\\\"/é""#
        );
    }

    #[test]
    fn the_word_at_a_time_check_finds_every_special_byte_in_every_position() {
        for len in 0..24 {
            let plain = vec![b'a'; len];
            assert!(!needs_escape(&plain), "{len}");
            for at in 0..len {
                for byte in 0u8..=255 {
                    let mut bytes = plain.clone();
                    bytes[at] = byte;
                    let expected = byte < 0x20 || byte == b'"' || byte == b'\\';
                    assert_eq!(
                        needs_escape(&bytes),
                        expected,
                        "byte {byte:#04x} at {at} of {len}"
                    );
                }
            }
        }
    }

    #[test]
    fn integers_are_written_in_decimal() {
        let mut out = Vec::new();
        let mut obj = ObjectWriter::new(&mut out);
        obj.u64("zero", 0);
        obj.u64("max", u64::MAX);
        obj.i64("min", i64::MIN);
        obj.i64("neg", -42);
        obj.finish();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            r#"{"zero":0,"max":18446744073709551615,"min":-9223372036854775808,"neg":-42}"#
        );
    }

    #[test]
    fn nested_objects_and_resume_produce_valid_json() {
        let mut out = br#"{"a":1"#.to_vec();
        let mut obj = ObjectWriter::resume(&mut out, true);
        let mut geo = obj.object("geo");
        geo.f64("lat", 51.5142);
        geo.f64("nan", f64::NAN);
        geo.finish();
        obj.bool("ok", true);
        obj.finish();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value["geo"]["lat"], 51.5142);
        assert!(value["geo"]["nan"].is_null());
        assert_eq!(value["ok"], true);
        assert_eq!(value["a"], 1);
    }

    proptest! {
        #[test]
        fn strings_match_serde_json_byte_for_byte(s in any::<String>()) {
            let mut ours = Vec::new();
            write_str(&mut ours, &s);
            prop_assert_eq!(&ours, &serde_json::to_vec(&s).unwrap());
            prop_assert_eq!(quoted_len(&s), ours.len());
        }

        #[test]
        fn floats_round_trip_exactly(x in any::<f64>().prop_filter("finite", |x| x.is_finite())) {
            let mut out = Vec::new();
            let mut obj = ObjectWriter::new(&mut out);
            obj.f64("x", x);
            obj.finish();
            let text = std::str::from_utf8(&out).unwrap();
            let number = text.strip_prefix(r#"{"x":"#).unwrap().strip_suffix('}').unwrap();
            prop_assert_eq!(number.parse::<f64>().unwrap(), x);
        }
    }
}
