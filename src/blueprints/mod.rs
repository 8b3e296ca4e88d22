//! The transforms behind the blueprint binaries, each configured from
//! environment variables. A binary in `blueprints/` is one line: `run_with`
//! on one of these.

pub mod apache;
#[cfg(feature = "geoip")]
pub mod geoip;
pub mod pipeline;
pub mod process_record;
pub mod syslog;

/// The setting every converting blueprint shares: whether each output record
/// ends with a newline (`true`/`false`). S3 and Athena need a delimiter between
/// records, since Firehose concatenates them as they are.
pub const APPEND_NEWLINE: &str = "APPEND_NEWLINE";

/// The setting that turns GeoIP on, wherever a blueprint offers it
/// (`enrich::geoip::DATABASE`, named here too for builds without the `geoip`
/// feature, which refuse it at start-up).
pub const GEOIP_DATABASE: &str = "GEOIP_DATABASE";
