//! `syslog-to-json` and `syslog-to-csv`: one syslog line per record (RFC 3164
//! or RFC 5424, detected per line) to a JSON object or an RFC 4180 CSV row.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `APPEND_NEWLINE` | `true` | end each output record with `\n` (S3 and Athena need a delimiter) |
//!
//! The fields and columns are those of [`syslog::write_json`] and
//! [`syslog::write_csv`]. Per record:
//! - a line that is not syslog is `ProcessingFailed` with the reason
//!   [`NOT_SYSLOG`] and the parser's error (what and at which byte) as detail;
//! - a classic RFC 3164 timestamp, which has no year and no zone, is read as UTC
//!   (as the AWS blueprint's Lambda reads it) in the year that puts it nearest
//!   to the record's `approximateArrivalTimestamp` without being more than
//!   7 days after it (the current time when the record has none), so a line
//!   logged on 31 December and delivered on 1 January keeps its year;
//! - invalid UTF-8 is replaced by U+FFFD rather than failing the record (a
//!   device writing Latin-1 in its messages still gets its lines delivered)
//!   and counted as `syslog.invalid_utf8_replaced`;
//! - a message runs to the end of the record, newlines included (less one
//!   trailing newline).
//!
//! ```
//! use firehose_transform::{blueprints::syslog::SyslogToJson, config::Settings, testing};
//!
//! let transform = SyslogToJson::from_settings(&Settings::from_pairs::<&str, &str>([])).unwrap();
//! let processed = testing::run(&transform, ["<34>Oct 11 22:14:15 mymachine su: 'su root' failed", "hello"]);
//! assert!(processed.text(0).starts_with(r#"{"timestamp":"2016-10-11T22:14:15Z","hostname":"mymachine","program":"su","#));
//! assert!(processed.text(0).ends_with("}\n"));
//! assert_eq!(processed.failure_reason(1), Some("not a syslog line"));
//! ```

use std::marker::PhantomData;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::blueprints::APPEND_NEWLINE;
use crate::config::{ConfigError, Settings};
use crate::formats::syslog::{self, Message};
use crate::transform::{Context, Failure, Output, Record, Transform};

/// The failure reason of a record that is not a syslog line.
pub const NOT_SYSLOG: &str = "not a syslog line";

/// The counter of records whose invalid UTF-8 was replaced by U+FFFD.
pub const INVALID_UTF8_COUNTER: &str = "syslog.invalid_utf8_replaced";

/// The output format of a syslog blueprint: how a parsed line is written.
pub trait SyslogFormat: Send + Sync + 'static {
    /// Appends `message` to `out` (without a record delimiter).
    fn write(out: &mut Vec<u8>, message: &Message<'_>, received_millis: i64);
}

/// JSON objects, as [`syslog::write_json`] writes them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json;

impl SyslogFormat for Json {
    fn write(out: &mut Vec<u8>, message: &Message<'_>, received_millis: i64) {
        syslog::write_json(out, message, received_millis);
    }
}

/// CSV rows, as [`syslog::write_csv`] writes them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Csv;

impl SyslogFormat for Csv {
    fn write(out: &mut Vec<u8>, message: &Message<'_>, received_millis: i64) {
        syslog::write_csv(out, message, received_millis);
    }
}

/// A syslog converter writing format `F`; see [`SyslogToJson`] and
/// [`SyslogToCsv`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyslogTo<F> {
    /// End each output record with `\n`.
    pub append_newline: bool,
    format: PhantomData<fn() -> F>,
}

/// The `syslog-to-json` transform.
pub type SyslogToJson = SyslogTo<Json>;

/// The `syslog-to-csv` transform.
pub type SyslogToCsv = SyslogTo<Csv>;

impl<F: SyslogFormat> SyslogTo<F> {
    /// A converter with the given newline setting.
    pub fn new(append_newline: bool) -> Self {
        SyslogTo {
            append_newline,
            format: PhantomData,
        }
    }

    /// Reads `APPEND_NEWLINE` (default `true`).
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(SyslogTo::new(settings.flag(APPEND_NEWLINE, true)?))
    }
}

impl<F: SyslogFormat> Default for SyslogTo<F> {
    fn default() -> Self {
        SyslogTo::new(true)
    }
}

/// A record's line after parsing, with the instant it was received.
#[derive(Debug, Clone)]
pub enum SyslogLine<'a> {
    /// A UTF-8 record, parsed in place.
    Parsed {
        /// The parsed line, borrowing from the record.
        message: Message<'a>,
        /// When the record was received (ms since the Unix epoch).
        received_millis: i64,
    },
    /// A record that was not UTF-8: its text with U+FFFD replacements (known
    /// to parse), parsed again when written.
    Repaired {
        /// The repaired text.
        text: String,
        /// When the record was received (ms since the Unix epoch).
        received_millis: i64,
    },
}

fn not_syslog(error: syslog::Error) -> Failure {
    Failure::new(NOT_SYSLOG).with_detail(error)
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl<F: SyslogFormat> Transform for SyslogTo<F> {
    type Item<'a> = SyslogLine<'a>;

    fn parse<'a>(&self, record: &Record<'a>, cx: &mut Context) -> Result<SyslogLine<'a>, Failure> {
        let received_millis = record
            .approximate_arrival_timestamp
            .unwrap_or_else(now_millis);
        match std::str::from_utf8(record.data) {
            Ok(line) => Ok(SyslogLine::Parsed {
                message: syslog::parse(line).map_err(not_syslog)?,
                received_millis,
            }),
            Err(_) => {
                let text = String::from_utf8_lossy(record.data).into_owned();
                syslog::parse(&text).map_err(not_syslog)?;
                cx.count(INVALID_UTF8_COUNTER);
                Ok(SyslogLine::Repaired {
                    text,
                    received_millis,
                })
            }
        }
    }

    fn convert(
        &self,
        line: SyslogLine<'_>,
        out: &mut Output,
        _cx: &mut Context,
    ) -> Result<(), Failure> {
        let buffer = out.buffer();
        match line {
            SyslogLine::Parsed {
                message,
                received_millis,
            } => F::write(buffer, &message, received_millis),
            SyslogLine::Repaired {
                text,
                received_millis,
            } => {
                let message = syslog::parse(&text).map_err(not_syslog)?;
                F::write(buffer, &message, received_millis);
            }
        }
        if self.append_newline {
            buffer.push(b'\n');
        }
        Ok(())
    }
}

/// The variables `syslog-to-json` and `syslog-to-csv` read (beside the engine's).
pub const VARIABLES: &[&str] = &[APPEND_NEWLINE];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, EventBuilder};

    fn no_settings() -> Settings {
        Settings::from_pairs::<&str, &str>([])
    }

    #[test]
    fn newline_is_on_by_default_and_can_be_turned_off() {
        assert!(
            SyslogToJson::from_settings(&no_settings())
                .unwrap()
                .append_newline
        );
        let off = Settings::from_pairs([(APPEND_NEWLINE, "false")]);
        let transform = SyslogToCsv::from_settings(&off).unwrap();
        let processed = testing::run(&transform, ["<1>1 - h a - - - x"]);
        assert_eq!(processed.text(0), ",h,a,,x,kern,0,alert,1,1,,");
        let bad = Settings::from_pairs([(APPEND_NEWLINE, "perhaps")]);
        let error = SyslogToJson::from_settings(&bad).unwrap_err();
        assert_eq!(error.variable(), APPEND_NEWLINE);
    }

    #[test]
    fn json_and_csv_write_the_same_line() {
        let line = "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster";
        let event = EventBuilder::new()
            .arrival(1_483_574_400_000)
            .line(line)
            .build();
        let json = testing::run_event(&SyslogToJson::default(), &event);
        let csv = testing::run_event(&SyslogToCsv::default(), &event);
        assert_eq!(
            json.text(0),
            "{\"timestamp\":\"2016-12-10T06:55:46Z\",\"hostname\":\"LabSZ\",\"program\":\"sshd\",\"processid\":\"24200\",\"message\":\"Invalid user webmaster\"}\n"
        );
        assert_eq!(
            csv.text(0),
            "2016-12-10T06:55:46Z,LabSZ,sshd,24200,Invalid user webmaster,,,,,,,\n"
        );
    }

    #[test]
    fn repaired_utf8_goes_through_both_stages() {
        let event = EventBuilder::new()
            .arrival(1_483_574_400_000)
            .record(b"Dec 10 06:55:46 LabSZ app: caf\xe9".as_slice())
            .build();
        let processed = testing::run_event(&SyslogToJson::default(), &event);
        let value: serde_json::Value = serde_json::from_str(processed.text(0).trim_end()).unwrap();
        assert_eq!(value["message"], "caf\u{fffd}");
        assert_eq!(processed.summary().counters[INVALID_UTF8_COUNTER], 1);
    }
}
