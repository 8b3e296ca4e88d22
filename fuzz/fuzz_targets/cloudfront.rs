//! The CloudFront real-time log parser on arbitrary lines, with the
//! fixtures' two field lists (chosen by the first byte): no panic; a record's
//! JSON reads back with the values parsed.
#![no_main]

use firehose_transform::formats::cloudfront::Fields;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

mod common;

fn configurations() -> &'static [Fields] {
    static FIELDS: OnceLock<Vec<Fields>> = OnceLock::new();
    FIELDS.get_or_init(|| {
        [
            include_str!("../../fixtures/aws/cloudfront/all_fields.format"),
            include_str!("../../fixtures/aws/cloudfront/short.format"),
        ]
        .iter()
        .map(|f| Fields::new(f.trim()).expect("a fixture field list"))
        .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, line)) = data.split_first() else {
        return;
    };
    let Ok(line) = std::str::from_utf8(line) else {
        return;
    };
    let configurations = configurations();
    let fields = &configurations[usize::from(selector) % configurations.len()];
    let Ok(record) = fields.parse(line) else {
        return;
    };
    let _ = (record.get("c-ip"), record.extra());
    let mut out = Vec::new();
    fields.write_json(&record, &mut out);
    common::assert_row_round_trip(fields.layout(), record.row(), &out);
});
