//! The forwarder: a Lambda with a Kinesis Data Streams (or DynamoDB Streams)
//! event source that runs a transform over each batch and writes the outputs
//! to a Firehose delivery stream, answering with `batchItemFailures` so the
//! event source mapping retries from the first record not delivered.
//!
//! ```text
//! {"Records":[{"kinesis":{…},…}]}  ─▶  transform (any of the crate's)  ─▶  PutRecordBatch
//!                                                                        ─▶  {"batchItemFailures":[{"itemIdentifier":"<sequence number>"}]}
//! ```
//!
//! - **Kinesis records**: `kinesis.data` is the record; its partition key,
//!   sequence number and shard (from `eventID`) are the transform's
//!   [`SourceMetadata::Kinesis`](crate::SourceMetadata::Kinesis).
//! - **DynamoDB Streams records**: the record is `dynamodb.NewImage` as
//!   plain JSON (`{"id":{"S":"a"},"n":{"N":"1"}}` becomes
//!   `{"id":"a","n":1}`). A `REMOVE` has no new image: it writes nothing and
//!   is counted (`forward.removes_skipped`).
//! - **Outputs**: an `Ok` record's output is one Firehose record; `Dropped`
//!   writes nothing. A record the transform fails is, by `FAILED_RECORDS`,
//!   retried (`retry`, the default: it is reported, so the mapping retries it
//!   and, after its `MaximumRetryAttempts`, hands the batch to its on-failure
//!   destination) or skipped (`skip`: logged, counted, not delivered).
//! - **Order**: outputs are written in order; at the first record whose
//!   output was not accepted (or, with `retry`, that failed), writing stops,
//!   and that record's sequence number is the one `batchItemFailures` names.
//!   The mapping then retries from there, so per-shard order holds; records
//!   after it that were already accepted in the same call are delivered
//!   again (duplicates, never loss).
//!
//! Locally (no `AWS_LAMBDA_RUNTIME_API`): `BIN --event FILE` reads a stream
//! event and prints the response; `BIN --lines FILE [--batch-size N]` makes
//! a Kinesis record of each line, in batches of N (default 100, the
//! mapping's default).

use std::borrow::Cow;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::process::ExitCode;
use std::time::Instant;

use lambda_runtime::tracing;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::writer::{Destination, Entry, Writer, WriterConfig};
use super::Aws;
use crate::codec;
use crate::config::{ConfigError, Settings};
use crate::engine::{Engine, EngineConfig};
use crate::event::{Event, EventRecord, KinesisRecordMetadata};
use crate::formats::json::write_str;
use crate::response::RecordResult;
use crate::runtime::lambda::Answer;
use crate::telemetry::{now_ms, MetricsConfig, Summary};
use crate::transform::Transform;

/// Counter: outputs accepted by Firehose.
pub const WRITTEN: &str = "forward.written";
/// Counter: records the transform failed and `FAILED_RECORDS=skip` skipped.
pub const SKIPPED: &str = "forward.failed_skipped";
/// Counter: DynamoDB `REMOVE` records (no new image).
pub const REMOVES: &str = "forward.removes_skipped";

/// What to do with a record the transform fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailedRecords {
    /// Report it in `batchItemFailures` (the mapping retries from it).
    Retry,
    /// Log it and go on: it is not delivered.
    Skip,
}

/// The forwarder's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardConfig {
    /// `DELIVERY_STREAM_NAME`.
    pub delivery_stream: String,
    /// `FAILED_RECORDS`: `retry` (default) or `skip`.
    pub failed_records: FailedRecords,
    /// The writer's retries (`AWS_WRITE_*`).
    pub writer: WriterConfig,
}

impl ForwardConfig {
    /// Reads `DELIVERY_STREAM_NAME`, `FAILED_RECORDS` and `AWS_WRITE_*`.
    ///
    /// ```
    /// use firehose_transform::{aws::forward::ForwardConfig, config::Settings};
    /// let error = ForwardConfig::from_settings(&Settings::from_pairs([("X", "1")])).unwrap_err();
    /// assert_eq!(error.to_string(), "DELIVERY_STREAM_NAME: is required but not set");
    /// ```
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        let delivery_stream = settings.require("DELIVERY_STREAM_NAME")?;
        let failed_records = match settings
            .get("FAILED_RECORDS")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("retry") => FailedRecords::Retry,
            Some("skip") => FailedRecords::Skip,
            Some(other) => {
                return Err(ConfigError::new(
                    "FAILED_RECORDS",
                    format!("{other:?} is not a policy (retry or skip)"),
                ))
            }
        };
        let mut writer = WriterConfig::from_settings(settings)?;
        writer.stop_at_first_failure = true;
        Ok(ForwardConfig {
            delivery_stream,
            failed_records,
            writer,
        })
    }
}

/// A Lambda event from a Kinesis or DynamoDB Streams event source.
#[derive(Debug, Deserialize)]
pub struct StreamEvent<'a> {
    /// The records, in shard order.
    #[serde(rename = "Records", borrow)]
    pub records: Vec<StreamRecord<'a>>,
}

/// One record of a [`StreamEvent`].
#[derive(Debug, Deserialize)]
pub struct StreamRecord<'a> {
    /// `shardId-…:sequence` (Kinesis) or a unique id (DynamoDB).
    #[serde(rename = "eventID", borrow, default)]
    pub event_id: Option<Cow<'a, str>>,
    /// `INSERT`, `MODIFY`, `REMOVE` (DynamoDB).
    #[serde(rename = "eventName", borrow, default)]
    pub event_name: Option<Cow<'a, str>>,
    /// The stream's ARN.
    #[serde(rename = "eventSourceARN", borrow, default)]
    pub event_source_arn: Option<Cow<'a, str>>,
    /// The Kinesis part.
    #[serde(borrow, default)]
    pub kinesis: Option<KinesisPart<'a>>,
    /// The DynamoDB part.
    #[serde(borrow, default)]
    pub dynamodb: Option<DynamoDbPart<'a>>,
}

/// `Records[].kinesis`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KinesisPart<'a> {
    /// The producer's partition key.
    #[serde(borrow)]
    pub partition_key: Cow<'a, str>,
    /// The record's sequence number.
    #[serde(borrow)]
    pub sequence_number: Cow<'a, str>,
    /// The data, base64.
    #[serde(borrow)]
    pub data: Cow<'a, str>,
    /// Arrival time, in seconds since the epoch (fractional).
    #[serde(default)]
    pub approximate_arrival_timestamp: Option<f64>,
}

/// `Records[].dynamodb`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DynamoDbPart<'a> {
    /// The change's sequence number.
    #[serde(borrow)]
    pub sequence_number: Cow<'a, str>,
    /// The item after the change (absent for `REMOVE`, or with a
    /// `KEYS_ONLY` stream).
    #[serde(borrow, default)]
    pub new_image: Option<&'a RawValue>,
    /// When the change happened, in seconds since the epoch.
    #[serde(default)]
    pub approximate_creation_date_time: Option<f64>,
}

/// The answer to the event source mapping.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    /// At most one: the first record not delivered.
    pub batch_item_failures: Vec<ItemFailure>,
}

/// One entry of [`BatchResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemFailure {
    /// The record's sequence number.
    pub item_identifier: String,
}

/// Why a stream event could not be read.
#[derive(Debug)]
pub struct StreamEventError(String);

impl std::fmt::Display for StreamEventError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed stream event: {}", self.0)
    }
}

impl std::error::Error for StreamEventError {}

impl<'a> StreamEvent<'a> {
    /// Parses a stream event.
    pub fn from_slice(json: &'a [u8]) -> Result<Self, StreamEventError> {
        serde_json::from_slice(json).map_err(|e| StreamEventError(e.to_string()))
    }

    /// The records as a Firehose-style [`Event`] the engine runs, with each
    /// record's id its sequence number. `removes` counts DynamoDB records
    /// without a new image; they are left out.
    pub fn to_event(&self, removes: &mut u64) -> Result<Event<'a>, StreamEventError> {
        let mut event = Event {
            invocation_id: Cow::Borrowed("stream"),
            ..Event::default()
        };
        for (n, record) in self.records.iter().enumerate() {
            if event.source_kinesis_stream_arn.is_none() {
                event.source_kinesis_stream_arn = record.event_source_arn.clone();
            }
            match (&record.kinesis, &record.dynamodb) {
                (Some(kinesis), _) => {
                    let millis = kinesis
                        .approximate_arrival_timestamp
                        .map(|s| (s * 1000.0) as i64);
                    let shard = record
                        .event_id
                        .as_deref()
                        .and_then(|id| id.split_once(':'))
                        .map_or("", |(shard, _)| shard);
                    event.records.push(EventRecord {
                        record_id: kinesis.sequence_number.clone(),
                        approximate_arrival_timestamp: millis,
                        data: Some(kinesis.data.clone()),
                        kinesis_record_metadata: Some(Box::new(KinesisRecordMetadata {
                            shard_id: Cow::Owned(shard.to_string()),
                            partition_key: kinesis.partition_key.clone(),
                            approximate_arrival_timestamp: millis,
                            sequence_number: kinesis.sequence_number.clone(),
                            subsequence_number: None,
                        })),
                        ..EventRecord::default()
                    });
                }
                (None, Some(dynamodb)) => {
                    let Some(image) = dynamodb.new_image else {
                        *removes += 1;
                        continue;
                    };
                    let json = image_to_json(image.get()).map_err(|e| {
                        StreamEventError(format!("record {}: NewImage: {e}", n + 1))
                    })?;
                    event.records.push(EventRecord {
                        record_id: dynamodb.sequence_number.clone(),
                        approximate_arrival_timestamp: dynamodb
                            .approximate_creation_date_time
                            .map(|s| (s * 1000.0) as i64),
                        data: Some(Cow::Owned(codec::encode(json.as_bytes()))),
                        ..EventRecord::default()
                    });
                }
                (None, None) => {
                    return Err(StreamEventError(format!(
                        "record {} has neither `kinesis` nor `dynamodb`",
                        n + 1
                    )))
                }
            }
        }
        Ok(event)
    }
}

/// A DynamoDB JSON image (`{"a":{"S":"x"}}`) as plain JSON (`{"a":"x"}`),
/// members in name order (DynamoDB keeps no attribute order).
///
/// ```
/// use firehose_transform::aws::forward::image_to_json;
/// let plain = image_to_json(r#"{"id":{"S":"a"},"n":{"N":"1.5"},"tags":{"SS":["x"]},"m":{"M":{"ok":{"BOOL":true},"z":{"NULL":true}}}}"#).unwrap();
/// assert_eq!(plain, r#"{"id":"a","m":{"ok":true,"z":null},"n":1.5,"tags":["x"]}"#);
/// ```
pub fn image_to_json(image: &str) -> Result<String, String> {
    let members: Vec<(String, serde_json::Value)> =
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(image)
            .map_err(|e| e.to_string())?
            .into_iter()
            .collect();
    let mut out = Vec::with_capacity(image.len());
    out.push(b'{');
    for (i, (name, value)) in members.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(&mut out, name);
        out.push(b':');
        write_typed(value, &mut out).map_err(|e| format!("attribute {name:?}: {e}"))?;
    }
    out.push(b'}');
    Ok(String::from_utf8(out).expect("the JSON writer writes UTF-8"))
}

/// One `{"TYPE": value}` attribute as plain JSON.
fn write_typed(value: &serde_json::Value, out: &mut Vec<u8>) -> Result<(), String> {
    use serde_json::Value as J;
    let J::Object(typed) = value else {
        return Err("not a typed attribute value".to_string());
    };
    let Some((kind, inner)) = typed.iter().next() else {
        return Err("an empty attribute value".to_string());
    };
    let strings = |inner: &J| -> Result<Vec<String>, String> {
        inner
            .as_array()
            .ok_or_else(|| format!("{kind} is not a list"))?
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("{kind} holds a non-string"))
            })
            .collect()
    };
    let list = |out: &mut Vec<u8>, items: Vec<String>, each: fn(&str, &mut Vec<u8>)| {
        out.push(b'[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            each(item, out);
        }
        out.push(b']');
    };
    match (kind.as_str(), inner) {
        ("S" | "B", J::String(s)) => write_str(out, s),
        ("N", J::String(n)) => super::dynamodb::write_number(n, out),
        ("BOOL", J::Bool(b)) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        ("NULL", _) => out.extend_from_slice(b"null"),
        ("SS" | "BS", _) => list(out, strings(inner)?, |s, out| write_str(out, s)),
        ("NS", _) => list(out, strings(inner)?, super::dynamodb::write_number),
        ("L", J::Array(items)) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_typed(item, out)?;
            }
            out.push(b']');
        }
        ("M", J::Object(members)) => {
            out.push(b'{');
            for (i, (name, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, name);
                out.push(b':');
                write_typed(item, out)?;
            }
            out.push(b'}');
        }
        (kind, _) => return Err(format!("unknown or malformed type {kind:?}")),
    }
    Ok(())
}

/// The forwarder: a transform, and where its outputs go.
#[derive(Debug)]
pub struct Forwarder<T> {
    engine: Engine<T>,
    writer: Writer,
    config: ForwardConfig,
}

/// What one batch did.
#[derive(Debug)]
pub struct Forwarded {
    /// The answer for the event source mapping.
    pub response: BatchResponse,
    /// The transform's summary, with the forwarder's counters.
    pub summary: Summary,
    /// The failed records, by position in the engine's event.
    pub failures: Vec<crate::engine::RecordFailure>,
    /// A thread was left inside the transform ([`Invocation::left_running`](crate::Invocation::left_running)).
    pub left_running: bool,
}

impl<T: Transform> Forwarder<T> {
    /// A forwarder running `transform`, writing with `aws`'s clients.
    pub fn new(transform: T, aws: &Aws, config: ForwardConfig, engine: EngineConfig) -> Self {
        // No Firehose response to fit here: the budget only bounds memory.
        let engine = Engine::with_config(
            transform,
            EngineConfig {
                response_budget: 1 << 40,
                ..engine
            },
        );
        let writer = Writer::new(
            aws,
            Destination::Firehose(config.delivery_stream.clone()),
            config.writer.clone(),
        );
        Forwarder {
            engine,
            writer,
            config,
        }
    }

    /// Transforms and writes one stream event.
    pub fn forward(
        &self,
        stream: &StreamEvent<'_>,
        deadline: Option<Instant>,
    ) -> Result<Forwarded, StreamEventError> {
        let mut removes = 0;
        let event = stream.to_event(&mut removes)?;
        // The forwarder's budget is unbounded (its outputs go to
        // PutRecordBatch, not into a response), so the engine cannot refuse
        // the batch for size.
        let invocation = self
            .engine
            .process(&event, deadline)
            .map_err(|error| StreamEventError(error.to_string()))?;
        let mut summary = invocation.summary.clone();
        if removes > 0 {
            summary.counters.insert(REMOVES, removes);
        }

        // The outputs to write, in order, up to the first failure to retry.
        let mut entries = Vec::new();
        let mut owners = Vec::new();
        let mut first_failed = None;
        let mut skipped = 0;
        let mut buffer = Vec::new();
        for (index, record) in invocation.response.records().enumerate() {
            match record.result {
                RecordResult::Ok => {
                    buffer.clear();
                    let data = record.data.unwrap_or("");
                    if codec::decode_append(data, &mut buffer).is_ok() {
                        entries.push(Entry::new(buffer.clone()));
                        owners.push(index);
                    }
                }
                RecordResult::Dropped => {}
                RecordResult::ProcessingFailed => match self.config.failed_records {
                    FailedRecords::Retry => {
                        first_failed = Some(index);
                        break;
                    }
                    FailedRecords::Skip => skipped += 1,
                },
            }
        }
        if skipped > 0 {
            summary.counters.insert(SKIPPED, skipped);
        }
        let margin = self.engine.config().deadline_margin / 2;
        let write_by = deadline.map(|d| d.checked_sub(margin).unwrap_or_else(Instant::now));
        let report = if entries.is_empty() {
            Default::default()
        } else {
            self.writer.write(entries, write_by)
        };
        summary.counters.insert(WRITTEN, report.accepted() as u64);
        let not_written = report.first_rejected().map(|at| {
            if let Some(error) = &report.errors[at] {
                tracing::warn!(record_id = %event.records[owners[at]].record_id, error, "output not accepted by Firehose; the batch is retried from this record");
            }
            owners[at]
        });
        let first = match (first_failed, not_written) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let response = BatchResponse {
            batch_item_failures: first
                .map(|i| ItemFailure {
                    item_identifier: event.records[i].record_id.to_string(),
                })
                .into_iter()
                .collect(),
        };
        Ok(Forwarded {
            response,
            summary,
            failures: invocation.failures,
            left_running: invocation.left_running,
        })
    }
}

/// Serves a forwarder over the transform `init` builds from the settings,
/// on Lambda or locally. Returns the exit code.
pub fn run_with<T, F>(init: F) -> ExitCode
where
    T: Transform,
    F: FnOnce(&Settings) -> Result<T, ConfigError>,
{
    let program = std::env::args()
        .next()
        .and_then(|p| p.rsplit('/').next().map(str::to_string))
        .unwrap_or_else(|| "kinesis-to-firehose".to_string());
    let on_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let local = if on_lambda {
        None
    } else {
        match LocalArgs::parse(std::env::args().skip(1)) {
            Ok(args) => Some(args),
            Err(problem) => {
                eprintln!("{program}: {problem}\n\nusage: {program} --event FILE\n       {program} --lines FILE [--batch-size N]\nFILE may be - for standard input.");
                return ExitCode::from(2);
            }
        }
    };
    if on_lambda {
        tracing::init_default_subscriber();
    } else {
        tracing::init_default_subscriber_with_writer(io::stderr);
    }
    let settings = Settings::from_env();
    let built = (|| {
        let engine = EngineConfig::from_settings(&settings)?;
        let metrics = MetricsConfig::from_settings(&settings, on_lambda)?;
        let config = ForwardConfig::from_settings(&settings)?;
        let aws = Aws::from_env().map_err(|e| ConfigError::new("AWS_REGION", e))?;
        let transform = init(&settings)?;
        Ok::<_, ConfigError>((Forwarder::new(transform, &aws, config, engine), metrics))
    })();
    let (forwarder, metrics) = match built {
        Ok(parts) => parts,
        Err(error) => {
            eprintln!("{program}: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    match local {
        None => serve(&forwarder, &metrics, &program),
        Some(args) => match run_local(&forwarder, &metrics, &args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("{program}: {error}");
                ExitCode::FAILURE
            }
        },
    }
}

fn log(forwarded: &Forwarded, metrics: &MetricsConfig) {
    for failed in forwarded.failures.iter().take(10) {
        tracing::warn!(
            reason = failed.failure.reason(),
            detail = failed.failure.detail().unwrap_or(""),
            "record failed"
        );
    }
    forwarded.summary.log();
    if metrics.enabled {
        println!("{}", metrics.emf_line(&forwarded.summary, now_ms()));
    }
}

fn serve<T: Transform>(
    forwarder: &Forwarder<T>,
    metrics: &MetricsConfig,
    program: &str,
) -> ExitCode {
    crate::runtime::lambda::serve_with(program, |body, deadline| {
        let malformed = |error: &StreamEventError| Answer::failed("MalformedStreamEvent", error);
        let stream = match StreamEvent::from_slice(&body) {
            Ok(stream) => stream,
            Err(error) => return malformed(&error),
        };
        let forwarded = match forwarder.forward(&stream, deadline) {
            Ok(forwarded) => forwarded,
            Err(error) => return malformed(&error),
        };
        log(&forwarded, metrics);
        match serde_json::to_vec(&forwarded.response) {
            Ok(json) => Answer {
                body: Ok(vec![json.into()]),
                end_process: forwarded.left_running,
            },
            Err(error) => Answer::failed("InternalError", &error),
        }
    })
}

#[derive(Debug)]
struct LocalArgs {
    lines: bool,
    path: String,
    batch_size: usize,
}

impl LocalArgs {
    fn parse(args: impl IntoIterator<Item = String>) -> Result<LocalArgs, String> {
        let mut input = None;
        let mut batch_size = 100;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--event" | "--lines" => {
                    let path = args
                        .next()
                        .ok_or_else(|| format!("{arg} needs a file (or -)"))?;
                    if input.replace((arg == "--lines", path)).is_some() {
                        return Err("give one of --event and --lines, once".to_string());
                    }
                }
                "--batch-size" => {
                    batch_size = args
                        .next()
                        .and_then(|n| n.parse().ok())
                        .filter(|n| *n > 0)
                        .ok_or("--batch-size needs a positive number of records")?;
                }
                _ => return Err(format!("unexpected argument {arg:?}")),
            }
        }
        let (lines, path) = input.ok_or("give --event FILE or --lines FILE (this is local mode: AWS_LAMBDA_RUNTIME_API is not set)")?;
        Ok(LocalArgs {
            lines,
            path,
            batch_size,
        })
    }

    fn open(&self) -> io::Result<Box<dyn Read>> {
        if self.path == "-" {
            Ok(Box::new(io::stdin().lock()))
        } else {
            Ok(Box::new(std::fs::File::open(&self.path)?))
        }
    }
}

fn run_local<T: Transform>(
    forwarder: &Forwarder<T>,
    metrics: &MetricsConfig,
    args: &LocalArgs,
) -> Result<(), String> {
    let cannot_read = |e: io::Error| format!("cannot read {}: {e}", args.path);
    let mut out = io::stdout().lock();
    let mut answer = |forwarded: Forwarded| -> Result<(), String> {
        log(&forwarded, metrics);
        let json = serde_json::to_string(&forwarded.response).map_err(|e| e.to_string())?;
        writeln!(out, "{json}").map_err(|e| format!("cannot write the response: {e}"))
    };
    if !args.lines {
        let mut json = Vec::new();
        args.open()
            .and_then(|mut f| f.read_to_end(&mut json))
            .map_err(cannot_read)?;
        let stream = StreamEvent::from_slice(&json).map_err(|e| format!("{}: {e}", args.path))?;
        let forwarded = forwarder
            .forward(&stream, None)
            .map_err(|e| e.to_string())?;
        return answer(forwarded);
    }
    let reader = BufReader::new(args.open().map_err(cannot_read)?);
    let mut batch: Vec<String> = Vec::new();
    let mut number = 0u64;
    let mut lines = reader.lines();
    loop {
        let line = lines.next().transpose().map_err(cannot_read)?;
        if let Some(line) = &line {
            number += 1;
            batch.push(format!(
                r#"{{"eventID":"shardId-000000000000:{number}","eventSourceARN":"local","kinesis":{{"partitionKey":"local","sequenceNumber":"{number}","data":"{}"}}}}"#,
                codec::encode(line.trim_end_matches('\r').as_bytes())
            ));
        }
        if batch.len() == args.batch_size || (line.is_none() && !batch.is_empty()) {
            let json = format!(r#"{{"Records":[{}]}}"#, batch.join(","));
            batch.clear();
            let stream = StreamEvent::from_slice(json.as_bytes()).map_err(|e| e.to_string())?;
            let forwarded = forwarder
                .forward(&stream, None)
                .map_err(|e| e.to_string())?;
            answer(forwarded)?;
        }
        if line.is_none() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinesis_and_dynamodb_records_become_engine_records() {
        let json = br#"{"Records":[
            {"eventID":"shardId-000000000001:4959","eventSourceARN":"arn:aws:kinesis:eu-west-1:1:stream/in",
             "kinesis":{"partitionKey":"pk","sequenceNumber":"4959","data":"aGk=","approximateArrivalTimestamp":1700000000.5}},
            {"eventName":"INSERT","dynamodb":{"SequenceNumber":"111","NewImage":{"id":{"S":"a"},"n":{"N":"2"}}}},
            {"eventName":"REMOVE","dynamodb":{"SequenceNumber":"112","Keys":{"id":{"S":"a"}}}}
        ]}"#;
        let stream = StreamEvent::from_slice(json).unwrap();
        let mut removes = 0;
        let event = stream.to_event(&mut removes).unwrap();
        assert_eq!(removes, 1);
        assert_eq!(event.records.len(), 2);
        let kinesis = &event.records[0];
        assert_eq!(kinesis.record_id, "4959");
        assert_eq!(
            kinesis.approximate_arrival_timestamp,
            Some(1_700_000_000_500)
        );
        let meta = kinesis.kinesis_record_metadata.as_ref().unwrap();
        assert_eq!(
            (&*meta.shard_id, &*meta.partition_key),
            ("shardId-000000000001", "pk")
        );
        let image = codec::decode(event.records[1].data.as_deref().unwrap()).unwrap();
        assert_eq!(image, br#"{"id":"a","n":2}"#);
    }

    #[test]
    fn malformed_images_say_where() {
        let json =
            br#"{"Records":[{"dynamodb":{"SequenceNumber":"1","NewImage":{"id":{"Q":"a"}}}}]}"#;
        let error = StreamEvent::from_slice(json)
            .unwrap()
            .to_event(&mut 0)
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "malformed stream event: record 1: NewImage: attribute \"id\": unknown or malformed type \"Q\""
        );
    }
}
