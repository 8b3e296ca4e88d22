//! `apachelog-to-json` and `apachelog-to-csv`: Apache/NCSA access log lines
//! (Common or Combined format, one per record) to JSON objects or CSV rows.
//!
//! Both are a thin composition of [`formats::apache`](crate::formats::apache):
//! [`parse`](crate::formats::apache::parse) in the parse stage,
//! [`write_json_fields`](crate::formats::apache::write_json_fields) or
//! [`write_csv`](crate::formats::apache::write_csv) in the convert stage. The
//! fields, columns and how they differ from the AWS blueprints are documented
//! there and in `docs/apache.md`.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `APPEND_NEWLINE` | `true` | end each output record with `\n` (S3 and Athena need a delimiter) |
//! | `GEOIP_DATABASE` | unset | `apachelog-to-json` only: MaxMind database(s) to look `host` up in (see [`enrich::geoip`](crate::enrich::geoip)) |
//! | `GEOIP_TARGET_FIELD` | `geo` | the member the GeoIP fields go under |
//! | `GEOIP_FIELDS`, `GEOIP_LANGUAGE` | | as for `geoip-enrich` |
//!
//! - A record that is not an access log line is `ProcessingFailed` with the
//!   reason `not an Apache access log line` and the parser's error as detail
//!   (``expected `[` to open the timestamp at byte 17``).
//! - A record that is not valid UTF-8 is **converted, not failed**: invalid
//!   sequences in text fields become U+FFFD, and the counter
//!   `apache.invalid_utf8` says how many records needed it. Apache itself escapes
//!   every non-ASCII byte, so such bytes come from elsewhere (another server, a
//!   shipper) and are almost always inside a user agent or a path: failing the
//!   whole line for them would lose the rest of it.
//! - A record may hold many lines (Fluent Bit's `simple_aggregation`, the
//!   Kinesis Agent): each line is converted and the outputs are joined with
//!   `\n` under the record's id (blank lines skipped). A line that does not
//!   parse fails the record (`BAD_LINE=fail`, the default; the detail names
//!   the line) or is dropped and counted (`BAD_LINE=drop`, counter
//!   `pipeline.bad_lines_dropped`); a record whose every line was dropped is
//!   `Dropped`. A trailing `\n` or `\r\n` is ignored.
//!
//! ```
//! use firehose_transform::blueprints::apache::{ApacheToCsv, ApacheToJson};
//! use firehose_transform::{config::Settings, testing};
//!
//! let line = r#"::1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 - "-" "curl/8.5.0""#;
//! let json = ApacheToJson::from_settings(&Settings::from_pairs::<&str, &str>([])).unwrap();
//! let processed = testing::run(&json, [line, "not a log line"]);
//! assert!(processed.text(0).starts_with(r#"{"host":"::1","ident":"-""#));
//! assert!(processed.text(0).ends_with("\"agent\":\"curl/8.5.0\"}\n"));
//! assert_eq!(processed.failure_reason(1), Some("not an Apache access log line"));
//!
//! let csv = ApacheToCsv::from_settings(&Settings::from_pairs([("APPEND_NEWLINE", "false")])).unwrap();
//! let processed = testing::run(&csv, [line]);
//! assert_eq!(processed.text(0), "::1,-,-,10/Oct/2000:13:55:36 -0700,GET / HTTP/1.1,200,0,-,curl/8.5.0");
//! ```

#[cfg(feature = "geoip")]
use crate::blueprints::geoip::{target_from_settings, ENRICHED};
use crate::blueprints::{byte_lines, Lines, APPEND_NEWLINE};
use crate::config::{ConfigError, Settings};
#[cfg(feature = "geoip")]
use crate::enrich::geoip::GeoIp;
use crate::formats::apache::{self, AccessLog};
use crate::formats::json::ObjectWriter;
use crate::pipeline::BadLine;
use crate::transform::{Context, Failure, Output, Record, Transform};

/// The failure reason of a record that is not an access log line.
pub const NOT_AN_ACCESS_LOG_LINE: &str = "not an Apache access log line";

/// The counter of records converted with invalid UTF-8 replaced.
pub const INVALID_UTF8_COUNTER: &str = "apache.invalid_utf8";

/// The settings both blueprints share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApacheOptions {
    /// End each output record with `\n` (`APPEND_NEWLINE`, default `true`).
    pub append_newline: bool,
    /// What a bad line among good ones does (`BAD_LINE`, default `fail`).
    pub bad_line: BadLine,
}

impl Default for ApacheOptions {
    fn default() -> Self {
        ApacheOptions {
            append_newline: true,
            bad_line: BadLine::Fail,
        }
    }
}

impl ApacheOptions {
    /// Reads `APPEND_NEWLINE`.
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(ApacheOptions {
            append_newline: settings.flag(APPEND_NEWLINE, true)?,
            bad_line: BadLine::from_settings(settings)?,
        })
    }

    /// Ends the output of line `index` of `count`: lines are joined with
    /// `\n`, and the last gets one when `APPEND_NEWLINE` says so.
    fn end_line(&self, out: &mut Output, index: usize, count: usize) {
        if self.append_newline || index + 1 < count {
            out.write(b"\n");
        }
    }

    /// The parse stage of both blueprints: every line of the record, each
    /// made an item by `item`.
    fn parse_lines<'a, T>(
        &self,
        record: &Record<'a>,
        cx: &mut Context,
        item: impl Fn(AccessLog<'a>) -> T,
    ) -> Result<Lines<T>, Failure> {
        // Most records hold one line, and the parser refuses a line break
        // inside a line: such a record is parsed whole at once, with neither
        // the search for line breaks nor the per-line plumbing first
        // (callgrind, the 10,000-line bench: 71.6 M instructions before,
        // 69.3 M after). One that does not parse is read again as lines.
        if let Ok(Ok(log)) = std::str::from_utf8(record.data).map(apache::parse) {
            return Ok(Lines::One(item(log)));
        }
        Lines::parse(
            record.data,
            self.bad_line,
            cx,
            |cx| parse_line(record.data, cx).map(&item),
            byte_lines,
            |line, cx| parse_line(line, cx).map(&item),
        )
    }
}

/// One line, borrowed when it is valid UTF-8, with invalid sequences
/// replaced (and counted) when not.
fn parse_line<'a>(line: &'a [u8], cx: &mut Context) -> Result<AccessLog<'a>, Failure> {
    let parsed = match std::str::from_utf8(line) {
        Ok(line) => apache::parse(line),
        Err(_) => {
            cx.count(INVALID_UTF8_COUNTER);
            apache::parse_lossy(line)
        }
    };
    parsed.map_err(|error| Failure::new(NOT_AN_ACCESS_LOG_LINE).with_detail(error))
}

/// The `apachelog-to-json` transform.
#[derive(Debug, Default)]
pub struct ApacheToJson {
    /// Its settings.
    pub options: ApacheOptions,
    /// GeoIP enrichment of `host`, when `GEOIP_DATABASE` is set.
    #[cfg(feature = "geoip")]
    pub geoip: Option<HostGeoIp>,
}

/// GeoIP enrichment of the `host` field: the enricher, and the member its
/// fields go under (`GEOIP_TARGET_FIELD`, default `geo`).
#[cfg(feature = "geoip")]
#[derive(Debug)]
pub struct HostGeoIp {
    /// The enricher (`GEOIP_DATABASE`, `GEOIP_FIELDS`, `GEOIP_LANGUAGE`).
    pub geoip: GeoIp,
    /// The member name.
    pub target: String,
}

impl ApacheToJson {
    /// Reads the settings (see the [module documentation](self)).
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        #[cfg(feature = "geoip")]
        let geoip = match GeoIp::from_settings(settings)? {
            Some(geoip) => Some(HostGeoIp {
                geoip,
                target: target_from_settings(settings)?,
            }),
            None => None,
        };
        #[cfg(not(feature = "geoip"))]
        settings.refuse_without_feature(crate::blueprints::GEOIP_DATABASE, "geoip")?;
        Ok(ApacheToJson {
            options: ApacheOptions::from_settings(settings)?,
            #[cfg(feature = "geoip")]
            geoip,
        })
    }
}

/// A parsed line on its way through the JSON transform's stages.
///
/// The enrich stage adds JSON members of its own (GeoIP fields for `host`,
/// say) with [`add_members`](JsonItem::add_members); convert writes them after
/// the log's own members, inside the same object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonItem<'a> {
    /// The parsed line.
    pub log: AccessLog<'a>,
    /// Members added by the enrich stage, as JSON text (each with its leading
    /// comma); empty, and unallocated, when nothing was added.
    extra: Vec<u8>,
}

impl<'a> JsonItem<'a> {
    /// An item with no added members.
    pub fn new(log: AccessLog<'a>) -> Self {
        JsonItem {
            log,
            extra: Vec::new(),
        }
    }

    /// Adds members to the output object; they follow the log's own members.
    ///
    /// ```
    /// use firehose_transform::blueprints::apache::JsonItem;
    /// use firehose_transform::formats::apache;
    ///
    /// let line = r#"81.2.69.142 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1"#;
    /// let mut item = JsonItem::new(apache::parse(line).unwrap());
    /// item.add_members(|obj| {
    ///     let mut geo = obj.object("geoip");
    ///     geo.str("country_iso_code", "GB");
    ///     geo.finish();
    /// });
    /// assert_eq!(item.added_members(), br#","geoip":{"country_iso_code":"GB"}"#);
    /// ```
    pub fn add_members(&mut self, write: impl FnOnce(&mut ObjectWriter<'_>)) {
        // A resumed writer that is never finished: the object's closing brace
        // is convert's to write. `write` gets `&mut`, so it cannot finish it.
        let mut obj = ObjectWriter::resume(&mut self.extra, true);
        write(&mut obj);
    }

    /// The members added so far, as JSON text.
    pub fn added_members(&self) -> &[u8] {
        &self.extra
    }
}

impl Transform for ApacheToJson {
    type Item<'a> = Lines<JsonItem<'a>>;

    fn parse<'a>(
        &self,
        record: &Record<'a>,
        cx: &mut Context,
    ) -> Result<Lines<JsonItem<'a>>, Failure> {
        self.options.parse_lines(record, cx, JsonItem::new)
    }

    fn filter(&self, items: &Lines<JsonItem<'_>>, _cx: &mut Context) -> bool {
        !items.is_empty()
    }

    /// GeoIP of `host`, when configured. An address the database does not
    /// know, a private one or a hostname leaves the line unenriched (not a
    /// failure) and is counted by kind (`geoip.not_found`, ...).
    #[cfg(feature = "geoip")]
    fn enrich(&self, items: &mut Lines<JsonItem<'_>>, cx: &mut Context) -> Result<(), Failure> {
        if let Some(HostGeoIp { geoip, target }) = &self.geoip {
            for item in items.as_mut_slice() {
                let host = item.log.host;
                item.add_members(|obj| match geoip.enrich_object(host, obj, target) {
                    Ok(()) => cx.count(ENRICHED),
                    Err(skip) => cx.count(skip.counter()),
                });
            }
        }
        Ok(())
    }

    fn convert(
        &self,
        items: Lines<JsonItem<'_>>,
        out: &mut Output,
        _cx: &mut Context,
    ) -> Result<(), Failure> {
        let count = items.as_slice().len();
        for (index, item) in items.as_slice().iter().enumerate() {
            let buffer = out.buffer();
            // The object is left open: the added members and the closing brace follow.
            apache::write_json_fields(&item.log, &mut ObjectWriter::new(buffer));
            buffer.extend_from_slice(&item.extra);
            buffer.push(b'}');
            self.options.end_line(out, index, count);
        }
        Ok(())
    }
}

/// The `apachelog-to-csv` transform.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApacheToCsv {
    /// Its settings.
    pub options: ApacheOptions,
}

impl ApacheToCsv {
    /// Reads the settings (see the [module documentation](self)).
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(ApacheToCsv {
            options: ApacheOptions::from_settings(settings)?,
        })
    }
}

impl Transform for ApacheToCsv {
    type Item<'a> = Lines<AccessLog<'a>>;

    fn parse<'a>(
        &self,
        record: &Record<'a>,
        cx: &mut Context,
    ) -> Result<Lines<AccessLog<'a>>, Failure> {
        self.options.parse_lines(record, cx, |log| log)
    }

    fn filter(&self, logs: &Lines<AccessLog<'_>>, _cx: &mut Context) -> bool {
        !logs.is_empty()
    }

    fn convert(
        &self,
        logs: Lines<AccessLog<'_>>,
        out: &mut Output,
        _cx: &mut Context,
    ) -> Result<(), Failure> {
        let count = logs.as_slice().len();
        for (index, log) in logs.as_slice().iter().enumerate() {
            apache::write_csv(log, out.buffer());
            self.options.end_line(out, index, count);
        }
        Ok(())
    }
}

/// The variables `apachelog-to-json` reads (beside the engine's).
pub const JSON_VARIABLES: &[&str] = &[
    APPEND_NEWLINE,
    // The GeoIP settings exist only in a build with the `geoip` feature.
    #[cfg(feature = "geoip")]
    crate::enrich::geoip::DATABASE,
    #[cfg(feature = "geoip")]
    crate::enrich::geoip::FIELDS,
    #[cfg(feature = "geoip")]
    crate::enrich::geoip::LANGUAGE,
    #[cfg(feature = "geoip")]
    crate::blueprints::geoip::TARGET_FIELD,
    crate::blueprints::BAD_LINE,
];

/// The variables `apachelog-to-csv` reads (beside the engine's).
pub const CSV_VARIABLES: &[&str] = &[APPEND_NEWLINE, crate::blueprints::BAD_LINE];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    const LINE: &str =
        r#"192.0.2.7 - - [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.1" 200 12 "-" "UA""#;

    fn json() -> ApacheToJson {
        ApacheToJson::from_settings(&Settings::from_pairs::<&str, &str>([])).unwrap()
    }

    #[test]
    fn newline_is_appended_by_default_and_can_be_turned_off() {
        let processed = testing::run(&json(), [LINE]);
        assert!(processed.text(0).ends_with("}\n"));
        let off = Settings::from_pairs([(APPEND_NEWLINE, "false")]);
        let processed = testing::run(&ApacheToCsv::from_settings(&off).unwrap(), [LINE]);
        assert!(processed.text(0).ends_with(",UA"));
    }

    #[test]
    fn many_lines_in_a_record_are_each_converted_and_bad_ones_follow_the_policy() {
        let two = format!("{LINE}\r\n\n{LINE}\n");
        let processed = testing::run(&ApacheToCsv::default(), [two.as_str()]);
        let row = "192.0.2.7,-,-,10/Oct/2000:13:55:36 -0700,GET /a HTTP/1.1,200,12,-,UA\n";
        assert_eq!(processed.text(0), format!("{row}{row}"));
        let off = Settings::from_pairs([(APPEND_NEWLINE, "false")]);
        let processed = testing::run(&ApacheToCsv::from_settings(&off).unwrap(), [two.as_str()]);
        assert_eq!(processed.text(0), format!("{row}{}", row.trim_end()));

        let mixed = format!("{LINE}\nnot a log line\n{LINE}");
        let processed = testing::run(&json(), [mixed.as_str(), "\n\n"]);
        let failure = processed.failure(0).unwrap();
        assert_eq!(failure.reason(), NOT_AN_ACCESS_LOG_LINE);
        assert!(
            failure.detail().unwrap().starts_with("line 2: "),
            "{failure}"
        );
        assert_eq!(processed.failure_reason(1), Some(NOT_AN_ACCESS_LOG_LINE));

        let drop = Settings::from_pairs([(crate::blueprints::BAD_LINE, "drop")]);
        let transform = ApacheToJson::from_settings(&drop).unwrap();
        let processed = testing::run(&transform, [mixed.as_str(), "bad\nworse"]);
        assert_eq!(processed.text(0).lines().count(), 2);
        assert!(processed.is_dropped(1));
        assert_eq!(
            processed.summary().counters[crate::pipeline::BAD_LINES_DROPPED],
            3
        );
    }

    #[test]
    fn a_bad_newline_setting_names_the_variable() {
        let bad = Settings::from_pairs([(APPEND_NEWLINE, "sometimes")]);
        let error = ApacheToJson::from_settings(&bad).unwrap_err();
        assert_eq!(error.variable(), APPEND_NEWLINE);
    }

    #[test]
    fn added_members_land_inside_the_object() {
        let transform = json();
        let record = Record {
            id: "1",
            data: LINE.as_bytes(),
            approximate_arrival_timestamp: None,
            source: crate::SourceMetadata::DirectPut,
        };
        let mut cx = Context::default();
        let Lines::One(mut item) = transform.parse(&record, &mut cx).unwrap() else {
            panic!("one line, one item")
        };
        item.add_members(|obj| obj.str("city", "London"));
        item.add_members(|obj| obj.u64("asn", 64496));
        let mut out = Output::default();
        transform
            .convert(Lines::One(item), &mut out, &mut cx)
            .unwrap();
        let text = std::str::from_utf8(out.data()).unwrap();
        let value: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(value["city"], "London");
        assert_eq!(value["asn"], 64496);
        assert_eq!(value["host"], "192.0.2.7");
        assert!(text.ends_with("\"agent\":\"UA\",\"city\":\"London\",\"asn\":64496}\n"));
    }
}
