//! `geoip-enrich`: adds GeoIP fields to JSON records.
//!
//! Each record is a JSON object, or several newline-delimited ones. The
//! address is read from a field (nested fields with dots: `client.ip`), looked
//! up with [`GeoIp`], and the fields found are added as an object under the
//! target member. Each output object ends with a newline.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `GEOIP_DATABASE` | (required) | the `.mmdb` file(s), comma-separated; see [`crate::enrich::geoip`] |
//! | `GEOIP_IP_FIELD` | (required) | the member holding the address; dots descend into nested objects |
//! | `GEOIP_TARGET_FIELD` | `geo` | the top-level member the fields are added under (replaced if present) |
//! | `GEOIP_FIELDS` | see [`FieldSet::DEFAULT`](crate::enrich::geoip::FieldSet::DEFAULT) | the fields to add |
//! | `GEOIP_LANGUAGE` | `en` | the language of names |
//! | `GEOIP_PASS_INVALID_RECORDS` | `false` | pass records that are not JSON objects, or lack the address field, through unchanged instead of failing them |
//! | `APPEND_NEWLINE` | `true` | end the last object of a record with a newline too |
//!
//! An address that is private, reserved, malformed or unknown leaves its
//! object as it was (not a failure); the invocation summary counts it
//! (`geoip.private`, `geoip.not_found`, ... see [`Skip`]), and counts the
//! enriched objects as `geoip.enriched`.
//!
//! The new member is spliced into the object's original text: nothing else in
//! the record is re-encoded, and member order, number formatting and escapes
//! stay as they were. Only when the target member already exists is the
//! object rewritten (members copied verbatim, the old target left out), so a
//! record never has two members of the same name.
//!
//! ```
//! use firehose_transform::{blueprints::geoip::GeoIpEnrich, config::Settings, testing};
//!
//! let city = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/mmdb/GeoIP2-City-Test.mmdb");
//! let settings = Settings::from_pairs([
//!     ("GEOIP_DATABASE", city),
//!     ("GEOIP_IP_FIELD", "client.ip"),
//!     ("GEOIP_FIELDS", "country_iso_code,city_name"),
//! ]);
//! let transform = GeoIpEnrich::from_settings(&settings)?;
//! let processed = testing::run(&transform, [r#"{"client":{"ip":"81.2.69.142"},"n":1}"#]);
//! assert_eq!(
//!     processed.text(0),
//!     "{\"client\":{\"ip\":\"81.2.69.142\"},\"n\":1,\"geo\":{\"country_iso_code\":\"GB\",\"city_name\":\"London\"}}\n"
//! );
//! assert_eq!(processed.summary().counters["geoip.enriched"], 1);
//! # Ok::<(), firehose_transform::config::ConfigError>(())
//! ```

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::blueprints::APPEND_NEWLINE;
use crate::config::{ConfigError, Settings};
use crate::enrich::geoip::{self, GeoIp, Skip};
use crate::event::CowStr;
use crate::formats::json::ObjectWriter;
use crate::transform::{Context, Failure, Output, Record, Transform};

/// Setting: the member holding the address (`client.ip` for a nested one).
pub const IP_FIELD: &str = "GEOIP_IP_FIELD";
/// Setting: the top-level member the GeoIP object is added under.
pub const TARGET_FIELD: &str = "GEOIP_TARGET_FIELD";
/// Setting: pass invalid records (not JSON objects, or without the address
/// field) through unchanged rather than failing them.
pub const PASS_INVALID_RECORDS: &str = "GEOIP_PASS_INVALID_RECORDS";
/// The target member when `GEOIP_TARGET_FIELD` is not set.
pub const DEFAULT_TARGET: &str = "geo";

/// The top-level member GeoIP fields are added under: `GEOIP_TARGET_FIELD`,
/// or [`DEFAULT_TARGET`]. Shared with `apachelog-to-json`'s enrichment of `host`.
pub fn target_from_settings(settings: &Settings) -> Result<String, ConfigError> {
    let target = settings
        .get(TARGET_FIELD)
        .unwrap_or_else(|| DEFAULT_TARGET.to_string());
    if target.contains('.') {
        return Err(ConfigError::new(
            TARGET_FIELD,
            format!(
                "{target:?}: the target is a top-level member; nested targets are not supported"
            ),
        ));
    }
    Ok(target)
}

/// Failure reason: a line of the record is not a JSON object.
pub const NOT_JSON_OBJECT: &str = "record is not a JSON object";
/// Failure reason: an object has no address field (or it is `null`).
pub const NO_ADDRESS_FIELD: &str = "record lacks the address field";
/// Failure reason: the address field is not a string.
pub const ADDRESS_NOT_STRING: &str = "address field is not a string";

/// Counter: objects that received GeoIP fields.
pub const ENRICHED: &str = "geoip.enriched";
/// Counter: invalid objects passed through (with `GEOIP_PASS_INVALID_RECORDS`).
pub const PASSED_INVALID: &str = "geoip.invalid_passed_through";

/// The `geoip-enrich` transform.
#[derive(Debug)]
pub struct GeoIpEnrich {
    geoip: GeoIp,
    ip_field: String,
    target: String,
    pass_invalid: bool,
    append_newline: bool,
}

impl GeoIpEnrich {
    /// Reads the settings in the [module docs](self); `GEOIP_DATABASE` and
    /// `GEOIP_IP_FIELD` are required.
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        let geoip = GeoIp::from_settings(settings)?
            .ok_or_else(|| ConfigError::new(geoip::DATABASE, "is required but not set"))?;
        let ip_field = settings.require(IP_FIELD)?;
        let mut transform =
            GeoIpEnrich::new(geoip, &ip_field)?.target(&target_from_settings(settings)?)?;
        transform.pass_invalid = settings.flag(PASS_INVALID_RECORDS, false)?;
        transform.append_newline = settings.flag(APPEND_NEWLINE, true)?;
        Ok(transform)
    }

    /// Enriches from the address in `ip_field` (dotted path), under
    /// [`DEFAULT_TARGET`], failing invalid records.
    pub fn new(geoip: GeoIp, ip_field: &str) -> Result<Self, ConfigError> {
        if ip_field.split('.').any(str::is_empty) {
            return Err(ConfigError::new(
                IP_FIELD,
                format!("{ip_field:?} is not a field path (names separated by single dots)"),
            ));
        }
        Ok(GeoIpEnrich {
            geoip,
            ip_field: ip_field.to_string(),
            target: DEFAULT_TARGET.to_string(),
            pass_invalid: false,
            append_newline: true,
        })
    }

    /// Adds the fields under the top-level member `target` instead.
    pub fn target(mut self, target: &str) -> Result<Self, ConfigError> {
        if target.contains('.') {
            return Err(ConfigError::new(
                TARGET_FIELD,
                format!("{target:?}: the target is a top-level member; nested targets are not supported"),
            ));
        }
        if self.ip_field.split('.').next() == Some(target) {
            return Err(ConfigError::new(
                TARGET_FIELD,
                format!(
                    "{target:?} would replace the address field ({IP_FIELD}={})",
                    self.ip_field
                ),
            ));
        }
        self.target = target.to_string();
        Ok(self)
    }

    /// Passes invalid records through unchanged (`true`) or fails them.
    pub fn pass_invalid(mut self, pass: bool) -> Self {
        self.pass_invalid = pass;
        self
    }

    /// The enricher.
    pub fn geoip(&self) -> &GeoIp {
        &self.geoip
    }

    /// Enriches one JSON object (`line`, surrounding whitespace allowed),
    /// appending the result and a newline to `out`. A skipped lookup appends
    /// the object unchanged and is returned (for counting); an object that is
    /// invalid is a [`Failure`] and appends nothing.
    ///
    /// ```
    /// use firehose_transform::blueprints::geoip::GeoIpEnrich;
    /// use firehose_transform::enrich::geoip::{Field, FieldSet, GeoIp, Skip};
    ///
    /// let city = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/mmdb/GeoIP2-City-Test.mmdb");
    /// let fields = FieldSet::of(&[Field::CountryIsoCode]);
    /// let geoip = GeoIp::builder().database(city).fields(fields).open().unwrap();
    /// let transform = GeoIpEnrich::new(geoip, "ip").unwrap();
    /// let mut out = Vec::new();
    /// assert_eq!(transform.enrich_object(br#"{"ip":"10.0.0.1"}"#, &mut out), Ok(Some(Skip::Private)));
    /// assert_eq!(transform.enrich_object(br#"{"geo":1,"ip":"81.2.69.142"}"#, &mut out), Ok(None));
    /// assert_eq!(out, b"{\"ip\":\"10.0.0.1\"}\n{\"ip\":\"81.2.69.142\",\"geo\":{\"country_iso_code\":\"GB\"}}\n");
    /// assert_eq!(transform.enrich_object(b"{}", &mut out).unwrap_err().reason(), "record lacks the address field");
    /// ```
    pub fn enrich_object(&self, line: &[u8], out: &mut Vec<u8>) -> Result<Option<Skip>, Failure> {
        self.enrich_line(line, out)
            .map_err(|invalid| Failure::new(invalid.reason).with_detail(invalid.detail))
    }

    fn enrich_line(&self, line: &[u8], out: &mut Vec<u8>) -> Result<Option<Skip>, Invalid> {
        // One UTF-8 check of the whole line lets serde_json read strings
        // without checking each again.
        let line = std::str::from_utf8(trim_json_whitespace(line)).map_err(|error| {
            Invalid::new(
                NOT_JSON_OBJECT,
                format_args!("invalid UTF-8 at byte {}", error.valid_up_to()),
            )
        })?;
        let mut path = self.ip_field.split('.');
        let first = path.next().unwrap_or_default();
        let root = scan(line, first, Some(&self.target))
            .map_err(|error| Invalid::new(NOT_JSON_OBJECT, error))?;

        // Descend to the address.
        let mut value = root.found;
        for segment in path {
            let Some(raw) = value else { break };
            value = scan(raw.get(), segment, None)
                .ok()
                .and_then(|nested| nested.found);
        }
        let address = match value.map(|raw| serde_json::from_str::<Address<'_>>(raw.get())) {
            None | Some(Ok(Address::Null)) => {
                return Err(Invalid::new(
                    NO_ADDRESS_FIELD,
                    format_args!("no {}", self.ip_field),
                ))
            }
            Some(Ok(Address::Text(text))) => text,
            Some(Ok(Address::Other(kind))) => {
                return Err(Invalid::new(
                    ADDRESS_NOT_STRING,
                    format_args!("{} is {kind}", self.ip_field),
                ))
            }
            Some(Err(error)) => return Err(Invalid::new(NOT_JSON_OBJECT, error)),
        };

        let geo = match self.geoip.lookup_str(address.trim()) {
            Ok(geo) => geo,
            Err(skip) => {
                out.extend_from_slice(line.as_bytes());
                out.push(b'\n');
                return Ok(Some(skip));
            }
        };

        match (root.target_present, line.strip_suffix('}')) {
            (false, Some(open)) => {
                // Splice: the original text minus its closing brace, then the new member.
                out.extend_from_slice(open.as_bytes());
                let mut obj = ObjectWriter::resume(out, root.members > 0);
                geo.write_object(&mut obj, &self.target);
                obj.finish();
            }
            _ => {
                // Rewrite: every member but the old target, verbatim, then the new one.
                let members =
                    members(line).map_err(|error| Invalid::new(NOT_JSON_OBJECT, error))?;
                let mut obj = ObjectWriter::new(out);
                for (key, raw) in members
                    .iter()
                    .filter(|(key, _)| *key != self.target.as_str())
                {
                    obj.raw(key, raw.get().as_bytes());
                }
                geo.write_object(&mut obj, &self.target);
                obj.finish();
            }
        }
        out.push(b'\n');
        Ok(None)
    }
}

/// Why an object cannot be enriched: a fixed reason and this object's specifics.
struct Invalid {
    reason: &'static str,
    detail: String,
}

impl Invalid {
    fn new(reason: &'static str, detail: impl fmt::Display) -> Invalid {
        Invalid {
            reason,
            detail: detail.to_string(),
        }
    }
}

/// A record on its way through the stages: its bytes, and the output built
/// while enriching (written out by `convert`).
#[derive(Debug)]
pub struct Item<'a> {
    data: &'a [u8],
    out: Vec<u8>,
}

thread_local! {
    /// The previous record's output buffer, reused so that a batch allocates
    /// once rather than per record.
    static SPARE: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

impl Transform for GeoIpEnrich {
    type Item<'a> = Item<'a>;

    fn parse<'a>(&self, record: &Record<'a>, _cx: &mut Context) -> Result<Item<'a>, Failure> {
        let mut out = SPARE.with(Cell::take);
        out.clear();
        out.reserve(record.data.len() + 256);
        Ok(Item {
            data: record.data,
            out,
        })
    }

    fn enrich(&self, item: &mut Item<'_>, cx: &mut Context) -> Result<(), Failure> {
        let mut objects = 0;
        for (index, line) in item.data.split(|&b| b == b'\n').enumerate() {
            if trim_json_whitespace(line).is_empty() {
                continue;
            }
            objects += 1;
            match self.enrich_line(line, &mut item.out) {
                Ok(None) => cx.count(ENRICHED),
                Ok(Some(skip)) => cx.count(skip.counter()),
                Err(_) if self.pass_invalid => {
                    cx.count(PASSED_INVALID);
                    item.out
                        .extend_from_slice(line.strip_suffix(b"\r").unwrap_or(line));
                    item.out.push(b'\n');
                }
                Err(invalid) => {
                    return Err(Failure::new(invalid.reason).with_detail(format_args!(
                        "line {}: {}",
                        index + 1,
                        invalid.detail
                    )));
                }
            }
        }
        if objects == 0 {
            if self.pass_invalid {
                cx.count(PASSED_INVALID);
                item.out.extend_from_slice(item.data);
                return Ok(());
            }
            return Err(Failure::new(NOT_JSON_OBJECT).with_detail("the record is empty"));
        }
        if !self.append_newline && item.out.last() == Some(&b'\n') {
            item.out.pop();
        }
        Ok(())
    }

    fn convert(&self, item: Item<'_>, out: &mut Output, _cx: &mut Context) -> Result<(), Failure> {
        out.write(&item.out);
        SPARE.with(|spare| spare.set(item.out));
        Ok(())
    }
}

/// Strips JSON whitespace (space, tab, CR, LF) from both ends.
fn trim_json_whitespace(bytes: &[u8]) -> &[u8] {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = bytes
        .iter()
        .position(|b| !is_space(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |i| i + 1);
    bytes.get(start..end).unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Reading the object without building it

/// What one pass over an object found.
struct Scan<'a> {
    /// How many members it has.
    members: usize,
    /// The value of the member looked for.
    found: Option<&'a RawValue>,
    /// Whether the target member is present.
    target_present: bool,
}

/// Validates `text` as one JSON object and finds the member `name` (and
/// whether `target` is present), borrowing rather than copying.
fn scan<'a>(
    text: &'a str,
    name: &str,
    target: Option<&str>,
) -> Result<Scan<'a>, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let scan = deserializer.deserialize_map(ScanVisitor { name, target })?;
    deserializer.end()?;
    Ok(scan)
}

struct ScanVisitor<'n> {
    name: &'n str,
    target: Option<&'n str>,
}

impl<'de> Visitor<'de> for ScanVisitor<'_> {
    type Value = Scan<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scan<'de>, A::Error> {
        let mut scan = Scan {
            members: 0,
            found: None,
            target_present: false,
        };
        while let Some(key) = map.next_key_seed(KeySeed {
            name: self.name,
            target: self.target,
        })? {
            scan.members += 1;
            match key {
                KeyMatch::Name => scan.found = Some(map.next_value::<&'de RawValue>()?),
                KeyMatch::Target => {
                    scan.target_present = true;
                    map.next_value::<IgnoredAny>()?;
                }
                KeyMatch::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(scan)
    }
}

enum KeyMatch {
    Name,
    Target,
    Other,
}

/// Compares a key with the names looked for, escaped or not, without keeping it.
struct KeySeed<'n> {
    name: &'n str,
    target: Option<&'n str>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = KeyMatch;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<KeyMatch, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed<'_> {
    type Value = KeyMatch;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<KeyMatch, E> {
        Ok(if key == self.name {
            KeyMatch::Name
        } else if Some(key) == self.target {
            KeyMatch::Target
        } else {
            KeyMatch::Other
        })
    }
}

/// Every member of an object, names unescaped and values as their text.
fn members(text: &str) -> Result<Vec<(Cow<'_, str>, &RawValue)>, serde_json::Error> {
    struct Members;
    impl<'de> Visitor<'de> for Members {
        type Value = Vec<(Cow<'de, str>, &'de RawValue)>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut members = Vec::new();
            while let Some(key) = map.next_key::<CowStr<'de>>()? {
                members.push((key.0, map.next_value::<&'de RawValue>()?));
            }
            Ok(members)
        }
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let members = deserializer.deserialize_map(Members)?;
    deserializer.end()?;
    Ok(members)
}

/// The address field's value.
enum Address<'a> {
    Text(Cow<'a, str>),
    Null,
    Other(&'static str),
}

impl<'de> serde::Deserialize<'de> for Address<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AddressVisitor;
        impl<'de> Visitor<'de> for AddressVisitor {
            type Value = Address<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Address<'de>, E> {
                Ok(Address::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Address<'de>, E> {
                Ok(Address::Text(Cow::Owned(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Address<'de>, E> {
                Ok(Address::Null)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Address<'de>, E> {
                Ok(Address::Other("a boolean"))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Address<'de>, E> {
                Ok(Address::Other("a number"))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Address<'de>, E> {
                Ok(Address::Other("a number"))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Address<'de>, E> {
                Ok(Address::Other("a number"))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Address<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Address::Other("an array"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Address<'de>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Address::Other("an object"))
            }
        }
        deserializer.deserialize_any(AddressVisitor)
    }
}

/// The variables `geoip-enrich` reads (beside the engine's).
pub const VARIABLES: &[&str] = &[
    APPEND_NEWLINE,
    geoip::DATABASE,
    geoip::FIELDS,
    geoip::LANGUAGE,
    TARGET_FIELD,
    IP_FIELD,
    PASS_INVALID_RECORDS,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_is_trimmed_from_both_ends_only() {
        assert_eq!(trim_json_whitespace(b" \t{\"a\": 1}\r\n"), b"{\"a\": 1}");
        assert_eq!(trim_json_whitespace(b" \r\n "), b"");
        assert_eq!(trim_json_whitespace(b""), b"");
    }

    #[test]
    fn scanning_finds_escaped_member_names() {
        let scan = scan(
            r#"{"\u0069p":"1.2.3.4","g\u0065o":null}"#,
            "ip",
            Some("geo"),
        )
        .unwrap();
        assert_eq!(scan.found.map(RawValue::get), Some(r#""1.2.3.4""#));
        assert!(scan.target_present);
        assert_eq!(scan.members, 2);
    }

    #[test]
    fn scanning_rejects_anything_but_one_object() {
        for text in ["[1]", "\"x\"", "{\"a\":1} {}", "{\"a\":}", "{\"a\":1"] {
            assert!(scan(text, "a", None).is_err(), "{text}");
        }
    }
}
