//! firehose-transform (crate docs written with the core).

pub mod formats;
