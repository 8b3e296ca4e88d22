//! Input formats: how a record's text becomes documents.
//!
//! JSON records are scanned lazily (see [`doc`](crate::doc)). Every other
//! format is parsed by its own parser in [`formats`](crate::formats) and
//! written by that format's own JSON writer, the one its blueprint uses, so a
//! field means the same in `apachelog-to-json` and in a pipeline with
//! `INPUT_FORMAT=apache`; the pipeline reads that JSON only when a stage
//! asks for a field.
//!
//! ```
//! use firehose_transform::pipeline::input::{self, ParseContext};
//! use firehose_transform::doc::Path;
//!
//! let apache = input::by_name("apache", &Default::default()).unwrap();
//! let line = r#"192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 512"#;
//! let doc = apache.parse(line, &ParseContext::default()).unwrap();
//! assert_eq!(doc.get(&Path::parse(".response").unwrap()).unwrap().as_i64(), Some(200));
//! ```

use std::borrow::Cow;
use std::fmt;

use crate::config::{ConfigError, Settings};
use crate::doc::Value;
use crate::formats::json::ObjectWriter;
use crate::formats::{alb, apache, cloudfront, cloudtrail, syslog, vpc_flow, waf};
use crate::transform::Failure;

/// The reason of a JSON record that does not parse.
pub const NOT_JSON: &str = "record is not JSON";

/// What a parser may need besides the text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseContext {
    /// When the record arrived, ms since the epoch (syslog's year inference).
    pub arrival_ms: Option<i64>,
}

/// How one record's text splits into the payloads a format parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// One payload per line (LF or CRLF); blank lines are skipped.
    Lines,
    /// One payload per JSON value: newline-delimited or concatenated.
    Json,
}

/// A format a pipeline can read.
pub trait InputFormat: Send + Sync + fmt::Debug {
    /// The name `INPUT_FORMAT` gives it.
    fn name(&self) -> &str;

    /// How records split into payloads.
    fn framing(&self) -> Framing {
        Framing::Lines
    }

    /// Whether `line` continues the message of the line before it rather
    /// than starting one (line formats; see [`lines::messages`](crate::formats::lines::messages)).
    /// No line does unless the format says so.
    fn continues(&self, line: &str) -> bool {
        let _ = line;
        false
    }

    /// Parses one payload (a line, for line formats; a message's lines for
    /// formats whose messages may span several). For [`Framing::Json`]
    /// the pipeline parses the JSON itself and calls
    /// [`json_documents`](InputFormat::json_documents) instead.
    fn parse<'a>(&self, payload: &'a str, cx: &ParseContext) -> Result<Value<'a>, Failure>;

    /// For [`Framing::Json`]: the documents one JSON value of a record
    /// gives, each with its own JSON text, passed to `emit`. By default the
    /// value itself; a format may check it (a CloudTrail event must have
    /// `eventTime`, ...) or split it (a CloudTrail log file's `Records`).
    fn json_documents<'a>(
        &self,
        value: Value<'a>,
        source: &'a str,
        emit: &mut dyn FnMut(Value<'a>, &'a str),
    ) -> Result<(), Failure> {
        emit(value, source);
        Ok(())
    }
}

/// JSON records: objects (or any JSON values), several per record allowed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json;

impl InputFormat for Json {
    fn name(&self) -> &str {
        "json"
    }

    fn framing(&self) -> Framing {
        Framing::Json
    }

    fn parse<'a>(&self, payload: &'a str, _cx: &ParseContext) -> Result<Value<'a>, Failure> {
        Value::parse_json(payload).map_err(|error| Failure::new(NOT_JSON).with_detail(error))
    }
}

/// A document from JSON text a format's own writer produced: read only if
/// a stage asks for a field.
fn written(write: impl FnOnce(&mut Vec<u8>)) -> Value<'static> {
    let mut text = Vec::with_capacity(512);
    write(&mut text);
    Value::Raw(Cow::Owned(
        String::from_utf8(text).expect("the JSON writers write UTF-8"),
    ))
}

/// Apache/NCSA access log lines, with the fields of `apachelog-to-json`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Apache;

impl InputFormat for Apache {
    fn name(&self) -> &str {
        "apache"
    }

    fn parse<'a>(&self, payload: &'a str, _cx: &ParseContext) -> Result<Value<'a>, Failure> {
        let log = apache::parse(payload).map_err(|error| {
            Failure::new(crate::blueprints::apache::NOT_AN_ACCESS_LOG_LINE).with_detail(error)
        })?;
        Ok(written(|out| {
            let mut obj = ObjectWriter::new(out);
            apache::write_json_fields(&log, &mut obj);
            obj.finish();
        }))
    }
}

/// Syslog lines (RFC 3164 or RFC 5424), with the fields of `syslog-to-json`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Syslog;

impl InputFormat for Syslog {
    fn name(&self) -> &str {
        "syslog"
    }

    /// A line that does not start a syslog header continues the message
    /// before it ([`syslog::starts_message`]).
    fn continues(&self, line: &str) -> bool {
        !syslog::starts_message(line)
    }

    fn parse<'a>(&self, payload: &'a str, cx: &ParseContext) -> Result<Value<'a>, Failure> {
        let message = syslog::parse(payload).map_err(|error| {
            Failure::new(crate::blueprints::syslog::NOT_SYSLOG).with_detail(error)
        })?;
        let received = cx
            .arrival_ms
            .unwrap_or_else(|| crate::telemetry::now_ms() as i64);
        Ok(written(|out| syslog::write_json(out, &message, received)))
    }
}

/// The reason of a line that is not an ALB access log entry.
pub const NOT_ALB: &str = "not an ALB access log entry";
/// The reason of a line that is not a VPC flow log record of the format.
pub const NOT_VPC_FLOW: &str = "not a VPC flow log record";
/// The reason of a line that is not a CloudFront real-time log record of the fields.
pub const NOT_CLOUDFRONT: &str = "not a CloudFront real-time log record";
/// The reason of a JSON value that is not a CloudTrail event.
pub const NOT_CLOUDTRAIL: &str = "not a CloudTrail event";
/// The reason of a JSON value that is not an AWS WAF log.
pub const NOT_WAF: &str = "not an AWS WAF log";

/// The variable holding a VPC flow log's format (`vpc-flow`).
pub const VPC_FLOW_FIELDS: &str = "VPC_FLOW_FIELDS";
/// The variable holding a CloudFront real-time log configuration's fields
/// (`cloudfront-realtime`).
pub const CLOUDFRONT_FIELDS: &str = "CLOUDFRONT_FIELDS";

/// ALB access log entries, with the fields of [`alb::FIELDS`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Alb;

impl InputFormat for Alb {
    fn name(&self) -> &str {
        "alb"
    }

    fn parse<'a>(&self, payload: &'a str, _cx: &ParseContext) -> Result<Value<'a>, Failure> {
        let entry = alb::parse(payload).map_err(|e| Failure::new(NOT_ALB).with_detail(e))?;
        Ok(written(|out| alb::write_json(&entry, out)))
    }
}

/// VPC flow log records of one format (the default version 2 one unless
/// [`VPC_FLOW_FIELDS`] gives the flow log's custom format).
#[derive(Debug, Clone, Default)]
pub struct VpcFlow {
    format: vpc_flow::Format,
}

impl VpcFlow {
    /// Records of `format`.
    pub fn new(format: vpc_flow::Format) -> Self {
        VpcFlow { format }
    }
}

impl InputFormat for VpcFlow {
    fn name(&self) -> &str {
        "vpc-flow"
    }

    fn parse<'a>(&self, payload: &'a str, _cx: &ParseContext) -> Result<Value<'a>, Failure> {
        let record = self
            .format
            .parse(payload)
            .map_err(|e| Failure::new(NOT_VPC_FLOW).with_detail(e))?;
        Ok(written(|out| self.format.write_json(&record, out)))
    }
}

/// CloudFront real-time log records of the fields [`CLOUDFRONT_FIELDS`] lists.
#[derive(Debug, Clone)]
pub struct CloudFrontRealtime {
    fields: cloudfront::Fields,
}

impl CloudFrontRealtime {
    /// Records of `fields`.
    pub fn new(fields: cloudfront::Fields) -> Self {
        CloudFrontRealtime { fields }
    }
}

impl InputFormat for CloudFrontRealtime {
    fn name(&self) -> &str {
        "cloudfront-realtime"
    }

    fn parse<'a>(&self, payload: &'a str, _cx: &ParseContext) -> Result<Value<'a>, Failure> {
        let record = self
            .fields
            .parse(payload)
            .map_err(|e| Failure::new(NOT_CLOUDFRONT).with_detail(e))?;
        Ok(written(|out| self.fields.write_json(&record, out)))
    }
}

/// CloudTrail events, kept as written: one per JSON value, or each event of
/// a log file's `{"Records":[...]}`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CloudTrail;

impl InputFormat for CloudTrail {
    fn name(&self) -> &str {
        "cloudtrail"
    }

    fn framing(&self) -> Framing {
        Framing::Json
    }

    fn parse<'a>(&self, payload: &'a str, _cx: &ParseContext) -> Result<Value<'a>, Failure> {
        cloudtrail::parse_event(payload)
            .map(|event| event.into_parts().0)
            .map_err(|e| Failure::new(NOT_CLOUDTRAIL).with_detail(e))
    }

    fn json_documents<'a>(
        &self,
        value: Value<'a>,
        source: &'a str,
        emit: &mut dyn FnMut(Value<'a>, &'a str),
    ) -> Result<(), Failure> {
        let events = cloudtrail::events_of(value, source)
            .map_err(|e| Failure::new(NOT_CLOUDTRAIL).with_detail(e))?;
        for event in events {
            let (doc, text) = event.into_parts();
            emit(doc, text);
        }
        Ok(())
    }
}

/// AWS WAF logs, kept as written, one per JSON value.
#[derive(Debug, Clone, Copy, Default)]
pub struct Waf;

impl InputFormat for Waf {
    fn name(&self) -> &str {
        "waf"
    }

    fn framing(&self) -> Framing {
        Framing::Json
    }

    fn parse<'a>(&self, payload: &'a str, _cx: &ParseContext) -> Result<Value<'a>, Failure> {
        waf::parse(payload)
            .map(|log| log.into_parts().0)
            .map_err(|e| Failure::new(NOT_WAF).with_detail(e))
    }

    fn json_documents<'a>(
        &self,
        value: Value<'a>,
        source: &'a str,
        emit: &mut dyn FnMut(Value<'a>, &'a str),
    ) -> Result<(), Failure> {
        crate::formats::json_event::check(&value, waf::REQUIRED)
            .map_err(|e| Failure::new(NOT_WAF).with_detail(e))?;
        emit(value, source);
        Ok(())
    }
}

/// The names [`by_name`] knows, for messages.
pub const NAMES: &[&str] = &[
    "json",
    "apache",
    "syslog",
    "alb",
    "vpc-flow",
    "cloudtrail",
    "waf",
    "cloudfront-realtime",
];

/// Why [`by_name`] gave no format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatError {
    /// The name is not one of [`NAMES`] (the message says so).
    Unknown(String),
    /// The format's own setting is bad (`VPC_FLOW_FIELDS`, ...).
    Setting(ConfigError),
}

impl FormatError {
    /// As a configuration error: an unknown name is blamed on `variable`
    /// (the one that named the format), a bad setting on its own variable.
    pub fn for_variable(self, variable: &str) -> ConfigError {
        match self {
            FormatError::Unknown(problem) => ConfigError::new(variable, problem),
            FormatError::Setting(error) => error,
        }
    }
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::Unknown(problem) => f.write_str(problem),
            FormatError::Setting(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for FormatError {}

/// The input format called `name` (`INPUT_FORMAT`), configured from
/// `settings` where it needs to be: `vpc-flow` reads [`VPC_FLOW_FIELDS`]
/// (default: the version 2 format), `cloudfront-realtime` requires
/// [`CLOUDFRONT_FIELDS`].
///
/// ```
/// use firehose_transform::config::Settings;
/// use firehose_transform::pipeline::input;
///
/// let settings = Settings::from_pairs([("VPC_FLOW_FIELDS", "${version} ${srcaddr")]);
/// let error = input::by_name("vpc-flow", &settings).unwrap_err();
/// assert_eq!(error.to_string(), "VPC_FLOW_FIELDS: at character 12: `${` without its closing `}`");
/// let error = input::by_name("cloudfront-realtime", &Settings::from_pairs([("X", "y")])).unwrap_err();
/// assert!(error.to_string().starts_with("CLOUDFRONT_FIELDS: is required"));
/// ```
pub fn by_name(name: &str, settings: &Settings) -> Result<Box<dyn InputFormat>, FormatError> {
    match name.trim().to_ascii_lowercase().as_str() {
        "json" => Ok(Box::new(Json)),
        "apache" => Ok(Box::new(Apache)),
        "syslog" => Ok(Box::new(Syslog)),
        "alb" => Ok(Box::new(Alb)),
        "vpc-flow" => {
            let format = match settings.get(VPC_FLOW_FIELDS) {
                None => vpc_flow::Format::default(),
                Some(fields) => vpc_flow::Format::new(&fields)
                    .map_err(|e| FormatError::Setting(ConfigError::new(VPC_FLOW_FIELDS, e)))?,
            };
            Ok(Box::new(VpcFlow::new(format)))
        }
        "cloudfront-realtime" => {
            let names = settings.get(CLOUDFRONT_FIELDS).ok_or_else(|| {
                FormatError::Setting(ConfigError::new(
                    CLOUDFRONT_FIELDS,
                    "is required with cloudfront-realtime: the real-time log configuration's fields, in order, as in `timestamp c-ip sc-status cs-uri-stem`",
                ))
            })?;
            let fields = cloudfront::Fields::new(&names)
                .map_err(|e| FormatError::Setting(ConfigError::new(CLOUDFRONT_FIELDS, e)))?;
            Ok(Box::new(CloudFrontRealtime::new(fields)))
        }
        "cloudtrail" => Ok(Box::new(CloudTrail)),
        "waf" => Ok(Box::new(Waf)),
        other => Err(FormatError::Unknown(format!(
            "{other:?} is not a known format (known: {})",
            NAMES.join(", ")
        ))),
    }
}

/// [`by_name`] for the variable `variable`, as a configuration error.
pub fn from_setting(
    settings: &Settings,
    variable: &str,
    default: &str,
) -> Result<Box<dyn InputFormat>, ConfigError> {
    let name = settings
        .get(variable)
        .unwrap_or_else(|| default.to_string());
    by_name(&name, settings).map_err(|error| error.for_variable(variable))
}
