//! `firehose-pipeline`: a [`Pipeline`] configured by environment variables
//! only, read and checked once at start-up.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `INPUT_FORMAT` | `json` | `json`, `apache`, `syslog` (see [`input::NAMES`]) |
//! | `FILTER` | unset | jq; a document is kept when it is true (as `select(FILTER)` keeps it) |
//! | `GEOIP_DATABASE` | unset | MaxMind database(s); with `GEOIP_FIELD`, the path of the address |
//! | `GEOIP_TARGET_FIELD` | `geo` | where the GeoIP fields go (a name or a path) |
//! | `DYNAMODB_TABLE`, `DYNAMODB_KEY_FIELD`, … | unset | look a field up in a DynamoDB table (the `aws` feature; see `aws::dynamodb`) |
//! | `REDACT_FIELDS` | unset | `.path:action,…`, action `drop`, `mask` or `hash` |
//! | `REDACT_PATTERNS` | unset | `name[:action],…` of `email`, `ipv4`, `ipv6`, `credit_card`, `aws_access_key`; action `mask` (default) or `hash` |
//! | `REDACT_HASH_KEY` | unset | the HMAC-SHA256 key, at least 32 bytes; required when anything is hashed |
//! | `PARTITION_KEYS` | unset | jq object, `{customer: .customer_id}` |
//! | `ICEBERG_DATABASE`, `ICEBERG_TABLE`, `ICEBERG_OPERATION` | unset | a name, or jq |
//! | `OUTPUT_FORMAT` | `json` | `json` (one object per line) or `csv` |
//! | `CSV_COLUMNS` | | with `csv`: the paths of the columns, comma-separated |
//! | `BAD_LINE` | `fail` | line formats: `fail` the record on a bad line, or `drop` the line and count it (also a decoded payload, such as a log event, that does not parse) |
//! | `RECORD_DECODER` | `none` | `cloudwatch-logs`: each record is a CloudWatch Logs subscription envelope (gzip or plain); each log event's message is parsed by `INPUT_FORMAT`, control messages are dropped |
//! | `ENVELOPE_FIELD` | `cloudwatch` | with a decoder: the member (name or path) its fields go under: `logGroup`, `logStream`, `owner`, `id`, `timestamp` |
//!
//! The stages run in this order: filter, GeoIP, DynamoDB lookup, redaction, then keys and
//! the writer, so the filter sees the record as it came and the keys and the
//! output see it redacted (a hashed field gives a hashed partition key,
//! never the clear value).
//!
//! ```
//! use firehose_transform::{blueprints::pipeline::from_settings, config::Settings, testing};
//!
//! let settings = Settings::from_pairs([
//!     ("FILTER", r#".status >= 400 and .path != "/health""#),
//!     ("PARTITION_KEYS", "{status: .status}"),
//!     ("REDACT_FIELDS", ".password:drop"),
//! ]);
//! let pipeline = from_settings(&settings).unwrap();
//! let processed = testing::run(&pipeline, [
//!     r#"{"path":"/login","status":401,"password":"hunter2"}"#,
//!     r#"{"path":"/health","status":503}"#,
//! ]);
//! assert_eq!(processed.text(0), "{\"path\":\"/login\",\"status\":401}\n");
//! assert_eq!(processed.partition_keys(0), &[("status".to_string(), "401".to_string())]);
//! assert!(processed.is_dropped(1));
//!
//! let error = from_settings(&Settings::from_pairs([("FILTER", ".status >=")])).unwrap_err();
//! assert_eq!(error.to_string(), "FILTER: at character 11: expected term, found the end of the expression");
//! ```

use crate::config::{ConfigError, Settings};
use crate::doc::Path;
#[cfg(feature = "geoip")]
use crate::enrich::geoip::GeoIp;
use crate::pipeline::redact::{Action, Hasher, Redact};
#[cfg(feature = "regex")]
use crate::pipeline::redact::{Pattern, Redactor};
#[cfg(feature = "geoip")]
use crate::pipeline::GeoIpField;
use crate::pipeline::{
    input, BadLine, Csv, IcebergRouting, JqFilter, JsonLines, NameSource, PartitionKeys, Pipeline,
};

/// The variables, by name.
pub mod vars {
    /// The input format.
    pub const INPUT_FORMAT: &str = "INPUT_FORMAT";
    /// The filter expression.
    pub const FILTER: &str = "FILTER";
    /// The path of the address to look up.
    pub const GEOIP_FIELD: &str = "GEOIP_FIELD";
    /// Where the GeoIP fields go.
    pub const GEOIP_TARGET_FIELD: &str = "GEOIP_TARGET_FIELD";
    /// Fields to redact.
    pub const REDACT_FIELDS: &str = "REDACT_FIELDS";
    /// Patterns to redact inside strings.
    pub const REDACT_PATTERNS: &str = "REDACT_PATTERNS";
    /// The hashing key.
    pub const REDACT_HASH_KEY: &str = "REDACT_HASH_KEY";
    /// The partition keys expression.
    pub const PARTITION_KEYS: &str = "PARTITION_KEYS";
    /// Iceberg database.
    pub const ICEBERG_DATABASE: &str = "ICEBERG_DATABASE";
    /// Iceberg table.
    pub const ICEBERG_TABLE: &str = "ICEBERG_TABLE";
    /// Iceberg operation.
    pub const ICEBERG_OPERATION: &str = "ICEBERG_OPERATION";
    /// `json` or `csv`.
    pub const OUTPUT_FORMAT: &str = "OUTPUT_FORMAT";
    /// The CSV columns.
    pub const CSV_COLUMNS: &str = "CSV_COLUMNS";
    /// `fail` or `drop`.
    pub const BAD_LINE: &str = "BAD_LINE";
    /// `none` or `cloudwatch-logs`.
    pub const RECORD_DECODER: &str = "RECORD_DECODER";
    /// Where a decoder's fields go.
    pub const ENVELOPE_FIELD: &str = "ENVELOPE_FIELD";
}

/// Builds the pipeline the variables describe.
pub fn from_settings(settings: &Settings) -> Result<Pipeline, ConfigError> {
    let mut pipeline =
        Pipeline::from_boxed(input::from_setting(settings, vars::INPUT_FORMAT, "json")?);
    let decoder = settings.get(vars::RECORD_DECODER).unwrap_or_default();
    if let Some(decoder) = crate::pipeline::decode::by_name(&decoder, settings)? {
        let at = settings
            .get(vars::ENVELOPE_FIELD)
            .unwrap_or_else(|| DEFAULT_ENVELOPE_FIELD.to_string());
        pipeline = pipeline.boxed_decoder(decoder, path_setting(vars::ENVELOPE_FIELD, &at)?);
    }

    if let Some(code) = settings.get(vars::FILTER) {
        let filter = JqFilter::new(&code).map_err(|e| ConfigError::new(vars::FILTER, e))?;
        pipeline = pipeline.stage(filter);
    }

    #[cfg(not(feature = "geoip"))]
    settings.refuse_without_feature(crate::blueprints::GEOIP_DATABASE, "geoip")?;
    #[cfg(feature = "geoip")]
    if let Some(geoip) = GeoIp::from_settings(settings)? {
        let field = settings
            .get(vars::GEOIP_FIELD)
            .or_else(|| settings.get(crate::blueprints::geoip::IP_FIELD))
            .ok_or_else(|| {
                ConfigError::new(
                    vars::GEOIP_FIELD,
                    "is required with GEOIP_DATABASE: the path of the address, as in .client.ip",
                )
            })?;
        let field = path_setting(vars::GEOIP_FIELD, &field)?;
        let target = settings
            .get(vars::GEOIP_TARGET_FIELD)
            .unwrap_or_else(|| crate::blueprints::geoip::DEFAULT_TARGET.to_string());
        let target = path_setting(vars::GEOIP_TARGET_FIELD, &target)?;
        pipeline = pipeline.stage(GeoIpField::new(geoip, field, target));
    }

    #[cfg(feature = "aws")]
    if let Some(lookup) = crate::aws::dynamodb::LookupConfig::from_settings(settings)? {
        let aws = crate::aws::Aws::from_env().map_err(|e| ConfigError::new("DYNAMODB_TABLE", e))?;
        pipeline = pipeline.stage(crate::aws::dynamodb::DynamoDbLookup::new(&aws, lookup));
    }
    #[cfg(not(feature = "aws"))]
    if settings.get("DYNAMODB_TABLE").is_some() {
        return Err(ConfigError::new(
            "DYNAMODB_TABLE",
            "DynamoDB lookups need a binary built with the `aws` feature (cargo build --features aws)",
        ));
    }

    if let Some(redact) = redact_from_settings(settings)? {
        pipeline = pipeline.stage(redact);
    }

    if let Some(code) = settings.get(vars::PARTITION_KEYS) {
        let keys =
            PartitionKeys::new(&code).map_err(|e| ConfigError::new(vars::PARTITION_KEYS, e))?;
        pipeline = pipeline.keys(keys);
    }

    let name = |variable: &str| {
        settings
            .get(variable)
            .map(|text| NameSource::parse(&text).map_err(|e| ConfigError::new(variable, e)))
            .transpose()
    };
    let routing = IcebergRouting {
        database: name(vars::ICEBERG_DATABASE)?,
        table: name(vars::ICEBERG_TABLE)?,
        operation: name(vars::ICEBERG_OPERATION)?,
    };
    routing
        .validate()
        .map_err(|e| ConfigError::new(vars::ICEBERG_OPERATION, e))?;
    if routing.database.is_some() || routing.table.is_some() || routing.operation.is_some() {
        pipeline = pipeline.keys(routing);
    }

    let output = settings
        .get(vars::OUTPUT_FORMAT)
        .unwrap_or_else(|| "json".to_string());
    pipeline = match output.trim().to_ascii_lowercase().as_str() {
        "json" => pipeline.write(JsonLines),
        "csv" => {
            let columns = settings.get(vars::CSV_COLUMNS).ok_or_else(|| {
                ConfigError::new(
                    vars::CSV_COLUMNS,
                    "is required with OUTPUT_FORMAT=csv: the paths of the columns, as in .ts,.user.id",
                )
            })?;
            let columns = split_list(&columns)
                .into_iter()
                .map(|p| path_setting(vars::CSV_COLUMNS, p))
                .collect::<Result<Vec<_>, _>>()?;
            pipeline.write(Csv::new(columns))
        }
        other => {
            return Err(ConfigError::new(
                vars::OUTPUT_FORMAT,
                format!("{other:?} is not an output format (json or csv)"),
            ))
        }
    };

    Ok(pipeline.bad_line(BadLine::from_settings(settings)?))
}

/// Where a record decoder's fields go unless `ENVELOPE_FIELD` says otherwise.
pub const DEFAULT_ENVELOPE_FIELD: &str = "cloudwatch";

/// A path (`.a.b`) or a plain top-level name (`geo`).
pub(crate) fn path_setting(variable: &str, text: &str) -> Result<Path, ConfigError> {
    let text = text.trim();
    if text.starts_with('.') {
        Path::parse(text).map_err(|e| ConfigError::new(variable, e))
    } else if !text.is_empty() {
        Ok(Path::from_keys([text]))
    } else {
        Err(ConfigError::new(variable, "is empty"))
    }
}

/// Splits on commas outside `[...]` and quotes (a path may quote a name
/// holding a comma: `.["a,b"]`).
fn split_list(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut escaped, mut start) = (0i32, false, false, 0);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                parts.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(text[start..].trim());
    parts.retain(|p| !p.is_empty());
    parts
}

/// The shortest `REDACT_HASH_KEY` accepted: 32 bytes, SHA-256's output size
/// (RFC 2104 advises a key no shorter than the hash output).
pub const MIN_HASH_KEY_BYTES: usize = 32;

/// `REDACT_FIELDS`, `REDACT_PATTERNS` and `REDACT_HASH_KEY`.
fn redact_from_settings(settings: &Settings) -> Result<Option<Redact>, ConfigError> {
    let fields = settings.get(vars::REDACT_FIELDS);
    let patterns = settings.get(vars::REDACT_PATTERNS);
    let key = settings.get(vars::REDACT_HASH_KEY);
    if fields.is_none() && patterns.is_none() {
        return Ok(None);
    }
    let hasher = match &key {
        // HMAC's key is the only secret between a hashed e-mail address and a
        // dictionary attack on it: a short key is refused, not weakly used.
        Some(key) if key.len() < MIN_HASH_KEY_BYTES => {
            return Err(ConfigError::new(
                vars::REDACT_HASH_KEY,
                format!(
                    "is {} bytes long: use at least {MIN_HASH_KEY_BYTES} random bytes (e.g. `openssl rand -hex 32`)",
                    key.len()
                ),
            ))
        }
        Some(key) => Some(Hasher::new(key.as_bytes())),
        None => None,
    };
    let mut redact = Redact::new();
    for entry in split_list(fields.as_deref().unwrap_or("")) {
        let (path, action) = entry.rsplit_once(':').ok_or_else(|| {
            ConfigError::new(
                vars::REDACT_FIELDS,
                format!("{entry:?}: expected PATH:ACTION, as in .user.email:hash"),
            )
        })?;
        let action: Action = action
            .parse()
            .map_err(|e| ConfigError::new(vars::REDACT_FIELDS, format!("{entry:?}: {e}")))?;
        redact = redact.field(path_setting(vars::REDACT_FIELDS, path)?, action);
    }
    if redact.hashes_fields() && hasher.is_none() {
        return Err(ConfigError::new(
            vars::REDACT_HASH_KEY,
            "is required: REDACT_FIELDS hashes a field",
        ));
    }
    #[cfg(not(feature = "regex"))]
    if patterns.is_some() {
        settings.refuse_without_feature(vars::REDACT_PATTERNS, "regex")?;
    }
    #[cfg(feature = "regex")]
    if let Some(patterns) = patterns {
        let mut list = Vec::new();
        for entry in split_list(&patterns) {
            let (name, action) = entry.split_once(':').unwrap_or((entry, "mask"));
            let pattern = Pattern::from_name(name).ok_or_else(|| {
                let known: Vec<&str> = Pattern::ALL.iter().map(|p| p.name()).collect();
                ConfigError::new(
                    vars::REDACT_PATTERNS,
                    format!("{name:?} is not a pattern (known: {})", known.join(", ")),
                )
            })?;
            let action: Action = action
                .parse()
                .map_err(|e| ConfigError::new(vars::REDACT_PATTERNS, format!("{entry:?}: {e}")))?;
            list.push((pattern, action));
        }
        let redactor = Redactor::new(list, hasher.clone()).map_err(|e| {
            let variable = if e.contains("key") {
                vars::REDACT_HASH_KEY
            } else {
                vars::REDACT_PATTERNS
            };
            ConfigError::new(variable, e)
        })?;
        redact = redact.patterns(redactor);
    }
    if let Some(hasher) = hasher {
        redact = redact.hasher(hasher);
    }
    Ok(Some(redact))
}

/// The variables `firehose-pipeline` reads (beside the engine's).
pub const VARIABLES: &[&str] = &[
    vars::RECORD_DECODER,
    crate::pipeline::decode::REINGEST_INFLATE_LIMIT,
    vars::ENVELOPE_FIELD,
    vars::INPUT_FORMAT,
    crate::pipeline::input::VPC_FLOW_FIELDS,
    crate::pipeline::input::CLOUDFRONT_FIELDS,
    vars::FILTER,
    // The GeoIP settings exist only in a build with the `geoip` feature.
    #[cfg(feature = "geoip")]
    crate::enrich::geoip::DATABASE,
    #[cfg(feature = "geoip")]
    crate::enrich::geoip::FIELDS,
    #[cfg(feature = "geoip")]
    crate::enrich::geoip::LANGUAGE,
    vars::GEOIP_FIELD,
    #[cfg(feature = "geoip")]
    crate::blueprints::geoip::IP_FIELD,
    vars::GEOIP_TARGET_FIELD,
    vars::REDACT_FIELDS,
    vars::REDACT_PATTERNS,
    vars::REDACT_HASH_KEY,
    vars::PARTITION_KEYS,
    vars::ICEBERG_DATABASE,
    vars::ICEBERG_TABLE,
    vars::ICEBERG_OPERATION,
    vars::OUTPUT_FORMAT,
    vars::CSV_COLUMNS,
    vars::BAD_LINE,
];

#[cfg(test)]
mod tests {
    use super::*;

    fn error(pairs: &[(&str, &str)]) -> String {
        from_settings(&Settings::from_pairs(pairs.iter().copied()))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn bad_values_name_the_variable_and_the_problem() {
        assert_eq!(
            error(&[("INPUT_FORMAT", "xml")]),
            "INPUT_FORMAT: \"xml\" is not a known format (known: json, apache, syslog, alb, vpc-flow, cloudtrail, waf, cloudfront-realtime)"
        );
        assert_eq!(
            error(&[("PARTITION_KEYS", "{a: .b")]),
            "PARTITION_KEYS: at character 7: expected closing brace, found the end of the expression"
        );
        assert_eq!(
            error(&[("REDACT_FIELDS", ".email:hash")]),
            "REDACT_HASH_KEY: is required: REDACT_FIELDS hashes a field"
        );
        assert_eq!(
            error(&[("REDACT_FIELDS", ".email:hash"), ("REDACT_HASH_KEY", "short")]),
            "REDACT_HASH_KEY: is 5 bytes long: use at least 32 random bytes (e.g. `openssl rand -hex 32`)"
        );
        assert_eq!(
            error(&[("REDACT_FIELDS", ".email")]),
            "REDACT_FIELDS: \".email\": expected PATH:ACTION, as in .user.email:hash"
        );
        #[cfg(feature = "regex")]
        assert_eq!(
            error(&[("REDACT_PATTERNS", "ssn")]),
            "REDACT_PATTERNS: \"ssn\" is not a pattern (known: email, ipv4, ipv6, credit_card, aws_access_key)"
        );
        assert_eq!(
            error(&[("OUTPUT_FORMAT", "csv")]),
            "CSV_COLUMNS: is required with OUTPUT_FORMAT=csv: the paths of the columns, as in .ts,.user.id"
        );
        assert_eq!(
            error(&[("ICEBERG_OPERATION", "upsert")]),
            "ICEBERG_OPERATION: \"upsert\" is not an Iceberg operation (insert, update or delete)"
        );
        assert_eq!(
            error(&[("BAD_LINE", "skip")]),
            "BAD_LINE: \"skip\" is not a policy (fail or drop)"
        );
    }

    #[test]
    fn lists_split_on_commas_outside_quotes_and_brackets() {
        assert_eq!(
            split_list(r#".a, .["b,c"]:hash ,,.d"#),
            [".a", r#".["b,c"]:hash"#, ".d"]
        );
    }
}
