//! The [`Transform`] trait: what a user writes, one record at a time.
//!
//! A transform runs in four steps, each a method: [`parse`](Transform::parse)
//! turns the record's bytes into an item (often borrowing from them), then the
//! three stages run on it: [`filter`](Transform::filter) keeps or drops it,
//! [`enrich`](Transform::enrich) adds to it, and [`convert`](Transform::convert)
//! writes the output. Only `parse` and `convert` are required.
//!
//! A transform never sees the Firehose response: it returns an item, `false`
//! or a [`Failure`], and the [engine](crate::engine) turns that into `Ok`,
//! `Dropped` or `ProcessingFailed` under every rule of the contract.
//!
//! ## Where each kind of work goes
//!
//! - **Counting** happens in any stage: each gets the invocation's
//!   [`Context`] (`cx.count("my.counter")`), `convert` included.
//! - **Narrowing.** `filter` answers keep-or-drop about an item; it cannot
//!   change its type, so an `Option` it checks is still an `Option` in
//!   `convert`. Narrow in `parse` instead: make [`Transform::Item`] the type
//!   the later stages want (a reading *with* its temperature), and drop the
//!   records that do not fit there with `Err(`[`Failure::dropped()`]`)`. Any
//!   stage may drop that way; `filter` stays the place for decisions about a
//!   well-formed item (a level, a status code, a sampling rate).
//! - **Enrichment with I/O** (a lookup over the network). The engine runs
//!   the stages synchronously, one record at a time on each of its threads
//!   (threads of its own, not the async runtime's, see
//!   [`engine`](crate::engine)), while the invocation's thread waits for the
//!   results and keeps the deadline and the byte budget exact. So:
//!   - load reference data that fits in memory (a device registry, a table
//!     from S3 or DynamoDB) in [`run_with`](crate::run_with)'s init closure:
//!     it runs once per execution environment, *before* the async runtime
//!     starts, so blocking calls, or an AWS SDK call on a tokio runtime of
//!     your own built there, are fine; `enrich` then reads it from `&self`;
//!   - for lookups per key, a blocking HTTP client called from `enrich`
//!     works, and so does `block_on` of a tokio runtime of your own kept in
//!     the transform (a stage runs outside any runtime), behind a cache
//!     (records of a batch share keys) and with a timeout of its own;
//!   - a lookup that never answers does not time the batch out: at the
//!     deadline the response goes back with that record failed, and
//!     [`run`](crate::run) then ends the process so that Lambda starts a
//!     clean one; a timeout of your own still saves the record and the
//!     warm environment;
//!   - with several threads (two vCPUs from 1,769 MB), stages run on several
//!     records at once: what they share needs a lock or an atomic, which
//!     `Transform: Send + Sync` already requires;
//!   - a failed lookup is either a [`Failure`] (`ProcessingFailed`: Firehose
//!     writes the original record to the error prefix and does not retry it)
//!     or, when the record is still worth delivering, the item left as it
//!     is and [counted](Context::count), as GeoIP does for unknown addresses.
//!
//!   The same holds for a [`pipeline::Stage`](crate::pipeline::Stage) of your
//!   own, which is how a lookup joins the no-code pipeline's stages.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;
use std::time::Instant;

use crate::event::{Event, SourceMetadata};
use crate::response::{Metadata, OtfMetadata};

/// One Firehose record as a transform sees it: decoded data and metadata.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// The record's id (unique within the invocation).
    pub id: &'a str,
    /// The record's bytes, base64-decoded.
    pub data: &'a [u8],
    /// When Firehose received the record, in milliseconds since the Unix epoch.
    pub approximate_arrival_timestamp: Option<i64>,
    /// Metadata of the source (Kinesis shard and sequence, MSK offset, ...).
    pub source: SourceMetadata<'a>,
}

impl<'a> Record<'a> {
    /// The data as UTF-8 text, or a [`Failure`] saying where it is not.
    ///
    /// ```
    /// # use firehose_transform::{Record, SourceMetadata};
    /// let source = SourceMetadata::DirectPut;
    /// let record = Record { id: "1", data: b"ok\xff", approximate_arrival_timestamp: None, source };
    /// let failure = record.text().unwrap_err();
    /// assert_eq!(failure.reason(), "data is not valid UTF-8");
    /// assert_eq!(failure.detail(), Some("invalid byte 0xff at offset 2"));
    /// ```
    pub fn text(&self) -> Result<&'a str, Failure> {
        std::str::from_utf8(self.data).map_err(|error| {
            let at = error.valid_up_to();
            Failure::new("data is not valid UTF-8").with_detail(format!(
                "invalid byte {:#04x} at offset {at}",
                self.data[at]
            ))
        })
    }

    /// The data as text, with invalid UTF-8 replaced by U+FFFD (never fails).
    pub fn text_lossy(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.data)
    }
}

/// Why a record could not be processed; it becomes `ProcessingFailed`.
///
/// The `reason` is a fixed phrase that groups failures in the invocation
/// summary and metrics ("not an Apache access log line"); the optional `detail`
/// says what was wrong with this record ("no closing quote after the request
/// at byte 57") and appears with the first few failed ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    reason: Cow<'static, str>,
    detail: Option<Detail>,
    /// Made by [`Failure::dropped`]: the record is `Dropped`, not failed.
    drop: bool,
    /// Made by [`Failure::over_budget`]: the record's output cannot fit the
    /// response.
    over_budget: bool,
}

/// A failure's detail: text, or the sizes of an entry that did not fit the
/// response, written out when first asked for. A 6 MB event that grows can
/// fail thousands of records over the budget, and formatting each one's
/// detail on the thread that assembles the response (which no other thread
/// can share) took 2% of the time of an Apache event.
#[derive(Debug, Clone)]
enum Detail {
    Text(String),
    DidNotFit {
        entry: usize,
        left: usize,
        budget: usize,
        text: OnceLock<String>,
    },
}

impl Detail {
    fn as_str(&self) -> &str {
        match self {
            Detail::Text(text) => text,
            Detail::DidNotFit {
                entry,
                left,
                budget,
                text,
            } => text.get_or_init(|| {
                format!("its {entry}-byte entry did not fit in the {left} bytes left of the {budget}-byte budget")
            }),
        }
    }
}

/// Details are equal when they read the same, written out or not.
impl PartialEq for Detail {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Detail {}

/// The reason a [`Failure::dropped`] carries (it is never reported as a failure).
pub const DROPPED_BY_STAGE: &str = "record dropped by the transform";

impl Failure {
    /// A failure with a fixed reason.
    ///
    /// ```
    /// use firehose_transform::Failure;
    /// let failure = Failure::new("not a JSON object").with_detail("line 1 column 3: expected `:`");
    /// assert_eq!(failure.to_string(), "not a JSON object: line 1 column 3: expected `:`");
    /// ```
    pub fn new(reason: impl Into<Cow<'static, str>>) -> Self {
        Failure {
            reason: reason.into(),
            detail: None,
            drop: false,
            over_budget: false,
        }
    }

    /// A failure because the record's output cannot fit the response
    /// (the engine's own [`OVER_BUDGET`](crate::engine::OVER_BUDGET), or a
    /// stage that stops early, as a decoder refusing to inflate a record
    /// past the budget). Re-ingestion writes such records back, split by
    /// [`Transform::split_oversized`] when even alone they would not fit;
    /// other failures are left to Firehose's error prefix.
    ///
    /// ```
    /// use firehose_transform::Failure;
    /// let failure = Failure::over_budget("record inflates past the response budget");
    /// assert!(failure.is_over_budget());
    /// assert!(!Failure::new("not JSON").is_over_budget());
    /// ```
    pub fn over_budget(reason: impl Into<Cow<'static, str>>) -> Self {
        Failure {
            over_budget: true,
            ..Failure::new(reason)
        }
    }

    /// Whether this is a [`Failure::over_budget`].
    pub fn is_over_budget(&self) -> bool {
        self.over_budget
    }

    /// Not a failure: returned from any stage, it makes the record `Dropped`
    /// (and discards whatever output was written). This is how `parse` drops
    /// a record it finds is not for this function, so that the item can be
    /// the narrowed type the later stages want (see [`Transform`]); `enrich`
    /// can drop a record a lookup rejects. Count why, if worth knowing, with
    /// [`Context::count`] before returning.
    ///
    /// ```
    /// use firehose_transform::{testing, Context, Failure, Output, Record, Transform};
    ///
    /// /// `DEVICE=CELSIUS` readings; other lines are not readings and are dropped.
    /// struct Celsius;
    /// impl Transform for Celsius {
    ///     type Item<'a> = (&'a str, f64); // no Option left for convert to handle
    ///     fn parse<'a>(&self, record: &Record<'a>, cx: &mut Context) -> Result<Self::Item<'a>, Failure> {
    ///         let Some((device, value)) = record.text()?.split_once('=') else {
    ///             cx.count("celsius.not_a_reading");
    ///             return Err(Failure::dropped());
    ///         };
    ///         let value = value.parse().map_err(|e| Failure::new("bad temperature").with_detail(e))?;
    ///         Ok((device, value))
    ///     }
    ///     fn convert(&self, (device, c): Self::Item<'_>, out: &mut Output, _: &mut Context) -> Result<(), Failure> {
    ///         out.write(format!("{device} {:.1}F\n", c * 9.0 / 5.0 + 32.0).as_bytes());
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let processed = testing::run(&Celsius, ["t1=20", "# header", "t2=hot"]);
    /// assert_eq!(processed.text(0), "t1 68.0F\n");
    /// assert!(processed.is_dropped(1));
    /// assert_eq!(processed.failure_reason(2), Some("bad temperature"));
    /// assert_eq!(processed.summary().counters["celsius.not_a_reading"], 1);
    /// ```
    pub fn dropped() -> Self {
        Failure {
            drop: true,
            ..Failure::new(DROPPED_BY_STAGE)
        }
    }

    /// Whether this is [`Failure::dropped`] (the record is `Dropped`).
    pub fn is_drop(&self) -> bool {
        self.drop
    }

    /// Adds what went wrong with this particular record.
    pub fn with_detail(mut self, detail: impl fmt::Display) -> Self {
        self.detail = Some(Detail::Text(detail.to_string()));
        self
    }

    /// Adds the detail of a record whose `entry`-byte response entry did not
    /// fit in the `left` bytes left of a `budget`-byte budget, written out
    /// only when read.
    pub(crate) fn with_sizes_that_did_not_fit(
        mut self,
        entry: usize,
        left: usize,
        budget: usize,
    ) -> Self {
        self.detail = Some(Detail::DidNotFit {
            entry,
            left,
            budget,
            text: OnceLock::new(),
        });
        self
    }

    /// The fixed phrase failures are grouped by.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// This record's specifics, if any.
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_ref().map(Detail::as_str)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.detail() {
            Some(detail) => write!(f, "{}: {detail}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

impl std::error::Error for Failure {}

/// Per-invocation state the stages may use: counters that appear in the
/// invocation summary and metrics.
///
/// ```
/// use firehose_transform::Context;
/// let mut cx = Context::default();
/// cx.count("geoip.private_address");
/// cx.count("geoip.private_address");
/// assert_eq!(cx.counters()["geoip.private_address"], 2);
/// ```
#[derive(Debug, Default, Clone)]
pub struct Context {
    counters: BTreeMap<&'static str, u64>,
}

impl Context {
    /// Adds one to the counter `name` (created at zero).
    pub fn count(&mut self, name: &'static str) {
        self.add(name, 1);
    }

    /// Adds `n` to the counter `name`.
    pub fn add(&mut self, name: &'static str, n: u64) {
        *self.counters.entry(name).or_insert(0) += n;
    }

    /// Adds every counter of `other` to this one's (the engine gathers the
    /// counts of the threads that ran the records).
    pub(crate) fn absorb(&mut self, other: &mut Context) {
        if other.counters.is_empty() {
            return;
        }
        if self.counters.is_empty() {
            std::mem::swap(&mut self.counters, &mut other.counters);
            return;
        }
        for (name, n) in std::mem::take(&mut other.counters) {
            self.add(name, n);
        }
    }

    /// Every counter touched in this invocation, by name.
    pub fn counters(&self) -> &BTreeMap<&'static str, u64> {
        &self.counters
    }
}

/// Where [`Transform::convert`] writes a record's output.
///
/// The bytes written become the record's `data` (the engine base64-encodes
/// them); one input may produce several lines, all under its own record id.
/// Partition keys set here go to `metadata.partitionKeys` for dynamic
/// partitioning, and Iceberg routing to `metadata.otfMetadata`.
#[derive(Debug, Default)]
pub struct Output {
    data: Vec<u8>,
    metadata: Metadata,
}

impl Output {
    /// Appends bytes to the record's output.
    pub fn write(&mut self, bytes: &[u8]) {
        self.data.extend_from_slice(bytes);
    }

    /// The output buffer itself, for writers that append to a `Vec<u8>`
    /// (such as [`ObjectWriter`](crate::formats::json::ObjectWriter)).
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.data
    }

    /// Sets a partition key for `!{partitionKeyFromLambda:key}` (replacing an
    /// earlier value of the same key).
    ///
    /// ```
    /// use firehose_transform::Output;
    /// let mut out = Output::default();
    /// out.partition_key("year", "2026");
    /// out.partition_key("year", "2027");
    /// assert_eq!(out.partition_keys(), &[("year".to_string(), "2027".to_string())]);
    /// ```
    pub fn partition_key(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.metadata.set_partition_key(key, value);
    }

    /// Routes the record to an Apache Iceberg table (`metadata.otfMetadata`).
    ///
    /// ```
    /// use firehose_transform::response::{OtfMetadata, OtfOperation};
    /// use firehose_transform::Output;
    /// let mut out = Output::default();
    /// out.otf_metadata(OtfMetadata { table: Some("orders".into()), operation: Some(OtfOperation::Update), ..Default::default() });
    /// assert_eq!(out.metadata().otf.as_ref().unwrap().table.as_deref(), Some("orders"));
    /// ```
    pub fn otf_metadata(&mut self, otf: OtfMetadata) {
        self.metadata.otf = Some(otf);
    }

    /// The bytes written so far.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The partition keys set so far, in the order first set.
    pub fn partition_keys(&self) -> &[(String, String)] {
        &self.metadata.partition_keys
    }

    /// Everything set besides the data: partition keys and Iceberg routing.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Takes the metadata set so far (the engine keeps it with the record's
    /// result while the output buffer goes on to the next record).
    pub(crate) fn take_metadata(&mut self) -> Metadata {
        std::mem::take(&mut self.metadata)
    }

    /// Empties the output for the next record, keeping its allocation.
    pub(crate) fn clear(&mut self) {
        self.data.clear();
        self.metadata.clear();
    }
}

impl std::io::Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.data.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A Firehose data transformation, one record at a time.
///
/// `Item<'a>` is what [`parse`](Transform::parse) makes of a record and the
/// stages pass along; it may borrow from the record's bytes (`&'a str` fields),
/// so parsing need not copy. Methods take `&self`: configuration is built once
/// per execution environment and shared by every record.
///
/// A panic in any method fails that record alone (`ProcessingFailed`, reason
/// "transform panicked"), but a `Failure` with a reason says more. That needs
/// the binary to unwind on panic, Cargo's default: with `panic = "abort"` in
/// its profile a panic ends the process and Firehose retries the whole batch
/// (see [`engine::ISOLATES_PANICS`](crate::engine::ISOLATES_PANICS)).
///
/// ```
/// use firehose_transform::{Context, Failure, Output, Record, Transform};
///
/// /// Upper-cases each record, dropping blank ones.
/// struct Shout;
///
/// impl Transform for Shout {
///     type Item<'a> = &'a str;
///
///     fn parse<'a>(&self, record: &Record<'a>, _cx: &mut Context) -> Result<&'a str, Failure> {
///         record.text()
///     }
///
///     fn filter(&self, line: &&str, _cx: &mut Context) -> bool {
///         !line.trim().is_empty()
///     }
///
///     fn convert(&self, line: &str, out: &mut Output, _cx: &mut Context) -> Result<(), Failure> {
///         out.write(line.to_uppercase().as_bytes());
///         out.write(b"\n");
///         Ok(())
///     }
/// }
///
/// let processed = firehose_transform::testing::run(&Shout, &["hello", "  "]);
/// assert_eq!(processed.text(0), "HELLO\n");
/// assert!(processed.is_dropped(1));
/// ```
pub trait Transform: Send + Sync + 'static {
    /// A record after parsing, passed through the stages.
    type Item<'a>;

    /// Turns the record into an item; an error fails the record.
    fn parse<'a>(&self, record: &Record<'a>, cx: &mut Context) -> Result<Self::Item<'a>, Failure>;

    /// Stage 1, filter: `true` keeps the item, `false` drops the record
    /// (`Dropped`). Keeps everything unless overridden.
    fn filter(&self, item: &Self::Item<'_>, cx: &mut Context) -> bool {
        let _ = (item, cx);
        true
    }

    /// Stage 2, enrich: adds to the item (GeoIP fields, ...). An error fails the
    /// record; data that is merely missing should leave the item as it is and,
    /// if worth knowing, be [counted](Context::count). Does nothing unless
    /// overridden.
    fn enrich(&self, item: &mut Self::Item<'_>, cx: &mut Context) -> Result<(), Failure> {
        let _ = (item, cx);
        Ok(())
    }

    /// Runs once per invocation, before the first record: batch work for
    /// the whole event, such as looking every record's key up in one call
    /// (the DynamoDB lookup does) rather than one call per record. What it
    /// finds it keeps in `self` (behind a lock) for the stages to use. A
    /// panic here is logged and the records still run. Does nothing unless
    /// overridden.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use firehose_transform::{transform::Batch, Context, Failure, Output, Record, Transform};
    ///
    /// #[derive(Default)]
    /// struct CountsFirst(AtomicUsize);
    /// impl Transform for CountsFirst {
    ///     type Item<'a> = ();
    ///     fn prepare(&self, batch: &Batch<'_>, _cx: &mut Context) {
    ///         let mut bytes = 0;
    ///         batch.for_each_record(|record| bytes += record.data.len());
    ///         self.0.store(bytes, Ordering::Relaxed);
    ///     }
    ///     fn parse(&self, _: &Record<'_>, _: &mut Context) -> Result<(), Failure> { Ok(()) }
    ///     fn convert(&self, _: (), out: &mut Output, _: &mut Context) -> Result<(), Failure> {
    ///         out.write(self.0.load(Ordering::Relaxed).to_string().as_bytes());
    ///         Ok(())
    ///     }
    /// }
    /// let processed = firehose_transform::testing::run(&CountsFirst::default(), ["ab", "cde"]);
    /// assert_eq!(processed.text(1), "5");
    /// ```
    fn prepare(&self, batch: &Batch<'_>, cx: &mut Context) {
        let _ = (batch, cx);
    }

    /// With re-ingestion on, called for a record whose output **alone** is
    /// larger than the response budget, so that writing it back whole would
    /// only bring it back too large again. Return the records to write back
    /// in its place (each is processed again, in a later batch, as a record
    /// of its own), or `None` to fail it (`ProcessingFailed`: Firehose keeps
    /// it in the error prefix). The CloudWatch Logs processor splits its log
    /// events in halves here. `record.data` is the original data. The record
    /// is answered `Dropped` only when every part was written. Returns
    /// `None` unless overridden.
    fn split_oversized(&self, record: &Record<'_>) -> Option<Vec<Vec<u8>>> {
        let _ = record;
        None
    }

    /// Stage 3, convert: writes the item in the output format. `cx` counts
    /// what is worth knowing about the writing (values truncated, defaults
    /// used, ...).
    fn convert(
        &self,
        item: Self::Item<'_>,
        out: &mut Output,
        cx: &mut Context,
    ) -> Result<(), Failure>;
}

/// The whole event, for [`Transform::prepare`]: its records decoded one
/// after another, and the time by which the batch must be answered.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'e> {
    event: &'e Event<'e>,
    deadline: Option<Instant>,
}

impl<'e> Batch<'e> {
    /// The batch of `event`, to be done by `deadline` (none locally).
    pub fn new(event: &'e Event<'e>, deadline: Option<Instant>) -> Self {
        Batch { event, deadline }
    }

    /// How many records the event has.
    pub fn len(&self) -> usize {
        self.event.records.len()
    }

    /// Whether it has none.
    pub fn is_empty(&self) -> bool {
        self.event.records.is_empty()
    }

    /// When work must stop so the records can still be processed and
    /// answered (the engine's margin already taken off).
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The event itself.
    pub fn event(&self) -> &'e Event<'e> {
        self.event
    }

    /// Calls `f` on every record that decodes, in order, as the stages will
    /// see it (base64 decoded, a re-ingestion frame removed). Records whose
    /// data is not base64 are skipped: they fail on their own later.
    pub fn for_each_record(&self, mut f: impl FnMut(&Record<'_>)) {
        let mut decoded = Vec::new();
        for wire in &self.event.records {
            let Some(payload) = wire.payload() else {
                continue;
            };
            decoded.clear();
            if crate::codec::decode_append(payload, &mut decoded).is_err() {
                continue;
            }
            let data = &decoded[crate::reingest::frame_len(&decoded)..];
            f(&Record {
                id: &wire.record_id,
                data,
                approximate_arrival_timestamp: wire.approximate_arrival_timestamp,
                source: wire.source(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_detail_of_sizes_reads_and_compares_as_its_text() {
        let sizes = Failure::over_budget("over").with_sizes_that_did_not_fit(2046, 1987, 4096);
        let text = Failure::over_budget("over").with_detail(
            "its 2046-byte entry did not fit in the 1987 bytes left of the 4096-byte budget",
        );
        // Equal before the sizes are written out, and after.
        assert_eq!(sizes.clone(), text);
        assert_eq!(sizes.detail(), text.detail());
        assert_eq!(sizes, text);
        assert_eq!(sizes.to_string(), text.to_string());
        assert_ne!(
            sizes,
            Failure::over_budget("over").with_sizes_that_did_not_fit(2046, 1986, 4096)
        );
    }
}
