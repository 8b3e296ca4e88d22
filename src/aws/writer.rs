//! A byte-aware writer for Firehose `PutRecordBatch` and Kinesis
//! `PutRecords` that never reports success for a record that was not
//! accepted.
//!
//! - **Batches by count and bytes**, in order: at most 500 records and
//!   4 MiB of data a `PutRecordBatch` call (each record at most 1,000 KiB);
//!   at most 500 records and 5 MiB, partition keys included, a `PutRecords`
//!   call (each record at most 1 MiB with its key). A record over its limit
//!   is not sent, and is reported with the reason.
//! - **Retries only the entries that failed** (`FailedPutCount` > 0: the
//!   entries with an `ErrorCode`), and whole calls that failed in a way worth
//!   retrying (throttling, a 5xx, a dropped connection, a timeout), with
//!   [exponential backoff and full jitter](super::backoff), bounded by the
//!   attempts and by the deadline it is given.
//! - **Reports each record**: [`WriteReport`] says which were accepted and,
//!   for the others, the last error. A record is accepted only when the
//!   service answered it with a record id (Firehose) or a sequence number
//!   (Kinesis).
//!
//! **Duplicates.** `PutRecordBatch` and `PutRecords` are not idempotent. When
//! a call's answer is lost (the connection drops after the service applied
//! the call, or the attempt times out), the writer cannot know which entries
//! were written and sends them again: each such lost answer may duplicate
//! the entries of that call, never lose them.
//!
//! ```no_run
//! use firehose_transform::aws::writer::{Destination, Entry, Writer, WriterConfig};
//! use firehose_transform::aws::Aws;
//!
//! let aws = Aws::from_env()?;
//! let writer = Writer::new(&aws, Destination::Firehose("my-stream".into()), WriterConfig::default());
//! let report = writer.write(vec![Entry::new(b"{\"a\":1}\n".to_vec())], None);
//! assert!(report.all_accepted());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant};

use aws_sdk_firehose::primitives::Blob;

use super::backoff::Backoff;
use super::{call_error, Aws, CallError};
use crate::config::{ConfigError, Settings};

/// Where the writer writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A Firehose delivery stream, by name (`PutRecordBatch`).
    Firehose(String),
    /// A Kinesis data stream, by name (`PutRecords`, with each entry's
    /// partition key).
    Kinesis(String),
}

impl Destination {
    /// The limits of the destination's batch call.
    pub fn limits(&self) -> Limits {
        match self {
            Destination::Firehose(_) => Limits::FIREHOSE,
            Destination::Kinesis(_) => Limits::KINESIS,
        }
    }

    /// The stream's name.
    pub fn stream(&self) -> &str {
        match self {
            Destination::Firehose(name) | Destination::Kinesis(name) => name,
        }
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::Firehose(name) => write!(f, "Firehose delivery stream {name}"),
            Destination::Kinesis(name) => write!(f, "Kinesis data stream {name}"),
        }
    }
}

/// The limits of one batch call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Records a call.
    pub max_records: usize,
    /// Bytes a call (data, plus partition keys where they count).
    pub max_batch_bytes: usize,
    /// Bytes a record (data, plus its partition key where it counts).
    pub max_record_bytes: usize,
    /// Whether partition keys count and are required (Kinesis).
    pub partition_keys: bool,
}

impl Limits {
    /// `PutRecordBatch`: 500 records, 4 MiB, 1,000 KiB a record.
    pub const FIREHOSE: Limits = Limits {
        max_records: 500,
        max_batch_bytes: 4 * 1024 * 1024,
        max_record_bytes: 1000 * 1024,
        partition_keys: false,
    };
    /// `PutRecords`: 500 records, 5 MiB, 1 MiB a record, keys included.
    pub const KINESIS: Limits = Limits {
        max_records: 500,
        max_batch_bytes: 5 * 1024 * 1024,
        max_record_bytes: 1024 * 1024,
        partition_keys: true,
    };

    /// The bytes `entry` counts for.
    pub fn cost(&self, entry: &Entry) -> usize {
        entry.data.len()
            + if self.partition_keys {
                entry.partition_key.as_deref().map_or(0, str::len)
            } else {
                0
            }
    }

    /// Why `entry` cannot be sent at all, if it cannot.
    fn refuse(&self, entry: &Entry) -> Option<String> {
        let cost = self.cost(entry);
        if cost > self.max_record_bytes {
            return Some(format!(
                "record of {cost} bytes is over the {}-byte limit of a record",
                self.max_record_bytes
            ));
        }
        if self.partition_keys {
            match entry.partition_key.as_deref() {
                None | Some("") => return Some("record has no partition key".to_string()),
                Some(key) if key.chars().count() > 256 => {
                    return Some("partition key is over 256 characters".to_string())
                }
                Some(_) => {}
            }
        }
        None
    }
}

/// One record to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The bytes.
    pub data: Vec<u8>,
    /// The partition key (Kinesis; ignored by Firehose).
    pub partition_key: Option<String>,
}

impl Entry {
    /// A record without a partition key (for Firehose).
    pub fn new(data: Vec<u8>) -> Self {
        Entry {
            data,
            partition_key: None,
        }
    }

    /// A record with a partition key (for Kinesis).
    pub fn keyed(data: Vec<u8>, partition_key: impl Into<String>) -> Self {
        Entry {
            data,
            partition_key: Some(partition_key.into()),
        }
    }
}

/// The writer's retry settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterConfig {
    /// Attempts a record gets, the first included (`AWS_WRITE_MAX_ATTEMPTS`).
    pub max_attempts: u32,
    /// The first backoff's ceiling (`AWS_WRITE_BACKOFF_BASE_MS`).
    pub backoff_base: Duration,
    /// The largest backoff (`AWS_WRITE_BACKOFF_MAX_MS`).
    pub backoff_max: Duration,
    /// The longest one call may take before it is abandoned and retried
    /// (`AWS_WRITE_CALL_TIMEOUT_MS`).
    pub call_timeout: Duration,
    /// Stop at the first batch that could not be written whole, leaving the
    /// later records unsent (the forwarder's choice: it will be sent them all
    /// again from there). Otherwise every batch is tried.
    pub stop_at_first_failure: bool,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            max_attempts: 10,
            backoff_base: Duration::from_millis(50),
            backoff_max: Duration::from_secs(2),
            call_timeout: Duration::from_secs(10),
            stop_at_first_failure: false,
        }
    }
}

impl WriterConfig {
    /// Reads `AWS_WRITE_MAX_ATTEMPTS`, `AWS_WRITE_BACKOFF_BASE_MS`,
    /// `AWS_WRITE_BACKOFF_MAX_MS` and `AWS_WRITE_CALL_TIMEOUT_MS`.
    ///
    /// ```
    /// use firehose_transform::{aws::writer::WriterConfig, config::Settings};
    /// let error = WriterConfig::from_settings(&Settings::from_pairs([("AWS_WRITE_MAX_ATTEMPTS", "0")])).unwrap_err();
    /// assert_eq!(error.to_string(), "AWS_WRITE_MAX_ATTEMPTS: must be at least 1");
    /// ```
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        let default = WriterConfig::default();
        let max_attempts = settings.parse("AWS_WRITE_MAX_ATTEMPTS", default.max_attempts)?;
        if max_attempts == 0 {
            return Err(ConfigError::new(
                "AWS_WRITE_MAX_ATTEMPTS",
                "must be at least 1",
            ));
        }
        let ms = |name: &str, default: Duration| {
            settings
                .parse(name, default.as_millis() as u64)
                .map(Duration::from_millis)
        };
        Ok(WriterConfig {
            max_attempts,
            backoff_base: ms("AWS_WRITE_BACKOFF_BASE_MS", default.backoff_base)?,
            backoff_max: ms("AWS_WRITE_BACKOFF_MAX_MS", default.backoff_max)?,
            call_timeout: ms("AWS_WRITE_CALL_TIMEOUT_MS", default.call_timeout)?,
            stop_at_first_failure: false,
        })
    }
}

/// What happened to each record of a [`Writer::write`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// Per record, in order: `None` when accepted, else the last error.
    pub errors: Vec<Option<String>>,
    /// Batch calls made, retries included.
    pub calls: usize,
    /// Records sent again after a failure (entries or whole calls).
    pub retried_records: usize,
}

impl WriteReport {
    /// Whether every record was accepted.
    pub fn all_accepted(&self) -> bool {
        self.errors.iter().all(Option::is_none)
    }

    /// Whether record `index` was accepted.
    pub fn is_accepted(&self, index: usize) -> bool {
        self.errors.get(index).is_some_and(Option::is_none)
    }

    /// The first record not accepted.
    pub fn first_rejected(&self) -> Option<usize> {
        self.errors.iter().position(Option::is_some)
    }

    /// How many records were accepted.
    pub fn accepted(&self) -> usize {
        self.errors.iter().filter(|e| e.is_none()).count()
    }
}

/// Writes records to a [`Destination`]; see the [module](self) documentation.
#[derive(Debug, Clone)]
pub struct Writer {
    aws: Aws,
    sink: SdkSink,
    destination: Destination,
    config: WriterConfig,
}

impl Writer {
    /// A writer to `destination` with the clients of `aws`.
    pub fn new(aws: &Aws, destination: Destination, config: WriterConfig) -> Self {
        let sink = match &destination {
            Destination::Firehose(stream) => SdkSink::Firehose(aws.firehose(), stream.clone()),
            Destination::Kinesis(stream) => SdkSink::Kinesis(aws.kinesis(), stream.clone()),
        };
        Writer {
            aws: aws.clone(),
            sink,
            destination,
            config,
        }
    }

    /// Where it writes.
    pub fn destination(&self) -> &Destination {
        &self.destination
    }

    /// The retry settings.
    pub fn config(&self) -> &WriterConfig {
        &self.config
    }

    /// Writes `entries`, retrying until they are accepted, the attempts run
    /// out, or `deadline` comes. Blocks (on the AWS runtime thread; see
    /// [`Aws`]); callable from synchronous code.
    pub fn write(&self, entries: Vec<Entry>, deadline: Option<Instant>) -> WriteReport {
        let sink = self.sink.clone();
        let limits = self.destination.limits();
        let config = self.config.clone();
        self.aws.block_on(
            async move { write_batches(&sink, limits, &config, &entries, deadline).await },
        )
    }
}

/// One batch call: per entry, `None` when accepted or the entry's error.
pub(crate) trait Sink: Sync {
    fn put(
        &self,
        entries: Vec<&Entry>,
    ) -> impl Future<Output = Result<Vec<Option<String>>, CallError>> + Send;
}

/// The SDK clients.
#[derive(Debug, Clone)]
enum SdkSink {
    Firehose(aws_sdk_firehose::Client, String),
    Kinesis(aws_sdk_kinesis::Client, String),
}

impl Sink for SdkSink {
    async fn put(&self, entries: Vec<&Entry>) -> Result<Vec<Option<String>>, CallError> {
        let count = entries.len();
        match self {
            SdkSink::Firehose(client, stream) => {
                let records = entries
                    .into_iter()
                    .map(|e| {
                        aws_sdk_firehose::types::Record::builder()
                            .data(Blob::new(e.data.clone()))
                            .build()
                            .expect("data is set")
                    })
                    .collect();
                let output = client
                    .put_record_batch()
                    .delivery_stream_name(stream)
                    .set_records(Some(records))
                    .send()
                    .await
                    .map_err(call_error)?;
                let answers = output.request_responses();
                if answers.len() != count {
                    return Err(CallError {
                        message: format!(
                            "PutRecordBatch answered {} entries for {count} records",
                            answers.len()
                        ),
                        retryable: true,
                    });
                }
                Ok(answers
                    .iter()
                    .map(|a| entry_error(a.error_code(), a.error_message(), a.record_id()))
                    .collect())
            }
            SdkSink::Kinesis(client, stream) => {
                let records = entries
                    .into_iter()
                    .map(|e| {
                        aws_sdk_kinesis::types::PutRecordsRequestEntry::builder()
                            .data(Blob::new(e.data.clone()))
                            .partition_key(e.partition_key.clone().unwrap_or_default())
                            .build()
                            .expect("data and key are set")
                    })
                    .collect();
                let output = client
                    .put_records()
                    .stream_name(stream)
                    .set_records(Some(records))
                    .send()
                    .await
                    .map_err(call_error)?;
                let answers = output.records();
                if answers.len() != count {
                    return Err(CallError {
                        message: format!(
                            "PutRecords answered {} entries for {count} records",
                            answers.len()
                        ),
                        retryable: true,
                    });
                }
                Ok(answers
                    .iter()
                    .map(|a| entry_error(a.error_code(), a.error_message(), a.sequence_number()))
                    .collect())
            }
        }
    }
}

/// An entry's answer: accepted only with an id and no error code.
fn entry_error(code: Option<&str>, message: Option<&str>, id: Option<&str>) -> Option<String> {
    match (code, id) {
        (Some(code), _) => Some(match message {
            Some(message) => format!("{code}: {message}"),
            None => code.to_string(),
        }),
        (None, Some(_)) => None,
        (None, None) => Some("answered without an id or an error".to_string()),
    }
}

/// The writing loop, over any [`Sink`] (the SDK, or a test's).
pub(crate) async fn write_batches<S: Sink>(
    sink: &S,
    limits: Limits,
    config: &WriterConfig,
    entries: &[Entry],
    deadline: Option<Instant>,
) -> WriteReport {
    let mut report = WriteReport {
        errors: vec![Some("not sent".to_string()); entries.len()],
        ..WriteReport::default()
    };
    let mut sendable = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        match limits.refuse(entry) {
            Some(reason) => report.errors[index] = Some(reason),
            None => sendable.push(index),
        }
    }
    let mut start = 0;
    while start < sendable.len() {
        // The next batch: as many records as fit by count and bytes.
        let mut end = start;
        let mut bytes = 0;
        while end < sendable.len() && end - start < limits.max_records {
            let cost = limits.cost(&entries[sendable[end]]);
            if end > start && bytes + cost > limits.max_batch_bytes {
                break;
            }
            bytes += cost;
            end += 1;
        }
        let outcome = write_one_batch(
            sink,
            config,
            entries,
            &sendable[start..end],
            deadline,
            &mut report,
        )
        .await;
        start = end;
        match outcome {
            BatchOutcome::Written => {}
            BatchOutcome::Incomplete if !config.stop_at_first_failure => {}
            BatchOutcome::Incomplete | BatchOutcome::Stop => break,
        }
    }
    report
}

enum BatchOutcome {
    /// Every record accepted.
    Written,
    /// Some records not accepted after the attempts allowed.
    Incomplete,
    /// Nothing more can be written (no time left, or an error no retry mends).
    Stop,
}

async fn write_one_batch<S: Sink>(
    sink: &S,
    config: &WriterConfig,
    entries: &[Entry],
    batch: &[usize],
    deadline: Option<Instant>,
    report: &mut WriteReport,
) -> BatchOutcome {
    let mut pending: Vec<usize> = batch.to_vec();
    let mut backoff = Backoff::new(config.backoff_base, config.backoff_max, config.max_attempts);
    loop {
        let Some(timeout) = call_timeout(config, deadline) else {
            mark(
                report,
                &pending,
                "invocation deadline reached before the write",
            );
            return BatchOutcome::Stop;
        };
        report.calls += 1;
        let call = sink.put(pending.iter().map(|&i| &entries[i]).collect());
        let result = match tokio::time::timeout(timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(CallError {
                message: format!("no answer within {} ms", timeout.as_millis()),
                retryable: true,
            }),
        };
        match result {
            Ok(answers) => {
                let mut failed = Vec::new();
                for (&index, answer) in pending.iter().zip(answers) {
                    match answer {
                        None => report.errors[index] = None,
                        Some(error) => {
                            report.errors[index] = Some(error);
                            failed.push(index);
                        }
                    }
                }
                pending = failed;
            }
            Err(error) => {
                mark(report, &pending, &error.message);
                if !error.retryable {
                    return BatchOutcome::Stop;
                }
            }
        }
        if pending.is_empty() {
            return BatchOutcome::Written;
        }
        match backoff.next_wait(deadline) {
            Some(wait) => {
                report.retried_records += pending.len();
                tokio::time::sleep(wait).await;
            }
            None => {
                let out_of_time = deadline.is_some_and(|d| {
                    d.saturating_duration_since(Instant::now()) <= config.backoff_max
                });
                return if out_of_time {
                    BatchOutcome::Stop
                } else {
                    BatchOutcome::Incomplete
                };
            }
        }
    }
}

/// The time one call may take: the call timeout, or less when the deadline
/// is nearer; `None` when no time is left.
fn call_timeout(config: &WriterConfig, deadline: Option<Instant>) -> Option<Duration> {
    match super::time_left(deadline) {
        None => Some(config.call_timeout),
        Some(left) if left.is_zero() => None,
        Some(left) => Some(left.min(config.call_timeout)),
    }
}

fn mark(report: &mut WriteReport, indexes: &[usize], error: &str) {
    for &index in indexes {
        report.errors[index] = Some(error.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Fails the entries `fail` says to, per attempt; records every call.
    struct Scripted<F> {
        fail: F,
        calls: Mutex<Vec<Vec<Vec<u8>>>>,
    }

    impl<F: Fn(usize, &Entry) -> Option<Result<(), CallError>> + Sync> Sink for Scripted<F> {
        fn put(
            &self,
            entries: Vec<&Entry>,
        ) -> impl Future<Output = Result<Vec<Option<String>>, CallError>> + Send {
            let mut calls = self.calls.lock().unwrap();
            let call = calls.len();
            calls.push(entries.iter().map(|e| e.data.clone()).collect());
            let mut answers = Vec::new();
            let mut whole = None;
            for entry in &entries {
                match (self.fail)(call, entry) {
                    None => answers.push(None),
                    Some(Ok(())) => {
                        answers.push(Some("ServiceUnavailableException: slow down".to_string()))
                    }
                    Some(Err(error)) => whole = Some(error),
                }
            }
            let result = match whole {
                Some(error) => Err(error),
                None => Ok(answers),
            };
            std::future::ready(result)
        }
    }

    fn fast() -> WriterConfig {
        WriterConfig {
            backoff_base: Duration::from_millis(1),
            backoff_max: Duration::from_millis(2),
            ..WriterConfig::default()
        }
    }

    fn run<S: Sink>(
        sink: &S,
        limits: Limits,
        config: &WriterConfig,
        entries: &[Entry],
    ) -> WriteReport {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(write_batches(sink, limits, config, entries, None))
    }

    #[test]
    fn batches_never_pass_the_count_or_the_byte_limit() {
        let entries: Vec<Entry> = (0..1200)
            .map(|i| Entry::new(vec![b'x'; if i % 100 == 0 { 900_000 } else { 1000 }]))
            .collect();
        let sink = Scripted {
            fail: |_, _: &Entry| None,
            calls: Mutex::new(Vec::new()),
        };
        let report = run(&sink, Limits::FIREHOSE, &fast(), &entries);
        assert!(report.all_accepted());
        let calls = sink.calls.lock().unwrap();
        for call in calls.iter() {
            assert!(call.len() <= 500);
            assert!(call.iter().map(Vec::len).sum::<usize>() <= 4 * 1024 * 1024);
        }
        // In order, each record once.
        let sent: Vec<usize> = calls.iter().flatten().map(Vec::len).collect();
        let expected: Vec<usize> = entries.iter().map(|e| e.data.len()).collect();
        assert_eq!(sent, expected);
    }

    #[test]
    fn only_the_failed_entries_are_sent_again() {
        let entries: Vec<Entry> = (0..10u8).map(|i| Entry::new(vec![i])).collect();
        // Entries 3 and 7 fail on the first call only.
        let sink = Scripted {
            fail: |call, e: &Entry| {
                (call == 0 && (e.data[0] == 3 || e.data[0] == 7)).then_some(Ok(()))
            },
            calls: Mutex::new(Vec::new()),
        };
        let report = run(&sink, Limits::FIREHOSE, &fast(), &entries);
        assert!(report.all_accepted());
        let calls = sink.calls.lock().unwrap();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[1], vec![vec![3], vec![7]]);
        assert_eq!(report.retried_records, 2);
    }

    #[test]
    fn a_record_that_keeps_failing_is_reported_and_never_accepted() {
        let entries: Vec<Entry> = (0..5u8).map(|i| Entry::new(vec![i])).collect();
        let sink = Scripted {
            fail: |_, e: &Entry| (e.data[0] == 2).then_some(Ok(())),
            calls: Mutex::new(Vec::new()),
        };
        let config = WriterConfig {
            max_attempts: 4,
            ..fast()
        };
        let report = run(&sink, Limits::FIREHOSE, &config, &entries);
        assert_eq!(report.first_rejected(), Some(2));
        assert_eq!(report.accepted(), 4);
        assert_eq!(sink.calls.lock().unwrap().len(), 4);
        assert!(report.errors[2]
            .as_deref()
            .unwrap()
            .contains("ServiceUnavailable"));
    }

    #[test]
    fn an_error_no_retry_mends_stops_the_writing() {
        let entries: Vec<Entry> = (0..1000)
            .map(|i| Entry::new(vec![(i % 250) as u8]))
            .collect();
        let sink = Scripted {
            fail: |_, _: &Entry| {
                Some(Err(CallError {
                    message: "ResourceNotFoundException: no stream".into(),
                    retryable: false,
                }))
            },
            calls: Mutex::new(Vec::new()),
        };
        let report = run(&sink, Limits::FIREHOSE, &fast(), &entries);
        assert_eq!(sink.calls.lock().unwrap().len(), 1);
        assert_eq!(report.accepted(), 0);
        assert_eq!(
            report.errors[0].as_deref(),
            Some("ResourceNotFoundException: no stream")
        );
        assert_eq!(report.errors[999].as_deref(), Some("not sent"));
    }

    #[test]
    fn records_over_the_limits_are_refused_without_being_sent() {
        let entries = vec![
            Entry::keyed(vec![0; 1024 * 1024], "k"),
            Entry::new(vec![1]),
            Entry::keyed(vec![2], "k".repeat(257)),
            Entry::keyed(vec![3], "fine"),
        ];
        let sink = Scripted {
            fail: |_, _: &Entry| None,
            calls: Mutex::new(Vec::new()),
        };
        let report = run(&sink, Limits::KINESIS, &fast(), &entries);
        assert!(report.errors[0]
            .as_deref()
            .unwrap()
            .contains("over the 1048576-byte limit"));
        assert_eq!(
            report.errors[1].as_deref(),
            Some("record has no partition key")
        );
        assert_eq!(
            report.errors[2].as_deref(),
            Some("partition key is over 256 characters")
        );
        assert!(report.is_accepted(3));
        assert_eq!(sink.calls.lock().unwrap().as_slice(), &[vec![vec![3u8]]]);
    }

    #[test]
    fn stop_at_first_failure_leaves_later_batches_unsent() {
        let entries: Vec<Entry> = (0..1000)
            .map(|i| Entry::new(vec![(i / 500) as u8]))
            .collect();
        let sink = Scripted {
            fail: |_, e: &Entry| (e.data[0] == 0).then_some(Ok(())),
            calls: Mutex::new(Vec::new()),
        };
        let config = WriterConfig {
            max_attempts: 2,
            stop_at_first_failure: true,
            ..fast()
        };
        let report = run(&sink, Limits::FIREHOSE, &config, &entries);
        assert_eq!(report.first_rejected(), Some(0));
        assert_eq!(report.accepted(), 0);
        assert_eq!(sink.calls.lock().unwrap().len(), 2);
    }
}
