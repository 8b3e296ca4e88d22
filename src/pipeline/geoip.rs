//! The GeoIP stage (with the `geoip` feature): the fields of
//! [`enrich::geoip`](crate::enrich::geoip) added to a document.

use std::borrow::Cow;

use crate::doc::{Path, Value};
use crate::enrich::geoip::{GeoIp, Skip};
use crate::formats::json::ObjectWriter;
use crate::pipeline::Stage;
use crate::transform::{Context, Failure};

/// Adds GeoIP fields for the address at a path, under a member of the
/// document (as `geoip-enrich` does for whole records).
///
/// A document without the field, or whose address is private, invalid or
/// unknown, is left as it is and counted (`geoip.missing_field`,
/// `geoip.private`, ...): enrichment is a bonus, not a reason to lose data.
#[derive(Debug)]
pub struct GeoIpField {
    geoip: GeoIp,
    field: Path,
    target: Path,
}

/// The counter of documents without the address field.
pub const GEOIP_MISSING_FIELD: &str = "geoip.missing_field";

impl GeoIpField {
    /// Looks up the string at `field`, adds the fields found at `target`.
    pub fn new(geoip: GeoIp, field: Path, target: Path) -> Self {
        GeoIpField {
            geoip,
            field,
            target,
        }
    }
}

impl Stage for GeoIpField {
    fn apply(&self, doc: &mut Value<'_>, cx: &mut Context) -> Result<bool, Failure> {
        let geo = {
            let Some(value) = doc.get(&self.field) else {
                cx.count(GEOIP_MISSING_FIELD);
                return Ok(true);
            };
            let Some(address) = value.as_str() else {
                cx.count(GEOIP_MISSING_FIELD);
                return Ok(true);
            };
            match self.geoip.lookup_str(address) {
                Ok(geo) if !geo.is_empty() => {
                    let mut text = Vec::with_capacity(256);
                    let mut obj = ObjectWriter::new(&mut text);
                    geo.write_members(&mut obj);
                    obj.finish();
                    String::from_utf8(text).expect("the JSON writer writes UTF-8")
                }
                Ok(_) => {
                    cx.count(Skip::NotFound.counter());
                    return Ok(true);
                }
                Err(skip) => {
                    cx.count(skip.counter());
                    return Ok(true);
                }
            }
        };
        doc.set(&self.target, Value::Raw(Cow::Owned(geo)));
        cx.count(crate::blueprints::geoip::ENRICHED);
        Ok(true)
    }
}
