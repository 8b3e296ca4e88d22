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
//! - a record may hold many messages (Fluent Bit's `simple_aggregation`, the
//!   Kinesis Agent): a line that starts a syslog header (a `<PRI>`, an
//!   `Mmm dd` timestamp or an RFC 3339 date: [`syslog::starts_message`])
//!   starts a message, and any other line continues the message before it
//!   (RFC 5424 allows line feeds in MSG: a stack trace stays one message).
//!   Each message is converted and the outputs are joined with `\n` under the
//!   record's id. A message that does not parse fails the record
//!   (`BAD_LINE=fail`, the default; the detail names its first line) or is
//!   dropped and counted (`BAD_LINE=drop`, `pipeline.bad_lines_dropped`).
//!   A line break inside a header field (`<1>1 - host\nname - - - -`) is
//!   never a continuation: that message fails.
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

use crate::blueprints::{Lines, APPEND_NEWLINE};
use crate::config::{ConfigError, Settings};
use crate::formats::lines;
use crate::formats::syslog::{self, Message};
use crate::pipeline::BadLine;
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
    /// What a bad message among good ones does (`BAD_LINE`).
    pub bad_line: BadLine,
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
            bad_line: BadLine::Fail,
            format: PhantomData,
        }
    }

    /// Reads `APPEND_NEWLINE` (default `true`) and `BAD_LINE` (default `fail`).
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        let mut transform = SyslogTo::new(settings.flag(APPEND_NEWLINE, true)?);
        transform.bad_line = BadLine::from_settings(settings)?;
        Ok(transform)
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

/// Whether a line continues the syslog message before it.
fn continues(line: &str) -> bool {
    !syslog::starts_message(line)
}

impl<F: SyslogFormat> Transform for SyslogTo<F> {
    type Item<'a> = Lines<SyslogLine<'a>>;

    fn parse<'a>(
        &self,
        record: &Record<'a>,
        cx: &mut Context,
    ) -> Result<Lines<SyslogLine<'a>>, Failure> {
        let received_millis = record
            .approximate_arrival_timestamp
            .unwrap_or_else(now_millis);
        let parsed = |text: &'a str| -> Result<SyslogLine<'a>, Failure> {
            Ok(SyslogLine::Parsed {
                message: syslog::parse(text).map_err(not_syslog)?,
                received_millis,
            })
        };
        match std::str::from_utf8(record.data) {
            Ok(text) => Lines::parse(
                record.data,
                self.bad_line,
                cx,
                |_| parsed(text),
                |_| lines::messages(text, continues).map(|(n, m)| (n, m.as_bytes())),
                // Each message is a slice of `text`, so it is UTF-8.
                |message, _| parsed(std::str::from_utf8(message).unwrap_or_default()),
            ),
            Err(_) => {
                // Counted only for records that convert: a record of
                // garbage is a failure, not a repair.
                let text = String::from_utf8_lossy(record.data).into_owned();
                if !lines::is_multi_line(&text) {
                    syslog::parse(&text).map_err(not_syslog)?;
                    cx.count(INVALID_UTF8_COUNTER);
                    return Ok(Lines::One(SyslogLine::Repaired {
                        text,
                        received_millis,
                    }));
                }
                let mut items = Vec::new();
                for (number, message) in lines::messages(&text, continues) {
                    match syslog::parse(message) {
                        Ok(_) => items.push(SyslogLine::Repaired {
                            text: message.to_string(),
                            received_millis,
                        }),
                        Err(error) => self.bad_line.handle(
                            not_syslog(error),
                            cx,
                            format_args!("line {number}"),
                        )?,
                    }
                }
                if !items.is_empty() {
                    cx.count(INVALID_UTF8_COUNTER);
                }
                Ok(Lines::Many(items))
            }
        }
    }

    fn filter(&self, items: &Lines<SyslogLine<'_>>, _cx: &mut Context) -> bool {
        !items.is_empty()
    }

    fn convert(
        &self,
        items: Lines<SyslogLine<'_>>,
        out: &mut Output,
        _cx: &mut Context,
    ) -> Result<(), Failure> {
        let count = items.as_slice().len();
        let buffer = out.buffer();
        for (index, line) in items.as_slice().iter().enumerate() {
            match line {
                SyslogLine::Parsed {
                    message,
                    received_millis,
                } => F::write(buffer, message, *received_millis),
                SyslogLine::Repaired {
                    text,
                    received_millis,
                } => {
                    let message = syslog::parse(text).map_err(not_syslog)?;
                    F::write(buffer, &message, *received_millis);
                }
            }
            if self.append_newline || index + 1 < count {
                buffer.push(b'\n');
            }
        }
        Ok(())
    }
}

/// The variables `syslog-to-json` and `syslog-to-csv` read (beside the engine's).
pub const VARIABLES: &[&str] = &[APPEND_NEWLINE, crate::blueprints::BAD_LINE];

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
    fn a_record_of_several_messages_keeps_continuation_lines_with_their_message() {
        let record = "<165>1 2003-10-11T22:14:15.003Z host app - - - boom\n\tat Main.run(Main.java:42)\nCaused by: disk\nOct 11 22:14:16 host su: next\n";
        let processed = testing::run(&SyslogToJson::default(), [record]);
        let lines: Vec<serde_json::Value> = processed
            .text(0)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0]["message"],
            "boom\n\tat Main.run(Main.java:42)\nCaused by: disk"
        );
        assert_eq!(lines[1]["message"], "next");
    }

    #[test]
    fn a_line_break_in_a_header_field_fails_and_drop_counts_it() {
        let processed = testing::run(&SyslogToJson::default(), ["<1>1 - host\nname - - - -"]);
        let failure = processed.failure(0).unwrap();
        assert_eq!(failure.reason(), NOT_SYSLOG);
        assert_eq!(
            failure.detail(),
            Some("line 1: line break or control character in the hostname at byte 11")
        );
        let drop = Settings::from_pairs([(crate::blueprints::BAD_LINE, "drop")]);
        let transform = SyslogToCsv::from_settings(&drop).unwrap();
        let processed = testing::run(
            &transform,
            ["<1>1 - host\nname - - - -\n<1>1 - h a - - - x"],
        );
        assert_eq!(processed.text(0), ",h,a,,x,kern,0,alert,1,1,,\n");
        assert_eq!(
            processed.summary().counters[crate::pipeline::BAD_LINES_DROPPED],
            1
        );
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
