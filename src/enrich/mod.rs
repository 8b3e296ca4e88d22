//! Enrichers: add fields to a record (GeoIP, ...). No Firehose in them.
pub mod geoip;
