//! The firehose-pipeline transform, built from settings with a FILTER,
//! PARTITION_KEYS, REDACT_* and an Iceberg table, on arbitrary bytes as a
//! record: the contract kept, no panic, every `Ok` output JSON Lines.
#![no_main]

use firehose_transform::blueprints::pipeline::from_settings;
use firehose_transform::config::Settings;
use firehose_transform::pipeline::Pipeline;
use firehose_transform::testing;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

mod common;

fn pipeline() -> &'static Pipeline {
    static PIPELINE: OnceLock<Pipeline> = OnceLock::new();
    PIPELINE.get_or_init(|| {
        let settings = Settings::from_pairs([
            ("FILTER", ".status >= 400 and .path != \"/health\""),
            (
                "PARTITION_KEYS",
                "{customer: .customer_id, year: (.ts[0:4])}",
            ),
            ("REDACT_FIELDS", ".user.email:hash,.password:drop"),
            ("REDACT_PATTERNS", "credit_card,ipv4,email:hash"),
            ("REDACT_HASH_KEY", "fuzz-key-not-a-secret-0123456789abcdef"),
            ("ICEBERG_TABLE", "web_errors"),
        ]);
        from_settings(&settings).expect("valid settings")
    })
}

fuzz_target!(|data: &[u8]| {
    let processed = testing::run(pipeline(), [data]);
    common::assert_no_panics(&processed);
    if processed.is_ok(0) {
        common::assert_json_lines(processed.data(0), "firehose-pipeline");
    }
});
