//! Running a [`Transform`] over a batch under every rule of the contract.
//!
//! The engine is the only code that writes a response, and it guarantees:
//!
//! - **Every record id comes back exactly once, in input order**, whatever the
//!   transform does: each input record gets exactly one entry, `Ok`, `Dropped`
//!   or `ProcessingFailed`.
//! - **The response never exceeds the byte budget** (default 6 MiB,
//!   6,291,456 bytes), counted exactly ([`Response::serialized_len`]). Before
//!   the first record runs, room is reserved for every record to come back as
//!   `ProcessingFailed` (the smallest entry that loses nothing). Then, in input
//!   order, each record keeps its outcome if its entry still fits in what is
//!   left; otherwise it becomes `ProcessingFailed` with the reason
//!   [`OVER_BUDGET`] and Firehose keeps its original data. So the records that
//!   fail for size are always the last ones that did not fit, and the same
//!   event always gives the same response.
//! - **One bad record fails alone.** Data that is not base64, a [`Failure`]
//!   from the transform, or a panic in it makes that record `ProcessingFailed`
//!   with its reason; the batch succeeds. (A panic is caught only when the
//!   binary unwinds, Cargo's default: with `panic = "abort"` in its profile a
//!   panic ends the process, see [`ISOLATES_PANICS`].)
//! - **No timeout.** When the time left before the invocation's deadline falls
//!   under the margin (default 1 s), the records not yet processed become
//!   `ProcessingFailed` ([`DEADLINE`]) and the response goes back in time.
//!
//! ```
//! use firehose_transform::{Context, Engine, Failure, Output, Record, Transform};
//! use firehose_transform::response::RecordResult;
//!
//! struct Passthrough;
//! impl Transform for Passthrough {
//!     type Item<'a> = &'a [u8];
//!     fn parse<'a>(&self, record: &Record<'a>, _: &mut Context) -> Result<&'a [u8], Failure> {
//!         Ok(record.data)
//!     }
//!     fn convert(&self, data: &[u8], out: &mut Output, _cx: &mut Context) -> Result<(), Failure> {
//!         out.write(data);
//!         Ok(())
//!     }
//! }
//!
//! let event = br#"{"records":[{"recordId":"1","data":"aGk="},{"recordId":"2","data":"!"}]}"#;
//! let invocation = Engine::new(Passthrough).process_json(event, None).unwrap();
//! let results: Vec<_> = invocation.response.records().map(|r| r.result).collect();
//! assert_eq!(results, [RecordResult::Ok, RecordResult::ProcessingFailed]);
//! assert_eq!(invocation.summary.failures[0].reason, "data is not valid base64");
//! ```

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;
use std::time::{Duration, Instant};

use crate::codec;
use crate::config::{ConfigError, Settings};
use crate::event::{Event, EventError, SourceKind};
use crate::formats::json::quoted_len;
use crate::response::{RecordResult, Response, NO_METADATA};
use crate::telemetry::Summary;
use crate::transform::{Context, Failure, Output, Record, Transform};

/// Reason for a record whose data is not base64.
pub const NOT_BASE64: &str = "data is not valid base64";
/// Reason for a record with neither `data` nor `kafkaRecordValue`.
pub const NO_PAYLOAD: &str = "record has neither data nor kafkaRecordValue";
/// Reason for a record whose transform panicked.
pub const PANICKED: &str = "transform panicked";
/// Reason for a record whose output did not fit in the response byte budget.
pub const OVER_BUDGET: &str = "response byte budget exceeded";
/// Reason for a record not processed because the deadline was near.
pub const DEADLINE: &str = "invocation deadline reached before processing";

/// Whether a panic in a transform fails only its record: `true` when the
/// binary is built with `panic = "unwind"` (Cargo's default), `false` with
/// `panic = "abort"`, where a panic ends the process and Firehose retries the
/// whole batch. Known at compile time; [`run`](crate::run) logs a warning at
/// start-up when it is `false`, and under abort the panic's own message and
/// the record's id are always printed before the process ends.
///
/// ```
/// // The crate's tests build with the default unwinding profile.
/// assert!(firehose_transform::engine::ISOLATES_PANICS);
/// ```
pub const ISOLATES_PANICS: bool = cfg!(panic = "unwind");

/// What [`run`](crate::run) logs at start-up when [`ISOLATES_PANICS`] is `false`.
pub const ABORT_WARNING: &str = "per-record panic isolation is off: this binary is built with \
panic = \"abort\", so a panic in the transform ends the process and Firehose retries the whole \
batch; build with panic = \"unwind\" (Cargo's default) to fail only the record";

/// Lambda's synchronous response limit as the AWS blueprints budget it: 6 MiB.
pub const DEFAULT_RESPONSE_BUDGET: usize = 6 * 1024 * 1024;
/// Time kept back from the deadline to send the response.
pub const DEFAULT_DEADLINE_MARGIN: Duration = Duration::from_millis(1000);

/// The engine's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// The most bytes the response JSON may take (`FIREHOSE_RESPONSE_BUDGET_BYTES`).
    pub response_budget: usize,
    /// Time kept back from the deadline (`FIREHOSE_DEADLINE_MARGIN_MS`).
    pub deadline_margin: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            response_budget: DEFAULT_RESPONSE_BUDGET,
            deadline_margin: DEFAULT_DEADLINE_MARGIN,
        }
    }
}

impl EngineConfig {
    /// Reads `FIREHOSE_RESPONSE_BUDGET_BYTES` and `FIREHOSE_DEADLINE_MARGIN_MS`.
    ///
    /// ```
    /// use firehose_transform::{config::Settings, EngineConfig};
    /// let settings = Settings::from_pairs([("FIREHOSE_RESPONSE_BUDGET_BYTES", "9000000")]);
    /// let error = EngineConfig::from_settings(&settings).unwrap_err();
    /// assert_eq!(error.to_string(), "FIREHOSE_RESPONSE_BUDGET_BYTES: 9000000 is over Lambda's 6291556-byte response limit");
    /// let settings = Settings::from_pairs([("FIREHOSE_DEADLINE_MARGIN_MS", "999999999")]);
    /// let error = EngineConfig::from_settings(&settings).unwrap_err();
    /// assert!(error.to_string().starts_with("FIREHOSE_DEADLINE_MARGIN_MS: 999999999 ms is not shorter than Lambda's longest timeout"));
    /// ```
    ///
    /// A margin over 5 minutes (the longest Firehose waits for a
    /// transformation) is accepted, and [`run`](crate::run) warns about it at
    /// start-up ([`EngineConfig::warnings`]).
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        const LAMBDA_LIMIT: usize = 6_291_556;
        let name = "FIREHOSE_RESPONSE_BUDGET_BYTES";
        let response_budget = settings.parse(name, DEFAULT_RESPONSE_BUDGET)?;
        if response_budget > LAMBDA_LIMIT {
            return Err(ConfigError::new(
                name,
                format!("{response_budget} is over Lambda's {LAMBDA_LIMIT}-byte response limit"),
            ));
        }
        // A margin as long as the function's whole run would fail every
        // record; one past Lambda's longest timeout is surely a typo.
        const LAMBDA_MAX_TIMEOUT_MS: u64 = 15 * 60 * 1000;
        let name = "FIREHOSE_DEADLINE_MARGIN_MS";
        let margin_ms = settings.parse(name, DEFAULT_DEADLINE_MARGIN.as_millis() as u64)?;
        if margin_ms >= LAMBDA_MAX_TIMEOUT_MS {
            return Err(ConfigError::new(
                name,
                format!(
                    "{margin_ms} ms is not shorter than Lambda's longest timeout (15 minutes, \
                     {LAMBDA_MAX_TIMEOUT_MS} ms): every record would fail before it is processed"
                ),
            ));
        }
        Ok(EngineConfig {
            response_budget,
            deadline_margin: Duration::from_millis(margin_ms),
        })
    }
}

impl EngineConfig {
    /// What is accepted but probably wrong, one line each (logged at start-up).
    ///
    /// ```
    /// use std::time::Duration;
    /// use firehose_transform::EngineConfig;
    /// let config = EngineConfig { deadline_margin: Duration::from_secs(400), ..EngineConfig::default() };
    /// assert_eq!(config.warnings().len(), 1);
    /// assert!(EngineConfig::default().warnings().is_empty());
    /// ```
    pub fn warnings(&self) -> Vec<String> {
        const FIREHOSE_MAX_WAIT: Duration = Duration::from_secs(5 * 60);
        let mut warnings = Vec::new();
        if self.deadline_margin >= FIREHOSE_MAX_WAIT {
            warnings.push(format!(
                "FIREHOSE_DEADLINE_MARGIN_MS: {} ms is at least the 5 minutes Firehose waits for a \
                 transformation: the margin is meant to be a small part of the function's timeout",
                self.deadline_margin.as_millis()
            ));
        }
        warnings
    }
}

/// A failed record: its position in the event and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFailure {
    /// The record's index in the event.
    pub index: usize,
    /// Why it failed.
    pub failure: Failure,
}

/// What one invocation produced.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The response to return to Firehose.
    pub response: Response,
    /// Counts, failures by reason, bytes and duration.
    pub summary: Summary,
    /// Every failed record, in order, with its reason.
    pub failures: Vec<RecordFailure>,
}

/// Runs a transform over batches.
///
/// [`run`](crate::run) builds one per execution environment and calls it for
/// each invocation; use it directly to process events in code of your own (a
/// batch job, a different runtime), or a test that needs the raw
/// [`Invocation`]. It holds every guarantee: each record id once, in order,
/// within the byte budget, before the deadline.
///
/// ```
/// use std::time::{Duration, Instant};
/// use firehose_transform::blueprints::process_record::ProcessRecord;
/// use firehose_transform::response::RecordResult;
/// use firehose_transform::testing::EventBuilder;
/// use firehose_transform::{Engine, EngineConfig};
///
/// let event = EventBuilder::new().lines(["a".repeat(60), "b".repeat(60), "c".repeat(60)]).to_json();
/// let deadline = Some(Instant::now() + Duration::from_secs(60));
/// let full = Engine::new(ProcessRecord::default()).process_json(&event, deadline)?;
/// let needed = full.response.to_json().len();
///
/// // One byte short: the records that do not fit are failed, from the end.
/// let engine = Engine::with_config(
///     ProcessRecord::default(),
///     EngineConfig { response_budget: needed - 1, ..EngineConfig::default() },
/// );
/// let invocation = engine.process_json(&event, deadline)?;
/// let results: Vec<RecordResult> = invocation.response.records().map(|r| r.result).collect();
/// assert_eq!(results, [RecordResult::Ok, RecordResult::Ok, RecordResult::ProcessingFailed]);
/// assert!(invocation.response.to_json().len() < needed);
/// assert_eq!(invocation.failures[0].index, 2);
/// assert_eq!(invocation.failures[0].failure.reason(), "response byte budget exceeded");
/// assert_eq!(invocation.summary.records, 3);
///
/// // A malformed event is an error that says where.
/// let error = engine.process_json(br#"{"invocationId":"x"}"#, None).unwrap_err();
/// assert!(error.to_string().contains("missing field `records`"), "{error}");
/// # Ok::<(), firehose_transform::EventError>(())
/// ```
#[derive(Debug)]
pub struct Engine<T> {
    transform: T,
    config: EngineConfig,
}

/// What happened to one record in the transform.
enum Outcome {
    Kept,
    Dropped,
    Failed(Failure),
}

impl<T: Transform> Engine<T> {
    /// An engine with the default budget and margin.
    pub fn new(transform: T) -> Self {
        Engine::with_config(transform, EngineConfig::default())
    }

    /// An engine with the given settings.
    pub fn with_config(transform: T, config: EngineConfig) -> Self {
        install_panic_hook();
        Engine { transform, config }
    }

    /// The transform.
    pub fn transform(&self) -> &T {
        &self.transform
    }

    /// The settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Parses an event from JSON and processes it.
    pub fn process_json(
        &self,
        json: &[u8],
        deadline: Option<Instant>,
    ) -> Result<Invocation, EventError> {
        let event = Event::from_slice(json)?;
        Ok(self.process(&event, deadline))
    }

    /// Processes one event. `deadline` is when the invocation times out (none
    /// for local runs).
    pub fn process(&self, event: &Event<'_>, deadline: Option<Instant>) -> Invocation {
        process_event(&self.transform, &self.config, event, deadline)
    }
}

/// [`Engine::process`] for a borrowed transform (what the testing kit uses).
pub(crate) fn process_event<T: Transform>(
    transform: &T,
    config: &EngineConfig,
    event: &Event<'_>,
    deadline: Option<Instant>,
) -> Invocation {
    install_panic_hook();
    let started = Instant::now();
    let records = &event.records;
    // Room for output as large as the input, plus an eighth: transforms that
    // add a delimiter or a few members (JSON lines) grow records a little,
    // and regrowing a 6 MB buffer at the end copies all of it and faults in
    // twice the pages (measured: a third of a JSON pipeline's time).
    // Reserving the whole budget instead (so that growing transforms never
    // regrow the buffer) was measured to cost twelve times the page faults:
    // glibc maps and unmaps blocks of that size afresh on every invocation.
    let payload_bytes: usize = records
        .iter()
        .map(|r| r.payload().map_or(0, str::len))
        .sum();
    let mut response = Response::with_capacity(
        event.source_kind() == SourceKind::Msk,
        records.len(),
        (payload_bytes + payload_bytes / 8).min(config.response_budget),
    );

    // Room for every record to come back ProcessingFailed; what is left
    // (`slack`) pays for the records whose real entry is larger.
    // Each id is measured once, here, and reused below.
    let quoted_ids: Vec<usize> = records.iter().map(|r| quoted_len(&r.record_id)).collect();
    let failed_len = |response: &Response, index: usize| {
        response.entry_len_quoted(
            quoted_ids[index],
            RecordResult::ProcessingFailed,
            None,
            &NO_METADATA,
            index == 0,
        )
    };
    let floor = response.serialized_len()
        + (0..records.len())
            .map(|i| failed_len(&response, i))
            .sum::<usize>();
    let mut slack = config.response_budget as i64 - floor as i64;

    let mut cx = Context::default();
    let mut out = Output::default();
    let mut decoded = Vec::new();
    let mut failures = Vec::new();
    let mut summary = Summary::new(&event.invocation_id);
    let give_up_at = deadline.map(|d| d.checked_sub(config.deadline_margin).unwrap_or(started));
    prepare(transform, event, give_up_at, &mut cx);
    let mut out_of_time = false;

    for (index, wire) in records.iter().enumerate() {
        let id: &str = &wire.record_id;
        let first = index == 0;
        out_of_time = out_of_time || give_up_at.is_some_and(|at| Instant::now() >= at);
        let outcome = if out_of_time {
            Outcome::Failed(Failure::new(DEADLINE))
        } else {
            match wire.payload() {
                None => Outcome::Failed(Failure::new(NO_PAYLOAD)),
                Some(payload) => {
                    decoded.clear();
                    match codec::decode_append(payload, &mut decoded) {
                        Err(error) => Outcome::Failed(Failure::new(NOT_BASE64).with_detail(error)),
                        Ok(()) => {
                            // A re-ingested record comes back framed: the
                            // transform sees the original data.
                            let data = &decoded[crate::reingest::frame_len(&decoded)..];
                            summary.data_bytes_in += data.len() as u64;
                            let record = Record {
                                id,
                                data,
                                approximate_arrival_timestamp: wire.approximate_arrival_timestamp,
                                source: wire.source(),
                            };
                            out.clear();
                            run_stages(transform, &record, &mut cx, &mut out)
                        }
                    }
                }
            }
        };

        let quoted_id = quoted_ids[index];
        let failed_len = failed_len(&response, index) as i64;
        let failure = match outcome {
            Outcome::Dropped => {
                slack -= response.entry_len_quoted(
                    quoted_id,
                    RecordResult::Dropped,
                    None,
                    &NO_METADATA,
                    first,
                ) as i64
                    - failed_len;
                response.push_encoded_quoted(
                    id,
                    quoted_id,
                    RecordResult::Dropped,
                    None,
                    &NO_METADATA,
                );
                summary.dropped += 1;
                None
            }
            Outcome::Kept => {
                let output = out.data();
                let keys = out.metadata();
                let data_len = codec::encoded_len(output.len());
                let cost = response.entry_len_quoted(
                    quoted_id,
                    RecordResult::Ok,
                    Some(data_len),
                    keys,
                    first,
                ) as i64
                    - failed_len;
                if cost <= slack {
                    slack -= cost;
                    // Unchanged output: the input's base64 text is already the
                    // answer (when it is canonical), which saves encoding it.
                    match wire.payload() {
                        Some(payload)
                            if output == decoded.as_slice() && payload.len() == data_len =>
                        {
                            response.push_encoded_quoted(
                                id,
                                quoted_id,
                                RecordResult::Ok,
                                Some(payload),
                                keys,
                            )
                        }
                        _ => response.push_ok_quoted(id, quoted_id, output, keys),
                    }
                    summary.ok += 1;
                    summary.data_bytes_out += output.len() as u64;
                    None
                } else {
                    Some(Failure::over_budget(OVER_BUDGET).with_detail(format_args!(
                        "its {}-byte entry did not fit in the {} bytes left of the {}-byte budget",
                        cost + failed_len,
                        slack.max(0) + failed_len,
                        config.response_budget
                    )))
                }
            }
            Outcome::Failed(failure) => Some(failure),
        };
        if let Some(failure) = failure {
            response.push_encoded_quoted(
                id,
                quoted_id,
                RecordResult::ProcessingFailed,
                None,
                &NO_METADATA,
            );
            summary.record_failure(id, &failure);
            failures.push(RecordFailure { index, failure });
        }
    }

    summary.records = records.len();
    summary.counters = cx.counters().clone();
    summary.response_bytes = response.serialized_len();
    summary.duration = started.elapsed();
    if floor > config.response_budget {
        summary.budget_unreachable = Some(floor);
    }
    Invocation {
        response,
        summary,
        failures,
    }
}

/// Runs the transform's once-per-batch [`Transform::prepare`]; a panic there
/// is logged and the records still run (each does its own work then).
fn prepare<T: Transform>(
    transform: &T,
    event: &Event<'_>,
    deadline: Option<Instant>,
    cx: &mut Context,
) {
    let batch = crate::transform::Batch::new(event, deadline);
    IN_RECORD.with(|flag| flag.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(|| transform.prepare(&batch, cx)));
    IN_RECORD.with(|flag| flag.set(false));
    if result.is_err() {
        let location = PANIC_LOCATION
            .with(|l| l.borrow_mut().take())
            .unwrap_or_default();
        lambda_runtime::tracing::error!(
            location,
            "the transform's prepare panicked; records run without it"
        );
    }
}

/// Runs parse, filter, enrich and convert on one record, turning a panic
/// into a failure of that record alone.
fn run_stages<T: Transform>(
    transform: &T,
    record: &Record<'_>,
    cx: &mut Context,
    out: &mut Output,
) -> Outcome {
    let stages = || -> Result<bool, Failure> {
        let mut item = transform.parse(record, cx)?;
        if !transform.filter(&item, cx) {
            return Ok(false);
        }
        transform.enrich(&mut item, cx)?;
        transform.convert(item, out, cx)?;
        Ok(true)
    };
    IN_RECORD.with(|flag| flag.set(true));
    // Under abort nothing is caught: the hook names the record before the end.
    #[cfg(panic = "abort")]
    ABORTING_RECORD.with(|id| {
        let mut id = id.borrow_mut();
        id.clear();
        id.push_str(record.id);
    });
    let result = panic::catch_unwind(AssertUnwindSafe(stages));
    IN_RECORD.with(|flag| flag.set(false));
    match result {
        Ok(Ok(true)) => Outcome::Kept,
        Ok(Ok(false)) => Outcome::Dropped,
        Ok(Err(failure)) if failure.is_drop() => Outcome::Dropped,
        Ok(Err(failure)) => Outcome::Failed(failure),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("(no message)");
            let location = PANIC_LOCATION.with(|l| l.borrow_mut().take());
            let detail = match location {
                Some(location) => format!("{message} at {location}"),
                None => message.to_string(),
            };
            Outcome::Failed(Failure::new(PANICKED).with_detail(detail))
        }
    }
}

thread_local! {
    /// Set while a record's stages run, so the panic hook knows a panic there
    /// is handled (reported per record) rather than fatal.
    static IN_RECORD: Cell<bool> = const { Cell::new(false) };
    /// Where the last record panic happened, for its failure detail.
    static PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
    /// The id of the record whose stages run, for the last words under abort.
    #[cfg(panic = "abort")]
    static ABORTING_RECORD: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Keeps panics inside a record quiet (the default hook would print a message,
/// and with `RUST_BACKTRACE` a backtrace, for every bad record of a batch) and
/// remembers their location; any other panic goes to the previous hook.
///
/// Built with `panic = "abort"`, a panic cannot be caught, so nothing is kept
/// quiet: the previous hook prints the message and location, and a line
/// names the record and says why the whole batch is lost.
fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            #[cfg(panic = "abort")]
            {
                previous(info);
                if IN_RECORD.with(Cell::get) {
                    let id = ABORTING_RECORD.with(|id| id.borrow().clone());
                    eprintln!(
                        "firehose-transform: the transform panicked on record {id:?}; {ABORT_WARNING}"
                    );
                }
            }
            #[cfg(not(panic = "abort"))]
            if IN_RECORD.with(Cell::get) {
                let location = info
                    .location()
                    .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
                PANIC_LOCATION.with(|slot| *slot.borrow_mut() = location);
            } else {
                previous(info);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{EventBuilder, Processed};

    /// Outputs each record repeated `factor` times; fails "bad", panics on "boom",
    /// drops "drop".
    struct Grow {
        factor: usize,
    }

    impl Transform for Grow {
        type Item<'a> = &'a [u8];
        fn parse<'a>(&self, record: &Record<'a>, _: &mut Context) -> Result<&'a [u8], Failure> {
            match record.data {
                b"bad" => Err(Failure::new("bad record").with_detail("it said bad")),
                b"boom" => panic!("boom went the record"),
                data => Ok(data),
            }
        }
        fn filter(&self, item: &&[u8], _: &mut Context) -> bool {
            *item != b"drop"
        }
        fn convert(&self, item: &[u8], out: &mut Output, _cx: &mut Context) -> Result<(), Failure> {
            for _ in 0..self.factor {
                out.write(item);
            }
            Ok(())
        }
    }

    fn run(
        transform: Grow,
        config: EngineConfig,
        event: &Event<'_>,
        deadline: Option<Instant>,
    ) -> Processed {
        let engine = Engine::with_config(transform, config);
        Processed::new(engine.process(event, deadline))
    }

    #[test]
    fn bad_base64_a_failure_and_a_panic_fail_only_their_records() {
        let mut builder = EventBuilder::new();
        for line in ["ok", "bad", "boom", "drop", "fine"] {
            builder = builder.line(line);
        }
        let event = builder.raw_record("not base64!").build();
        let processed = run(Grow { factor: 1 }, EngineConfig::default(), &event, None);
        processed.assert_contract(&event);
        assert_eq!(processed.text(0), "ok");
        assert_eq!(processed.failure_reason(1), Some("bad record"));
        assert_eq!(processed.failure_reason(2), Some(PANICKED));
        let detail = processed.failure(2).unwrap().detail().unwrap().to_string();
        assert!(
            detail.starts_with("boom went the record at src/engine.rs:"),
            "{detail}"
        );
        assert!(processed.is_dropped(3));
        assert_eq!(processed.text(4), "fine");
        assert_eq!(processed.failure_reason(5), Some(NOT_BASE64));
        let summary = processed.summary();
        assert_eq!((summary.ok, summary.dropped, summary.failed()), (2, 1, 3));
    }

    #[test]
    fn records_that_do_not_fit_fail_from_the_first_that_does_not_fit() {
        let event = EventBuilder::new()
            .lines((0..10).map(|i| format!("record number {i:03} {}", "x".repeat(200))))
            .build();
        let unlimited = run(Grow { factor: 5 }, EngineConfig::default(), &event, None);
        let full_len = unlimited.response_len();
        // Room for about half of the grown records.
        let budget = full_len / 2;
        let config = EngineConfig {
            response_budget: budget,
            ..EngineConfig::default()
        };
        let processed = run(Grow { factor: 5 }, config, &event, None);
        processed.assert_contract(&event);
        assert!(processed.response_len() <= budget);
        let results: Vec<bool> = (0..10).map(|i| processed.is_ok(i)).collect();
        let kept = results.iter().take_while(|ok| **ok).count();
        assert!((3..10).contains(&kept), "kept {kept}");
        assert!(results[kept..].iter().all(|ok| !ok), "{results:?}");
        assert_eq!(processed.failure_reason(kept), Some(OVER_BUDGET));
    }

    #[test]
    fn a_record_that_alone_exceeds_the_budget_fails_and_later_ones_still_fit() {
        let event = EventBuilder::new()
            .line("a")
            .line("b".repeat(5000))
            .line("c")
            .build();
        let config = EngineConfig {
            response_budget: 2000,
            ..EngineConfig::default()
        };
        let processed = run(Grow { factor: 1 }, config, &event, None);
        processed.assert_contract(&event);
        assert!(processed.is_ok(0));
        assert_eq!(processed.failure_reason(1), Some(OVER_BUDGET));
        assert!(processed.is_ok(2));
    }

    #[test]
    fn records_left_when_the_deadline_nears_fail_instead_of_timing_out() {
        let event = EventBuilder::new().lines(["a", "b", "c"]).build();
        // Already inside the margin: nothing is processed, everything comes back.
        let deadline = Instant::now() + Duration::from_millis(10);
        let processed = run(
            Grow { factor: 1 },
            EngineConfig::default(),
            &event,
            Some(deadline),
        );
        processed.assert_contract(&event);
        for i in 0..3 {
            assert_eq!(processed.failure_reason(i), Some(DEADLINE));
        }
        let later = Instant::now() + Duration::from_secs(60);
        let processed = run(
            Grow { factor: 1 },
            EngineConfig::default(),
            &event,
            Some(later),
        );
        assert!((0..3).all(|i| processed.is_ok(i)));
    }

    #[test]
    fn unchanged_output_reuses_the_input_base64() {
        let event = EventBuilder::new()
            .line("hello")
            .raw_record("aGVsbG8")
            .build();
        let processed = run(Grow { factor: 1 }, EngineConfig::default(), &event, None);
        processed.assert_contract(&event);
        // The unpadded input is re-encoded canonically, the padded one kept as is.
        assert_eq!(processed.base64(0), Some("aGVsbG8="));
        assert_eq!(processed.base64(1), Some("aGVsbG8="));
    }

    #[test]
    fn a_missing_payload_fails_the_record() {
        let json = br#"{"records":[{"recordId":"x"}]}"#;
        let event = Event::from_slice(json).unwrap();
        let processed = run(Grow { factor: 1 }, EngineConfig::default(), &event, None);
        assert_eq!(processed.failure_reason(0), Some(NO_PAYLOAD));
    }

    #[test]
    fn a_budget_too_small_even_for_failures_is_reported() {
        let event = EventBuilder::new().lines(["a", "b"]).build();
        let config = EngineConfig {
            response_budget: 10,
            ..EngineConfig::default()
        };
        let processed = run(Grow { factor: 1 }, config, &event, None);
        assert!(processed.summary().budget_unreachable.is_some());
        assert!((0..2).all(|i| processed.failure_reason(i) == Some(OVER_BUDGET)));
    }
}
