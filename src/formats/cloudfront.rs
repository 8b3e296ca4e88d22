//! CloudFront real-time access log records.
//!
//! Source: *Use real-time access logs* in the Amazon CloudFront developer
//! guide (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/real-time-logs.html>).
//! A real-time log configuration selects some of the fields below; CloudFront
//! then sends each request to Kinesis Data Streams as one line of those
//! fields' values separated by tabs, with `-` for a value it does not have.
//! The line has no names, so the field list must be given: [`Fields::new`]
//! takes it as the configuration's `Fields` (`aws cloudfront
//! get-realtime-log-config`), in the order the records have them.
//!
//! ```
//! use firehose_transform::formats::cloudfront::Fields;
//!
//! let fields = Fields::new("timestamp c-ip sc-status sc-bytes cs-method cs-uri-stem time-taken").unwrap();
//! let record = fields.parse("1587162023.123\t192.0.2.100\t200\t12840\tGET\t/index.html\t0.004\n").unwrap();
//! assert_eq!(record.get("c-ip"), Some("192.0.2.100"));
//! let mut json = Vec::new();
//! fields.write_json(&record, &mut json);
//! assert_eq!(
//!     String::from_utf8(json).unwrap(),
//!     r#"{"timestamp":1587162023.123,"c_ip":"192.0.2.100","sc_status":200,"sc_bytes":12840,"cs_method":"GET","cs_uri_stem":"/index.html","time_taken":0.004}"#
//! );
//! ```
//!
//! # Fields
//!
//! JSON members are the AWS names with `-` as `_` (`c-ip` is `c_ip`), in the
//! configuration's order. Values are kept as CloudFront writes them (it
//! URL-encodes some, such as `cs-user-agent` and `cs-uri-query`; they are not
//! decoded here). A value of `-` is `null`; an empty value is `""`. Values
//! past the listed fields go to `extra_fields` (never a failure); a record
//! with fewer values than the list fails.
//!
//! | # | field | type | value (from the AWS documentation) |
//! |---|---|---|---|
//! | 1 | `timestamp` | decimal | when the edge server finished responding, Unix seconds with milliseconds (`1587162023.123`) |
//! | 2 | `c-ip` | text | the viewer's address (IPv4 or IPv6) |
//! | 3 | `s-ip` | text | the address of the CloudFront server that served the request |
//! | 4 | `time-to-first-byte` | decimal | seconds between receiving the request and writing the first byte of the response |
//! | 5 | `sc-status` | integer | the response's HTTP status code (`000`, when the viewer closed the connection before the response, is written `0`) |
//! | 6 | `sc-bytes` | integer | bytes sent to the viewer, headers included |
//! | 7 | `cs-method` | text | the request method |
//! | 8 | `cs-protocol` | text | `http`, `https`, `grpcs`, `ws` or `wss` |
//! | 9 | `cs-host` | text | the distribution's domain name (or the value of the Host header for a custom domain in some cases) |
//! | 10 | `cs-uri-stem` | text | the URL path, without the query string |
//! | 11 | `cs-bytes` | integer | bytes of the request from the viewer, headers included |
//! | 12 | `x-edge-location` | text | the edge location (an IATA code and a number, `SEA19-C1`) |
//! | 13 | `x-edge-request-id` | text | the request's unique ID (the `x-amz-cf-id` header) |
//! | 14 | `x-host-header` | text | the Host header the viewer sent |
//! | 15 | `time-taken` | decimal | seconds from receiving the request to writing the last byte of the response |
//! | 16 | `cs-protocol-version` | text | `HTTP/0.9` to `HTTP/3.0` |
//! | 17 | `c-ip-version` | text | `IPv4` or `IPv6` |
//! | 18 | `cs-user-agent` | text | the User-Agent header (URL-encoded) |
//! | 19 | `cs-referer` | text | the Referer header |
//! | 20 | `cs-cookie` | text | the Cookie header |
//! | 21 | `cs-uri-query` | text | the query string |
//! | 22 | `x-edge-response-result-type` | text | how the response was classified just before it was returned (`Hit`, `RefreshHit`, `Miss`, `LimitExceeded`, `CapacityExceeded`, `Error`, `Redirect`) |
//! | 23 | `x-forwarded-for` | text | the X-Forwarded-For header, when the viewer used a proxy |
//! | 24 | `ssl-protocol` | text | the TLS protocol (`TLSv1.3`) for HTTPS |
//! | 25 | `ssl-cipher` | text | the TLS cipher for HTTPS |
//! | 26 | `x-edge-result-type` | text | how the server classified the response after the last byte left it |
//! | 27 | `fle-encrypted-fields` | integer | how many field-level encryption fields were encrypted and forwarded |
//! | 28 | `fle-status` | text | the field-level encryption status (`Processed`, `ForwardedByContentType`, ...) |
//! | 29 | `sc-content-type` | text | the response's Content-Type |
//! | 30 | `sc-content-len` | integer | the response's Content-Length |
//! | 31 | `sc-range-start` | integer | the first byte of a range response |
//! | 32 | `sc-range-end` | integer | the last byte of a range response |
//! | 33 | `c-port` | integer | the viewer's port |
//! | 34 | `x-edge-detailed-result-type` | text | the result type in more detail (`OriginShieldHit`, `MissGeneratedResponse`, `Error` subtypes such as `ClientCommError`) |
//! | 35 | `c-country` | text | the viewer's country (ISO 3166-1 alpha-2) |
//! | 36 | `cs-accept-encoding` | text | the Accept-Encoding header |
//! | 37 | `cs-accept` | text | the Accept header |
//! | 38 | `cache-behavior-path-pattern` | text | the path pattern of the cache behavior that matched |
//! | 39 | `cs-headers` | text | the request headers, names and values (URL-encoded) |
//! | 40 | `cs-header-names` | text | the request header names |
//! | 41 | `cs-headers-count` | integer | how many request headers there were |
//! | 42 | `primary-distribution-id` | text | with continuous deployment: the primary distribution's ID |
//! | 43 | `primary-distribution-dns-name` | text | with continuous deployment: the primary distribution's domain name |
//! | 44 | `origin-fbl` | decimal | seconds of first-byte latency between CloudFront and the origin |
//! | 45 | `origin-lbl` | decimal | seconds of last-byte latency between CloudFront and the origin |
//! | 46 | `asn` | integer | the viewer's autonomous system number |
//! | | `cmcd-*` (`cmcd-encoded-bitrate`, `cmcd-buffer-length`, `cmcd-session-id`, ... the Common Media Client Data fields) | text | as the media player sent them: values from the client, so kept as text |
//! | | `r-host`, `sr-reason`, `x-edge-mqcs` | text | fields added later (the origin host, the reason for a server-side retry, CloudFront's media quality score) |
//!
//! Any other name is accepted and read as text, so a field CloudFront adds
//! never stops a pipeline.

use std::borrow::Cow;

use crate::formats::fields::{Kind, Layout, LayoutError, ParseError, Row, Splitter};
use crate::formats::json::ObjectWriter;

/// The fields whose values are numbers, by AWS name; every other is text.
pub const NUMERIC_FIELDS: &[(&str, Kind)] = &[
    ("timestamp", Kind::Decimal),
    ("time-to-first-byte", Kind::Decimal),
    ("sc-status", Kind::Integer),
    ("sc-bytes", Kind::Integer),
    ("cs-bytes", Kind::Integer),
    ("time-taken", Kind::Decimal),
    ("fle-encrypted-fields", Kind::Integer),
    ("sc-content-len", Kind::Integer),
    ("sc-range-start", Kind::Integer),
    ("sc-range-end", Kind::Integer),
    ("c-port", Kind::Integer),
    ("cs-headers-count", Kind::Integer),
    ("origin-fbl", Kind::Decimal),
    ("origin-lbl", Kind::Decimal),
    ("asn", Kind::Integer),
];

/// Every field the documentation lists, in its order (the order of a record
/// that has them all).
pub const ALL_FIELDS: &[&str] = &[
    "timestamp",
    "c-ip",
    "s-ip",
    "time-to-first-byte",
    "sc-status",
    "sc-bytes",
    "cs-method",
    "cs-protocol",
    "cs-host",
    "cs-uri-stem",
    "cs-bytes",
    "x-edge-location",
    "x-edge-request-id",
    "x-host-header",
    "time-taken",
    "cs-protocol-version",
    "c-ip-version",
    "cs-user-agent",
    "cs-referer",
    "cs-cookie",
    "cs-uri-query",
    "x-edge-response-result-type",
    "x-forwarded-for",
    "ssl-protocol",
    "ssl-cipher",
    "x-edge-result-type",
    "fle-encrypted-fields",
    "fle-status",
    "sc-content-type",
    "sc-content-len",
    "sc-range-start",
    "sc-range-end",
    "c-port",
    "x-edge-detailed-result-type",
    "c-country",
    "cs-accept-encoding",
    "cs-accept",
    "cache-behavior-path-pattern",
    "cs-headers",
    "cs-header-names",
    "cs-headers-count",
    "primary-distribution-id",
    "primary-distribution-dns-name",
    "origin-fbl",
    "origin-lbl",
    "asn",
];

/// The kind of a field by its AWS name.
pub fn kind_of(aws_name: &str) -> Kind {
    NUMERIC_FIELDS
        .iter()
        .find(|(name, _)| *name == aws_name)
        .map_or(Kind::Text, |&(_, kind)| kind)
}

/// A real-time log configuration's fields, in the order of its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    layout: Layout,
}

impl Fields {
    /// The fields from their names separated by spaces, tabs or commas
    /// (`${name}` placeholders are accepted too).
    pub fn new(names: &str) -> Result<Fields, LayoutError> {
        Layout::parse_names(names, kind_of).map(|layout| Fields { layout })
    }

    /// The fields, by JSON name.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Parses one record (one trailing line break ignored).
    ///
    /// ```
    /// use firehose_transform::formats::cloudfront::Fields;
    /// let fields = Fields::new("timestamp,c-ip,sc-status").unwrap();
    /// let error = fields.parse("1587162023.123\t192.0.2.100").unwrap_err();
    /// assert_eq!(error.to_string(), "the line ends after 2 fields, before `sc_status` (expected at least 3) at byte 26");
    /// ```
    pub fn parse<'a>(&'a self, line: &'a str) -> Result<Record<'a>, ParseError> {
        Splitter::tabs()
            .row(&self.layout, line)
            .map(|row| Record { row, fields: self })
    }

    /// Writes a record as one JSON object (no newline).
    pub fn write_json(&self, record: &Record<'_>, out: &mut Vec<u8>) {
        let mut object = ObjectWriter::new(out);
        record.row.write_json(&self.layout, &mut object);
        object.finish();
    }
}

/// One real-time log record, borrowing from its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<'a> {
    row: Row<'a>,
    fields: &'a Fields,
}

impl<'a> Record<'a> {
    /// The value of a field by its AWS name (`c-ip`) or JSON name (`c_ip`);
    /// `None` for `-` or a field not configured.
    pub fn get(&self, name: &str) -> Option<&str> {
        let name = crate::formats::fields::output_name(name);
        self.row.get(&self.fields.layout, &name)
    }

    /// The values, in the configuration's order.
    pub fn row(&self) -> &Row<'a> {
        &self.row
    }

    /// Values past the configured fields.
    pub fn extra(&self) -> &[Cow<'a, str>] {
        &self.row.extra
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_field_is_accepted_once() {
        let fields = Fields::new(&ALL_FIELDS.join(",")).unwrap();
        assert_eq!(fields.layout().len(), 46);
        for (name, _) in NUMERIC_FIELDS {
            assert!(ALL_FIELDS.contains(name), "{name}");
        }
    }

    #[test]
    fn dashes_are_null_and_empty_values_are_kept() {
        let fields = Fields::new("c-ip cs-cookie cs-referer").unwrap();
        let record = fields.parse("192.0.2.1\t-\t\tnew").unwrap();
        assert_eq!(record.get("cs-cookie"), None);
        assert_eq!(record.get("cs_referer"), Some(""));
        assert_eq!(record.extra(), ["new"]);
    }
}
