//! Syslog lines, RFC 3164 ("BSD syslog") and RFC 5424, parsed without copying.
//!
//! [`parse`] looks at a line and reads it as whichever of the two formats it
//! is; [`parse_rfc3164`] and [`parse_rfc5424`] read one format only. Every
//! text field of the result borrows from the line, so parsing allocates
//! nothing. [`write_json`] and [`write_csv`] write a parsed line as the JSON
//! object and CSV row of the `syslog-to-json` and `syslog-to-csv` blueprints.
//!
//! ```
//! use firehose_transform::formats::syslog::{self, Message};
//!
//! let line = "<34>Oct 11 22:14:15 mymachine su[2201]: 'su root' failed for lonvick";
//! let message = syslog::parse(line)?;
//! assert!(matches!(message, Message::Rfc3164(_)));
//! assert_eq!(message.hostname(), Some("mymachine"));
//! assert_eq!(message.program(), Some("su"));
//! assert_eq!(message.process_id(), Some("2201"));
//! assert_eq!(message.text(), "'su root' failed for lonvick");
//! let priority = message.priority().unwrap();
//! assert_eq!((priority.facility().name(), priority.severity().name()), ("auth", "crit"));
//!
//! let line = "<165>1 2003-10-11T22:14:15.003Z host evntslog - ID47 [origin ip=\"192.0.2.1\"] hello";
//! let message = syslog::parse(line)?;
//! let Message::Rfc5424(m) = &message else { unreachable!() };
//! assert_eq!(m.msg_id, Some("ID47"));
//! let origin = m.structured_data.elements().next().unwrap();
//! assert_eq!(origin.id, "origin");
//! assert_eq!(origin.params().next().unwrap().value.to_string(), "192.0.2.1");
//! # Ok::<(), syslog::Error>(())
//! ```
//!
//! # What is accepted
//!
//! **RFC 3164**: `[<PRI>]TIMESTAMP HOSTNAME TAG[PID]: MESSAGE`, as syslog
//! daemons write it to files and send it over the network, with the variations
//! found in real logs:
//! - the `<PRI>` is optional (files written by syslogd have none);
//! - the timestamp is `Mmm dd hh:mm:ss` with the day padded by a space or a
//!   zero (`Jul  3`, `Jul 03`), a month in any case, and an optional fraction of
//!   the second (`15:16:01.123`); or RFC 3339 with a year and an offset, as in
//!   rsyslog's high-precision file format
//!   (`2026-11-22T04:30:00.123456+01:00 host systemd[1]: ...`);
//! - a `<facility.severity>` after the timestamp (which the AWS blueprint
//!   accepts) is read as the priority when the line has no `<PRI>`;
//! - the hostname is absent when the word after the timestamp ends with `:`
//!   (`Oct 11 22:14:15 su: ...`, as local processes send);
//! - the tag may hold any characters but space, `[` and `:`
//!   (`sshd(pam_unix)[19939]:`, `postfix/smtpd[12]:`), the `[pid]` is optional,
//!   and a tag with a pid needs no colon. A first word followed by neither a
//!   pid nor a colon is not a tag: the line then has no program, and the
//!   message is everything after the hostname (`syslogd 1.4.1: restart.`).
//!
//! Classic RFC 3164 timestamps carry neither a year nor a time zone, so
//! [`Rfc3164Timestamp`] holds the parts written and
//! [`Rfc3164Timestamp::nearest_to`] picks the year that puts the time nearest
//! to a reference instant (the time the line was received), reading the time
//! as UTC.
//!
//! **RFC 5424**: `<PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID
//! STRUCTURED-DATA [MSG]` in full: `-` for any nil field, timestamps with a
//! fraction and an offset, structured data elements with their parameters
//! (values may hold `\"`, `\\` and `\]`), and a message with or without a
//! UTF-8 byte order mark. Field lengths are not enforced.
//!
//! In both formats a message may span several lines: it runs to the end of
//! the text given, less one trailing newline (`\n` or `\r\n`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use super::csv::RowWriter;
use super::json::{write_str_contents, ObjectWriter};
use super::timestamp::{civil_from_days, days_in_month, DateTime};

/// A parsed syslog line in either format, borrowing from the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message<'a> {
    /// A BSD syslog line (RFC 3164).
    Rfc3164(Rfc3164<'a>),
    /// An RFC 5424 line.
    Rfc5424(Rfc5424<'a>),
}

/// An RFC 3164 line: every field but the timestamp may be absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rfc3164<'a> {
    /// The leading `<PRI>` (or a `<facility.severity>` after the timestamp).
    pub priority: Option<Priority>,
    /// The timestamp as written (usually without a year or a zone).
    pub timestamp: Rfc3164Timestamp,
    /// The host that sent the line.
    pub hostname: Option<&'a str>,
    /// The tag: the program that logged the line (`sshd`, `sshd(pam_unix)`).
    pub program: Option<&'a str>,
    /// The process id in brackets after the tag, as written.
    pub pid: Option<&'a str>,
    /// Everything after the tag's `: `, to the end of the record.
    pub message: &'a str,
}

/// An RFC 5424 line. `None` stands for a nil value (`-`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rfc5424<'a> {
    /// The `<PRI>`, mandatory in RFC 5424.
    pub priority: Priority,
    /// The protocol version (1 for RFC 5424 itself).
    pub version: u16,
    /// The timestamp with its own offset.
    pub timestamp: Option<DateTime>,
    /// HOSTNAME.
    pub hostname: Option<&'a str>,
    /// APP-NAME.
    pub app_name: Option<&'a str>,
    /// PROCID.
    pub proc_id: Option<&'a str>,
    /// MSGID.
    pub msg_id: Option<&'a str>,
    /// STRUCTURED-DATA (empty for `-`).
    pub structured_data: StructuredData<'a>,
    /// Whether the message began with a UTF-8 byte order mark (removed from
    /// [`message`](Rfc5424::message)).
    pub bom: bool,
    /// MSG, empty when absent.
    pub message: &'a str,
}

impl<'a> Message<'a> {
    /// The priority, when the line has one.
    pub fn priority(&self) -> Option<Priority> {
        match self {
            Message::Rfc3164(m) => m.priority,
            Message::Rfc5424(m) => Some(m.priority),
        }
    }

    /// The host that sent the line.
    pub fn hostname(&self) -> Option<&'a str> {
        match self {
            Message::Rfc3164(m) => m.hostname,
            Message::Rfc5424(m) => m.hostname,
        }
    }

    /// The program: the RFC 3164 tag or the RFC 5424 APP-NAME.
    pub fn program(&self) -> Option<&'a str> {
        match self {
            Message::Rfc3164(m) => m.program,
            Message::Rfc5424(m) => m.app_name,
        }
    }

    /// The process id: the RFC 3164 `[pid]` or the RFC 5424 PROCID.
    pub fn process_id(&self) -> Option<&'a str> {
        match self {
            Message::Rfc3164(m) => m.pid,
            Message::Rfc5424(m) => m.proc_id,
        }
    }

    /// The free-text message (without an RFC 5424 byte order mark).
    pub fn text(&self) -> &'a str {
        match self {
            Message::Rfc3164(m) => m.message,
            Message::Rfc5424(m) => m.message,
        }
    }

    /// The instant the line was logged. An RFC 5424 timestamp (or an RFC 3339
    /// one in an RFC 3164 line) is complete; a classic RFC 3164 one gets the
    /// year that puts it nearest to `received_millis` (milliseconds since the
    /// Unix epoch, typically when the line arrived; see
    /// [`Rfc3164Timestamp::nearest_to`]) and is read as UTC. `None` for a nil
    /// RFC 5424 timestamp.
    ///
    /// ```
    /// use firehose_transform::formats::syslog;
    /// let message = syslog::parse("Dec 31 23:59:58 host app: late")?;
    /// // Received on 1 January 2027, 00:00:05 UTC: the line is from 2026.
    /// let t = message.timestamp(1_798_761_605_000).unwrap();
    /// assert_eq!(t.to_rfc3339(), "2026-12-31T23:59:58Z");
    /// # Ok::<(), syslog::Error>(())
    /// ```
    pub fn timestamp(&self, received_millis: i64) -> Option<DateTime> {
        match self {
            Message::Rfc3164(m) => m.timestamp.nearest_to(received_millis),
            Message::Rfc5424(m) => m.timestamp,
        }
    }
}

// ---------------------------------------------------------------------------
// Priority

/// A syslog priority, `<0>` to `<191>`: facility × 8 + severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Priority(u8);

impl Priority {
    /// The priority with this numeric value, if it is at most 191.
    ///
    /// ```
    /// use firehose_transform::formats::syslog::{Facility, Priority, Severity};
    /// let p = Priority::new(165).unwrap();
    /// assert_eq!((p.facility(), p.severity()), (Facility::Local4, Severity::Notice));
    /// assert!(Priority::new(192).is_none());
    /// ```
    pub fn new(value: u8) -> Option<Priority> {
        (value <= 191).then_some(Priority(value))
    }

    /// The priority of a facility and a severity.
    pub fn from_parts(facility: Facility, severity: Severity) -> Priority {
        Priority(facility.code() * 8 + severity.code())
    }

    /// The numeric value, 0 to 191.
    pub fn value(self) -> u8 {
        self.0
    }

    /// The facility (value / 8).
    pub fn facility(self) -> Facility {
        Facility::ALL[usize::from(self.0 >> 3) % Facility::ALL.len()]
    }

    /// The severity (value % 8).
    pub fn severity(self) -> Severity {
        Severity::ALL[usize::from(self.0 & 7)]
    }
}

/// The facility of a priority (RFC 5424 table 1), named as in `syslog.h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum Facility {
    Kern,
    User,
    Mail,
    Daemon,
    Auth,
    Syslog,
    Lpr,
    News,
    Uucp,
    Cron,
    Authpriv,
    Ftp,
    Ntp,
    Security,
    Console,
    SolarisCron,
    Local0,
    Local1,
    Local2,
    Local3,
    Local4,
    Local5,
    Local6,
    Local7,
}

impl Facility {
    /// Every facility, in code order.
    pub const ALL: [Facility; 24] = [
        Facility::Kern,
        Facility::User,
        Facility::Mail,
        Facility::Daemon,
        Facility::Auth,
        Facility::Syslog,
        Facility::Lpr,
        Facility::News,
        Facility::Uucp,
        Facility::Cron,
        Facility::Authpriv,
        Facility::Ftp,
        Facility::Ntp,
        Facility::Security,
        Facility::Console,
        Facility::SolarisCron,
        Facility::Local0,
        Facility::Local1,
        Facility::Local2,
        Facility::Local3,
        Facility::Local4,
        Facility::Local5,
        Facility::Local6,
        Facility::Local7,
    ];

    const NAMES: [&'static str; 24] = [
        "kern",
        "user",
        "mail",
        "daemon",
        "auth",
        "syslog",
        "lpr",
        "news",
        "uucp",
        "cron",
        "authpriv",
        "ftp",
        "ntp",
        "security",
        "console",
        "solaris-cron",
        "local0",
        "local1",
        "local2",
        "local3",
        "local4",
        "local5",
        "local6",
        "local7",
    ];

    /// The numeric code, 0 to 23.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The facility with this code.
    pub fn from_code(code: u8) -> Option<Facility> {
        Facility::ALL.get(usize::from(code)).copied()
    }

    /// The lower-case name: `kern`, `auth`, `local7`, ...
    pub fn name(self) -> &'static str {
        Facility::NAMES[self as usize]
    }
}

/// The severity of a priority (RFC 5424 table 2), named as in `syslog.h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum Severity {
    Emerg,
    Alert,
    Crit,
    Err,
    Warning,
    Notice,
    Info,
    Debug,
}

impl Severity {
    /// Every severity, in code order (most severe first).
    pub const ALL: [Severity; 8] = [
        Severity::Emerg,
        Severity::Alert,
        Severity::Crit,
        Severity::Err,
        Severity::Warning,
        Severity::Notice,
        Severity::Info,
        Severity::Debug,
    ];

    const NAMES: [&'static str; 8] = [
        "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
    ];

    /// The numeric code, 0 to 7.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The severity with this code.
    pub fn from_code(code: u8) -> Option<Severity> {
        Severity::ALL.get(usize::from(code)).copied()
    }

    /// The lower-case name: `emerg`, `err`, `info`, ...
    pub fn name(self) -> &'static str {
        Severity::NAMES[self as usize]
    }
}

// ---------------------------------------------------------------------------
// RFC 3164 timestamps

/// An RFC 3164 timestamp as written: `Mmm dd hh:mm:ss`, with no year and no
/// zone; or RFC 3339 with both, as rsyslog writes its high-precision file
/// format (`2026-11-22T04:30:00.123456+01:00 host app[7]: ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rfc3164Timestamp {
    /// The year, when written (RFC 3339 form only).
    pub year: Option<i32>,
    /// 1 to 12.
    pub month: u8,
    /// 1 to 31 (valid for the month in some year).
    pub day: u8,
    /// 0 to 23.
    pub hour: u8,
    /// 0 to 59.
    pub minute: u8,
    /// 0 to 60.
    pub second: u8,
    /// A fraction of the second, when one was written.
    pub nanos: u32,
    /// The offset from UTC in minutes, when written (RFC 3339 form only);
    /// without it the time is read as UTC.
    pub offset_minutes: Option<i16>,
}

impl Rfc3164Timestamp {
    /// A timestamp in the classic form: month, day and time, no year or zone.
    ///
    /// ```
    /// use firehose_transform::formats::syslog::{self, Rfc3164Timestamp};
    /// let m = syslog::parse_rfc3164("Jun  4 15:16:01 host app: hi")?;
    /// assert_eq!(m.timestamp, Rfc3164Timestamp::new(6, 4, 15, 16, 1));
    /// # Ok::<(), syslog::Error>(())
    /// ```
    pub fn new(month: u8, day: u8, hour: u8, minute: u8, second: u8) -> Self {
        Rfc3164Timestamp {
            year: None,
            month,
            day,
            hour,
            minute,
            second,
            nanos: 0,
            offset_minutes: None,
        }
    }

    /// The timestamp in `year` (whatever year it was written with), at its
    /// own offset or else UTC; `None` for 29 February of a common year.
    pub fn with_year(&self, year: i32) -> Option<DateTime> {
        let t = DateTime {
            year,
            month: self.month,
            day: self.day,
            hour: self.hour,
            minute: self.minute,
            second: self.second,
            nanos: self.nanos,
            offset_minutes: self.offset_minutes.unwrap_or(0),
        };
        t.is_valid().then_some(t)
    }

    /// The timestamp in the year that puts it nearest to `reference_millis`
    /// (milliseconds since the Unix epoch, typically when the line was
    /// received) without being more than [`FUTURE_TOLERANCE_MILLIS`] after
    /// it, read as UTC.
    ///
    /// A line logged on 31 December and received on 1 January keeps its year;
    /// a line stamped 1 January received late on 31 December (a sender's clock
    /// slightly ahead) gets the next one; a line from June replayed in January
    /// is from the June before, not the one to come. `None` only for
    /// 29 February with no leap year in the 8 years before the reference.
    /// A timestamp written with its year is returned as written.
    ///
    /// ```
    /// use firehose_transform::formats::syslog::Rfc3164Timestamp;
    /// let new_year_2027 = 1_798_761_600_000;
    /// let t = Rfc3164Timestamp::new(12, 31, 23, 59, 59);
    /// assert_eq!(t.nearest_to(new_year_2027).unwrap().year, 2026);
    /// let t = Rfc3164Timestamp::new(1, 1, 0, 0, 3);
    /// assert_eq!(t.nearest_to(new_year_2027 - 5_000).unwrap().year, 2027);
    /// ```
    pub fn nearest_to(&self, reference_millis: i64) -> Option<DateTime> {
        if let Some(year) = self.year {
            return self.with_year(year);
        }
        let reference_year = civil_from_days(reference_millis.div_euclid(86_400_000)).0;
        let latest = i128::from(reference_millis) + i128::from(FUTURE_TOLERANCE_MILLIS);
        // Latest year first: the first candidate not too far in the future is
        // the nearest one. Eight years back always reach a 29 February.
        (reference_year.saturating_sub(8)..=reference_year.saturating_add(1))
            .rev()
            .filter_map(|year| self.with_year(year))
            .find(|t| {
                i128::from(t.unix_seconds()) * 1000 + i128::from(t.nanos / 1_000_000) <= latest
            })
    }
}

/// How far after the reference instant an RFC 3164 timestamp may be before
/// [`Rfc3164Timestamp::nearest_to`] puts it in the year before (7 days,
/// generous for senders whose clocks run ahead).
pub const FUTURE_TOLERANCE_MILLIS: i64 = 7 * 86_400_000;

// ---------------------------------------------------------------------------
// Structured data

/// RFC 5424 STRUCTURED-DATA: zero or more `[SD-ID param="value" ...]`
/// elements, kept as the text of the line (already checked by the parser) and
/// read on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StructuredData<'a> {
    text: &'a str,
}

impl<'a> StructuredData<'a> {
    /// Checks `text` (one or more elements, or `-`/empty for none) and wraps it.
    ///
    /// ```
    /// use firehose_transform::formats::syslog::StructuredData;
    /// let sd = StructuredData::parse(r#"[a@1 x="1"][b]"#).unwrap();
    /// assert_eq!(sd.elements().map(|e| e.id).collect::<Vec<_>>(), ["a@1", "b"]);
    /// assert!(StructuredData::parse("-").unwrap().is_empty());
    /// assert!(StructuredData::parse(r#"[a x="1]"#).is_err());
    /// ```
    pub fn parse(text: &'a str) -> Result<StructuredData<'a>, Error> {
        if text.is_empty() || text == "-" {
            return Ok(StructuredData::default());
        }
        let end = scan_structured_data(text.as_bytes(), 0)?;
        if end != text.len() {
            return Err(Error::new(
                ErrorKind::ExpectedSpace(Field::StructuredData),
                end,
            ));
        }
        Ok(StructuredData { text })
    }

    /// Whether there are no elements (nil structured data).
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The elements as written in the line (empty when nil).
    pub fn as_str(&self) -> &'a str {
        self.text
    }

    /// The elements, in order.
    pub fn elements(&self) -> Elements<'a> {
        Elements {
            text: self.text,
            at: 0,
        }
    }
}

/// Iterator over the elements of [`StructuredData`].
#[derive(Debug, Clone)]
pub struct Elements<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Iterator for Elements<'a> {
    type Item = Element<'a>;

    fn next(&mut self) -> Option<Element<'a>> {
        let bytes = self.text.as_bytes();
        if bytes.get(self.at) != Some(&b'[') {
            return None;
        }
        let id_start = self.at + 1;
        let id_end = id_start
            + bytes
                .get(id_start..)?
                .iter()
                .position(|&b| b == b' ' || b == b']')?;
        let params_end = skip_params(bytes, id_end)?;
        let element = Element {
            id: self.text.get(id_start..id_end)?,
            params: self.text.get(id_end..params_end)?,
        };
        self.at = params_end + 1;
        Some(element)
    }
}

/// One structured data element: `[id name="value" ...]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element<'a> {
    /// The SD-ID (`exampleSDID@32473`, `timeQuality`).
    pub id: &'a str,
    params: &'a str,
}

impl<'a> Element<'a> {
    /// The parameters, in order (a name may repeat).
    pub fn params(&self) -> Params<'a> {
        Params {
            text: self.params,
            at: 0,
        }
    }
}

/// Iterator over the parameters of an [`Element`].
#[derive(Debug, Clone)]
pub struct Params<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Iterator for Params<'a> {
    type Item = Param<'a>;

    fn next(&mut self) -> Option<Param<'a>> {
        let bytes = self.text.as_bytes();
        let mut at = self.at;
        while bytes.get(at) == Some(&b' ') {
            at += 1;
        }
        let name_end = at + bytes.get(at..)?.iter().position(|&b| b == b'=')?;
        let value_start = name_end + 2;
        let value_end = value_end(bytes, value_start)?;
        let param = Param {
            name: self.text.get(at..name_end)?,
            value: ParamValue {
                raw: self.text.get(value_start..value_end)?,
            },
        };
        self.at = value_end + 1;
        Some(param)
    }
}

/// One `name="value"` parameter of an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    /// PARAM-NAME.
    pub name: &'a str,
    /// PARAM-VALUE, still escaped as in the line.
    pub value: ParamValue<'a>,
}

/// A PARAM-VALUE as written, with `\"`, `\\` and `\]` escapes. Its
/// [`Display`](fmt::Display) and [`unescape`](ParamValue::unescape) give the
/// value itself; [`chunks`](ParamValue::chunks) gives it piece by piece
/// without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamValue<'a> {
    raw: &'a str,
}

impl<'a> ParamValue<'a> {
    /// The value as written, escapes included.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// The value with its escapes resolved; borrowed when it has none.
    ///
    /// A backslash before any character but `"`, `\` and `]` is kept, as
    /// RFC 5424 section 6.3.3 requires.
    ///
    /// ```
    /// use firehose_transform::formats::syslog::StructuredData;
    /// let sd = StructuredData::parse(r#"[x v="a\"b\\c\]d\n"]"#).unwrap();
    /// let value = sd.elements().next().unwrap().params().next().unwrap().value;
    /// assert_eq!(value.unescape(), "a\"b\\c]d\\n");
    /// ```
    pub fn unescape(&self) -> Cow<'a, str> {
        if !self.raw.contains('\\') {
            return Cow::Borrowed(self.raw);
        }
        Cow::Owned(self.chunks().collect())
    }

    /// The unescaped value as consecutive slices of the line.
    pub fn chunks(&self) -> Chunks<'a> {
        Chunks { rest: self.raw }
    }
}

impl fmt::Display for ParamValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.chunks().try_for_each(|chunk| f.write_str(chunk))
    }
}

/// Iterator over the unescaped pieces of a [`ParamValue`].
#[derive(Debug, Clone)]
pub struct Chunks<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Chunks<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.rest.is_empty() {
            return None;
        }
        let bytes = self.rest.as_bytes();
        // An escape yields the escaped character as a chunk of its own.
        if bytes.first() == Some(&b'\\') && matches!(bytes.get(1), Some(b'"' | b'\\' | b']')) {
            let (chunk, rest) = (self.rest.get(1..2)?, self.rest.get(2..)?);
            self.rest = rest;
            return Some(chunk);
        }
        let mut end = 1;
        while let Some(&b) = bytes.get(end) {
            if b == b'\\' && matches!(bytes.get(end + 1), Some(b'"' | b'\\' | b']')) {
                break;
            }
            end += 1;
        }
        let (chunk, rest) = self.rest.split_at_checked(end)?;
        self.rest = rest;
        Some(chunk)
    }
}

/// Where the parameters of an element starting at `from` (just after its
/// SD-ID) end: the index of its closing `]`. The text is already checked.
fn skip_params(bytes: &[u8], mut at: usize) -> Option<usize> {
    loop {
        match bytes.get(at)? {
            b']' => return Some(at),
            b'"' => at = value_end(bytes, at + 1)? + 1,
            _ => at += 1,
        }
    }
}

/// The index of the quote closing a value that starts at `at`.
fn value_end(bytes: &[u8], mut at: usize) -> Option<usize> {
    loop {
        match bytes.get(at)? {
            b'"' => return Some(at),
            b'\\' => at += 2,
            _ => at += 1,
        }
    }
}

/// Checks one or more elements starting at `at` (a `[`) and returns the index
/// just after the last one.
fn scan_structured_data(bytes: &[u8], mut at: usize) -> Result<usize, Error> {
    use SdProblem::*;
    let sd = |problem, at| Error::new(ErrorKind::StructuredData(problem), at);
    while bytes.get(at) == Some(&b'[') {
        at += 1;
        let id_start = at;
        while let Some(&b) = bytes.get(at) {
            match b {
                b' ' | b']' => break,
                b'=' | b'"' => return Err(sd(InvalidId, at)),
                _ if is_control(&b) => {
                    return Err(Error::new(ErrorKind::LineBreak(Field::StructuredData), at))
                }
                _ => at += 1,
            }
        }
        if at == id_start {
            return Err(sd(EmptyId, at));
        }
        loop {
            match bytes.get(at) {
                None => return Err(sd(Unterminated, at)),
                Some(b']') => {
                    at += 1;
                    break;
                }
                Some(b' ') => at += 1,
                Some(_) => {
                    let name_start = at;
                    while let Some(&b) = bytes.get(at) {
                        match b {
                            b'=' => break,
                            b' ' | b']' | b'"' => return Err(sd(ExpectedEquals, at)),
                            _ if is_control(&b) => {
                                return Err(Error::new(
                                    ErrorKind::LineBreak(Field::StructuredData),
                                    at,
                                ))
                            }
                            _ => at += 1,
                        }
                    }
                    if at == name_start {
                        return Err(sd(EmptyParamName, at));
                    }
                    if bytes.get(at) != Some(&b'=') {
                        return Err(sd(Unterminated, at));
                    }
                    at += 1;
                    if bytes.get(at) != Some(&b'"') {
                        return Err(sd(ExpectedQuote, at));
                    }
                    let value_start = at + 1;
                    match value_end(bytes, value_start) {
                        Some(end) => at = end + 1,
                        None => return Err(sd(UnterminatedValue, value_start)),
                    }
                    if !matches!(bytes.get(at), Some(b' ' | b']') | None) {
                        return Err(sd(ExpectedSpace, at));
                    }
                }
            }
        }
    }
    Ok(at)
}

// ---------------------------------------------------------------------------
// Errors

/// Why a line is not syslog, and the byte offset where that was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    at: usize,
}

impl Error {
    fn new(kind: ErrorKind, at: usize) -> Error {
        Error { kind, at }
    }

    /// What is wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The byte offset in the line where it was found.
    pub fn offset(&self) -> usize {
        self.at
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.at)
    }
}

impl std::error::Error for Error {}

/// What is wrong with a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The line is empty.
    Empty,
    /// A `<PRI>` that is not `<0>` to `<191>`.
    InvalidPriority,
    /// An RFC 5424 version that is not 1 to 999.
    InvalidVersion,
    /// A timestamp that is not `Mmm dd hh:mm:ss` (RFC 3164) or RFC 3339
    /// (RFC 5424), or names a day or time that does not exist.
    InvalidTimestamp,
    /// Nothing after an RFC 3164 timestamp.
    MissingHostname,
    /// The line ends before this RFC 5424 field.
    MissingField(Field),
    /// Two spaces in a row where this RFC 5424 field should be.
    EmptyField(Field),
    /// No space after this field.
    ExpectedSpace(Field),
    /// Malformed structured data.
    StructuredData(SdProblem),
    /// A line break (or another control character) inside a header field:
    /// header fields are printable ASCII (RFC 5424 section 6), so the line
    /// was cut or two messages were run together. Only MSG may span lines.
    LineBreak(Field),
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Empty => f.write_str("empty line"),
            ErrorKind::InvalidPriority => f.write_str("invalid priority (expected <0> to <191>)"),
            ErrorKind::InvalidVersion => f.write_str("invalid version (expected 1 to 999)"),
            ErrorKind::InvalidTimestamp => f.write_str(
                "invalid timestamp (expected \"Mmm dd hh:mm:ss\" or RFC 3339 with an offset)",
            ),
            ErrorKind::MissingHostname => f.write_str("nothing after the timestamp"),
            ErrorKind::MissingField(field) => write!(f, "line ends before the {field}"),
            ErrorKind::EmptyField(field) => write!(f, "empty {field} (two spaces in a row)"),
            ErrorKind::ExpectedSpace(field) => write!(f, "expected a space after the {field}"),
            ErrorKind::StructuredData(problem) => write!(f, "invalid structured data: {problem}"),
            ErrorKind::LineBreak(field) => {
                write!(f, "line break or control character in the {field}")
            }
        }
    }
}

/// A field of an RFC 5424 header, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Field {
    Priority,
    Version,
    Timestamp,
    Hostname,
    AppName,
    ProcId,
    MsgId,
    StructuredData,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Priority => "priority",
            Field::Version => "version",
            Field::Timestamp => "timestamp",
            Field::Hostname => "hostname",
            Field::AppName => "app-name",
            Field::ProcId => "procid",
            Field::MsgId => "msgid",
            Field::StructuredData => "structured data",
        })
    }
}

/// What is wrong with structured data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum SdProblem {
    Missing,
    EmptyId,
    InvalidId,
    EmptyParamName,
    ExpectedEquals,
    ExpectedQuote,
    UnterminatedValue,
    ExpectedSpace,
    Unterminated,
}

impl fmt::Display for SdProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SdProblem::Missing => "expected '-' or '['",
            SdProblem::EmptyId => "empty SD-ID",
            SdProblem::InvalidId => "'=' or '\"' in an SD-ID",
            SdProblem::EmptyParamName => "empty parameter name",
            SdProblem::ExpectedEquals => "expected '=' after a parameter name",
            SdProblem::ExpectedQuote => "expected '\"' to open a parameter value",
            SdProblem::UnterminatedValue => "parameter value without its closing '\"'",
            SdProblem::ExpectedSpace => "expected a space or ']' after a parameter value",
            SdProblem::Unterminated => "element without its closing ']'",
        })
    }
}

// ---------------------------------------------------------------------------
// Parsing

/// Removes one trailing record newline (`\n` or `\r\n`).
fn trim_newline(line: &str) -> &str {
    match line.strip_suffix('\n') {
        Some(line) => line.strip_suffix('\r').unwrap_or(line),
        None => line,
    }
}

/// Whether `line` starts a syslog message rather than continuing the one
/// before it (RFC 5424 allows line feeds in MSG, and a stack trace logged
/// through syslog is one message over many lines).
///
/// A line starts a message when it begins the way a header does: with a
/// `<PRI>` (`<34>`), with an RFC 3164 timestamp's month and day
/// (`Oct 11 `, `Jul  3 `), or with an RFC 3339 date (`2026-11-22T`). Any
/// other line continues the message before it. The check looks at the first
/// few bytes only; whether the header is valid is for [`parse`] to say.
///
/// ```
/// use firehose_transform::formats::syslog::starts_message;
/// assert!(starts_message("<165>1 2003-10-11T22:14:15.003Z host app - - - boom"));
/// assert!(starts_message("Jul  3 04:08:03 combo kernel: ..."));
/// assert!(starts_message("2026-11-22T04:30:00.123456+01:00 web-01 app[1]: started"));
/// assert!(!starts_message("\tat com.example.Main.run(Main.java:42)"));
/// assert!(!starts_message("Caused by: java.io.IOException: disk full"));
/// ```
pub fn starts_message(line: &str) -> bool {
    let bytes = line.as_bytes();
    match bytes.first() {
        Some(b'<') => {
            let digits = bytes[1..].iter().take_while(|b| b.is_ascii_digit()).count();
            (1..=3).contains(&digits) && bytes.get(1 + digits) == Some(&b'>')
        }
        Some(b) if b.is_ascii_digit() => {
            digits(bytes, 0, 4).is_some()
                && bytes.get(4) == Some(&b'-')
                && digits(bytes, 5, 2).is_some()
                && bytes.get(7) == Some(&b'-')
        }
        Some(_) => {
            month_number(bytes).is_some()
                && bytes.get(3) == Some(&b' ')
                && bytes
                    .get(4)
                    .is_some_and(|b| *b == b' ' || b.is_ascii_digit())
        }
        None => false,
    }
}

/// Parses a syslog line of either format: RFC 5424 when the `<PRI>` is
/// followed by a version number, RFC 3164 otherwise.
///
/// ```
/// use firehose_transform::formats::syslog::{self, ErrorKind};
/// let error = syslog::parse("GET / HTTP/1.1").unwrap_err();
/// assert_eq!(error.kind(), ErrorKind::InvalidTimestamp);
/// assert_eq!(error.to_string(), "invalid timestamp (expected \"Mmm dd hh:mm:ss\" or RFC 3339 with an offset) at byte 0");
/// ```
pub fn parse(line: &str) -> Result<Message<'_>, Error> {
    let line = trim_newline(line);
    let bytes = line.as_bytes();
    if bytes.first() == Some(&b'<') {
        let (priority, at) = parse_priority(bytes)?;
        // A version is 1 to 3 digits; 4 digits and a '-' start an RFC 3339
        // timestamp of an RFC 3164 line.
        let rfc3339 = bytes.get(at + 4) == Some(&b'-') && digits(bytes, at, 4).is_some();
        if bytes.get(at).is_some_and(u8::is_ascii_digit) && !rfc3339 {
            return parse_rfc5424_after_priority(line, priority, at).map(Message::Rfc5424);
        }
        return parse_rfc3164_from(line, Some(priority), at).map(Message::Rfc3164);
    }
    if bytes.is_empty() {
        return Err(Error::new(ErrorKind::Empty, 0));
    }
    parse_rfc3164_from(line, None, 0).map(Message::Rfc3164)
}

/// Parses an RFC 3164 line (with or without `<PRI>`).
///
/// ```
/// use firehose_transform::formats::syslog;
/// let m = syslog::parse_rfc3164("Jun  4 15:16:01 combo sshd(pam_unix)[19939]: check pass\n")?;
/// assert_eq!((m.timestamp.month, m.timestamp.day), (6, 4));
/// assert_eq!((m.program, m.pid, m.message), (Some("sshd(pam_unix)"), Some("19939"), "check pass"));
/// # Ok::<(), syslog::Error>(())
/// ```
pub fn parse_rfc3164(line: &str) -> Result<Rfc3164<'_>, Error> {
    let line = trim_newline(line);
    let bytes = line.as_bytes();
    if bytes.is_empty() {
        return Err(Error::new(ErrorKind::Empty, 0));
    }
    let (priority, at) = match bytes.first() {
        Some(b'<') => {
            let (priority, at) = parse_priority(bytes)?;
            (Some(priority), at)
        }
        _ => (None, 0),
    };
    parse_rfc3164_from(line, priority, at)
}

/// Parses an RFC 5424 line.
///
/// ```
/// use firehose_transform::formats::syslog;
/// let m = syslog::parse_rfc5424("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time")?;
/// assert_eq!(m.timestamp.unwrap().to_rfc3339(), "2003-08-24T05:14:15.000003-07:00");
/// assert_eq!((m.app_name, m.proc_id, m.msg_id), (Some("myproc"), Some("8710"), None));
/// assert!(m.structured_data.is_empty());
/// assert_eq!(m.message, "%% It's time");
/// # Ok::<(), syslog::Error>(())
/// ```
pub fn parse_rfc5424(line: &str) -> Result<Rfc5424<'_>, Error> {
    let line = trim_newline(line);
    let bytes = line.as_bytes();
    if bytes.is_empty() {
        return Err(Error::new(ErrorKind::Empty, 0));
    }
    let (priority, at) = parse_priority(bytes)?;
    parse_rfc5424_after_priority(line, priority, at)
}

/// Reads `<N>` at the start of `bytes`; returns the priority and the index
/// after `>`.
fn parse_priority(bytes: &[u8]) -> Result<(Priority, usize), Error> {
    let invalid = Error::new(ErrorKind::InvalidPriority, 0);
    if bytes.first() != Some(&b'<') {
        return Err(invalid);
    }
    let mut value: u32 = 0;
    let mut at = 1;
    while let Some(&b) = bytes.get(at) {
        if !b.is_ascii_digit() || at > 3 {
            break;
        }
        value = value * 10 + u32::from(b - b'0');
        at += 1;
    }
    // RFC 5424 forbids leading zeros except in <0>; accept them, as relays do.
    if at == 1 || bytes.get(at) != Some(&b'>') || value > 191 {
        return Err(invalid);
    }
    Ok((Priority(value as u8), at + 1))
}

/// Reads exactly `n` ASCII digits at `at`.
fn digits(bytes: &[u8], at: usize, n: usize) -> Option<u32> {
    let slice = bytes.get(at..at + n)?;
    let mut value = 0;
    for &b in slice {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u32::from(b - b'0');
    }
    Some(value)
}

/// Reads a fraction of a second (the digits after `.`) starting at `at`;
/// returns nanoseconds and the index after the digits (digits past the ninth
/// are read and dropped).
fn fraction(bytes: &[u8], mut at: usize) -> Option<(u32, usize)> {
    let start = at;
    let mut nanos: u32 = 0;
    while let Some(&b) = bytes.get(at) {
        if !b.is_ascii_digit() {
            break;
        }
        if at - start < 9 {
            nanos = nanos * 10 + u32::from(b - b'0');
        }
        at += 1;
    }
    let count = at - start;
    if count == 0 {
        return None;
    }
    for _ in count..9 {
        nanos *= 10;
    }
    Some((nanos, at))
}

fn month_number(bytes: &[u8]) -> Option<u8> {
    let [a, b, c] =
        [*bytes.first()?, *bytes.get(1)?, *bytes.get(2)?].map(|b| b.to_ascii_lowercase());
    Some(match [a, b, c] {
        [b'j', b'a', b'n'] => 1,
        [b'f', b'e', b'b'] => 2,
        [b'm', b'a', b'r'] => 3,
        [b'a', b'p', b'r'] => 4,
        [b'm', b'a', b'y'] => 5,
        [b'j', b'u', b'n'] => 6,
        [b'j', b'u', b'l'] => 7,
        [b'a', b'u', b'g'] => 8,
        [b's', b'e', b'p'] => 9,
        [b'o', b'c', b't'] => 10,
        [b'n', b'o', b'v'] => 11,
        [b'd', b'e', b'c'] => 12,
        _ => return None,
    })
}

/// Reads `Mmm dd hh:mm:ss[.fff]` at `at`; returns it and the index after it.
fn parse_rfc3164_timestamp(bytes: &[u8], start: usize) -> Result<(Rfc3164Timestamp, usize), Error> {
    let invalid = Error::new(ErrorKind::InvalidTimestamp, start);
    let month = bytes.get(start..).and_then(month_number).ok_or(invalid)?;
    let mut at = start + 3;
    if bytes.get(at) != Some(&b' ') {
        return Err(invalid);
    }
    while bytes.get(at) == Some(&b' ') {
        at += 1;
    }
    let day_len = if bytes.get(at + 1).is_some_and(u8::is_ascii_digit) {
        2
    } else {
        1
    };
    let day = digits(bytes, at, day_len).ok_or(invalid)? as u8;
    at += day_len;
    if bytes.get(at) != Some(&b' ') {
        return Err(invalid);
    }
    at += 1;
    let hour_len = if bytes.get(at + 1) == Some(&b':') {
        1
    } else {
        2
    };
    let hour = digits(bytes, at, hour_len).ok_or(invalid)? as u8;
    at += hour_len;
    if bytes.get(at) != Some(&b':') || bytes.get(at + 3) != Some(&b':') {
        return Err(invalid);
    }
    let minute = digits(bytes, at + 1, 2).ok_or(invalid)? as u8;
    let second = digits(bytes, at + 4, 2).ok_or(invalid)? as u8;
    at += 6;
    let mut nanos = 0;
    if matches!(bytes.get(at), Some(b'.' | b','))
        && bytes.get(at + 1).is_some_and(u8::is_ascii_digit)
    {
        (nanos, at) = fraction(bytes, at + 1).ok_or(invalid)?;
    }
    // Day 29 of February exists in leap years: the year is settled later.
    if day == 0 || day > days_in_month(2000, month) || hour > 23 || minute > 59 || second > 60 {
        return Err(invalid);
    }
    let timestamp = Rfc3164Timestamp {
        year: None,
        month,
        day,
        hour,
        minute,
        second,
        nanos,
        offset_minutes: None,
    };
    Ok((timestamp, at))
}

/// Reads `<f.s> ` (facility and severity numbers, as some relays write after
/// the timestamp); returns the priority and the index after the space.
fn parse_dotted_priority(bytes: &[u8], mut at: usize) -> Option<(Priority, usize)> {
    if bytes.get(at) != Some(&b'<') {
        return None;
    }
    at += 1;
    let number = |at: &mut usize| {
        let start = *at;
        let mut value: u32 = 0;
        while let Some(&b) = bytes.get(*at).filter(|b| b.is_ascii_digit()) {
            value = value.saturating_mul(10).saturating_add(u32::from(b - b'0'));
            *at += 1;
        }
        (*at > start).then_some(value)
    };
    let facility = number(&mut at)?;
    if bytes.get(at) != Some(&b'.') {
        return None;
    }
    at += 1;
    let severity = number(&mut at)?;
    if bytes.get(at..at + 2) != Some(b"> ") {
        return None;
    }
    let facility = Facility::from_code(u8::try_from(facility).ok()?)?;
    let severity = Severity::from_code(u8::try_from(severity).ok()?)?;
    Some((Priority::from_parts(facility, severity), at + 2))
}

fn parse_rfc3164_from(
    line: &str,
    mut priority: Option<Priority>,
    start: usize,
) -> Result<Rfc3164<'_>, Error> {
    let bytes = line.as_bytes();
    let (timestamp, mut at) = if bytes.get(start).is_some_and(u8::is_ascii_digit) {
        let end = start
            + bytes.get(start..).map_or(0, |rest| {
                rest.iter().position(|&b| b == b' ').unwrap_or(rest.len())
            });
        let t = parse_rfc5424_timestamp(bytes, start, end)?;
        let timestamp = Rfc3164Timestamp {
            year: Some(t.year),
            month: t.month,
            day: t.day,
            hour: t.hour,
            minute: t.minute,
            second: t.second,
            nanos: t.nanos,
            offset_minutes: Some(t.offset_minutes),
        };
        (timestamp, end)
    } else {
        parse_rfc3164_timestamp(bytes, start)?
    };
    match bytes.get(at) {
        Some(b' ') => {}
        None => return Err(Error::new(ErrorKind::MissingHostname, at)),
        Some(_) => return Err(Error::new(ErrorKind::InvalidTimestamp, start)),
    }
    while bytes.get(at) == Some(&b' ') {
        at += 1;
    }
    if let Some((dotted, next)) = parse_dotted_priority(bytes, at) {
        priority = priority.or(Some(dotted));
        at = next;
    }
    let word_end = at
        + bytes.get(at..).map_or(0, |rest| {
            rest.iter().position(|&b| b == b' ').unwrap_or(rest.len())
        });
    if word_end == at {
        return Err(Error::new(ErrorKind::MissingHostname, at));
    }
    // A hostname (or tag) never spans lines: a break there means the
    // header was cut, not a multi-line message.
    if let Some(bad) = bytes[at..word_end].iter().position(is_control) {
        return Err(Error::new(ErrorKind::LineBreak(Field::Hostname), at + bad));
    }
    // A first word ending in ':' is a tag: the sender left out its hostname.
    let hostname = if bytes.get(word_end - 1) == Some(&b':') {
        None
    } else {
        let hostname = line.get(at..word_end);
        at = word_end;
        while bytes.get(at) == Some(&b' ') {
            at += 1;
        }
        hostname
    };
    let (program, pid, message_start) = parse_tag(bytes, at);
    Ok(Rfc3164 {
        priority,
        timestamp,
        hostname,
        program: program.and_then(|(s, e)| line.get(s..e)),
        pid: pid.and_then(|(s, e)| line.get(s..e)),
        message: line.get(message_start..).unwrap_or_default(),
    })
}

type Span = Option<(usize, usize)>;

/// Reads `TAG[PID]: ` at `at`: the spans of the tag and the pid, and where the
/// message starts. Without a pid or a colon the word is not a tag and the
/// message starts at `at`.
fn parse_tag(bytes: &[u8], at: usize) -> (Span, Span, usize) {
    let mut end = at;
    while let Some(&b) = bytes.get(end) {
        if b == b' ' || b == b'[' || b == b':' || is_control(&b) {
            break;
        }
        end += 1;
    }
    if end == at {
        return (None, None, at);
    }
    let tag = Some((at, end));
    let mut next = end;
    let mut pid = None;
    if bytes.get(end) == Some(&b'[') {
        let pid_start = end + 1;
        let mut pid_end = pid_start;
        while let Some(&b) = bytes.get(pid_end) {
            if b == b']' || b == b' ' || is_control(&b) {
                break;
            }
            pid_end += 1;
        }
        if bytes.get(pid_end) != Some(&b']') || pid_end == pid_start {
            return (None, None, at);
        }
        pid = Some((pid_start, pid_end));
        next = pid_end + 1;
    }
    match bytes.get(next) {
        Some(b':') => next += 1,
        _ if pid.is_some() => {}
        _ => return (None, None, at),
    }
    if bytes.get(next) == Some(&b' ') {
        next += 1;
    }
    (tag, pid, next)
}

/// A byte that never belongs in a header field: a line break, another C0
/// control or DEL.
fn is_control(b: &u8) -> bool {
    *b < 0x20 || *b == 0x7f
}

/// Reads the next space-separated RFC 5424 header field at `at`; `None` for
/// `-`. Returns the index after the following space.
fn header_field(line: &str, at: usize, field: Field) -> Result<(Option<&str>, usize), Error> {
    let bytes = line.as_bytes();
    let rest = bytes.get(at..).unwrap_or_default();
    if rest.is_empty() {
        return Err(Error::new(ErrorKind::MissingField(field), at));
    }
    let len = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
    if len == 0 {
        return Err(Error::new(ErrorKind::EmptyField(field), at));
    }
    if let Some(bad) = rest[..len].iter().position(is_control) {
        return Err(Error::new(ErrorKind::LineBreak(field), at + bad));
    }
    let end = at + len;
    if end == bytes.len() {
        return Err(Error::new(ErrorKind::ExpectedSpace(field), end));
    }
    let value = line.get(at..end).filter(|v| *v != "-");
    Ok((value, end + 1))
}

fn parse_rfc5424_timestamp(bytes: &[u8], start: usize, end: usize) -> Result<DateTime, Error> {
    let invalid = Error::new(ErrorKind::InvalidTimestamp, start);
    let text = bytes.get(start..end).ok_or(invalid)?;
    let field = |at: usize, n: usize| digits(text, at, n).ok_or(invalid);
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(i, c)| text.get(i) != Some(&c))
        || !matches!(text.get(10), Some(b'T' | b't'))
    {
        return Err(invalid);
    }
    let mut t = DateTime {
        year: field(0, 4)? as i32,
        month: field(5, 2)? as u8,
        day: field(8, 2)? as u8,
        hour: field(11, 2)? as u8,
        minute: field(14, 2)? as u8,
        second: field(17, 2)? as u8,
        nanos: 0,
        offset_minutes: 0,
    };
    let mut at = 19;
    if text.get(at) == Some(&b'.') {
        (t.nanos, at) = fraction(text, at + 1).ok_or(invalid)?;
    }
    match text.get(at) {
        Some(b'Z' | b'z') => at += 1,
        Some(&sign @ (b'+' | b'-')) => {
            if text.get(at + 3) != Some(&b':') {
                return Err(invalid);
            }
            let minutes = (field(at + 1, 2)? * 60 + field(at + 4, 2)?) as i16;
            t.offset_minutes = if sign == b'-' { -minutes } else { minutes };
            at += 6;
        }
        _ => return Err(invalid),
    }
    if at != text.len() || !t.is_valid() {
        return Err(invalid);
    }
    Ok(t)
}

fn parse_rfc5424_after_priority(
    line: &str,
    priority: Priority,
    start: usize,
) -> Result<Rfc5424<'_>, Error> {
    let bytes = line.as_bytes();
    let mut at = start;
    let mut version: u16 = 0;
    while let Some(&b) = bytes.get(at).filter(|b| b.is_ascii_digit()) {
        if at - start == 3 {
            return Err(Error::new(ErrorKind::InvalidVersion, start));
        }
        version = version * 10 + u16::from(b - b'0');
        at += 1;
    }
    if version == 0 || bytes.get(start) == Some(&b'0') {
        return Err(Error::new(ErrorKind::InvalidVersion, start));
    }
    match bytes.get(at) {
        Some(b' ') => at += 1,
        None => return Err(Error::new(ErrorKind::MissingField(Field::Timestamp), at)),
        Some(_) => return Err(Error::new(ErrorKind::InvalidVersion, start)),
    }

    let (timestamp_text, next) = header_field(line, at, Field::Timestamp)?;
    let timestamp = match timestamp_text {
        None => None,
        Some(_) => Some(parse_rfc5424_timestamp(bytes, at, next - 1)?),
    };
    let (hostname, next) = header_field(line, next, Field::Hostname)?;
    let (app_name, next) = header_field(line, next, Field::AppName)?;
    let (proc_id, next) = header_field(line, next, Field::ProcId)?;
    let (msg_id, mut at) = header_field(line, next, Field::MsgId)?;

    let structured_data = match bytes.get(at) {
        Some(b'-') => {
            at += 1;
            StructuredData::default()
        }
        Some(b'[') => {
            let end = scan_structured_data(bytes, at)?;
            let sd = StructuredData {
                text: line.get(at..end).unwrap_or_default(),
            };
            at = end;
            sd
        }
        None => {
            return Err(Error::new(
                ErrorKind::MissingField(Field::StructuredData),
                at,
            ))
        }
        Some(_) => {
            return Err(Error::new(
                ErrorKind::StructuredData(SdProblem::Missing),
                at,
            ))
        }
    };
    let (bom, message) = match bytes.get(at) {
        None => (false, ""),
        Some(b' ') => {
            let message = line.get(at + 1..).unwrap_or_default();
            match message.strip_prefix('\u{feff}') {
                Some(message) => (true, message),
                None => (false, message),
            }
        }
        Some(_) => {
            return Err(Error::new(
                ErrorKind::ExpectedSpace(Field::StructuredData),
                at,
            ))
        }
    };
    Ok(Rfc5424 {
        priority,
        version,
        timestamp,
        hostname,
        app_name,
        proc_id,
        msg_id,
        structured_data,
        bom,
        message,
    })
}

// ---------------------------------------------------------------------------
// Writing

/// The CSV columns [`write_csv`] writes, in order. The first five are the AWS
/// `kinesis-firehose-syslog-to-csv` blueprint's; the others are empty when the
/// line has no such field.
pub const CSV_COLUMNS: [&str; 12] = [
    "timestamp",
    "hostname",
    "program",
    "processid",
    "message",
    "facility",
    "facility_code",
    "severity",
    "severity_code",
    "version",
    "msgid",
    "structured_data",
];

/// Formats `t` as RFC 3339 (as [`DateTime::write_rfc3339`] does) into `buf`,
/// without allocating; years outside 0 to 9999 take the slow path.
fn rfc3339<'b>(t: &DateTime, buf: &'b mut [u8; 40], spill: &'b mut String) -> &'b str {
    if !(0..=9999).contains(&t.year) {
        *spill = t.to_rfc3339();
        return spill;
    }
    fn put(buf: &mut [u8], at: usize, value: u32, width: usize) {
        let mut value = value;
        for i in (0..width).rev() {
            if let Some(slot) = buf.get_mut(at + i) {
                *slot = b'0' + (value % 10) as u8;
            }
            value /= 10;
        }
    }
    put(buf, 0, t.year as u32, 4);
    put(buf, 5, u32::from(t.month), 2);
    put(buf, 8, u32::from(t.day), 2);
    put(buf, 11, u32::from(t.hour), 2);
    put(buf, 14, u32::from(t.minute), 2);
    put(buf, 17, u32::from(t.second), 2);
    buf[4] = b'-';
    buf[7] = b'-';
    buf[10] = b'T';
    buf[13] = b':';
    buf[16] = b':';
    let mut len = 19;
    if t.nanos != 0 {
        buf[len] = b'.';
        let (value, width) = if t.nanos % 1_000_000 == 0 {
            (t.nanos / 1_000_000, 3)
        } else if t.nanos % 1000 == 0 {
            (t.nanos / 1000, 6)
        } else {
            (t.nanos, 9)
        };
        put(buf, len + 1, value, width);
        len += 1 + width;
    }
    if t.offset_minutes == 0 {
        buf[len] = b'Z';
        len += 1;
    } else {
        buf[len] = if t.offset_minutes < 0 { b'-' } else { b'+' };
        let abs = u32::from(t.offset_minutes.unsigned_abs());
        put(buf, len + 1, abs / 60, 2);
        buf[len + 3] = b':';
        put(buf, len + 4, abs % 60, 2);
        len += 6;
    }
    std::str::from_utf8(&buf[..len]).unwrap_or_default()
}

/// Writes `message` as one JSON object (no newline) at the end of `out`.
///
/// Members, in order: `timestamp` (RFC 3339 at the offset written, or UTC;
/// a classic RFC 3164 time gets its year from `received_millis`, see
/// [`Message::timestamp`]; `null` when nil), `hostname`, `program`, `processid`, `message` (strings, `null` when
/// absent); when the line has a priority, `facility` and `severity` (names)
/// and `facility_code` and `severity_code` (numbers); for RFC 5424 lines,
/// `version` (number), `msgid` (string or `null`) and `structured_data`
/// (`null`, or an object of SD-IDs to objects of parameters; a parameter
/// named more than once has an array of its values, and elements with the
/// same SD-ID are merged).
///
/// ```
/// use firehose_transform::formats::syslog;
/// let message = syslog::parse("<38>Jun 14 15:16:01 combo sshd[19939]: check pass; user unknown")?;
/// let mut out = Vec::new();
/// syslog::write_json(&mut out, &message, 1_750_000_000_000);
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     r#"{"timestamp":"2025-06-14T15:16:01Z","hostname":"combo","program":"sshd","processid":"19939","message":"check pass; user unknown","facility":"auth","facility_code":4,"severity":"info","severity_code":6}"#
/// );
/// # Ok::<(), syslog::Error>(())
/// ```
pub fn write_json(out: &mut Vec<u8>, message: &Message<'_>, received_millis: i64) {
    let mut obj = ObjectWriter::new(out);
    let mut buf = [0u8; 40];
    let mut spill = String::new();
    match message.timestamp(received_millis) {
        Some(t) => obj.str("timestamp", rfc3339(&t, &mut buf, &mut spill)),
        None => obj.null("timestamp"),
    }
    obj.opt_str("hostname", message.hostname());
    obj.opt_str("program", message.program());
    obj.opt_str("processid", message.process_id());
    obj.str("message", message.text());
    if let Some(priority) = message.priority() {
        obj.str("facility", priority.facility().name());
        obj.u64("facility_code", u64::from(priority.facility().code()));
        obj.str("severity", priority.severity().name());
        obj.u64("severity_code", u64::from(priority.severity().code()));
    }
    if let Message::Rfc5424(m) = message {
        obj.u64("version", u64::from(m.version));
        obj.opt_str("msgid", m.msg_id);
        if m.structured_data.is_empty() {
            obj.null("structured_data");
        } else {
            write_structured_data_json(obj.key("structured_data"), &m.structured_data);
        }
    }
    obj.finish();
}

/// Writes `message` as one RFC 4180 CSV row (no newline) at the end of `out`,
/// in the order of [`CSV_COLUMNS`]: the timestamp as in [`write_json`], the
/// text fields (empty when absent), the facility and severity names and codes
/// (empty without a priority), and for RFC 5424 the version, the msgid and
/// the structured data as written in the line.
///
/// ```
/// use firehose_transform::formats::syslog;
/// let message = syslog::parse("Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster, from 173.234.31.186")?;
/// let mut out = Vec::new();
/// syslog::write_csv(&mut out, &message, 1_481_500_000_000);
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     "2016-12-10T06:55:46Z,LabSZ,sshd,24200,\"Invalid user webmaster, from 173.234.31.186\",,,,,,,"
/// );
/// # Ok::<(), syslog::Error>(())
/// ```
pub fn write_csv(out: &mut Vec<u8>, message: &Message<'_>, received_millis: i64) {
    let mut row = RowWriter::new(out);
    let mut buf = [0u8; 40];
    let mut spill = String::new();
    match message.timestamp(received_millis) {
        Some(t) => row.field(rfc3339(&t, &mut buf, &mut spill)),
        None => row.field(""),
    }
    row.opt_field(message.hostname());
    row.opt_field(message.program());
    row.opt_field(message.process_id());
    row.field(message.text());
    match message.priority() {
        Some(priority) => {
            row.field(priority.facility().name());
            row.u64(u64::from(priority.facility().code()));
            row.field(priority.severity().name());
            row.u64(u64::from(priority.severity().code()));
        }
        None => (0..4).for_each(|_| row.field("")),
    }
    match message {
        Message::Rfc5424(m) => {
            row.u64(u64::from(m.version));
            row.opt_field(m.msg_id);
            row.field(m.structured_data.as_str());
        }
        Message::Rfc3164(_) => (0..3).for_each(|_| row.field("")),
    }
    row.finish();
}

/// The most SD-IDs, and parameters per element, that the streaming JSON
/// writer checks for repeats on the stack; beyond, the grouping writer runs.
const STREAMING_LIMIT: usize = 32;

/// Remembers up to [`STREAMING_LIMIT`] names; `false` when `name` was seen
/// before or there is no room left.
fn remember_distinct<'a>(
    seen: &mut [&'a str; STREAMING_LIMIT],
    count: &mut usize,
    name: &'a str,
) -> bool {
    let Some(known) = seen.get(..*count) else {
        return false;
    };
    if known.contains(&name) || *count == STREAMING_LIMIT {
        return false;
    }
    seen[*count] = name;
    *count += 1;
    true
}

fn write_value(out: &mut Vec<u8>, value: ParamValue<'_>) {
    out.push(b'"');
    value
        .chunks()
        .for_each(|chunk| write_str_contents(out, chunk));
    out.push(b'"');
}

/// Writes the structured data object at the end of `out`.
fn write_structured_data_json(out: &mut Vec<u8>, sd: &StructuredData<'_>) {
    let start = out.len();
    if write_structured_data_streaming(out, sd) {
        return;
    }
    // Repeated SD-IDs or parameter names (or very many): start again, grouping.
    out.truncate(start);
    write_structured_data_grouped(out, sd);
}

/// Writes the elements in one pass straight from the line, the usual case;
/// stops and returns `false` at a repeated SD-ID or parameter name.
fn write_structured_data_streaming(out: &mut Vec<u8>, sd: &StructuredData<'_>) -> bool {
    let mut obj = ObjectWriter::new(out);
    let (mut ids, mut id_count) = ([""; STREAMING_LIMIT], 0);
    for element in sd.elements() {
        if !remember_distinct(&mut ids, &mut id_count, element.id) {
            return false;
        }
        let mut params = obj.object(element.id);
        let (mut names, mut name_count) = ([""; STREAMING_LIMIT], 0);
        for param in element.params() {
            if !remember_distinct(&mut names, &mut name_count, param.name) {
                return false;
            }
            write_value(params.key(param.name), param.value);
        }
        params.finish();
    }
    obj.finish();
    true
}

/// Writes the elements grouped: one member per SD-ID (elements with the same
/// SD-ID merged), one per parameter name (an array when it repeats), in
/// order of first appearance.
fn write_structured_data_grouped(out: &mut Vec<u8>, sd: &StructuredData<'_>) {
    let mut obj = ObjectWriter::new(out);
    let elements = sd.elements();
    type Group<'a> = (&'a str, Vec<(&'a str, Vec<ParamValue<'a>>)>);
    let mut groups: Vec<Group<'_>> = Vec::new();
    let mut group_index: HashMap<&str, usize> = HashMap::new();
    let mut param_index: HashMap<(usize, &str), usize> = HashMap::new();
    for element in elements {
        let group = *group_index.entry(element.id).or_insert_with(|| {
            groups.push((element.id, Vec::new()));
            groups.len() - 1
        });
        let Some((_, params)) = groups.get_mut(group) else {
            continue;
        };
        for param in element.params() {
            let slot = *param_index.entry((group, param.name)).or_insert_with(|| {
                params.push((param.name, Vec::new()));
                params.len() - 1
            });
            if let Some((_, values)) = params.get_mut(slot) {
                values.push(param.value);
            }
        }
    }
    for (id, params) in groups {
        let mut members = obj.object(id);
        for (name, values) in params {
            let out = members.key(name);
            if let [value] = values.as_slice() {
                write_value(out, *value);
                continue;
            }
            out.push(b'[');
            for (i, value) in values.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, value);
            }
            out.push(b']');
        }
        members.finish();
    }
    obj.finish();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc3164(line: &str) -> Rfc3164<'_> {
        match parse(line) {
            Ok(Message::Rfc3164(m)) => m,
            other => panic!("{line:?} is not RFC 3164: {other:?}"),
        }
    }

    fn rfc5424(line: &str) -> Rfc5424<'_> {
        match parse(line) {
            Ok(Message::Rfc5424(m)) => m,
            other => panic!("{line:?} is not RFC 5424: {other:?}"),
        }
    }

    fn json(line: &str, received_millis: i64) -> serde_json::Value {
        let mut out = Vec::new();
        write_json(&mut out, &parse(line).unwrap(), received_millis);
        serde_json::from_slice(&out).unwrap()
    }

    fn sd_pairs(sd: &StructuredData<'_>) -> Vec<(String, Vec<(String, String)>)> {
        sd.elements()
            .map(|e| {
                let params = e
                    .params()
                    .map(|p| (p.name.to_string(), p.value.to_string()))
                    .collect();
                (e.id.to_string(), params)
            })
            .collect()
    }

    const JAN_1_2027: i64 = 1_798_761_600_000;

    #[test]
    fn rfc3164_without_priority_reads_every_field() {
        let m = rfc3164(
            "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186",
        );
        assert_eq!(m.priority, None);
        assert_eq!(m.timestamp, Rfc3164Timestamp::new(12, 10, 6, 55, 46));
        assert_eq!(m.hostname, Some("LabSZ"));
        assert_eq!(m.program, Some("sshd"));
        assert_eq!(m.pid, Some("24200"));
        assert_eq!(m.message, "Invalid user webmaster from 173.234.31.186");
    }

    #[test]
    fn rfc3164_priority_gives_facility_and_severity() {
        let m =
            rfc3164("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8");
        let priority = m.priority.unwrap();
        assert_eq!(priority.value(), 34);
        assert_eq!(priority.facility(), Facility::Auth);
        assert_eq!(priority.severity(), Severity::Crit);
        assert_eq!((m.program, m.pid), (Some("su"), None));
        assert_eq!(m.message, "'su root' failed for lonvick on /dev/pts/8");
    }

    #[test]
    fn priority_out_of_range_or_malformed_is_an_error() {
        for line in [
            "<192>Oct 11 22:14:15 h p: m",
            "<>Oct 11 22:14:15 h p: m",
            "<1234>Oct 11 22:14:15 h p: m",
            "<34 Oct",
        ] {
            assert_eq!(
                parse(line).unwrap_err().kind(),
                ErrorKind::InvalidPriority,
                "{line}"
            );
        }
        assert_eq!(
            rfc3164("<191>Oct 11 22:14:15 h p: m").priority,
            Priority::new(191)
        );
        assert_eq!(
            rfc3164("<0>Oct 11 22:14:15 h p: m")
                .priority
                .unwrap()
                .facility(),
            Facility::Kern
        );
    }

    #[test]
    fn every_priority_names_its_facility_and_severity() {
        let p = Priority::new(191).unwrap();
        assert_eq!(
            (p.facility().name(), p.severity().name()),
            ("local7", "debug")
        );
        for value in 0..=191u8 {
            let p = Priority::new(value).unwrap();
            assert_eq!(Priority::from_parts(p.facility(), p.severity()), p);
            assert_eq!(p.facility().code() * 8 + p.severity().code(), value);
        }
    }

    #[test]
    fn tag_with_parentheses_and_space_padded_day() {
        let m = rfc3164(
            "Jul  3 04:08:03 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 ",
        );
        assert_eq!((m.timestamp.month, m.timestamp.day), (7, 3));
        assert_eq!((m.program, m.pid), (Some("sshd(pam_unix)"), Some("19939")));
        assert_eq!(m.message, "authentication failure; logname= uid=0 ");
        assert_eq!(rfc3164("Jul 03 04:08:03 combo kernel: x").timestamp.day, 3);
    }

    #[test]
    fn first_word_without_colon_or_pid_is_message_not_program() {
        let m = rfc3164("Jun 19 04:09:11 combo syslogd 1.4.1: restart.");
        assert_eq!((m.hostname, m.program, m.pid), (Some("combo"), None, None));
        assert_eq!(m.message, "syslogd 1.4.1: restart.");
        let m = rfc3164("Jul  7 08:06:15 combo  -- root[2421]: ROOT LOGIN ON tty2");
        assert_eq!((m.hostname, m.program), (Some("combo"), None));
        assert_eq!(m.message, "-- root[2421]: ROOT LOGIN ON tty2");
        let m = rfc3164("<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!");
        assert_eq!(
            (m.hostname, m.program, m.message),
            (Some("10.0.0.99"), None, "Use the BFG!")
        );
    }

    #[test]
    fn tag_with_pid_needs_no_colon() {
        let m = rfc3164("Jun 19 04:09:11 host cron[12] job done");
        assert_eq!(
            (m.program, m.pid, m.message),
            (Some("cron"), Some("12"), "job done")
        );
    }

    #[test]
    fn missing_hostname_is_recognised_by_the_tag_colon() {
        let m = rfc3164("<13>Oct 11 22:14:15 su[99]: hello");
        assert_eq!(
            (m.hostname, m.program, m.pid, m.message),
            (None, Some("su"), Some("99"), "hello")
        );
        let m = rfc3164("Oct 11 22:14:15 kernel: [ 0.000000] Linux version");
        assert_eq!(
            (m.hostname, m.program, m.message),
            (None, Some("kernel"), "[ 0.000000] Linux version")
        );
    }

    #[test]
    fn aws_style_dotted_priority_after_the_timestamp() {
        let m = rfc3164("Oct 11 22:14:15 <4.2> host su: x");
        assert_eq!(
            m.priority,
            Some(Priority::from_parts(Facility::Auth, Severity::Crit))
        );
        assert_eq!(m.hostname, Some("host"));
        // An out-of-range pair is not a priority: it stays in the line.
        assert_eq!(
            rfc3164("Oct 11 22:14:15 <40.2> host su: x").hostname,
            Some("<40.2>")
        );
    }

    #[test]
    fn rfc3339_timestamps_in_rfc3164_lines_keep_year_and_offset() {
        for line in [
            "2026-11-22T04:30:00.123456+01:00 web-01 systemd[1]: Started Session 7.",
            "<30>2026-11-22T04:30:00.123456+01:00 web-01 systemd[1]: Started Session 7.",
        ] {
            let m = rfc3164(line);
            assert_eq!(
                (m.timestamp.year, m.timestamp.offset_minutes),
                (Some(2026), Some(60))
            );
            assert_eq!(
                (m.hostname, m.program, m.pid),
                (Some("web-01"), Some("systemd"), Some("1"))
            );
            assert_eq!(m.message, "Started Session 7.");
            // The year is written: the reference instant does not change it.
            let t = m.timestamp.nearest_to(0).unwrap();
            assert_eq!(t.to_rfc3339(), "2026-11-22T04:30:00.123456+01:00");
        }
        assert_eq!(
            parse("2026-13-22T04:30:00Z h a: m").unwrap_err().kind(),
            ErrorKind::InvalidTimestamp
        );
        assert_eq!(
            parse("<30>2026-11-22 04:30:00 h a: m").unwrap_err().kind(),
            ErrorKind::InvalidTimestamp
        );
    }

    #[test]
    fn fractional_seconds_in_rfc3164() {
        let m = rfc3164("Oct 11 22:14:15.123 host su: x");
        assert_eq!(m.timestamp.nanos, 123_000_000);
        assert_eq!(m.timestamp.second, 15);
    }

    #[test]
    fn impossible_dates_and_times_are_rejected() {
        for line in [
            "Feb 30 22:14:15 h p: m",
            "Apr 31 22:14:15 h p: m",
            "Oct  0 22:14:15 h p: m",
            "Oct 11 24:00:00 h p: m",
            "Oct 11 22:60:00 h p: m",
            "Oct 11 22:14:61 h p: m",
            "Octo 11 22:14:15 h p: m",
            "Oct 11 22-14-15 h p: m",
            "Oct 11 22:14:15host p: m",
        ] {
            assert_eq!(
                parse(line).unwrap_err().kind(),
                ErrorKind::InvalidTimestamp,
                "{line}"
            );
        }
        assert_eq!(rfc3164("Feb 29 00:00:00 h p: m").timestamp.day, 29);
    }

    #[test]
    fn empty_and_truncated_lines_say_where() {
        assert_eq!(parse("").unwrap_err().kind(), ErrorKind::Empty);
        assert_eq!(parse("\r\n").unwrap_err().kind(), ErrorKind::Empty);
        let error = parse("Oct 11 22:14:15").unwrap_err();
        assert_eq!(
            (error.kind(), error.offset()),
            (ErrorKind::MissingHostname, 15)
        );
        let error = parse("Oct 11 22:14:15   ").unwrap_err();
        assert_eq!(
            (error.kind(), error.offset()),
            (ErrorKind::MissingHostname, 18)
        );
    }

    #[test]
    fn host_only_line_has_an_empty_message() {
        let m = rfc3164("Oct 11 22:14:15 host");
        assert_eq!((m.hostname, m.program, m.message), (Some("host"), None, ""));
    }

    #[test]
    fn multi_line_message_runs_to_the_end_less_one_newline() {
        let m = rfc3164("Oct 11 22:14:15 host app[1]: first\nsecond\r\nthird\r\n");
        assert_eq!(m.message, "first\nsecond\r\nthird");
        let m = rfc5424("<14>1 - - - - - - line one\nline two\n");
        assert_eq!(m.message, "line one\nline two");
        // Only one newline is the record's own.
        assert_eq!(rfc3164("Oct 11 22:14:15 host app: x\n\n").message, "x\n");
    }

    #[test]
    fn year_is_the_one_nearest_the_reception() {
        let t = rfc3164("Dec 31 23:59:59 h p: m").timestamp;
        assert_eq!(
            t.nearest_to(JAN_1_2027).unwrap().to_rfc3339(),
            "2026-12-31T23:59:59Z"
        );
        let t = rfc3164("Jan  1 00:00:01 h p: m").timestamp;
        assert_eq!(
            t.nearest_to(JAN_1_2027 - 5_000).unwrap().to_rfc3339(),
            "2027-01-01T00:00:01Z"
        );
        assert_eq!(t.nearest_to(JAN_1_2027 + 5_000).unwrap().year, 2027);
        let t = rfc3164("Dec 20 10:00:00 h p: m").timestamp;
        assert_eq!(
            t.nearest_to(JAN_1_2027 + 90 * 86_400_000).unwrap().year,
            2026
        );
    }

    #[test]
    fn year_is_never_far_in_the_future() {
        // Nearer in the future (June 2027) than in the past (June 2026), but a
        // line is not logged five months ahead: it is from the June before.
        let t = rfc3164("Jun 14 15:16:01 h p: m").timestamp;
        assert_eq!(t.nearest_to(JAN_1_2027).unwrap().year, 2026);
        // Within the tolerance, the future wins.
        let t = rfc3164("Jan  6 00:00:00 h p: m").timestamp;
        assert_eq!(t.nearest_to(JAN_1_2027 - 86_400_000).unwrap().year, 2027);
        let t = rfc3164("Jan  9 00:00:00 h p: m").timestamp;
        assert_eq!(t.nearest_to(JAN_1_2027 - 86_400_000).unwrap().year, 2026);
    }

    #[test]
    fn february_29_goes_to_the_latest_leap_year() {
        let t = rfc3164("Feb 29 12:00:00 h p: m").timestamp;
        let march_2027 = JAN_1_2027 + 70 * 86_400_000;
        assert_eq!(t.nearest_to(march_2027).unwrap().year, 2024);
        let march_2028 = 1_835_481_600_000;
        assert_eq!(t.nearest_to(march_2028).unwrap().year, 2028);
        assert_eq!(t.with_year(2026), None);
    }

    #[test]
    fn rfc5424_with_every_field() {
        let m = rfc5424(
            "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1234 ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] \u{feff}An application event log entry...",
        );
        assert_eq!(m.priority.value(), 165);
        assert_eq!(m.version, 1);
        assert_eq!(
            m.timestamp.unwrap().to_rfc3339(),
            "2003-10-11T22:14:15.003Z"
        );
        assert_eq!(m.hostname, Some("mymachine.example.com"));
        assert_eq!(m.app_name, Some("evntslog"));
        assert_eq!(m.proc_id, Some("1234"));
        assert_eq!(m.msg_id, Some("ID47"));
        assert!(m.bom);
        assert_eq!(m.message, "An application event log entry...");
        assert_eq!(
            sd_pairs(&m.structured_data),
            [(
                "exampleSDID@32473".to_string(),
                vec![
                    ("iut".to_string(), "3".to_string()),
                    ("eventSource".to_string(), "Application".to_string()),
                    ("eventID".to_string(), "1011".to_string())
                ]
            )]
        );
    }

    #[test]
    fn rfc5424_nil_values_are_none() {
        let m = rfc5424("<0>1 - - - - - -");
        assert_eq!(
            (m.timestamp, m.hostname, m.app_name, m.proc_id, m.msg_id),
            (None, None, None, None, None)
        );
        assert!(m.structured_data.is_empty());
        assert_eq!((m.bom, m.message), (false, ""));
        let value = json("<0>1 - - - - - -", 0);
        assert!(
            value["timestamp"].is_null()
                && value["structured_data"].is_null()
                && value["msgid"].is_null()
        );
        assert_eq!(value["message"], "");
    }

    #[test]
    fn rfc5424_timestamps_keep_fraction_and_offset() {
        let m = rfc5424("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.");
        let t = m.timestamp.unwrap();
        assert_eq!((t.nanos, t.offset_minutes), (3_000, -420));
        assert_eq!(t.to_rfc3339(), "2003-08-24T05:14:15.000003-07:00");
        assert_eq!(
            rfc5424("<1>1 1985-04-12T23:20:50.52Z h a p m -")
                .timestamp
                .unwrap()
                .nanos,
            520_000_000
        );
        assert_eq!(
            rfc5424("<1>1 1985-04-12T19:20:50.52+05:30 h a p m -")
                .timestamp
                .unwrap()
                .offset_minutes,
            330
        );
        for bad in [
            "<1>1 2003-10-11 h a p m -",
            "<1>1 2003-10-11T22:14:15 h a p m -",
            "<1>1 2003-02-30T22:14:15Z h a p m -",
            "<1>1 2003-10-11T22:14:15.Z h a p m -",
            "<1>1 2003-10-11T22:14:15+0700 h a p m -",
        ] {
            assert_eq!(
                parse(bad).unwrap_err().kind(),
                ErrorKind::InvalidTimestamp,
                "{bad}"
            );
        }
    }

    #[test]
    fn rfc5424_version_is_one_to_three_digits() {
        assert_eq!(rfc5424("<1>999 - - - - - -").version, 999);
        for bad in [
            "<1>1000 - - - - - -",
            "<1>01 - - - - - -",
            "<1>1x - - - - - -",
        ] {
            assert_eq!(
                parse(bad).unwrap_err().kind(),
                ErrorKind::InvalidVersion,
                "{bad}"
            );
        }
    }

    #[test]
    fn rfc5424_missing_or_empty_fields_name_the_field() {
        let error = parse("<1>1 - host app").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ExpectedSpace(Field::AppName));
        assert_eq!(
            error.to_string(),
            "expected a space after the app-name at byte 15"
        );
        let error = parse("<1>1 - host  - - -").unwrap_err();
        assert_eq!(
            (error.kind(), error.offset()),
            (ErrorKind::EmptyField(Field::AppName), 12)
        );
        let error = parse("<1>1 - h a p m ").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::MissingField(Field::StructuredData));
        assert_eq!(
            parse("<1>1 - h a p m x").unwrap_err().kind(),
            ErrorKind::StructuredData(SdProblem::Missing)
        );
        assert_eq!(
            parse("<1>1 - h a p m -x").unwrap_err().kind(),
            ErrorKind::ExpectedSpace(Field::StructuredData)
        );
    }

    #[test]
    fn sd_values_unescape_quote_backslash_and_bracket() {
        let m = rfc5424(r#"<1>1 - - - - - [a@1 v="say \"hi\" \\ [x\] \n" w=""] msg"#);
        let params: Vec<_> = m
            .structured_data
            .elements()
            .next()
            .unwrap()
            .params()
            .collect();
        assert_eq!(params[0].value.raw(), r#"say \"hi\" \\ [x\] \n"#);
        assert_eq!(params[0].value.unescape(), r#"say "hi" \ [x] \n"#);
        assert_eq!(params[1].value.unescape(), "");
        assert_eq!(m.message, "msg");
        let value = json(r#"<1>1 - - - - - [a@1 v="say \"hi\" \\ [x\] \n"] msg"#, 0);
        assert_eq!(value["structured_data"]["a@1"]["v"], r#"say "hi" \ [x] \n"#);
    }

    #[test]
    fn sd_unescaped_bracket_inside_a_value_does_not_end_the_element() {
        let m = rfc5424(r#"<1>1 - - - - - [a v="x]y"][b] m"#);
        assert_eq!(
            sd_pairs(&m.structured_data),
            [
                ("a".into(), vec![("v".into(), "x]y".into())]),
                ("b".into(), vec![])
            ]
        );
    }

    #[test]
    fn malformed_structured_data_says_what() {
        let cases = [
            (r#"<1>1 - - - - - [] m"#, SdProblem::EmptyId),
            (r#"<1>1 - - - - - [a x] m"#, SdProblem::ExpectedEquals),
            (r#"<1>1 - - - - - [a x=1] m"#, SdProblem::ExpectedQuote),
            (r#"<1>1 - - - - - [a x="1] m"#, SdProblem::UnterminatedValue),
            (
                r#"<1>1 - - - - - [a x="1"y="2"] m"#,
                SdProblem::ExpectedSpace,
            ),
            (r#"<1>1 - - - - - [a x="1""#, SdProblem::Unterminated),
            (r#"<1>1 - - - - - [a =""] m"#, SdProblem::EmptyParamName),
            (r#"<1>1 - - - - - [a"b] m"#, SdProblem::InvalidId),
        ];
        for (line, problem) in cases {
            assert_eq!(
                parse(line).unwrap_err().kind(),
                ErrorKind::StructuredData(problem),
                "{line}"
            );
        }
        assert_eq!(
            parse(r#"<1>1 - - - - - [a x="1] m"#)
                .unwrap_err()
                .to_string(),
            "invalid structured data: parameter value without its closing '\"' at byte 21"
        );
    }

    #[test]
    fn bom_is_removed_only_at_the_start_of_the_message() {
        let m = rfc5424("<1>1 - - - - - - \u{feff}hello \u{feff}");
        assert!(m.bom);
        assert_eq!(m.message, "hello \u{feff}");
        let m = rfc5424("<1>1 - - - - - - hello");
        assert!(!m.bom);
    }

    #[test]
    fn json_for_rfc3164_keeps_the_aws_names() {
        let value = json(
            "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown",
            JAN_1_2027,
        );
        assert_eq!(
            value,
            serde_json::json!({
                "timestamp": "2026-06-14T15:16:01Z",
                "hostname": "combo",
                "program": "sshd(pam_unix)",
                "processid": "19939",
                "message": "check pass; user unknown",
            })
        );
        let value = json("Jun 14 15:16:01 combo kernel: x", JAN_1_2027);
        assert!(value["processid"].is_null());
        assert!(value.get("facility").is_none() && value.get("version").is_none());
    }

    #[test]
    fn json_merges_repeated_sd_ids_and_collects_repeated_names() {
        let value = json(
            r#"<1>1 - - - - - [a x="1" y="2" x="3"][b z="4"][a y="5"]"#,
            0,
        );
        assert_eq!(
            value["structured_data"],
            serde_json::json!({"a": {"x": ["1", "3"], "y": ["2", "5"]}, "b": {"z": "4"}})
        );
        let mut out = Vec::new();
        write_json(
            &mut out,
            &parse(r#"<1>1 - - - - - [b z="4"][a y="5"]"#).unwrap(),
            0,
        );
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.ends_with(r#""structured_data":{"b":{"z":"4"},"a":{"y":"5"}}}"#),
            "{text}"
        );
    }

    #[test]
    fn json_of_many_distinct_params_keeps_their_order() {
        // More names than the streaming writer tracks: the grouping writer
        // takes over and writes the same object.
        let mut line = String::from("<1>1 - - - - - [a");
        for i in 0..40 {
            line.push_str(&format!(" p{i}=\"{i}\""));
        }
        line.push(']');
        let mut out = Vec::new();
        write_json(&mut out, &parse(&line).unwrap(), 0);
        let text = String::from_utf8(out).unwrap();
        let expected: Vec<String> = (0..40).map(|i| format!("\"p{i}\":\"{i}\"")).collect();
        assert!(
            text.ends_with(&format!(
                "\"structured_data\":{{\"a\":{{{}}}}}}}",
                expected.join(",")
            )),
            "{text}"
        );
    }

    #[test]
    fn json_of_many_duplicated_params_stays_linear() {
        let mut line = String::from("<1>1 - - - - - [a");
        for i in 0..20_000 {
            line.push_str(&format!(" p{}=\"{i}\"", i % 100));
        }
        line.push(']');
        let value = json(&line, 0);
        assert_eq!(
            value["structured_data"]["a"]["p7"]
                .as_array()
                .unwrap()
                .len(),
            200
        );
    }

    #[test]
    fn csv_has_the_aws_columns_first_and_quotes_when_needed() {
        let mut out = Vec::new();
        let m = parse(
            "<165>1 2003-10-11T22:14:15.003Z host app 12 ID47 [a x=\"1,2\"] one, \"two\"\nthree",
        )
        .unwrap();
        write_csv(&mut out, &m, 0);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "2003-10-11T22:14:15.003Z,host,app,12,\"one, \"\"two\"\"\nthree\",local4,20,notice,5,1,ID47,\"[a x=\"\"1,2\"\"]\""
        );
        assert_eq!(
            CSV_COLUMNS[..5],
            ["timestamp", "hostname", "program", "processid", "message"]
        );
    }

    #[test]
    fn rfc3339_text_matches_the_shared_formatter() {
        let mut buf = [0u8; 40];
        let mut spill = String::new();
        for t in [
            DateTime {
                year: 2003,
                month: 8,
                day: 24,
                hour: 5,
                minute: 14,
                second: 15,
                nanos: 3_000,
                offset_minutes: -420,
            },
            DateTime {
                year: 1,
                month: 1,
                day: 1,
                hour: 0,
                minute: 0,
                second: 60,
                nanos: 1,
                offset_minutes: 330,
            },
            DateTime {
                year: 12345,
                month: 1,
                day: 1,
                hour: 0,
                minute: 0,
                second: 0,
                nanos: 0,
                offset_minutes: 0,
            },
        ] {
            assert_eq!(rfc3339(&t, &mut buf, &mut spill), t.to_rfc3339());
        }
    }
}
