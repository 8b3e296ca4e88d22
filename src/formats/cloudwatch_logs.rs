//! CloudWatch Logs subscription data: the gzip-compressed JSON envelope that
//! a subscription filter sends to Firehose, Kinesis or Lambda.
//!
//! ```json
//! {"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/lambda/checkout",
//!  "logStream":"2026/12/02/[$LATEST]0f1e…","subscriptionFilters":["to-firehose"],
//!  "logEvents":[{"id":"3798…","timestamp":1764662400000,"message":"START RequestId: …"}]}
//! ```
//!
//! [`decode`] takes a record's bytes, gzip-compressed (found by the gzip magic
//! bytes `1f 8b`, so it works with and without Firehose's own decompression)
//! or plain, inflates them with a limit, and [`Envelope::parse`] reads the
//! envelope, borrowing every string that has no escapes. [`encode`] does the
//! reverse for a subset of the events, so an envelope too large for one
//! response can be split and sent again as smaller records.
//!
//! ```
//! use firehose_transform::formats::cloudwatch_logs::{self, Envelope, MessageType};
//!
//! let json = r#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"app","logStream":"s1",
//!   "subscriptionFilters":["f"],"logEvents":[{"id":"1","timestamp":1440442987000,"message":"[ERROR] boom"}]}"#;
//! let compressed = cloudwatch_logs::gzip(json.as_bytes());
//! let bytes = cloudwatch_logs::decode(&compressed, 1 << 20).unwrap();
//! let envelope = Envelope::parse(&bytes).unwrap();
//! assert_eq!(envelope.message_type, MessageType::Data);
//! assert_eq!(envelope.log_group, "app");
//! assert_eq!(envelope.log_events[0].message, "[ERROR] boom");
//! assert_eq!(envelope.log_events[0].rfc3339(), "2015-08-24T19:03:07Z");
//! ```
//!
//! [`write_messages`] is the fast way to the AWS blueprint's output: it
//! appends each event's message and `\n` to a buffer while it reads the
//! envelope, with no string per event.
//!
//! No Firehose in here: the same functions read what a Lambda subscribed to
//! a log group gets (`awslogs.data`, base64-decoded).

use std::borrow::Cow;
use std::fmt;
use std::io::Write;

use serde::Deserialize;

use super::json::ObjectWriter;
use super::timestamp::DateTime;

mod messages;

pub use messages::write_messages;

/// The first two bytes of every gzip member (RFC 1952).
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Whether `data` starts like a gzip stream.
pub fn is_gzip(data: &[u8]) -> bool {
    data.starts_with(&GZIP_MAGIC)
}

/// Why a record is not CloudWatch Logs subscription data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The gzip stream is damaged (bad header, bad deflate data, CRC or
    /// length mismatch): what the decompressor said.
    CorruptGzip(String),
    /// The gzip stream ends before its end: `compressed` bytes were read.
    TruncatedGzip {
        /// The compressed bytes read.
        compressed: usize,
    },
    /// Inflating went past the limit (a decompression bomb, or data no
    /// response could hold).
    TooLarge {
        /// The limit, in decompressed bytes.
        limit: usize,
        /// The compressed size.
        compressed: usize,
    },
    /// The bytes are not the documented JSON envelope: serde's message,
    /// with line and column.
    NotEnvelope(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::CorruptGzip(why) => write!(f, "corrupt gzip data: {why}"),
            Error::TruncatedGzip { compressed } => {
                write!(
                    f,
                    "gzip data ends early (after {compressed} compressed bytes)"
                )
            }
            Error::TooLarge { limit, compressed } => write!(
                f,
                "{compressed} compressed bytes inflate past {limit} bytes (stopped there)"
            ),
            Error::NotEnvelope(why) => write!(f, "not a CloudWatch Logs envelope: {why}"),
        }
    }
}

impl std::error::Error for Error {}

/// The record's envelope bytes: inflated when `data` is gzip (every member
/// of a multi-member stream), borrowed as they are otherwise.
///
/// Inflating stops as soon as the output would pass `limit` bytes
/// ([`Error::TooLarge`]), so a small record that inflates to gigabytes costs
/// no more than `limit` bytes of memory and the time to write them. The gzip
/// trailer's length sizes the buffer up front (never past `limit`): a record
/// of one member whose length is within it is inflated in one call, any
/// other streamed (see [`inflate_into`]).
///
/// ```
/// use firehose_transform::formats::cloudwatch_logs::{decode, gzip, Error};
/// let bomb = gzip(&vec![b' '; 10_000_000]); // 10 MB of spaces: about 10 kB of gzip
/// assert!(matches!(decode(&bomb, 1 << 20), Err(Error::TooLarge { limit: 1048576, .. })));
/// let cut = &bomb[..bomb.len() / 2];
/// assert!(matches!(decode(cut, 1 << 30), Err(Error::TruncatedGzip { .. })));
/// assert_eq!(&*decode(b"{}", 10).unwrap(), b"{}");
/// ```
pub fn decode(data: &[u8], limit: usize) -> Result<Cow<'_, [u8]>, Error> {
    if !is_gzip(data) {
        return Ok(Cow::Borrowed(data));
    }
    let mut out = Vec::new();
    inflate_into(data, limit, &mut out)?;
    Ok(Cow::Owned(out))
}

/// Inflates the gzip stream `data` into `out` (appending), at most `limit`
/// bytes; see [`decode`].
///
/// A record of one gzip member, as CloudWatch Logs writes them, is
/// inflated by libdeflate in one call ([`inflate_member`]); any other
/// stream, and every error, by zlib-rs, member by member, streamed into
/// `out` (it reads the gzip header and checks the CRC-32 and length of the
/// trailer itself, with its SIMD paths: 1.4 times as fast as the streamed
/// `MultiGzDecoder`, which copies the input through a buffer and the output
/// through `Read`).
pub fn inflate_into(data: &[u8], limit: usize, out: &mut Vec<u8>) -> Result<(), Error> {
    let start = out.len();
    if inflate_member(data, limit, out) {
        return Ok(());
    }
    out.truncate(start);
    let result = inflate_members(data, limit, start, out);
    if result.is_err() {
        out.truncate(start);
    }
    result
}

/// ISIZE, the last four bytes of a gzip stream: the last member's length
/// modulo 2^32. A hint only: a hostile stream may lie.
fn trailer_length(data: &[u8]) -> Option<usize> {
    let length = data.last_chunk::<4>()?;
    Some(u32::from_le_bytes(*length) as usize)
}

/// Inflates `data`, when it is a single gzip member whose trailer's length
/// is within `limit`, in one call of libdeflate, appending to `out`:
/// `false` for anything else (`out` is then to be cut back). libdeflate
/// inflates a whole buffer at once,
/// without zlib's window and streaming state: 1.5 times as fast as zlib-rs
/// on CloudWatch Logs records (`cargo bench --bench cloudwatch_logs --
/// gzip`). What it does not do the same way goes to zlib-rs: several
/// members (or bytes after one), a header CRC (which libdeflate skips
/// rather than checks), a trailer whose length lies, and damaged or cut
/// data, which zlib-rs tells apart.
fn inflate_member(data: &[u8], limit: usize, out: &mut Vec<u8>) -> bool {
    /// FLG's FHCRC bit (RFC 1952): the header has a CRC-16.
    const HEADER_CRC: u8 = 0x02;
    let (Some(&flags), Some(length)) = (data.get(3), trailer_length(data)) else {
        return false;
    };
    if flags & HEADER_CRC != 0 || length > limit {
        return false;
    }
    let start = out.len();
    out.resize(start + length, 0);
    let output = &mut out[start..];
    let (mut consumed, mut produced) = (0usize, 0usize);
    // SAFETY: the only way to libdeflate's `_ex` call, which says how much
    // input a member took (libdeflater's safe `gzip_decompress` does not,
    // and ignores what follows the member). Each pointer and length comes
    // from a live slice or variable for the call's length, the output
    // writable; the decompressor is checked for null, used by this thread
    // only, and freed once, before any return; nothing here can unwind.
    let result = unsafe {
        let inflater = libdeflate_sys::libdeflate_alloc_decompressor();
        if inflater.is_null() {
            return false;
        }
        let result = libdeflate_sys::libdeflate_gzip_decompress_ex(
            inflater,
            data.as_ptr().cast(),
            data.len(),
            output.as_mut_ptr().cast(),
            output.len(),
            &mut consumed,
            &mut produced,
        );
        libdeflate_sys::libdeflate_free_decompressor(inflater);
        result
    };
    // libdeflate checked the trailer: the CRC-32, and the length against
    // what it wrote (at most `length`).
    let whole =
        result == libdeflate_sys::libdeflate_result_LIBDEFLATE_SUCCESS && consumed == data.len();
    out.truncate(start + produced);
    whole
}

fn inflate_members(
    data: &[u8],
    limit: usize,
    start: usize,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    use flate2::{Decompress, FlushDecompress, Status};
    // At most this much output is ever held: one byte past the limit tells
    // "too large" from "exactly the limit".
    let ceiling = limit.saturating_add(1);
    // The trailer's length sizes the buffer, capped by the limit.
    let hint = trailer_length(data).unwrap_or(0);
    out.reserve(hint.max(256).min(ceiling) + 1);
    let mut input = data;
    loop {
        // Each member is a whole gzip stream (RFC 1952 allows several).
        let mut inflater = Decompress::new_gzip(15);
        loop {
            let produced = out.len() - start;
            if produced >= ceiling {
                return Err(Error::TooLarge {
                    limit,
                    compressed: data.len(),
                });
            }
            if out.len() == out.capacity() {
                // Double, but never past the ceiling.
                let more = produced.max(4096).min(ceiling - produced);
                out.reserve_exact(more);
            }
            // The capacity never passes the ceiling by more than the
            // allocator's rounding, so neither does the output.
            let (in_before, out_before) = (inflater.total_in(), out.len());
            let status = inflater.decompress_vec(input, out, FlushDecompress::None);
            let consumed = (inflater.total_in() - in_before) as usize;
            input = &input[consumed..];
            match status {
                Ok(Status::StreamEnd) => break,
                Ok(_) => {
                    let progressed = consumed > 0 || out.len() > out_before;
                    if input.is_empty() && out.len() < out.capacity() {
                        return Err(Error::TruncatedGzip {
                            compressed: data.len(),
                        });
                    }
                    if !progressed && out.len() < out.capacity() {
                        return Err(Error::CorruptGzip(
                            "the inflater made no progress".to_string(),
                        ));
                    }
                }
                Err(error) => return Err(Error::CorruptGzip(error.to_string())),
            }
        }
        if out.len() - start > limit {
            return Err(Error::TooLarge {
                limit,
                compressed: data.len(),
            });
        }
        if input.is_empty() {
            return Ok(());
        }
        if !is_gzip(input) {
            return Err(Error::CorruptGzip(format!(
                "{} bytes after the end of the gzip data are not another gzip member",
                input.len()
            )));
        }
    }
}

/// Compresses `data` as one gzip member (default level), as CloudWatch Logs
/// does.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 4 + 64),
        flate2::Compression::default(),
    );
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

/// `messageType`: log data, or the health check CloudWatch Logs sends when
/// a subscription is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    /// `DATA_MESSAGE`: log events.
    Data,
    /// `CONTROL_MESSAGE`: a reachability check, no log data.
    Control,
}

impl MessageType {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Data => "DATA_MESSAGE",
            MessageType::Control => "CONTROL_MESSAGE",
        }
    }
}

impl<'de> Deserialize<'de> for MessageType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <Cow<'de, str>>::deserialize(deserializer)?;
        match &*name {
            "DATA_MESSAGE" => Ok(MessageType::Data),
            "CONTROL_MESSAGE" => Ok(MessageType::Control),
            other => Err(serde::de::Error::custom(format_args!(
                "unknown messageType {other:?} (expected DATA_MESSAGE or CONTROL_MESSAGE)"
            ))),
        }
    }
}

/// The envelope of one subscription record. Strings borrow from the bytes
/// parsed unless they hold escapes. Fields CloudWatch Logs adds later
/// (`policyLevel` for account-level subscriptions, say) are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope<'a> {
    /// Data or control.
    pub message_type: MessageType,
    /// The AWS account id of the log group (`CloudwatchLogs` in control
    /// messages).
    #[serde(borrow)]
    pub owner: Cow<'a, str>,
    /// The log group, as `/aws/lambda/checkout`.
    #[serde(borrow)]
    pub log_group: Cow<'a, str>,
    /// The log stream.
    #[serde(borrow)]
    pub log_stream: Cow<'a, str>,
    /// The subscription filters that matched.
    #[serde(borrow, default)]
    pub subscription_filters: Vec<Cow<'a, str>>,
    /// The log events, in order.
    #[serde(borrow)]
    pub log_events: Vec<LogEvent<'a>>,
}

/// One log event.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LogEvent<'a> {
    /// The event's id: a 56-digit number as a string, unique in the log group.
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// When it happened, milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// The log line as the application wrote it.
    #[serde(borrow)]
    pub message: Cow<'a, str>,
}

/// An envelope's own fields, and how many log events it holds: what
/// [`write_messages`] returns, the events' messages being written out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header<'a> {
    /// Data or control.
    pub message_type: MessageType,
    /// The AWS account id of the log group.
    pub owner: Cow<'a, str>,
    /// The log group.
    pub log_group: Cow<'a, str>,
    /// The log stream.
    pub log_stream: Cow<'a, str>,
    /// How many log events the envelope holds.
    pub log_events: usize,
}

impl LogEvent<'_> {
    /// The timestamp as RFC 3339 in UTC, milliseconds shown when not zero:
    /// `2015-08-24T19:03:07.001Z`.
    pub fn rfc3339(&self) -> String {
        let mut text = String::with_capacity(24);
        DateTime::from_unix_millis(self.timestamp).write_rfc3339(&mut text);
        text
    }

    /// Writes the event's own members (`id`, `timestamp` as RFC 3339,
    /// `message`) into an object.
    pub fn write_members(&self, obj: &mut ObjectWriter<'_>, scratch: &mut String) {
        scratch.clear();
        DateTime::from_unix_millis(self.timestamp).write_rfc3339(scratch);
        obj.str("id", &self.id);
        obj.str("timestamp", scratch);
        obj.str("message", &self.message);
    }
}

impl<'a> Envelope<'a> {
    /// Parses the envelope JSON.
    ///
    /// ```
    /// use firehose_transform::formats::cloudwatch_logs::Envelope;
    /// let error = Envelope::parse(br#"{"messageType":"DATA_MESSAGE","owner":"1"}"#).unwrap_err();
    /// assert_eq!(error.to_string(), "not a CloudWatch Logs envelope: missing field `logGroup` at line 1 column 42");
    /// ```
    pub fn parse(bytes: &'a [u8]) -> Result<Envelope<'a>, Error> {
        serde_json::from_slice(bytes).map_err(|e| Error::NotEnvelope(e.to_string()))
    }

    /// Its own fields and the count of its events.
    pub fn header(&self) -> Header<'_> {
        Header {
            message_type: self.message_type,
            owner: Cow::Borrowed(&self.owner),
            log_group: Cow::Borrowed(&self.log_group),
            log_stream: Cow::Borrowed(&self.log_stream),
            log_events: self.log_events.len(),
        }
    }

    /// Writes the envelope's members shared by every event (`logGroup`,
    /// `logStream`, `owner`) into an object.
    pub fn write_members(&self, obj: &mut ObjectWriter<'_>) {
        obj.str("logGroup", &self.log_group);
        obj.str("logStream", &self.log_stream);
        obj.str("owner", &self.owner);
    }

    /// The envelope as JSON, with only `events` (a subset of its own, or
    /// any others) as its `logEvents`.
    pub fn to_json_with(&self, events: &[LogEvent<'_>]) -> Vec<u8> {
        let size: usize = events.iter().map(|e| e.message.len() + 100).sum();
        let mut out = Vec::with_capacity(size + 256);
        let mut obj = ObjectWriter::new(&mut out);
        obj.str("messageType", self.message_type.as_str());
        obj.str("owner", &self.owner);
        obj.str("logGroup", &self.log_group);
        obj.str("logStream", &self.log_stream);
        let filters = obj.key("subscriptionFilters");
        filters.push(b'[');
        for (i, filter) in self.subscription_filters.iter().enumerate() {
            if i > 0 {
                filters.push(b',');
            }
            super::json::write_str(filters, filter);
        }
        filters.push(b']');
        let list = obj.key("logEvents");
        list.push(b'[');
        for (i, event) in events.iter().enumerate() {
            if i > 0 {
                list.push(b',');
            }
            let mut item = ObjectWriter::new(list);
            item.str("id", &event.id);
            item.i64("timestamp", event.timestamp);
            item.str("message", &event.message);
            item.finish();
        }
        list.push(b']');
        obj.finish();
        out
    }
}

/// A new subscription record holding `events` under `envelope`'s group,
/// stream, owner and filters: gzip-compressed JSON, as CloudWatch Logs
/// writes it. This is how a record whose output is too large for one
/// response is split by its events and sent again.
///
/// ```
/// use firehose_transform::formats::cloudwatch_logs::{decode, encode, Envelope};
/// let json = br#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],
///   "logEvents":[{"id":"1","timestamp":1,"message":"a"},{"id":"2","timestamp":2,"message":"b\"c"}]}"#;
/// let envelope = Envelope::parse(json).unwrap();
/// let (first, second) = envelope.log_events.split_at(1);
/// let record = encode(&envelope, second);
/// let bytes = decode(&record, 1 << 20).unwrap();
/// let half = Envelope::parse(&bytes).unwrap();
/// assert_eq!((half.log_group.as_ref(), half.log_events.len()), ("g", 1));
/// assert_eq!(half.log_events[0].message, "b\"c");
/// assert_eq!(first[0].message, "a");
/// ```
pub fn encode(envelope: &Envelope<'_>, events: &[LogEvent<'_>]) -> Vec<u8> {
    gzip(&envelope.to_json_with(events))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"messageType":"DATA_MESSAGE","owner":"123456789123","logGroup":"testLogGroup","logStream":"testLogStream","subscriptionFilters":["testFilter"],"logEvents":[{"id":"eventId1","timestamp":1440442987000,"message":"[ERROR] First test message"},{"id":"eventId2","timestamp":1440442987001,"message":"[ERROR] Second test message"}],"policyLevel":"ACCOUNT_LEVEL_POLICY"}"#;

    #[test]
    fn gzip_and_plain_envelopes_decode_alike_and_unknown_fields_are_ignored() {
        let compressed = gzip(SAMPLE.as_bytes());
        let inflated = decode(&compressed, 1 << 20).unwrap();
        assert!(matches!(inflated, Cow::Owned(_)));
        let plain = decode(SAMPLE.as_bytes(), 1 << 20).unwrap();
        assert!(matches!(plain, Cow::Borrowed(_)));
        assert_eq!(Envelope::parse(&inflated), Envelope::parse(&plain));
        let envelope = Envelope::parse(&plain).unwrap();
        assert_eq!(envelope.log_events.len(), 2);
        assert_eq!(envelope.log_events[1].rfc3339(), "2015-08-24T19:03:07.001Z");
        assert!(matches!(envelope.log_group, Cow::Borrowed(_)));
    }

    #[test]
    fn concatenated_gzip_members_are_one_stream() {
        let mut two = gzip(&SAMPLE.as_bytes()[..50]);
        two.extend(gzip(&SAMPLE.as_bytes()[50..]));
        assert_eq!(&*decode(&two, 1 << 20).unwrap(), SAMPLE.as_bytes());
    }

    #[test]
    fn damaged_streams_say_how() {
        let mut compressed = gzip(SAMPLE.as_bytes());
        let crc_at = compressed.len() - 8;
        compressed[crc_at] ^= 0xff;
        let error = decode(&compressed, 1 << 20).unwrap_err();
        assert!(matches!(error, Error::CorruptGzip(_)), "{error:?}");
        let mut compressed = gzip(SAMPLE.as_bytes());
        compressed[12] ^= 0x55;
        let error = decode(&compressed, 1 << 20).unwrap_err();
        assert!(
            matches!(error, Error::CorruptGzip(_) | Error::TruncatedGzip { .. }),
            "{error:?}"
        );
        let compressed = gzip(SAMPLE.as_bytes());
        for cut in [3, 10, compressed.len() / 2, compressed.len() - 1] {
            let error = decode(&compressed[..cut], 1 << 20).unwrap_err();
            assert!(
                matches!(error, Error::TruncatedGzip { .. } | Error::CorruptGzip(_)),
                "cut {cut}: {error:?}"
            );
        }
        // A wrong length in the trailer, and bytes after the last member.
        let mut compressed = gzip(SAMPLE.as_bytes());
        let isize_at = compressed.len() - 4;
        compressed[isize_at] ^= 0x01;
        let error = decode(&compressed, 1 << 20).unwrap_err();
        assert!(matches!(error, Error::CorruptGzip(_)), "{error:?}");
        let mut compressed = gzip(SAMPLE.as_bytes());
        compressed.extend_from_slice(b"junk");
        let error = decode(&compressed, 1 << 20).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("4 bytes after the end of the gzip data"),
            "{error}"
        );
        // A large output grows its buffer past the trailer's (lying) hint.
        let big = vec![b'x'; 3 << 20];
        let mut compressed = gzip(&big);
        let isize_at = compressed.len() - 4;
        compressed[isize_at..].copy_from_slice(&16u32.to_le_bytes());
        let error = decode(&compressed, 8 << 20).unwrap_err();
        assert!(matches!(error, Error::CorruptGzip(_)), "{error:?}");
        assert_eq!(decode(&gzip(&big), 8 << 20).unwrap().len(), big.len());
    }

    #[test]
    fn every_gzip_form_inflates_as_zlib_rs_inflates_it() {
        let member = gzip(SAMPLE.as_bytes());
        let streamed = |data: &[u8], limit: usize| {
            let mut out = b"kept".to_vec();
            inflate_members(data, limit, 4, &mut out).map(|()| out)
        };
        let through_decode = |data: &[u8], limit: usize| {
            let mut out = b"kept".to_vec();
            inflate_into(data, limit, &mut out).map(|()| out)
        };
        let one_call = |data: &[u8], limit: usize| {
            let mut out = b"kept".to_vec();
            inflate_member(data, limit, &mut out).then_some(out)
        };
        // A header with a name, a comment and an extra field.
        let mut named = flate2::GzBuilder::new()
            .filename("cwl.json")
            .comment("c")
            .extra(vec![1, 2, 3])
            .write(Vec::new(), flate2::Compression::best());
        named.write_all(SAMPLE.as_bytes()).unwrap();
        let named = named.finish().unwrap();
        for data in [&member, &named, &gzip(b"")] {
            let expected = streamed(data, 1 << 20).unwrap();
            assert_eq!(one_call(data, 1 << 20).as_ref(), Some(&expected));
            assert_eq!(through_decode(data, 1 << 20).unwrap(), expected);
        }
        // Two members alike: the one call would stop after the first.
        let twice = [member.clone(), member.clone()].concat();
        assert_eq!(one_call(&twice, 1 << 20), None);
        assert_eq!(
            through_decode(&twice, 1 << 20).unwrap(),
            [b"kept", SAMPLE.as_bytes(), SAMPLE.as_bytes()].concat()
        );
        // A member, then its own trailer again: not another member.
        let mut repeated = member.clone();
        repeated.extend_from_slice(&member[member.len() - 8..]);
        assert_eq!(one_call(&repeated, 1 << 20), None);
        assert!(matches!(
            through_decode(&repeated, 1 << 20),
            Err(Error::CorruptGzip(_))
        ));
        // A header CRC, which libdeflate would skip: a wrong one fails.
        let mut checked = member[..10].to_vec();
        checked[3] |= 0x02;
        let crc = {
            let mut crc = flate2::Crc::new();
            crc.update(&checked);
            crc.sum()
        };
        for header_crc in [crc as u16, !crc as u16] {
            let mut data = checked.clone();
            data.extend_from_slice(&header_crc.to_le_bytes());
            data.extend_from_slice(&member[10..]);
            assert_eq!(one_call(&data, 1 << 20), None);
            let expected = streamed(&data, 1 << 20);
            assert_eq!(expected.is_ok(), header_crc == crc as u16, "{expected:?}");
            assert_eq!(through_decode(&data, 1 << 20), expected);
        }
        // At the limit exactly, and one byte under it.
        assert!(one_call(&member, SAMPLE.len()).is_some());
        assert_eq!(one_call(&member, SAMPLE.len() - 1), None);
    }

    #[test]
    fn the_limit_is_exact() {
        let compressed = gzip(SAMPLE.as_bytes());
        assert!(decode(&compressed, SAMPLE.len()).is_ok());
        assert_eq!(
            decode(&compressed, SAMPLE.len() - 1).unwrap_err(),
            Error::TooLarge {
                limit: SAMPLE.len() - 1,
                compressed: compressed.len()
            }
        );
    }

    #[test]
    fn envelopes_missing_fields_or_of_unknown_type_are_refused() {
        let error = Envelope::parse(br#"{"messageType":"HEARTBEAT","owner":"1","logGroup":"g","logStream":"s","logEvents":[]}"#)
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("unknown messageType \"HEARTBEAT\""),
            "{error}"
        );
        let error = Envelope::parse(br#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[{"id":"1","message":"x"}]}"#)
            .unwrap_err();
        assert!(
            error.to_string().contains("missing field `timestamp`"),
            "{error}"
        );
        assert!(Envelope::parse(b"[1,2]").is_err());
    }

    #[test]
    fn encode_round_trips_escapes_and_filters() {
        let envelope = Envelope::parse(SAMPLE.as_bytes()).unwrap();
        let record = encode(&envelope, &envelope.log_events);
        let bytes = decode(&record, 1 << 20).unwrap();
        let again = Envelope::parse(&bytes).unwrap();
        assert_eq!(again, envelope);
    }
}
