//! CloudWatch Logs subscription records on arbitrary bytes: `decode` with a
//! small limit and `Envelope::parse` must not panic, and an envelope that
//! parses survives `encode` -> `decode` -> `parse` unchanged; the bytes as a
//! record through the cloudwatch-logs-processor (raw, envelope and json
//! message formats) keep the contract and never panic.
#![no_main]

use firehose_transform::blueprints::cloudwatch_logs::{CloudWatchLogsProcessor, MessageFormat};
use firehose_transform::config::Settings;
use firehose_transform::formats::cloudwatch_logs::{decode, encode, Envelope};
use firehose_transform::testing;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

mod common;

/// Inflating stops here: 64 KiB, so bombs cost little.
const LIMIT: usize = 64 * 1024;

fn processors() -> &'static [CloudWatchLogsProcessor; 3] {
    static PROCESSORS: OnceLock<[CloudWatchLogsProcessor; 3]> = OnceLock::new();
    PROCESSORS.get_or_init(|| {
        let json = Settings::from_pairs([
            ("MESSAGE_FORMAT", "json"),
            ("PARTITION_KEYS", "group=logGroup,owner"),
            ("BAD_LINE", "drop"),
            ("FIREHOSE_RESPONSE_BUDGET_BYTES", "65536"),
        ]);
        [
            CloudWatchLogsProcessor::new(MessageFormat::Raw, LIMIT),
            CloudWatchLogsProcessor::new(MessageFormat::Envelope, LIMIT),
            CloudWatchLogsProcessor::from_settings(&json).expect("valid settings"),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(bytes) = decode(data, LIMIT) {
        assert!(
            bytes.len() <= LIMIT.max(data.len()),
            "decode went past its limit"
        );
        if let Ok(envelope) = Envelope::parse(&bytes) {
            let record = encode(&envelope, &envelope.log_events);
            let again = decode(&record, usize::MAX).expect("encode writes valid gzip");
            let reparsed = Envelope::parse(&again).expect("encode writes an envelope");
            assert_eq!(envelope, reparsed, "encode/parse round trip");
            for event in &envelope.log_events {
                let _ = event.rfc3339();
            }
        }
    }
    for processor in processors() {
        let processed = testing::run(processor, [data]);
        common::assert_no_panics(&processed);
    }
});
