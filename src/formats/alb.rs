//! Application Load Balancer access log entries.
//!
//! Source: *Access logs for your Application Load Balancer*, "Access log
//! entries", in the Elastic Load Balancing user guide
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html>).
//! An entry is one line of space-separated fields, some in double quotes;
//! `-` means the field has no value; and "when new fields are introduced,
//! they are added to the end of the log entry. You should ignore any fields
//! at the end of the log entry that you were not expecting". So [`parse`]
//! keeps fields past the last one documented here in
//! [`Entry::extra`] (the JSON array `extra_fields`) rather than failing, and
//! an entry from before a field existed (fewer fields) has `null` for it.
//!
//! ```
//! use firehose_transform::formats::alb;
//!
//! let line = concat!(
//!     r#"https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 "#,
//!     r#"0.086 0.048 0.037 200 200 0 57 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.46.0" "#,
//!     r#"ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "#,
//!     r#""Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" "#,
//!     r#"1 2018-07-02T22:22:48.364000Z "authenticate,forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1234abcd5678ef90"#,
//! );
//! let entry = alb::parse(line).unwrap();
//! assert_eq!(entry.get("client_ip"), Some("192.168.131.39"));
//! assert_eq!(entry.get("client_port"), Some("2817"));
//! assert_eq!(entry.get("elb_status_code"), Some("200"));
//! assert_eq!(entry.get("request_url"), Some("https://www.example.com:443/"));
//! assert_eq!(entry.get("classification"), None); // "-"
//! assert_eq!(entry.get("conn_trace_id"), Some("TID_1234abcd5678ef90"));
//!
//! let mut json = Vec::new();
//! alb::write_json(&entry, &mut json);
//! let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
//! assert_eq!(value["request_processing_time"], 0.086);
//! assert_eq!(value["sent_bytes"], 57);
//! assert!(value["transformed_host"].is_null()); // a field newer than the line
//! ```
//!
//! # Fields
//!
//! In the order of the line. `client:port`, `target:port` and `request` are
//! split as Athena's documented ALB table splits them; every other name is
//! the documentation's. Types: *text* is a JSON string, *integer* and
//! *decimal* are JSON numbers written as the log has them (`0.000` stays
//! `0.000`), and every field is `null` for `-`.
//!
//! | # | field (JSON member) | type | value (from the AWS documentation) |
//! |---|---|---|---|
//! | 1 | `type` | text | `http`, `https` (HTTP over TLS), `h2` (HTTP/2 over TLS), `grpcs`, `ws` (WebSockets), `wss` (WebSockets over TLS) |
//! | 2 | `time` | text | when the load balancer generated the response (ISO 8601, `2018-07-02T22:23:00.186641Z`); for WebSockets, when the connection closed |
//! | 3 | `elb` | text | the load balancer's resource ID, `app/my-loadbalancer/50dc6c495c0c9188` (may hold `/`) |
//! | 4 | `client_ip`, `client_port` | text, integer | `client:port`: the requesting client's address and port |
//! | 5 | `target_ip`, `target_port` | text, integer | `target:port`: the target that processed the request; `-` when none (the client sent no full request, a Lambda target, blocked by AWS WAF) |
//! | 6 | `request_processing_time` | decimal | seconds (millisecond precision) from receiving the request to sending it to a target; `-1` when it could not be dispatched |
//! | 7 | `target_processing_time` | decimal | seconds from sending the request to the target until its response headers began; `-1` as above |
//! | 8 | `response_processing_time` | decimal | seconds from receiving the target's response headers to starting the response to the client; `-1` as above |
//! | 9 | `elb_status_code` | integer | the load balancer's response status |
//! | 10 | `target_status_code` | integer | the target's response status; `-` without one |
//! | 11 | `received_bytes` | integer | request size from the client, headers included (WebSockets: the connection's total) |
//! | 12 | `sent_bytes` | integer | response size to the client, headers included (WebSockets: the connection's total) |
//! | 13 | `request_verb`, `request_url`, `request_proto` | text | `"request"`: the request line, *method protocol://host:port/uri version*, split at its first and last space (`"- - - "` for a malformed request gives three nulls) |
//! | 14 | `user_agent` | text | `"user_agent"`, truncated by AWS past 8 KB |
//! | 15 | `ssl_cipher` | text | [HTTPS listener] the TLS cipher (OpenSSL name) |
//! | 16 | `ssl_protocol` | text | [HTTPS listener] `TLSv1.2`, ... |
//! | 17 | `target_group_arn` | text | the target group's ARN |
//! | 18 | `trace_id` | text | `"trace_id"`: the `X-Amzn-Trace-Id` header |
//! | 19 | `domain_name` | text | `"domain_name"`: [HTTPS listener] the SNI domain the client sent |
//! | 20 | `chosen_cert_arn` | text | `"chosen_cert_arn"`: [HTTPS listener] the certificate presented, or `session-reused` |
//! | 21 | `matched_rule_priority` | integer | the priority of the rule that matched (1 to 50,000), 0 for the default action, -1 for an error in rule evaluation |
//! | 22 | `request_creation_time` | text | when the request was received (ISO 8601) |
//! | 23 | `actions_executed` | text | `"actions_executed"`: comma-separated `waf`, `waf-failed`, `authenticate`, `redirect`, `fixed-response`, `forward`, ... |
//! | 24 | `redirect_url` | text | `"redirect_url"`: the redirect target |
//! | 25 | `error_reason` | text | `"error_reason"`: the error reason code (`LambdaInvalidResponse`, `AuthInvalidCookie`, `WAFConnectionError`, ...) |
//! | 26 | `target_port_list` | text | `"target:port_list"`: space-separated targets that processed the request |
//! | 27 | `target_status_code_list` | text | `"target_status_code_list"`: space-separated status codes from those targets |
//! | 28 | `classification` | text | `"classification"`: desync mitigation, `Acceptable`, `Ambiguous` or `Severe` for a request that does not comply with RFC 7230 |
//! | 29 | `classification_reason` | text | `"classification_reason"`: `AmbiguousUri`, `BadContentLength`, `BothTeClPresent`, ... |
//! | 30 | `conn_trace_id` | text | the connection traceability ID (`TID_...`), shared with the load balancer's connection logs (added 2024) |
//! | 31 | `transformed_host` | text | `"transformed_host"`: the host after a host header rewrite transform (added 2025) |
//! | 32 | `transformed_uri` | text | `"transformed_uri"`: the URI after a URL rewrite transform (added 2025) |
//! | 33 | `request_transform_status` | text | `"request_transform_status"`: the status of the rewrite transforms (added 2025) |
//! | 34… | `extra_fields` | array of text | fields added after these, as written (only present when the line has any) |
//!
//! A field may be quoted or not (the documentation's own examples write
//! `target:port_list` both ways): a value is quoted when it starts with
//! `"`, and then runs to the next `"` followed by a space or the end of the
//! line; `\"` and `\\` inside are decoded. The line must have at least the
//! first 14 fields (through `user_agent`, all ALB logs have them); later
//! ones missing are `null`.

use std::borrow::Cow;
use std::sync::OnceLock;

use crate::formats::fields::{typed, ErrorKind, Kind, Layout, ParseError, Row, Splitter};
use crate::formats::json::ObjectWriter;

/// The fields of an entry, as written to JSON (see the [module docs](self)).
pub const FIELDS: &[(&str, Kind)] = &[
    ("type", Kind::Text),
    ("time", Kind::Text),
    ("elb", Kind::Text),
    ("client_ip", Kind::Text),
    ("client_port", Kind::Integer),
    ("target_ip", Kind::Text),
    ("target_port", Kind::Integer),
    ("request_processing_time", Kind::Decimal),
    ("target_processing_time", Kind::Decimal),
    ("response_processing_time", Kind::Decimal),
    ("elb_status_code", Kind::Integer),
    ("target_status_code", Kind::Integer),
    ("received_bytes", Kind::Integer),
    ("sent_bytes", Kind::Integer),
    ("request_verb", Kind::Text),
    ("request_url", Kind::Text),
    ("request_proto", Kind::Text),
    ("user_agent", Kind::Text),
    ("ssl_cipher", Kind::Text),
    ("ssl_protocol", Kind::Text),
    ("target_group_arn", Kind::Text),
    ("trace_id", Kind::Text),
    ("domain_name", Kind::Text),
    ("chosen_cert_arn", Kind::Text),
    ("matched_rule_priority", Kind::Integer),
    ("request_creation_time", Kind::Text),
    ("actions_executed", Kind::Text),
    ("redirect_url", Kind::Text),
    ("error_reason", Kind::Text),
    ("target_port_list", Kind::Text),
    ("target_status_code_list", Kind::Text),
    ("classification", Kind::Text),
    ("classification_reason", Kind::Text),
    ("conn_trace_id", Kind::Text),
    ("transformed_host", Kind::Text),
    ("transformed_uri", Kind::Text),
    ("request_transform_status", Kind::Text),
];

/// How many fields of the line (before splitting) are documented.
const LINE_FIELDS: usize = 33;
/// How many a line must have: through `user_agent`.
const REQUIRED_LINE_FIELDS: usize = 14;

/// The layout of [`FIELDS`].
pub fn layout() -> &'static Layout {
    static LAYOUT: OnceLock<Layout> = OnceLock::new();
    LAYOUT.get_or_init(|| Layout::new(FIELDS.iter().copied()))
}

/// One access log entry, borrowing from its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    row: Row<'a>,
}

impl<'a> Entry<'a> {
    /// The value of the field called `name` (see [`FIELDS`]); `None` for `-`,
    /// a field the line is too old to have, or an unknown name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.row.get(layout(), name)
    }

    /// The values, in the order of [`FIELDS`].
    pub fn row(&self) -> &Row<'a> {
        &self.row
    }

    /// Fields past the last documented one, as written.
    pub fn extra(&self) -> &[Cow<'a, str>] {
        &self.row.extra
    }
}

/// Parses one access log entry (one trailing line break ignored).
///
/// ```
/// let error = firehose_transform::formats::alb::parse("http 2018-07-02T22:23:00.186641Z app/x 1.2.3.4 - 0 0 0 200").unwrap_err();
/// assert_eq!(error.to_string(), "expected address:port in `client_ip` at byte 39");
/// ```
pub fn parse<'a>(line: &'a str) -> Result<Entry<'a>, ParseError> {
    let fields = layout().fields();
    let mut row = Row {
        values: Vec::with_capacity(fields.len()),
        extra: Vec::new(),
    };
    let mut n = 0;
    let mut end = 0;
    Splitter::quoted_spaces().for_each(line, |token| {
        end = token.at + token.text.len();
        let values = &mut row.values;
        match n {
            3 | 4 => {
                let first = values.len();
                match token.text {
                    "-" => values.extend([None, None]),
                    address => {
                        let Some((ip, port)) = address.rsplit_once(':') else {
                            return Err(ParseError::new(
                                ErrorKind::Shape("address:port"),
                                Some(fields[first].name()),
                                token.at,
                            ));
                        };
                        let ip = ip
                            .strip_prefix('[')
                            .and_then(|i| i.strip_suffix(']'))
                            .unwrap_or(ip);
                        if !Kind::Integer.accepts(port) {
                            return Err(ParseError::new(
                                ErrorKind::NotA(Kind::Integer),
                                Some(fields[first + 1].name()),
                                token.at + ip.len() + 1,
                            ));
                        }
                        values.push(Some(Cow::Borrowed(ip)));
                        values.push(Some(Cow::Borrowed(port)));
                    }
                }
            }
            12 => {
                let parts = match token.value() {
                    // Borrowed from the line when the request had no escapes.
                    Cow::Borrowed(text) => {
                        let (verb, url, proto) = split_request(text);
                        let part =
                            |s: &'a str| (!s.is_empty() && s != "-").then_some(Cow::Borrowed(s));
                        [part(verb), part(url), part(proto)]
                    }
                    Cow::Owned(text) => {
                        let (verb, url, proto) = split_request(&text);
                        let part = |s: &str| {
                            (!s.is_empty() && s != "-").then(|| Cow::Owned(s.to_string()))
                        };
                        [part(verb), part(url), part(proto)]
                    }
                };
                values.extend(parts);
            }
            _ if n < LINE_FIELDS => {
                let field = &fields[values.len()];
                values.push(typed(field, token)?);
            }
            _ => row.extra.push(token.value()),
        }
        n += 1;
        Ok(())
    })?;
    if n < REQUIRED_LINE_FIELDS {
        return Err(ParseError::new(
            ErrorKind::Missing {
                found: n,
                expected: REQUIRED_LINE_FIELDS,
            },
            Some(fields[row.values.len()].name()),
            end,
        ));
    }
    Ok(Entry { row })
}

/// A request line split at its first and last space: (method, URL, version).
fn split_request(request: &str) -> (&str, &str, &str) {
    match request.split_once(' ') {
        None => ("", request, ""),
        Some((verb, rest)) => match rest.trim_end_matches(' ').rsplit_once(' ') {
            Some((url, proto)) => (verb, url, proto),
            None => (verb, rest.trim_end_matches(' '), ""),
        },
    }
}

/// Writes the entry as one JSON object (no newline): [`FIELDS`] in order,
/// then `extra_fields` when the line has fields past them.
pub fn write_json(entry: &Entry<'_>, out: &mut Vec<u8>) {
    let mut object = ObjectWriter::new(out);
    write_json_fields(entry, &mut object);
    object.finish();
}

/// Writes the entry's members into an object being written, for adding
/// members of your own.
pub fn write_json_fields(entry: &Entry<'_>, object: &mut ObjectWriter<'_>) {
    entry.row.write_json(layout(), object);
}

#[cfg(test)]
mod tests {
    use super::*;

    const HTTP: &str = concat!(
        r#"http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 "#,
        r#"0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - "#,
        r#"arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "#,
        r#""Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" "#,
        r#""10.0.0.1:80" "200" "-" "-" TID_1234abcd5678ef90 "-" "-" "-""#
    );

    #[test]
    fn every_documented_field_has_its_value() {
        let entry = parse(HTTP).unwrap();
        assert_eq!(entry.row.values.len(), FIELDS.len());
        assert_eq!(entry.get("type"), Some("http"));
        assert_eq!(entry.get("target_ip"), Some("10.0.0.1"));
        assert_eq!(entry.get("target_port"), Some("80"));
        assert_eq!(entry.get("request_verb"), Some("GET"));
        assert_eq!(entry.get("request_proto"), Some("HTTP/1.1"));
        assert_eq!(entry.get("ssl_cipher"), None);
        assert_eq!(entry.get("matched_rule_priority"), Some("0"));
        assert_eq!(entry.get("target_port_list"), Some("10.0.0.1:80"));
        assert_eq!(entry.get("conn_trace_id"), Some("TID_1234abcd5678ef90"));
        assert!(entry.extra().is_empty());
    }

    #[test]
    fn fields_aws_adds_later_are_kept_not_failed() {
        let line = format!("{HTTP} \"new value\" 42");
        let entry = parse(&line).unwrap();
        assert_eq!(entry.extra(), ["new value", "42"]);
        let mut json = Vec::new();
        write_json(&entry, &mut json);
        assert!(String::from_utf8(json)
            .unwrap()
            .ends_with(r#""request_transform_status":null,"extra_fields":["new value","42"]}"#));
    }

    #[test]
    fn a_malformed_request_and_escaped_quotes() {
        let line = HTTP
            .replace(
                r#""GET http://www.example.com:80/ HTTP/1.1""#,
                r#""- - - ""#,
            )
            .replace(r#""curl/7.46.0""#, r#""say \"hi\"""#);
        let entry = parse(&line).unwrap();
        assert_eq!(entry.get("request_verb"), None);
        assert_eq!(entry.get("request_url"), None);
        assert_eq!(entry.get("request_proto"), None);
        assert_eq!(entry.get("user_agent"), Some(r#"say "hi""#));
    }

    #[test]
    fn bad_numbers_and_short_lines_fail_with_the_field_and_byte() {
        let line = HTTP.replace(" 200 200 ", " 200 OK ");
        let error = parse(&line).unwrap_err();
        assert_eq!(error.field(), Some("target_status_code"));
        assert_eq!(&line[error.position()..error.position() + 2], "OK");
        let error =
            parse("http 2018-07-02T22:23:00.186641Z app/x 1.2.3.4:5 - 0.1 0.1 0.1 200 - 1 2")
                .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the line ends after 12 fields, before `request_verb` (expected at least 14) at byte 72"
        );
        assert!(
            parse("h 2 x [2001:db8::1]:80 - 0 0 0 1 - 1 2 \"GET / HTTP/1.1\" \"ua\"")
                .is_ok_and(|e| e.get("client_ip") == Some("2001:db8::1"))
        );
    }
}
