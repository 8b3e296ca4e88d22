//! Log formats: parsing and writing, with no Firehose in them.
//!
//! Every module here works on plain `&str`/`&[u8]` and can be used on its own,
//! in a transform or anywhere else.

pub mod apache;
pub mod cloudwatch_logs;
pub mod csv;
pub mod json;
pub mod lines;
pub mod syslog;
pub mod timestamp;
