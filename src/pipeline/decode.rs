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
use crate::formats::cloudwatch_logs::{self, Envelope, Error, MessageType};
use crate::transform::{Context, Failure};

/// Reason: the gzip data is damaged.
pub const CORRUPT_GZIP: &str = "record is not valid gzip";
/// Reason: the gzip data ends early.
pub const TRUNCATED_GZIP: &str = "gzip data is truncated";
/// Reason: the record inflates past the limit (the response budget).
pub const INFLATES_TOO_LARGE: &str = "record inflates past the response budget";
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
}

/// CloudWatch Logs subscription records, gzip-compressed or plain (as
/// Firehose's own decompression leaves them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloudWatchLogs {
    limit: usize,
}

impl CloudWatchLogs {
    /// A decoder that refuses to inflate a record past `limit` bytes (the
    /// response budget: no response could hold more).
    pub fn new(limit: usize) -> Self {
        CloudWatchLogs { limit }
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
        if envelope.message_type == MessageType::Control {
            cx.count(CONTROL_MESSAGES);
            return Ok(None);
        }
        if envelope.log_events.is_empty() {
            cx.count(EMPTY_MESSAGES);
            return Ok(None);
        }
        cx.add(LOG_EVENTS, envelope.log_events.len() as u64);
        Ok(Some(envelope))
    }
}

/// A record failure for a decoding error.
pub fn failure(error: Error) -> Failure {
    let reason = match &error {
        Error::CorruptGzip(_) => CORRUPT_GZIP,
        Error::TruncatedGzip { .. } => TRUNCATED_GZIP,
        Error::TooLarge { .. } => INFLATES_TOO_LARGE,
        Error::NotEnvelope(_) => NOT_ENVELOPE,
    };
    let detail = match error {
        Error::NotEnvelope(why) => why,
        other => other.to_string(),
    };
    Failure::new(reason).with_detail(detail)
}

impl RecordDecoder for CloudWatchLogs {
    fn name(&self) -> &str {
        "cloudwatch-logs"
    }

    fn unwrap<'a>(&self, data: &'a [u8]) -> Result<Cow<'a, [u8]>, Failure> {
        cloudwatch_logs::decode(data, self.limit).map_err(failure)
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
/// CloudWatch Logs decoder's limit is the response budget
/// (`FIREHOSE_RESPONSE_BUDGET_BYTES`).
pub fn by_name(
    name: &str,
    settings: &Settings,
) -> Result<Option<Box<dyn RecordDecoder>>, ConfigError> {
    match name.trim().to_ascii_lowercase().as_str() {
        "" | "none" => Ok(None),
        "cloudwatch-logs" | "cloudwatch_logs" | "cwl" => {
            let budget = crate::engine::EngineConfig::from_settings(settings)?.response_budget;
            Ok(Some(Box::new(CloudWatchLogs::new(budget))))
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
