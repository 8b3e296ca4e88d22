//! `cloudwatch-logs-processor` on AWS's own sample payloads (fixtures/cloudwatch_logs):
//! in-process with the contract checked, and through the built binary in local mode,
//! against golden outputs. `UPDATE_GOLDEN=1` rewrites the goldens (then read the diff).

use std::process::Command;

use firehose_transform::blueprints::cloudwatch_logs::CloudWatchLogsProcessor;
use firehose_transform::config::Settings;
use firehose_transform::pipeline::decode;
use firehose_transform::testing::{check_contract, fixture_event, run_event};

const BIN: &str = env!("CARGO_BIN_EXE_cloudwatch-logs-processor");
const PIPELINE: &str = env!("CARGO_BIN_EXE_firehose-pipeline");

fn fixture(name: &str) -> String {
    format!(
        "{}/fixtures/cloudwatch_logs/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn processor(pairs: &[(&str, &str)]) -> CloudWatchLogsProcessor {
    CloudWatchLogsProcessor::from_settings(&Settings::from_pairs(pairs.iter().copied())).unwrap()
}

#[test]
fn every_record_of_the_sample_event_gets_its_outcome() {
    let event = fixture_event(fixture("event.json"));
    let processed = run_event(&processor(&[("PARTITION_KEYS", "logGroup")]), &event);
    assert_eq!(
        processed.text(0),
        "[ERROR] First test message\n[ERROR] Second test message\n"
    );
    assert_eq!(
        processed.partition_keys(0),
        &[("logGroup".to_string(), "testLogGroup".to_string())]
    );
    assert_eq!(processed.text(1).lines().count(), 3);
    assert!(processed.text(1).starts_with("{\"eventVersion\":\"1.03\""));
    assert!(processed.is_dropped(2));
    assert_eq!(processed.failure_reason(3), Some(decode::CORRUPT_GZIP));
    assert_eq!(processed.failure_reason(4), Some(decode::TRUNCATED_GZIP));
    assert_eq!(processed.text(5), processed.text(0));
    assert_eq!(processed.failure_reason(6), Some(decode::NOT_ENVELOPE));
    assert!(processed
        .failure(6)
        .unwrap()
        .detail()
        .unwrap()
        .starts_with("missing field"));
    let summary = processed.summary();
    assert_eq!((summary.ok, summary.dropped, summary.failed()), (3, 1, 3));
    assert_eq!(summary.counters[decode::CONTROL_MESSAGES], 1);
}

#[test]
fn the_user_guide_samples_truncated_json_fails_or_drops_by_policy() {
    let event = fixture_event(fixture("event.json"));
    let processed = run_event(&processor(&[("MESSAGE_FORMAT", "json")]), &event);
    let failure = processed.failure(1).unwrap();
    assert_eq!(failure.reason(), "record is not JSON");
    assert!(
        failure.detail().unwrap().starts_with("log event 1: "),
        "{failure}"
    );
    let processed = run_event(
        &processor(&[("MESSAGE_FORMAT", "json"), ("BAD_LINE", "drop")]),
        &event,
    );
    assert!(processed.is_dropped(1));
}

fn decode_with(bin: &str, env: &[(&str, &str)]) -> String {
    let output = Command::new(bin)
        .args(["--event", &fixture("event.json"), "--decode"])
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

fn golden(name: &str, actual: &str) {
    let path = fixture(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (UPDATE_GOLDEN=1 writes it)"));
    assert_eq!(actual, expected, "{name} differs");
}

#[test]
fn the_binary_in_local_mode_matches_the_goldens_for_each_message_format() {
    for format in ["raw", "envelope", "json"] {
        let out = decode_with(BIN, &[("MESSAGE_FORMAT", format), ("BAD_LINE", "drop")]);
        golden(&format!("event.{format}.golden"), &out);
    }
}

#[test]
fn the_binary_answers_within_the_contract() {
    let output = Command::new(BIN)
        .args(["--event", &fixture("event.json")])
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .output()
        .unwrap();
    assert!(output.status.success());
    let event = fixture_event(fixture("event.json"));
    let json = String::from_utf8(output.stdout).unwrap();
    check_contract(&event, json.trim_end().as_bytes(), 6 * 1024 * 1024).unwrap();
}

#[test]
fn the_pipeline_decodes_the_same_envelopes() {
    let out = decode_with(
        PIPELINE,
        &[
            ("RECORD_DECODER", "cloudwatch-logs"),
            ("INPUT_FORMAT", "json"),
            ("BAD_LINE", "drop"),
            ("PARTITION_KEYS", "{group: .cloudwatch.logGroup}"),
        ],
    );
    let processor = decode_with(BIN, &[("MESSAGE_FORMAT", "json"), ("BAD_LINE", "drop")]);
    // Same decoder, same outcomes, same documents.
    assert_eq!(out.lines().count(), processor.lines().count());
    assert!(out.contains("gzip data is truncated"), "{out}");
}

// ---------------------------------------------------------------------------
// Properties: any subscription envelope, gzip or not, comes back event for
// event. The envelope is written by serde_json and compressed by flate2 here,
// independently of the crate's own encoder.

mod properties {
    use super::processor;
    use firehose_transform::formats::cloudwatch_logs::{decode, encode, Envelope};
    use firehose_transform::testing;
    use proptest::prelude::*;
    use serde_json::{json, Value};
    use std::io::Write;

    /// Messages as applications write them: any text, quotes, backslashes,
    /// control characters, non-ASCII, no line break (one output line each).
    fn message() -> impl Strategy<Value = String> {
        "[^\n\r]{0,120}"
    }

    fn events() -> impl Strategy<Value = Vec<(String, i64, String)>> {
        prop::collection::vec(("[0-9]{1,56}", 0i64..4_102_444_800_000, message()), 1..20)
    }

    fn envelope_json(group: &str, events: &[(String, i64, String)]) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "messageType": "DATA_MESSAGE",
            "owner": "123456789012",
            "logGroup": group,
            "logStream": "stream/1",
            "subscriptionFilters": ["all"],
            "logEvents": events.iter().map(|(id, timestamp, message)| json!({
                "id": id, "timestamp": timestamp, "message": message,
            })).collect::<Vec<_>>(),
            // A field a newer CloudWatch Logs may add: ignored.
            "policyLevel": "ACCOUNT_LEVEL_POLICY",
        }))
        .unwrap()
    }

    /// RFC 3339 in UTC, milliseconds shown when not zero, computed here from
    /// the civil-from-days algorithm (H. Hinnant), not the crate's code.
    fn rfc3339(millis: i64) -> String {
        let (seconds, ms) = (millis.div_euclid(1000), millis.rem_euclid(1000));
        let (days, time) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        let fraction = if ms == 0 {
            String::new()
        } else {
            format!(".{ms:03}")
        };
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{fraction}Z",
            time / 3600,
            time / 60 % 60,
            time % 60
        )
    }

    #[test]
    fn the_reference_timestamps_are_right() {
        assert_eq!(rfc3339(1_440_442_987_000), "2015-08-24T19:03:07Z");
        assert_eq!(rfc3339(1_440_442_987_001), "2015-08-24T19:03:07.001Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn raw_output_is_each_message_and_a_line_feed(
            events in events(),
            group in "/aws/[a-z/_-]{1,30}",
            compressed in any::<bool>(),
        ) {
            let json = envelope_json(&group, &events);
            let record = if compressed { gzip(&json) } else { json };
            let processed = testing::run(&processor(&[]), [record]);
            prop_assert!(processed.is_ok(0), "{:?}", processed.record(0));
            let expected: String = events.iter().map(|(_, _, m)| format!("{m}\n")).collect();
            prop_assert_eq!(processed.text(0), expected);
        }

        #[test]
        fn envelope_output_carries_every_field_of_every_event(events in events()) {
            let record = gzip(&envelope_json("/aws/lambda/app", &events));
            let processed = testing::run(&processor(&[("MESSAGE_FORMAT", "envelope")]), [record]);
            prop_assert!(processed.is_ok(0), "{:?}", processed.record(0));
            let lines: Vec<Value> = processed
                .text(0)
                .lines()
                .map(|line| serde_json::from_str(line).unwrap())
                .collect();
            prop_assert_eq!(lines.len(), events.len());
            for (line, (id, timestamp, message)) in lines.iter().zip(&events) {
                prop_assert_eq!(&line["id"], id.as_str());
                prop_assert_eq!(&line["message"], message.as_str());
                prop_assert_eq!(&line["logGroup"], "/aws/lambda/app");
                prop_assert_eq!(&line["owner"], "123456789012");
                prop_assert_eq!(line["timestamp"].as_str().unwrap(), rfc3339(*timestamp));
            }
        }

        #[test]
        fn halves_re_encoded_decode_to_the_same_events(events in events(), at in 0usize..20) {
            let json = envelope_json("g", &events);
            let envelope = Envelope::parse(&json).unwrap();
            let at = at.min(envelope.log_events.len());
            let (first, second) = envelope.log_events.split_at(at);
            for half in [first, second] {
                let record = encode(&envelope, half);
                let bytes = decode(&record, 1 << 24).unwrap();
                let back = Envelope::parse(&bytes).unwrap();
                prop_assert_eq!(back.log_group.as_ref(), "g");
                let messages: Vec<&str> = back.log_events.iter().map(|e| e.message.as_ref()).collect();
                let wanted: Vec<&str> = half.iter().map(|e| e.message.as_ref()).collect();
                prop_assert_eq!(messages, wanted);
            }
        }
    }
}
