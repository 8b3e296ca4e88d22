//! The Apache access log parser on arbitrary lines: it must not panic; a
//! valid UTF-8 line parses the same with `parse` and `parse_lossy`; what
//! parses writes JSON that reads back and a CSV row.
#![no_main]

use firehose_transform::formats::apache;
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let lossy = apache::parse_lossy(data);
    if let Ok(line) = std::str::from_utf8(data) {
        let strict = apache::parse(line);
        match (&strict, &lossy) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "parse and parse_lossy disagree"),
            (Err(a), Err(b)) => assert_eq!(a, b, "parse and parse_lossy fail differently"),
            _ => panic!("parse {strict:?} but parse_lossy {lossy:?}"),
        }
    }
    let Ok(log) = lossy else { return };
    let _ = (log.request_line(), log.verb(), log.timezone(), log.ip());
    let _ = apache::parse_request_line(&log.request);
    let mut out = Vec::new();
    apache::write_json(&log, &mut out);
    common::assert_json(&out, "apache::write_json");
    out.clear();
    apache::write_csv(&log, &mut out);
    assert!(std::str::from_utf8(&out).is_ok(), "CSV is not UTF-8");
});
