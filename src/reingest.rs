//! The re-ingestion frame: how a record written back into a stream carries
//! the number of times it has been re-ingested, and how such records are
//! answered once written.
//!
//! With re-ingestion on (`REINGEST`, the `aws` feature: see
//! `aws::reingest`), a record whose output did not fit the response is
//! written back into the delivery stream (or the source Kinesis stream) and
//! answered `Dropped`. It comes back to the function in a later batch. To
//! stop a record from looping forever, the bytes written back are the
//! record's **original data behind a 6-byte frame**:
//!
//! ```text
//! 0xFF 'F' 'H' 'R' 0x01 ROUND   then the original data, unchanged
//! ```
//!
//! `0xFF` never occurs in UTF-8 text, and no common binary format (gzip,
//! KPL, Avro, Parquet) starts with it, so no real record is mistaken for a
//! framed one. The [engine](crate::engine) removes the frame before any
//! transform sees the record, always (re-ingestion on or not, so turning it
//! off never leaks frames into the output); the re-ingestion layer reads
//! `ROUND` and refuses to write a record back once it reaches
//! `REINGEST_MAX_ROUNDS`.
//!
//! ```
//! use firehose_transform::reingest::{frame, unframe};
//!
//! let framed = frame(1, b"GET / HTTP/1.1");
//! assert_eq!(framed.len(), 6 + 14);
//! assert_eq!(unframe(&framed), (1, &b"GET / HTTP/1.1"[..]));
//! assert_eq!(unframe(b"plain record"), (0, &b"plain record"[..]));
//! ```

use crate::engine::Invocation;
use crate::response::RecordResult;

/// The frame's first five bytes (the sixth is the round).
pub const MAGIC: [u8; 5] = [0xFF, b'F', b'H', b'R', 0x01];
/// The frame's length.
pub const FRAME_LEN: usize = MAGIC.len() + 1;

/// `data` behind a frame saying it has been re-ingested `round` times.
pub fn frame(round: u8, data: &[u8]) -> Vec<u8> {
    let mut framed = Vec::with_capacity(FRAME_LEN + data.len());
    framed.extend_from_slice(&MAGIC);
    framed.push(round);
    framed.extend_from_slice(data);
    framed
}

/// The round a record was re-ingested in (0 for a record never
/// re-ingested) and its original data.
pub fn unframe(data: &[u8]) -> (u8, &[u8]) {
    match data.strip_prefix(&MAGIC[..]) {
        Some([round, rest @ ..]) => (*round, rest),
        _ => (0, data),
    }
}

/// How many bytes of `data` are a frame (0 or [`FRAME_LEN`]).
#[inline]
pub(crate) fn frame_len(data: &[u8]) -> usize {
    if data.len() >= FRAME_LEN && data[..MAGIC.len()] == MAGIC {
        FRAME_LEN
    } else {
        0
    }
}

/// The positions (in the event) of the records that failed only because
/// they did not fit in the response ([`Failure::over_budget`](crate::Failure::over_budget): the engine's
/// `response byte budget exceeded`, or a stage's own, as a CloudWatch Logs
/// record that inflates past the budget): the ones re-ingestion may write
/// back.
///
/// ```
/// use firehose_transform::{testing::EventBuilder, Engine, EngineConfig};
/// use firehose_transform::blueprints::process_record::ProcessRecord;
///
/// let event = EventBuilder::new().lines(["a".repeat(100), "b".repeat(100), "c".repeat(100)]).build();
/// // Room for every record to fail (313 bytes) and for the first one whole
/// // (445 bytes), not for the second.
/// let config = EngineConfig { response_budget: 500, ..EngineConfig::default() };
/// let invocation = Engine::with_config(ProcessRecord::default(), config).process(&event, None)?;
/// assert_eq!(firehose_transform::reingest::overflowed(&invocation), vec![1, 2]);
/// # Ok::<(), firehose_transform::InvocationError>(())
/// ```
pub fn overflowed(invocation: &Invocation) -> Vec<usize> {
    invocation
        .failures
        .iter()
        .filter(|f| f.failure.is_over_budget())
        .map(|f| f.index)
        .collect()
}

/// Answers the record at `index` `Dropped` in place of `ProcessingFailed`,
/// once its data is safely written elsewhere: the response, the failures and
/// the summary all change. A `Dropped` entry is shorter than a
/// `ProcessingFailed` one, so the response stays within its budget.
///
/// Returns `false` (and changes nothing) when that record is not failed.
///
/// ```
/// use firehose_transform::{testing::EventBuilder, Engine, EngineConfig};
/// use firehose_transform::blueprints::process_record::ProcessRecord;
/// use firehose_transform::response::RecordResult;
///
/// let event = EventBuilder::new().lines(["a".repeat(100), "b".repeat(100)]).build();
/// // Room for the first record whole (345 bytes), not the second (477).
/// let config = EngineConfig { response_budget: 400, ..EngineConfig::default() };
/// let mut invocation = Engine::with_config(ProcessRecord::default(), config).process(&event, None)?;
/// let before = invocation.response.serialized_len();
/// assert!(firehose_transform::reingest::answer_dropped(&mut invocation, 1));
/// assert_eq!(invocation.response.records().nth(1).unwrap().result, RecordResult::Dropped);
/// assert_eq!(invocation.response.serialized_len(), before - "ProcessingFailed".len() + "Dropped".len());
/// assert_eq!((invocation.summary.dropped, invocation.summary.failed()), (1, 0));
/// assert!(!firehose_transform::reingest::answer_dropped(&mut invocation, 0));
/// # Ok::<(), firehose_transform::InvocationError>(())
/// ```
pub fn answer_dropped(invocation: &mut Invocation, index: usize) -> bool {
    let Some(at) = invocation.failures.iter().position(|f| f.index == index) else {
        return false;
    };
    if !invocation.response.set_result(index, RecordResult::Dropped) {
        return false;
    }
    let failed = invocation.failures.remove(at);
    let record_id = invocation
        .response
        .records()
        .nth(index)
        .map(|r| r.record_id.to_string())
        .unwrap_or_default();
    invocation
        .summary
        .forget_failure(&record_id, failed.failure.reason());
    invocation.summary.dropped += 1;
    invocation.summary.response_bytes = invocation.response.serialized_len();
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_whole_frame_is_a_frame() {
        assert_eq!(frame_len(&frame(3, b"")), FRAME_LEN);
        assert_eq!(frame_len(&MAGIC), 0);
        assert_eq!(frame_len(b"\xFFFHR\x02\x01data"), 0);
        assert_eq!(unframe(&frame(255, b"x")), (255, &b"x"[..]));
    }
}
