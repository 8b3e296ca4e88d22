//! One batch in progress: its records handed out in blocks to the threads
//! that run the transform, and the response assembled from their results,
//! in input order, by the thread that answers the invocation.
//!
//! Splitting the work this way keeps every decision the contract depends on
//! in one place and in one order. The threads only compute each record's
//! outcome and write its entry (both depend on the record alone); the
//! assembler walks the records from first to last and decides, exactly as a
//! single thread would,
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

use bytes::Bytes;

use crate::codec;
use crate::event::{Event, EventRecord, SourceKind};
use crate::formats::json::quoted_len;
use crate::response::{
    write_entry, Data, EntryLayout, EntryText, Metadata, RecordResult, Response, NO_METADATA,
};
use crate::telemetry::Summary;
use crate::transform::{Context, Failure, Transform};

use super::record::{self, Outcome, Scratch};
use super::{
    lock, EngineConfig, Invocation, InvocationError, RecordFailure, DEADLINE, OVER_BUDGET,
};

/// What the batch needs to know before any record runs: the floor (the
/// response with every record failed) and the bytes of record data (which
/// decide the thread count and size the response).
pub(super) struct Plan {
    floor: usize,
    /// An MSK event: the data's key is `kafkaRecordValue`.
    pub kafka: bool,
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

/// One record's result, as a thread left it for the assembler. Its entry
/// in the response is written by the thread (the next one in its block's
/// buffer), all but the assembler's budget decision, which only needs the
/// entry's length. So what the assembler does for each record is copying
/// bytes, and the work of writing the response is shared by the threads.
pub(super) enum Done {
    /// Kept, with an `Ok` entry; its output is `output_len` bytes.
    Kept {
        entry: EntryLayout,
        metadata: Option<Box<Metadata>>,
        output_len: usize,
    },
    /// Kept, with its data as received (the output is the input): the
    /// assembler writes its entry from the event's base64, which a thread
    /// writing it would copy once more.
    AsReceived {
        metadata: Option<Box<Metadata>>,
        output_len: usize,
    },
    /// With a `Dropped` entry.
    Dropped(EntryLayout),
    /// With a `ProcessingFailed` entry.
    Failed(EntryLayout, Box<Failure>),
}

/// The results of one block of records, filled in order by the thread that
/// claimed it.
#[derive(Default)]
struct BlockResults {
    results: Vec<Done>,
    /// The entries written, one after another, each with its leading comma.
    entries: Vec<u8>,
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
    kafka: bool,
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
    /// Buffers of blocks already in the response, emptied, for the blocks
    /// still to run: the threads then write into memory already in use
    /// rather than fresh pages (a 6 MB event of Apache lines as JSON wrote
    /// 9 MB of entries, a quarter of the page faults of a whole run).
    spare: Mutex<Vec<(Vec<Done>, Vec<u8>)>>,
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
    pub fn new(
        records: usize,
        kafka: bool,
        threads: usize,
        give_up_at: Instant,
        watch_clock: bool,
    ) -> Run {
        // Small blocks spread the work evenly and let the assembler start
        // early; a block is also what a thread claims in one atomic step.
        let block_len = (records / (threads.max(1) * 16)).clamp(16, 256);
        let blocks = records.div_ceil(block_len);
        Run {
            records,
            kafka,
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
            spare: Mutex::new(Vec::new()),
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
        {
            // Room for the block's entries, so that they are written without
            // regrowing the buffer (measured: 3% of apachelog-to-json's time
            // went to copying it as it grew): twice the records' base64 holds
            // outputs up to about twice their input, like Apache lines as
            // JSON; larger ones regrow.
            let payloads: usize = event.records[from..end]
                .iter()
                .map(|r| r.payload().map_or(0, str::len))
                .sum();
            let mut results = lock(&slot.results);
            // (A block resumed after a thread was set aside keeps its own.)
            if results.results.is_empty() && results.entries.capacity() == 0 {
                if let Some((done, entries)) = lock(&self.spare).pop() {
                    (results.results, results.entries) = (done, entries);
                }
            }
            results.results.reserve(end - from);
            results
                .entries
                .reserve(2 * payloads + ENTRY_FRAMING * (end - from));
        }

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
            let done = written(self.kafka, wire, outcome, scratch, &mut results.entries);
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
    pub fn rescue(&self, event: &Event<'_>, block: usize, index: usize, failure: Failure) {
        self.set_aside.store(true, Ordering::Relaxed);
        let mut results = lock(&self.blocks[block].results);
        debug_assert_eq!(results.results.len(), index - self.block_start(block));
        let entries = &mut results.entries;
        let entry = failed_entry(self.kafka, &event.records[index].record_id, entries);
        results.results.push(Done::Failed(entry, Box::new(failure)));
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

/// The bytes of an entry besides its id and data (the longest is
/// `,{"recordId":"","result":"Ok","kafkaRecordValue":""}`), for sizing buffers.
const ENTRY_FRAMING: usize = 64;

/// Writes the entry of a record whose transform ended in `outcome` at the
/// end of `entries`, unless it is answered with its data as received.
fn written(
    kafka: bool,
    wire: &EventRecord<'_>,
    outcome: Outcome,
    scratch: &mut Scratch,
    entries: &mut Vec<u8>,
) -> Done {
    let failure = match outcome {
        Outcome::Kept => return kept(kafka, wire, scratch, entries),
        Outcome::Failed(failure) => failure,
        Outcome::Dropped => {
            let record_id: &str = &wire.record_id;
            let entry = EntryText {
                result: RecordResult::Dropped,
                ..EntryText::failed(kafka, record_id)
            };
            return Done::Dropped(write_entry(entries, entry));
        }
    };
    Done::Failed(
        failed_entry(kafka, &wire.record_id, entries),
        Box::new(failure),
    )
}

/// Writes the `ProcessingFailed` entry of `record_id`.
fn failed_entry(kafka: bool, record_id: &str, entries: &mut Vec<u8>) -> EntryLayout {
    write_entry(entries, EntryText::failed(kafka, record_id))
}

/// A kept record's result and entry; none when the output is the input,
/// whose base64 the event holds.
fn kept(kafka: bool, wire: &EventRecord<'_>, scratch: &mut Scratch, entries: &mut Vec<u8>) -> Done {
    let output_len = scratch.out.data().len();
    let metadata = scratch.out.take_metadata();
    // Unchanged output: the input's base64 text is already the answer
    // (when it is canonical, padded), which saves encoding it.
    let as_received = scratch.output_is_input()
        && wire
            .payload()
            .is_some_and(|p| p.len() == codec::encoded_len(output_len));
    if as_received {
        return Done::AsReceived {
            metadata: (!metadata.is_empty()).then(|| Box::new(metadata)),
            output_len,
        };
    }
    let record_id: &str = &wire.record_id;
    let entry = write_entry(
        entries,
        EntryText {
            result: RecordResult::Ok,
            data: Some(Data::Raw(scratch.out.data())),
            metadata: &metadata,
            ..EntryText::failed(kafka, record_id)
        },
    );
    Done::Kept {
        entry,
        metadata: (!metadata.is_empty()).then(|| Box::new(metadata)),
        output_len,
    }
}

/// The entries a thread wrote for one block, read in order by the assembler.
struct Written<'b> {
    /// The entries, when they join the response where they are.
    in_place: Option<Bytes>,
    /// The entries, when they are copied.
    entries: &'b [u8],
    /// Where the next entry starts.
    next: usize,
    /// Copy the entries from here on, even from `in_place`: an entry was
    /// left out, and a piece would keep the rest of the buffer alive for
    /// the few that still fit.
    copy: bool,
}

impl Written<'_> {
    /// Adds the next entry, laid out as `entry`, to the response.
    fn push(
        &mut self,
        response: &mut Response,
        entry: &EntryLayout,
        id: &str,
        result: RecordResult,
        metadata: Option<Box<Metadata>>,
    ) {
        let at = self.next;
        self.next += entry.len;
        match &self.in_place {
            Some(buffer) if !self.copy => {
                response.push_written_in_place(buffer, at, entry, id, result, metadata)
            }
            in_place => {
                let text = &in_place.as_deref().unwrap_or(self.entries)[at..self.next];
                response.push_written(text, entry, id, result, metadata)
            }
        }
    }

    /// Leaves the next entry out (it did not fit).
    fn skip(&mut self, entry: &EntryLayout) {
        self.next += entry.len;
        self.copy = true;
    }
}

/// Runs of written entries shorter than this on average are copied into
/// the response rather than left where they are (see `assemble`).
const IN_PLACE_MIN_BYTES: usize = 16 * 1024;

/// How many runs of entries written by its thread a block's results make,
/// between records whose entries the assembler writes.
fn runs_written(done: &[Done]) -> usize {
    let by_thread = |done: &Done| !matches!(done, Done::AsReceived { .. });
    let starts = done
        .windows(2)
        .filter(|w| by_thread(&w[1]) && !by_thread(&w[0]));
    usize::from(done.first().is_some_and(by_thread)) + starts.count()
}

/// The bytes a block adds to the response's own JSON: the entries its
/// thread wrote, unless they stay where they are (`entries` is then
/// empty), and the data of the records answered as received.
fn own_len(records: &[EventRecord<'_>], done: &[Done], entries: &[u8]) -> usize {
    let as_received: usize = done
        .iter()
        .zip(records)
        .filter(|(done, _)| matches!(done, Done::AsReceived { .. }))
        .map(|(_, wire)| wire.payload().map_or(0, str::len) + ENTRY_FRAMING)
        .sum();
    entries.len() + as_received
}

/// The response's own size, estimated from its first block: all the
/// records' data growing as the first block's did (JSON conversion about doubles it,
/// a filter shrinks it), up to the budget. Regrowing a 6 MB response at the
/// end copies all of it and faults in twice the pages (a third of a JSON
/// pipeline's time, measured), while a response sized for the whole budget
/// is mostly memory never written (but entered all the same in local mode).
fn estimated_len(
    plan: &Plan,
    first_block: &[EventRecord<'_>],
    written: usize,
    config: &EngineConfig,
) -> usize {
    let payload: usize = first_block
        .iter()
        .map(|r| r.payload().map_or(0, str::len))
        .sum();
    let growth = written as f64 / payload.max(1) as f64;
    // A sixteenth more, for blocks that grow more than the first. (The
    // entries' ids and framing grow with the data: they are in `written`.)
    let estimate = plan.payload_bytes as f64 * growth * 17.0 / 16.0;
    (estimate as usize).min(config.response_budget)
}

/// The failure of a record whose `entry`-byte entry is larger than the
/// `left` bytes of the budget that are left.
fn over_budget(entry: usize, left: usize, config: &EngineConfig) -> Failure {
    Failure::over_budget(OVER_BUDGET).with_sizes_that_did_not_fit(
        entry,
        left,
        config.response_budget,
    )
}

/// Counts the failure of record `index` in the summary and the invocation's
/// failures.
fn record_failure(
    summary: &mut Summary,
    failures: &mut Vec<RecordFailure>,
    index: usize,
    id: &str,
    failure: Failure,
) {
    summary.record_failure(id, &failure);
    failures.push(RecordFailure { index, failure });
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
    // The response is sized once the first block is done (below), from how
    // much its records grew or shrank.
    let mut response = Response::with_capacity(plan.kafka, records.len(), 0);
    // What is left of the budget once every record's failed entry is
    // reserved: it pays for the records whose real entry is larger.
    let mut slack = config.response_budget - plan.floor;
    let mut failures = Vec::new();
    let mut summary = Summary::new(&event.invocation_id);
    // A failed entry's bytes besides its id, with its comma.
    let failed_framing = failed_len(&response, 0, false);
    // A record's entry has not fit.
    let mut budget_ran_out = false;

    for block in 0..run.blocks() {
        let mut results = if wait {
            run.wait_for(block)
        } else {
            lock(&run.blocks[block].results)
        };
        summary.data_bytes_in += results.bytes_in;
        lock(&run.counters).absorb(&mut results.counters);
        let BlockResults {
            results: done,
            entries,
            ..
        } = &mut *results;
        let start = run.block_start(block);
        let block_records = &records[start..run.block_end(block)];
        // The block's entries join the response where the thread wrote them
        // when they come in long runs (copying them was a quarter of the
        // assembling thread's time on an Apache event); short runs, between
        // records answered as received, are copied rather than making the
        // response a list of many small pieces.
        //
        // Once a record has not fit, entries are copied: the response is
        // about full, and a piece for the few small entries that still fit
        // (dropped records, failures) would keep whole buffers of outputs
        // that did not (a CloudWatch Logs event's output is several times
        // the budget: its peak RSS rose by 3 MiB that way).
        let in_place = (!budget_ran_out
            && entries.len() >= IN_PLACE_MIN_BYTES * runs_written(done))
        .then(|| Bytes::from(std::mem::take(entries)));
        let own = own_len(block_records, done, entries);
        if block == 0 {
            response.reserve(estimated_len(plan, block_records, own, config));
        }
        let needed = own + ENTRY_FRAMING * block_records.len();
        if response.spare_capacity() < needed {
            // Short of the estimate: the response doubles, but never past
            // the budget, which it cannot outgrow (doubling alone copied 6 MB
            // into a new 12 MB buffer when Apache lines as JSON filled a 6 MB
            // budget).
            let left = config.response_budget - response.serialized_len();
            response.reserve(response.own_len().max(needed).min(left));
        }
        let mut written = Written {
            in_place,
            entries,
            next: 0,
            copy: false,
        };
        for (offset, wire) in block_records.iter().enumerate() {
            let index = start + offset;
            let id: &str = &wire.record_id;
            let first = index == 0;
            // What an entry adds: its comma, but for the first.
            let added = |entry: &EntryLayout| entry.len - usize::from(first);
            let failed_len = |quoted_id: usize| failed_framing + quoted_id - usize::from(first);
            let failure = match done.get_mut(offset) {
                None => Some(Failure::new(DEADLINE)),
                Some(Done::Failed(entry, failure)) => {
                    written.push(
                        &mut response,
                        entry,
                        id,
                        RecordResult::ProcessingFailed,
                        None,
                    );
                    record_failure(&mut summary, &mut failures, index, id, (**failure).clone());
                    continue;
                }
                Some(Done::Dropped(entry)) => {
                    // Shorter than the failed entry reserved for it: it always fits.
                    slack += failed_len(entry.quoted_id_len()) - added(entry);
                    written.push(&mut response, entry, id, RecordResult::Dropped, None);
                    summary.dropped += 1;
                    continue;
                }
                Some(Done::Kept {
                    entry,
                    metadata,
                    output_len,
                }) => {
                    // The failed entry is already paid for; an Ok entry may
                    // be shorter (empty output) or longer.
                    let failed_len = failed_len(entry.quoted_id_len());
                    if added(entry) <= slack + failed_len {
                        slack = slack + failed_len - added(entry);
                        written.push(&mut response, entry, id, RecordResult::Ok, metadata.take());
                        summary.ok += 1;
                        summary.data_bytes_out += *output_len as u64;
                        None
                    } else {
                        written.skip(entry);
                        budget_ran_out = true;
                        Some(over_budget(added(entry), slack + failed_len, config))
                    }
                }
                Some(Done::AsReceived {
                    metadata,
                    output_len,
                }) => {
                    let quoted_id = quoted_len(id);
                    let failed_len = failed_len(quoted_id);
                    let base64 = wire.payload().unwrap_or_default();
                    let metadata = metadata.as_deref().unwrap_or(&NO_METADATA);
                    let entry = response.entry_len_quoted(
                        quoted_id,
                        RecordResult::Ok,
                        Some(base64.len()),
                        metadata,
                        first,
                    );
                    if entry <= slack + failed_len {
                        slack = slack + failed_len - entry;
                        response.push_entry(
                            id,
                            RecordResult::Ok,
                            Some(Data::Encoded(base64)),
                            metadata,
                        );
                        summary.ok += 1;
                        summary.data_bytes_out += *output_len as u64;
                        None
                    } else {
                        budget_ran_out = true;
                        Some(over_budget(entry, slack + failed_len, config))
                    }
                }
            };
            if let Some(failure) = failure {
                response.push_entry(id, RecordResult::ProcessingFailed, None, &NO_METADATA);
                record_failure(&mut summary, &mut failures, index, id, failure);
            }
        }
        if results.complete {
            // Its entries are in the response now: its buffers go to the
            // blocks still to run (but the entries' buffer when the response
            // holds it). So what the batch holds at once is the response and
            // the blocks the threads are ahead of this loop, not every
            // output of the event.
            let (mut done, mut entries) = (
                std::mem::take(&mut results.results),
                std::mem::take(&mut results.entries),
            );
            done.clear();
            entries.clear();
            lock(&run.spare).push((done, entries));
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
