//! The transforms behind the blueprint binaries, each configured from
//! environment variables. A binary in `blueprints/` is one line: `run_with`
//! on one of these.

pub mod apache;
pub mod geoip;
pub mod process_record;
pub mod syslog;
