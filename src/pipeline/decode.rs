//! Record decoders: the step before the input format, turning a record's
//! bytes into the payloads it carries.
//!
//! ```text
//! record bytes ─▶ unwrap (gzip, …) ─▶ payloads (0..n, each with fields of its own)
//!              ─▶ input format parses each payload ─▶ documents
//! ```
//!
//! Without a decoder a record is its own payload (split into lines or JSON
//! values by the input format's framing). With [`CloudWatchLogs`], a record
//! is a CloudWatch Logs subscription envelope: each log event's message is
//! a payload, and the envelope's fields (log group, stream, owner, event id
//! and time) go into each document under one member, so filters, partition
//! keys and writers see them like any other field.
//!
//! ```
//! use firehose_transform::doc::Path;
//! use firehose_transform::formats::cloudwatch_logs::gzip;
//! use firehose_transform::pipeline::{decode::CloudWatchLogs, PartitionKeys, Pipeline};
//!
//! let pipeline = Pipeline::json()
//!     .decoder(CloudWatchLogs::new(1 << 20), Path::parse(".cloudwatch").unwrap())
//!     .keys(PartitionKeys::new("{group: .cloudwatch.logGroup}").unwrap());
//! let record = gzip(br#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"app","logStream":"s",
//!   "logEvents":[{"id":"7","timestamp":0,"message":"{\"level\":\"INFO\"}"}]}"#);
//! let processed = firehose_transform::testing::run(&pipeline, [record]);
//! assert_eq!(processed.text(0), "{\"level\":\"INFO\",\"cloudwatch\":{\"logGroup\":\"app\",\"logStream\":\"s\",\"owner\":\"1\",\"id\":\"7\",\"timestamp\":\"1970-01-01T00:00:00Z\"}}\n");
//! assert_eq!(processed.partition_keys(0), &[("group".to_string(), "app".to_string())]);
//! ```

use std::borrow::Cow;
use std::fmt;

use crate::config::{ConfigError, Settings};
use crate::doc::Value;
use crate::formats::cloudwatch_logs::{self, Envelope, Error, Header, LogEvent, MessageType};
use crate::transform::{Context, Failure};

/// Reason: the gzip data is damaged.
pub const CORRUPT_GZIP: &str = "record is not valid gzip";
/// Reason: the gzip data ends early.
pub const TRUNCATED_GZIP: &str = "gzip data is truncated";
/// Reason: the record inflates past the limit (the response budget). An
/// [over-budget](Failure::over_budget) failure: under re-ingestion the
/// record is split by its log events and written back.
pub const INFLATES_TOO_LARGE: &str = "record inflates past the response budget";
/// Variable: how far a CloudWatch Logs record may inflate when
/// re-ingestion splits it (it must be inflated whole to be split), in
/// bytes; 64 MiB by default.
pub const REINGEST_INFLATE_LIMIT: &str = "REINGEST_INFLATE_LIMIT_BYTES";
/// The default of [`REINGEST_INFLATE_LIMIT`]: a 1,000 KiB record (the
/// largest Firehose takes) compressed 64 to 1, which typical log text is
/// not; inflating that much needs a function of at least 256 MB.
pub const DEFAULT_REINGEST_INFLATE_LIMIT: usize = 64 << 20;
/// Reason: the record is not a CloudWatch Logs subscription envelope.
pub const NOT_ENVELOPE: &str = "record is not a CloudWatch Logs envelope";
/// Counter: control messages dropped.
pub const CONTROL_MESSAGES: &str = "cloudwatch_logs.control_messages";
/// Counter: data messages without log events, dropped.
pub const EMPTY_MESSAGES: &str = "cloudwatch_logs.empty_messages";
/// Counter: log events read.
pub const LOG_EVENTS: &str = "cloudwatch_logs.log_events";

/// One payload of a record, with what the decoder knows about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload<'b> {
    /// The text the input format parses.
    pub text: Cow<'b, str>,
    /// Fields the decoder adds to the document (in order).
    pub fields: Vec<(&'static str, Value<'b>)>,
    /// When the payload was written, ms since the epoch (a better reference
    /// than the record's arrival for formats that infer a year).
    pub time_ms: Option<i64>,
}

/// Turns a record's bytes into payloads.
pub trait RecordDecoder: Send + Sync + fmt::Debug {
    /// The name `RECORD_DECODER` gives it.
    fn name(&self) -> &str;

    /// Undoes the record's encoding (decompression): borrowed when there is
    /// nothing to undo. An error fails the record.
    fn unwrap<'a>(&self, data: &'a [u8]) -> Result<Cow<'a, [u8]>, Failure>;

    /// The payloads of the unwrapped bytes. `Ok(None)` drops the record
    /// (it carries no data, as a CloudWatch Logs control message).
    fn payloads<'b>(
        &self,
        bytes: &'b [u8],
        cx: &mut Context,
    ) -> Result<Option<Vec<Payload<'b>>>, Failure>;

    /// Under re-ingestion, for a record whose output alone is larger than
    /// the response budget: the records to write back in its place (see
    /// [`Transform::split_oversized`](crate::Transform::split_oversized)), or `None` when it cannot be split
    /// (the default).
    fn split(&self, data: &[u8]) -> Option<Vec<Vec<u8>>> {
        let _ = data;
        None
    }
}

/// CloudWatch Logs subscription records, gzip-compressed or plain (as
/// Firehose's own decompression leaves them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloudWatchLogs {
    limit: usize,
    split_limit: usize,
}

impl CloudWatchLogs {
    /// A decoder that refuses to inflate a record past `limit` bytes (the
    /// response budget: no response could hold more), and past
    /// [`DEFAULT_REINGEST_INFLATE_LIMIT`] to [split](RecordDecoder::split) one.
    pub fn new(limit: usize) -> Self {
        CloudWatchLogs {
            limit,
            split_limit: DEFAULT_REINGEST_INFLATE_LIMIT.max(limit),
        }
    }

    /// The decoder of the settings: the limit is the response budget
    /// (`FIREHOSE_RESPONSE_BUDGET_BYTES`), the split limit
    /// [`REINGEST_INFLATE_LIMIT`].
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        let budget = crate::engine::EngineConfig::from_settings(settings)?.response_budget;
        let split_limit = match settings.get(REINGEST_INFLATE_LIMIT) {
            None => DEFAULT_REINGEST_INFLATE_LIMIT,
            Some(text) => text.trim().parse::<usize>().map_err(|e| {
                ConfigError::new(
                    REINGEST_INFLATE_LIMIT,
                    format!("{text:?} is not a number of bytes: {e}"),
                )
            })?,
        };
        Ok(CloudWatchLogs::new(budget).split_limit(split_limit))
    }

    /// Sets how far a record may inflate to be split (never less than the
    /// limit).
    pub fn split_limit(self, bytes: usize) -> Self {
        CloudWatchLogs {
            split_limit: bytes.max(self.limit),
            ..self
        }
    }

    /// The limit in inflated bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Parses the unwrapped bytes as an envelope; `Ok(None)` for a control
    /// message or a data message without events (counted).
    pub fn envelope<'b>(
        &self,
        bytes: &'b [u8],
        cx: &mut Context,
    ) -> Result<Option<Envelope<'b>>, Failure> {
        let envelope = Envelope::parse(bytes).map_err(failure)?;
        Ok(carries_events(&envelope.header(), cx).then_some(envelope))
    }

    /// Reads the unwrapped bytes as an envelope, appending each event's
    /// message and `\n` to `out` ([`cloudwatch_logs::write_messages`]);
    /// `Ok(None)` for a control message or a data message without events
    /// (counted; what was written is then to be ignored).
    pub fn messages<'b>(
        &self,
        bytes: &'b [u8],
        out: &mut Vec<u8>,
        cx: &mut Context,
    ) -> Result<Option<Header<'b>>, Failure> {
        let header = cloudwatch_logs::write_messages(bytes, out).map_err(failure)?;
        Ok(carries_events(&header, cx).then_some(header))
    }
}

/// Whether an envelope has log events to write: not for a control message
/// or a data message without events, which are counted; the events of the
/// others are.
fn carries_events(header: &Header<'_>, cx: &mut Context) -> bool {
    if header.message_type == MessageType::Control {
        cx.count(CONTROL_MESSAGES);
        return false;
    }
    if header.log_events == 0 {
        cx.count(EMPTY_MESSAGES);
        return false;
    }
    cx.add(LOG_EVENTS, header.log_events as u64);
    true
}

/// A record failure for a decoding error.
pub fn failure(error: Error) -> Failure {
    let reason = match &error {
        Error::CorruptGzip(_) => CORRUPT_GZIP,
        Error::TruncatedGzip { .. } => TRUNCATED_GZIP,
        Error::TooLarge { .. } => INFLATES_TOO_LARGE,
        Error::NotEnvelope(_) => NOT_ENVELOPE,
    };
    let failure = match error {
        Error::TooLarge { .. } => Failure::over_budget(reason),
        _ => Failure::new(reason),
    };
    let detail = match error {
        Error::NotEnvelope(why) => why,
        other => other.to_string(),
    };
    failure.with_detail(detail)
}

/// Appends to `parts` the records `part` makes of `events`: one
/// record when they fit in `target` inflated bytes (or are a single event),
/// otherwise the halves of `events`, each split again as needed. In order.
fn halve(
    events: &[LogEvent<'_>],
    target: usize,
    part: &dyn Fn(&[LogEvent<'_>]) -> Vec<u8>,
    parts: &mut Vec<Vec<u8>>,
) {
    // What the events take in the envelope JSON, escapes aside.
    let size: usize = events
        .iter()
        .map(|e| e.message.len() + e.id.len() + EVENT_OVERHEAD)
        .sum();
    if size <= target || events.len() < 2 {
        parts.push(part(events));
        return;
    }
    let (first, second) = events.split_at(events.len() / 2);
    halve(first, target, part, parts);
    halve(second, target, part, parts);
}

/// An event's JSON beside its id and message: `{"id":"","timestamp":…,"message":""},`.
const EVENT_OVERHEAD: usize = 64;

impl RecordDecoder for CloudWatchLogs {
    fn name(&self) -> &str {
        "cloudwatch-logs"
    }

    fn unwrap<'a>(&self, data: &'a [u8]) -> Result<Cow<'a, [u8]>, Failure> {
        cloudwatch_logs::decode(data, self.limit).map_err(failure)
    }

    /// Splits a data message in halves of its log events (in order), under
    /// the same envelope, gzip-compressed when the record was, plain JSON
    /// when Firehose had already decompressed it; a half still larger than
    /// half the response budget is halved again, so that each part fits a
    /// later batch. The record is inflated up to the split limit
    /// ([`REINGEST_INFLATE_LIMIT`]) for this: one that inflates past it, a
    /// control message, or a message of one event cannot be split (`None`).
    ///
    /// ```
    /// use firehose_transform::formats::cloudwatch_logs::{decode, gzip, Envelope};
    /// use firehose_transform::pipeline::decode::{CloudWatchLogs, RecordDecoder};
    ///
    /// let events: Vec<String> = (0..8)
    ///     .map(|i| format!(r#"{{"id":"{i}","timestamp":{i},"message":"{}"}}"#, "m".repeat(900)))
    ///     .collect();
    /// let json = format!(r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":[{}]}}"#, events.join(","));
    /// // About 7.8 kB inflated, past this 4,000-byte budget: halved, then halved
    /// // again, so that each part holds at most 2,000 bytes of events.
    /// let decoder = CloudWatchLogs::new(4_000);
    /// let parts = decoder.split(&gzip(json.as_bytes())).unwrap();
    /// let sizes: Vec<usize> = parts
    ///     .iter()
    ///     .map(|part| Envelope::parse(&decode(part, 1 << 20).unwrap()).unwrap().log_events.len())
    ///     .collect();
    /// assert_eq!(sizes, [2, 2, 2, 2]);
    /// assert_eq!(CloudWatchLogs::new(4_000).split_limit(4_000).split(&gzip(json.as_bytes())), None);
    /// ```
    fn split(&self, data: &[u8]) -> Option<Vec<Vec<u8>>> {
        let bytes = cloudwatch_logs::decode(data, self.split_limit).ok()?;
        let envelope = Envelope::parse(&bytes).ok()?;
        if envelope.message_type != MessageType::Data || envelope.log_events.len() < 2 {
            return None;
        }
        let compressed = cloudwatch_logs::is_gzip(data);
        let part = |events: &[LogEvent<'_>]| {
            if compressed {
                cloudwatch_logs::encode(&envelope, events)
            } else {
                envelope.to_json_with(events)
            }
        };
        // Always at least the two halves: this record did not fit.
        let (first, second) = envelope.log_events.split_at(envelope.log_events.len() / 2);
        let target = self.limit / 2;
        let mut parts = Vec::new();
        halve(first, target, &part, &mut parts);
        halve(second, target, &part, &mut parts);
        Some(parts)
    }

    /// One payload per log event, with `logGroup`, `logStream`, `owner`,
    /// `id` and `timestamp` (RFC 3339) as its fields.
    fn payloads<'b>(
        &self,
        bytes: &'b [u8],
        cx: &mut Context,
    ) -> Result<Option<Vec<Payload<'b>>>, Failure> {
        let Some(envelope) = self.envelope(bytes, cx)? else {
            return Ok(None);
        };
        let payloads = envelope
            .log_events
            .into_iter()
            .map(|event| {
                let timestamp =
                    crate::formats::timestamp::DateTime::from_unix_millis(event.timestamp)
                        .to_rfc3339();
                Payload {
                    fields: vec![
                        ("logGroup", Value::Str(envelope.log_group.clone())),
                        ("logStream", Value::Str(envelope.log_stream.clone())),
                        ("owner", Value::Str(envelope.owner.clone())),
                        ("id", Value::Str(event.id)),
                        ("timestamp", Value::Str(Cow::Owned(timestamp))),
                    ],
                    text: event.message,
                    time_ms: Some(event.timestamp),
                }
            })
            .collect();
        Ok(Some(payloads))
    }
}

/// The names [`by_name`] knows.
pub const NAMES: &[&str] = &["none", "cloudwatch-logs"];

/// The decoder called `name` (`RECORD_DECODER`); `None` for `none`. The
/// CloudWatch Logs decoder's is [`CloudWatchLogs::from_settings`].
pub fn by_name(
    name: &str,
    settings: &Settings,
) -> Result<Option<Box<dyn RecordDecoder>>, ConfigError> {
    match name.trim().to_ascii_lowercase().as_str() {
        "" | "none" => Ok(None),
        "cloudwatch-logs" | "cloudwatch_logs" | "cwl" => {
            Ok(Some(Box::new(CloudWatchLogs::from_settings(settings)?)))
        }
        other => Err(ConfigError::new(
            "RECORD_DECODER",
            format!(
                "{other:?} is not a known record decoder (known: {})",
                NAMES.join(", ")
            ),
        )),
    }
}
