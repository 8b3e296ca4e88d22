//! The fixture events of each source through the testing kit and the
//! `aws_lambda_events` conversions.

use aws_lambda_events::event::firehose::{KinesisFirehoseEvent, KinesisFirehoseResponse};
use firehose_transform::blueprints::process_record::ProcessRecord;
use firehose_transform::response::RecordResult;
use firehose_transform::testing::{fixture_event, run_event};
use firehose_transform::{Engine, Event, SourceKind, SourceMetadata};

fn fixture(name: &str) -> Event<'static> {
    fixture_event(format!(
        "{}/fixtures/events/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    ))
}

const NEWLINE: ProcessRecord = ProcessRecord {
    append_newline: true,
    drop_empty: false,
    keep: None,
    drop: None,
};

#[test]
fn each_source_passes_through_with_its_metadata() {
    for (name, kind) in [
        ("direct-put", SourceKind::DirectPut),
        ("kinesis", SourceKind::Kinesis),
        ("msk", SourceKind::Msk),
    ] {
        let event = fixture(name);
        assert_eq!(event.source_kind(), kind, "{name}");
        let processed = run_event(&NEWLINE, &event);
        assert_eq!(processed.len(), 4, "{name}");
        assert!(processed.text(3).starts_with("héllo wörld"), "{name}");
        assert!(
            processed.ok_texts().iter().all(|t| t.ends_with('\n')),
            "{name}"
        );
        let json = std::str::from_utf8(processed.response_json()).unwrap();
        assert_eq!(
            json.contains("\"kafkaRecordValue\""),
            kind == SourceKind::Msk,
            "{name}"
        );
    }
}

#[test]
fn kinesis_subsequence_numbers_read_as_numbers_either_way() {
    let event = fixture("kinesis");
    let numbers: Vec<_> = event
        .records
        .iter()
        .map(|r| match r.source() {
            SourceMetadata::Kinesis(meta) => meta.subsequence_number,
            other => panic!("expected Kinesis metadata, got {other:?}"),
        })
        .collect();
    assert_eq!(numbers, [Some(0), Some(1), Some(2), Some(3)]);
}

#[test]
fn aws_lambda_events_rejects_a_string_subsequence_number_that_we_accept() {
    // Why this crate reads events with its own types: some Kinesis events send
    // subsequenceNumber as a string.
    let json = std::fs::read(format!(
        "{}/fixtures/events/kinesis.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    assert!(serde_json::from_slice::<KinesisFirehoseEvent>(&json).is_err());
    assert_eq!(Event::from_slice(&json).unwrap().records.len(), 4);
}

#[test]
fn aws_lambda_events_types_convert_both_ways() {
    let json = std::fs::read(format!(
        "{}/fixtures/events/direct-put.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let theirs: KinesisFirehoseEvent = serde_json::from_slice(&json).unwrap();
    let ours = Event::try_from(&theirs).unwrap();
    assert_eq!(ours.records.len(), 4);
    // Their timestamp type reads milliseconds through floating point and can
    // come out one short (the fixture's …454 reads as …453); we carry over
    // exactly what it holds.
    let theirs_ms = theirs.records[1]
        .approximate_arrival_timestamp
        .0
        .timestamp_millis();
    assert_eq!(
        ours.records[1].approximate_arrival_timestamp,
        Some(theirs_ms)
    );
    assert!((theirs_ms - 1_495_072_949_454).abs() <= 1);

    let invocation = Engine::new(NEWLINE)
        .process(&ours, None)
        .expect("the event fits");
    let response = KinesisFirehoseResponse::from(&invocation.response);
    assert_eq!(response.records.len(), 4);
    assert_eq!(response.records[0].record_id, theirs.records[0].record_id);
    assert_eq!(
        response.records[0].result.as_deref(),
        Some(RecordResult::Ok.as_str())
    );
    let mut expected = theirs.records[2].data.0.clone();
    expected.push(b'\n');
    assert_eq!(response.records[2].data.0, expected);
}
