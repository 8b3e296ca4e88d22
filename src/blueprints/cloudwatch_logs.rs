//! `cloudwatch-logs-processor`: CloudWatch Logs subscription records to
//! their log events, a drop-in for the AWS blueprint
//! `kinesis-firehose-cloudwatch-logs-processor`.
//!
//! Each record is a subscription envelope, gzip-compressed (found by its
//! magic bytes) or plain (as Firehose's own decompression leaves it). A
//! `CONTROL_MESSAGE` is `Dropped`; a `DATA_MESSAGE` becomes one output line
//! per log event, all under the record's id.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `MESSAGE_FORMAT` | `raw` | `raw`: each event's `message` and `\n`, as the AWS blueprint writes; `envelope`: one JSON object per event with `logGroup`, `logStream`, `owner`, `id`, `timestamp` (RFC 3339) and `message`; or an input format of the pipeline (`json`, `apache`, `syslog`, …, see [`input::NAMES`]): each message parsed, written as a JSON object of its fields with the envelope's under `ENVELOPE_FIELD` |
//! | `ENVELOPE_FIELD` | `cloudwatch` | with a parsed format: the member (name or path) the envelope fields go under |
//! | `BAD_LINE` | `fail` | with a parsed format: a message that does not parse fails the record (`fail`) or is dropped and counted (`drop`, counter `pipeline.bad_lines_dropped`) |
//! | `PARTITION_KEYS` | unset | partition keys from the envelope: a list of `logGroup`, `logStream`, `owner`, each as is or renamed (`group=logGroup,account=owner`) |
//! | `REINGEST_INFLATE_LIMIT_BYTES` | 64 MiB | under re-ingestion (`REINGEST`, `aws` builds), how far a record that does not fit may inflate to be split by its log events |
//!
//! A record fails alone (`ProcessingFailed`, Firehose keeps its original
//! bytes) when its gzip data is corrupt ([`CORRUPT_GZIP`](crate::pipeline::decode::CORRUPT_GZIP)) or cut
//! short ([`TRUNCATED_GZIP`](crate::pipeline::decode::TRUNCATED_GZIP)), when it inflates past the response
//! budget ([`INFLATES_TOO_LARGE`](crate::pipeline::decode::INFLATES_TOO_LARGE): inflating stops there, so a
//! decompression bomb costs at most that much memory), or when it is not the
//! documented envelope ([`NOT_ENVELOPE`](crate::pipeline::decode::NOT_ENVELOPE), with serde's line and
//! column). Fields CloudWatch Logs adds to the envelope later are ignored.
//!
//! ```
//! use firehose_transform::blueprints::cloudwatch_logs::CloudWatchLogsProcessor;
//! use firehose_transform::formats::cloudwatch_logs::gzip;
//! use firehose_transform::{config::Settings, testing};
//!
//! let data = br#"{"messageType":"DATA_MESSAGE","owner":"123456789123","logGroup":"testLogGroup","logStream":"testLogStream","subscriptionFilters":["testFilter"],"logEvents":[{"id":"eventId1","timestamp":1440442987000,"message":"[ERROR] First test message"},{"id":"eventId2","timestamp":1440442987001,"message":"[ERROR] Second test message"}]}"#;
//! let control = br#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1440442987000,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}"#;
//!
//! let raw = CloudWatchLogsProcessor::from_settings(&Settings::from_pairs([("PARTITION_KEYS", "group=logGroup")])).unwrap();
//! let cut = gzip(data)[..40].to_vec(); // the stream ends in its deflate data
//! let processed = testing::run(&raw, [gzip(data), gzip(control), cut]);
//! assert_eq!(processed.text(0), "[ERROR] First test message\n[ERROR] Second test message\n");
//! assert_eq!(processed.partition_keys(0), &[("group".to_string(), "testLogGroup".to_string())]);
//! assert!(processed.is_dropped(1));
//! assert_eq!(processed.failure_reason(2), Some("gzip data is truncated"));
//!
//! let envelope = CloudWatchLogsProcessor::from_settings(&Settings::from_pairs([("MESSAGE_FORMAT", "envelope")])).unwrap();
//! let processed = testing::run(&envelope, [data]); // plain JSON works too
//! assert!(processed.text(0).starts_with(r#"{"logGroup":"testLogGroup","logStream":"testLogStream","owner":"123456789123","id":"eventId1","timestamp":"2015-08-24T19:03:07Z","message":"[ERROR] First test message"}"#));
//! ```

use crate::config::{ConfigError, Settings};
use crate::doc::{Path, Value};
use crate::formats::cloudwatch_logs::{Envelope, Header};
use crate::formats::json::ObjectWriter;
use crate::pipeline::decode::{CloudWatchLogs, RecordDecoder};
use crate::pipeline::{input, BadLine, Docs, JsonLines, KeyStage, Pipeline};
use crate::response::Metadata;
use crate::transform::{Context, Failure, Output, Record, Transform};

/// The variables, by name.
pub mod vars {
    /// `raw`, `envelope` or an input format.
    pub const MESSAGE_FORMAT: &str = "MESSAGE_FORMAT";
    /// Where the envelope fields go with a parsed format.
    pub const ENVELOPE_FIELD: &str = "ENVELOPE_FIELD";
    /// The envelope fields to partition by.
    pub const PARTITION_KEYS: &str = "PARTITION_KEYS";
}

/// The variables `cloudwatch-logs-processor` reads (beside the engine's).
pub const VARIABLES: &[&str] = &[
    vars::MESSAGE_FORMAT,
    vars::ENVELOPE_FIELD,
    vars::PARTITION_KEYS,
    crate::pipeline::decode::REINGEST_INFLATE_LIMIT,
    crate::pipeline::input::VPC_FLOW_FIELDS,
    crate::pipeline::input::CLOUDFRONT_FIELDS,
    crate::blueprints::BAD_LINE,
];

/// A field of the envelope that can be a partition key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvelopeField {
    /// `logGroup`.
    LogGroup,
    /// `logStream`.
    LogStream,
    /// `owner`, the account id.
    Owner,
}

impl EnvelopeField {
    /// Its name in the envelope.
    pub fn name(self) -> &'static str {
        match self {
            EnvelopeField::LogGroup => "logGroup",
            EnvelopeField::LogStream => "logStream",
            EnvelopeField::Owner => "owner",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [Self::LogGroup, Self::LogStream, Self::Owner]
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }

    fn value<'e>(self, header: &'e Header<'_>) -> &'e str {
        match self {
            EnvelopeField::LogGroup => &header.log_group,
            EnvelopeField::LogStream => &header.log_stream,
            EnvelopeField::Owner => &header.owner,
        }
    }
}

/// Partition keys from envelope fields (`PARTITION_KEYS`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvelopeKeys {
    keys: Vec<(String, EnvelopeField)>,
    /// Where the fields are in a parsed document.
    at: Option<Path>,
}

impl EnvelopeKeys {
    /// Reads `logGroup,logStream,owner` or `key=field,…`.
    ///
    /// ```
    /// use firehose_transform::blueprints::cloudwatch_logs::EnvelopeKeys;
    /// assert!(EnvelopeKeys::parse("group=logGroup, owner").is_ok());
    /// assert_eq!(EnvelopeKeys::parse("region").unwrap_err(), "\"region\" is not an envelope field (logGroup, logStream or owner)");
    /// ```
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut keys = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (key, field) = match entry.split_once('=') {
                Some((key, field)) => (key.trim(), field.trim()),
                None => (entry, entry),
            };
            let field = EnvelopeField::from_name(field).ok_or_else(|| {
                format!("{field:?} is not an envelope field (logGroup, logStream or owner)")
            })?;
            if key.is_empty() {
                return Err(format!("{entry:?} has an empty key name"));
            }
            keys.push((key.to_string(), field));
        }
        Ok(EnvelopeKeys { keys, at: None })
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn set(&self, header: &Header<'_>, out: &mut Output) {
        for (key, field) in &self.keys {
            out.partition_key(key.as_str(), field.value(header));
        }
    }
}

/// Reason: a key stage found no envelope field in a document.
pub const NO_ENVELOPE_FIELD: &str = "document lacks the envelope field";

impl KeyStage for EnvelopeKeys {
    fn keys(&self, doc: &Value<'_>, metadata: &mut Metadata) -> Result<(), Failure> {
        let at = self.at.clone().unwrap_or_else(Path::root);
        for (key, field) in &self.keys {
            let path = at.child(field.name());
            let value = doc
                .get(&path)
                .and_then(|v| v.as_str().map(str::to_string))
                .ok_or_else(|| Failure::new(NO_ENVELOPE_FIELD).with_detail(&path))?;
            metadata.set_partition_key(key.clone(), value);
        }
        Ok(())
    }
}

/// How each log event is written.
#[derive(Debug)]
pub enum MessageFormat {
    /// The message and `\n`.
    Raw,
    /// A JSON object of the envelope fields and the message.
    Envelope,
    /// The message parsed by an input format, through a pipeline with the
    /// CloudWatch Logs decoder.
    Parsed(Box<Pipeline>),
}

/// The `cloudwatch-logs-processor` transform.
#[derive(Debug)]
pub struct CloudWatchLogsProcessor {
    decoder: CloudWatchLogs,
    format: MessageFormat,
    keys: EnvelopeKeys,
}

/// A record on its way through the processor.
#[derive(Debug)]
pub enum Item<'a> {
    /// A control message, or a data message without events.
    Nothing,
    /// Raw or envelope output, written while the envelope was at hand.
    Rendered {
        /// The output.
        data: Vec<u8>,
        /// The partition keys.
        keys: Output,
    },
    /// Parsed documents.
    Parsed(Docs<'a>),
}

impl CloudWatchLogsProcessor {
    /// A processor writing `format`, refusing to inflate records past
    /// `limit` bytes.
    pub fn new(format: MessageFormat, limit: usize) -> Self {
        CloudWatchLogsProcessor {
            decoder: CloudWatchLogs::new(limit),
            format,
            keys: EnvelopeKeys::default(),
        }
    }

    /// Reads the settings (see the [module documentation](self)).
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        let decoder = CloudWatchLogs::from_settings(settings)?;
        let keys = match settings.get(vars::PARTITION_KEYS) {
            Some(text) => {
                EnvelopeKeys::parse(&text).map_err(|e| ConfigError::new(vars::PARTITION_KEYS, e))?
            }
            None => EnvelopeKeys::default(),
        };
        let name = settings
            .get(vars::MESSAGE_FORMAT)
            .unwrap_or_else(|| "raw".to_string());
        let format = match name.trim().to_ascii_lowercase().as_str() {
            "raw" => MessageFormat::Raw,
            "envelope" => MessageFormat::Envelope,
            other => {
                let input = input::by_name(other, settings).map_err(|problem| {
                    ConfigError::new(vars::MESSAGE_FORMAT, format!("{problem}; or raw, envelope"))
                })?;
                let at = settings.get(vars::ENVELOPE_FIELD).unwrap_or_else(|| {
                    crate::blueprints::pipeline::DEFAULT_ENVELOPE_FIELD.to_string()
                });
                let at = crate::blueprints::pipeline::path_setting(vars::ENVELOPE_FIELD, &at)?;
                let mut pipeline = Pipeline::from_boxed(input)
                    .decoder(decoder, at.clone())
                    .bad_line(BadLine::from_settings(settings)?)
                    .write(JsonLines);
                if !keys.is_empty() {
                    pipeline = pipeline.keys(EnvelopeKeys {
                        at: Some(at),
                        ..keys.clone()
                    });
                }
                MessageFormat::Parsed(Box::new(pipeline))
            }
        };
        Ok(CloudWatchLogsProcessor {
            decoder,
            format,
            keys,
        })
    }

    /// Writes each event of a data message as a JSON object with the
    /// envelope's fields (`MESSAGE_FORMAT=envelope`).
    fn write_objects(envelope: &Envelope<'_>, data: &mut Vec<u8>) {
        let mut scratch = String::with_capacity(32);
        for event in &envelope.log_events {
            let mut obj = ObjectWriter::new(data);
            envelope.write_members(&mut obj);
            event.write_members(&mut obj, &mut scratch);
            obj.finish();
            data.push(b'\n');
        }
    }
}

impl Transform for CloudWatchLogsProcessor {
    type Item<'a> = Item<'a>;

    fn parse<'a>(&self, record: &Record<'a>, cx: &mut Context) -> Result<Item<'a>, Failure> {
        if let MessageFormat::Parsed(pipeline) = &self.format {
            return pipeline.parse(record, cx).map(Item::Parsed);
        }
        let bytes = self.decoder.unwrap(record.data)?;
        let mut keys = Output::default();
        let data = if let MessageFormat::Envelope = self.format {
            let Some(envelope) = self.decoder.envelope(&bytes, cx)? else {
                return Ok(Item::Nothing);
            };
            let size: usize = envelope
                .log_events
                .iter()
                .map(|e| {
                    e.message.len() + 161 + envelope.log_group.len() + envelope.log_stream.len()
                })
                .sum();
            let mut data = Vec::with_capacity(size);
            Self::write_objects(&envelope, &mut data);
            self.keys.set(&envelope.header(), &mut keys);
            data
        } else {
            // The messages, unescaped, are shorter than the envelope that
            // quotes them: this never grows.
            let mut data = Vec::with_capacity(bytes.len());
            let Some(header) = self.decoder.messages(&bytes, &mut data, cx)? else {
                return Ok(Item::Nothing);
            };
            self.keys.set(&header, &mut keys);
            data
        };
        Ok(Item::Rendered { data, keys })
    }

    fn filter(&self, item: &Item<'_>, cx: &mut Context) -> bool {
        match (item, &self.format) {
            (Item::Nothing, _) => false,
            (Item::Parsed(docs), MessageFormat::Parsed(pipeline)) => {
                Transform::filter(&**pipeline, docs, cx)
            }
            _ => true,
        }
    }

    fn enrich(&self, item: &mut Item<'_>, cx: &mut Context) -> Result<(), Failure> {
        match (item, &self.format) {
            (Item::Parsed(docs), MessageFormat::Parsed(pipeline)) => pipeline.enrich(docs, cx),
            _ => Ok(()),
        }
    }

    /// Under re-ingestion, a data message whose output alone exceeds the
    /// response budget, or that inflates past it, becomes records each
    /// with a half of its log events (in order) under the same envelope,
    /// gzip-compressed when the record was, plain JSON when Firehose had
    /// already decompressed it; a half still larger than half the budget
    /// is halved again ([`CloudWatchLogs::split`](crate::pipeline::decode::CloudWatchLogs), the same split as the
    /// pipeline's `RECORD_DECODER=cloudwatch-logs`). Each part comes back
    /// in a later batch as a record of its own. A message of one event, or
    /// one inflating past `REINGEST_INFLATE_LIMIT_BYTES`, cannot be split:
    /// `None` fails it.
    ///
    /// ```
    /// use firehose_transform::blueprints::cloudwatch_logs::CloudWatchLogsProcessor;
    /// use firehose_transform::formats::cloudwatch_logs::{decode, gzip, Envelope};
    /// use firehose_transform::{config::Settings, Record, SourceMetadata, Transform};
    ///
    /// let json = br#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],
    ///   "logEvents":[{"id":"1","timestamp":1,"message":"a"},{"id":"2","timestamp":2,"message":"b"},{"id":"3","timestamp":3,"message":"c"}]}"#;
    /// let processor = CloudWatchLogsProcessor::from_settings(&Settings::from_pairs([("X", "1")])).unwrap();
    /// let data = gzip(json);
    /// let record = Record { id: "r", data: &data, approximate_arrival_timestamp: None, source: SourceMetadata::DirectPut };
    /// let halves = processor.split_oversized(&record).unwrap();
    /// let events = |part: &[u8]| {
    ///     let bytes = decode(part, 1 << 20).unwrap();
    ///     let envelope = Envelope::parse(&bytes).unwrap();
    ///     envelope.log_events.iter().map(|e| e.message.to_string()).collect::<Vec<_>>()
    /// };
    /// assert_eq!((events(&halves[0]), events(&halves[1])), (vec!["a".to_string()], vec!["b".to_string(), "c".to_string()]));
    /// ```
    fn split_oversized(&self, record: &Record<'_>) -> Option<Vec<Vec<u8>>> {
        self.decoder.split(record.data)
    }

    fn convert(&self, item: Item<'_>, out: &mut Output, cx: &mut Context) -> Result<(), Failure> {
        match (item, &self.format) {
            (Item::Parsed(docs), MessageFormat::Parsed(pipeline)) => {
                pipeline.convert(docs, out, cx)
            }
            (Item::Rendered { mut data, keys }, _) => {
                // The output moves into place rather than being copied.
                if out.data().is_empty() {
                    std::mem::swap(out.buffer(), &mut data);
                } else {
                    out.write(&data);
                }
                for (key, value) in keys.partition_keys() {
                    out.partition_key(key.as_str(), value.as_str());
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::cloudwatch_logs::{gzip, is_gzip};
    use crate::testing;

    fn envelope(events: &[&str]) -> Vec<u8> {
        let events: Vec<String> = events
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let mut message = Vec::new();
                crate::formats::json::write_str(&mut message, m);
                format!(
                    r#"{{"id":"{i}","timestamp":1796198400{i:03},"message":{}}}"#,
                    String::from_utf8(message).unwrap()
                )
            })
            .collect();
        format!(
            r#"{{"messageType":"DATA_MESSAGE","owner":"111111111111","logGroup":"/aws/lambda/app","logStream":"2026/12/02/[$LATEST]abc","subscriptionFilters":["f"],"logEvents":[{}]}}"#,
            events.join(",")
        )
        .into_bytes()
    }

    fn processor(pairs: &[(&str, &str)]) -> CloudWatchLogsProcessor {
        CloudWatchLogsProcessor::from_settings(&Settings::from_pairs(pairs.iter().copied()))
            .unwrap()
    }

    #[test]
    fn parsed_messages_carry_the_envelope_fields_and_bad_ones_follow_the_policy() {
        let record = gzip(&envelope(&[
            r#"{"level":"INFO","n":1}"#,
            "START RequestId: 42",
            r#"{"level":"WARN"}"#,
        ]));
        let fail = processor(&[("MESSAGE_FORMAT", "json"), ("PARTITION_KEYS", "owner")]);
        let processed = testing::run(&fail, [&record]);
        let failure = processed.failure(0).unwrap();
        assert_eq!(failure.reason(), input::NOT_JSON);
        assert!(
            failure.detail().unwrap().starts_with("log event 2: "),
            "{failure}"
        );

        let drop = processor(&[
            ("MESSAGE_FORMAT", "json"),
            ("BAD_LINE", "drop"),
            ("PARTITION_KEYS", "account=owner"),
            ("ENVELOPE_FIELD", "cwl"),
        ]);
        let processed = testing::run(&drop, [&record]);
        let lines: Vec<serde_json::Value> = processed
            .text(0)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["n"], 1);
        assert_eq!(lines[1]["cwl"]["logGroup"], "/aws/lambda/app");
        assert_eq!(lines[1]["cwl"]["id"], "2");
        assert_eq!(lines[1]["cwl"]["timestamp"], "2026-12-02T08:00:00.002Z");
        assert_eq!(
            processed.partition_keys(0),
            &[("account".to_string(), "111111111111".to_string())]
        );
        assert_eq!(
            processed.summary().counters[crate::pipeline::BAD_LINES_DROPPED],
            1
        );
    }

    #[test]
    fn a_record_whose_every_event_is_dropped_is_dropped() {
        let record = gzip(&envelope(&["not json", "nor this"]));
        let processed = testing::run(
            &processor(&[("MESSAGE_FORMAT", "json"), ("BAD_LINE", "drop")]),
            [record],
        );
        assert!(processed.is_dropped(0));
    }

    #[test]
    fn syslog_messages_take_their_year_from_the_event_time() {
        let record = envelope(&["<34>Jan  1 00:00:05 host su: hello"]);
        let processed = testing::run(&processor(&[("MESSAGE_FORMAT", "syslog")]), [record]);
        let value: serde_json::Value = serde_json::from_str(processed.text(0).trim_end()).unwrap();
        // Logged on 2 December 2026: a 1 January line is from 2026, not the year of the arrival.
        assert_eq!(value["timestamp"], "2026-01-01T00:00:05Z");
        assert_eq!(value["cloudwatch"]["owner"], "111111111111");
    }

    #[test]
    fn an_oversized_message_splits_into_halves_of_its_events_and_one_event_does_not() {
        let messages: Vec<String> = (0..5)
            .map(|i| format!(r#"{{"n":{i},"m":"{}"}}"#, "m".repeat(1000)))
            .collect();
        let refs: Vec<&str> = messages.iter().map(String::as_str).collect();
        let json = envelope(&refs);
        let split = |p: &CloudWatchLogsProcessor, data: &[u8]| {
            p.split_oversized(&Record {
                id: "r",
                data,
                approximate_arrival_timestamp: None,
                source: crate::SourceMetadata::DirectPut,
            })
        };
        for format in ["raw", "envelope", "json"] {
            let p = processor(&[
                ("MESSAGE_FORMAT", format),
                ("BAD_LINE", "drop"),
                ("PARTITION_KEYS", "logGroup"),
            ]);
            for data in [gzip(&json), json.clone()] {
                let parts = split(&p, &data).unwrap();
                assert_eq!(parts.len(), 2);
                // Compressed stays compressed, plain stays plain.
                assert_eq!(
                    parts.iter().map(|d| is_gzip(d)).collect::<Vec<_>>(),
                    [is_gzip(&data); 2]
                );
                // The halves render exactly what the whole would, in order.
                let whole = testing::run(&p, [&data]);
                let halves = testing::run(&p, [&parts[0], &parts[1]]);
                assert_eq!(
                    format!("{}{}", halves.text(0), halves.text(1)),
                    whole.text(0),
                    "{format}"
                );
                assert_eq!(halves.text(0).lines().count(), 2);
                assert_eq!(halves.partition_keys(1), whole.partition_keys(0));
            }
        }
        let p = processor(&[]);
        assert_eq!(split(&p, &gzip(&envelope(&["alone"]))), None);
        let control = br#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"a"},{"id":"","timestamp":2,"message":"b"}]}"#;
        assert_eq!(split(&p, control), None);
        assert_eq!(split(&p, b"\x1f\x8b\x08 cut"), None);
    }

    #[test]
    fn a_bomb_stops_at_the_budget_and_fails_alone() {
        let mut json = envelope(&["x"]);
        json.extend(std::iter::repeat_n(b' ', 8 << 20));
        let bomb = gzip(&json);
        assert!(bomb.len() < 64 << 10);
        let processed = testing::run(&processor(&[]), [bomb, gzip(&envelope(&["fine"]))]);
        assert_eq!(
            processed.failure_reason(0),
            Some(crate::pipeline::decode::INFLATES_TOO_LARGE)
        );
        assert_eq!(processed.text(1), "fine\n");
    }

    #[test]
    fn bad_settings_name_the_variable() {
        let error = |pairs: &[(&str, &str)]| {
            CloudWatchLogsProcessor::from_settings(&Settings::from_pairs(pairs.iter().copied()))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            error(&[("MESSAGE_FORMAT", "xml")]),
            format!(
                "MESSAGE_FORMAT: \"xml\" is not a known format (known: {}); or raw, envelope",
                input::NAMES.join(", ")
            )
        );
        assert_eq!(
            error(&[("PARTITION_KEYS", "group=region")]),
            "PARTITION_KEYS: \"region\" is not an envelope field (logGroup, logStream or owner)"
        );
        assert_eq!(
            error(&[("MESSAGE_FORMAT", "json"), ("BAD_LINE", "skip")]),
            "BAD_LINE: \"skip\" is not a policy (fail or drop)"
        );
    }
}
