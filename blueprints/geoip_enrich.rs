//! `geoip-enrich`: adds GeoIP fields (country, city, location, AS, ...) from
//! MaxMind DB files to JSON records. See `firehose_transform::blueprints::geoip`.

fn main() -> std::process::ExitCode {
    firehose_transform::run_with(firehose_transform::blueprints::geoip::GeoIpEnrich::from_settings)
}
