//! The transforms behind the blueprint binaries, each configured from
//! environment variables. A binary in `blueprints/` is one line: `run_with`
//! on one of these.

pub mod apache;
pub mod cloudwatch_logs;
#[cfg(feature = "geoip")]
pub mod geoip;
pub mod pipeline;
pub mod process_record;
pub mod syslog;

/// The setting every converting blueprint shares: whether each output record
/// ends with a newline (`true`/`false`). S3 and Athena need a delimiter between
/// records, since Firehose concatenates them as they are.
pub const APPEND_NEWLINE: &str = "APPEND_NEWLINE";

/// The setting of what a bad line among good ones does: `fail` the record
/// (the default) or `drop` the line and count it (see
/// [`BadLine`](crate::pipeline::BadLine)).
pub const BAD_LINE: &str = crate::pipeline::BAD_LINE;

/// A record's items: one (the usual record, kept on its own fast path) or
/// several (a record holding many lines, as Fluent Bit's
/// `simple_aggregation` and the Kinesis Agent send them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lines<T> {
    /// A record of one line.
    One(T),
    /// A record of several lines, in order (bad lines dropped under
    /// `BAD_LINE=drop`; empty when every line was).
    Many(Vec<T>),
}

impl<T> Lines<T> {
    /// The items, in order.
    pub fn as_slice(&self) -> &[T] {
        match self {
            Lines::One(item) => std::slice::from_ref(item),
            Lines::Many(items) => items,
        }
    }

    /// The items, in order, for changing.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        match self {
            Lines::One(item) => std::slice::from_mut(item),
            Lines::Many(items) => items,
        }
    }

    /// Whether there is none left.
    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// The items, by value.
    pub fn into_vec(self) -> Vec<T> {
        match self {
            Lines::One(item) => vec![item],
            Lines::Many(items) => items,
        }
    }

    /// Parses a record that may hold several messages: one message on the
    /// one-message path (`one`, on the whole record), several through
    /// `each` (given each message and its first line's number), with
    /// `policy` deciding what a bad one does. `messages` splits the record.
    pub(crate) fn parse<'a, M>(
        data: &'a [u8],
        policy: crate::pipeline::BadLine,
        cx: &mut crate::Context,
        one: impl FnOnce(&mut crate::Context) -> Result<T, crate::Failure>,
        messages: impl FnOnce(&'a [u8]) -> M,
        mut each: impl FnMut(&'a [u8], &mut crate::Context) -> Result<T, crate::Failure>,
    ) -> Result<Lines<T>, crate::Failure>
    where
        M: Iterator<Item = (usize, &'a [u8])>,
    {
        let trimmed = data.strip_suffix(b"\n").unwrap_or(data);
        if memchr::memchr(b'\n', trimmed).is_none() {
            return one(cx).map(Lines::One);
        }
        let mut items = Vec::new();
        let mut seen = 0;
        for (number, message) in messages(data) {
            seen += 1;
            match each(message, cx) {
                Ok(item) => items.push(item),
                Err(failure) => policy.handle(failure, cx, format_args!("line {number}"))?,
            }
        }
        if seen == 0 {
            // Only blank lines: as a one-line record would, say why it fails.
            return one(cx).map(Lines::One);
        }
        Ok(Lines::Many(items))
    }
}

/// The lines of `data` that are not blank, with their numbers (1-based),
/// without their `\n` or `\r\n`: records of one message per line whose
/// bytes may not be UTF-8.
pub(crate) fn byte_lines(data: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    data.split(|b| *b == b'\n')
        .enumerate()
        .map(|(i, line)| (i + 1, line.strip_suffix(b"\r").unwrap_or(line)))
        .filter(|(_, line)| !line.trim_ascii().is_empty())
}
/// The setting that turns GeoIP on, wherever a blueprint offers it
/// (`enrich::geoip::DATABASE`, named here too for builds without the `geoip`
/// feature, which refuse it at start-up).
pub const GEOIP_DATABASE: &str = "GEOIP_DATABASE";

/// The environment variables every binary reads (the engine's and the metrics').
pub const COMMON_VARIABLES: &[&str] = &[
    "FIREHOSE_RESPONSE_BUDGET_BYTES",
    "FIREHOSE_DEADLINE_MARGIN_MS",
    "FIREHOSE_TIME_LIMIT_MS",
    "FIREHOSE_THREADS",
    "FIREHOSE_METRICS",
    "FIREHOSE_METRICS_NAMESPACE",
];

/// Re-ingestion's variables (`aws::reingest`), read by every binary beside
/// [`WRITER_VARIABLES`]; a binary built without the `aws` feature refuses
/// `REINGEST` at init.
pub const REINGEST_VARIABLES: &[&str] = &["REINGEST", "REINGEST_MAX_ROUNDS", "REINGEST_STREAM"];

/// The Firehose/Kinesis writer's retries (`aws::writer`), for re-ingestion
/// and the forwarder.
pub const WRITER_VARIABLES: &[&str] = &[
    "AWS_WRITE_MAX_ATTEMPTS",
    "AWS_WRITE_BACKOFF_BASE_MS",
    "AWS_WRITE_BACKOFF_MAX_MS",
    "AWS_WRITE_CALL_TIMEOUT_MS",
];

/// The DynamoDB lookup's variables (`aws::dynamodb`), read by the pipeline's
/// configuration (`firehose-pipeline`, `kinesis-to-firehose`).
pub const DYNAMODB_VARIABLES: &[&str] = &[
    "DYNAMODB_TABLE",
    "DYNAMODB_KEY_FIELD",
    "DYNAMODB_KEY_ATTRIBUTE",
    "DYNAMODB_ATTRIBUTES",
    "DYNAMODB_TARGET_FIELD",
    "DYNAMODB_ON_ERROR",
    "DYNAMODB_MAX_ATTEMPTS",
    "DYNAMODB_CACHE_TTL_SECONDS",
    "DYNAMODB_CACHE_MAX_ENTRIES",
    "DYNAMODB_CONSISTENT_READ",
];

/// The forwarder's own variables (`aws::forward`), beside the pipeline's.
pub const FORWARD_VARIABLES: &[&str] = &["DELIVERY_STREAM_NAME", "FAILED_RECORDS"];

/// Each blueprint binary (its `[[bin]]` name in `Cargo.toml`) and the groups
/// of variables of its own that it documents, beside [`COMMON_VARIABLES`].
///
/// The deployment template (`deploy/template.yaml`) has one parameter per
/// variable; `tests/deploy.rs` checks that every binary of `Cargo.toml` is
/// listed here, that each one's configuration code reads no variable missing
/// from its list, and that the template maps each of them. The binaries that
/// `Cargo.toml` builds with the `aws` feature for Lambda
/// (`[package.metadata.lambda.bin.NAME.build]`) list
/// [`REINGEST_VARIABLES`]; the others refuse `REINGEST`.
///
/// ```
/// use firehose_transform::blueprints::{variables_of, BINARIES};
///
/// assert!(BINARIES.iter().any(|(name, _)| *name == "kinesis-to-firehose"));
/// let variables: Vec<&str> = variables_of("process-record").unwrap().collect();
/// assert!(variables.contains(&"KEEP_REGEX"));
/// ```
pub const BINARIES: &[(&str, &[&[&str]])] = &[
    ("process-record", &[process_record::VARIABLES]),
    ("apachelog-to-json", &[apache::JSON_VARIABLES]),
    ("apachelog-to-csv", &[apache::CSV_VARIABLES]),
    ("syslog-to-json", &[syslog::VARIABLES]),
    ("syslog-to-csv", &[syslog::VARIABLES]),
    #[cfg(feature = "geoip")]
    ("geoip-enrich", &[geoip::VARIABLES]),
    (
        "firehose-pipeline",
        &[
            pipeline::VARIABLES,
            DYNAMODB_VARIABLES,
            REINGEST_VARIABLES,
            WRITER_VARIABLES,
        ],
    ),
    (
        "cloudwatch-logs-processor",
        &[
            cloudwatch_logs::VARIABLES,
            REINGEST_VARIABLES,
            WRITER_VARIABLES,
        ],
    ),
    (
        "kinesis-to-firehose",
        &[
            pipeline::VARIABLES,
            DYNAMODB_VARIABLES,
            FORWARD_VARIABLES,
            WRITER_VARIABLES,
        ],
    ),
];

/// The variables `binary` documents (beside [`COMMON_VARIABLES`]), or `None`
/// for a name that is not a blueprint binary.
pub fn variables_of(binary: &str) -> Option<impl Iterator<Item = &'static str>> {
    BINARIES
        .iter()
        .find(|(name, _)| *name == binary)
        .map(|(_, groups)| groups.iter().flat_map(|group| group.iter().copied()))
}
