//! Inputs the fuzz targets (fuzz/, see README.md, "Fuzzing") found to be
//! handled wrongly, each run through the same code as the target that found
//! it, with the behaviour that is right. The inputs are inline; each test
//! names its target and the crash file libFuzzer wrote.

use std::borrow::Cow;

use firehose_transform::doc::Value;

/// Found by the `json` target (crash-e3b187ebd7c741e3d4c84cc42d57894e8329efba:
/// `999999999999999999999999999999999999999990`, minimised with
/// `-minimize_crash` to `99999999909099009099`): a JSON text that is a
/// number, past u64, went through f64, so `to_json` wrote another number
/// (`1e42` for the first; the docs promise "a 30-digit integer stays exact").
/// Numbers are kept as written, at the top level as in members.
#[test]
fn a_top_level_number_is_kept_as_written() {
    for text in [
        "99999999909099009099",
        "999999999999999999999999999999999999999990",
        "1.50",
        "-0",
        "123456789012345678901234567890",
        "1e400",
        " \n12.5e-3\t",
    ] {
        let doc = Value::parse_json(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(doc.to_json(), text.trim().as_bytes(), "{text:?}");
        assert_eq!(doc, Value::Number(Cow::Borrowed(text.trim())), "{text:?}");
    }
    // Still validated as a whole.
    for text in ["1.", "01", "1 2", "-", "1e", "\u{c}1"] {
        assert!(Value::parse_json(text).is_err(), "{text:?}");
    }
    // Members were always kept as written.
    let doc = Value::parse_json(r#"{"n":999999999999999999999999999999999999999990}"#).unwrap();
    assert_eq!(
        doc.to_json(),
        br#"{"n":999999999999999999999999999999999999999990}"#
    );
}

/// The same for the values of a stream (the `json` target reads the text
/// with `parse_json_stream` too).
#[test]
fn numbers_in_a_stream_are_kept_as_written() {
    let text = "1.50\n999999999999999999999999999999999999999990 {\"a\":1.0}\n-7";
    let written: Vec<Vec<u8>> = Value::parse_json_stream(text)
        .map(|item| item.unwrap().0.to_json())
        .collect();
    assert_eq!(
        written,
        [
            &b"1.50"[..],
            b"999999999999999999999999999999999999999990",
            br#"{"a":1.0}"#,
            b"-7"
        ]
    );
}
