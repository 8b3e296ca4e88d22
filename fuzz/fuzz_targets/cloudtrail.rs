//! The CloudTrail parser on arbitrary text (one event or a log file's
//! `{"Records":[...]}`): no panic; each event's accessors answer and its
//! document writes back as the JSON it was read from.
#![no_main]

use firehose_transform::formats::cloudtrail;
use firehose_transform::serde_json;
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = cloudtrail::parse_event(text);
    let Ok(events) = cloudtrail::parse(text) else {
        return;
    };
    for event in &events {
        let _ = (
            event.event_version(),
            event.event_time(),
            event.event_source(),
            event.event_name(),
            event.aws_region(),
            event.source_ip_address(),
            event.user_agent(),
            event.error_code(),
            event.error_message(),
            event.event_id(),
            event.event_type(),
            event.recipient_account_id(),
            event.event_category(),
            event.read_only(),
        );
        let _ = event.user_identity();
        let out = event.doc().to_json();
        common::assert_json(&out, "cloudtrail event");
        if let (Ok(read), Ok(written)) = (
            serde_json::from_str::<serde_json::Value>(event.text()),
            serde_json::from_slice::<serde_json::Value>(&out),
        ) {
            assert_eq!(read, written, "the event's document is not its text");
        }
    }
});
