//! CloudWatch Logs subscription records on arbitrary bytes: `decode` with a
//! small limit and `Envelope::parse` must not panic, `write_messages` gives
//! what `Envelope::parse` and writing each message give (or the same
//! error), and an envelope that parses survives `encode` -> `decode` ->
//! `parse` unchanged; the bytes as a
//! record through the cloudwatch-logs-processor (raw, envelope and json
//! message formats) keep the contract and never panic.
#![no_main]

use firehose_transform::blueprints::cloudwatch_logs::{CloudWatchLogsProcessor, MessageFormat};
use firehose_transform::config::Settings;
use firehose_transform::formats::cloudwatch_logs::{decode, encode, write_messages, Envelope};
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
        let mut messages = Vec::new();
        let written = write_messages(&bytes, &mut messages);
        match Envelope::parse(&bytes) {
            Ok(envelope) => {
                let header = written.expect("write_messages reads what Envelope::parse reads");
                assert_eq!(header, envelope.header(), "write_messages: another header");
                let expected: Vec<u8> = envelope
                    .log_events
                    .iter()
                    .flat_map(|event| [event.message.as_bytes(), b"\n"].concat())
                    .collect();
                assert_eq!(messages, expected, "write_messages: other messages");
            }
            Err(error) => {
                assert_eq!(written, Err(error), "write_messages: another outcome");
                assert!(messages.is_empty(), "write_messages wrote on an error");
            }
        }
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
