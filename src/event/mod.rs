//! The wire format in: the event Firehose sends a transformation function.
//!
//! One type covers the three sources. Direct PUT records carry `data`; records
//! from a Kinesis data stream add `kinesisRecordMetadata`; records from Amazon
//! MSK carry `kafkaRecordValue` in place of `data`, and `mskRecordMetadata`.
//! Unknown fields are ignored, so fields Firehose adds later do not break parsing.
//!
//! Parsing borrows: [`Event::from_slice`] keeps the record ids and the base64
//! text as slices of the input wherever the JSON has no escapes, so a 6 MB event
//! is not copied. Events of the shape Firehose sends take a fast path; serde
//! reads the rest, and says where an error is. `Event<'static>` (with owned strings) is what the testing kit
//! builds.
//!
//! ```
//! use firehose_transform::{Event, SourceKind};
//!
//! let event = Event::from_slice(br#"{
//!     "invocationId": "inv-1",
//!     "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/logs",
//!     "region": "us-east-1",
//!     "records": [{"recordId": "r1", "approximateArrivalTimestamp": 1495072949453, "data": "aGVsbG8="}]
//! }"#).unwrap();
//! assert_eq!(event.source_kind(), SourceKind::DirectPut);
//! assert_eq!(event.records[0].payload(), Some("aGVsbG8="));
//! ```

mod fast;

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

/// A Firehose transformation event: one batch of records.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event<'a> {
    /// The invocation's id.
    #[serde(borrow = "\'a", default, deserialize_with = "nullable_cow")]
    pub invocation_id: Cow<'a, str>,
    /// The delivery stream's ARN.
    #[serde(borrow = "\'a", default, deserialize_with = "nullable_cow")]
    pub delivery_stream_arn: Cow<'a, str>,
    /// The delivery stream's region.
    #[serde(
        borrow = "'a",
        default,
        deserialize_with = "opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub region: Option<Cow<'a, str>>,
    /// Set when the source is a Kinesis data stream.
    #[serde(
        borrow = "'a",
        default,
        deserialize_with = "opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub source_kinesis_stream_arn: Option<Cow<'a, str>>,
    /// Set when the source is Amazon MSK.
    #[serde(
        rename = "sourceMSKArn",
        default,
        borrow = "'a",
        deserialize_with = "opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub source_msk_arn: Option<Cow<'a, str>>,
    /// The records, in the order Firehose sent them.
    #[serde(borrow)]
    pub records: Vec<EventRecord<'a>>,
}

/// One record of an [`Event`], as on the wire (data still base64).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRecord<'a> {
    /// The record's id: it must come back exactly once in the response.
    ///
    /// An id that is not a JSON string (a number, `null`, missing) makes the
    /// whole event unreadable ([`EventError`], the invocation fails and
    /// Firehose retries it): no response could echo such an id back as the
    /// string Firehose compares, so failing only that record would answer
    /// an id Firehose never sent and leave its own missing. Firehose always
    /// sends strings.
    #[serde(borrow)]
    pub record_id: Cow<'a, str>,
    /// When Firehose received the record, in milliseconds since the epoch.
    #[serde(
        default,
        deserialize_with = "millis",
        skip_serializing_if = "Option::is_none"
    )]
    pub approximate_arrival_timestamp: Option<i64>,
    /// The record's bytes, base64 (Direct PUT and Kinesis sources).
    #[serde(
        borrow = "'a",
        default,
        deserialize_with = "opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub data: Option<Cow<'a, str>>,
    /// The record's bytes, base64 (MSK source, in place of `data`).
    #[serde(
        borrow = "'a",
        default,
        deserialize_with = "opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub kafka_record_value: Option<Cow<'a, str>>,
    /// Kinesis data stream metadata.
    ///
    /// Boxed, as is the MSK metadata: most events carry neither, and inline
    /// they made every record 256 bytes instead of 104, so the records of a
    /// 6 MB event of small records took 16 MB, written and read three times
    /// per invocation (README, Performance).
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub kinesis_record_metadata: Option<Box<KinesisRecordMetadata<'a>>>,
    /// Amazon MSK metadata.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub msk_record_metadata: Option<Box<MskRecordMetadata<'a>>>,
}

/// Metadata of a record read from a Kinesis data stream.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KinesisRecordMetadata<'a> {
    /// The shard the record was read from.
    #[serde(borrow = "\'a", default, deserialize_with = "nullable_cow")]
    pub shard_id: Cow<'a, str>,
    /// The partition key the producer gave.
    #[serde(borrow = "\'a", default, deserialize_with = "nullable_cow")]
    pub partition_key: Cow<'a, str>,
    /// When the stream received the record, in milliseconds since the epoch.
    #[serde(
        default,
        deserialize_with = "millis",
        skip_serializing_if = "Option::is_none"
    )]
    pub approximate_arrival_timestamp: Option<i64>,
    /// The record's sequence number in its shard.
    #[serde(borrow = "\'a", default, deserialize_with = "nullable_cow")]
    pub sequence_number: Cow<'a, str>,
    /// Position inside a KPL-aggregated record. Real events send a number, some
    /// samples a string: both are accepted (a non-numeric string reads as absent).
    #[serde(
        default,
        deserialize_with = "number_or_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub subsequence_number: Option<u64>,
}

/// Metadata of a record read from Amazon MSK.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MskRecordMetadata<'a> {
    /// The record's offset in its partition (a string on the wire).
    #[serde(borrow = "'a", default, deserialize_with = "cow_or_number")]
    pub offset: Cow<'a, str>,
    /// The Kafka partition.
    #[serde(borrow = "'a", default, deserialize_with = "cow_or_number")]
    pub partition_id: Cow<'a, str>,
    /// When MSK received the record, in milliseconds since the epoch.
    #[serde(
        default,
        deserialize_with = "millis",
        skip_serializing_if = "Option::is_none"
    )]
    pub approximate_arrival_timestamp: Option<i64>,
}

/// Which source an event's records come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// Direct PUT (or any source without its own metadata).
    DirectPut,
    /// A Kinesis data stream.
    Kinesis,
    /// Amazon MSK: the response carries `kafkaRecordValue` instead of `data`.
    Msk,
}

/// A record's source metadata, as the transform sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SourceMetadata<'a> {
    /// Direct PUT: no metadata beyond the arrival time.
    DirectPut,
    /// Read from a Kinesis data stream.
    Kinesis(&'a KinesisRecordMetadata<'a>),
    /// Read from Amazon MSK.
    Msk(&'a MskRecordMetadata<'a>),
}

/// Why an event could not be read. The invocation fails with this message.
#[derive(Debug)]
pub struct EventError {
    message: String,
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed Firehose event: {}", self.message)
    }
}

impl std::error::Error for EventError {}

impl<'a> Event<'a> {
    /// Parses an event from JSON, borrowing strings from `json` where it can.
    ///
    /// ```
    /// let error = firehose_transform::Event::from_slice(br#"{"invocationId": "x"}"#).unwrap_err();
    /// assert_eq!(error.to_string(), "malformed Firehose event: missing field `records` at line 1 column 21");
    /// ```
    pub fn from_slice(json: &'a [u8]) -> Result<Event<'a>, EventError> {
        // The usual shape first, at a fraction of serde's cost; serde for
        // everything else (see `fast`).
        Self::parse_measured(json, 1).map(|(event, _)| event)
    }

    /// [`Event::from_slice`], and the sum of the ids' quoted lengths when the
    /// fast path read the event (see `fast::parse`), its records in `parts`
    /// parts at once.
    fn parse_measured(
        json: &'a [u8],
        parts: usize,
    ) -> Result<(Event<'a>, Option<usize>), EventError> {
        if let Some((event, quoted_ids)) = fast::parse(json, parts) {
            return Ok((event, Some(quoted_ids)));
        }
        serde_json::from_slice(json)
            .map(|event| (event, None))
            .map_err(|error| EventError {
                message: match error.classify() {
                    serde_json::error::Category::Eof | serde_json::error::Category::Syntax => {
                        format!("not valid JSON: {error}")
                    }
                    _ => error.to_string(),
                },
            })
    }

    /// The event's source, from the source ARN fields, or from the records when
    /// the ARNs are absent.
    pub fn source_kind(&self) -> SourceKind {
        if self.source_msk_arn.is_some() {
            SourceKind::Msk
        } else if self.source_kinesis_stream_arn.is_some() {
            SourceKind::Kinesis
        } else if self
            .records
            .iter()
            .any(|r| r.msk_record_metadata.is_some() || r.kafka_record_value.is_some())
        {
            SourceKind::Msk
        } else if self
            .records
            .iter()
            .any(|r| r.kinesis_record_metadata.is_some())
        {
            SourceKind::Kinesis
        } else {
            SourceKind::DirectPut
        }
    }

    /// Copies every borrowed string, detaching the event from its input.
    pub fn into_owned(self) -> Event<'static> {
        Event {
            invocation_id: owned(self.invocation_id),
            delivery_stream_arn: owned(self.delivery_stream_arn),
            region: self.region.map(owned),
            source_kinesis_stream_arn: self.source_kinesis_stream_arn.map(owned),
            source_msk_arn: self.source_msk_arn.map(owned),
            records: self
                .records
                .into_iter()
                .map(EventRecord::into_owned)
                .collect(),
        }
    }
}

/// An event, and what its parser measured on the way.
struct Measured<'a> {
    event: Event<'a>,
    quoted_ids: Option<usize>,
}

self_cell::self_cell!(
    /// An event and the bytes it borrows from, kept together.
    struct EventCell {
        owner: bytes::Bytes,
        #[covariant]
        dependent: Measured,
    }
);

/// An event that owns its JSON (or its strings), shared by reference
/// counting: what the engine hands to the threads that process the records.
///
/// The records still borrow from the JSON (no copy of a 6 MB event), and the
/// event stays alive as long as any thread uses it. So a thread still busy
/// with a record when the response must go (a record that hangs) can be left
/// behind safely: see [`Engine::process_shared`](crate::Engine::process_shared).
///
/// ```
/// use firehose_transform::SharedEvent;
///
/// // From the bytes of a request, without copying them:
/// let body = br#"{"records":[{"recordId":"r1","data":"aGk="}]}"#.to_vec();
/// let event = SharedEvent::parse(body)?;
/// assert_eq!(event.get().records[0].payload(), Some("aGk="));
///
/// // From an event built in code:
/// let built = firehose_transform::testing::EventBuilder::new().line("hi").build();
/// let event = SharedEvent::from(built);
/// assert_eq!(event.get().records.len(), 1);
/// # Ok::<(), firehose_transform::EventError>(())
/// ```
#[derive(Clone)]
pub struct SharedEvent(std::sync::Arc<EventCell>);

impl SharedEvent {
    /// Parses an event from JSON it takes ownership of (a `Vec<u8>`, a
    /// `bytes::Bytes` such as an HTTP body): the records borrow from it.
    pub fn parse(json: impl Into<bytes::Bytes>) -> Result<SharedEvent, EventError> {
        Self::parse_on_threads(json, 1)
    }

    /// [`SharedEvent::parse`], reading the records on up to `threads`
    /// threads (started for the call) when the event has the usual shape.
    /// The event is the same; only a large one is read sooner, since
    /// starting a thread costs about 50 µs:
    /// [`Engine::parse_event`](crate::Engine::parse_event) decides from the
    /// engine's settings.
    ///
    /// ```
    /// use firehose_transform::SharedEvent;
    ///
    /// let json = firehose_transform::testing::EventBuilder::new()
    ///     .lines((0..1000).map(|n| format!("line {n}")))
    ///     .to_json();
    /// let event = SharedEvent::parse_on_threads(json.clone(), 4)?;
    /// assert_eq!(event.get(), SharedEvent::parse(json)?.get());
    /// # Ok::<(), firehose_transform::EventError>(())
    /// ```
    pub fn parse_on_threads(
        json: impl Into<bytes::Bytes>,
        threads: usize,
    ) -> Result<SharedEvent, EventError> {
        EventCell::try_new(json.into(), |json| {
            Event::parse_measured(json, threads.max(1))
                .map(|(event, quoted_ids)| Measured { event, quoted_ids })
        })
        .map(|cell| SharedEvent(std::sync::Arc::new(cell)))
    }

    /// Copies a borrowed event (every string), for callers that only have
    /// a borrow.
    pub fn copy(event: &Event<'_>) -> SharedEvent {
        SharedEvent::from(event.clone().into_owned())
    }

    /// The event.
    pub fn get(&self) -> &Event<'_> {
        &self.0.borrow_dependent().event
    }

    /// The sum of the ids' lengths quoted as JSON, when parsing measured it.
    pub(crate) fn quoted_ids_len(&self) -> Option<usize> {
        self.0.borrow_dependent().quoted_ids
    }
}

impl From<Event<'static>> for SharedEvent {
    fn from(event: Event<'static>) -> Self {
        SharedEvent(std::sync::Arc::new(EventCell::new(
            bytes::Bytes::new(),
            |_| Measured {
                event,
                quoted_ids: None,
            },
        )))
    }
}

impl fmt::Debug for SharedEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

impl<'a> EventRecord<'a> {
    /// The record's base64 payload: `data`, or `kafkaRecordValue` for MSK.
    pub fn payload(&self) -> Option<&str> {
        self.data.as_deref().or(self.kafka_record_value.as_deref())
    }

    /// The record's source metadata.
    pub fn source(&self) -> SourceMetadata<'_> {
        match (&self.kinesis_record_metadata, &self.msk_record_metadata) {
            (Some(kinesis), _) => SourceMetadata::Kinesis(kinesis),
            (None, Some(msk)) => SourceMetadata::Msk(msk),
            (None, None) => SourceMetadata::DirectPut,
        }
    }

    /// Copies every borrowed string.
    pub fn into_owned(self) -> EventRecord<'static> {
        EventRecord {
            record_id: owned(self.record_id),
            approximate_arrival_timestamp: self.approximate_arrival_timestamp,
            data: self.data.map(owned),
            kafka_record_value: self.kafka_record_value.map(owned),
            kinesis_record_metadata: self.kinesis_record_metadata.map(|m| {
                Box::new(KinesisRecordMetadata {
                    shard_id: owned(m.shard_id),
                    partition_key: owned(m.partition_key),
                    approximate_arrival_timestamp: m.approximate_arrival_timestamp,
                    sequence_number: owned(m.sequence_number),
                    subsequence_number: m.subsequence_number,
                })
            }),
            msk_record_metadata: self.msk_record_metadata.map(|m| {
                Box::new(MskRecordMetadata {
                    offset: owned(m.offset),
                    partition_id: owned(m.partition_id),
                    approximate_arrival_timestamp: m.approximate_arrival_timestamp,
                })
            }),
        }
    }
}

fn owned(text: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(text.into_owned())
}

/// A string that stays borrowed when the JSON has no escapes in it. serde's
/// own `Option<Cow<str>>` always copies (serde-rs/serde#1497), which would copy
/// every record's base64 text.
pub(crate) struct CowStr<'a>(pub(crate) Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for CowStr<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CowVisitor;
        impl<'de> Visitor<'de> for CowVisitor {
            type Value = CowStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(CowVisitor)
    }
}

fn opt_cow<'de: 'a, 'a, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Cow<'a, str>>, D::Error> {
    Ok(Option::<CowStr<'a>>::deserialize(deserializer)?.map(|s| s.0))
}

/// A string, with `null` read as empty (serializers of optional fields write it).
fn nullable_cow<'de: 'a, 'a, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Cow<'a, str>, D::Error> {
    Ok(opt_cow(deserializer)?.unwrap_or_default())
}

/// A string, or a number kept as its decimal text.
fn cow_or_number<'de: 'a, 'a, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Cow<'a, str>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either<'a> {
        #[serde(borrow)]
        Text(CowStr<'a>),
        Number(serde_json::Number),
    }
    Ok(match Either::deserialize(deserializer)? {
        Either::Text(text) => text.0,
        Either::Number(number) => Cow::Owned(number.to_string()),
    })
}

/// Milliseconds since the epoch: a number (as Firehose sends), or a string
/// holding one (as `aws_lambda_events` serializes its timestamps).
fn millis<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    // A visitor rather than an untagged enum: this runs for every record, and
    // untagged enums buffer the value first.
    struct MillisVisitor;
    impl<'de> Visitor<'de> for MillisVisitor {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("milliseconds since the epoch, as a number or a string")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(i64::try_from(v).ok())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(v as i64))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(v.trim().parse().ok())
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(
            self,
            deserializer: D,
        ) -> Result<Self::Value, D::Error> {
            deserializer.deserialize_any(self)
        }
    }
    deserializer.deserialize_option(MillisVisitor)
}

/// A number, or a string holding one.
fn number_or_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either<'a> {
        Number(u64),
        #[serde(borrow)]
        Text(CowStr<'a>),
    }
    Ok(match Option::<Either>::deserialize(deserializer)? {
        Some(Either::Number(n)) => Some(n),
        Some(Either::Text(text)) => text.0.trim().parse().ok(),
        None => None,
    })
}

/// From `aws_lambda_events`' event type, for code that already holds one. It
/// has no MSK fields, so an MSK event should be parsed with
/// [`Event::from_slice`] instead.
///
/// ```
/// use aws_lambda_events::event::firehose::KinesisFirehoseEvent;
/// use firehose_transform::Event;
///
/// let json = r#"{"invocationId":"i","records":[{"recordId":"r","approximateArrivalTimestamp":1495072949453,"data":"aGk="}]}"#;
/// let theirs: KinesisFirehoseEvent = serde_json::from_str(json).unwrap();
/// let ours = Event::try_from(&theirs).unwrap();
/// assert_eq!(ours.records[0].payload(), Some("aGk="));
/// ```
impl TryFrom<&aws_lambda_events::event::firehose::KinesisFirehoseEvent> for Event<'static> {
    type Error = EventError;

    fn try_from(
        event: &aws_lambda_events::event::firehose::KinesisFirehoseEvent,
    ) -> Result<Self, EventError> {
        // Their timestamps are chrono values and their data decoded bytes; their
        // own serialization writes exactly the wire form this type reads.
        let json = serde_json::to_vec(event).map_err(|error| EventError {
            message: error.to_string(),
        })?;
        Event::from_slice(&json).map(Event::into_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_stays_small() {
        // Every record of an event lives in one vector, written once and read
        // by each pass of the engine: inline metadata made it 256 bytes.
        assert!(
            std::mem::size_of::<EventRecord<'_>>() <= 104,
            "EventRecord grew to {} bytes",
            std::mem::size_of::<EventRecord<'_>>()
        );
    }

    #[test]
    fn an_id_that_is_not_a_string_refuses_the_event_and_says_where() {
        for (json, found) in [
            (
                &br#"{"records":[{"recordId":"a","data":""},{"recordId":7,"data":""}]}"#[..],
                "integer `7`",
            ),
            (br#"{"records":[{"recordId":null,"data":""}]}"#, "null"),
        ] {
            let error = Event::from_slice(json).unwrap_err().to_string();
            assert!(
                error.contains(&format!(
                    "invalid type: {found}, expected a string at line 1 column"
                )),
                "{error}"
            );
        }
        let error = Event::from_slice(br#"{"records":[{"data":""}]}"#).unwrap_err();
        assert!(
            error.to_string().contains("missing field `recordId`"),
            "{error}"
        );
    }

    #[test]
    fn base64_and_ids_are_borrowed_when_unescaped() {
        let json = br#"{"records":[{"recordId":"a","data":"aGk="}]}"#;
        let event = Event::from_slice(json).unwrap();
        assert!(matches!(event.records[0].record_id, Cow::Borrowed(_)));
        assert!(matches!(event.records[0].data, Some(Cow::Borrowed(_))));
    }

    #[test]
    fn escaped_strings_are_unescaped() {
        let json = br#"{"records":[{"recordId":"a\"b","data":"a\/b="}]}"#;
        let event = Event::from_slice(json).unwrap();
        assert_eq!(event.records[0].record_id, "a\"b");
        assert_eq!(event.records[0].payload(), Some("a/b="));
    }

    #[test]
    fn kinesis_subsequence_number_may_be_a_number_or_a_string() {
        for value in ["0", "\"0\""] {
            let json = format!(
                r#"{{"sourceKinesisStreamArn":"arn:aws:kinesis:us-east-1:1:stream/s","records":[{{"recordId":"a","data":"","kinesisRecordMetadata":{{"shardId":"shardId-000000000000","partitionKey":"k","approximateArrivalTimestamp":1,"sequenceNumber":"4959","subsequenceNumber":{value}}}}}]}}"#
            );
            let event = Event::from_slice(json.as_bytes()).unwrap();
            assert_eq!(event.source_kind(), SourceKind::Kinesis);
            let meta = event.records[0].kinesis_record_metadata.as_ref().unwrap();
            assert_eq!(meta.subsequence_number, Some(0));
            assert_eq!(meta.shard_id, "shardId-000000000000");
        }
    }

    #[test]
    fn msk_records_carry_kafka_record_value() {
        let json = br#"{"sourceMSKArn":"arn:aws:kafka:us-east-1:1:cluster/c","records":[{"recordId":"a","kafkaRecordValue":"aGk=","mskRecordMetadata":{"offset":"7","partitionId":1,"approximateArrivalTimestamp":5}}]}"#;
        let event = Event::from_slice(json).unwrap();
        assert_eq!(event.source_kind(), SourceKind::Msk);
        assert_eq!(event.records[0].payload(), Some("aGk="));
        match event.records[0].source() {
            SourceMetadata::Msk(meta) => {
                assert_eq!(meta.offset, "7");
                assert_eq!(meta.partition_id, "1");
            }
            other => panic!("expected MSK metadata, got {other:?}"),
        }
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let json = br#"{"future":{"x":[1]},"records":[{"recordId":"a","data":"","icebergRouting":{"t":"x"}}]}"#;
        assert_eq!(Event::from_slice(json).unwrap().records.len(), 1);
    }

    #[test]
    fn malformed_events_say_what_is_wrong() {
        let not_json = Event::from_slice(b"hello").unwrap_err().to_string();
        assert!(
            not_json.starts_with(
                "malformed Firehose event: not valid JSON: expected value at line 1 column 1"
            ),
            "{not_json}"
        );
        let no_id = Event::from_slice(br#"{"records":[{"data":""}]}"#)
            .unwrap_err()
            .to_string();
        assert!(no_id.contains("missing field `recordId`"), "{no_id}");
    }

    #[test]
    fn owned_copy_round_trips_through_json() {
        let json = br#"{"invocationId":"i","deliveryStreamArn":"d","region":"eu-west-1","records":[{"recordId":"a","approximateArrivalTimestamp":3,"data":"aGk="}]}"#;
        let event = Event::from_slice(json).unwrap().into_owned();
        let again = serde_json::to_vec(&event).unwrap();
        assert_eq!(Event::from_slice(&again).unwrap(), event);
    }
}
