//! # firehose-transform
//!
//! Amazon Data Firehose data transformation on AWS Lambda, with the response
//! contract handled for you.
//!
//! Firehose invokes a transformation function with a batch of records and
//! expects every `recordId` back **exactly once**, each `Ok`, `Dropped` or
//! `ProcessingFailed`, in a response under Lambda's 6 MB limit, before the
//! function times out. Break any of that and Firehose retries the whole batch,
//! then sends all of it to the error bucket. This crate's [engine] makes those
//! failures impossible: you write a [`Transform`] that handles one record, and
//! the engine runs it over the batch:
//!
//! - every record id comes back exactly once, in input order;
//! - the response is counted exactly and never exceeds the byte budget
//!   (6 MiB by default); records that do not fit become `ProcessingFailed`,
//!   from the first one that does not fit;
//! - a record that is not base64, or whose transform fails or panics, fails
//!   alone, with its reason logged;
//! - records still waiting when the deadline nears fail instead of the whole
//!   invocation timing out;
//! - every invocation logs one summary line and CloudWatch EMF metrics.
//!
//! ## A complete transform
//!
//! ```
//! use firehose_transform::{Context, Failure, Output, Record, Transform};
//! use firehose_transform::formats::json::ObjectWriter;
//!
//! /// Wraps each line in a JSON object, drops comments, partitions by level.
//! struct Wrap;
//!
//! impl Transform for Wrap {
//!     type Item<'a> = (&'a str, &'a str); // (level, message), borrowed from the record
//!
//!     fn parse<'a>(&self, record: &Record<'a>, _: &mut Context) -> Result<Self::Item<'a>, Failure> {
//!         let line = record.text()?.trim_end();
//!         line.split_once(' ')
//!             .ok_or_else(|| Failure::new("not LEVEL MESSAGE").with_detail(format!("no space in {line:?}")))
//!     }
//!
//!     fn filter(&self, (level, _): &Self::Item<'_>, _: &mut Context) -> bool {
//!         *level != "#"
//!     }
//!
//!     fn convert(&self, (level, message): Self::Item<'_>, out: &mut Output, _cx: &mut Context) -> Result<(), Failure> {
//!         out.partition_key("level", level.to_ascii_lowercase());
//!         let mut object = ObjectWriter::new(out.buffer());
//!         object.str("level", level);
//!         object.str("message", message);
//!         object.finish();
//!         out.write(b"\n");
//!         Ok(())
//!     }
//! }
//!
//! // In the binary: fn main() -> std::process::ExitCode { firehose_transform::run(Wrap) }
//!
//! // In its tests:
//! let processed = firehose_transform::testing::run(&Wrap, ["INFO started", "# comment", "oops"]);
//! assert_eq!(processed.text(0), "{\"level\":\"INFO\",\"message\":\"started\"}\n");
//! assert_eq!(processed.partition_keys(0), &[("level".to_string(), "info".to_string())]);
//! assert!(processed.is_dropped(1));
//! assert_eq!(processed.failure_reason(2), Some("not LEVEL MESSAGE"));
//! ```
//!
//! [`run`] serves the transform on Lambda, or, outside Lambda, runs it on a
//! file (`--event FILE`, `--lines FILE`): see [`runtime`].
//!
//! ## Modules
//! - [`transform`]: the trait you implement; [`engine`]: the guarantees;
//!   [`event`] and [`response`]: the wire formats; [`runtime`]: `run`;
//!   [`telemetry`]: summary and metrics; [`testing`]: the test kit;
//!   [`config`]: settings from environment variables.
//! - [`formats`]: log parsers and JSON/CSV writers; [`enrich`]: GeoIP (the
//!   `geoip` feature). Neither knows about Firehose: use them anywhere.
//! - [`doc`]: a JSON document read in place; [`pipeline`]: a transform
//!   composed of stages over such documents.
//! - [`blueprints`]: the transforms behind the ready-made binaries.
//! - [`reingest`]: the frame re-ingested records carry; with the `aws`
//!   feature, `aws`: the Firehose/Kinesis writer, re-ingestion, the
//!   Kinesis-to-Firehose forwarder and DynamoDB lookups.
//!
//! ## One dependency
//!
//! The crate re-exports what a function needs, so it needs no other
//! dependency: [`lambda_runtime`](https://docs.rs/lambda_runtime/1) (and
//! through it [`tracing`](https://docs.rs/tracing/0.1)), and for JSON records
//! [`serde_json`](https://docs.rs/serde_json/1) and
//! [`serde`](https://docs.rs/serde/1) with its derive macros (write
//! `#[serde(crate = "firehose_transform::serde")]` beside a
//! `#[derive(firehose_transform::serde::Deserialize)]`). For JSON without
//! deserializing into structs, [`doc::Value`] reads a record in place and the
//! [`pipeline`] composes filters, redaction and keys over it.
//!
//! ## Cargo features
//!
//! Both are on by default, so that the blueprints build as documented:
//!
//! - `geoip`: [`enrich::geoip`] and every `GEOIP_*` setting (maxminddb);
//! - `regex`: `process-record`'s `KEEP_REGEX`/`DROP_REGEX` and the
//!   pipeline's `REDACT_PATTERNS` (the `regex` crate).
//!
//! A transform of your own that needs neither depends with
//! `default-features = false`; a setting that needs a feature left out then
//! stops the function at start-up with one line saying which feature.
//!
//! ## Panics
//!
//! A panicking record fails alone only in a binary built with
//! `panic = "unwind"`, Cargo's default; keep it in `[profile.release]` (see
//! [`engine::ISOLATES_PANICS`]).

#[cfg(feature = "aws")]
pub mod aws;
pub mod blueprints;
mod codec;
pub mod config;
pub mod doc;
pub mod engine;
pub mod enrich;
pub mod event;
pub mod formats;
pub mod pipeline;
pub mod reingest;
pub mod response;
pub mod runtime;
pub mod telemetry;
pub mod testing;
pub mod transform;

pub use engine::{Engine, EngineConfig, Invocation, InvocationError};
pub use event::{
    Event, EventError, EventRecord, KinesisRecordMetadata, MskRecordMetadata, SharedEvent,
    SourceKind, SourceMetadata,
};
/// The Lambda runtime client: the
/// [`lambda_runtime`](https://docs.rs/lambda_runtime/1) crate, re-exported
/// whole (its own documentation follows).
// Inlined so that the re-export is a link in these docs whatever builds them:
// lambda_runtime sets no `html_root_url`, so a `no_inline` re-export of it is
// plain text under `cargo doc --no-deps` (serde's and serde_json's link).
#[doc(inline)]
pub use lambda_runtime;
// lambda_runtime's `tracing` module (the tracing crate and its subscriber set-up).
#[doc(no_inline)]
pub use lambda_runtime::tracing;
pub use runtime::{run, run_with};
#[doc(no_inline)]
pub use serde;
#[doc(no_inline)]
pub use serde_json;
pub use transform::{Context, Failure, Output, Record, Transform};

/// The README's Rust examples, compiled and run as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
