//! The AWS blueprint's output (each log event's message and `\n`) written
//! while the envelope is read, in one pass.
//!
//! [`Envelope::parse`] reads any JSON serde_json reads and words its
//! errors, but it builds a string for every message that has an escape
//! (Apache lines, JSON logs: nearly all), which is then copied into the
//! output. [`write_messages`] reads the envelope as CloudWatch Logs writes
//! it instead (compact JSON, known members in any order, unknown ones
//! skipped) and unescapes each message straight into the output.
//! Whatever falls outside that form it does not guess at: control
//! characters (so whitespace other than spaces), invalid UTF-8, names with
//! escapes, a member given twice, deep nesting, numbers past 18 digits or
//! with a fraction, every error. Those envelopes go to [`Envelope::parse`],
//! so both ways give the same output and the same errors (checked on
//! generated envelopes below and by the `cloudwatch_logs` fuzz target).

use std::borrow::Cow;

use super::{Envelope, Error, Header, MessageType};
use crate::formats::fields::find2;

/// Appends each log event's message and `\n` to `out` (what the AWS
/// blueprint writes, and `MESSAGE_FORMAT=raw`), and returns the envelope's
/// fields. The same as [`Envelope::parse`] then writing every message, in
/// one pass with no string per event. On an error `out` is as it was.
///
/// ```
/// use firehose_transform::formats::cloudwatch_logs::{write_messages, MessageType};
///
/// let json = br#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"app","logStream":"s1","subscriptionFilters":["f"],
///   "logEvents":[{"id":"1","timestamp":1,"message":"GET \"/\" 200"},{"id":"2","timestamp":2,"message":"\u00e9t\u00e9"}]}"#;
/// let mut out = Vec::new();
/// let header = write_messages(json, &mut out).unwrap();
/// assert_eq!(out, "GET \"/\" 200\nété\n".as_bytes());
/// assert_eq!((header.message_type, header.log_group.as_ref(), header.log_events), (MessageType::Data, "app", 2));
///
/// let error = write_messages(br#"{"messageType":"DATA_MESSAGE","owner":"1"}"#, &mut out).unwrap_err();
/// assert_eq!(error.to_string(), "not a CloudWatch Logs envelope: missing field `logGroup` at line 1 column 42");
/// assert_eq!(out, "GET \"/\" 200\nété\n".as_bytes()); // as it was
/// ```
pub fn write_messages<'a>(bytes: &'a [u8], out: &mut Vec<u8>) -> Result<Header<'a>, Error> {
    let start = out.len();
    if let Some(header) = Reader::read(bytes, out) {
        return Ok(header);
    }
    out.truncate(start);
    let envelope = Envelope::parse(bytes)?;
    for event in &envelope.log_events {
        out.extend_from_slice(event.message.as_bytes());
        out.push(b'\n');
    }
    Ok(Header {
        message_type: envelope.message_type,
        log_events: envelope.log_events.len(),
        owner: envelope.owner,
        log_group: envelope.log_group,
        log_stream: envelope.log_stream,
    })
}

/// The envelope's members, in the order CloudWatch Logs writes them.
const ENVELOPE_MEMBERS: &[&str] = &[
    "messageType",
    "owner",
    "logGroup",
    "logStream",
    "subscriptionFilters",
    "logEvents",
];
/// A log event's members, in the order CloudWatch Logs writes them.
const EVENT_MEMBERS: &[&str] = &["id", "timestamp", "message"];

/// How deep an unknown member may nest here (serde_json allows 128): deeper
/// ones are left to serde_json, whose limit then applies.
const MAX_DEPTH: usize = 16;

/// A cursor over envelope text. Every method returns `None` for "not the
/// form read here" (the caller then leaves the envelope to serde_json);
/// `Some` only for what serde_json reads the same way.
struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    fn read(bytes: &'a [u8], out: &mut Vec<u8>) -> Option<Header<'a>> {
        // JSON allows no control character in a string, and outside strings
        // only whitespace, which CloudWatch Logs does not write. A fold
        // (rather than `any`) compiles to a vector loop: this costs a few
        // percent of reading.
        if bytes.iter().fold(false, |seen, &b| seen | (b < 0x20)) {
            return None;
        }
        let text = std::str::from_utf8(bytes).ok()?;
        let mut reader = Reader { text, at: 0 };
        let header = reader.envelope(out)?;
        reader.spaces();
        (reader.at == text.len()).then_some(header)
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// Skips spaces, the only whitespace left (see [`Reader::read`]).
    fn spaces(&mut self) {
        while self.bytes().get(self.at) == Some(&b' ') {
            self.at += 1;
        }
    }

    /// The next byte after spaces, without taking it.
    fn peek(&mut self) -> Option<u8> {
        self.spaces();
        self.bytes().get(self.at).copied()
    }

    /// Takes `byte` after spaces.
    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// After a member or element: `true` past a `,`, `false` past `close`.
    fn more(&mut self, close: u8) -> Option<bool> {
        let next = self.peek()?;
        self.at += 1;
        match next {
            b',' => Some(true),
            _ if next == close => Some(false),
            _ => None,
        }
    }

    /// Takes `close` when the container is empty.
    fn empty(&mut self, close: u8) -> Option<bool> {
        let empty = self.peek()? == close;
        if empty {
            self.at += 1;
        }
        Some(empty)
    }

    /// A member's name and its `:`: which of `names` it is, `None` for
    /// another name.
    fn name(&mut self, names: &[&str]) -> Option<Option<usize>> {
        self.expect(b'"')?;
        let rest = &self.bytes()[self.at..];
        // A name with an escape might be a known one written otherwise.
        let end = find_quote_or_backslash(rest).filter(|&end| rest[end] == b'"')?;
        let name = &rest[..end];
        self.at += end + 1;
        self.expect(b':')?;
        Some(names.iter().position(|known| known.as_bytes() == name))
    }

    /// A string, borrowed when it has no escape.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.expect(b'"')?;
        let start = self.at;
        let end = start + find_quote_or_backslash(&self.bytes()[start..])?;
        if self.bytes()[end] == b'"' {
            self.at = end + 1;
            return self.text.get(start..end).map(Cow::Borrowed);
        }
        let mut unescaped = self.bytes()[start..end].to_vec();
        self.at = end;
        self.rest_of_string_into(&mut unescaped)?;
        String::from_utf8(unescaped).ok().map(Cow::Owned)
    }

    /// A string's text, unescaped, appended to `out`.
    fn string_into(&mut self, out: &mut Vec<u8>) -> Option<()> {
        self.expect(b'"')?;
        self.rest_of_string_into(out)
    }

    /// Past a string's opening quote: its text to `out`, then the closing
    /// quote taken.
    fn rest_of_string_into(&mut self, out: &mut Vec<u8>) -> Option<()> {
        loop {
            let rest = &self.bytes()[self.at..];
            let end = find_quote_or_backslash(rest)?;
            out.extend_from_slice(&rest[..end]);
            self.at += end + 1;
            if rest[end] == b'"' {
                return Some(());
            }
            self.escape(out)?;
        }
    }

    /// Past a `\`: the escaped character to `out`.
    fn escape(&mut self, out: &mut Vec<u8>) -> Option<()> {
        let byte = match *self.bytes().get(self.at)? {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                self.at += 1;
                let c = self.unicode_escape()?;
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                return Some(());
            }
            _ => return None,
        };
        self.at += 1;
        out.push(byte);
        Some(())
    }

    /// Past `\u`: the character, a UTF-16 surrogate pair taken whole (a
    /// lone surrogate is an error to serde_json).
    fn unicode_escape(&mut self) -> Option<char> {
        let first = self.hex4()?;
        if !(0xD800..0xDC00).contains(&first) {
            return char::from_u32(first);
        }
        if self.bytes().get(self.at..self.at + 2)? != b"\\u" {
            return None;
        }
        self.at += 2;
        let second = self.hex4()?;
        if !(0xDC00..0xE000).contains(&second) {
            return None;
        }
        char::from_u32(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.bytes().get(self.at..self.at + 4)?;
        let value = digits.iter().try_fold(0, |value, &digit| {
            Some(value * 16 + char::from(digit).to_digit(16)?)
        })?;
        self.at += 4;
        Some(value)
    }

    /// Checks and takes an integer that surely fits an `i64`: at most 18
    /// digits, no leading zero, no fraction or exponent, not `-0` (serde_json
    /// refuses those for an `i64`, `-0` being a float to it, or reads them
    /// otherwise). Its value is not needed here.
    fn integer(&mut self) -> Option<()> {
        self.spaces();
        let negative = self.bytes().get(self.at) == Some(&b'-');
        let start = self.at + usize::from(negative);
        let rest = self.bytes().get(start..)?;
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let leading_zero = rest.first() == Some(&b'0') && (digits > 1 || negative);
        if digits == 0 || digits > 18 || leading_zero {
            return None;
        }
        if matches!(rest.get(digits), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        self.at = start + digits;
        Some(())
    }

    /// Skips a JSON value of a member this reader does not know.
    fn skip(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' if depth < MAX_DEPTH => {
                self.at += 1;
                if self.empty(b'}')? {
                    return Some(());
                }
                loop {
                    self.name(&[])?;
                    self.skip(depth + 1)?;
                    if !self.more(b'}')? {
                        return Some(());
                    }
                }
            }
            b'[' if depth < MAX_DEPTH => {
                self.at += 1;
                if self.empty(b']')? {
                    return Some(());
                }
                loop {
                    self.skip(depth + 1)?;
                    if !self.more(b']')? {
                        return Some(());
                    }
                }
            }
            b't' => self.word("true"),
            b'f' => self.word("false"),
            b'n' => self.word("null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn word(&mut self, word: &str) -> Option<()> {
        let rest = &self.bytes()[self.at..];
        rest.starts_with(word.as_bytes())
            .then(|| self.at += word.len())
    }

    /// A JSON number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Option<()> {
        if self.bytes().get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        let start = self.at;
        let count = self.digits();
        if count == 0 || (count > 1 && self.bytes()[start] == b'0') {
            return None;
        }
        if self.bytes().get(self.at) == Some(&b'.') {
            self.at += 1;
            if self.digits() == 0 {
                return None;
            }
        }
        if matches!(self.bytes().get(self.at), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.bytes().get(self.at), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        Some(())
    }

    /// Takes a run of digits, its length.
    fn digits(&mut self) -> usize {
        let count = self.bytes()[self.at..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        self.at += count;
        count
    }

    fn envelope(&mut self, out: &mut Vec<u8>) -> Option<Header<'a>> {
        let mut message_type = None;
        let mut owner = None;
        let mut log_group = None;
        let mut log_stream = None;
        let mut filters = None;
        let mut log_events = None;
        self.expect(b'{')?;
        loop {
            match self.name(ENVELOPE_MEMBERS)? {
                Some(0) => once(&mut message_type, self.message_type()?)?,
                Some(1) => once(&mut owner, self.string()?)?,
                Some(2) => once(&mut log_group, self.string()?)?,
                Some(3) => once(&mut log_stream, self.string()?)?,
                Some(4) => once(&mut filters, self.strings()?)?,
                Some(_) => once(&mut log_events, self.events(out)?)?,
                None => self.skip(0)?,
            }
            if !self.more(b'}')? {
                break;
            }
        }
        Some(Header {
            message_type: message_type?,
            owner: owner?,
            log_group: log_group?,
            log_stream: log_stream?,
            log_events: log_events?,
        })
    }

    fn message_type(&mut self) -> Option<MessageType> {
        match &*self.string()? {
            "DATA_MESSAGE" => Some(MessageType::Data),
            "CONTROL_MESSAGE" => Some(MessageType::Control),
            _ => None,
        }
    }

    /// An array of strings (`subscriptionFilters`), checked and skipped.
    fn strings(&mut self) -> Option<()> {
        self.expect(b'[')?;
        if self.empty(b']')? {
            return Some(());
        }
        loop {
            self.string()?;
            if !self.more(b']')? {
                return Some(());
            }
        }
    }

    /// The `logEvents` array, each message written to `out`: how many.
    fn events(&mut self, out: &mut Vec<u8>) -> Option<usize> {
        self.expect(b'[')?;
        if self.empty(b']')? {
            return Some(0);
        }
        let mut count = 0;
        loop {
            self.event(out)?;
            count += 1;
            if !self.more(b']')? {
                return Some(count);
            }
        }
    }

    fn event(&mut self, out: &mut Vec<u8>) -> Option<()> {
        let (at, written) = (self.at, out.len());
        if self.event_as_written(out).is_some() {
            return Some(());
        }
        self.at = at;
        out.truncate(written);
        self.any_event(out)
    }

    /// An event exactly as CloudWatch Logs writes it,
    /// `{"id":"…","timestamp":…,"message":"…"}`, read by its fixed text
    /// rather than name by name (a fifth of the reading).
    fn event_as_written(&mut self, out: &mut Vec<u8>) -> Option<()> {
        self.literal(b"{\"id\":\"")?;
        let rest = &self.bytes()[self.at..];
        let end = find_quote_or_backslash(rest).filter(|&end| rest[end] == b'"')?;
        self.at += end + 1;
        self.literal(b",\"timestamp\":")?;
        self.integer()?;
        self.literal(b",\"message\":\"")?;
        self.rest_of_string_into(out)?;
        out.push(b'\n');
        self.literal(b"}")
    }

    fn literal(&mut self, text: &[u8]) -> Option<()> {
        let rest = self.bytes().get(self.at..self.at + text.len())?;
        (rest == text).then(|| self.at += text.len())
    }

    /// An event in any form: members in any order, unknown ones skipped.
    fn any_event(&mut self, out: &mut Vec<u8>) -> Option<()> {
        let (mut id, mut timestamp, mut message) = (None, None, None);
        self.expect(b'{')?;
        loop {
            match self.name(EVENT_MEMBERS)? {
                Some(0) => once(&mut id, self.string()?)?,
                Some(1) => once(&mut timestamp, self.integer()?)?,
                Some(_) => {
                    once(&mut message, ())?;
                    self.string_into(out)?;
                    out.push(b'\n');
                }
                None => self.skip(0)?,
            }
            if !self.more(b'}')? {
                break;
            }
        }
        id.and(timestamp).and(message)
    }
}

/// Fills `slot` with its member's value; `None` when the member came before
/// (serde_json refuses a duplicate field).
fn once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    slot.is_none().then(|| *slot = Some(value))
}

/// Where the first `"` or `\` of `bytes` is: eight bytes at a time in a
/// word ([`find2`]). Escapes come every few dozen bytes in log lines (quotes
/// in Apache and JSON logs) and an event's id is 56 digits: on such runs
/// `memchr2`'s call and vector set-up took a third of the reading.
fn find_quote_or_backslash(bytes: &[u8]) -> Option<usize> {
    find2(bytes, b'"', b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What `Envelope::parse` and writing each message give: the reference.
    fn reference(bytes: &[u8]) -> Result<(Header<'_>, Vec<u8>), Error> {
        let envelope = Envelope::parse(bytes)?;
        let mut out = Vec::new();
        for event in &envelope.log_events {
            out.extend_from_slice(event.message.as_bytes());
            out.push(b'\n');
        }
        let header = Header {
            message_type: envelope.message_type,
            owner: envelope.owner.clone(),
            log_group: envelope.log_group.clone(),
            log_stream: envelope.log_stream.clone(),
            log_events: envelope.log_events.len(),
        };
        Ok((header, out))
    }

    /// The reader of this module alone, without the fallback.
    fn compact(bytes: &[u8]) -> Option<(Header<'_>, Vec<u8>)> {
        let mut out = Vec::new();
        Reader::read(bytes, &mut out).map(|header| (header, out))
    }

    fn through_write_messages(bytes: &[u8]) -> Result<(Header<'_>, Vec<u8>), Error> {
        let mut out = b"before".to_vec();
        let result = write_messages(bytes, &mut out);
        assert!(out.starts_with(b"before"));
        match result {
            Ok(header) => Ok((header, out.split_off(6))),
            Err(error) => {
                assert_eq!(out, b"before", "output left after an error");
                Err(error)
            }
        }
    }

    /// The reader agrees with the reference or leaves the envelope to it,
    /// and `write_messages` always agrees. Returns whether the reader read it.
    fn check(bytes: &[u8]) -> bool {
        let expected = reference(bytes);
        assert_eq!(
            through_write_messages(bytes),
            expected,
            "{:?}",
            String::from_utf8_lossy(bytes)
        );
        match compact(bytes) {
            Some(read) => {
                assert_eq!(Ok(read), expected, "{:?}", String::from_utf8_lossy(bytes));
                true
            }
            None => false,
        }
    }

    const CLOUDWATCH: &str = r#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/ec2/web","logStream":"i-0abc","subscriptionFilters":["to-firehose"],"logEvents":[{"id":"37000000000000000000000000000000000000000000000000000000","timestamp":1796198400000,"message":"83.149.9.216 - - [17/May/2015:10:05:03 +0000] \"GET /presentations/ HTTP/1.1\" 200 203023 \"-\" \"Mozilla/5.0\""},{"id":"37000000000000000000000000000000000000000000000000000001","timestamp":1796198400001,"message":"{\"level\":\"INFO\",\"msg\":\"caf\u00e9 \ud83d\ude00\\\/\b\f\n\r\t\"}"}],"policyLevel":"ACCOUNT_LEVEL_POLICY"}"#;

    #[test]
    fn what_cloudwatch_logs_writes_is_read_here_and_the_same() {
        assert!(check(CLOUDWATCH.as_bytes()));
        let (header, out) = compact(CLOUDWATCH.as_bytes()).unwrap();
        assert_eq!(header.log_events, 2);
        assert!(matches!(header.log_group, Cow::Borrowed("/aws/ec2/web")));
        assert!(String::from_utf8(out)
            .unwrap()
            .ends_with("\"msg\":\"café 😀\\/\u{8}\u{c}\n\r\t\"}\n"));
        let control = r#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1440442987000,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}"#;
        assert!(check(control.as_bytes()));
        // Members in another order, spaces, unknown members of every kind,
        // escaped strings in the envelope's own fields, no events.
        for json in [
            r#"{"logEvents":[{"message":"m","timestamp":0,"extra":[1,{"a":null}],"id":"1"}],"logStream":"s","subscriptionFilters":[],"logGroup":"g","owner":"o","messageType":"DATA_MESSAGE"}"#,
            r#" { "messageType" : "DATA_MESSAGE" , "owner" : "o" , "logGroup" : "g\u0041\"" , "logStream" : "s" , "logEvents" : [ ] , "n" : -12.5e+3 , "t" : true , "f" : false , "z" : 0 , "o" : { } } "#,
            r#"{"messageType":"DATA\u005fMESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":-922337203685477580,"message":""}]}"#,
        ] {
            assert!(check(json.as_bytes()), "{json}");
        }
    }

    #[test]
    fn other_forms_and_every_error_are_left_to_serde_json() {
        for json in [
            // Whitespace other than spaces, escaped names, a field given twice.
            "{\"messageType\":\"DATA_MESSAGE\",\n\"owner\":\"o\",\"logGroup\":\"g\",\"logStream\":\"s\",\"logEvents\":[]}",
            r#"{"message\u0054ype":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[]}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"o","owner":"p","logGroup":"g","logStream":"s","logEvents":[]}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":1,"message":"a","message":"b"}]}"#,
            // Numbers an i64 field refuses, or that are not JSON.
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":1.0,"message":"a"}]}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":01,"message":"a"}]}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":-0,"message":"a"}]}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":9223372036854775807,"message":"a"}]}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":9223372036854775808,"message":"a"}]}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[],"x":-}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[],"x":1.}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[],"x":00}"#,
            // Escapes serde_json refuses: lone surrogates, unknown letters.
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":1,"message":"\ud83d"}]}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":1,"message":"\ude00"}]}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":1,"message":"\ud83d\u0041"}]}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":1,"message":"\x"}]}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":1,"message":"\u12G4"}]}"#,
            // A raw control character in a string; invalid UTF-8 below.
            "{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"o\",\"logGroup\":\"g\",\"logStream\":\"s\",\"logEvents\":[{\"id\":\"1\",\"timestamp\":1,\"message\":\"a\tb\"}]}",
            // Missing, mistyped or unknown values; trailing text; other shapes.
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s"}"#,
            r#"{"messageType":"HEARTBEAT","owner":"o","logGroup":"g","logStream":"s","logEvents":[]}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":null,"logGroup":"g","logStream":"s","logEvents":[]}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","subscriptionFilters":[1],"logEvents":[]}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":"1","message":"a"}]}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[{"id":"1","message":"a"}]}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[{}]}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[]} x"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[],}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[],"x":nul}"#,
            r#"["DATA_MESSAGE","o","g","s",[],[]]"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[["1",1,"a"]]}"#,
            "\u{feff}{}",
            "",
            "{",
            "[1,2]",
        ] {
            assert!(!check(json.as_bytes()), "{json}");
        }
        let deep = format!(
            r#"{{"messageType":"DATA_MESSAGE","owner":"o","logGroup":"g","logStream":"s","logEvents":[],"x":{}1{}}}"#,
            "[".repeat(MAX_DEPTH + 1),
            "]".repeat(MAX_DEPTH + 1)
        );
        assert!(!check(deep.as_bytes()));
        let mut invalid = CLOUDWATCH.as_bytes().to_vec();
        let at = CLOUDWATCH.find("GET").unwrap();
        invalid[at] = 0xff;
        assert!(!check(&invalid));
    }

    /// A JSON string for `text`, each character written one of the ways
    /// JSON allows (chosen by `seed`): as it is where it may be, a short
    /// escape, or `\u` in either case of hex, in a surrogate pair past the
    /// Basic Multilingual Plane.
    fn json_string(text: &str, seed: u64) -> String {
        let mut state = seed | 1;
        let mut pick = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let mut json = String::from("\"");
        for c in text.chars() {
            let short = match c {
                '"' => Some("\\\""),
                '\\' => Some("\\\\"),
                '/' => Some("\\/"),
                '\u{8}' => Some("\\b"),
                '\u{c}' => Some("\\f"),
                '\n' => Some("\\n"),
                '\r' => Some("\\r"),
                '\t' => Some("\\t"),
                _ => None,
            };
            let must_escape = c < ' ' || c == '"' || c == '\\';
            match (pick(3), short) {
                (0, _) if !must_escape => json.push(c),
                (1, Some(escape)) => json.push_str(escape),
                _ => {
                    for unit in c.encode_utf16(&mut [0; 2]) {
                        if pick(2) == 0 {
                            json.push_str(&format!("\\u{unit:04x}"));
                        } else {
                            json.push_str(&format!("\\u{unit:04X}"));
                        }
                    }
                }
            }
        }
        json.push('"');
        json
    }

    /// Values for a member CloudWatch Logs may add, some not JSON.
    const UNKNOWN_VALUES: &[&str] = &[
        r#""ACCOUNT_LEVEL_POLICY""#,
        "-1.5e+3",
        "0",
        "true",
        "null",
        r#"{"a":[1,{"b":null}],"c":"\"d"}"#,
        "[]",
        "{}",
        "01",
        "1.",
        "tru",
        r#"{"a" 1}"#,
        "[1,]",
    ];

    fn envelope_json(
        events: &[(String, i64, String)],
        seed: u64,
        unknown: Option<usize>,
        spaced: bool,
    ) -> String {
        let string = |text: &str, salt: u64| json_string(text, seed ^ salt.wrapping_mul(0x9e37));
        let member = |name: &str, value: String| {
            if spaced {
                format!(" \"{name}\" : {value} ")
            } else {
                format!("\"{name}\":{value}")
            }
        };
        let events: Vec<String> = events
            .iter()
            .enumerate()
            .map(|(i, (id, timestamp, message))| {
                let mut members = [
                    member("id", string(id, i as u64)),
                    member("timestamp", timestamp.to_string()),
                    member("message", string(message, 1000 + i as u64)),
                ];
                members.rotate_left((seed as usize + i) % 3);
                format!("{{{}}}", members.join(","))
            })
            .collect();
        let mut members = vec![
            member("messageType", string("DATA_MESSAGE", 1)),
            member("owner", string("123456789012", 2)),
            member("logGroup", string("/aws/lambda/app \"x\"", 3)),
            member("logStream", string("2026/12/02/[$LATEST]é", 4)),
            member("subscriptionFilters", format!("[{}]", string("f", 5))),
            member("logEvents", format!("[{}]", events.join(","))),
        ];
        if let Some(value) = unknown {
            members.push(member("new", UNKNOWN_VALUES[value].to_string()));
        }
        members.rotate_left(seed as usize % 7);
        format!("{{{}}}", members.join(","))
    }

    fn events() -> impl Strategy<Value = Vec<(String, i64, String)>> {
        let message = prop_oneof!["(?s).{0,40}", "[ -~]{0,200}", "[\"\\\\/a]{0,10}"];
        prop::collection::vec(
            (
                "[0-9]{0,56}",
                -999_999_999_999_999_999i64..999_999_999_999_999_999,
                message,
            ),
            0..6,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn generated_envelopes_read_as_serde_json_reads_them(
            events in events(),
            seed in any::<u64>(),
            unknown in proptest::option::of(0..UNKNOWN_VALUES.len()),
            spaced in any::<bool>(),
        ) {
            let json = envelope_json(&events, seed, unknown, spaced);
            let read = check(json.as_bytes());
            // What CloudWatch Logs can write is read here, not left over.
            if unknown.is_none_or(|value| value < 8) && !events.iter().any(|(_, _, m)| m.contains(|c: char| c < ' ')) {
                prop_assert!(read, "{}", json);
            }
        }

        #[test]
        fn damaged_envelopes_are_refused_or_read_as_serde_json_reads_them(
            events in events(),
            seed in any::<u64>(),
            at in any::<prop::sample::Index>(),
            change in 0usize..4,
            byte in prop::sample::select(&b"\"\\{}[],: 0a-.e\x00\xc3\xff"[..]),
        ) {
            let mut json = envelope_json(&events, seed, Some(seed as usize % UNKNOWN_VALUES.len()), false).into_bytes();
            let at = at.index(json.len());
            match change {
                0 => { json.remove(at); }
                1 => json.insert(at, byte),
                2 => json[at] = byte,
                _ => json.truncate(at),
            }
            check(&json);
        }
    }
}
