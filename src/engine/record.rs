//! One record through the transform: decode its data, run the stages, and
//! turn whatever goes wrong (bad base64, a `Failure`, a panic) into a failure
//! of that record alone.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use crate::codec;
use crate::event::EventRecord;
use crate::transform::{Context, Failure, Output, Record, Transform};

use super::{ARRIVAL_OUT_OF_RANGE, NOT_BASE64, NO_PAYLOAD, PANICKED};

/// What happened to one record in the transform.
pub(super) enum Outcome {
    /// Kept: its output is in the scratch's [`Output`].
    Kept,
    Dropped,
    Failed(Failure),
}

/// The buffers one thread reuses from record to record.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    /// The record's data, base64-decoded.
    pub decoded: Vec<u8>,
    /// What the transform wrote.
    pub out: Output,
    /// The length of the data the transform saw (a re-ingestion frame off),
    /// 0 when it saw none.
    pub data_len: usize,
}

impl Scratch {
    /// Whether the output is the record's data, byte for byte (and so its
    /// base64 text can be answered as it came).
    pub fn output_is_input(&self) -> bool {
        self.out.data() == self.decoded.as_slice()
    }
}

/// Runs `f` with this thread's scratch buffers, kept from one invocation to
/// the next so that they are warm (no page faults on the first records).
pub(super) fn with_scratch(f: impl FnOnce(&mut Scratch)) {
    thread_local! {
        static SCRATCH: RefCell<Option<Scratch>> = const { RefCell::new(None) };
    }
    let mut scratch = SCRATCH.with(|s| s.borrow_mut().take()).unwrap_or_default();
    f(&mut scratch);
    SCRATCH.with(|s| *s.borrow_mut() = Some(scratch));
}

/// The arrival times RFC 3339 can write: 0000-01-01T00:00:00Z to
/// 9999-12-31T23:59:59.999Z, in milliseconds since the epoch.
const RFC3339_MILLIS: std::ops::RangeInclusive<i64> = -62_167_219_200_000..=253_402_300_799_999;

/// Decodes `wire` and runs `transform`'s stages on it.
pub(super) fn process<T: Transform>(
    transform: &T,
    wire: &EventRecord<'_>,
    scratch: &mut Scratch,
    cx: &mut Context,
) -> Outcome {
    scratch.data_len = 0;
    let Some(payload) = wire.payload() else {
        return Outcome::Failed(Failure::new(NO_PAYLOAD));
    };
    if let Some(millis) = wire
        .approximate_arrival_timestamp
        .filter(|ms| !RFC3339_MILLIS.contains(ms))
    {
        // Every time derived from it (a syslog year, an RFC 3339 field)
        // would be unwritable: the record fails here, before any stage.
        return Outcome::Failed(Failure::new(ARRIVAL_OUT_OF_RANGE).with_detail(format_args!(
            "{millis} ms since the epoch is in year {}, outside RFC 3339's 0000 to 9999",
            crate::formats::timestamp::DateTime::from_unix_millis(millis).year
        )));
    }
    scratch.decoded.clear();
    if let Err(error) = codec::decode_append(payload, &mut scratch.decoded) {
        return Outcome::Failed(Failure::new(NOT_BASE64).with_detail(error));
    }
    // A re-ingested record comes back framed: the transform sees the
    // original data.
    let data = &scratch.decoded[crate::reingest::frame_len(&scratch.decoded)..];
    scratch.data_len = data.len();
    let record = Record {
        id: &wire.record_id,
        data,
        approximate_arrival_timestamp: wire.approximate_arrival_timestamp,
        source: wire.source(),
    };
    scratch.out.clear();
    run_stages(transform, &record, cx, &mut scratch.out)
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
    let result = catch_record_panic(record.id, stages);
    match result {
        Ok(Ok(true)) => Outcome::Kept,
        Ok(Ok(false)) => Outcome::Dropped,
        Ok(Err(failure)) if failure.is_drop() => Outcome::Dropped,
        Ok(Err(failure)) => Outcome::Failed(failure),
        Err(failure) => Outcome::Failed(failure),
    }
}

/// Runs `f`, a piece of the transform working on record `id`; a panic in
/// it becomes a [`PANICKED`] failure saying what and where.
pub(super) fn catch_record_panic<R>(id: &str, f: impl FnOnce() -> R) -> Result<R, Failure> {
    install_panic_hook();
    IN_RECORD.with(|flag| flag.set(true));
    // Under abort nothing is caught: the hook names the record before the end.
    #[cfg(panic = "abort")]
    ABORTING_RECORD.with(|slot| {
        let mut slot = slot.borrow_mut();
        slot.clear();
        slot.push_str(id);
    });
    #[cfg(not(panic = "abort"))]
    let _ = id;
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    IN_RECORD.with(|flag| flag.set(false));
    UNWINDING.with(|flag| flag.set(false));
    result.map_err(|payload| {
        let message = panic_message(&*payload);
        let location = PANIC_LOCATION.with(|l| l.borrow_mut().take());
        drop_payload(payload);
        Failure::new(PANICKED).with_detail(match location {
            Some(location) => format!("{message} at {location}"),
            None => message,
        })
    })
}

/// A panic's message, when its payload is a string (as `panic!` makes it).
fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
        .to_string()
}

/// Drops a panic's payload, which is the transform's value and may itself
/// panic when dropped (`std::panic::panic_any` of a type whose `Drop`
/// panics): that panic is caught too, and its own payload is leaked rather
/// than dropped, since it could do the same again.
fn drop_payload(payload: Box<dyn Any + Send>) {
    IN_RECORD.with(|flag| flag.set(true));
    if let Err(again) = panic::catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(again);
    }
    IN_RECORD.with(|flag| flag.set(false));
    UNWINDING.with(|flag| flag.set(false));
    PANIC_LOCATION.with(|l| l.borrow_mut().take());
}

/// What a thread that may be given up on does when a record panics while
/// its first panic is still unwinding (a value's `Drop` panicking during the
/// unwind). The runtime aborts the whole process on such a panic once the
/// panic hook returns, so the hook never returns: it hands the record's
/// failure to this rescue (which answers the record and has the rest of the
/// thread's work done elsewhere), then parks the thread for good.
pub(super) type Rescue = Box<dyn FnOnce(Failure)>;

/// Sets (or, with `None`, clears) this thread's rescue. Only threads whose
/// caller does not wait for them set one: parking a thread that a caller
/// joins would hang the caller instead of aborting.
pub(super) fn set_rescue(rescue: Option<Rescue>) {
    RESCUE.with(|slot| *slot.borrow_mut() = rescue);
}

thread_local! {
    /// Set while a record's stages run, so the panic hook knows a panic there
    /// is handled (reported per record) rather than fatal.
    static IN_RECORD: Cell<bool> = const { Cell::new(false) };
    /// Set by the hook when a record's panic starts unwinding; a second
    /// panic while it is set is a panic during the unwind.
    static UNWINDING: Cell<bool> = const { Cell::new(false) };
    /// Where the last record panic happened, for its failure detail.
    static PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
    /// See [`Rescue`].
    static RESCUE: RefCell<Option<Rescue>> = const { RefCell::new(None) };
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
pub(super) fn install_panic_hook() {
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
                        "firehose-transform: the transform panicked on record {id:?}; {}",
                        super::ABORT_WARNING
                    );
                }
            }
            #[cfg(not(panic = "abort"))]
            if IN_RECORD.with(Cell::get) {
                let location = info
                    .location()
                    .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
                if UNWINDING.with(|flag| flag.replace(true)) {
                    if let Some(rescue) = RESCUE.with(|slot| slot.borrow_mut().take()) {
                        let message = panic_message(info.payload());
                        let at = location.map(|l| format!(" at {l}")).unwrap_or_default();
                        rescue(Failure::new(PANICKED).with_detail(format_args!(
                            "it panicked again while unwinding a panic ({message}{at}); \
                             the thread running it was set aside"
                        )));
                        loop {
                            std::thread::park();
                        }
                    }
                    // No rescue: the process aborts, with the usual message.
                    previous(info);
                    return;
                }
                PANIC_LOCATION.with(|slot| *slot.borrow_mut() = location);
            } else {
                previous(info);
            }
        }));
    });
}
