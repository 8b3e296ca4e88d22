//! Enrichers: add fields to a record (GeoIP, ...). No Firehose in them.
#[cfg(feature = "geoip")]
pub mod geoip;
