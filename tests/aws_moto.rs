//! The `aws` feature against a real server: moto in server mode (PyPI
//! `moto[server]`, `pip install 'moto[server]==5.2.1'`), started by each
//! test on a loopback port, with a fault-injecting proxy in front of it that
//! throttles a share of entries and drops connections. The SDK is pointed at
//! them with `AWS_ENDPOINT_URL` (binaries) or `Aws::with_endpoint`
//! (in-process). What was written is read back from moto (the delivery
//! stream's S3 objects, Kinesis `GetRecords`) and compared.
//!
//! Without `moto_server` on PATH every test fails and says how to install it.

#![cfg(feature = "aws")]

mod support;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use firehose_transform::aws::writer::{Destination, Entry, Writer, WriterConfig};
use firehose_transform::aws::Aws;
use firehose_transform::reingest::{frame, unframe, MAGIC};
use firehose_transform::response::{RecordResult, WireResponse};
use serde_json::{json, Value};
use support::moto::{aws_env, binary_env, counts, lines, Faults, Moto, Proxy, ACCOUNT, REGION};

fn fast_retries() -> WriterConfig {
    WriterConfig {
        max_attempts: 30,
        backoff_base: Duration::from_millis(5),
        backoff_max: Duration::from_millis(50),
        call_timeout: Duration::from_secs(20),
        stop_at_first_failure: false,
    }
}

/// `n` distinct newline-ended records of varied sizes, a few of them large.
fn records(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let len = if i % 400 == 7 {
                900 * 1024
            } else {
                20 + (i * 7919) % 3000
            };
            let mut record = format!("record {i:06} ").into_bytes();
            record.resize(len, b'a' + (i % 26) as u8);
            record.push(b'\n');
            record
        })
        .collect()
}

#[test]
fn firehose_writer_delivers_every_record_once_through_throttling_and_dropped_connections() {
    aws_env();
    let moto = Moto::start();
    moto.delivery_stream("out");
    let proxy = Proxy::start(
        moto.port,
        Faults {
            throttle: 0.3,
            drop_before: 0.15,
            ..Faults::default()
        },
    );
    let aws = Aws::with_endpoint(&proxy.url()).unwrap();
    let writer = Writer::new(&aws, Destination::Firehose("out".into()), fast_retries());
    let sent = records(2000);
    let report = writer.write(sent.iter().map(|r| Entry::new(r.clone())).collect(), None);
    assert!(
        report.all_accepted(),
        "first rejected: {:?}",
        report.first_rejected().map(|i| &report.errors[i])
    );

    let delivered = lines(&moto.delivered("out"));
    assert_eq!(delivered.len(), sent.len(), "every record exactly once");
    assert_eq!(counts(&delivered), counts(&sent));

    let seen = proxy.seen.lock().unwrap();
    assert!(seen.throttled > 100, "throttled {}", seen.throttled);
    assert!(seen.dropped_before > 0, "no connection was dropped");
    for call in &seen.write_calls {
        assert!(call.len() <= 500, "{} records in a call", call.len());
        assert!(call.iter().map(Vec::len).sum::<usize>() <= 4 * 1024 * 1024);
    }
    // Retries carried only what failed: far fewer entries than resending whole calls.
    let entries_sent: usize = seen.write_calls.iter().map(Vec::len).sum();
    assert!(
        entries_sent < sent.len() * 2,
        "{entries_sent} entries for {} records",
        sent.len()
    );
    assert!(report.retried_records > 0);
}

#[test]
fn a_lost_answer_duplicates_only_the_entries_of_its_call() {
    aws_env();
    let moto = Moto::start();
    moto.delivery_stream("out");
    let proxy = Proxy::start(
        moto.port,
        Faults {
            lose_answer_of: vec![1, 3],
            ..Faults::default()
        },
    );
    let aws = Aws::with_endpoint(&proxy.url()).unwrap();
    let writer = Writer::new(&aws, Destination::Firehose("out".into()), fast_retries());
    let sent = records(1500);
    let report = writer.write(sent.iter().map(|r| Entry::new(r.clone())).collect(), None);
    assert!(report.all_accepted());

    let delivered = lines(&moto.delivered("out"));
    let seen = proxy.seen.lock().unwrap();
    assert_eq!(seen.lost.len(), 2);
    let mut expected = sent.clone();
    for call in &seen.lost {
        expected.extend(call.iter().cloned());
    }
    // Nothing lost; the only duplicates are the entries whose answer was lost.
    assert_eq!(counts(&delivered), counts(&expected));
    assert!(delivered.len() > sent.len());
}

#[test]
fn kinesis_writer_keeps_each_partition_key() {
    aws_env();
    let moto = Moto::start();
    moto.kinesis_stream("in");
    let proxy = Proxy::start(
        moto.port,
        Faults {
            throttle: 0.3,
            drop_before: 0.1,
            ..Faults::default()
        },
    );
    let aws = Aws::with_endpoint(&proxy.url()).unwrap();
    let writer = Writer::new(&aws, Destination::Kinesis("in".into()), fast_retries());
    let sent: Vec<(Vec<u8>, String)> = records(600)
        .into_iter()
        .enumerate()
        .map(|(i, r)| (r, format!("key-{}", i % 17)))
        .collect();
    let report = writer.write(
        sent.iter()
            .map(|(d, k)| Entry::keyed(d.clone(), k.clone()))
            .collect(),
        None,
    );
    assert!(report.all_accepted());
    let read = moto.kinesis_records("in");
    assert_eq!(counts(&read), counts(&sent));
    let seen = proxy.seen.lock().unwrap();
    assert!(seen.throttled > 0);
    for call in &seen.write_calls {
        assert!(call.len() <= 500 && call.iter().map(Vec::len).sum::<usize>() <= 5 * 1024 * 1024);
    }
}

#[test]
fn the_writer_gives_up_at_the_deadline_and_claims_nothing() {
    aws_env();
    let moto = Moto::start();
    moto.delivery_stream("out");
    let proxy = Proxy::start(
        moto.port,
        Faults {
            throttle: 1.0,
            ..Faults::default()
        },
    );
    let aws = Aws::with_endpoint(&proxy.url()).unwrap();
    let config = WriterConfig {
        max_attempts: 1000,
        ..fast_retries()
    };
    let writer = Writer::new(&aws, Destination::Firehose("out".into()), config);
    let started = Instant::now();
    let report = writer.write(
        records(50).into_iter().map(Entry::new).collect(),
        Some(started + Duration::from_millis(1500)),
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(report.accepted(), 0);
    assert!(report.calls > 3);
    assert!(moto.delivered("out").is_empty());
}

// ---------------------------------------------------------------------------
// Binaries in local mode

fn run(bin: &str, args: &[&str], env: &[(&str, String)], stdin: Option<&[u8]>) -> Output {
    let mut command = Command::new(bin);
    command
        .args(args)
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("FIREHOSE_METRICS")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the binary starts");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{bin}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A Firehose event of these records (a Kinesis source when `stream` is set).
fn firehose_event(records: &[Vec<u8>], delivery_stream: &str, stream: Option<&str>) -> Vec<u8> {
    let records: Vec<Value> = records
        .iter()
        .enumerate()
        .map(|(i, data)| {
            let mut record = json!({"recordId": format!("r{i}"), "approximateArrivalTimestamp": 1_700_000_000_000i64, "data": STANDARD.encode(data)});
            if stream.is_some() {
                record["kinesisRecordMetadata"] = json!({"shardId": "shardId-000000000000", "partitionKey": format!("pk-{}", i % 3), "sequenceNumber": format!("{i}"), "subsequenceNumber": 0, "approximateArrivalTimestamp": 1_700_000_000_000i64});
            }
            record
        })
        .collect();
    let mut event = json!({
        "invocationId": "test",
        "deliveryStreamArn": format!("arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/{delivery_stream}"),
        "region": REGION,
        "records": records,
    });
    if let Some(stream) = stream {
        event["sourceKinesisStreamArn"] = json!(format!(
            "arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream}"
        ));
    }
    event.to_string().into_bytes()
}

fn response(output: &Output) -> WireResponse {
    serde_json::from_slice(&output.stdout).expect("a response")
}

/// The framed records of a delivery (split at each frame).
fn framed_records(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut starts: Vec<usize> = bytes
        .windows(MAGIC.len())
        .enumerate()
        .filter(|(_, w)| *w == MAGIC)
        .map(|(i, _)| i)
        .collect();
    starts.push(bytes.len());
    starts
        .windows(2)
        .map(|w| bytes[w[0]..w[1]].to_vec())
        .collect()
}

const PROCESS_RECORD: &str = env!("CARGO_BIN_EXE_process-record");

#[test]
fn records_that_do_not_fit_are_reingested_dropped_and_come_back_whole() {
    let moto = Moto::start();
    moto.delivery_stream("logs");
    let proxy = Proxy::start(
        moto.port,
        Faults {
            throttle: 0.3,
            ..Faults::default()
        },
    );
    let sent: Vec<Vec<u8>> = (0..40)
        .map(|i| format!("{i:03} {}\n", "x".repeat(1000)).into_bytes())
        .collect();
    let event = firehose_event(&sent, "logs", None);
    let mut env = binary_env(&proxy.url());
    env.push(("REINGEST", "firehose".into()));
    env.push(("AWS_WRITE_BACKOFF_BASE_MS", "5".into()));
    // Room for about half of the records.
    env.push(("FIREHOSE_RESPONSE_BUDGET_BYTES", "30000".into()));
    let output = run(PROCESS_RECORD, &["--event", "-"], &env, Some(&event));
    let answer = response(&output);
    let ok: Vec<usize> = (0..40)
        .filter(|&i| answer.records[i].result == RecordResult::Ok)
        .collect();
    let dropped: Vec<usize> = (0..40)
        .filter(|&i| answer.records[i].result == RecordResult::Dropped)
        .collect();
    assert!(
        ok.len() > 10 && dropped.len() > 10,
        "ok {ok:?} dropped {dropped:?}"
    );
    assert_eq!(ok.len() + dropped.len(), 40, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("reingest.records"),
        "{}",
        stderr(&output)
    );
    assert!(output.stdout.len() <= 30000 + 1);

    // What was written back: the dropped records' original data, framed, round 1.
    let written = framed_records(&moto.delivered("logs"));
    let expected: Vec<Vec<u8>> = dropped.iter().map(|&i| frame(1, &sent[i])).collect();
    assert_eq!(counts(&written), counts(&expected));

    // They come back in a later batch: the engine removes the frame.
    let again = firehose_event(&written, "logs", None);
    let output = run(
        PROCESS_RECORD,
        &["--event", "-", "--decode"],
        &binary_env(&moto.url()),
        Some(&again),
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let back: Vec<Vec<u8>> = text
        .lines()
        .map(|l| {
            format!(
                "{}\n",
                l.split_once(' ')
                    .unwrap()
                    .1
                    .trim_start()
                    .split_once(' ')
                    .unwrap()
                    .1
            )
            .into_bytes()
        })
        .collect();
    let originals: Vec<Vec<u8>> = written.iter().map(|w| unframe(w).1.to_vec()).collect();
    assert_eq!(counts(&back), counts(&originals));
}

#[test]
fn the_loop_guard_oversized_records_and_failed_writes_leave_records_failed() {
    let moto = Moto::start();
    moto.delivery_stream("logs");
    let mut env = binary_env(&moto.url());
    env.push(("REINGEST", "firehose".into()));
    env.push(("REINGEST_MAX_ROUNDS", "2".into()));
    env.push(("APPEND_NEWLINE", "true".into()));
    env.push(("FIREHOSE_RESPONSE_BUDGET_BYTES", "4096".into()));
    // Records already re-ingested twice, a record too large alone, and fresh ones.
    let mut sent: Vec<Vec<u8>> = (0..6)
        .map(|i| frame(2, format!("{i} {}", "y".repeat(900)).as_bytes()))
        .collect();
    sent.push(b"z".repeat(5000));
    sent.extend((0..6).map(|i| format!("fresh {i} {}", "w".repeat(900)).into_bytes()));
    let output = run(
        PROCESS_RECORD,
        &["--event", "-"],
        &env,
        Some(&firehose_event(&sent, "logs", None)),
    );
    let answer = response(&output);
    let log = stderr(&output);
    assert_eq!(
        answer.records[6].result,
        RecordResult::ProcessingFailed,
        "the oversized record"
    );
    assert!(log.contains("reingest.too_large"), "{log}");
    assert!(log.contains("reingest.max_rounds"), "{log}");
    let written = framed_records(&moto.delivered("logs"));
    // Only fresh records were written back, as round 1, and only those are Dropped.
    assert!(
        written
            .iter()
            .all(|w| unframe(w).0 == 1 && unframe(w).1.starts_with(b"fresh")),
        "{written:?}"
    );
    let dropped = answer
        .records
        .iter()
        .filter(|r| r.result == RecordResult::Dropped)
        .count();
    assert_eq!(dropped, written.len());
    assert!(dropped > 0);
    for (i, record) in answer.records.iter().enumerate().take(6) {
        assert_ne!(
            record.result,
            RecordResult::Dropped,
            "record {i} was past the round limit"
        );
    }

    // A stream that does not exist: nothing is Dropped, nothing lost.
    let output = run(
        PROCESS_RECORD,
        &["--event", "-"],
        &env,
        Some(&firehose_event(&sent[7..], "no-such-stream", None)),
    );
    let answer = response(&output);
    assert!(answer
        .records
        .iter()
        .all(|r| r.result != RecordResult::Dropped));
    assert!(
        stderr(&output).contains("reingest.write_failed"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn reingestion_into_the_source_stream_keeps_partition_keys() {
    let moto = Moto::start();
    moto.kinesis_stream("source");
    let mut env = binary_env(&moto.url());
    env.push(("REINGEST", "source-stream".into()));
    env.push(("FIREHOSE_RESPONSE_BUDGET_BYTES", "8000".into()));
    let sent: Vec<Vec<u8>> = (0..20)
        .map(|i| format!("{i:02} {}", "k".repeat(800)).into_bytes())
        .collect();
    let output = run(
        PROCESS_RECORD,
        &["--event", "-"],
        &env,
        Some(&firehose_event(&sent, "logs", Some("source"))),
    );
    let answer = response(&output);
    let dropped: Vec<usize> = (0..20)
        .filter(|&i| answer.records[i].result == RecordResult::Dropped)
        .collect();
    assert!(!dropped.is_empty(), "{}", stderr(&output));
    let expected: Vec<(Vec<u8>, String)> = dropped
        .iter()
        .map(|&i| (frame(1, &sent[i]), format!("pk-{}", i % 3)))
        .collect();
    assert_eq!(counts(&moto.kinesis_records("source")), counts(&expected));
}

const CLOUDWATCH_LOGS: &str = env!("CARGO_BIN_EXE_cloudwatch-logs-processor");

/// A gzip subscription record of these messages.
fn subscription(messages: &[String]) -> Vec<u8> {
    let events: Vec<Value> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| json!({"id": format!("{i:056}"), "timestamp": 1_796_198_400_000i64 + i as i64, "message": m}))
        .collect();
    let envelope = json!({"messageType": "DATA_MESSAGE", "owner": ACCOUNT, "logGroup": "/aws/lambda/app",
        "logStream": "2026/12/02/[$LATEST]abc", "subscriptionFilters": ["all"], "logEvents": events});
    firehose_transform::formats::cloudwatch_logs::gzip(envelope.to_string().as_bytes())
}

/// The messages of a (gzip or plain) subscription record.
fn messages_of(record: &[u8]) -> Vec<String> {
    let bytes = firehose_transform::formats::cloudwatch_logs::decode(record, 64 << 20).unwrap();
    let envelope: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(envelope["logGroup"], "/aws/lambda/app");
    envelope["logEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect()
}

/// `bin` in local mode on a Direct PUT event of `records` from the
/// delivery stream `logs`: the response's results, the response and stderr.
fn invoke(
    bin: &str,
    env: &[(&str, String)],
    records: &[Vec<u8>],
) -> (Vec<RecordResult>, WireResponse, String) {
    let output = run(
        bin,
        &["--event", "-"],
        env,
        Some(&firehose_event(records, "logs", None)),
    );
    let answer = response(&output);
    let results = answer.records.iter().map(|r| r.result).collect();
    (results, answer, stderr(&output))
}

#[test]
fn an_oversized_cloudwatch_logs_record_is_reingested_as_halves_of_its_events() {
    let moto = Moto::start();
    moto.delivery_stream("logs");
    let mut env = binary_env(&moto.url());
    env.push(("REINGEST", "firehose".into()));
    // The budget is also the inflate limit: each big record inflates to
    // less than this, but its output (base64) alone is more.
    env.push(("FIREHOSE_RESPONSE_BUDGET_BYTES", "20000".into()));
    let small: Vec<String> = (0..2).map(|i| format!("small {i}")).collect();
    let many: Vec<String> = (0..14)
        .map(|i| format!("event {i:02} {}", "e".repeat(1200)))
        .collect();
    let one = vec![format!("alone {}", "o".repeat(16_000))];
    let sent = vec![
        subscription(&small),
        subscription(&many),
        subscription(&one),
        // Already re-ingested REINGEST_MAX_ROUNDS (3) times: the loop guard
        // stops it before any split.
        frame(3, &subscription(&many)),
    ];
    let (results, _, log) = invoke(CLOUDWATCH_LOGS, &env, &sent);
    assert_eq!(
        results,
        [
            RecordResult::Ok,
            RecordResult::Dropped,
            RecordResult::ProcessingFailed,
            RecordResult::ProcessingFailed
        ],
        "{log}"
    );
    for counter in [
        "reingest.split",
        "reingest.too_large",
        "reingest.max_rounds",
    ] {
        assert!(log.contains(counter), "{counter}: {log}");
    }

    // Written back: two round-1 records, never the whole, holding the
    // first and the second half of the events in order.
    let written = framed_records(&moto.delivered("logs"));
    assert_eq!(written.len(), 2, "{written:?}");
    assert!(written.iter().all(|w| unframe(w).0 == 1));
    let mut halves: Vec<Vec<String>> = written.iter().map(|w| messages_of(unframe(w).1)).collect();
    halves.sort();
    assert_eq!(halves, [many[..7].to_vec(), many[7..].to_vec()]);

    // The next round, each half in a batch of its own: it fits and is
    // processed into its messages.
    let mut text = String::new();
    for half in &written {
        let (_, answer, log) = invoke(CLOUDWATCH_LOGS, &env, std::slice::from_ref(half));
        let record = &answer.records[0];
        assert_eq!(record.result, RecordResult::Ok, "{log}");
        let data = STANDARD.decode(record.data.as_deref().unwrap()).unwrap();
        text.push_str(std::str::from_utf8(&data).unwrap());
    }
    let mut back: Vec<&str> = text.lines().collect();
    back.sort();
    let expected: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(back, expected);
    // Nothing more was written back.
    assert_eq!(framed_records(&moto.delivered("logs")).len(), 2);
}

#[test]
fn a_cloudwatch_logs_record_inflating_past_the_budget_is_split_until_each_part_fits() {
    // About 54 kB inflated against a 20,000-byte budget: the decoder stops
    // at the budget (the record fails as over budget), re-ingestion inflates
    // it up to REINGEST_INFLATE_LIMIT_BYTES to split it: halves, halved
    // again until each holds at most 10,000 bytes of events (5 of 40). The
    // bomb inflates past that limit too and stays failed. The pipeline's
    // CloudWatch Logs decoder splits the same way.
    let huge: Vec<String> = (0..40)
        .map(|i| format!(r#"{{"n":{i},"pad":"{}"}}"#, "p".repeat(1200)))
        .collect();
    let bomb: Vec<String> = (0..100)
        .map(|i| format!("{i} {}", "b".repeat(1200)))
        .collect();
    for (bin, extra) in [
        (CLOUDWATCH_LOGS, vec![]),
        (
            PIPELINE,
            vec![
                ("RECORD_DECODER", "cloudwatch-logs".to_string()),
                ("INPUT_FORMAT", "json".to_string()),
            ],
        ),
    ] {
        let moto = Moto::start();
        moto.delivery_stream("logs");
        let mut env = binary_env(&moto.url());
        env.push(("REINGEST", "firehose".into()));
        env.push(("FIREHOSE_RESPONSE_BUDGET_BYTES", "20000".into()));
        env.push(("REINGEST_INFLATE_LIMIT_BYTES", "100000".into()));
        env.extend(extra);
        let sent = [subscription(&huge), subscription(&bomb)];
        let (results, _, log) = invoke(bin, &env, &sent);
        assert_eq!(
            results,
            [RecordResult::Dropped, RecordResult::ProcessingFailed],
            "{bin}: {log}"
        );
        assert!(
            log.contains("record inflates past the response budget"),
            "{log}"
        );
        assert!(log.contains("reingest.too_large"), "{log}");

        let written = framed_records(&moto.delivered("logs"));
        assert!(written.iter().all(|w| unframe(w).0 == 1));
        let mut parts: Vec<Vec<String>> =
            written.iter().map(|w| messages_of(unframe(w).1)).collect();
        parts.sort_by_key(|p| huge.iter().position(|m| *m == p[0]));
        assert_eq!(parts.len(), 8, "{bin}: {parts:?}");
        assert!(parts.iter().all(|p| p.len() == 5), "{bin}");
        assert_eq!(parts.concat(), huge, "{bin}");

        // Each part, back in a batch of its own, fits and is processed.
        for part in &written {
            let (results, _, log) = invoke(bin, &env, std::slice::from_ref(part));
            assert_eq!(results, [RecordResult::Ok], "{bin}: {log}");
        }
        assert_eq!(framed_records(&moto.delivered("logs")).len(), 8, "{bin}");
    }
}

// ---------------------------------------------------------------------------
// kinesis-to-firehose

const FORWARDER: &str = env!("CARGO_BIN_EXE_kinesis-to-firehose");

fn kinesis_event(records: &[Vec<u8>]) -> Vec<u8> {
    let records: Vec<Value> = records
        .iter()
        .enumerate()
        .map(|(i, data)| json!({
            "eventID": format!("shardId-000000000000:{}", 1000 + i),
            "eventSource": "aws:kinesis",
            "eventSourceARN": format!("arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/in"),
            "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "pk", "sequenceNumber": format!("{}", 1000 + i), "data": STANDARD.encode(data), "approximateArrivalTimestamp": 1700000000.5},
        }))
        .collect();
    json!({"Records": records}).to_string().into_bytes()
}

#[test]
fn the_forwarder_writes_the_pipeline_outputs_to_firehose() {
    let moto = Moto::start();
    moto.delivery_stream("out");
    let proxy = Proxy::start(
        moto.port,
        Faults {
            throttle: 0.3,
            ..Faults::default()
        },
    );
    let mut env = binary_env(&proxy.url());
    env.push(("DELIVERY_STREAM_NAME", "out".into()));
    env.push(("FILTER", ".level != \"debug\"".into()));
    env.push(("AWS_WRITE_BACKOFF_BASE_MS", "5".into()));
    let sent: Vec<Vec<u8>> = (0..300)
        .map(|i| {
            format!(
                r#"{{"n": {i}, "level": "{}"}}"#,
                if i % 3 == 0 { "debug" } else { "info" }
            )
            .into_bytes()
        })
        .collect();
    let output = run(
        FORWARDER,
        &["--event", "-"],
        &env,
        Some(&kinesis_event(&sent)),
    );
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        answer,
        json!({"batchItemFailures": []}),
        "{}",
        stderr(&output)
    );
    let expected: Vec<Vec<u8>> = (0..300)
        .filter(|i| i % 3 != 0)
        // No stage changed the records: each is written as its own text.
        .map(|i| format!("{{\"n\": {i}, \"level\": \"info\"}}\n").into_bytes())
        .collect();
    assert_eq!(counts(&lines(&moto.delivered("out"))), counts(&expected));
    assert!(proxy.seen.lock().unwrap().throttled > 0);
}

#[test]
fn the_forwarder_names_the_first_record_not_delivered() {
    let moto = Moto::start();
    moto.delivery_stream("out");
    let proxy = Proxy::start(
        moto.port,
        Faults {
            poison: Some(b"POISON".to_vec()),
            ..Faults::default()
        },
    );
    let mut env = binary_env(&proxy.url());
    env.push(("DELIVERY_STREAM_NAME", "out".into()));
    env.push(("AWS_WRITE_MAX_ATTEMPTS", "3".into()));
    env.push(("AWS_WRITE_BACKOFF_BASE_MS", "5".into()));
    // 1,200 records: three calls; the poisoned record is in the second.
    let sent: Vec<Vec<u8>> = (0..1200)
        .map(|i| {
            if i == 700 {
                br#"{"v":"POISON"}"#.to_vec()
            } else {
                format!(r#"{{"v":{i}}}"#).into_bytes()
            }
        })
        .collect();
    let output = run(
        FORWARDER,
        &["--event", "-"],
        &env,
        Some(&kinesis_event(&sent)),
    );
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        answer,
        json!({"batchItemFailures": [{"itemIdentifier": "1700"}]}),
        "{}",
        stderr(&output)
    );
    let delivered = lines(&moto.delivered("out"));
    let got = counts(&delivered);
    for i in 0..700 {
        assert_eq!(
            got.get(format!("{{\"v\":{i}}}\n").as_bytes()),
            Some(&1),
            "record {i} before the failure"
        );
    }
    assert!(!delivered
        .iter()
        .any(|l| l.windows(6).any(|w| w == b"POISON")));
    // Writing stopped at the failed call: the third call was never made.
    assert!(!delivered.iter().any(|l| l == b"{\"v\":1100}\n"));

    // A record the transform fails is retried from by default.
    let mut bad = sent[..5].to_vec();
    bad[2] = b"not json".to_vec();
    let output = run(
        FORWARDER,
        &["--event", "-"],
        &env,
        Some(&kinesis_event(&bad)),
    );
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        answer,
        json!({"batchItemFailures": [{"itemIdentifier": "1002"}]})
    );
}

#[test]
fn the_forwarder_reads_dynamodb_streams_new_images() {
    let moto = Moto::start();
    moto.delivery_stream("out");
    let mut env = binary_env(&moto.url());
    env.push(("DELIVERY_STREAM_NAME", "out".into()));
    let event = json!({"Records": [
        {"eventID": "1", "eventName": "INSERT", "eventSource": "aws:dynamodb", "dynamodb": {"SequenceNumber": "100", "NewImage": {"id": {"S": "a"}, "n": {"N": "7"}, "tags": {"SS": ["x", "y"]}}}},
        {"eventID": "2", "eventName": "REMOVE", "eventSource": "aws:dynamodb", "dynamodb": {"SequenceNumber": "101", "Keys": {"id": {"S": "a"}}}},
        {"eventID": "3", "eventName": "MODIFY", "eventSource": "aws:dynamodb", "dynamodb": {"SequenceNumber": "102", "NewImage": {"id": {"S": "b"}, "m": {"M": {"ok": {"BOOL": true}}}}}}
    ]});
    let output = run(
        FORWARDER,
        &["--event", "-"],
        &env,
        Some(event.to_string().as_bytes()),
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&output.stdout).unwrap(),
        json!({"batchItemFailures": []})
    );
    assert!(
        stderr(&output).contains("forward.removes_skipped"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        String::from_utf8(moto.delivered("out")).unwrap(),
        "{\"id\":\"a\",\"n\":7,\"tags\":[\"x\",\"y\"]}\n{\"id\":\"b\",\"m\":{\"ok\":true}}\n"
    );
}

// ---------------------------------------------------------------------------
// DynamoDB lookups through firehose-pipeline

const PIPELINE: &str = env!("CARGO_BIN_EXE_firehose-pipeline");

fn customers_table(moto: &Moto, items: usize) {
    moto.call(
        "dynamodb",
        "DynamoDB_20120810.CreateTable",
        json!({
            "TableName": "customers",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        }),
    );
    for chunk in (0..items).collect::<Vec<_>>().chunks(25) {
        let writes: Vec<Value> = chunk
            .iter()
            .map(|i| json!({"PutRequest": {"Item": {"id": {"S": format!("c-{i}")}, "name": {"S": format!("Customer {i}")}, "tier": {"S": if i % 2 == 0 { "gold" } else { "silver" }}, "secret": {"S": "hidden"}}}}))
            .collect();
        moto.call(
            "dynamodb",
            "DynamoDB_20120810.BatchWriteItem",
            json!({"RequestItems": {"customers": writes}}),
        );
    }
}

#[test]
fn lookups_run_once_per_hundred_distinct_keys_and_enrich_every_record() {
    let moto = Moto::start();
    customers_table(&moto, 200);
    let proxy = Proxy::start(
        moto.port,
        Faults {
            unprocessed: 0.3,
            ..Faults::default()
        },
    );
    let mut env = binary_env(&proxy.url());
    env.push(("DYNAMODB_TABLE", "customers".into()));
    env.push(("DYNAMODB_KEY_FIELD", ".customer".into()));
    env.push(("DYNAMODB_KEY_ATTRIBUTE", "id".into()));
    env.push(("DYNAMODB_ATTRIBUTES", "name,tier".into()));
    env.push(("DYNAMODB_TARGET_FIELD", "account".into()));
    // 900 records over 230 distinct keys, 30 of them not in the table.
    let sent: Vec<Vec<u8>> = (0..900)
        .map(|i| format!(r#"{{"customer":"c-{}","i":{i}}}"#, (i * 7) % 230).into_bytes())
        .collect();
    let output = run(
        PIPELINE,
        &["--event", "-", "--decode"],
        &env,
        Some(&firehose_event(&sent, "x", None)),
    );
    let text = String::from_utf8(output.stdout.clone()).unwrap();
    assert_eq!(text.lines().count(), 900);
    for (i, line) in text.lines().enumerate() {
        let key = (i * 7) % 230;
        let json = line
            .split_once('{')
            .map(|(_, rest)| format!("{{{rest}"))
            .unwrap();
        let expected = if key < 200 {
            format!(
                r#"{{"customer":"c-{key}","i":{i},"account":{{"name":"Customer {key}","tier":"{}"}}}}"#,
                if key % 2 == 0 { "gold" } else { "silver" }
            )
        } else {
            format!(r#"{{"customer":"c-{key}","i":{i}}}"#)
        };
        assert_eq!(json, expected, "{}", stderr(&output));
    }
    let seen = proxy.seen.lock().unwrap();
    // Each distinct key asked once, plus the retries of UnprocessedKeys;
    // calls are filled to 100 keys while keys remain (retries go with new
    // keys), so their sizes never grow.
    let calls = &seen.batch_get_keys;
    assert!(seen.unprocessed > 0);
    assert_eq!(calls.iter().sum::<usize>(), 230 + seen.unprocessed);
    assert_eq!(&calls[..2], &[100, 100], "{calls:?}");
    assert!(calls.windows(2).all(|w| w[0] >= w[1]), "{calls:?}");
}

#[test]
fn a_failed_lookup_fails_or_passes_the_record_by_configuration() {
    let moto = Moto::start();
    let sent = vec![br#"{"customer":"c-1"}"#.to_vec()];
    for (policy, expected) in [
        ("fail", RecordResult::ProcessingFailed),
        ("pass", RecordResult::Ok),
    ] {
        let mut env = binary_env(&moto.url());
        env.push(("DYNAMODB_TABLE", "no-such-table".into()));
        env.push(("DYNAMODB_KEY_FIELD", ".customer".into()));
        env.push(("DYNAMODB_KEY_ATTRIBUTE", "id".into()));
        env.push(("DYNAMODB_ON_ERROR", policy.into()));
        let output = run(
            PIPELINE,
            &["--event", "-"],
            &env,
            Some(&firehose_event(&sent, "x", None)),
        );
        let answer = response(&output);
        assert_eq!(
            answer.records[0].result,
            expected,
            "{policy}: {}",
            stderr(&output)
        );
        let log = stderr(&output);
        match policy {
            "fail" => assert!(
                log.contains("DynamoDB lookup failed") && log.contains("ResourceNotFoundException"),
                "{log}"
            ),
            _ => assert!(log.contains("dynamodb.lookup_failed"), "{log}"),
        }
    }
}
