//! What an invocation reports: one summary line and CloudWatch metrics.
//!
//! Firehose's error records say only "Lambda.ProcessingFailedStatus"; the reason
//! a record failed exists nowhere but in the function's own logs. So every
//! invocation logs one structured [`Summary`] line (counts, failures grouped by
//! reason with the first few record ids and an example, bytes, duration), and,
//! unless turned off, one [CloudWatch Embedded Metric Format] line with the same
//! counts, which CloudWatch turns into metrics without any API call.
//!
//! [CloudWatch Embedded Metric Format]: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_runtime::tracing;
use serde::Serialize;

use crate::config::{ConfigError, Settings};
use crate::formats::json::ObjectWriter;
use crate::transform::Failure;

/// How many record ids each failure group keeps.
pub const IDS_PER_REASON: usize = 3;

/// Failures sharing one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureGroup {
    /// The fixed reason.
    pub reason: String,
    /// How many records failed for it.
    pub count: u64,
    /// The first few of their ids.
    pub record_ids: Vec<String>,
    /// The detail of the first, when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
}

/// Counts and figures for one invocation.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// The invocation's id (empty when the event had none).
    pub invocation_id: String,
    /// Records in the event.
    pub records: usize,
    /// Records returned `Ok`.
    pub ok: u64,
    /// Records returned `Dropped`.
    pub dropped: u64,
    /// Failures grouped by reason, in order of first occurrence.
    pub failures: Vec<FailureGroup>,
    /// The transform's own counters ([`Context::count`](crate::Context::count)).
    pub counters: BTreeMap<&'static str, u64>,
    /// Decoded bytes of the input records.
    pub data_bytes_in: u64,
    /// Decoded bytes of the `Ok` outputs.
    pub data_bytes_out: u64,
    /// Bytes of the response JSON.
    pub response_bytes: usize,
    /// Time spent processing (parsing the event to the finished response).
    #[serde(rename = "duration_ms", serialize_with = "millis")]
    pub duration: Duration,
}

fn millis<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration_ms(*duration))
}

/// A duration in milliseconds to the microsecond, as a number that prints
/// without float noise (`0.054`, not `0.054372000000000004`): a whole number
/// of microseconds divided by 1,000 is the double nearest that decimal.
///
/// ```
/// use std::time::Duration;
/// use firehose_transform::telemetry::duration_ms;
/// assert_eq!(duration_ms(Duration::from_nanos(54_372)).to_string(), "0.054");
/// assert_eq!(duration_ms(Duration::from_nanos(12_345_678)).to_string(), "12.346");
/// ```
pub fn duration_ms(duration: Duration) -> f64 {
    (duration.as_nanos() as f64 / 1e3).round() / 1e3
}

impl Summary {
    /// An empty summary for an invocation.
    pub fn new(invocation_id: &str) -> Self {
        Summary {
            invocation_id: invocation_id.to_string(),
            ..Summary::default()
        }
    }

    /// Records returned `ProcessingFailed`.
    pub fn failed(&self) -> u64 {
        self.failures.iter().map(|group| group.count).sum()
    }

    /// Counts one failed record under its reason.
    pub fn record_failure(&mut self, record_id: &str, failure: &Failure) {
        let group = match self
            .failures
            .iter()
            .position(|g| g.reason == failure.reason())
        {
            Some(at) => &mut self.failures[at],
            None => {
                self.failures.push(FailureGroup {
                    reason: failure.reason().to_string(),
                    count: 0,
                    record_ids: Vec::new(),
                    example: failure.detail().map(str::to_string),
                });
                self.failures.last_mut().expect("just pushed")
            }
        };
        group.count += 1;
        if group.record_ids.len() < IDS_PER_REASON {
            group.record_ids.push(record_id.to_string());
        }
    }

    /// Takes back one failure counted under `reason` for `record_id` (the
    /// record was answered otherwise after all, e.g. re-ingested).
    pub fn forget_failure(&mut self, record_id: &str, reason: &str) {
        if let Some(at) = self.failures.iter().position(|g| g.reason == reason) {
            let group = &mut self.failures[at];
            group.count = group.count.saturating_sub(1);
            group.record_ids.retain(|id| id != record_id);
            if group.count == 0 {
                self.failures.remove(at);
            }
        }
    }

    /// Adds another invocation's figures (for local runs over several batches).
    pub fn merge(&mut self, other: &Summary) {
        self.records += other.records;
        self.ok += other.ok;
        self.dropped += other.dropped;
        for group in &other.failures {
            match self.failures.iter_mut().find(|g| g.reason == group.reason) {
                Some(mine) => {
                    mine.count += group.count;
                    let room = IDS_PER_REASON.saturating_sub(mine.record_ids.len());
                    mine.record_ids
                        .extend(group.record_ids.iter().take(room).cloned());
                }
                None => self.failures.push(group.clone()),
            }
        }
        for (name, count) in &other.counters {
            *self.counters.entry(name).or_insert(0) += count;
        }
        self.data_bytes_in += other.data_bytes_in;
        self.data_bytes_out += other.data_bytes_out;
        self.response_bytes += other.response_bytes;
        self.duration += other.duration;
    }

    /// The summary as one JSON object.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a summary always serializes")
    }

    /// Logs the summary line (at `warn` when records failed, `info` otherwise).
    pub fn log(&self) {
        let failures = serde_json::to_string(&self.failures).expect("serializable");
        let counters = serde_json::to_string(&self.counters).expect("serializable");
        macro_rules! summary_line {
            ($level:ident) => {
                tracing::$level!(
                    invocation_id = %self.invocation_id,
                    records = self.records,
                    ok = self.ok,
                    dropped = self.dropped,
                    failed = self.failed(),
                    failures = %failures,
                    counters = %counters,
                    data_bytes_in = self.data_bytes_in,
                    data_bytes_out = self.data_bytes_out,
                    response_bytes = self.response_bytes,
                    duration_ms = duration_ms(self.duration),
                    "invocation summary"
                )
            };
        }
        if self.failed() > 0 {
            summary_line!(warn);
        } else {
            summary_line!(info);
        }
    }
}

/// How logs are written, from Lambda's advanced logging controls:
/// `AWS_LAMBDA_LOG_LEVEL` (`TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`, `FATAL`;
/// any case) and `AWS_LAMBDA_LOG_FORMAT` (`Text` or `JSON`). Without a level,
/// `RUST_LOG` directives apply (`info` when unset). A value outside these is
/// refused rather than read as the default.
///
/// ```
/// use firehose_transform::{config::Settings, telemetry::LogConfig};
/// let config = LogConfig::from_settings(&Settings::from_pairs([("AWS_LAMBDA_LOG_FORMAT", "json")])).unwrap();
/// assert!(config.json);
/// let error = LogConfig::from_settings(&Settings::from_pairs([("AWS_LAMBDA_LOG_LEVEL", "bogus")])).unwrap_err();
/// assert_eq!(error.to_string(), "AWS_LAMBDA_LOG_LEVEL: \"bogus\" is not a log level (TRACE, DEBUG, INFO, WARN, ERROR or FATAL)");
/// let error = LogConfig::from_settings(&Settings::from_pairs([("AWS_LAMBDA_LOG_FORMAT", "xml")])).unwrap_err();
/// assert_eq!(error.to_string(), "AWS_LAMBDA_LOG_FORMAT: \"xml\" is not a log format (Text or JSON)");
/// ```
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// What is logged: the level's directive, or `RUST_LOG`'s directives.
    pub directives: String,
    /// JSON log lines (`AWS_LAMBDA_LOG_FORMAT=JSON`) rather than text.
    pub json: bool,
}

impl LogConfig {
    /// Reads `AWS_LAMBDA_LOG_LEVEL`, `AWS_LAMBDA_LOG_FORMAT` and `RUST_LOG`.
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        const LEVEL: &str = "AWS_LAMBDA_LOG_LEVEL";
        const FORMAT: &str = "AWS_LAMBDA_LOG_FORMAT";
        let directives = match settings.get(LEVEL) {
            Some(level) => match level.to_ascii_uppercase().as_str() {
                "TRACE" => "trace",
                "DEBUG" => "debug",
                "INFO" => "info",
                "WARN" => "warn",
                // Lambda's FATAL: tracing's most severe level is ERROR.
                "ERROR" | "FATAL" => "error",
                _ => {
                    return Err(ConfigError::new(
                        LEVEL,
                        format!(
                        "{level:?} is not a log level (TRACE, DEBUG, INFO, WARN, ERROR or FATAL)"
                    ),
                    ))
                }
            }
            .to_string(),
            None => match settings.get("RUST_LOG") {
                Some(directives) => {
                    env_filter(&directives).map_err(|error| {
                        ConfigError::new("RUST_LOG", format!("{directives:?}: {error}"))
                    })?;
                    directives
                }
                None => "info".to_string(),
            },
        };
        let json = match settings.get(FORMAT) {
            None => false,
            Some(format) if format.eq_ignore_ascii_case("json") => true,
            Some(format) if format.eq_ignore_ascii_case("text") => false,
            Some(format) => {
                return Err(ConfigError::new(
                    FORMAT,
                    format!("{format:?} is not a log format (Text or JSON)"),
                ))
            }
        };
        Ok(LogConfig { directives, json })
    }

    /// Installs the log subscriber (the layout of `lambda_runtime`'s default:
    /// no time stamps, Lambda adds its own; no targets), writing to `writer`.
    /// Does nothing when the process already has one.
    pub fn init<W>(&self, writer: W)
    where
        W: for<'w> tracing::subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
    {
        let Ok(filter) = env_filter(&self.directives) else {
            return;
        };
        let builder = tracing::subscriber::fmt()
            .with_target(false)
            .without_time()
            .with_env_filter(filter)
            .with_writer(writer);
        let _ = if self.json {
            builder.json().try_init()
        } else {
            builder.try_init()
        };
    }
}

/// Parses log directives (`info`, `my_crate=debug,warn`) as `RUST_LOG` does.
fn env_filter(
    directives: &str,
) -> Result<tracing::subscriber::EnvFilter, tracing::subscriber::filter::ParseError> {
    tracing::subscriber::EnvFilter::builder().parse(directives)
}

/// Where and whether metrics go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsConfig {
    /// Whether the EMF line is written (`FIREHOSE_METRICS`, default on).
    pub enabled: bool,
    /// The CloudWatch namespace (`FIREHOSE_METRICS_NAMESPACE`, default `FirehoseTransform`).
    pub namespace: String,
    /// The `FunctionName` dimension (from `AWS_LAMBDA_FUNCTION_NAME`), if known.
    pub function_name: Option<String>,
}

impl MetricsConfig {
    /// Reads `FIREHOSE_METRICS`, `FIREHOSE_METRICS_NAMESPACE` and
    /// `AWS_LAMBDA_FUNCTION_NAME`; `default_enabled` applies when
    /// `FIREHOSE_METRICS` is unset.
    pub fn from_settings(settings: &Settings, default_enabled: bool) -> Result<Self, ConfigError> {
        Ok(MetricsConfig {
            enabled: settings.flag("FIREHOSE_METRICS", default_enabled)?,
            namespace: settings
                .get("FIREHOSE_METRICS_NAMESPACE")
                .unwrap_or_else(|| "FirehoseTransform".to_string()),
            function_name: settings.get("AWS_LAMBDA_FUNCTION_NAME"),
        })
    }

    /// The summary as one CloudWatch Embedded Metric Format line (JSON, no newline).
    ///
    /// ```
    /// use firehose_transform::telemetry::{MetricsConfig, Summary};
    /// let config = MetricsConfig { enabled: true, namespace: "Logs".into(), function_name: Some("fn".into()) };
    /// let summary = Summary { records: 3, ok: 2, dropped: 1, ..Summary::default() };
    /// let line: serde_json::Value = serde_json::from_str(&config.emf_line(&summary, 1_700_000_000_000)).unwrap();
    /// assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Logs");
    /// assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][0], "FunctionName");
    /// assert_eq!(line["RecordsOk"], 2);
    /// assert_eq!(line["RecordsFailed"], 0);
    /// ```
    pub fn emf_line(&self, summary: &Summary, timestamp_ms: u64) -> String {
        let counts: [(&str, u64, &str); 8] = [
            ("Records", summary.records as u64, "Count"),
            ("RecordsOk", summary.ok, "Count"),
            ("RecordsDropped", summary.dropped, "Count"),
            ("RecordsFailed", summary.failed(), "Count"),
            ("DataBytesIn", summary.data_bytes_in, "Bytes"),
            ("DataBytesOut", summary.data_bytes_out, "Bytes"),
            ("ResponseBytes", summary.response_bytes as u64, "Bytes"),
            (
                "DurationMicros",
                summary.duration.as_micros() as u64,
                "Microseconds",
            ),
        ];
        let mut out = Vec::with_capacity(1024);
        let mut root = ObjectWriter::new(&mut out);
        {
            let mut aws = root.object("_aws");
            aws.u64("Timestamp", timestamp_ms);
            let list = aws.key("CloudWatchMetrics");
            list.push(b'[');
            let mut directive = ObjectWriter::new(list);
            directive.str("Namespace", &self.namespace);
            let dimensions: &[u8] = if self.function_name.is_some() {
                br#"[["FunctionName"]]"#
            } else {
                b"[[]]"
            };
            directive.raw("Dimensions", dimensions);
            let metrics = directive.key("Metrics");
            metrics.push(b'[');
            let names = counts
                .iter()
                .map(|(name, _, unit)| (*name, *unit))
                .chain(summary.counters.keys().map(|name| (*name, "Count")));
            for (i, (name, unit)) in names.enumerate() {
                if i > 0 {
                    metrics.push(b',');
                }
                let mut metric = ObjectWriter::new(metrics);
                metric.str("Name", name);
                metric.str("Unit", unit);
                metric.finish();
            }
            metrics.push(b']');
            directive.finish();
            list.push(b']');
            aws.finish();
        }
        if let Some(name) = &self.function_name {
            root.str("FunctionName", name);
        }
        for (name, value, _) in counts {
            root.u64(name, value);
        }
        for (name, value) in &summary.counters {
            root.u64(name, *value);
        }
        root.finish();
        String::from_utf8(out).expect("the writer emits UTF-8")
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_grouped_by_reason_with_the_first_ids() {
        let mut summary = Summary::new("inv");
        for i in 0..5 {
            summary.record_failure(
                &format!("id{i}"),
                &Failure::new("bad").with_detail(format!("#{i}")),
            );
        }
        summary.record_failure("other", &Failure::new("worse"));
        assert_eq!(summary.failed(), 6);
        assert_eq!(summary.failures[0].record_ids, ["id0", "id1", "id2"]);
        assert_eq!(summary.failures[0].example.as_deref(), Some("#0"));
        assert_eq!(summary.failures[1].count, 1);
    }

    #[test]
    fn emf_lists_every_counter_as_a_metric() {
        let mut summary = Summary::default();
        summary.counters.insert("geoip.private", 4);
        let config = MetricsConfig {
            enabled: true,
            namespace: "N".into(),
            function_name: None,
        };
        let line: serde_json::Value = serde_json::from_str(&config.emf_line(&summary, 1)).unwrap();
        let metrics = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap();
        assert!(metrics.iter().any(|m| m["Name"] == "geoip.private"));
        assert_eq!(line["geoip.private"], 4);
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            serde_json::json!([[]])
        );
    }

    #[test]
    fn merging_adds_counts_and_keeps_the_first_ids() {
        let mut a = Summary::new("a");
        a.records = 2;
        a.ok = 1;
        a.record_failure("1", &Failure::new("bad"));
        let mut b = a.clone();
        b.record_failure("2", &Failure::new("bad"));
        a.merge(&b);
        assert_eq!(a.records, 4);
        assert_eq!(a.failures[0].count, 3);
        assert_eq!(a.failures[0].record_ids, ["1", "1", "2"]);
    }
}
