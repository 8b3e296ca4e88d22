//! firehose-transform (crate docs written with the core).

pub mod blueprints;
pub mod config;
pub mod enrich;
pub mod event;
pub mod formats;
pub mod transform;

pub use event::{Event, EventError, EventRecord, KinesisRecordMetadata, MskRecordMetadata, SourceKind, SourceMetadata};
pub use transform::{Context, Failure, Output, Record, Transform};
