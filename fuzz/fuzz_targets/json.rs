//! JSON both ways on arbitrary text: the string writer escapes exactly as
//! serde_json reads back (and `quoted_len` counts it); the document reader
//! accepts what serde_json accepts, and writes back, as read, looked into
//! fully, and compacted, the same JSON value.
#![no_main]

use firehose_transform::doc::{write_compact, Value};
use firehose_transform::formats::json;
use firehose_transform::serde::de::IgnoredAny;
use firehose_transform::serde_json;
use libfuzzer_sys::fuzz_target;

mod common;

fn same_value(expected: &Option<serde_json::Value>, out: &[u8], what: &str) {
    common::assert_json(out, what);
    if let (Some(expected), Ok(written)) = (expected, serde_json::from_slice(out)) {
        let written: serde_json::Value = written;
        assert_eq!(expected, &written, "{what} changed the value");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    let mut out = Vec::new();
    json::write_str(&mut out, text);
    assert_eq!(json::quoted_len(text), out.len(), "quoted_len");
    let read: String = serde_json::from_slice(&out).expect("write_str writes a JSON string");
    assert_eq!(read, text, "write_str round trip");
    let mut direct = Vec::new();
    serde_json::to_writer(&mut direct, text).unwrap();
    assert_eq!(out, direct, "write_str and serde_json escape differently");

    // What serde_json accepts, `Value::parse_json` accepts, and no more; but
    // IgnoredAny skips strings without decoding them (a lone surrogate
    // `\uDFFF` passes), so where parse_json refuses, serde_json::Value must
    // refuse too.
    let accepted = serde_json::from_str::<IgnoredAny>(text).is_ok();
    let doc = Value::parse_json(text);
    if doc.is_ok() {
        assert!(
            accepted,
            "Value::parse_json accepts what serde_json refuses"
        );
    } else if accepted {
        assert!(
            serde_json::from_str::<serde_json::Value>(text).is_err(),
            "Value::parse_json {doc:?} where serde_json accepts"
        );
    }
    let Ok(doc) = doc else {
        return;
    };
    // None where serde_json::Value cannot hold it (a number past f64's range).
    let expected = serde_json::from_str::<serde_json::Value>(text).ok();
    same_value(&expected, &doc.to_json(), "Value::to_json");
    let mut full = doc.clone();
    full.for_each_str_mut(&mut |_| {});
    same_value(
        &expected,
        &full.to_json(),
        "Value::to_json after for_each_str_mut",
    );
    let mut compact = Vec::new();
    write_compact(text, &mut compact);
    same_value(&expected, &compact, "write_compact");
    assert!(!compact.contains(&b'\n'), "write_compact left a line break");

    for item in Value::parse_json_stream(text) {
        let Ok((value, own_text)) = item else { break };
        let expected = serde_json::from_str::<serde_json::Value>(own_text).ok();
        same_value(&expected, &value.to_json(), "parse_json_stream");
    }
});
