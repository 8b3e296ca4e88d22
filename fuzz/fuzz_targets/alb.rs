//! The ALB access log parser on arbitrary lines: no panic; an entry's JSON
//! reads back with the values parsed.
#![no_main]

use firehose_transform::formats::alb;
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(entry) = alb::parse(line) else {
        return;
    };
    let _ = (entry.get("client_ip"), entry.get("request"), entry.extra());
    let mut out = Vec::new();
    alb::write_json(&entry, &mut out);
    common::assert_row_round_trip(alb::layout(), entry.row(), &out);
});
