//! One batch in progress: its records handed out in blocks to the threads
//! that run the transform, and the response assembled from their results,
//! in input order, by the thread that answers the invocation.
//!
//! Splitting the work this way keeps every decision the contract depends on
//! in one place and in one order. The threads only compute each record's
//! outcome (which depends on the record alone); the assembler walks the
//! records from first to last and decides, exactly as a single thread would,
//! which outcomes fit the byte budget. So the response is the same whatever
//! the number of threads and whatever order they finished in. And because
//! the assembler waits for results rather than running the transform, it can
//! stop waiting at the deadline: records with no result yet fail
//! ([`DEADLINE`]) and the response goes out, even while a thread is still
//! inside a record that may never return.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::codec;
use crate::event::{Event, EventRecord, SourceKind};
use crate::formats::json::quoted_len;
use crate::response::{Data, Metadata, RecordResult, Response, NO_METADATA};
use crate::telemetry::Summary;
use crate::transform::{Context, Failure, Transform};

use super::record::{self, Outcome, Scratch};
use super::{EngineConfig, Invocation, InvocationError, RecordFailure, DEADLINE, OVER_BUDGET};

/// What the batch needs to know before any record runs: the floor (the
/// response with every record failed) and the bytes of record data (which
/// decide the thread count and size the response).
pub(super) struct Plan {
    floor: usize,
    kafka: bool,
    /// The base64 bytes of every record's payload.
    pub payload_bytes: usize,
}

impl Plan {
    /// Measures the event; refuses it when even failing every record would
    /// not fit `budget`, since no response could then keep the contract.
    /// `quoted_ids` is the sum of the ids' quoted lengths when the parser
    /// already knows it (see `SharedEvent`); otherwise it is measured here,
    /// a pass over every id.
    pub fn new(
        event: &Event<'_>,
        quoted_ids: Option<usize>,
        budget: usize,
    ) -> Result<Plan, InvocationError> {
        let kafka = event.source_kind() == SourceKind::Msk;
        let response = Response::new(kafka);
        let records = event.records.len();
        let quoted_ids = quoted_ids
            .unwrap_or_else(|| event.records.iter().map(|r| quoted_len(&r.record_id)).sum());
        // Every failed entry but the first has its comma.
        let floor = response.serialized_len()
            + records * failed_len(&response, 0, true)
            + records.saturating_sub(1)
            + quoted_ids;
        if floor > budget {
            return Err(InvocationError::BudgetTooSmall {
                records,
                floor,
                budget,
            });
        }
        let payload_bytes = event
            .records
            .iter()
            .map(|r| r.payload().map_or(0, str::len))
            .sum();
        Ok(Plan {
            floor,
            kafka,
            payload_bytes,
        })
    }
}

/// The bytes a `ProcessingFailed` entry takes.
fn failed_len(response: &Response, quoted_id: usize, first: bool) -> usize {
    response.entry_len_quoted(
        quoted_id,
        RecordResult::ProcessingFailed,
        None,
        &NO_METADATA,
        first,
    )
}

/// One record's result, as a thread left it for the assembler.
pub(super) enum Done {
    /// Kept; its output is `output_len` bytes.
    Kept {
        data: Kept,
        metadata: Option<Box<Metadata>>,
        output_len: usize,
    },
    Dropped,
    Failed(Box<Failure>),
}

/// Where a kept record's base64 is.
pub(super) enum Kept {
    /// The output is the input: its base64 text is the record's own.
    AsReceived,
    /// Encoded into the block's buffer, at this range.
    Encoded(usize, usize),
}

/// The results of one block of records, filled in order by the thread that
/// claimed it.
#[derive(Default)]
struct BlockResults {
    results: Vec<Done>,
    /// The base64 of the kept records' outputs, one after another.
    base64: Vec<u8>,
    /// Every record of the block has its result.
    complete: bool,
    /// Bytes of record data the transform saw.
    bytes_in: u64,
    /// What the block's records counted, kept with their results (so that
    /// a record done is counted even if its thread never comes back).
    counters: Context,
}

#[derive(Default)]
struct Block {
    results: Mutex<BlockResults>,
    completed: Condvar,
}

/// A batch in progress, shared by the threads running its records and the
/// assembler.
pub(super) struct Run {
    records: usize,
    block_len: usize,
    blocks: Box<[Block]>,
    next_block: AtomicUsize,
    /// The assembler has stopped waiting: threads start no more records.
    stop: AtomicBool,
    give_up_at: Instant,
    /// Whether the threads read the clock before each record themselves:
    /// when the batch runs on the caller's thread, no assembler watches it.
    watch_clock: bool,
    counters: Mutex<Context>,
    /// Threads inside [`Run::work`] and friends now.
    active: Mutex<usize>,
    all_left: Condvar,
    /// A thread was parked for good after a panic during an unwind.
    set_aside: AtomicBool,
}

thread_local! {
    /// The block and record a thread is running, for [`Run::rescue`].
    static AT: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

/// The block and record this thread is running (what a rescue answers for).
pub(super) fn position() -> (usize, usize) {
    AT.with(Cell::get)
}

impl Run {
    /// A run of `records` records for `threads` threads, to be answered by
    /// `give_up_at`.
    pub fn new(records: usize, threads: usize, give_up_at: Instant, watch_clock: bool) -> Run {
        // Small blocks spread the work evenly and let the assembler start
        // early; a block is also what a thread claims in one atomic step.
        let block_len = (records / (threads.max(1) * 16)).clamp(16, 256);
        let blocks = records.div_ceil(block_len);
        Run {
            records,
            block_len,
            blocks: (0..blocks).map(|_| Block::default()).collect(),
            next_block: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            give_up_at,
            watch_clock,
            counters: Mutex::new(Context::default()),
            active: Mutex::new(0),
            all_left: Condvar::new(),
            set_aside: AtomicBool::new(false),
        }
    }

    /// The number of blocks.
    pub fn blocks(&self) -> usize {
        self.blocks.len()
    }

    fn block_start(&self, block: usize) -> usize {
        block * self.block_len
    }

    fn block_end(&self, block: usize) -> usize {
        ((block + 1) * self.block_len).min(self.records)
    }

    /// Whether the deadline has come (and so no record should start).
    fn out_of_time(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || (self.watch_clock && Instant::now() >= self.give_up_at)
    }

    /// When the records must be answered by.
    pub fn give_up_at(&self) -> Instant {
        self.give_up_at
    }

    /// Counts a thread in until the guard drops. A thread that never comes
    /// back (stuck in a record, or set aside) stays counted, which is how
    /// the assembler knows one is left behind.
    pub fn enter(&self) -> ActiveGuard<'_> {
        *lock(&self.active) += 1;
        ActiveGuard(self)
    }

    /// Adds counts to the batch's counters.
    pub fn count(&self, cx: &mut Context) {
        lock(&self.counters).absorb(cx);
    }

    /// Claims blocks and runs their records until none is left.
    pub fn work<T: Transform>(&self, transform: &T, event: &Event<'_>, scratch: &mut Scratch) {
        loop {
            let block = self.next_block.fetch_add(1, Ordering::Relaxed);
            if block >= self.blocks.len() || self.out_of_time() {
                return;
            }
            self.work_block(transform, event, block, self.block_start(block), scratch);
        }
    }

    /// Runs the records of `block` from `from` to its end.
    pub fn work_block<T: Transform>(
        &self,
        transform: &T,
        event: &Event<'_>,
        block: usize,
        from: usize,
        scratch: &mut Scratch,
    ) {
        let slot = &self.blocks[block];
        let end = self.block_end(block);
        let mut cx = Context::default();
        let mut finished = true;

        for index in from..end {
            if self.out_of_time() {
                finished = false;
                break;
            }
            AT.with(|at| at.set((block, index)));
            let wire = &event.records[index];
            let outcome = record::process(transform, wire, scratch, &mut cx);
            let mut results = lock(&slot.results);
            results.bytes_in += scratch.data_len as u64;
            let done = match outcome {
                Outcome::Kept => kept(wire, scratch, &mut results.base64),
                Outcome::Dropped => Done::Dropped,
                Outcome::Failed(failure) => Done::Failed(Box::new(failure)),
            };
            results.results.push(done);
            results.counters.absorb(&mut cx);
        }
        if finished {
            lock(&slot.results).complete = true;
            slot.completed.notify_all();
        }
    }

    /// Answers the record a thread was running when it had to be set aside
    /// (see [`record::Rescue`]); the rest of its block is for another thread.
    pub fn rescue(&self, block: usize, index: usize, failure: Failure) {
        self.set_aside.store(true, Ordering::Relaxed);
        let mut results = lock(&self.blocks[block].results);
        debug_assert_eq!(results.results.len(), index - self.block_start(block));
        results.results.push(Done::Failed(Box::new(failure)));
    }

    /// The results of `block`, once complete, or as far as they got when the
    /// deadline comes first (then no thread starts another record).
    fn wait_for(&self, block: usize) -> MutexGuard<'_, BlockResults> {
        let slot = &self.blocks[block];
        let mut results = lock(&slot.results);
        while !results.complete && !self.stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            if now >= self.give_up_at {
                self.stop.store(true, Ordering::Relaxed);
                break;
            }
            results = slot
                .completed
                .wait_timeout(results, self.give_up_at - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        results
    }

    /// Whether a thread is still inside the transform once the response is
    /// made: given `grace` to come back when the run was cut short.
    fn left_running(&self, grace: Duration) -> bool {
        if self.set_aside.load(Ordering::Relaxed) {
            return true;
        }
        if !self.stop.load(Ordering::Relaxed) {
            return false;
        }
        let active = lock(&self.active);
        let (active, _) = self
            .all_left
            .wait_timeout_while(active, grace, |n| *n > 0)
            .unwrap_or_else(|e| e.into_inner());
        *active > 0
    }
}

/// See [`Run::enter`].
pub(super) struct ActiveGuard<'r>(&'r Run);

impl Drop for ActiveGuard<'_> {
    fn drop(&mut self) {
        let mut active = lock(&self.0.active);
        *active -= 1;
        if *active == 0 {
            self.0.all_left.notify_all();
        }
    }
}

/// Locks a mutex whatever happened to the thread that held it last: a
/// panic is caught inside the record, never while one of these is held, so
/// the data is sound.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A kept record's result: its output's base64, appended to the block's
/// buffer unless the output is the input (whose base64 the event holds).
fn kept(wire: &EventRecord<'_>, scratch: &mut Scratch, base64: &mut Vec<u8>) -> Done {
    let output_len = scratch.out.data().len();
    // Unchanged output: the input's base64 text is already the answer
    // (when it is canonical, padded), which saves encoding it.
    let as_received = scratch.output_is_input()
        && wire
            .payload()
            .is_some_and(|p| p.len() == codec::encoded_len(output_len));
    let data = if as_received {
        Kept::AsReceived
    } else {
        let start = base64.len();
        codec::encode_append(scratch.out.data(), base64);
        Kept::Encoded(start, base64.len())
    };
    let metadata = scratch.out.take_metadata();
    Done::Kept {
        data,
        metadata: (!metadata.is_empty()).then(|| Box::new(metadata)),
        output_len,
    }
}

/// How long the assembler waits for threads to come back after cutting a
/// run short, before it reports one left running.
pub(super) fn grace(config: &EngineConfig) -> Duration {
    (config.deadline_margin / 10).min(Duration::from_millis(50))
}

/// Builds the response from the threads' results, in input order, under
/// the byte budget. With `wait`, waits for each block (until the deadline);
/// without, takes what is there (the threads are done).
pub(super) fn assemble(
    event: &Event<'_>,
    run: &Run,
    plan: &Plan,
    config: &EngineConfig,
    started: Instant,
    wait: bool,
) -> Invocation {
    let records = &event.records;
    // Room for output as large as the input, plus an eighth: transforms that
    // add a delimiter or a few members (JSON lines) grow records a little,
    // and regrowing a 6 MB buffer at the end copies all of it and faults in
    // twice the pages (measured: a third of a JSON pipeline's time).
    // Reserving the whole budget instead (so that growing transforms never
    // regrow the buffer) was measured to cost twelve times the page faults:
    // glibc maps and unmaps blocks of that size afresh on every invocation.
    let payload_bytes = plan.payload_bytes;
    let mut response = Response::with_capacity(
        plan.kafka,
        records.len(),
        (plan.floor + payload_bytes + payload_bytes / 8).min(config.response_budget),
    );
    // What is left of the budget once every record's failed entry is
    // reserved: it pays for the records whose real entry is larger.
    let mut slack = config.response_budget - plan.floor;
    let mut failures = Vec::new();
    let mut summary = Summary::new(&event.invocation_id);

    for block in 0..run.blocks() {
        let mut results = if wait {
            run.wait_for(block)
        } else {
            lock(&run.blocks[block].results)
        };
        summary.data_bytes_in += results.bytes_in;
        lock(&run.counters).absorb(&mut results.counters);
        let start = run.block_start(block);
        for (offset, wire) in records[start..run.block_end(block)].iter().enumerate() {
            let index = start + offset;
            let id: &str = &wire.record_id;
            // Measured here, where the id is about to be written anyway.
            let quoted_id = quoted_len(id);
            let first = index == 0;
            let failed_len = failed_len(&response, quoted_id, first);
            let failure = match results.results.get(offset) {
                None => Some(Failure::new(DEADLINE)),
                Some(Done::Failed(failure)) => Some((**failure).clone()),
                Some(Done::Dropped) => {
                    // Shorter than the failed entry reserved for it: it always fits.
                    let entry = response.entry_len_quoted(
                        quoted_id,
                        RecordResult::Dropped,
                        None,
                        &NO_METADATA,
                        first,
                    );
                    slack += failed_len - entry;
                    response.push_quoted(id, quoted_id, RecordResult::Dropped, None, &NO_METADATA);
                    summary.dropped += 1;
                    None
                }
                Some(Done::Kept {
                    data,
                    metadata,
                    output_len,
                }) => {
                    let base64 = match data {
                        Kept::AsReceived => wire.payload().unwrap_or_default(),
                        Kept::Encoded(start, end) => {
                            std::str::from_utf8(&results.base64[*start..*end])
                                .expect("base64 is ASCII")
                        }
                    };
                    let metadata = metadata.as_deref().unwrap_or(&NO_METADATA);
                    let entry = response.entry_len_quoted(
                        quoted_id,
                        RecordResult::Ok,
                        Some(base64.len()),
                        metadata,
                        first,
                    );
                    // The failed entry is already paid for; an Ok entry may
                    // be shorter (empty output) or longer.
                    if entry <= slack + failed_len {
                        slack = slack + failed_len - entry;
                        response.push_quoted(
                            id,
                            quoted_id,
                            RecordResult::Ok,
                            Some(Data::Encoded(base64)),
                            metadata,
                        );
                        summary.ok += 1;
                        summary.data_bytes_out += *output_len as u64;
                        None
                    } else {
                        Some(Failure::over_budget(OVER_BUDGET).with_detail(format_args!(
                            "its {entry}-byte entry did not fit in the {} bytes left of the {}-byte budget",
                            slack + failed_len,
                            config.response_budget
                        )))
                    }
                }
            };
            if let Some(failure) = failure {
                response.push_quoted(
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
        if results.complete {
            // Its outputs are in the response now. Freed here, what the
            // batch holds at once is the response and the blocks the threads
            // are ahead of this loop, not every output of the event.
            results.base64 = Vec::new();
            results.results = Vec::new();
        }
    }

    summary.records = records.len();
    summary.counters = lock(&run.counters).counters().clone();
    summary.response_bytes = response.serialized_len();
    let left_running = run.left_running(grace(config));
    summary.duration = started.elapsed();
    debug_assert!(response.serialized_len() <= config.response_budget);
    Invocation {
        response,
        summary,
        failures,
        left_running,
    }
}
