//! Apache and NCSA access log lines, in the Common and Combined Log Formats.
//!
//! [`parse`] reads one line into an [`AccessLog`] that borrows from it: no field
//! is copied unless it holds backslash escapes, which are then decoded into an
//! owned string. [`write_json`] and [`write_csv`] write a parsed line as the JSON
//! object and the CSV row of the `apachelog-to-json` and `apachelog-to-csv`
//! blueprints; nothing here knows about Firehose.
//!
//! ```
//! use firehose_transform::formats::apache::{self, Format};
//!
//! let line = r#"2001:db8::1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#;
//! let log = apache::parse(line).unwrap();
//! assert_eq!(log.host, "2001:db8::1");
//! assert_eq!(log.ident, None); // `-`
//! assert_eq!(log.authuser.as_deref(), Some("frank"));
//! assert_eq!(log.timestamp.to_utc().to_rfc3339(), "2000-10-10T20:55:36Z");
//! assert_eq!(log.verb(), Some("GET"));
//! assert_eq!(log.status, Some(200));
//! assert_eq!(log.bytes, 2326);
//! assert_eq!(log.format, Format::Combined);
//! assert_eq!(log.agent.as_deref(), Some("Mozilla/4.08 [en] (Win98; I ;Nav)"));
//!
//! let mut json = Vec::new();
//! apache::write_json(&log, &mut json);
//! assert_eq!(
//!     String::from_utf8(json).unwrap(),
//!     concat!(
//!         r#"{"host":"2001:db8::1","ident":"-","authuser":"frank","@timestamp":"2000-10-10T13:55:36-07:00","#,
//!         r#""request":"GET /apache_pb.gif HTTP/1.0","response":200,"bytes":2326,"verb":"GET","#,
//!         r#""timezone":"-0700","@timestamp_utc":"2000-10-10T20:55:36Z","#,
//!         r#""referrer":"http://www.example.com/start.html","agent":"Mozilla/4.08 [en] (Win98; I ;Nav)"}"#,
//!     )
//! );
//! ```
//!
//! # The line
//!
//! `host ident authuser [timestamp] "request" status bytes`, then for the
//! Combined format ` "referrer" "user agent"`. Specifically:
//!
//! - **host**: an IPv4 or IPv6 address or a hostname (letters, digits, `.`, `:`,
//!   `-`, `_`, `%`, and `[` `]` around an IPv6 address); [`AccessLog::ip`] parses it.
//! - **`-`** means "no value" in every field. `ident`, `authuser`, `referrer` and
//!   `agent` are then `None`; a `-` request is kept as the request text `-`; a `-`
//!   status is `None`. A `-` byte count is **0**: Apache's `%b` writes `-` exactly
//!   when no body bytes were sent (`%B` writes `0` for the same response).
//! - **timestamp**: `[10/Oct/2000:13:55:36 -0700]` exactly as Apache's `%t` writes
//!   it (two-digit day, English month abbreviation, four-digit year, numeric UTC
//!   offset). A date that does not exist (`31/Feb`) or an offset with more than 59
//!   minutes is an error, not a guess.
//! - **quoted fields** (request, referrer, user agent): Apache escapes `"` as `\"`,
//!   `\` as `\\`, control characters as `\n`, `\t`, ... and other bytes as
//!   `\xhh`; nginx writes `\xHH` for `"` and non-ASCII bytes. These are decoded:
//!   a run of `\xhh` escapes becomes the text it spells when that is valid UTF-8,
//!   and stays as written otherwise (so `\xe4\xe5` from a Windows-1251 referrer
//!   is kept verbatim rather than turned into replacement characters). An unknown
//!   escape keeps its backslash. An empty field `""` is `Some("")`. A `"` that is
//!   not escaped ends the field only when a space or the end of the line follows
//!   it, so a stray quote from a server that does not escape stays in the field.
//! - **request**: kept whole in [`AccessLog::request`]; [`AccessLog::request_line`]
//!   splits it into method, path and protocol when it is `METHOD PATH PROTOCOL`
//!   (or `METHOD PATH`, an HTTP/0.9 request). Anything else (`-`, an empty
//!   request, a TLS handshake sent to the HTTP port) has no method.
//! - **end of line**: one trailing `\n`, `\r\n` or `\r` is ignored. Fields after
//!   the user agent (such as `%D` added by a custom `LogFormat`), or after the byte
//!   count when they do not start with `"`, are ignored; a line break inside the
//!   line is an error (one line per record). A user agent without its closing
//!   quote (a line cut short by a shipper's line-length limit) keeps the rest of
//!   the line; a request or referrer without one is an error.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::ops::Range;

use crate::formats::csv::RowWriter;
use crate::formats::json::ObjectWriter;
use crate::formats::timestamp::{month_from_abbrev, DateTime};

/// Which of the two standard layouts a line has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Common Log Format: `host ident authuser [time] "request" status bytes`.
    Common,
    /// Combined Log Format: Common plus `"referrer" "user agent"`.
    Combined,
}

/// One parsed access log line, borrowing from the line's text.
///
/// Text fields are `Cow`: borrowed from the line, owned only when the field held
/// backslash escapes (or, from [`parse_lossy`], invalid UTF-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLog<'a> {
    /// The client: an IPv4 or IPv6 address or a hostname, as written.
    pub host: &'a str,
    /// The remote logname from identd (`%l`); `None` for `-`.
    pub ident: Option<Cow<'a, str>>,
    /// The authenticated user (`%u`); `None` for `-`.
    pub authuser: Option<Cow<'a, str>>,
    /// When the request was received, with the log's own UTC offset.
    pub timestamp: DateTime,
    /// The timestamp as written between the brackets: `10/Oct/2000:13:55:36 -0700`.
    pub timestamp_text: &'a str,
    /// The request line as written (escapes decoded): `GET /a.gif HTTP/1.0`, `-`, or anything.
    pub request: Cow<'a, str>,
    /// The final status code (`%>s`); `None` for `-`.
    pub status: Option<u16>,
    /// Response body bytes (`%b`); 0 when written as `-`, which is how `%b` says "no body".
    pub bytes: u64,
    /// The `Referer` header (Combined format); `None` for `-` and in the Common format.
    pub referrer: Option<Cow<'a, str>>,
    /// The `User-Agent` header (Combined format); `None` for `-` and in the Common format.
    pub agent: Option<Cow<'a, str>>,
    /// Whether the line had the referrer and user agent fields.
    pub format: Format,
}

/// A request line split into its parts; see [`parse_request_line`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLine<'r> {
    /// The method (`GET`, `POST`, ...): an HTTP token.
    pub method: &'r str,
    /// The request target: `/index.html?q=1`, `*`, `example.com:443`, ...
    pub path: &'r str,
    /// `HTTP/1.1` and the like; `None` for an HTTP/0.9 request (`GET /`).
    pub protocol: Option<&'r str>,
}

impl<'a> AccessLog<'a> {
    /// The request split into method, path and protocol, or `None` when the
    /// request is not a request line (see [`parse_request_line`]).
    pub fn request_line(&self) -> Option<RequestLine<'_>> {
        parse_request_line(&self.request)
    }

    /// The request's method (`GET`, ...), when the request is a request line.
    /// This is the AWS blueprints' `verb`.
    pub fn verb(&self) -> Option<&str> {
        self.request_line().map(|line| line.method)
    }

    /// The UTC offset as written: `-0700`. (The AWS blueprints' `timezone`.)
    pub fn timezone(&self) -> &'a str {
        // parse() checked the layout: the offset is the last five bytes, all ASCII.
        self.timestamp_text
            .get(self.timestamp_text.len().saturating_sub(5)..)
            .unwrap_or_default()
    }

    /// The host as an IP address, when it is one (IPv4, IPv6, or IPv6 in brackets).
    ///
    /// ```
    /// let line = r#"[2001:db8::1] - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 -"#;
    /// let log = firehose_transform::formats::apache::parse(line).unwrap();
    /// assert_eq!(log.ip(), Some("2001:db8::1".parse().unwrap()));
    /// ```
    pub fn ip(&self) -> Option<IpAddr> {
        let host = self.host;
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        host.parse().ok()
    }
}

/// Splits a request line into method, path and protocol.
///
/// The method is the first word and must be an HTTP token; the protocol is the
/// last word when it starts with `HTTP/`, and the path is everything between
/// (so a path with an unescaped space survives). Without a protocol, the rest
/// must be one word (an HTTP/0.9 request). Anything else is `None`.
///
/// ```
/// use firehose_transform::formats::apache::parse_request_line;
///
/// let line = parse_request_line("GET /a b.html HTTP/1.1").unwrap();
/// assert_eq!((line.method, line.path, line.protocol), ("GET", "/a b.html", Some("HTTP/1.1")));
/// assert_eq!(parse_request_line("GET /").unwrap().protocol, None);
/// assert_eq!(parse_request_line("-"), None);
/// assert_eq!(parse_request_line("\u{16}\u{3}\u{1} junk"), None);
/// ```
pub fn parse_request_line(request: &str) -> Option<RequestLine<'_>> {
    let (method, rest) = request.split_once(' ')?;
    if method.is_empty() || !method.bytes().all(is_token_byte) || rest.is_empty() {
        return None;
    }
    if let Some((path, protocol)) = rest.rsplit_once(' ') {
        if protocol.starts_with("HTTP/") && !path.is_empty() {
            return Some(RequestLine {
                method,
                path,
                protocol: Some(protocol),
            });
        }
        return None;
    }
    Some(RequestLine {
        method,
        path: rest,
        protocol: None,
    })
}

/// RFC 9110 `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// A field of the line, as named in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// The client host.
    Host,
    /// The identd logname.
    Ident,
    /// The authenticated user.
    Authuser,
    /// The bracketed timestamp.
    Timestamp,
    /// The quoted request line.
    Request,
    /// The status code.
    Status,
    /// The byte count.
    Bytes,
    /// The quoted referrer.
    Referrer,
    /// The quoted user agent.
    Agent,
}

impl Field {
    /// The field's name in messages: `host`, `status code`, `user agent`, ...
    pub fn name(self) -> &'static str {
        match self {
            Field::Host => "host",
            Field::Ident => "ident",
            Field::Authuser => "authuser",
            Field::Timestamp => "timestamp",
            Field::Request => "request",
            Field::Status => "status code",
            Field::Bytes => "byte count",
            Field::Referrer => "referrer",
            Field::Agent => "user agent",
        }
    }
}

/// What was wrong with a line; see [`ParseError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The line is empty (or only a line break).
    Empty,
    /// The field is missing: the line ends, or a space is where it should start.
    Missing(Field),
    /// The host has a character no address or hostname has.
    Host,
    /// No space after the field.
    Space(Field),
    /// Neither a space nor the end of the line after the field.
    FieldEnd(Field),
    /// No `[` before the timestamp.
    OpenBracket,
    /// No `]` after the timestamp.
    CloseBracket,
    /// The timestamp is not laid out like `10/Oct/2000:13:55:36 -0700`.
    TimestampSyntax,
    /// The month is not `Jan` to `Dec`.
    Month,
    /// The timestamp is well-formed but not a real date and time.
    InvalidDate,
    /// No `"` opening the field.
    OpenQuote(Field),
    /// No `"` closing the field before the end of the line.
    CloseQuote(Field),
    /// The status code is not `-` or a number of at most three digits.
    Status,
    /// The byte count is not `-` or a number that fits in 64 bits.
    Bytes,
    /// A line break inside the line: a record must hold one line.
    LineBreak,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Empty => f.write_str("the line is empty"),
            ErrorKind::Missing(field) => write!(f, "expected the {}", field.name()),
            ErrorKind::Host => f.write_str("expected a host (an IP address or a hostname)"),
            ErrorKind::Space(field) => write!(f, "expected a space after the {}", field.name()),
            ErrorKind::FieldEnd(field) => {
                write!(
                    f,
                    "expected a space or the end of the line after the {}",
                    field.name()
                )
            }
            ErrorKind::OpenBracket => f.write_str("expected `[` to open the timestamp"),
            ErrorKind::CloseBracket => f.write_str("expected `]` to close the timestamp"),
            ErrorKind::TimestampSyntax => {
                f.write_str("expected a timestamp like `10/Oct/2000:13:55:36 -0700`")
            }
            ErrorKind::Month => f.write_str("expected a month abbreviation (`Jan` to `Dec`)"),
            ErrorKind::InvalidDate => f.write_str("the timestamp is not a valid date and time"),
            ErrorKind::OpenQuote(field) => write!(f, "expected `\"` to open the {}", field.name()),
            ErrorKind::CloseQuote(field) => {
                write!(f, "no closing `\"` for the {} opened", field.name())
            }
            ErrorKind::Status => f.write_str("expected a status code (up to three digits, or `-`)"),
            ErrorKind::Bytes => f.write_str("expected a byte count (digits, or `-` for none)"),
            ErrorKind::LineBreak => {
                f.write_str("a line break inside the record (a record holds one line)")
            }
        }
    }
}

/// Why a line is not an access log line, and where.
///
/// ```
/// let error = firehose_transform::formats::apache::parse("127.0.0.1 - - 10/Oct/2000").unwrap_err();
/// assert_eq!(error.to_string(), "expected `[` to open the timestamp at byte 14");
/// assert_eq!(error.position(), 14);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ParseError {
    kind: ErrorKind,
    at: usize,
}

impl ParseError {
    /// What was wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The byte offset in the line where it went wrong (0-based).
    pub fn position(&self) -> usize {
        self.at
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind, self.at)
    }
}

impl std::error::Error for ParseError {}

/// Parses one access log line (Common or Combined format).
///
/// One trailing line break is ignored. See the [module documentation](self)
/// for the rules.
///
/// ```
/// use firehose_transform::formats::apache::{parse, Format};
///
/// let log = parse("example.com - - [29/Feb/2024:00:00:00 +0000] \"-\" 408 -\n").unwrap();
/// assert_eq!(log.host, "example.com");
/// assert_eq!(log.request, "-");
/// assert_eq!(log.verb(), None);
/// assert_eq!(log.bytes, 0);
/// assert_eq!(log.format, Format::Common);
/// ```
pub fn parse(line: &str) -> Result<AccessLog<'_>, ParseError> {
    let spans = scan(line.as_bytes())?;
    // Every span starts and ends next to an ASCII delimiter or at the end of the
    // line, so it lies on character boundaries and `get` always succeeds.
    let text = |range: Range<usize>| Cow::Borrowed(line.get(range).unwrap_or_default());
    let ascii = |range: Range<usize>| line.get(range).unwrap_or_default();
    Ok(spans.build(text, ascii))
}

/// Parses a line that may not be valid UTF-8: invalid sequences in a text field
/// become U+FFFD (the field is then owned). Valid lines give the same result as
/// [`parse`].
///
/// ```
/// let line = b"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 5 \"-\" \"bot\xff\"";
/// let log = firehose_transform::formats::apache::parse_lossy(line).unwrap();
/// assert_eq!(log.agent.as_deref(), Some("bot\u{fffd}"));
/// ```
pub fn parse_lossy(line: &[u8]) -> Result<AccessLog<'_>, ParseError> {
    let spans = scan(line)?;
    let text = |range: Range<usize>| String::from_utf8_lossy(line.get(range).unwrap_or_default());
    // The host and the timestamp were checked to be ASCII.
    let ascii = |range: Range<usize>| {
        std::str::from_utf8(line.get(range).unwrap_or_default()).unwrap_or_default()
    };
    Ok(spans.build(text, ascii))
}

/// A quoted field's contents, and whether they hold a backslash.
struct Quoted {
    range: Range<usize>,
    escaped: bool,
}

/// Where the fields are in a line: the result of the byte scanner.
struct Spans {
    host: Range<usize>,
    ident: Range<usize>,
    authuser: Range<usize>,
    timestamp: Range<usize>,
    datetime: DateTime,
    request: Quoted,
    status: Option<u16>,
    bytes: u64,
    combined: Option<(Quoted, Quoted)>,
}

impl Spans {
    fn build<'a>(
        self,
        text: impl Fn(Range<usize>) -> Cow<'a, str>,
        ascii: impl Fn(Range<usize>) -> &'a str,
    ) -> AccessLog<'a> {
        let token = |range: Range<usize>| {
            let value = text(range);
            if value == "-" {
                None
            } else if value.contains('\\') {
                Some(Cow::Owned(unescape(&value)))
            } else {
                Some(value)
            }
        };
        let quoted = |field: Quoted| {
            let value = text(field.range);
            if field.escaped {
                Cow::Owned(unescape(&value))
            } else {
                value
            }
        };
        let (referrer, agent, format) = match self.combined {
            Some((referrer, agent)) => {
                let dash = |value: Cow<'a, str>| (value != "-").then_some(value);
                (
                    dash(quoted(referrer)),
                    dash(quoted(agent)),
                    Format::Combined,
                )
            }
            None => (None, None, Format::Common),
        };
        AccessLog {
            host: ascii(self.host),
            ident: token(self.ident),
            authuser: token(self.authuser),
            timestamp: self.datetime,
            timestamp_text: ascii(self.timestamp),
            request: quoted(self.request),
            status: self.status,
            bytes: self.bytes,
            referrer,
            agent,
            format,
        }
    }
}

fn error<T>(kind: ErrorKind, at: usize) -> Result<T, ParseError> {
    Err(ParseError { kind, at })
}

/// A cursor over the line's bytes.
struct Scanner<'b> {
    b: &'b [u8],
    pos: usize,
}

impl<'b> Scanner<'b> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    /// One or more spaces.
    fn spaces(&mut self, after: Field) -> Result<(), ParseError> {
        if self.peek() != Some(b' ') {
            return error(ErrorKind::Space(after), self.pos);
        }
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
        Ok(())
    }

    /// A non-empty run of non-space bytes.
    fn token(&mut self, field: Field) -> Result<Range<usize>, ParseError> {
        let start = self.pos;
        let rest = self.b.get(start..).unwrap_or_default();
        let len = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
        if len == 0 {
            return error(ErrorKind::Missing(field), start);
        }
        self.pos = start + len;
        Ok(start..self.pos)
    }

    /// A `"`-quoted field. The closing quote is the first unescaped `"` followed
    /// by a space, a line break or the end of the line. Without one, the field
    /// is an error, or with `open_ended` the rest of the line.
    fn quoted(&mut self, field: Field, open_ended: bool) -> Result<Quoted, ParseError> {
        let open = self.pos;
        if self.peek() != Some(b'"') {
            return error(ErrorKind::OpenQuote(field), open);
        }
        let start = open + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            let Some(found) = find_quote_or_backslash(self.b.get(i..).unwrap_or_default()) else {
                if open_ended {
                    self.pos = self.b.len();
                    return Ok(Quoted {
                        range: start..self.b.len(),
                        escaped,
                    });
                }
                return error(ErrorKind::CloseQuote(field), open);
            };
            i += found;
            match self.b.get(i) {
                Some(b'\\') => {
                    escaped = true;
                    i += 2;
                }
                Some(_) if matches!(self.b.get(i + 1), None | Some(b' ' | b'\n' | b'\r')) => {
                    self.pos = i + 1;
                    return Ok(Quoted {
                        range: start..i,
                        escaped,
                    });
                }
                _ => i += 1,
            }
        }
    }

    /// The end of a field: a space, or the end of the line.
    fn at_end(&self, after: Field) -> Result<bool, ParseError> {
        match self.peek() {
            None => Ok(true),
            Some(b' ') => Ok(false),
            Some(b'\n' | b'\r') => error(ErrorKind::LineBreak, self.pos),
            Some(_) => error(ErrorKind::FieldEnd(after), self.pos),
        }
    }
}

/// Finds the fields of a line; the line break, if any, is not part of it.
fn scan(line: &[u8]) -> Result<Spans, ParseError> {
    let b = line
        .strip_suffix(b"\n")
        .map(|b| b.strip_suffix(b"\r").unwrap_or(b))
        .or_else(|| line.strip_suffix(b"\r"))
        .unwrap_or(line);
    if b.is_empty() {
        return error(ErrorKind::Empty, 0);
    }
    let mut s = Scanner { b, pos: 0 };

    let host = s.token(Field::Host)?;
    let host_bytes = b.get(host.clone()).unwrap_or_default();
    if let Some(bad) = host_bytes.iter().position(|&c| !is_host_byte(c)) {
        return error(ErrorKind::Host, host.start + bad);
    }
    s.spaces(Field::Host)?;
    let ident = s.token(Field::Ident)?;
    s.spaces(Field::Ident)?;
    let authuser = s.token(Field::Authuser)?;
    s.spaces(Field::Authuser)?;

    if s.peek() != Some(b'[') {
        return error(ErrorKind::OpenBracket, s.pos);
    }
    let ts_start = s.pos + 1;
    let rest = b.get(ts_start..).unwrap_or_default();
    // `%t` is always 26 bytes; look further only for a malformed timestamp.
    let ts_len = if rest.get(26) == Some(&b']') {
        26
    } else {
        match rest.iter().position(|&c| c == b']') {
            Some(len) => len,
            None => return error(ErrorKind::CloseBracket, s.pos),
        }
    };
    let ts = ts_start..ts_start + ts_len;
    let datetime = parse_timestamp(rest.get(..ts_len).unwrap_or_default(), ts_start)?;
    s.pos = ts.end + 1;
    s.spaces(Field::Timestamp)?;

    let request = s.quoted(Field::Request, false)?;
    s.spaces(Field::Request)?;

    let status = parse_status(&mut s)?;
    s.spaces(Field::Status)?;
    let bytes = parse_bytes(&mut s)?;

    let mut combined = None;
    if !s.at_end(Field::Bytes)? {
        while s.peek() == Some(b' ') {
            s.pos += 1;
        }
        if s.peek() == Some(b'"') {
            let referrer = s.quoted(Field::Referrer, false)?;
            s.spaces(Field::Referrer)?;
            // A line cut short by a shipper's line-length limit loses the end of
            // its user agent, the last field: keep what there is.
            let agent = s.quoted(Field::Agent, true)?;
            s.at_end(Field::Agent)?;
            combined = Some((referrer, agent));
        }
        // Whatever follows is ignored, but not a second line.
        let tail = b.get(s.pos..).unwrap_or_default();
        if let Some(at) = tail.iter().position(|&c| c == b'\n' || c == b'\r') {
            return error(ErrorKind::LineBreak, s.pos + at);
        }
    }

    Ok(Spans {
        host,
        ident,
        authuser,
        timestamp: ts,
        datetime,
        request,
        status,
        bytes,
        combined,
    })
}

/// The index of the first `"` or `\\` in `b`, eight bytes at a time: quoted
/// fields are most of a line, and a byte-at-a-time loop made them most of the
/// parse time.
fn find_quote_or_backslash(b: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const QUOTES: u64 = u64::from_ne_bytes([b'"'; 8]);
    const BACKSLASHES: u64 = u64::from_ne_bytes([b'\\'; 8]);
    // The classic "has a zero byte" test: its lowest set bit marks the first
    // zero byte exactly (false positives can only appear above a true one).
    let zero_bytes = |w: u64| w.wrapping_sub(ONES) & !w & HIGHS;
    let mut chunks = b.chunks_exact(8);
    let mut offset = 0;
    for chunk in chunks.by_ref() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let hits = zero_bytes(w ^ QUOTES) | zero_bytes(w ^ BACKSLASHES);
        if hits != 0 {
            return Some(offset + (hits.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&c| c == b'"' || c == b'\\')
        .map(|at| offset + at)
}

fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'-' | b'_' | b'%' | b'[' | b']')
}

/// `-` or one to three digits, ended by a space.
fn parse_status(s: &mut Scanner<'_>) -> Result<Option<u16>, ParseError> {
    let start = s.pos;
    let mut value = None;
    if s.peek() == Some(b'-') {
        s.pos += 1;
    } else {
        let mut number: u16 = 0;
        while let Some(digit @ b'0'..=b'9') = s.peek() {
            if s.pos - start == 3 {
                return error(ErrorKind::Status, start);
            }
            number = number * 10 + u16::from(digit - b'0');
            s.pos += 1;
        }
        if s.pos == start {
            return error(ErrorKind::Status, start);
        }
        value = Some(number);
    }
    match s.peek() {
        Some(b' ') => Ok(value),
        None => error(ErrorKind::Space(Field::Status), s.pos),
        Some(_) => error(ErrorKind::Status, start),
    }
}

/// `-` (0) or digits, ended by a space or the end of the line.
fn parse_bytes(s: &mut Scanner<'_>) -> Result<u64, ParseError> {
    let start = s.pos;
    let mut value: u64 = 0;
    if s.peek() == Some(b'-') {
        s.pos += 1;
    } else {
        while let Some(digit @ b'0'..=b'9') = s.peek() {
            value = match value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(digit - b'0')))
            {
                Some(v) => v,
                None => return error(ErrorKind::Bytes, start),
            };
            s.pos += 1;
        }
        if s.pos == start {
            return error(ErrorKind::Bytes, start);
        }
    }
    match s.peek() {
        None | Some(b' ' | b'\n' | b'\r') => Ok(value),
        Some(_) => error(ErrorKind::Bytes, start),
    }
}

/// Parses `10/Oct/2000:13:55:36 -0700`; `base` is its offset in the line.
fn parse_timestamp(t: &[u8], base: usize) -> Result<DateTime, ParseError> {
    // Checked all at once on the fixed layout; the byte-by-byte walk that
    // finds where it went wrong runs only for a bad timestamp.
    let Ok(t) = <&[u8; 26]>::try_from(t) else {
        return timestamp_syntax_error(t, base);
    };
    let digit = |i: usize| t[i].wrapping_sub(b'0');
    let digits_ok = TIMESTAMP_DIGITS.iter().all(|&i| digit(i) <= 9);
    let separators_ok = t[2] == b'/'
        && t[6] == b'/'
        && t[11] == b':'
        && t[14] == b':'
        && t[17] == b':'
        && t[20] == b' '
        && matches!(t[21], b'+' | b'-');
    if !(digits_ok && separators_ok) {
        return timestamp_syntax_error(t, base);
    }
    let two = |i: usize| digit(i) * 10 + digit(i + 1);
    let month = std::str::from_utf8(&t[3..6])
        .ok()
        .and_then(month_from_abbrev);
    let Some(month) = month else {
        return error(ErrorKind::Month, base + 3);
    };
    let (offset_hours, offset_minutes) = (two(22), two(24));
    if offset_minutes >= 60 {
        return error(ErrorKind::InvalidDate, base + 21);
    }
    let offset = i16::from(offset_hours) * 60 + i16::from(offset_minutes);
    let datetime = DateTime {
        year: i32::from(two(7)) * 100 + i32::from(two(9)),
        month,
        day: two(0),
        hour: two(12),
        minute: two(15),
        second: two(18),
        nanos: 0,
        offset_minutes: if t[21] == b'-' { -offset } else { offset },
    };
    if !datetime.is_valid() {
        return error(ErrorKind::InvalidDate, base);
    }
    Ok(datetime)
}

/// Where the digits are in `dd/MMM/dddd:dd:dd:dd +dddd`.
const TIMESTAMP_DIGITS: [usize; 16] = [0, 1, 7, 8, 9, 10, 12, 13, 15, 16, 18, 19, 22, 23, 24, 25];

/// The error for a timestamp not laid out like `10/Oct/2000:13:55:36 -0700`,
/// at the first byte that deviates.
fn timestamp_syntax_error(t: &[u8], base: usize) -> Result<DateTime, ParseError> {
    // `d` for a digit, `M` for a month letter, `+` for the offset's sign.
    const LAYOUT: &[u8; 26] = b"dd/MMM/dddd:dd:dd:dd +dddd";
    for (i, &expected) in LAYOUT.iter().enumerate() {
        let ok = t.get(i).is_some_and(|&c| match expected {
            b'd' => c.is_ascii_digit(),
            b'M' => c.is_ascii_alphabetic(),
            b'+' => c == b'+' || c == b'-',
            other => c == other,
        });
        if !ok {
            return error(ErrorKind::TimestampSyntax, base + i);
        }
    }
    error(ErrorKind::TimestampSyntax, base + LAYOUT.len())
}

/// Decodes the backslash escapes Apache and nginx write in log fields.
///
/// `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\v` and `\f` become the character; a
/// run of `\xhh` escapes becomes the text it spells where that is valid UTF-8,
/// and stays as written where it is not; any other backslash is kept.
///
/// ```
/// use firehose_transform::formats::apache::unescape;
///
/// assert_eq!(unescape(r#"say \"hi\" \\o/"#), r#"say "hi" \o/"#);
/// assert_eq!(unescape(r"caf\xc3\xa9 \x22"), "café \"");
/// assert_eq!(unescape(r"\xe4\xe5.rf \q"), r"\xe4\xe5.rf \q");
/// ```
pub fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    // Bytes decoded from the current run of `\xhh` escapes, and where it began.
    let mut run: Vec<u8> = Vec::new();
    let mut run_start = 0;
    let mut literal = 0;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c != b'\\' {
            i += 1;
            continue;
        }
        if literal < i {
            flush_run(&mut out, &mut run, s, run_start);
            out.push_str(s.get(literal..i).unwrap_or_default());
        }
        let hex = match (b.get(i + 1), b.get(i + 2), b.get(i + 3)) {
            (Some(b'x' | b'X'), Some(&hi), Some(&lo)) => hex_value(hi).zip(hex_value(lo)),
            _ => None,
        };
        if let Some((hi, lo)) = hex {
            if run.is_empty() {
                run_start = i;
            }
            run.push(hi << 4 | lo);
            i += 4;
        } else {
            flush_run(&mut out, &mut run, s, run_start);
            let decoded = match b.get(i + 1) {
                Some(b'"') => Some('"'),
                Some(b'\\') => Some('\\'),
                Some(b'n') => Some('\n'),
                Some(b'r') => Some('\r'),
                Some(b't') => Some('\t'),
                Some(b'b') => Some('\u{8}'),
                Some(b'v') => Some('\u{b}'),
                Some(b'f') => Some('\u{c}'),
                _ => None,
            };
            match decoded {
                Some(ch) => {
                    out.push(ch);
                    i += 2;
                }
                None => {
                    // Not an escape: keep the backslash, and what follows as text.
                    out.push('\\');
                    i += 1;
                }
            }
        }
        literal = i;
    }
    flush_run(&mut out, &mut run, s, run_start);
    out.push_str(s.get(literal..).unwrap_or_default());
    out
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Appends the text a run of `\xhh` escapes spells: valid UTF-8 decoded, each
/// invalid byte as its four-character escape from `s` (starting at `start`).
fn flush_run(out: &mut String, run: &mut Vec<u8>, s: &str, start: usize) {
    let mut decoded = 0;
    for chunk in run.utf8_chunks() {
        out.push_str(chunk.valid());
        decoded += chunk.valid().len();
        let invalid = chunk.invalid().len();
        let from = start + 4 * decoded;
        out.push_str(s.get(from..from + 4 * invalid).unwrap_or_default());
        decoded += invalid;
    }
    run.clear();
}

/// The CSV columns [`write_csv`] writes, in order: the AWS blueprint's seven,
/// then the Combined format's two.
pub const CSV_COLUMNS: [&str; 9] = [
    "host",
    "ident",
    "authuser",
    "timestamp",
    "request",
    "response",
    "bytes",
    "referrer",
    "agent",
];

/// Writes `log` as the JSON object of the `apachelog-to-json` blueprint.
///
/// Members, in order: `host`, `ident`, `authuser`, `@timestamp` (RFC 3339 in the
/// log's own offset), `request`, `response` (number, `null` for `-`), `bytes`
/// (number), `verb` (`null` when the request is not a request line),
/// `timezone` (`-0700`), `@timestamp_utc` (RFC 3339 in UTC), and for the
/// Combined format `referrer` and `agent`. `ident`, `authuser`, `referrer` and
/// `agent` are written `"-"` when the log has `-`, as the AWS blueprint does.
///
/// ```
/// use firehose_transform::formats::apache::{parse, write_json};
///
/// let log = parse(r#"10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "\x16\x03" 400 -"#).unwrap();
/// let mut out = Vec::new();
/// write_json(&log, &mut out);
/// let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
/// assert_eq!(value["request"], "\u{16}\u{3}");
/// assert_eq!(value["verb"], serde_json::Value::Null);
/// assert_eq!(value["bytes"], 0);
/// assert_eq!(value["@timestamp_utc"], "2000-10-10T13:55:36Z");
/// assert!(value.get("agent").is_none());
/// ```
pub fn write_json(log: &AccessLog<'_>, out: &mut Vec<u8>) {
    let mut obj = ObjectWriter::new(out);
    write_json_fields(log, &mut obj);
    obj.finish();
}

/// Writes the members of [`write_json`]'s object into an object being written,
/// so a caller can add members of its own before closing it.
pub fn write_json_fields(log: &AccessLog<'_>, obj: &mut ObjectWriter<'_>) {
    obj.str("host", log.host);
    obj.str("ident", log.ident.as_deref().unwrap_or("-"));
    obj.str("authuser", log.authuser.as_deref().unwrap_or("-"));
    write_json_timestamp(obj.key("@timestamp"), &log.timestamp);
    obj.str("request", &log.request);
    match log.status {
        Some(status) => obj.u64("response", u64::from(status)),
        None => obj.null("response"),
    }
    obj.u64("bytes", log.bytes);
    obj.opt_str("verb", log.verb());
    obj.str("timezone", log.timezone());
    // Many servers log in UTC already; the calendar round trip is then a no-op.
    let utc = if log.timestamp.offset_minutes == 0 {
        log.timestamp
    } else {
        log.timestamp.to_utc()
    };
    write_json_timestamp(obj.key("@timestamp_utc"), &utc);
    if log.format == Format::Combined {
        obj.str("referrer", log.referrer.as_deref().unwrap_or("-"));
        obj.str("agent", log.agent.as_deref().unwrap_or("-"));
    }
}

/// Writes `log` as the CSV row of the `apachelog-to-csv` blueprint (RFC 4180,
/// no line break): the columns of [`CSV_COLUMNS`]. `timestamp` is as written in
/// the log (`10/Oct/2000:13:55:36 -0700`), `response` is empty for `-`, `bytes`
/// is 0 for `-`; `ident`, `authuser`, `referrer` and `agent` are `-` when the
/// log has `-`, and `referrer` and `agent` are empty for the Common format.
///
/// ```
/// use firehose_transform::formats::apache::{parse, write_csv};
///
/// let log = parse(r#"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a,b HTTP/1.1" 200 - "-" "Mozilla/5.0 (X11; Linux x86_64)""#).unwrap();
/// let mut out = Vec::new();
/// write_csv(&log, &mut out);
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     r#"10.0.0.1,-,-,10/Oct/2000:13:55:36 -0700,"GET /a,b HTTP/1.1",200,0,-,Mozilla/5.0 (X11; Linux x86_64)"#
/// );
/// ```
pub fn write_csv(log: &AccessLog<'_>, out: &mut Vec<u8>) {
    let mut row = RowWriter::new(out);
    row.field(log.host);
    row.field(log.ident.as_deref().unwrap_or("-"));
    row.field(log.authuser.as_deref().unwrap_or("-"));
    row.field(log.timestamp_text);
    row.field(&log.request);
    match log.status {
        Some(status) => row.u64(u64::from(status)),
        None => row.field(""),
    }
    row.u64(log.bytes);
    match log.format {
        Format::Combined => {
            row.field(log.referrer.as_deref().unwrap_or("-"));
            row.field(log.agent.as_deref().unwrap_or("-"));
        }
        Format::Common => {
            row.field("");
            row.field("");
        }
    }
    row.finish();
}

/// Writes `t` as a quoted RFC 3339 string, exactly as
/// [`DateTime::write_rfc3339`] would, without going through `fmt` (two
/// timestamps per line made that the slowest part of the JSON conversion).
fn write_json_timestamp(out: &mut Vec<u8>, t: &DateTime) {
    if t.nanos != 0 || !(0..=9999).contains(&t.year) {
        out.push(b'"');
        out.extend_from_slice(t.to_rfc3339().as_bytes());
        out.push(b'"');
        return;
    }
    let two = |n: u8| [b'0' + n / 10 % 10, b'0' + n % 10];
    let year = t.year as u16;
    let [y0, y1] = two((year / 100) as u8);
    let [y2, y3] = two((year % 100) as u8);
    let [mo0, mo1] = two(t.month);
    let [d0, d1] = two(t.day);
    let [h0, h1] = two(t.hour);
    let [mi0, mi1] = two(t.minute);
    let [s0, s1] = two(t.second);
    out.extend_from_slice(&[
        b'"', y0, y1, y2, y3, b'-', mo0, mo1, b'-', d0, d1, b'T', h0, h1, b':', mi0, mi1, b':', s0,
        s1,
    ]);
    if t.offset_minutes == 0 {
        out.extend_from_slice(b"Z\"");
    } else {
        let sign = if t.offset_minutes < 0 { b'-' } else { b'+' };
        let abs = t.offset_minutes.unsigned_abs();
        let [oh0, oh1] = two((abs / 60) as u8);
        let [om0, om1] = two((abs % 60) as u8);
        out.extend_from_slice(&[sign, oh0, oh1, b':', om0, om1, b'"']);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CLF: &str =
        r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#;

    fn kind(line: &str) -> (ErrorKind, usize) {
        let error = parse(line).unwrap_err();
        (error.kind(), error.position())
    }

    #[test]
    fn common_format_fields() {
        let log = parse(CLF).unwrap();
        assert_eq!(log.host, "127.0.0.1");
        assert_eq!(log.ident, None);
        assert_eq!(log.authuser.as_deref(), Some("frank"));
        assert_eq!(log.timestamp_text, "10/Oct/2000:13:55:36 -0700");
        assert_eq!(log.timezone(), "-0700");
        assert_eq!(log.timestamp.to_rfc3339(), "2000-10-10T13:55:36-07:00");
        assert_eq!(log.request, "GET /apache_pb.gif HTTP/1.0");
        let line = log.request_line().unwrap();
        assert_eq!(line.path, "/apache_pb.gif");
        assert_eq!(line.protocol, Some("HTTP/1.0"));
        assert_eq!(log.status, Some(200));
        assert_eq!(log.bytes, 2326);
        assert_eq!(log.format, Format::Common);
        assert_eq!((log.referrer, log.agent), (None, None));
    }

    #[test]
    fn fields_without_escapes_borrow_from_the_line() {
        let line = format!(r#"{CLF} "http://a/" "UA""#);
        let log = parse(&line).unwrap();
        assert!(matches!(log.request, Cow::Borrowed(_)));
        assert!(matches!(log.referrer, Some(Cow::Borrowed(_))));
        assert!(matches!(log.authuser, Some(Cow::Borrowed(_))));
    }

    #[test]
    fn hosts_may_be_ipv4_ipv6_or_names() {
        for host in [
            "192.0.2.1",
            "2001:db8::ff00:42:8329",
            "::1",
            "fe80::1%eth0",
            "[::1]",
            "www.example.com",
            "my_host-1",
            "-",
        ] {
            let line = CLF.replacen("127.0.0.1", host, 1);
            assert_eq!(parse(&line).unwrap().host, host, "{line}");
        }
        assert_eq!(
            parse(&CLF.replacen("127.0.0.1", "::ffff:1.2.3.4", 1))
                .unwrap()
                .ip(),
            Some("::ffff:1.2.3.4".parse().unwrap())
        );
        assert_eq!(
            parse(&CLF.replacen("127.0.0.1", "example.com", 1))
                .unwrap()
                .ip(),
            None
        );
        assert_eq!(
            kind(&CLF.replacen("127.0.0.1", "127.0.0.1/8", 1)),
            (ErrorKind::Host, 9)
        );
    }

    #[test]
    fn dash_means_absent_and_bytes_dash_is_zero() {
        let log = parse(r#"h - - [10/Oct/2000:13:55:36 -0700] "-" - - "-" "-""#).unwrap();
        assert_eq!((log.ident.clone(), log.authuser.clone()), (None, None));
        assert_eq!(log.request, "-");
        assert_eq!(log.verb(), None);
        assert_eq!(log.status, None);
        assert_eq!(log.bytes, 0);
        assert_eq!(log.format, Format::Combined);
        assert_eq!((log.referrer, log.agent), (None, None));
    }

    #[test]
    fn empty_quoted_fields_are_empty_strings() {
        let log = parse(r#"h - - [10/Oct/2000:13:55:36 -0700] "" 400 0 "" """#).unwrap();
        assert_eq!(log.request, "");
        assert_eq!(log.verb(), None);
        assert_eq!(log.referrer.as_deref(), Some(""));
        assert_eq!(log.agent.as_deref(), Some(""));
    }

    #[test]
    fn escaped_quotes_stay_inside_the_field() {
        let line = r#"h - - [10/Oct/2000:13:55:36 -0700] "GET /q=\"a b\" HTTP/1.1" 200 1 "say \"hi\"" "UA \"x\" \\""#;
        let log = parse(line).unwrap();
        assert_eq!(log.request, r#"GET /q="a b" HTTP/1.1"#);
        assert_eq!(log.verb(), Some("GET"));
        assert_eq!(log.referrer.as_deref(), Some(r#"say "hi""#));
        assert_eq!(log.agent.as_deref(), Some(r#"UA "x" \"#));
        assert!(matches!(log.request, Cow::Owned(_)));
    }

    #[test]
    fn an_unescaped_quote_ends_a_field_only_before_a_space() {
        let log = parse(r#"h - - [10/Oct/2000:13:55:36 -0700] "GET /a"b HTTP/1.1" 200 1 "r" "Mozilla "quoted"""#).unwrap();
        assert_eq!(log.request, r#"GET /a"b HTTP/1.1"#);
        assert_eq!(log.agent.as_deref(), Some(r#"Mozilla "quoted""#));
    }

    #[test]
    fn hex_escapes_decode_to_utf8_or_stay_verbatim() {
        let log = parse(r#"h - - [10/Oct/2000:13:55:36 -0700] "GET /caf\xc3\xa9 HTTP/1.1" 200 1 "http://\xe4\xe5\xe3.rf/" "a\tb""#).unwrap();
        assert_eq!(log.request, "GET /café HTTP/1.1");
        assert_eq!(log.referrer.as_deref(), Some(r"http://\xe4\xe5\xe3.rf/"));
        assert_eq!(log.agent.as_deref(), Some("a\tb"));
    }

    #[test]
    fn unescape_handles_every_escape_apache_writes() {
        assert_eq!(unescape(r"\b\n\r\t\v\f"), "\u{8}\n\r\t\u{b}\u{c}");
        assert_eq!(unescape(r"\x41\x42c"), "ABc");
        assert_eq!(unescape(r"\xc3\xa9\xff\xc3\xa9"), r"é\xffé");
        assert_eq!(unescape(r"\XC3\Xa9"), "é");
        assert_eq!(unescape(r"end\"), r"end\");
        assert_eq!(unescape(r"\x4"), r"\x4");
        assert_eq!(unescape(r"\é"), r"\é");
        assert_eq!(unescape(r"\xe4 \xe5"), r"\xe4 \xe5");
    }

    #[test]
    fn request_lines_that_are_not_method_path_protocol_have_no_verb() {
        for request in [
            "-",
            "",
            "GET",
            "GET ",
            "\u{16}\u{3}\u{1}\u{2}",
            "G(T / HTTP/1.1",
            "GET /a b c",
            "GET  HTTP/1.1",
        ] {
            assert_eq!(parse_request_line(request), None, "{request:?}");
        }
        let http09 = parse_request_line("GET /").unwrap();
        assert_eq!(
            (http09.method, http09.path, http09.protocol),
            ("GET", "/", None)
        );
        let spaced = parse_request_line("GET /a b HTTP/1.1").unwrap();
        assert_eq!(spaced.path, "/a b");
    }

    #[test]
    fn line_breaks_at_the_end_are_ignored() {
        for end in ["\n", "\r\n", "\r"] {
            let line = format!("{CLF}{end}");
            assert_eq!(parse(&line).unwrap().bytes, 2326, "{end:?}");
            let combined = format!(r#"{CLF} "r" "a"{end}"#);
            assert_eq!(
                parse(&combined).unwrap().agent.as_deref(),
                Some("a"),
                "{end:?}"
            );
        }
    }

    #[test]
    fn a_second_line_in_the_record_is_an_error() {
        let line = format!("{CLF}\n{CLF}");
        assert_eq!(kind(&line), (ErrorKind::LineBreak, CLF.len()));
        let line = format!("{CLF} \"r\" \"a\" 123\n{CLF}");
        assert_eq!(kind(&line).0, ErrorKind::LineBreak);
    }

    #[test]
    fn fields_after_the_user_agent_or_the_bytes_are_ignored() {
        let line = format!(r#"{CLF} "r" "a" 1234 example.com"#);
        assert_eq!(parse(&line).unwrap().agent.as_deref(), Some("a"));
        let line = format!("{CLF} 1234");
        assert_eq!(parse(&line).unwrap().format, Format::Common);
    }

    #[test]
    fn errors_say_what_and_where() {
        assert_eq!(
            parse("").unwrap_err().to_string(),
            "the line is empty at byte 0"
        );
        assert_eq!(kind("\n"), (ErrorKind::Empty, 0));
        assert_eq!(kind("127.0.0.1"), (ErrorKind::Space(Field::Host), 9));
        assert_eq!(
            kind("127.0.0.1 - "),
            (ErrorKind::Missing(Field::Authuser), 12)
        );
        assert_eq!(
            parse("127.0.0.1 - - 10/Oct/2000:13:55:36 -0700")
                .unwrap_err()
                .to_string(),
            "expected `[` to open the timestamp at byte 14"
        );
        assert_eq!(
            kind("h - - [10/Oct/2000:13:55:36 -0700"),
            (ErrorKind::CloseBracket, 6)
        );
        assert_eq!(
            kind(r#"h - - [10/Oct/2000:13:55:36 -0700] GET / HTTP/1.0" 200 1"#),
            (ErrorKind::OpenQuote(Field::Request), 35)
        );
        assert_eq!(
            parse(r#"h - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0 200 1"#)
                .unwrap_err()
                .to_string(),
            "no closing `\"` for the request opened at byte 35"
        );
        assert_eq!(
            kind(r#"h - - [10/Oct/2000:13:55:36 -0700] "GET /" OK 1"#),
            (ErrorKind::Status, 43)
        );
        assert_eq!(
            kind(r#"h - - [10/Oct/2000:13:55:36 -0700] "GET /" 2000 1"#),
            (ErrorKind::Status, 43)
        );
        assert_eq!(
            kind(r#"h - - [10/Oct/2000:13:55:36 -0700] "GET /" 200 12k"#),
            (ErrorKind::Bytes, 47)
        );
        assert_eq!(
            kind(r#"h - - [10/Oct/2000:13:55:36 -0700] "GET /" 200 99999999999999999999"#),
            (ErrorKind::Bytes, 47)
        );
        assert_eq!(
            kind(r#"h - - [10/Oct/2000:13:55:36 -0700] "GET /" 200"#),
            (ErrorKind::Space(Field::Status), 46)
        );
        assert_eq!(
            kind(r#"h - - [10/Oct/2000:13:55:36 -0700] "GET /" 200 1 "r""#),
            (ErrorKind::Space(Field::Referrer), 52)
        );
        assert_eq!(
            kind(r#"h - - [10/Oct/2000:13:55:36 -0700] "GET /" 200 1 "r" ua"#),
            (ErrorKind::OpenQuote(Field::Agent), 53)
        );
        assert_eq!(
            kind(r#"h - - [10/Oct/2000:13:55:36 -0700] "GET /" 200 1 "r"#),
            (ErrorKind::CloseQuote(Field::Referrer), 49)
        );
    }

    #[test]
    fn a_user_agent_cut_off_at_the_end_of_the_line_is_kept() {
        // As in line 8899 of the elastic/examples fixture.
        let line =
            "h - - [10/Oct/2000:13:55:36 -0700] \"GET /\" 200 1 \"-\" \"Mozilla/5.0 (compatible\n";
        let log = parse(line).unwrap();
        assert_eq!(log.agent.as_deref(), Some("Mozilla/5.0 (compatible"));
        let escaped_end = r#"h - - [10/Oct/2000:13:55:36 -0700] "GET /" 200 1 "-" "UA \"#;
        assert_eq!(parse(escaped_end).unwrap().agent.as_deref(), Some(r"UA \"));
    }

    #[test]
    fn timestamps_are_validated() {
        let at = |ts: &str| kind(&format!(r#"h - - [{ts}] "GET /" 200 1"#));
        assert_eq!(at("10/Oct/2000:13:55:36"), (ErrorKind::TimestampSyntax, 27));
        assert_eq!(
            at("1/Oct/2000:13:55:36 -0700"),
            (ErrorKind::TimestampSyntax, 8)
        );
        assert_eq!(
            at("10/Oct/2000 13:55:36 -0700"),
            (ErrorKind::TimestampSyntax, 18)
        );
        assert_eq!(
            at("10/Oct/2000:13:55:36 -07:00"),
            (ErrorKind::TimestampSyntax, 31)
        );
        assert_eq!(
            at("10/Oct/2000:13:55:36 -07000"),
            (ErrorKind::TimestampSyntax, 33)
        );
        assert_eq!(at("10/Foo/2000:13:55:36 -0700"), (ErrorKind::Month, 10));
        assert_eq!(
            at("31/Feb/2000:13:55:36 -0700"),
            (ErrorKind::InvalidDate, 7)
        );
        assert_eq!(
            at("29/Feb/2001:13:55:36 -0700"),
            (ErrorKind::InvalidDate, 7)
        );
        assert_eq!(
            at("10/Oct/2000:24:00:00 -0700"),
            (ErrorKind::InvalidDate, 7)
        );
        assert_eq!(
            at("10/Oct/2000:13:60:00 -0700"),
            (ErrorKind::InvalidDate, 7)
        );
        assert_eq!(
            at("10/Oct/2000:13:55:36 -0760"),
            (ErrorKind::InvalidDate, 28)
        );
        assert_eq!(
            at("10/Oct/2000:13:55:36 +2400"),
            (ErrorKind::InvalidDate, 7)
        );
        let ok = parse(r#"h - - [29/Feb/2000:23:59:60 +0545] "GET /" 200 1"#).unwrap();
        assert_eq!(ok.timestamp.offset_minutes, 345);
        assert_eq!(ok.timestamp.second, 60);
        let lower = parse(r#"h - - [10/oct/2000:13:55:36 +0000] "GET /" 200 1"#).unwrap();
        assert_eq!(lower.timestamp.month, 10);
    }

    #[test]
    fn lossy_parsing_replaces_invalid_utf8_in_text_fields_only() {
        let line =
            b"h - us\xe9r [10/Oct/2000:13:55:36 -0700] \"GET /\xff HTTP/1.1\" 200 1 \"-\" \"ok\"";
        let log = parse_lossy(line).unwrap();
        assert_eq!(log.authuser.as_deref(), Some("us\u{fffd}r"));
        assert_eq!(log.request, "GET /\u{fffd} HTTP/1.1");
        assert_eq!(log.verb(), Some("GET"));
        assert!(matches!(log.agent, Some(Cow::Borrowed("ok"))));
        let valid = format!(r#"{CLF} "r" "a""#);
        assert_eq!(
            parse_lossy(valid.as_bytes()).unwrap(),
            parse(&valid).unwrap()
        );
        assert_eq!(
            parse_lossy(b"h\xff - - [").unwrap_err().kind(),
            ErrorKind::Host
        );
    }

    #[test]
    fn json_writes_null_for_a_dash_status_and_the_aws_dash_for_text() {
        let log = parse(r#"h - - [10/Oct/2000:13:55:36 +0000] "-" - - "-" "-""#).unwrap();
        let mut out = Vec::new();
        write_json(&log, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"host":"h","ident":"-","authuser":"-","@timestamp":"2000-10-10T13:55:36Z","request":"-","response":null,"bytes":0,"verb":null,"timezone":"+0000","@timestamp_utc":"2000-10-10T13:55:36Z","referrer":"-","agent":"-"}"#
        );
    }

    #[test]
    fn csv_quotes_fields_that_need_it_and_pads_the_common_format() {
        let log =
            parse(r#"h - "a,b" [10/Oct/2000:13:55:36 -0700] "GET /\"x\" HTTP/1.1" - -"#).unwrap();
        let mut out = Vec::new();
        write_csv(&log, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"h,-,"""a,b""",10/Oct/2000:13:55:36 -0700,"GET /""x"" HTTP/1.1",,0,,"#
        );
    }

    #[test]
    fn quote_search_finds_the_first_match_in_every_position() {
        for len in 0..40 {
            for at in 0..len {
                for target in [b'"', b'\\'] {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = target;
                    if at + 1 < len {
                        bytes[at + 1] = b'"';
                    }
                    assert_eq!(
                        find_quote_or_backslash(&bytes),
                        Some(at),
                        "len {len} at {at}"
                    );
                }
            }
            assert_eq!(find_quote_or_backslash(&vec![0x01; len]), None);
            assert_eq!(find_quote_or_backslash(&vec![0xa2; len]), None);
        }
    }

    proptest! {
        #[test]
        fn fast_timestamps_match_the_timestamp_module(
            seconds in -62_000_000_000i64..253_402_300_799,
            offset in -1439i16..1440,
        ) {
            let t = DateTime::from_unix_millis(seconds * 1000).with_offset(offset);
            let mut out = Vec::new();
            write_json_timestamp(&mut out, &t);
            prop_assert_eq!(String::from_utf8(out).unwrap(), format!("\"{}\"", t.to_rfc3339()));
        }

        #[test]
        fn any_bytes_parse_or_fail_without_panicking(line in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_lossy(&line);
        }

        #[test]
        fn unescape_never_loses_text_without_backslashes(s in "[^\\\\]*") {
            prop_assert_eq!(unescape(&s), s);
        }
    }
}
