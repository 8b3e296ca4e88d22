//! VPC flow log records, in the default format or a custom one.
//!
//! Source: *Flow log records* and *Flow log record examples* in the Amazon
//! VPC user guide (<https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html>).
//! A record is one line of space-separated values, in the order of the flow
//! log's format: the **default format** is the version 2 fields
//! ([`DEFAULT_FORMAT`]); a **custom format** lists any of the fields, in any
//! order, as `${field}` placeholders (the `LogFormat` that
//! `aws ec2 describe-flow-logs` shows). `-` means the field does not apply
//! to the record or could not be computed; a record with `log-status`
//! `NODATA` (no traffic in the window) or `SKIPDATA` (records skipped) has
//! `-` in every traffic field.
//!
//! ```
//! use firehose_transform::formats::vpc_flow::{Format, LogStatus};
//!
//! let format = Format::default(); // version 2
//! let record = format.parse("2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK").unwrap();
//! assert_eq!(record.get("dstport"), Some("22"));
//! assert_eq!(record.log_status(), Some(LogStatus::Ok));
//!
//! let nodata = format.parse("2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA").unwrap();
//! assert_eq!(nodata.get("srcaddr"), None);
//! assert_eq!(nodata.log_status(), Some(LogStatus::NoData));
//!
//! let custom = Format::new("${instance-id} ${interface-id} ${srcaddr} ${dstaddr} ${pkt-srcaddr} ${pkt-dstaddr}").unwrap();
//! let record = custom.parse("- eni-1235b8ca123456789 10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5").unwrap();
//! let mut json = Vec::new();
//! custom.write_json(&record, &mut json);
//! assert_eq!(
//!     String::from_utf8(json).unwrap(),
//!     r#"{"instance_id":null,"interface_id":"eni-1235b8ca123456789","srcaddr":"10.0.1.5","dstaddr":"10.0.0.220","pkt_srcaddr":"10.0.1.5","pkt_dstaddr":"203.0.113.5"}"#
//! );
//! ```
//!
//! # Fields
//!
//! JSON members are the AWS names with `-` as `_` (`log-status` is
//! `log_status`), in the format's order. Integers are JSON numbers, every
//! field is `null` for `-`. A line with more values than the format has the
//! rest in `extra_fields` (never a failure); one with fewer fails.
//!
//! | field | version | type | value (from the AWS documentation) |
//! |---|---|---|---|
//! | `version` | 2 | integer | the flow log version: 2 for the default format; for a custom one, the highest version among its fields |
//! | `account-id` | 2 | text | the account owning the source network interface (`unknown` for some AWS-managed interfaces) |
//! | `interface-id` | 2 | text | the network interface the traffic is recorded for |
//! | `srcaddr` | 2 | text | source address (incoming: where it came from; outgoing: the interface's private address) |
//! | `dstaddr` | 2 | text | destination address |
//! | `srcport` | 2 | integer | source port |
//! | `dstport` | 2 | integer | destination port |
//! | `protocol` | 2 | integer | IANA protocol number (6 TCP, 17 UDP, 1 ICMP) |
//! | `packets` | 2 | integer | packets in the flow |
//! | `bytes` | 2 | integer | bytes in the flow |
//! | `start` | 2 | integer | Unix seconds of the first packet of the flow in the window |
//! | `end` | 2 | integer | Unix seconds of the last packet of the flow in the window |
//! | `action` | 2 | text | `ACCEPT` or `REJECT` |
//! | `log-status` | 2 | text | `OK`, `NODATA` or `SKIPDATA` |
//! | `vpc-id` | 3 | text | the VPC of the interface |
//! | `subnet-id` | 3 | text | the subnet of the interface |
//! | `instance-id` | 3 | text | the instance of the interface, when you own it |
//! | `tcp-flags` | 3 | integer | bitmask of TCP flags seen in the window (FIN 1, SYN 2, RST 4, SYN-ACK 18, ...) |
//! | `type` | 3 | text | `IPv4`, `IPv6` or `EFA` |
//! | `pkt-srcaddr` | 3 | text | the packet's original source address |
//! | `pkt-dstaddr` | 3 | text | the packet's original destination address |
//! | `region` | 4 | text | the Region of the interface |
//! | `az-id` | 4 | text | the Availability Zone ID |
//! | `sublocation-type` | 4 | text | `wavelength`, `outpost` or `localzone` |
//! | `sublocation-id` | 4 | text | the sublocation's ID |
//! | `pkt-src-aws-service` | 5 | text | the AWS service `pkt-srcaddr` belongs to (`AMAZON`, `S3`, `EC2`, ...) |
//! | `pkt-dst-aws-service` | 5 | text | the same for `pkt-dstaddr` |
//! | `flow-direction` | 5 | text | `ingress` or `egress` |
//! | `traffic-path` | 5 | integer | the path egress traffic took (1 through another resource in the VPC, ... 8 through a VPC peering connection) |
//! | `ecs-cluster-arn`, `ecs-cluster-name`, `ecs-container-instance-arn`, `ecs-container-instance-id`, `ecs-container-id`, `ecs-second-container-id`, `ecs-service-name`, `ecs-task-definition-arn`, `ecs-task-arn`, `ecs-task-id` | 7 | text | the Amazon ECS cluster, container instance, containers, service, task definition and task the traffic belongs to |
//! | `reject-reason` | 8 | text | why traffic was rejected (`BPA` for VPC Block Public Access) |
//!
//! A name not in this table (a field AWS adds after this was written) is
//! accepted in a custom format and read as text, so a new field never stops
//! a pipeline.

use std::borrow::Cow;

use crate::formats::fields::{Kind, Layout, LayoutError, ParseError, Row, Splitter};
use crate::formats::json::ObjectWriter;

/// The default (version 2) format, as AWS writes it.
pub const DEFAULT_FORMAT: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}";

/// Every documented field: AWS name, version, kind.
pub const FIELDS: &[(&str, u8, Kind)] = &[
    ("version", 2, Kind::Integer),
    ("account-id", 2, Kind::Text),
    ("interface-id", 2, Kind::Text),
    ("srcaddr", 2, Kind::Text),
    ("dstaddr", 2, Kind::Text),
    ("srcport", 2, Kind::Integer),
    ("dstport", 2, Kind::Integer),
    ("protocol", 2, Kind::Integer),
    ("packets", 2, Kind::Integer),
    ("bytes", 2, Kind::Integer),
    ("start", 2, Kind::Integer),
    ("end", 2, Kind::Integer),
    ("action", 2, Kind::Text),
    ("log-status", 2, Kind::Text),
    ("vpc-id", 3, Kind::Text),
    ("subnet-id", 3, Kind::Text),
    ("instance-id", 3, Kind::Text),
    ("tcp-flags", 3, Kind::Integer),
    ("type", 3, Kind::Text),
    ("pkt-srcaddr", 3, Kind::Text),
    ("pkt-dstaddr", 3, Kind::Text),
    ("region", 4, Kind::Text),
    ("az-id", 4, Kind::Text),
    ("sublocation-type", 4, Kind::Text),
    ("sublocation-id", 4, Kind::Text),
    ("pkt-src-aws-service", 5, Kind::Text),
    ("pkt-dst-aws-service", 5, Kind::Text),
    ("flow-direction", 5, Kind::Text),
    ("traffic-path", 5, Kind::Integer),
    ("ecs-cluster-arn", 7, Kind::Text),
    ("ecs-cluster-name", 7, Kind::Text),
    ("ecs-container-instance-arn", 7, Kind::Text),
    ("ecs-container-instance-id", 7, Kind::Text),
    ("ecs-container-id", 7, Kind::Text),
    ("ecs-second-container-id", 7, Kind::Text),
    ("ecs-service-name", 7, Kind::Text),
    ("ecs-task-definition-arn", 7, Kind::Text),
    ("ecs-task-arn", 7, Kind::Text),
    ("ecs-task-id", 7, Kind::Text),
    ("reject-reason", 8, Kind::Text),
];

/// The kind of a field by its AWS name; text for a name not documented.
pub fn kind_of(aws_name: &str) -> Kind {
    FIELDS
        .iter()
        .find(|(name, _, _)| *name == aws_name)
        .map_or(Kind::Text, |&(_, _, kind)| kind)
}

/// `log-status`: whether the window's data was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogStatus {
    /// `OK`: data is logging normally.
    Ok,
    /// `NODATA`: no traffic to or from the interface in the window.
    NoData,
    /// `SKIPDATA`: some records were skipped in the window (capacity, or an
    /// internal error).
    SkipData,
}

/// A flow log's format: its fields, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    layout: Layout,
}

impl Default for Format {
    /// The default (version 2) format.
    fn default() -> Self {
        Format::new(DEFAULT_FORMAT).expect("the default format parses")
    }
}

impl Format {
    /// A format from its field list: `${version} ${srcaddr} ...` as AWS
    /// writes it, or the names alone separated by spaces or commas.
    ///
    /// ```
    /// use firehose_transform::formats::vpc_flow::Format;
    /// let error = Format::new("${version} ${srcaddr ${dstaddr}").unwrap_err();
    /// assert_eq!(error.to_string(), "at character 12: `${` without its closing `}`");
    /// ```
    pub fn new(fields: &str) -> Result<Format, LayoutError> {
        Layout::parse_names(fields, kind_of).map(|layout| Format { layout })
    }

    /// The fields, by JSON name.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Parses one record (one trailing line break ignored).
    ///
    /// ```
    /// use firehose_transform::formats::vpc_flow::Format;
    /// let error = Format::default().parse("2 123456789010 eni-1 1.2.3.4 5.6.7.8 http 22 6 1 1 1 1 ACCEPT OK").unwrap_err();
    /// assert_eq!(error.to_string(), "expected an integer or `-` in `srcport` at byte 37");
    /// ```
    pub fn parse<'a>(&'a self, line: &'a str) -> Result<Record<'a>, ParseError> {
        Splitter::spaces()
            .row(&self.layout, line)
            .map(|row| Record { row, format: self })
    }

    /// Writes a record as one JSON object (no newline).
    pub fn write_json(&self, record: &Record<'_>, out: &mut Vec<u8>) {
        let mut object = ObjectWriter::new(out);
        record.row.write_json(&self.layout, &mut object);
        object.finish();
    }
}

/// One flow log record, borrowing from its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<'a> {
    row: Row<'a>,
    format: &'a Format,
}

impl<'a> Record<'a> {
    /// The value of a field by its AWS name (`log-status`) or JSON name
    /// (`log_status`); `None` for `-` or a field the format lacks.
    pub fn get(&self, name: &str) -> Option<&str> {
        let name = crate::formats::fields::output_name(name);
        self.row.get(&self.format.layout, &name)
    }

    /// The record's `log-status`, when the format has it.
    pub fn log_status(&self) -> Option<LogStatus> {
        match self.get("log_status")? {
            "OK" => Some(LogStatus::Ok),
            "NODATA" => Some(LogStatus::NoData),
            "SKIPDATA" => Some(LogStatus::SkipData),
            _ => None,
        }
    }

    /// The values, in the format's order.
    pub fn row(&self) -> &Row<'a> {
        &self.row
    }

    /// Values past the format's last field.
    pub fn extra(&self) -> &[Cow<'a, str>] {
        &self.row.extra
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_field_has_a_kind_and_names_are_unique() {
        let all: Vec<&str> = FIELDS.iter().map(|f| f.0).collect();
        let format = Format::new(&all.join(" ")).unwrap();
        assert_eq!(format.layout().len(), FIELDS.len());
        assert_eq!(kind_of("bytes"), Kind::Integer);
        assert_eq!(kind_of("some-new-field"), Kind::Text);
    }

    #[test]
    fn more_values_than_the_format_are_kept() {
        let format = Format::new("srcaddr dstaddr").unwrap();
        let record = format.parse("10.0.0.1 10.0.0.2 x y").unwrap();
        assert_eq!(record.extra(), ["x", "y"]);
        let error = format.parse("10.0.0.1").unwrap_err();
        assert_eq!(error.field(), Some("dstaddr"));
    }

    #[test]
    fn skipdata_and_ipv6() {
        let format = Format::default();
        let r = format
            .parse("2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA")
            .unwrap();
        assert_eq!(r.log_status(), Some(LogStatus::SkipData));
        assert_eq!(r.get("action"), None);
        let r = format.parse("2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK").unwrap();
        assert_eq!(
            r.get("srcaddr"),
            Some("2001:db8:1234:a100:8d6e:3477:df66:f105")
        );
    }
}
