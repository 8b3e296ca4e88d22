//! The transforms behind the blueprint binaries, each configured from
//! environment variables. A binary in `blueprints/` is one line: `run_with`
//! on one of these.

pub mod apache;
pub mod cloudwatch_logs;
pub mod geoip;
pub mod pipeline;
pub mod process_record;
pub mod syslog;

/// The setting every converting blueprint shares: whether each output record
/// ends with a newline (`true`/`false`). S3 and Athena need a delimiter between
/// records, since Firehose concatenates them as they are.
pub const APPEND_NEWLINE: &str = "APPEND_NEWLINE";
