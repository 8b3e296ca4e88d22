//! The VPC flow log parser on arbitrary lines, in the default format or one
//! of the fixtures' custom formats (chosen by the first byte): no panic; a
//! record's JSON reads back with the values parsed.
#![no_main]

use firehose_transform::formats::vpc_flow::Format;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

mod common;

fn formats() -> &'static [Format] {
    static FORMATS: OnceLock<Vec<Format>> = OnceLock::new();
    FORMATS.get_or_init(|| {
        let custom = [
            include_str!("../../fixtures/aws/vpc-flow/nat_gateway.format"),
            include_str!("../../fixtures/aws/vpc-flow/tcp_flags_v3.format"),
            include_str!("../../fixtures/aws/vpc-flow/transit_gateway_v3.format"),
        ];
        std::iter::once(Format::default())
            .chain(
                custom
                    .iter()
                    .map(|f| Format::new(f.trim()).expect("a fixture format")),
            )
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
    let formats = formats();
    let format = &formats[usize::from(selector) % formats.len()];
    let Ok(record) = format.parse(line) else {
        return;
    };
    let _ = (record.log_status(), record.get("srcaddr"), record.extra());
    let mut out = Vec::new();
    format.write_json(&record, &mut out);
    common::assert_row_round_trip(format.layout(), record.row(), &out);
});
