//! What the fuzz targets share.
#![allow(dead_code)]

use firehose_transform::engine::PANICKED;
use firehose_transform::serde_json;
use firehose_transform::testing::Processed;

/// The fixtures directory of the crate under test.
pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures");

/// The engine contains a panicking record (it becomes ProcessingFailed), but
/// a transform that panics on some input is still a bug: make it a crash.
pub fn assert_no_panics(processed: &Processed) {
    for (index, record) in processed.records().iter().enumerate() {
        if let Some(failure) = &record.failure {
            assert_ne!(
                failure.reason(),
                PANICKED,
                "record {index} panicked: {:?}",
                failure.detail()
            );
        }
    }
}

/// What a writer produced must be JSON: checked for syntax only, as
/// `serde::de::IgnoredAny` reads it, since RFC 8259 sets no range on numbers
/// and a number past f64's (`1e400`, a 330-digit integer) copied from the
/// input is still JSON, which `serde_json::Value` refuses.
pub fn assert_json(out: &[u8], what: &str) {
    if let Err(error) = serde_json::from_slice::<firehose_transform::serde::de::IgnoredAny>(out) {
        panic!(
            "{what} wrote invalid JSON ({error}): {:?}",
            String::from_utf8_lossy(out)
        );
    }
}

/// Each line of `text` that serde_json reads (JSON Lines output).
pub fn assert_json_lines(out: &[u8], what: &str) {
    for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        assert_json(line, what);
    }
}

/// The round trip of a row format: the JSON a row writes reads back with
/// each text value as parsed, `null` for `-`, a number where the field is
/// numeric, and the extra values under `extra_fields`.
pub fn assert_row_round_trip(
    layout: &firehose_transform::formats::fields::Layout,
    row: &firehose_transform::formats::fields::Row<'_>,
    out: &[u8],
) {
    use firehose_transform::formats::fields::{Kind, EXTRA_FIELDS};
    use serde_json::Value;
    assert_json(out, "Row::write_json");
    // None only for a number past f64's range, which the syntax check allows.
    let Ok(object) = serde_json::from_slice::<serde_json::Map<String, Value>>(out) else {
        return;
    };
    let fields = layout.fields();
    for (index, field) in fields.iter().enumerate() {
        // With a name given twice, the last member wins in serde_json.
        if fields[index + 1..].iter().any(|f| f.name() == field.name())
            || field.name() == EXTRA_FIELDS
        {
            continue;
        }
        let value = row.values.get(index).cloned().flatten();
        let read = &object[field.name()];
        match (value, field.kind()) {
            (None, _) => assert!(read.is_null(), "{}: {read:?} for `-`", field.name()),
            (Some(text), Kind::Text) => {
                assert_eq!(read.as_str(), Some(&*text), "{}", field.name())
            }
            (Some(text), _) => assert!(read.is_number(), "{}: {text:?} -> {read:?}", field.name()),
        }
    }
    if !row.extra.is_empty() && layout.index_of(EXTRA_FIELDS).is_none() {
        let extra: Vec<&str> = object[EXTRA_FIELDS]
            .as_array()
            .expect("extra_fields is an array")
            .iter()
            .map(|v| v.as_str().expect("extra values are strings"))
            .collect();
        let expected: Vec<&str> = row.extra.iter().map(|v| &**v).collect();
        assert_eq!(extra, expected, "extra_fields");
    }
}
