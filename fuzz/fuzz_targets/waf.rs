//! The AWS WAF log parser on arbitrary text: no panic; the accessors answer
//! and the document writes back as the JSON it was read from.
#![no_main]

use firehose_transform::formats::waf;
use firehose_transform::serde_json;
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(log) = waf::parse(text) else {
        return;
    };
    let _ = (
        log.timestamp_ms(),
        log.webacl_id(),
        log.action(),
        log.terminating_rule_id(),
        log.terminating_rule_type(),
        log.http_source_name(),
        log.client_ip(),
        log.country(),
        log.uri(),
        log.http_method(),
        log.header("user-agent"),
        log.header("Host"),
        log.labels(),
    );
    let out = log.doc().to_json();
    common::assert_json(&out, "waf log");
    if let (Ok(read), Ok(written)) = (
        serde_json::from_str::<serde_json::Value>(log.text()),
        serde_json::from_slice::<serde_json::Value>(&out),
    ) {
        assert_eq!(read, written, "the log's document is not its text");
    }
});
