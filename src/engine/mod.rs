//! Running a [`Transform`] over a batch under every rule of the contract.
//!
//! The engine is the only code that writes a response, and it guarantees:
//!
//! - **Every record id comes back exactly once, in input order**, whatever the
//!   transform does: each input record gets exactly one entry, `Ok`, `Dropped`
//!   or `ProcessingFailed`. (An event that repeats an id gets one entry per
//!   record all the same, each answered for its own record: Firehose never
//!   sends such an event, and an answer per entry is the only one that keeps
//!   every record's fate clear.)
//! - **The response never exceeds the byte budget** (default 6 MiB,
//!   6,291,456 bytes), counted exactly ([`Response::serialized_len`]). Before
//!   the first record runs, room is reserved for every record to come back as
//!   `ProcessingFailed` (the smallest entry that loses nothing). Then, in input
//!   order, each record keeps its outcome if its entry still fits in what is
//!   left; otherwise it becomes `ProcessingFailed` with the reason
//!   [`OVER_BUDGET`] and Firehose keeps its original data. So the records that
//!   fail for size are always the last ones that did not fit, and the same
//!   event always gives the same response, whatever the number of threads.
//!   When even that floor does not fit (a budget set far too small, or an
//!   event of very many tiny records), no response could keep the contract:
//!   the invocation fails with [`InvocationError::BudgetTooSmall`], naming the
//!   floor and the budget, and Firehose retries the batch, then keeps every
//!   record in its error prefix.
//! - **One bad record fails alone.** Data that is not base64, a [`Failure`]
//!   from the transform, or a panic in it makes that record `ProcessingFailed`
//!   with its reason; the batch succeeds. That holds for a panic whose payload
//!   panics again when dropped, and (on the engine's own threads, that is on
//!   Lambda and in local mode) for a value whose `Drop` panics while the
//!   first panic unwinds, which the Rust runtime otherwise answers by
//!   aborting the process: see [`Invocation::left_running`]. (A panic is
//!   caught only when the binary unwinds, Cargo's default: with
//!   `panic = "abort"` in its profile a panic ends the process, see
//!   [`ISOLATES_PANICS`].)
//! - **No timeout, even when a record never returns.** The records run on
//!   threads of the engine's own while the calling thread assembles their
//!   results. When the time left before the deadline falls under the margin
//!   (default 1 s), the response is made from what is done and the records
//!   with no result yet become `ProcessingFailed` ([`DEADLINE`]), even if a
//!   thread is still inside a record; [`run`](crate::run) then ends the
//!   process once the response is sent, so Lambda starts a clean one. The
//!   deadline is Lambda's, capped by [`EngineConfig::time_limit`] (Firehose
//!   waits 5 minutes at most); a Lambda deadline already past when the event
//!   arrives is a placeholder (emulators send one) and is not used.
//! - **Every core.** With more than one CPU, the records of a large batch run
//!   on several threads ([`EngineConfig::threads`]); the response is the same.
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

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::{ConfigError, Settings};
use crate::event::{Event, EventError, SharedEvent};
use crate::telemetry::Summary;
use crate::transform::{Batch, Context, Failure, Transform};

mod batch;
mod pool;
mod record;

use batch::{Plan, Run};

/// Locks one of the engine's mutexes whatever happened to the thread that
/// held it last. A record's panic is caught inside the record, never while
/// one of these is held, and the pool's jobs never panic: a poisoned lock
/// only means a thread died elsewhere, and the data is sound.
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

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
/// Reason for a record whose `approximateArrivalTimestamp` is before year 0
/// or after 9999: no time derived from it could be written as RFC 3339
/// (Firehose never sends one; `292278994-06-14T15:16:02Z` is what a writer
/// that does not check would make of `i64::MAX`).
pub const ARRIVAL_OUT_OF_RANGE: &str = "approximateArrivalTimestamp out of range";

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
/// The smallest budget the settings accept: under it, a few dozen records
/// failed already fill the response. A budget that small is a unit mistake
/// (bytes, not megabytes).
pub const MIN_RESPONSE_BUDGET: usize = 4096;
/// Time kept back from the deadline to send the response.
pub const DEFAULT_DEADLINE_MARGIN: Duration = Duration::from_millis(1000);
/// The longest an invocation may take: Firehose waits 5 minutes for a
/// transformation, so an answer after that is lost whatever the Lambda
/// timeout.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(5 * 60);
/// The default of [`EngineConfig::parallel_min_bytes`]: below it, handing
/// records to a second thread costs more than it saves (measured, see the
/// README's Performance section).
pub const PARALLEL_MIN_BYTES: usize = 256 * 1024;
/// Events of at least this many bytes of JSON are read on as many threads
/// as their records run on, by [`Engine::parse_event`]: below it, starting
/// threads for the reading costs more than it saves (measured on events of
/// 100-byte records, the most costly to split; see the README's Performance
/// section).
pub const PARALLEL_PARSE_MIN_BYTES: usize = 2 * 1024 * 1024;

/// The engine's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// The most bytes the response JSON may take (`FIREHOSE_RESPONSE_BUDGET_BYTES`).
    pub response_budget: usize,
    /// Time kept back from the deadline (`FIREHOSE_DEADLINE_MARGIN_MS`).
    pub deadline_margin: Duration,
    /// The longest an invocation may take from its arrival, whatever
    /// Lambda's own deadline (`FIREHOSE_TIME_LIMIT_MS`, default 5 minutes).
    /// It also bounds local runs, which have no Lambda deadline.
    pub time_limit: Duration,
    /// How many threads run the records of a large event (`FIREHOSE_THREADS`;
    /// by default the CPUs available, which on Lambda grow with the memory
    /// setting: two from 1,769 MB). Events under [`PARALLEL_MIN_BYTES`] use
    /// one. Every [`Transform`] is `Send + Sync`, so every transform can run
    /// on several threads; its stages then run at the same time on different
    /// records (a lock inside a stage serializes them).
    pub threads: usize,
    /// Events with fewer bytes of record data than this run on one thread
    /// ([`PARALLEL_MIN_BYTES`] by default; tests set 0 to run small events
    /// on several).
    pub parallel_min_bytes: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            response_budget: DEFAULT_RESPONSE_BUDGET,
            deadline_margin: DEFAULT_DEADLINE_MARGIN,
            time_limit: DEFAULT_TIME_LIMIT,
            threads: available_threads(),
            parallel_min_bytes: PARALLEL_MIN_BYTES,
        }
    }
}

/// The CPUs this process may use (1 when that cannot be told).
fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl EngineConfig {
    /// Reads `FIREHOSE_RESPONSE_BUDGET_BYTES`, `FIREHOSE_DEADLINE_MARGIN_MS`,
    /// `FIREHOSE_TIME_LIMIT_MS` and `FIREHOSE_THREADS`.
    ///
    /// ```
    /// use firehose_transform::{config::Settings, EngineConfig};
    /// let settings = Settings::from_pairs([("FIREHOSE_RESPONSE_BUDGET_BYTES", "9000000")]);
    /// let error = EngineConfig::from_settings(&settings).unwrap_err();
    /// assert_eq!(error.to_string(), "FIREHOSE_RESPONSE_BUDGET_BYTES: 9000000 is over Lambda's 6291556-byte response limit");
    /// let settings = Settings::from_pairs([("FIREHOSE_RESPONSE_BUDGET_BYTES", "6000")]);
    /// assert!(EngineConfig::from_settings(&settings).is_ok());
    /// let settings = Settings::from_pairs([("FIREHOSE_RESPONSE_BUDGET_BYTES", "6")]);
    /// let error = EngineConfig::from_settings(&settings).unwrap_err();
    /// assert!(error.to_string().starts_with("FIREHOSE_RESPONSE_BUDGET_BYTES: 6 is under the 4096-byte minimum"), "{error}");
    /// let settings = Settings::from_pairs([("FIREHOSE_DEADLINE_MARGIN_MS", "999999999")]);
    /// let error = EngineConfig::from_settings(&settings).unwrap_err();
    /// assert!(error.to_string().starts_with("FIREHOSE_DEADLINE_MARGIN_MS: 999999999 ms is not shorter than Lambda's longest timeout"));
    /// let settings = Settings::from_pairs([("FIREHOSE_THREADS", "0")]);
    /// let error = EngineConfig::from_settings(&settings).unwrap_err();
    /// assert_eq!(error.to_string(), "FIREHOSE_THREADS: 0 is not a number of threads (1 or more)");
    /// let settings = Settings::from_pairs([("FIREHOSE_DEADLINE_MARGIN_MS", "400000")]);
    /// let error = EngineConfig::from_settings(&settings).unwrap_err();
    /// assert!(error.to_string().starts_with("FIREHOSE_DEADLINE_MARGIN_MS: a 400000 ms margin"), "{error}");
    /// let settings = Settings::from_pairs([("FIREHOSE_THREADS", "3"), ("FIREHOSE_TIME_LIMIT_MS", "60000")]);
    /// let config = EngineConfig::from_settings(&settings).unwrap();
    /// assert_eq!((config.threads, config.time_limit.as_secs()), (3, 60));
    /// ```
    ///
    /// A time limit over 5 minutes (the longest Firehose waits for a
    /// transformation) is accepted, and [`run`](crate::run) warns about it at
    /// start-up ([`EngineConfig::warnings`]); a margin as long as the time
    /// limit is refused.
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
        if response_budget < MIN_RESPONSE_BUDGET {
            return Err(ConfigError::new(
                name,
                format!(
                    "{response_budget} is under the {MIN_RESPONSE_BUDGET}-byte minimum: the \
                     budget is in bytes (Lambda's limit is 6291556)"
                ),
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
        let name = "FIREHOSE_TIME_LIMIT_MS";
        let limit_ms = settings.parse(name, DEFAULT_TIME_LIMIT.as_millis() as u64)?;
        if limit_ms <= margin_ms {
            // Name the variable that was set: the other is at its default.
            let name = match settings.get(name) {
                Some(_) => name,
                None => "FIREHOSE_DEADLINE_MARGIN_MS",
            };
            return Err(ConfigError::new(
                name,
                format!(
                    "a {margin_ms} ms margin (FIREHOSE_DEADLINE_MARGIN_MS) leaves nothing of the \
                     {limit_ms} ms time limit (FIREHOSE_TIME_LIMIT_MS; Firehose waits 5 minutes \
                     at most): every record would fail before it is processed"
                ),
            ));
        }
        let name = "FIREHOSE_THREADS";
        let threads = settings.parse(name, available_threads())?;
        if threads == 0 {
            return Err(ConfigError::new(
                name,
                "0 is not a number of threads (1 or more)",
            ));
        }
        Ok(EngineConfig {
            response_budget,
            deadline_margin: Duration::from_millis(margin_ms),
            time_limit: Duration::from_millis(limit_ms),
            threads,
            parallel_min_bytes: PARALLEL_MIN_BYTES,
        })
    }

    /// What is accepted but probably wrong, one line each (logged at start-up).
    ///
    /// ```
    /// use std::time::Duration;
    /// use firehose_transform::EngineConfig;
    /// let config = EngineConfig { time_limit: Duration::from_secs(400), ..EngineConfig::default() };
    /// assert_eq!(config.warnings().len(), 1);
    /// assert!(EngineConfig::default().warnings().is_empty());
    /// ```
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.time_limit > DEFAULT_TIME_LIMIT {
            warnings.push(format!(
                "FIREHOSE_TIME_LIMIT_MS: {} ms is over the 5 minutes Firehose waits for a \
                 transformation: an answer after them is lost, and Firehose retries the batch",
                self.time_limit.as_millis()
            ));
        }
        warnings
    }

    /// When the records must be answered by: the deadline (Lambda's, if it
    /// has not already passed), capped by the time limit from `started`,
    /// less the margin.
    fn give_up_at(&self, started: Instant, deadline: Option<Instant>) -> Instant {
        let limit = started + self.time_limit;
        let deadline = deadline
            .filter(|d| *d > started)
            .map_or(limit, |d| d.min(limit));
        deadline
            .checked_sub(self.deadline_margin)
            .unwrap_or(started)
            .max(started)
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
    /// A thread of the engine was still inside the transform when the
    /// response was made: a record that had not returned by the deadline,
    /// or one set aside after it panicked while unwinding a panic (where the
    /// Rust runtime would otherwise abort). The response is complete and
    /// correct, but the process is no longer clean (that thread may hold a
    /// lock, or never stop): [`run`](crate::run) ends the process once the
    /// response is sent, so that Lambda starts a new one.
    pub left_running: bool,
}

use crate::response::Response;

/// Why an invocation produced no response.
#[derive(Debug)]
pub enum InvocationError {
    /// The event is not a Firehose event.
    Event(EventError),
    /// Even with every record `ProcessingFailed`, the response would be
    /// larger than the budget: no response can keep the contract.
    BudgetTooSmall {
        /// The records in the event.
        records: usize,
        /// The bytes of the response with every record failed.
        floor: usize,
        /// The budget.
        budget: usize,
    },
}

impl fmt::Display for InvocationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvocationError::Event(error) => error.fmt(f),
            InvocationError::BudgetTooSmall {
                records,
                floor,
                budget,
            } => write!(
                f,
                "the response cannot fit the byte budget: answering all {records} records \
                 ProcessingFailed takes {floor} bytes, over the {budget}-byte budget \
                 (FIREHOSE_RESPONSE_BUDGET_BYTES); no response is sent, so Firehose retries the \
                 batch and then keeps its records in the error prefix"
            ),
        }
    }
}

impl std::error::Error for InvocationError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InvocationError::Event(error) => Some(error),
            InvocationError::BudgetTooSmall { .. } => None,
        }
    }
}

impl From<EventError> for InvocationError {
    fn from(error: EventError) -> Self {
        InvocationError::Event(error)
    }
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
/// // A budget too small even for three failed records: no response at all.
/// let tiny = Engine::with_config(
///     ProcessRecord::default(),
///     EngineConfig { response_budget: 100, ..EngineConfig::default() },
/// );
/// let error = tiny.process_json(&event, deadline).unwrap_err();
/// assert!(error.to_string().contains("answering all 3 records ProcessingFailed takes"), "{error}");
///
/// // A malformed event is an error that says where.
/// let error = engine.process_json(br#"{"invocationId":"x"}"#, None).unwrap_err();
/// assert!(error.to_string().contains("missing field `records`"), "{error}");
/// # Ok::<(), firehose_transform::InvocationError>(())
/// ```
pub struct Engine<T> {
    transform: Arc<T>,
    config: EngineConfig,
}

impl<T: fmt::Debug> fmt::Debug for Engine<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("transform", &self.transform)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<T: Transform> Engine<T> {
    /// An engine with the default budget and margin.
    pub fn new(transform: T) -> Self {
        Engine::with_config(transform, EngineConfig::default())
    }

    /// An engine with the given settings.
    pub fn with_config(transform: T, config: EngineConfig) -> Self {
        record::install_panic_hook();
        Engine {
            transform: Arc::new(transform),
            config,
        }
    }

    /// The transform.
    pub fn transform(&self) -> &T {
        &self.transform
    }

    /// The settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Parses an event from JSON it takes ownership of, as
    /// [`SharedEvent::parse`] does, but reading the records of a large event
    /// (from [`PARALLEL_PARSE_MIN_BYTES`]) on as many threads as the engine
    /// runs records on: what the runtime does with each invocation's body.
    ///
    /// ```
    /// use firehose_transform::{Engine, EngineConfig};
    /// use firehose_transform::blueprints::process_record::ProcessRecord;
    ///
    /// let engine = Engine::with_config(ProcessRecord::default(), EngineConfig { threads: 2, ..EngineConfig::default() });
    /// let json = firehose_transform::testing::EventBuilder::new().lines(["a", "b"]).to_json();
    /// let event = engine.parse_event(json)?;
    /// assert_eq!(event.get().records.len(), 2);
    /// # Ok::<(), firehose_transform::EventError>(())
    /// ```
    pub fn parse_event(&self, json: impl Into<bytes::Bytes>) -> Result<SharedEvent, EventError> {
        let json = json.into();
        let threads = if json.len() < PARALLEL_PARSE_MIN_BYTES {
            1
        } else {
            self.config.threads
        };
        SharedEvent::parse_on_threads(json, threads)
    }

    /// Parses an event from JSON and processes it. The JSON is copied first
    /// (the engine's threads need it for as long as they run); a caller that
    /// owns it hands it over with [`SharedEvent::parse`] and
    /// [`process_shared`](Engine::process_shared) instead.
    pub fn process_json(
        &self,
        json: &[u8],
        deadline: Option<Instant>,
    ) -> Result<Invocation, InvocationError> {
        self.process_shared(&self.parse_event(json.to_vec())?, deadline)
    }

    /// Processes one event. `deadline` is when the invocation times out (none
    /// for local runs). The event is copied first; see
    /// [`process_shared`](Engine::process_shared) to avoid that.
    pub fn process(
        &self,
        event: &Event<'_>,
        deadline: Option<Instant>,
    ) -> Result<Invocation, InvocationError> {
        self.process_shared(&SharedEvent::copy(event), deadline)
    }

    /// Processes one event on the engine's threads, while this thread
    /// assembles the response; returns at the deadline (less the margin)
    /// at the latest, whatever the transform does. A thread still inside
    /// the transform then is left to finish on its own
    /// ([`Invocation::left_running`]); the event stays alive for it.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use firehose_transform::{Context, Engine, EngineConfig, Failure, Output, Record, SharedEvent, Transform};
    /// use firehose_transform::testing::EventBuilder;
    ///
    /// /// Waits forever on a record that says "hang".
    /// struct Stuck;
    /// impl Transform for Stuck {
    ///     type Item<'a> = &'a [u8];
    ///     fn parse<'a>(&self, record: &Record<'a>, _: &mut Context) -> Result<&'a [u8], Failure> {
    ///         while record.data == b"hang" {
    ///             std::thread::park();
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
    /// let engine = Engine::with_config(Stuck, config);
    /// let event = SharedEvent::from(EventBuilder::new().lines(["a", "hang", "b"]).build());
    /// let deadline = Instant::now() + Duration::from_millis(400);
    /// let invocation = engine.process_shared(&event, Some(deadline))?;
    /// assert!(Instant::now() < deadline);
    /// let reasons: Vec<_> = invocation.failures.iter().map(|f| (f.index, f.failure.reason())).collect();
    /// assert_eq!(reasons, [(1, "invocation deadline reached before processing"), (2, "invocation deadline reached before processing")]);
    /// assert!(invocation.left_running);
    /// # Ok::<(), firehose_transform::InvocationError>(())
    /// ```
    pub fn process_shared(
        &self,
        event: &SharedEvent,
        deadline: Option<Instant>,
    ) -> Result<Invocation, InvocationError> {
        let started = Instant::now();
        let records = &event.get().records;
        let plan = Plan::new(
            event.get(),
            event.quoted_ids_len(),
            self.config.response_budget,
        )?;
        let give_up_at = self.config.give_up_at(started, deadline);
        let threads = self.threads_for(&plan);
        let run = Arc::new(Run::new(
            records.len(),
            plan.kafka,
            threads,
            give_up_at,
            false,
        ));
        if Instant::now() < give_up_at {
            pool::submit(first_job(Work {
                transform: Arc::clone(&self.transform),
                event: event.clone(),
                run: Arc::clone(&run),
                threads,
            }));
        }
        Ok(batch::assemble(
            event.get(),
            &run,
            &plan,
            &self.config,
            started,
            true,
        ))
    }

    /// How many threads run the records of the event `plan` measured.
    fn threads_for(&self, plan: &Plan) -> usize {
        if plan.payload_bytes < self.config.parallel_min_bytes {
            1
        } else {
            self.config.threads.max(1)
        }
    }
}

/// What a thread of the engine needs to work on a batch.
struct Work<T> {
    transform: Arc<T>,
    event: SharedEvent,
    run: Arc<Run>,
    threads: usize,
}

impl<T> Clone for Work<T> {
    fn clone(&self) -> Self {
        Work {
            transform: Arc::clone(&self.transform),
            event: self.event.clone(),
            run: Arc::clone(&self.run),
            threads: self.threads,
        }
    }
}

/// The batch's first job: the transform's [`Transform::prepare`], then the
/// other threads' jobs, then records like them.
fn first_job<T: Transform>(work: Work<T>) -> pool::Job {
    Box::new(move || {
        {
            let _active = work.run.enter();
            let event = work.event.get();
            let mut cx = Context::default();
            prepare(
                &*work.transform,
                event,
                Some(work.run.give_up_at()),
                &mut cx,
            );
            work.run.count(&mut cx);
        }
        for _ in 1..work.threads.min(work.run.blocks()) {
            pool::submit(record_job(work.clone(), None));
        }
        record_job(work, None)()
    })
}

/// A job running records: from `resume` (a block and a record in it) when it
/// takes over from a thread set aside, then claiming blocks until none is
/// left.
fn record_job<T: Transform>(work: Work<T>, resume: Option<(usize, usize)>) -> pool::Job {
    Box::new(move || {
        let _active = work.run.enter();
        // Should a record panic while unwinding, this thread is parked for
        // good: its record is answered and a new job takes over the rest.
        let heir = work.clone();
        record::set_rescue(Some(Box::new(move |failure| {
            let (block, index) = batch::position();
            heir.run.rescue(heir.event.get(), block, index, failure);
            pool::submit(record_job(heir, Some((block, index + 1))));
        })));
        record::with_scratch(|scratch| {
            let event = work.event.get();
            if let Some((block, from)) = resume {
                work.run
                    .work_block(&*work.transform, event, block, from, scratch);
            }
            work.run.work(&*work.transform, event, scratch);
        });
        record::set_rescue(None);
    })
}

/// Runs `transform` over `event` on the calling thread (the testing kit,
/// which borrows the transform): the same per-record work and the same
/// response assembly as [`Engine::process_shared`], without other threads.
/// The deadline is checked before each record, so a record that never
/// returns holds the call, and a panic while unwinding aborts as Rust does.
pub(crate) fn process_event<T: Transform>(
    transform: &T,
    config: &EngineConfig,
    event: &Event<'_>,
    deadline: Option<Instant>,
) -> Result<Invocation, InvocationError> {
    record::install_panic_hook();
    let started = Instant::now();
    let plan = Plan::new(event, None, config.response_budget)?;
    let give_up_at = config.give_up_at(started, deadline);
    let run = Run::new(event.records.len(), plan.kafka, 1, give_up_at, true);
    {
        let _active = run.enter();
        let mut cx = Context::default();
        prepare(transform, event, Some(give_up_at), &mut cx);
        run.count(&mut cx);
        let mut scratch = record::Scratch::default();
        run.work(transform, event, &mut scratch);
    }
    Ok(batch::assemble(event, &run, &plan, config, started, false))
}

/// Runs the transform's once-per-batch [`Transform::prepare`]; a panic there
/// is logged and the records still run (each does its own work then).
fn prepare<T: Transform>(
    transform: &T,
    event: &Event<'_>,
    deadline: Option<Instant>,
    cx: &mut Context,
) {
    let batch = Batch::new(event, deadline);
    if let Err(failure) = record::catch_record_panic("", || transform.prepare(&batch, cx)) {
        lambda_runtime::tracing::error!(
            detail = failure.detail().unwrap_or_default(),
            "the transform's prepare panicked; records run without it"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::{Metadata, RecordResult};
    use crate::testing::{EventBuilder, Processed};
    use crate::transform::{Output, Record};

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
        Processed::new(engine.process(event, deadline).expect("the event fits"))
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
            detail.starts_with("boom went the record at src/engine/mod.rs:"),
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

    /// Sleeps on records that say "slow", waits forever on "hang", panics
    /// with a payload that panics when dropped on "bad-payload".
    #[derive(Default)]
    struct Hostile {
        prepared: std::sync::atomic::AtomicUsize,
    }

    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("the value's drop panicked");
        }
    }

    impl Transform for Hostile {
        type Item<'a> = &'a [u8];
        fn prepare(&self, _: &Batch<'_>, cx: &mut Context) {
            self.prepared
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            cx.count("hostile.prepared");
        }
        fn parse<'a>(&self, record: &Record<'a>, cx: &mut Context) -> Result<&'a [u8], Failure> {
            cx.count("hostile.parsed");
            match record.data {
                b"hang" => loop {
                    std::thread::park();
                },
                b"slow" => std::thread::sleep(Duration::from_millis(20)),
                b"bad-payload" => std::panic::panic_any(PanicsOnDrop),
                _ => {}
            }
            Ok(record.data)
        }
        fn convert(&self, item: &[u8], out: &mut Output, _cx: &mut Context) -> Result<(), Failure> {
            out.write(item);
            Ok(())
        }
    }

    #[test]
    fn a_record_that_never_returns_fails_at_the_deadline_and_the_rest_is_answered() {
        let lines: Vec<String> = (0..200)
            .map(|i| {
                if i == 50 {
                    "hang".to_string()
                } else {
                    format!("r{i}")
                }
            })
            .collect();
        let event = EventBuilder::new().lines(&lines).build();
        let config = EngineConfig {
            deadline_margin: Duration::from_millis(200),
            threads: 2,
            parallel_min_bytes: 0,
            ..EngineConfig::default()
        };
        let engine = Engine::with_config(Hostile::default(), config);
        let deadline = Instant::now() + Duration::from_millis(700);
        let invocation = engine.process(&event, Some(deadline)).unwrap();
        assert!(Instant::now() < deadline, "answered before the deadline");
        assert!(invocation.left_running);
        let processed = Processed::new(invocation);
        processed.assert_contract(&event);
        assert_eq!(processed.failure_reason(50), Some(DEADLINE));
        // Everything before the hung record is done, in its block too.
        assert!((0..50).all(|i| processed.is_ok(i)));
        assert!(
            (0..200).all(|i| processed.is_ok(i) || processed.failure_reason(i) == Some(DEADLINE))
        );

        // The engine serves the next event with another thread, unaffected.
        let event = EventBuilder::new().lines(["x", "y"]).build();
        let invocation = engine.process(&event, None).unwrap();
        assert!(!invocation.left_running);
        let processed = Processed::new(invocation);
        assert_eq!(processed.ok_texts(), ["x", "y"]);
    }

    #[test]
    fn a_deadline_inside_the_margin_answers_everything_failed_at_once() {
        let event = EventBuilder::new().lines(["a", "hang"]).build();
        let engine = Engine::new(Hostile::default());
        let invocation = engine
            .process(&event, Some(Instant::now() + Duration::from_millis(10)))
            .unwrap();
        assert!(!invocation.left_running, "no record was started");
        let processed = Processed::new(invocation);
        assert!((0..2).all(|i| processed.failure_reason(i) == Some(DEADLINE)));
        assert_eq!(
            engine
                .transform()
                .prepared
                .load(std::sync::atomic::Ordering::Relaxed),
            0
        );
    }

    #[test]
    fn the_time_limit_bounds_an_invocation_without_a_deadline() {
        let event = EventBuilder::new().lines(["a", "hang", "b"]).build();
        let config = EngineConfig {
            deadline_margin: Duration::from_millis(50),
            time_limit: Duration::from_millis(300),
            ..EngineConfig::default()
        };
        let started = Instant::now();
        let engine = Engine::with_config(Hostile::default(), config);
        let processed = Processed::new(engine.process(&event, None).unwrap());
        assert!(started.elapsed() < Duration::from_millis(300));
        assert!(processed.is_ok(0));
        assert_eq!(processed.failure_reason(1), Some(DEADLINE));
    }

    #[test]
    fn a_panic_whose_payload_panics_when_dropped_fails_its_record_alone() {
        let event = EventBuilder::new().lines(["a", "bad-payload", "b"]).build();
        for threads in [1, 2] {
            let config = EngineConfig {
                threads,
                parallel_min_bytes: 0,
                ..EngineConfig::default()
            };
            let processed = run_hostile(config, &event);
            assert!(processed.is_ok(0) && processed.is_ok(2));
            assert_eq!(processed.failure_reason(1), Some(PANICKED));
            assert!(processed
                .failure(1)
                .unwrap()
                .detail()
                .unwrap()
                .starts_with("(no message) at src/engine/mod.rs:"));
        }
    }

    // A drop that panics while unwinding parks its thread inside the panic
    // hook, which holds the hook's lock for good: a test process could not
    // end (the harness replaces the hook at exit). It is tested in a process
    // of its own: tests/hostile_records.rs.

    fn run_hostile(config: EngineConfig, event: &Event<'_>) -> Processed {
        let engine = Engine::with_config(Hostile::default(), config);
        Processed::new(engine.process(event, None).unwrap())
    }

    #[test]
    fn counters_and_prepare_are_the_same_with_any_number_of_threads() {
        let lines: Vec<String> = (0..3000).map(|i| format!("{i:0>100}")).collect();
        let event = EventBuilder::new().lines(&lines).build();
        let mut responses = Vec::new();
        for threads in [1, 2, 4] {
            let config = EngineConfig {
                threads,
                parallel_min_bytes: 0,
                ..EngineConfig::default()
            };
            let engine = Engine::with_config(Hostile::default(), config);
            let invocation = engine.process(&event, None).unwrap();
            assert_eq!(invocation.summary.counters["hostile.parsed"], 3000);
            assert_eq!(invocation.summary.counters["hostile.prepared"], 1);
            assert_eq!(
                engine
                    .transform()
                    .prepared
                    .load(std::sync::atomic::Ordering::Relaxed),
                1
            );
            responses.push(invocation.response.to_json());
        }
        assert!(responses.windows(2).all(|w| w[0] == w[1]));
    }

    /// Outputs nothing for records that start with `-`, else each record
    /// four times: a first block that shrinks, and the rest that grow.
    struct ShrinkThenGrow;

    impl Transform for ShrinkThenGrow {
        type Item<'a> = &'a [u8];
        fn parse<'a>(&self, record: &Record<'a>, _: &mut Context) -> Result<&'a [u8], Failure> {
            Ok(record.data)
        }
        fn convert(&self, item: &[u8], out: &mut Output, _cx: &mut Context) -> Result<(), Failure> {
            if !item.starts_with(b"-") {
                (0..4).for_each(|_| out.write(item));
            }
            Ok(())
        }
    }

    #[test]
    fn a_response_outgrowing_its_first_block_grows_within_any_budget() {
        // The response is sized from the first block (16 records here), which
        // shrinks; the others grow fourfold. With a budget as large as the
        // forwarder's (1 TiB), growing "up to the budget" would be an
        // allocation of a terabyte.
        let lines = (0..64).map(|i| {
            let body = "x".repeat(1000);
            if i < 16 {
                format!("-{body}")
            } else {
                format!("{i}{body}")
            }
        });
        let event = EventBuilder::new().lines(lines).build();
        for (budget, threads) in [(1 << 40, 1), (1 << 40, 2), (DEFAULT_RESPONSE_BUDGET, 2)] {
            let config = EngineConfig {
                response_budget: budget,
                threads,
                parallel_min_bytes: 0,
                ..EngineConfig::default()
            };
            let engine = Engine::with_config(ShrinkThenGrow, config);
            let processed = Processed::new(engine.process(&event, None).expect("the event fits"));
            processed.assert_contract(&event);
            assert_eq!(processed.text(0), "");
            for i in 16..64 {
                let line = format!("{i}{}", "x".repeat(1000));
                assert_eq!(processed.text(i), line.repeat(4), "record {i}");
            }
        }
    }

    /// Doubles each record, but answers those starting "same" unchanged and
    /// drops those starting "drop".
    struct DoubleButSame;

    impl Transform for DoubleButSame {
        type Item<'a> = &'a [u8];
        fn parse<'a>(&self, record: &Record<'a>, _: &mut Context) -> Result<&'a [u8], Failure> {
            Ok(record.data)
        }
        fn filter(&self, item: &&[u8], _: &mut Context) -> bool {
            !item.starts_with(b"drop")
        }
        fn convert(&self, item: &[u8], out: &mut Output, _cx: &mut Context) -> Result<(), Failure> {
            out.write(item);
            if !item.starts_with(b"same") {
                out.write(item);
            }
            Ok(())
        }
    }

    #[test]
    fn entries_left_where_their_thread_wrote_them_make_the_same_response() {
        // Blocks of long entries join the response where their thread wrote
        // them, between entries the assembler writes (every 40th record is
        // answered as received); under a budget that runs out half-way, some
        // are left out of a block's run while shorter ones after them (every
        // fifth line, and the dropped ones) still fit. The response must
        // still be exactly what the greedy in-order rule gives.
        let lines: Vec<String> = (0..2000)
            .map(|n| {
                let head = match n % 40 {
                    7 => "same",
                    13 | 29 => "drop",
                    _ => "line",
                };
                let len = if n % 5 == 3 { 10 } else { 290 };
                format!("{head} {n:04} {}", "x".repeat(len))
            })
            .collect();
        let event = EventBuilder::new().lines(&lines).build();
        let full_len = Engine::new(DoubleButSame)
            .process(&event, None)
            .expect("fits")
            .response
            .serialized_len();
        for budget in [DEFAULT_RESPONSE_BUDGET, full_len / 2] {
            for threads in [1, 2] {
                let config = EngineConfig {
                    threads,
                    parallel_min_bytes: 0,
                    response_budget: budget,
                    ..EngineConfig::default()
                };
                let engine = Engine::with_config(DoubleButSame, config);
                let invocation = engine.process(&event, None).expect("the event fits");
                let response = invocation.response.clone();
                let chunks = response.clone().into_chunks();
                assert!(chunks.len() > 3, "{} pieces: none in place", chunks.len());
                let json = response.to_json();
                assert_eq!(chunks.concat(), json);
                assert_eq!(response.clone().into_json(), json);
                assert_eq!(json.len(), response.serialized_len());
                let mut written = Vec::new();
                response.write_json(&mut written).unwrap();
                assert_eq!(written, json);

                // The greedy rule, from the entries' sizes: each record in
                // turn is Ok if its entry fits in what is left once a failed
                // entry is kept for every record after it (a dropped record
                // always fits, and gives back what its entry saves).
                let sizer = Response::new(false);
                let ids: Vec<&str> = event.records.iter().map(|r| &*r.record_id).collect();
                let failed = |i: usize| sizer.failed_entry_len(ids[i], i == 0);
                let floor: usize =
                    r#"{"records":[]}"#.len() + (0..ids.len()).map(failed).sum::<usize>();
                let mut slack = budget - floor;
                let processed = Processed::new(invocation);
                processed.assert_contract_within(&event, budget);
                let mut over_budget = 0;
                let mut fit_after_the_first_left_out = 0;
                for (i, line) in lines.iter().enumerate() {
                    if line.starts_with("drop") {
                        // A dropped entry is shorter than a failed one.
                        let dropped = sizer.entry_len(
                            ids[i],
                            RecordResult::Dropped,
                            None,
                            &Metadata::default(),
                            i == 0,
                        );
                        slack += failed(i) - dropped;
                        assert!(processed.is_dropped(i), "record {i}");
                        fit_after_the_first_left_out += usize::from(over_budget > 0);
                        continue;
                    }
                    let output = if line.starts_with("same") {
                        line.clone()
                    } else {
                        line.repeat(2)
                    };
                    let ok_len = sizer.entry_len(
                        ids[i],
                        RecordResult::Ok,
                        Some(crate::codec::encoded_len(output.len())),
                        &Metadata::default(),
                        i == 0,
                    );
                    if ok_len <= slack + failed(i) {
                        slack = slack + failed(i) - ok_len;
                        assert_eq!(processed.text(i), output, "record {i}");
                        fit_after_the_first_left_out += usize::from(over_budget > 0);
                    } else {
                        over_budget += 1;
                        assert_eq!(processed.failure_reason(i), Some(OVER_BUDGET), "record {i}");
                    }
                }
                assert_eq!(over_budget > 0, budget < full_len, "budget {budget}");
                assert_eq!(
                    fit_after_the_first_left_out > 20,
                    budget < full_len,
                    "{fit_after_the_first_left_out} fit after one was left out"
                );
            }
        }
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
    fn an_arrival_time_rfc_3339_cannot_write_fails_its_record() {
        let json = br#"{"records":[
            {"recordId":"a","approximateArrivalTimestamp":253402300799999,"data":"aGk="},
            {"recordId":"b","approximateArrivalTimestamp":253402300800000,"data":"aGk="},
            {"recordId":"c","approximateArrivalTimestamp":-62167219200001,"data":"aGk="},
            {"recordId":"d","approximateArrivalTimestamp":9223372036854775807,"data":"aGk="}]}"#;
        let event = Event::from_slice(json).unwrap();
        let processed = run(Grow { factor: 1 }, EngineConfig::default(), &event, None);
        assert!(processed.is_ok(0), "9999-12-31T23:59:59.999Z is fine");
        for (i, year) in [(1, "10000"), (2, "-1"), (3, "292278994")] {
            assert_eq!(processed.failure_reason(i), Some(ARRIVAL_OUT_OF_RANGE));
            let detail = processed.failure(i).unwrap().detail().unwrap();
            assert!(
                detail.contains(&format!("is in year {year}, outside RFC 3339")),
                "{detail}"
            );
        }
    }

    #[test]
    fn a_missing_payload_fails_the_record() {
        let json = br#"{"records":[{"recordId":"x"}]}"#;
        let event = Event::from_slice(json).unwrap();
        let processed = run(Grow { factor: 1 }, EngineConfig::default(), &event, None);
        assert_eq!(processed.failure_reason(0), Some(NO_PAYLOAD));
    }

    #[test]
    fn a_budget_too_small_even_for_failures_refuses_the_invocation() {
        let event = EventBuilder::new()
            .lines(["a".repeat(20), "b".repeat(20)])
            .build();
        let floor = {
            let response = Response::new(false);
            response.serialized_len()
                + response.failed_entry_len(&event.records[0].record_id, true)
                + response.failed_entry_len(&event.records[1].record_id, false)
        };
        for budget in [10, floor - 1] {
            let config = EngineConfig {
                response_budget: budget,
                ..EngineConfig::default()
            };
            let engine = Engine::with_config(Grow { factor: 1 }, config);
            let error = engine.process(&event, None).unwrap_err();
            assert!(
                matches!(error, InvocationError::BudgetTooSmall { records: 2, floor: f, budget: b } if f == floor && b == budget),
                "{error:?}"
            );
            assert!(error.to_string().contains(&format!(
                "answering all 2 records ProcessingFailed takes {floor} bytes, over the {budget}-byte budget"
            )));
        }
        // At the floor exactly, every record fails for size and the
        // response is exactly the budget.
        let config = EngineConfig {
            response_budget: floor,
            ..EngineConfig::default()
        };
        let processed = run(Grow { factor: 1 }, config, &event, None);
        assert!((0..2).all(|i| processed.failure_reason(i) == Some(OVER_BUDGET)));
        assert_eq!(processed.response_len(), floor);
    }

    #[test]
    fn the_over_budget_detail_gives_the_exact_room() {
        let event = EventBuilder::new().line("a".repeat(30)).build();
        let response = Response::new(false);
        let id = &event.records[0].record_id;
        let failed = response.serialized_len() + response.failed_entry_len(id, true);
        let ok = response.serialized_len()
            + response.entry_len(id, RecordResult::Ok, Some(40), &Metadata::default(), true);
        // One byte short of the Ok entry.
        let config = EngineConfig {
            response_budget: ok - 1,
            ..EngineConfig::default()
        };
        let processed = run(Grow { factor: 1 }, config, &event, None);
        let detail = processed.failure(0).unwrap().detail().unwrap().to_string();
        let entry = ok - response.serialized_len();
        let left = ok - 1 - failed + (failed - response.serialized_len());
        assert_eq!(
            detail,
            format!(
                "its {entry}-byte entry did not fit in the {left} bytes left of the {}-byte budget",
                ok - 1
            )
        );
        assert_eq!(entry, left + 1);
    }
}
