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
