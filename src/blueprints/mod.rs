//! The transforms behind the blueprint binaries, each configured from
//! environment variables. A binary in `blueprints/` is one line: `run_with`
//! on one of these.

pub mod apache;
pub mod geoip;
pub mod pipeline;
pub mod process_record;
pub mod syslog;

/// The setting every converting blueprint shares: whether each output record
/// ends with a newline (`true`/`false`). S3 and Athena need a delimiter between
/// records, since Firehose concatenates them as they are.
pub const APPEND_NEWLINE: &str = "APPEND_NEWLINE";

/// The environment variables every binary reads (the engine's and the metrics').
pub const COMMON_VARIABLES: &[&str] = &[
    "FIREHOSE_RESPONSE_BUDGET_BYTES",
    "FIREHOSE_DEADLINE_MARGIN_MS",
    "FIREHOSE_METRICS",
    "FIREHOSE_METRICS_NAMESPACE",
];

/// Each blueprint binary (its `[[bin]]` name in `Cargo.toml`) and the
/// variables of its own that it documents, beside [`COMMON_VARIABLES`].
///
/// The deployment template (`deploy/template.yaml`) has one parameter per
/// variable; `tests/deploy.rs` checks that every binary of `Cargo.toml` is
/// listed here, that each one's configuration code reads no variable missing
/// from its list, and that the template maps each of them.
///
/// ```
/// use firehose_transform::blueprints::BINARIES;
///
/// let (_, variables) = BINARIES.iter().find(|(name, _)| *name == "process-record").unwrap();
/// assert!(variables.contains(&"KEEP_REGEX"));
/// ```
pub const BINARIES: &[(&str, &[&str])] = &[
    ("process-record", process_record::VARIABLES),
    ("apachelog-to-json", apache::JSON_VARIABLES),
    ("apachelog-to-csv", apache::CSV_VARIABLES),
    ("syslog-to-json", syslog::VARIABLES),
    ("syslog-to-csv", syslog::VARIABLES),
    ("geoip-enrich", geoip::VARIABLES),
    ("firehose-pipeline", pipeline::VARIABLES),
];
