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
use crate::formats::{apache, syslog};
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
    /// the pipeline parses the JSON itself and this is not called.
    fn parse<'a>(&self, payload: &'a str, cx: &ParseContext) -> Result<Value<'a>, Failure>;
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

/// The names [`by_name`] knows, for messages.
pub const NAMES: &[&str] = &["json", "apache", "syslog"];

/// The input format called `name` (`INPUT_FORMAT`), configured from
/// `settings` where it needs to be.
pub fn by_name(name: &str, settings: &Settings) -> Result<Box<dyn InputFormat>, String> {
    let _ = settings;
    match name.trim().to_ascii_lowercase().as_str() {
        "json" => Ok(Box::new(Json)),
        "apache" => Ok(Box::new(Apache)),
        "syslog" => Ok(Box::new(Syslog)),
        other => Err(format!(
            "{other:?} is not a known format (known: {})",
            NAMES.join(", ")
        )),
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
    by_name(&name, settings).map_err(|problem| ConfigError::new(variable, problem))
}
