//! The geoip-enrich blueprint on arbitrary bytes as a record, with the
//! MaxMind test databases of fixtures/mmdb: two configurations (a top-level
//! address with City and ASN, failing invalid records; a nested one with
//! City alone, passing them through as they are), the contract kept, no
//! panic, and every `Ok` output of the first JSON Lines.
#![no_main]

use firehose_transform::blueprints::geoip::GeoIpEnrich;
use firehose_transform::config::Settings;
use firehose_transform::testing;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

mod common;

fn transforms() -> &'static [GeoIpEnrich; 2] {
    static TRANSFORMS: OnceLock<[GeoIpEnrich; 2]> = OnceLock::new();
    TRANSFORMS.get_or_init(|| {
        let city = format!("{}/mmdb/GeoIP2-City-Test.mmdb", common::FIXTURES);
        let asn = format!("{}/mmdb/GeoLite2-ASN-Test.mmdb", common::FIXTURES);
        let top = Settings::from_pairs([
            ("GEOIP_DATABASE", format!("{city},{asn}")),
            ("GEOIP_IP_FIELD", "ip".to_string()),
        ]);
        let nested = Settings::from_pairs([
            ("GEOIP_DATABASE", city),
            ("GEOIP_IP_FIELD", "client.ip".to_string()),
            ("GEOIP_TARGET_FIELD", "g".to_string()),
            ("GEOIP_PASS_INVALID_RECORDS", "true".to_string()),
        ]);
        [
            GeoIpEnrich::from_settings(&top).expect("valid settings"),
            GeoIpEnrich::from_settings(&nested).expect("valid settings"),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    for (index, transform) in transforms().iter().enumerate() {
        let fails_invalid = index == 0;
        let mut out = Vec::new();
        if transform.enrich_object(data, &mut out).is_ok() && fails_invalid {
            // One object, as the input was (line breaks inside it kept).
            common::assert_json(&out, "enrich_object");
        }
        let processed = testing::run(transform, [data]);
        common::assert_no_panics(&processed);
        if fails_invalid && processed.is_ok(0) {
            common::assert_json_lines(processed.data(0), "geoip-enrich");
        }
    }
});
