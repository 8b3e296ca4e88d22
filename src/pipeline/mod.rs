//! Pipelines: a transform composed of stages, each usable alone.
//!
//! ```text
//! record ─▶ input format (json | apache | syslog | …) ─▶ documents
//!        ─▶ stages, in the order added (filters, enrichers, redaction)
//!        ─▶ keys (partition keys, Iceberg routing) ─▶ writer (JSON lines | CSV)
//! ```
//!
//! A record is parsed into one or more [documents](crate::doc::Value): one
//! per line for line formats, one per JSON value for JSON (a record may hold
//! several, newline-delimited or concatenated). Each [`Stage`] runs on each
//! document and may drop it; a record whose documents are all dropped is
//! `Dropped`. [`KeyStage`]s then set the record's partition keys and Iceberg
//! routing (every document of a record must agree: Firehose routes records,
//! not lines), and the [`Writer`] writes each document, all under the record's
//! id.
//!
//! The builder reads like the data flow, after `tower::ServiceBuilder`:
//!
//! ```
//! use firehose_transform::pipeline::{JqFilter, JsonLines, PartitionKeys, Pipeline};
//!
//! let transform = Pipeline::json()
//!     .stage(JqFilter::new(".status >= 400")?)
//!     .keys(PartitionKeys::new("{customer: .customer_id}")?)
//!     .write(JsonLines);
//!
//! let processed = firehose_transform::testing::run(&transform, [
//!     r#"{"customer_id":"c-7","status":503}"#,
//!     r#"{"customer_id":"c-8","status":200}"#,
//! ]);
//! assert_eq!(processed.text(0), "{\"customer_id\":\"c-7\",\"status\":503}\n");
//! assert_eq!(processed.partition_keys(0), &[("customer".to_string(), "c-7".to_string())]);
//! assert!(processed.is_dropped(1));
//! # Ok::<(), firehose_transform::pipeline::jq::JqError>(())
//! ```
//!
//! Every piece is also usable without the pipeline: a [`Stage`] on a
//! [`Value`], [`jq::Jq`] on a value, [`redact::Redactor`] on a string.

use std::borrow::Cow;
use std::fmt;

use crate::doc::{Path, Value};
use crate::response::{Metadata, OtfMetadata};
use crate::transform::{Context, Failure, Output, Record, Transform};

pub mod decode;
#[cfg(feature = "geoip")]
mod geoip;
pub mod input;
pub mod jq;
pub mod keys;
pub mod output;
pub mod redact;

#[cfg(feature = "geoip")]
pub use geoip::{GeoIpField, GEOIP_MISSING_FIELD};
pub use input::{InputFormat, Json, ParseContext};
pub use keys::{IcebergRouting, NameSource, PartitionKeys};
pub use output::{Csv, JsonLines};
pub use redact::Redact;
#[cfg(feature = "regex")]
pub use redact::Redactor;

/// A step that runs on each document: reads it, changes it, or drops it.
///
/// ```
/// use firehose_transform::doc::Value;
/// use firehose_transform::pipeline::{JqFilter, Stage};
/// use firehose_transform::Context;
///
/// let errors = JqFilter::new(r#".level == "ERROR""#).unwrap();
/// let mut doc = Value::parse_json(r#"{"level":"INFO"}"#).unwrap();
/// assert_eq!(errors.apply(&mut doc, &mut Context::default()), Ok(false));
/// ```
pub trait Stage: Send + Sync + fmt::Debug {
    /// `Ok(true)` keeps the document, `Ok(false)` drops it; an error fails
    /// the whole record.
    fn apply(&self, doc: &mut Value<'_>, cx: &mut Context) -> Result<bool, Failure>;

    /// Whether this stage may change documents (filters do not). While no
    /// stage does, a JSON record is written back as its own text.
    fn changes_documents(&self) -> bool {
        true
    }

    /// Once per batch, before any record: work on the whole batch at once,
    /// such as one lookup call for every document's key. `docs` visits
    /// every document of the batch as parsed (before any stage ran); the
    /// records are parsed only if the stage asks. Does nothing unless
    /// overridden.
    fn prepare(&self, docs: &mut BatchDocs<'_>, cx: &mut Context) {
        let _ = (docs, cx);
    }
}

/// Walks a batch's documents, calling the function it is given on each.
type VisitDocs<'x> = dyn FnMut(&mut dyn FnMut(&Value<'_>)) + 'x;

/// Every document of a batch, for [`Stage::prepare`], parsed when visited.
pub struct BatchDocs<'x> {
    visit: &'x mut VisitDocs<'x>,
    deadline: Option<std::time::Instant>,
}

impl BatchDocs<'_> {
    /// Calls `f` on every document of the batch, in order. Records that do
    /// not parse are skipped (they fail on their own later).
    pub fn for_each(&mut self, mut f: impl FnMut(&Value<'_>)) {
        (self.visit)(&mut f)
    }

    /// When the batch's work must be done by.
    pub fn deadline(&self) -> Option<std::time::Instant> {
        self.deadline
    }
}

impl fmt::Debug for BatchDocs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchDocs")
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

/// Sets what Firehose routes a record by: partition keys, Iceberg table.
pub trait KeyStage: Send + Sync + fmt::Debug {
    /// Adds this stage's keys for `doc` to `metadata`.
    fn keys(&self, doc: &Value<'_>, metadata: &mut Metadata) -> Result<(), Failure>;
}

/// Writes a document in the output format.
pub trait Writer: Send + Sync + fmt::Debug {
    /// Appends `doc` to `out`, with its delimiter. `source` is the
    /// document's own JSON text when no stage changed it (a writer of JSON
    /// may copy it rather than write `doc` again).
    fn write(
        &self,
        doc: &Value<'_>,
        source: Option<&str>,
        out: &mut Vec<u8>,
    ) -> Result<(), Failure>;
}

/// What to do with a line that does not parse when others in the record do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BadLine {
    /// Fail the whole record (`ProcessingFailed`: Firehose keeps it whole).
    #[default]
    Fail,
    /// Drop the line, convert the rest, and count it (`pipeline.bad_lines_dropped`).
    Drop,
}

/// The counter of lines dropped under [`BadLine::Drop`].
pub const BAD_LINES_DROPPED: &str = "pipeline.bad_lines_dropped";
/// The counter of records whose invalid UTF-8 was replaced (line formats).
pub const INVALID_UTF8_REPLACED: &str = "pipeline.invalid_utf8_replaced";

/// A transform made of an input format, stages, key stages and a writer.
#[derive(Debug)]
pub struct Pipeline {
    input: Box<dyn InputFormat>,
    stages: Vec<Box<dyn Stage>>,
    keys: Vec<Box<dyn KeyStage>>,
    writer: Box<dyn Writer>,
    bad_line: BadLine,
    /// The record decoder, and where its fields go in each document.
    decoder: Option<(Box<dyn decode::RecordDecoder>, Path)>,
}

impl Pipeline {
    /// A pipeline over `input`, writing JSON lines until told otherwise.
    pub fn new(input: impl InputFormat + 'static) -> Self {
        Pipeline::from_boxed(Box::new(input))
    }

    /// [`new`](Pipeline::new) for a format chosen at run time.
    pub fn from_boxed(input: Box<dyn InputFormat>) -> Self {
        Pipeline {
            input,
            stages: Vec::new(),
            keys: Vec::new(),
            writer: Box::new(JsonLines),
            bad_line: BadLine::Fail,
            decoder: None,
        }
    }

    /// A pipeline over JSON records.
    pub fn json() -> Self {
        Pipeline::new(Json)
    }

    /// Adds a stage; stages run in the order added.
    pub fn stage(mut self, stage: impl Stage + 'static) -> Self {
        self.stages.push(Box::new(stage));
        self
    }

    /// [`stage`](Pipeline::stage) for a stage chosen at run time.
    pub fn boxed_stage(mut self, stage: Box<dyn Stage>) -> Self {
        self.stages.push(stage);
        self
    }

    /// Adds a filter written as a closure: `true` keeps the document.
    ///
    /// ```
    /// use firehose_transform::doc::Path;
    /// use firehose_transform::pipeline::Pipeline;
    ///
    /// let status = Path::parse(".status").unwrap();
    /// let transform = Pipeline::json().filter(move |doc| {
    ///     doc.get(&status).and_then(|s| s.as_i64()).is_some_and(|s| s >= 500)
    /// });
    /// let processed = firehose_transform::testing::run(&transform, [r#"{"status":503}"#, r#"{"status":200}"#]);
    /// assert!(processed.is_ok(0) && processed.is_dropped(1));
    /// ```
    pub fn filter<F>(self, keep: F) -> Self
    where
        F: Fn(&Value<'_>) -> bool + Send + Sync + 'static,
    {
        self.stage(FnFilter(keep))
    }

    /// Adds a key stage (partition keys, Iceberg routing).
    pub fn keys(mut self, keys: impl KeyStage + 'static) -> Self {
        self.keys.push(Box::new(keys));
        self
    }

    /// Sets the writer.
    pub fn write(mut self, writer: impl Writer + 'static) -> Self {
        self.writer = Box::new(writer);
        self
    }

    /// [`write`](Pipeline::write) for a writer chosen at run time.
    pub fn boxed_writer(mut self, writer: Box<dyn Writer>) -> Self {
        self.writer = writer;
        self
    }

    /// Decodes each record with `decoder` before the input format: each
    /// payload is parsed on its own, and the decoder's fields for it are set
    /// at `fields_at` in its document (an object of them).
    pub fn decoder(self, decoder: impl decode::RecordDecoder + 'static, fields_at: Path) -> Self {
        self.boxed_decoder(Box::new(decoder), fields_at)
    }

    /// [`decoder`](Pipeline::decoder) for a decoder chosen at run time.
    pub fn boxed_decoder(
        mut self,
        decoder: Box<dyn decode::RecordDecoder>,
        fields_at: Path,
    ) -> Self {
        self.decoder = Some((decoder, fields_at));
        self
    }

    /// What to do with a line (or decoded payload) that does not parse.
    pub fn bad_line(mut self, policy: BadLine) -> Self {
        self.bad_line = policy;
        self
    }

    /// The input format.
    pub fn input(&self) -> &dyn InputFormat {
        &*self.input
    }

    /// Parses a record's text into documents.
    fn documents<'a>(
        &self,
        text: &'a str,
        pcx: &ParseContext,
        cx: &mut Context,
    ) -> Result<Docs<'a>, Failure> {
        let mut docs = Docs::default();
        match self.input.framing() {
            input::Framing::Json => {
                for (n, doc) in Value::parse_json_stream(text).enumerate() {
                    match doc {
                        Ok((doc, source)) => {
                            let mut emit = |doc, source| docs.push(doc, Some(source));
                            if let Err(failure) = self.input.json_documents(doc, source, &mut emit)
                            {
                                if n == 0 {
                                    return Err(failure);
                                }
                                let detail = failure.detail().unwrap_or_default().to_string();
                                return Err(Failure::new(failure.reason().to_string())
                                    .with_detail(format_args!("value {}: {detail}", n + 1)));
                            }
                        }
                        Err(error) => {
                            let failure = Failure::new(input::NOT_JSON);
                            return Err(if n == 0 {
                                failure.with_detail(error)
                            } else {
                                failure.with_detail(format_args!("value {}: {error}", n + 1))
                            });
                        }
                    }
                }
                if docs.docs.is_empty() {
                    return Err(Failure::new(input::NOT_JSON).with_detail("the record is empty"));
                }
            }
            input::Framing::Lines => {
                let continues = |line: &str| self.input.continues(line);
                for (number, message) in crate::formats::lines::messages(text, continues) {
                    match self.input.parse(message, pcx) {
                        Ok(doc) => docs.push(doc, None),
                        Err(failure) => {
                            self.bad_line
                                .handle(failure, cx, format_args!("line {number}"))?;
                        }
                    }
                }
            }
        }
        Ok(docs)
    }
}

impl Pipeline {
    /// The documents of a record through the decoder: each payload parsed
    /// on its own, the decoder's fields added, owned (the decoded bytes do
    /// not outlive this call).
    fn decoded_documents(
        &self,
        decoder: &dyn decode::RecordDecoder,
        fields_at: &Path,
        record: &Record<'_>,
        cx: &mut Context,
    ) -> Result<Docs<'static>, Failure> {
        let bytes = decoder.unwrap(record.data)?;
        let mut docs = Docs::default();
        let Some(payloads) = decoder.payloads(&bytes, cx)? else {
            return Ok(docs);
        };
        for (n, payload) in payloads.into_iter().enumerate() {
            let pcx = ParseContext {
                arrival_ms: payload.time_ms.or(record.approximate_arrival_timestamp),
            };
            let parsed = self.input.parse(&payload.text, &pcx).and_then(|mut doc| {
                let fields = Value::Object(
                    payload
                        .fields
                        .into_iter()
                        .map(|(k, v)| (Cow::Borrowed(k), v))
                        .collect(),
                );
                if doc.set(fields_at, fields) {
                    Ok(doc.into_owned())
                } else {
                    Err(Failure::new(NOT_AN_OBJECT)
                        .with_detail(format_args!("its fields cannot be set at {fields_at}")))
                }
            });
            match parsed {
                Ok(doc) => docs.push(doc, None),
                Err(failure) => {
                    self.bad_line
                        .handle(failure, cx, format_args!("log event {}", n + 1))?;
                }
            }
        }
        Ok(docs)
    }
}

/// The reason of a decoded payload whose document is not an object (the
/// decoder's fields need one).
pub const NOT_AN_OBJECT: &str = "payload is not a JSON object";

impl BadLine {
    /// Applies the policy to a line (or payload) that failed: `Drop` counts
    /// it ([`BAD_LINES_DROPPED`]) and goes on, `Fail` fails the record with
    /// the line's reason and `where_` before its detail.
    ///
    /// ```
    /// use firehose_transform::pipeline::{BadLine, BAD_LINES_DROPPED};
    /// use firehose_transform::{Context, Failure};
    ///
    /// let mut cx = Context::default();
    /// let bad = || Failure::new("not a syslog line").with_detail("invalid timestamp at byte 0");
    /// assert!(BadLine::Drop.handle(bad(), &mut cx, "line 2").is_ok());
    /// assert_eq!(cx.counters()[BAD_LINES_DROPPED], 1);
    /// let failure = BadLine::Fail.handle(bad(), &mut cx, "line 2").unwrap_err();
    /// assert_eq!(failure.to_string(), "not a syslog line: line 2: invalid timestamp at byte 0");
    /// ```
    pub fn handle(
        self,
        failure: Failure,
        cx: &mut Context,
        where_: impl fmt::Display,
    ) -> Result<(), Failure> {
        match self {
            BadLine::Drop => {
                cx.count(BAD_LINES_DROPPED);
                Ok(())
            }
            BadLine::Fail => {
                let reason = failure.reason().to_string();
                Err(Failure::new(reason).with_detail(match failure.detail() {
                    Some(detail) => format!("{where_}: {detail}"),
                    None => where_.to_string(),
                }))
            }
        }
    }

    /// Reads `BAD_LINE`: `fail` (the default) or `drop`.
    pub fn from_settings(
        settings: &crate::config::Settings,
    ) -> Result<Self, crate::config::ConfigError> {
        match settings.get(BAD_LINE).as_deref().map(str::trim) {
            None | Some("fail") => Ok(BadLine::Fail),
            Some("drop") => Ok(BadLine::Drop),
            Some(other) => Err(crate::config::ConfigError::new(
                BAD_LINE,
                format!("{other:?} is not a policy (fail or drop)"),
            )),
        }
    }
}

/// The variable of the bad-line policy.
pub const BAD_LINE: &str = "BAD_LINE";

/// A record on its way through a pipeline: its documents, and the metadata
/// the key stages set.
#[derive(Debug, Default)]
pub struct Docs<'a> {
    /// The documents still kept.
    pub docs: Vec<Value<'a>>,
    /// Each document's own JSON text, when it has one.
    sources: Vec<Option<&'a str>>,
    metadata: Metadata,
}

impl<'a> Docs<'a> {
    fn push(&mut self, doc: Value<'a>, source: Option<&'a str>) {
        self.docs.push(doc);
        self.sources.push(source);
    }

    /// Runs `stage` on every document, keeping those it keeps (in order,
    /// moved down over the dropped ones: no allocation per record).
    fn apply(&mut self, stage: &dyn Stage, cx: &mut Context) -> Result<(), Failure> {
        let mut kept = 0;
        for i in 0..self.docs.len() {
            if stage.apply(&mut self.docs[i], cx)? {
                self.docs.swap(kept, i);
                self.sources.swap(kept, i);
                kept += 1;
            }
        }
        self.docs.truncate(kept);
        self.sources.truncate(kept);
        Ok(())
    }
}

impl Transform for Pipeline {
    type Item<'a> = Docs<'a>;

    /// Gives each stage its [`Stage::prepare`] over the batch's documents.
    fn prepare(&self, batch: &crate::transform::Batch<'_>, cx: &mut Context) {
        for stage in &self.stages {
            let mut visit = |f: &mut dyn FnMut(&Value<'_>)| {
                batch.for_each_record(|record| {
                    let Ok(text) = std::str::from_utf8(record.data) else {
                        return;
                    };
                    let pcx = ParseContext {
                        arrival_ms: record.approximate_arrival_timestamp,
                    };
                    // Counters of this parse are not the records' own.
                    let mut scratch = Context::default();
                    if let Ok(docs) = self.documents(text, &pcx, &mut scratch) {
                        docs.docs.iter().for_each(&mut *f);
                    }
                })
            };
            let mut docs = BatchDocs {
                visit: &mut visit,
                deadline: batch.deadline(),
            };
            stage.prepare(&mut docs, cx);
        }
    }

    /// Parses the documents and runs the stages (which may drop some).
    fn parse<'a>(&self, record: &Record<'a>, cx: &mut Context) -> Result<Docs<'a>, Failure> {
        let pcx = ParseContext {
            arrival_ms: record.approximate_arrival_timestamp,
        };
        let decoded = match &self.decoder {
            Some((decoder, fields_at)) => {
                Some(self.decoded_documents(&**decoder, fields_at, record, cx)?)
            }
            None => None,
        };
        let mut docs = match std::str::from_utf8(record.data) {
            _ if decoded.is_some() => decoded.unwrap_or_default(),
            Ok(text) => self.documents(text, &pcx, cx)?,
            Err(_) if self.input.framing() == input::Framing::Lines => {
                // Line formats convert what they can: a Latin-1 byte in a
                // user agent should not lose the line.
                cx.count(INVALID_UTF8_REPLACED);
                let text = String::from_utf8_lossy(record.data);
                let docs = self.documents(&text, &pcx, cx)?;
                let mut owned = Docs::default();
                for doc in docs.docs {
                    owned.push(doc.into_owned(), None);
                }
                owned
            }
            Err(_) => return Err(record.text().expect_err("not UTF-8")),
        };
        for stage in &self.stages {
            docs.apply(&**stage, cx)?;
            if stage.changes_documents() {
                docs.sources.iter_mut().for_each(|s| *s = None);
            }
        }
        Ok(docs)
    }

    /// A record is dropped when no document is left.
    fn filter(&self, item: &Docs<'_>, _cx: &mut Context) -> bool {
        !item.docs.is_empty()
    }

    /// Runs the key stages; every document of the record must agree.
    fn enrich(&self, item: &mut Docs<'_>, _cx: &mut Context) -> Result<(), Failure> {
        for (n, doc) in item.docs.iter().enumerate() {
            let mut metadata = Metadata::default();
            for stage in &self.keys {
                stage.keys(doc, &mut metadata)?;
            }
            if n == 0 {
                item.metadata = metadata;
            } else if metadata != item.metadata {
                return Err(Failure::new(keys::KEYS_DISAGREE).with_detail(format_args!(
                    "value 1 gives {}, value {} gives {}",
                    describe(&item.metadata),
                    n + 1,
                    describe(&metadata)
                )));
            }
        }
        Ok(())
    }

    /// The record decoder's [split](decode::RecordDecoder::split) (a
    /// CloudWatch Logs record in halves of its log events); `None` without
    /// a decoder.
    fn split_oversized(&self, record: &Record<'_>) -> Option<Vec<Vec<u8>>> {
        self.decoder.as_ref()?.0.split(record.data)
    }

    fn convert(&self, item: Docs<'_>, out: &mut Output, _cx: &mut Context) -> Result<(), Failure> {
        for (doc, source) in item.docs.iter().zip(&item.sources) {
            self.writer.write(doc, *source, out.buffer())?;
        }
        for (key, value) in item.metadata.partition_keys {
            out.partition_key(key, value);
        }
        if let Some(otf) = item.metadata.otf {
            out.otf_metadata(otf);
        }
        Ok(())
    }
}

/// Metadata in a failure detail: `customer=a, year=2026`.
fn describe(metadata: &Metadata) -> String {
    let mut parts: Vec<String> = metadata
        .partition_keys
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if let Some(OtfMetadata {
        database,
        table,
        operation,
    }) = &metadata.otf
    {
        parts.push(format!(
            "iceberg={}.{} {}",
            database.as_deref().unwrap_or("-"),
            table.as_deref().unwrap_or("-"),
            operation.map_or("-", |o| o.as_str())
        ));
    }
    if parts.is_empty() {
        "no keys".to_string()
    } else {
        parts.join(", ")
    }
}

/// A filter stage from a closure.
struct FnFilter<F>(F);

impl<F> fmt::Debug for FnFilter<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnFilter")
    }
}

impl<F> Stage for FnFilter<F>
where
    F: Fn(&Value<'_>) -> bool + Send + Sync,
{
    fn apply(&self, doc: &mut Value<'_>, _cx: &mut Context) -> Result<bool, Failure> {
        Ok((self.0)(doc))
    }

    fn changes_documents(&self) -> bool {
        false
    }
}

/// The reason of a record whose filter expression failed.
pub const FILTER_FAILED: &str = "filter expression failed";

/// Keeps the documents for which a jq expression is true (as
/// `select(EXPR)` would): any output other than `false` and `null` keeps
/// it; no output drops it. An error fails the record.
#[derive(Debug)]
pub struct JqFilter(jq::Jq);

impl JqFilter {
    /// Compiles the expression.
    pub fn new(code: &str) -> Result<Self, jq::JqError> {
        jq::Jq::compile(code).map(JqFilter)
    }
}

impl Stage for JqFilter {
    fn apply(&self, doc: &mut Value<'_>, _cx: &mut Context) -> Result<bool, Failure> {
        self.0
            .is_true(doc)
            .map_err(|error| Failure::new(FILTER_FAILED).with_detail(error))
    }

    fn changes_documents(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    #[test]
    fn several_json_values_in_one_record_each_go_through_the_stages() {
        let transform = Pipeline::json().stage(JqFilter::new(".keep").unwrap());
        let processed = testing::run(
            &transform,
            ["{\"keep\":true,\"n\":1}\n{\"keep\":false}{\"keep\":1,\"n\":3}"],
        );
        assert_eq!(
            processed.text(0),
            "{\"keep\":true,\"n\":1}\n{\"keep\":1,\"n\":3}\n"
        );
    }

    #[test]
    fn a_record_that_is_not_json_fails_alone_with_line_and_column() {
        let processed = testing::run(
            &Pipeline::json(),
            ["{\"a\":1}", "{\"a\":\n oops}", "{\"a\":1}\n{"],
        );
        assert!(processed.is_ok(0));
        let failure = processed.failure(1).unwrap();
        assert_eq!(failure.reason(), input::NOT_JSON);
        assert_eq!(failure.detail(), Some("line 2 column 2: expected value"));
        assert_eq!(
            processed.failure(2).unwrap().detail(),
            Some("value 2: line 2 column 1: EOF while parsing an object")
        );
    }

    #[test]
    fn keys_must_agree_across_the_values_of_a_record() {
        let transform = Pipeline::json().keys(PartitionKeys::new("{c: .c}").unwrap());
        let processed = testing::run(
            &transform,
            [
                "{\"c\":\"a\"}\n{\"c\":\"a\"}",
                "{\"c\":\"a\"}\n{\"c\":\"b\"}",
            ],
        );
        assert_eq!(
            processed.partition_keys(0),
            &[("c".to_string(), "a".to_string())]
        );
        assert_eq!(processed.failure_reason(1), Some(keys::KEYS_DISAGREE));
        assert_eq!(
            processed.failure(1).unwrap().detail(),
            Some("value 1 gives c=a, value 2 gives c=b")
        );
    }

    #[test]
    fn a_failing_filter_fails_the_record_with_the_jq_error() {
        let transform = Pipeline::json().stage(JqFilter::new(".a.b").unwrap());
        let processed = testing::run(&transform, [r#"{"a":"text"}"#]);
        assert_eq!(processed.failure_reason(0), Some(FILTER_FAILED));
        assert!(processed
            .failure(0)
            .unwrap()
            .detail()
            .unwrap()
            .contains("cannot index"));
    }
}
