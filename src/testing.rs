//! A kit for testing transforms: build events, run them without Lambda,
//! check the contract, and assert on decoded outputs.
//!
//! ```
//! use firehose_transform::{testing, Context, Failure, Output, Record, Transform};
//!
//! struct Lengths;
//! impl Transform for Lengths {
//!     type Item<'a> = usize;
//!     fn parse<'a>(&self, record: &Record<'a>, _: &mut Context) -> Result<usize, Failure> {
//!         Ok(record.text()?.chars().count())
//!     }
//!     fn convert(&self, n: usize, out: &mut Output, _cx: &mut Context) -> Result<(), Failure> {
//!         out.partition_key("size", if n > 3 { "long" } else { "short" });
//!         out.write(format!("{n}\n").as_bytes());
//!         Ok(())
//!     }
//! }
//!
//! let event = testing::EventBuilder::new().line("héllo").record(b"\xff").build();
//! let processed = testing::run_event(&Lengths, &event); // also checks the contract
//! assert_eq!(processed.text(0), "5\n");
//! assert_eq!(processed.partition_keys(0), &[("size".to_string(), "long".to_string())]);
//! assert_eq!(processed.failure_reason(1), Some("data is not valid UTF-8"));
//! ```

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::Path;

use crate::codec;
use crate::engine::{process_event, Engine, EngineConfig, Invocation};
use crate::event::{
    Event, EventRecord, KinesisRecordMetadata, MskRecordMetadata, SharedEvent, SourceKind,
};
use crate::response::{OtfMetadata, OtfOperation, RecordResult, WireResponse};
use crate::telemetry::Summary;
use crate::transform::{Failure, Transform};

/// Builds an [`Event`] record by record.
///
/// ```
/// use firehose_transform::testing::EventBuilder;
/// use firehose_transform::{Event, SourceKind};
///
/// let event = EventBuilder::new()
///     .source(SourceKind::Kinesis) // before the records: they get its metadata
///     .arrival(1_764_633_600_000) // 2025-12-02T00:00:00Z, for the records after it
///     .lines(["GET /a 200", "GET /b 503"])
///     .record(b"\xff\xfe") // any bytes
///     .raw_record("not base64!") // a payload as is, to test bad input
///     .build();
/// assert_eq!(event.source_kind(), SourceKind::Kinesis);
/// assert_eq!(event.records.len(), 4);
/// assert_eq!(event.records[0].approximate_arrival_timestamp, Some(1_764_633_600_000));
///
/// // The same records as the JSON Firehose sends, for a fixture file or `--event`.
/// let json = EventBuilder::new().lines(["a", "b"]).to_json();
/// assert_eq!(Event::from_slice(&json).unwrap().records.len(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct EventBuilder {
    event: Event<'static>,
    source: SourceKind,
    arrival: i64,
}

impl Default for EventBuilder {
    fn default() -> Self {
        EventBuilder::new()
    }
}

impl EventBuilder {
    /// An empty Direct PUT event; records arrive at 2017-05-18T02:02:29.453Z
    /// unless [`arrival`](EventBuilder::arrival) says otherwise.
    pub fn new() -> Self {
        EventBuilder {
            event: Event {
                invocation_id: Cow::Borrowed("00540a87-5050-496a-84e4-e7d92bbaf5e2"),
                delivery_stream_arn: Cow::Borrowed(
                    "arn:aws:firehose:us-east-1:123456789012:deliverystream/test",
                ),
                region: Some(Cow::Borrowed("us-east-1")),
                ..Event::default()
            },
            source: SourceKind::DirectPut,
            arrival: 1_495_072_949_453,
        }
    }

    /// Makes the records come from a Kinesis data stream or MSK (with their
    /// metadata and, for MSK, `kafkaRecordValue`). Set it before adding records.
    pub fn source(mut self, source: SourceKind) -> Self {
        self.source = source;
        self.event.source_kinesis_stream_arn = (source == SourceKind::Kinesis).then_some(
            Cow::Borrowed("arn:aws:kinesis:us-east-1:123456789012:stream/test"),
        );
        self.event.source_msk_arn = (source == SourceKind::Msk).then_some(Cow::Borrowed(
            "arn:aws:kafka:us-east-1:123456789012:cluster/test/1",
        ));
        self
    }

    /// The arrival time (ms since the epoch) of the records added after this.
    pub fn arrival(mut self, unix_millis: i64) -> Self {
        self.arrival = unix_millis;
        self
    }

    /// Adds a record holding these bytes.
    pub fn record(self, data: impl AsRef<[u8]>) -> Self {
        let encoded = codec::encode(data.as_ref());
        self.raw_record(encoded)
    }

    /// Adds a record holding this line (same as [`record`](EventBuilder::record)).
    pub fn line(self, line: impl AsRef<[u8]>) -> Self {
        self.record(line)
    }

    /// Adds a record per line.
    pub fn lines<L: AsRef<[u8]>>(self, lines: impl IntoIterator<Item = L>) -> Self {
        lines.into_iter().fold(self, EventBuilder::line)
    }

    /// Adds a record whose payload is this text as is (for invalid base64).
    pub fn raw_record(mut self, payload: impl Into<String>) -> Self {
        let index = self.event.records.len();
        let payload = Some(Cow::Owned(payload.into()));
        let mut record = EventRecord {
            // Shaped like Firehose's: 56 digits, unique in the event.
            record_id: Cow::Owned(format!(
                "49546986683135544286507457936321625675700192471156{index:06}"
            )),
            approximate_arrival_timestamp: Some(self.arrival),
            ..EventRecord::default()
        };
        match self.source {
            SourceKind::Msk => {
                record.kafka_record_value = payload;
                record.msk_record_metadata = Some(Box::new(MskRecordMetadata {
                    offset: Cow::Owned(index.to_string()),
                    partition_id: Cow::Borrowed("0"),
                    approximate_arrival_timestamp: Some(self.arrival),
                }));
            }
            SourceKind::Kinesis => {
                record.data = payload;
                record.kinesis_record_metadata = Some(Box::new(KinesisRecordMetadata {
                    shard_id: Cow::Borrowed("shardId-000000000000"),
                    partition_key: Cow::Owned(format!("key-{index}")),
                    approximate_arrival_timestamp: Some(self.arrival),
                    sequence_number: Cow::Owned(format!("4959{index:052}")),
                    subsequence_number: Some(0),
                }));
            }
            SourceKind::DirectPut => record.data = payload,
        }
        self.event.records.push(record);
        self
    }

    /// Adds `records` over and over, in order, while the event's JSON stays
    /// within `max_bytes` (a full-size batch from a few lines, for
    /// benchmarks). Adds at least one record.
    ///
    /// ```
    /// use firehose_transform::testing::EventBuilder;
    /// let json = EventBuilder::new().fill_to(&["a", "bb"], 2_000).to_json();
    /// assert!(json.len() <= 2_000 && json.len() > 1_800, "{}", json.len());
    /// ```
    pub fn fill_to<R: AsRef<[u8]>>(mut self, records: &[R], max_bytes: usize) -> Self {
        // Each record costs its base64 plus the JSON around it; ids all have
        // the same length, so one record measures the framing.
        let framing = self.to_json().len();
        let per_record = self.clone().record(b"").to_json().len() - framing + 1;
        let mut estimate = framing;
        for (n, record) in records.iter().cycle().enumerate() {
            let record = record.as_ref();
            let cost = record.len().div_ceil(3) * 4 + per_record;
            if n > 0 && estimate + cost > max_bytes {
                break;
            }
            estimate += cost;
            self = self.record(record);
        }
        self
    }

    /// The event as Firehose sends it: JSON, on one line.
    ///
    /// ```
    /// use firehose_transform::testing::EventBuilder;
    /// use firehose_transform::Event;
    /// let json = EventBuilder::new().line("hello").to_json();
    /// let event = Event::from_slice(&json).unwrap();
    /// assert_eq!(event.records[0].data.as_deref(), Some("aGVsbG8="));
    /// ```
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(&self.event).expect("an event serializes")
    }

    /// The event.
    pub fn build(self) -> Event<'static> {
        self.event
    }
}

/// Every JSON value in `text` (one per line, pretty-printed, or simply one
/// after another), each as compact JSON text with its members in their
/// order: one record each, as a producer would send them. An error says
/// which value and where.
///
/// ```
/// use firehose_transform::testing::json_values;
/// let values = json_values("{\"device\": \"t1\",\n  \"celsius\": 20}\n[1, 2]").unwrap();
/// assert_eq!(values, [r#"{"device":"t1","celsius":20}"#, "[1,2]"]);
/// assert_eq!(json_values("{} {").unwrap_err(), "value 2: line 1 column 4: EOF while parsing an object");
/// ```
pub fn json_values(text: &str) -> Result<Vec<String>, String> {
    crate::doc::Value::parse_json_stream(text)
        .enumerate()
        .map(|(n, value)| {
            value
                .map(|(_, source)| compact_json(source))
                .map_err(|error| format!("value {}: {error}", n + 1))
        })
        .collect()
}

/// Valid JSON text without the whitespace between tokens.
fn compact_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_ascii_whitespace() {
            out.push(c);
        }
    }
    out
}

/// An event with one Direct PUT record per line.
pub fn event_from_lines<L: AsRef<[u8]>>(lines: impl IntoIterator<Item = L>) -> Event<'static> {
    EventBuilder::new().lines(lines).build()
}

/// Reads an event from a JSON fixture file.
///
/// The file is an event as Firehose sends it: one captured from a real
/// invocation, or one made by a function's `--make-event` (`cargo run --
/// --make-event --lines sample.log > fixtures/sample-event.json`).
///
/// ```
/// use firehose_transform::testing::{self, fixture_event};
/// use firehose_transform::blueprints::process_record::ProcessRecord;
/// use firehose_transform::SourceKind;
///
/// // In a crate of your own: concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/....json").
/// let event = fixture_event(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/events/kinesis.json"));
/// assert_eq!(event.source_kind(), SourceKind::Kinesis);
/// let processed = testing::run_event(&ProcessRecord::default(), &event);
/// assert_eq!(processed.len(), event.records.len());
/// assert!((0..processed.len()).all(|i| processed.is_ok(i)));
/// ```
///
/// # Panics
/// When the file cannot be read or is not an event (this is for tests), with
/// the path and what is wrong.
pub fn fixture_event(path: impl AsRef<Path>) -> Event<'static> {
    let path = path.as_ref();
    let json =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    Event::from_slice(&json)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_owned()
}

/// Runs `transform` over one record per line, checks the contract, and
/// returns the decoded outputs.
pub fn run<T: Transform, L: AsRef<[u8]>>(
    transform: &T,
    lines: impl IntoIterator<Item = L>,
) -> Processed {
    run_event(transform, &event_from_lines(lines))
}

/// Runs `transform` over an event with the default engine settings, checks
/// the contract, and returns the decoded outputs.
pub fn run_event<T: Transform>(transform: &T, event: &Event<'_>) -> Processed {
    run_event_with(transform, &EngineConfig::default(), event)
}

/// [`run_event`] with engine settings of your own (a smaller budget, say).
pub fn run_event_with<T: Transform>(
    transform: &T,
    config: &EngineConfig,
    event: &Event<'_>,
) -> Processed {
    let invocation = process_event(transform, config, event, None)
        .unwrap_or_else(|error| panic!("the event cannot be processed: {error}"));
    let processed = Processed::new(invocation);
    processed.assert_contract_within(event, config.response_budget);
    processed
}

/// Runs an event through `engine` as a function would: on the engine's own
/// threads, with its settings, answered by `deadline` (less the margin)
/// whatever the transform does; checks the contract and returns the decoded
/// outputs. [`run`] and [`run_event`] run the records on the test's own
/// thread instead (a borrowed transform), where a record that never returns
/// holds the test: this is how to test what happens then.
///
/// ```
/// use std::time::{Duration, Instant};
/// use firehose_transform::{testing, Context, Engine, EngineConfig, Failure, Output, Record, Transform};
///
/// /// A lookup that never answers for the key "stuck".
/// struct Lookup;
/// impl Transform for Lookup {
///     type Item<'a> = &'a [u8];
///     fn parse<'a>(&self, record: &Record<'a>, _: &mut Context) -> Result<&'a [u8], Failure> {
///         if record.data == b"stuck" {
///             loop {
///                 std::thread::sleep(Duration::from_secs(3600));
///             }
///         }
///         Ok(record.data)
///     }
///     fn convert(&self, data: &[u8], out: &mut Output, _: &mut Context) -> Result<(), Failure> {
///         out.write(data);
///         Ok(())
///     }
/// }
///
/// let config = EngineConfig { deadline_margin: Duration::from_millis(100), ..EngineConfig::default() };
/// let engine = Engine::with_config(Lookup, config);
/// let event = testing::event_from_lines(["a", "stuck", "b"]);
/// let deadline = Instant::now() + Duration::from_millis(500);
/// let processed = testing::run_engine(&engine, &event, Some(deadline));
/// assert!(Instant::now() < deadline);
/// assert_eq!(processed.text(0), "a");
/// assert_eq!(processed.failure_reason(1), Some("invocation deadline reached before processing"));
/// assert!(processed.left_running());
/// ```
pub fn run_engine<T: Transform>(
    engine: &Engine<T>,
    event: &Event<'_>,
    deadline: Option<std::time::Instant>,
) -> Processed {
    let shared = SharedEvent::copy(event);
    let invocation = engine
        .process_shared(&shared, deadline)
        .unwrap_or_else(|error| panic!("the event cannot be processed: {error}"));
    let processed = Processed::new(invocation);
    processed.assert_contract_within(event, engine.config().response_budget);
    processed
}

/// One output record, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessedRecord {
    /// The record's id.
    pub record_id: String,
    /// Its result.
    pub result: RecordResult,
    /// The output bytes (`Ok` only).
    pub data: Option<Vec<u8>>,
    /// The output as sent, base64 (`Ok` only).
    pub base64: Option<String>,
    /// Partition keys.
    pub partition_keys: Vec<(String, String)>,
    /// Iceberg routing (`metadata.otfMetadata`), when set.
    pub otf_metadata: Option<OtfMetadata>,
    /// Why it failed (`ProcessingFailed` only).
    pub failure: Option<Failure>,
}

/// The decoded result of running a transform over an event.
///
/// Outputs are decoded from the response's base64, by the record's position
/// in the event; the [`Summary`] is the one the function would log.
///
/// ```
/// use firehose_transform::response::RecordResult;
/// use firehose_transform::{testing, Context, Failure, Output, Record, Transform};
///
/// /// Numbers doubled; blank lines dropped.
/// struct Double;
/// impl Transform for Double {
///     type Item<'a> = i64;
///     fn parse<'a>(&self, record: &Record<'a>, _: &mut Context) -> Result<i64, Failure> {
///         let text = record.text()?.trim();
///         if text.is_empty() {
///             return Err(Failure::dropped());
///         }
///         text.parse().map_err(|e| Failure::new("not a number").with_detail(format!("{text:?}: {e}")))
///     }
///     fn convert(&self, n: i64, out: &mut Output, cx: &mut Context) -> Result<(), Failure> {
///         cx.count("double.converted");
///         out.write(format!("{}\n", n * 2).as_bytes());
///         Ok(())
///     }
/// }
///
/// let processed = testing::run(&Double, ["21", "", "x"]);
/// assert_eq!(processed.len(), 3);
/// assert_eq!(processed.text(0), "42\n");
/// assert!(processed.is_dropped(1));
/// assert_eq!(processed.failure_reason(2), Some("not a number"));
/// assert_eq!(processed.failure(2).unwrap().detail(), Some("\"x\": invalid digit found in string"));
/// assert_eq!(processed.ok_texts(), ["42\n"]);
/// assert_eq!(processed.record(2).result, RecordResult::ProcessingFailed);
///
/// let summary = processed.summary();
/// assert_eq!((summary.ok, summary.dropped, summary.failed()), (1, 1, 1));
/// assert_eq!(summary.counters["double.converted"], 1);
/// // The response as the function would send it, within Lambda's limit.
/// assert!(processed.response_json().starts_with(b"{\"records\":["));
/// ```
#[derive(Debug, Clone)]
pub struct Processed {
    records: Vec<ProcessedRecord>,
    summary: Summary,
    response_json: Vec<u8>,
    left_running: bool,
}

impl Processed {
    /// Decodes what the engine returned for an invocation.
    pub fn new(invocation: Invocation) -> Self {
        let mut failures = invocation.failures.into_iter().peekable();
        let records = invocation
            .response
            .records()
            .enumerate()
            .map(|(index, record)| ProcessedRecord {
                record_id: record.record_id.to_string(),
                result: record.result,
                data: record
                    .data
                    .map(|b64| codec::decode(b64).expect("the engine writes valid base64")),
                base64: record.data.map(str::to_string),
                partition_keys: record.partition_keys.to_vec(),
                otf_metadata: record.otf_metadata.cloned(),
                failure: failures.next_if(|f| f.index == index).map(|f| f.failure),
            })
            .collect();
        Processed {
            records,
            summary: invocation.summary,
            response_json: invocation.response.to_json(),
            left_running: invocation.left_running,
        }
    }

    /// Whether a thread was still inside the transform when the response
    /// was made ([`Invocation::left_running`]: a function ends its process
    /// then).
    pub fn left_running(&self) -> bool {
        self.left_running
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Every record, in order.
    pub fn records(&self) -> &[ProcessedRecord] {
        &self.records
    }

    /// The record at `index`.
    ///
    /// # Panics
    /// When there is no such record.
    pub fn record(&self, index: usize) -> &ProcessedRecord {
        self.records
            .get(index)
            .unwrap_or_else(|| panic!("no record {index}: the event had {}", self.records.len()))
    }

    /// The output of record `index`.
    ///
    /// # Panics
    /// When the record is not `Ok` (the message says what it was, and why).
    pub fn data(&self, index: usize) -> &[u8] {
        let record = self.record(index);
        match &record.data {
            Some(data) => data,
            None => panic!(
                "record {index} is {}{}, not Ok",
                record.result,
                record
                    .failure
                    .as_ref()
                    .map(|f| format!(" ({f})"))
                    .unwrap_or_default()
            ),
        }
    }

    /// The output of record `index` as text.
    ///
    /// # Panics
    /// When the record is not `Ok` or its output is not UTF-8.
    pub fn text(&self, index: usize) -> &str {
        std::str::from_utf8(self.data(index))
            .unwrap_or_else(|e| panic!("record {index} output is not UTF-8: {e}"))
    }

    /// The base64 sent for record `index`, when `Ok`.
    pub fn base64(&self, index: usize) -> Option<&str> {
        self.record(index).base64.as_deref()
    }

    /// Whether record `index` is `Ok`.
    pub fn is_ok(&self, index: usize) -> bool {
        self.record(index).result == RecordResult::Ok
    }

    /// Whether record `index` is `Dropped`.
    pub fn is_dropped(&self, index: usize) -> bool {
        self.record(index).result == RecordResult::Dropped
    }

    /// Whether record `index` is `ProcessingFailed`.
    pub fn is_failed(&self, index: usize) -> bool {
        self.record(index).result == RecordResult::ProcessingFailed
    }

    /// Why record `index` failed.
    pub fn failure(&self, index: usize) -> Option<&Failure> {
        self.record(index).failure.as_ref()
    }

    /// The reason record `index` failed.
    pub fn failure_reason(&self, index: usize) -> Option<&str> {
        self.failure(index).map(Failure::reason)
    }

    /// Record `index`'s partition keys.
    pub fn partition_keys(&self, index: usize) -> &[(String, String)] {
        &self.record(index).partition_keys
    }

    /// Record `index`'s Iceberg routing, if set.
    pub fn otf_metadata(&self, index: usize) -> Option<&OtfMetadata> {
        self.record(index).otf_metadata.as_ref()
    }

    /// The text of every `Ok` record, in order.
    pub fn ok_texts(&self) -> Vec<&str> {
        (0..self.len())
            .filter(|&i| self.is_ok(i))
            .map(|i| self.text(i))
            .collect()
    }

    /// The invocation summary.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// The response JSON.
    pub fn response_json(&self) -> &[u8] {
        &self.response_json
    }

    /// The response's size in bytes.
    pub fn response_len(&self) -> usize {
        self.response_json.len()
    }

    /// Asserts the contract against `event` with the default 6 MiB budget.
    pub fn assert_contract(&self, event: &Event<'_>) {
        self.assert_contract_within(event, EngineConfig::default().response_budget);
    }

    /// Asserts the contract against `event` with a budget of `budget` bytes.
    pub fn assert_contract_within(&self, event: &Event<'_>, budget: usize) {
        if let Err(violation) = check_contract(event, &self.response_json, budget) {
            panic!("contract violated: {violation}");
        }
    }
}

/// Checks a response (JSON bytes, from anywhere) against the contract for
/// `event`: valid JSON of the right shape; every record id exactly once and in
/// input order; each result one of the three; `Ok` with base64 data under the
/// right key (`kafkaRecordValue` for MSK), no data on other results; partition
/// keys only on `Ok` and never empty; at most `budget` bytes.
///
/// ```
/// use firehose_transform::testing::{check_contract, event_from_lines};
/// let event = event_from_lines(["a", "b"]);
/// let id = |i: usize| event.records[i].record_id.to_string();
/// let response = format!(r#"{{"records":[{{"recordId":"{}","result":"Ok","data":"YQ=="}}]}}"#, id(0));
/// let error = check_contract(&event, response.as_bytes(), 6_291_456).unwrap_err();
/// assert!(error.contains("1 records for 2 in the event"), "{error}");
/// ```
pub fn check_contract(
    event: &Event<'_>,
    response_json: &[u8],
    budget: usize,
) -> Result<(), String> {
    if response_json.len() > budget {
        return Err(format!(
            "response is {} bytes, over the {budget}-byte budget",
            response_json.len()
        ));
    }
    let response: WireResponse = serde_json::from_slice(response_json)
        .map_err(|e| format!("response is not a Firehose response: {e}"))?;
    if response.records.len() != event.records.len() {
        return Err(format!(
            "{} records for {} in the event",
            response.records.len(),
            event.records.len()
        ));
    }
    let unique_inputs = event
        .records
        .iter()
        .map(|r| &*r.record_id)
        .collect::<HashSet<_>>()
        .len()
        == event.records.len();
    let mut seen = HashSet::new();
    let kafka = event.source_kind() == SourceKind::Msk;
    for (index, (out, input)) in response.records.iter().zip(&event.records).enumerate() {
        if out.record_id != input.record_id {
            return Err(format!(
                "record {index} has id {:?}, the event's is {:?}",
                out.record_id, input.record_id
            ));
        }
        if unique_inputs && !seen.insert(out.record_id.as_str()) {
            return Err(format!("id {:?} comes back twice", out.record_id));
        }
        let (right_key, wrong_key) = if kafka {
            (&out.kafka_record_value, &out.data)
        } else {
            (&out.data, &out.kafka_record_value)
        };
        if wrong_key.is_some() {
            return Err(format!(
                "record {index} uses the wrong payload key for this source"
            ));
        }
        match out.result {
            RecordResult::Ok => {
                let data = right_key
                    .as_deref()
                    .ok_or_else(|| format!("Ok record {index} has no data"))?;
                codec::decode(data)
                    .map_err(|e| format!("record {index} data is not base64: {e}"))?;
            }
            _ if right_key.is_some() => {
                return Err(format!("{} record {index} carries data", out.result))
            }
            _ => {}
        }
        if let Some(metadata) = &out.metadata {
            let otf = metadata.otf_metadata.as_ref();
            if out.result != RecordResult::Ok
                || (metadata.partition_keys.is_empty() && otf.is_none())
            {
                return Err(format!(
                    "record {index} has metadata that is empty or not on an Ok record"
                ));
            }
            if let Some(otf) = otf {
                if let Some(operation) = &otf.operation {
                    operation
                        .parse::<OtfOperation>()
                        .map_err(|e| format!("record {index} otfMetadata: {e}"))?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_check_catches_reordered_and_repeated_ids() {
        let event = event_from_lines(["a", "b"]);
        let id = |i: usize| event.records[i].record_id.to_string();
        let swapped = format!(
            r#"{{"records":[{{"recordId":"{}","result":"Dropped"}},{{"recordId":"{}","result":"Dropped"}}]}}"#,
            id(1),
            id(0)
        );
        assert!(check_contract(&event, swapped.as_bytes(), 1 << 20)
            .unwrap_err()
            .contains("record 0 has id"));
        let ok = format!(
            r#"{{"records":[{{"recordId":"{}","result":"Dropped"}},{{"recordId":"{}","result":"ProcessingFailed"}}]}}"#,
            id(0),
            id(1)
        );
        assert_eq!(check_contract(&event, ok.as_bytes(), 1 << 20), Ok(()));
        assert!(check_contract(&event, ok.as_bytes(), 10)
            .unwrap_err()
            .contains("over the 10-byte budget"));
    }

    #[test]
    fn contract_check_requires_the_msk_payload_key() {
        let event = EventBuilder::new()
            .source(SourceKind::Msk)
            .line("a")
            .build();
        let id = &event.records[0].record_id;
        let wrong = format!(r#"{{"records":[{{"recordId":"{id}","result":"Ok","data":"YQ=="}}]}}"#);
        assert!(check_contract(&event, wrong.as_bytes(), 1 << 20).is_err());
        let right = format!(
            r#"{{"records":[{{"recordId":"{id}","result":"Ok","kafkaRecordValue":"YQ=="}}]}}"#
        );
        assert_eq!(check_contract(&event, right.as_bytes(), 1 << 20), Ok(()));
    }
}
