//! The syslog parsers (RFC 3164 and RFC 5424) on arbitrary lines: no panic;
//! what parses writes JSON that reads back, and a CSV row.
#![no_main]

use firehose_transform::formats::syslog;
use libfuzzer_sys::fuzz_target;

mod common;

/// 2026-12-03T00:00:00Z, the "received" time RFC 3164 years are guessed from.
const RECEIVED: i64 = 1_796_256_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let _ = syslog::starts_message(line);
    let _ = syslog::parse_rfc3164(line);
    let _ = syslog::parse_rfc5424(line);
    if let Ok(sd) = syslog::StructuredData::parse(line) {
        for element in sd.elements() {
            let _ = element.params().count();
        }
    }
    let Ok(message) = syslog::parse(line) else {
        return;
    };
    if let syslog::Message::Rfc5424(m) = &message {
        for element in m.structured_data.elements() {
            for param in element.params() {
                let unescaped = param.value.unescape();
                let chunks: String = param.value.chunks().collect();
                assert_eq!(unescaped, chunks, "unescape and chunks disagree");
            }
        }
    }
    let mut out = Vec::new();
    syslog::write_json(&mut out, &message, RECEIVED);
    common::assert_json(&out, "syslog::write_json");
    out.clear();
    syslog::write_csv(&mut out, &message, RECEIVED);
    assert!(std::str::from_utf8(&out).is_ok(), "CSV is not UTF-8");
});
