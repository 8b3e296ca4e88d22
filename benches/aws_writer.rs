//! The `aws` feature's speed.
//!
//! 1. The Firehose writer (`PutRecordBatch`, 500 records / 4 MiB a call,
//!    through the AWS SDK for Rust) writing 16 MiB of records over loopback:
//!    - into a local **moto_server** (PyPI `moto[server]`, started here the
//!      way the tests start it, on a free loopback port; the server is reset
//!      and the delivery stream created again before each timed write, so its
//!      memory does not grow), the target being at least 50 MB/s;
//!    - into a **trivial local sink**: a thread per connection that reads
//!      each request and answers `PutRecordBatch` success for every record,
//!      without decoding them. moto is Python and decodes, stores and
//!      re-encodes every record; the sink shows the writer's own ceiling.
//!
//!    Throughput is bytes of record data (before base64) per second.
//! 2. The re-ingestion layer when everything fits: the same event through
//!    the same engine and transform, without and with
//!    [`Reingest::apply`] after it (which is what a binary with `REINGEST`
//!    set does), in-process; the two medians of one run give the ratio.
//!
//! `cargo bench --features aws --bench aws_writer` (needs `moto_server` on
//! PATH: `pip install 'moto[server]==5.2.1'`).

#[path = "support/lines.rs"]
mod support_lines;

use std::hint::black_box;
use std::io::BufReader;
use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use firehose_transform::aws::reingest::{Reingest, ReingestConfig};
use firehose_transform::aws::writer::{Destination, Entry, Writer, WriterConfig};
use firehose_transform::aws::Aws;
use firehose_transform::blueprints::process_record::ProcessRecord;
use firehose_transform::config::Settings;
use firehose_transform::testing::EventBuilder;
use firehose_transform::{Engine, EngineConfig, SharedEvent};

#[path = "../tests/support/moto.rs"]
mod moto;

use moto::{aws_env, read_message, Message, Moto};

/// Bytes written per timed iteration.
const TOTAL: usize = 16 << 20;

/// Varied printable records of `len` bytes (nothing unrealistically
/// compressible), newline-ended, `TOTAL` bytes in all.
fn entries(len: usize) -> Vec<Entry> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    (0..TOTAL / len)
        .map(|i| {
            let mut record = format!("{i:08} ").into_bytes();
            while record.len() < len - 1 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                record.push(b' ' + (state % 95) as u8);
            }
            record.push(b'\n');
            Entry::new(record)
        })
        .collect()
}

fn writer_config() -> WriterConfig {
    WriterConfig {
        call_timeout: Duration::from_secs(60),
        ..WriterConfig::default()
    }
}

/// A local HTTP server answering every request with `PutRecordBatch`
/// success for as many records as the request holds (counted by their
/// `"Data"` members, not decoded). Runs until the process ends.
fn fast_sink() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for client in listener.incoming().flatten() {
            thread::spawn(move || {
                // One write per answer, sent at once: without this, Nagle's
                // algorithm holds the body back until the client's delayed
                // ACK of the head, tens of milliseconds a call.
                client.set_nodelay(true).unwrap();
                let mut writer =
                    std::io::BufWriter::with_capacity(64 << 10, client.try_clone().unwrap());
                let mut reader = BufReader::with_capacity(1 << 20, client);
                while let Ok(Some(request)) = read_message(&mut reader, false) {
                    let records = memchr::memmem::find_iter(&request.body, b"\"Data\"").count();
                    let mut body = String::with_capacity(40 + records * 20);
                    body.push_str(r#"{"FailedPutCount":0,"Encrypted":false,"RequestResponses":["#);
                    for i in 0..records {
                        if i > 0 {
                            body.push(',');
                        }
                        body.push_str(&format!(r#"{{"RecordId":"{i}"}}"#));
                    }
                    body.push_str("]}");
                    let answer = Message {
                        start: "HTTP/1.1 200 OK".to_string(),
                        headers: vec![
                            (
                                "Content-Type".to_string(),
                                "application/x-amz-json-1.1".to_string(),
                            ),
                            ("x-amzn-RequestId".to_string(), "bench".to_string()),
                        ],
                        body: body.into_bytes(),
                    };
                    if answer.write_to(&mut writer, "keep-alive").is_err() {
                        break;
                    }
                }
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

fn writer(c: &mut Criterion) {
    aws_env();
    let moto = Moto::start();
    let moto_aws = Aws::with_endpoint(&moto.url()).expect("clients for moto");
    let sink_aws = Aws::with_endpoint(&fast_sink()).expect("clients for the sink");
    let to_moto = Writer::new(
        &moto_aws,
        Destination::Firehose("bench".to_string()),
        writer_config(),
    );
    let to_sink = Writer::new(
        &sink_aws,
        Destination::Firehose("bench".to_string()),
        writer_config(),
    );

    let mut group = c.benchmark_group("firehose writer, 16 MiB over loopback");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(15));
    group.throughput(Throughput::Bytes(TOTAL as u64));
    for len in [1024, 8192] {
        let batch = entries(len);
        let bytes: usize = batch.iter().map(|e| e.data.len()).sum();
        assert!(bytes <= TOTAL && bytes > TOTAL - len);

        group.bench_function(format!("moto_server, {len}-byte records"), |b| {
            b.iter_custom(|iterations| {
                let mut spent = Duration::ZERO;
                for _ in 0..iterations {
                    // A fresh server state: moto keeps every record in memory.
                    let (status, _) =
                        moto::raw(moto.port, "POST", "/moto-api/reset", "s3", &[], b"").unwrap();
                    assert_eq!(status, 200);
                    moto.delivery_stream("bench");
                    let input = batch.clone();
                    let start = Instant::now();
                    let report = to_moto.write(input, None);
                    spent += start.elapsed();
                    assert!(report.all_accepted(), "{:?}", report.first_rejected());
                }
                spent
            })
        });
        group.bench_function(format!("fast local sink, {len}-byte records"), |b| {
            b.iter_custom(|iterations| {
                let mut spent = Duration::ZERO;
                for _ in 0..iterations {
                    let input = batch.clone();
                    let start = Instant::now();
                    let report = to_sink.write(input, None);
                    spent += start.elapsed();
                    assert!(report.all_accepted());
                }
                spent
            })
        });
    }
    group.finish();
}

/// Log-like lines of `len` bytes (see `support/lines.rs`).
fn lines(count: usize, len: usize) -> Vec<String> {
    support_lines::lines(count, len, 0x9e37_79b9_7f4a_7c15)
}

fn reingest_when_everything_fits(c: &mut Criterion) {
    aws_env();
    // About 4 MB of event: every output fits the default 6 MB budget, so
    // the layer finds nothing to write back (checked below).
    let event = EventBuilder::new().lines(lines(4000, 750)).build();
    let engine = Engine::with_config(
        ProcessRecord::default(),
        EngineConfig {
            threads: 1,
            ..EngineConfig::default()
        },
    );
    // Never called: nothing overflows. The endpoint only has to parse.
    let aws = Aws::with_endpoint("http://127.0.0.1:9").expect("clients");
    let config = ReingestConfig::from_settings(&Settings::from_pairs([("REINGEST", "firehose")]))
        .unwrap()
        .unwrap();
    let layer = Reingest::new(aws, config);
    let shared = SharedEvent::from(event.clone());
    let mut check = engine
        .process_shared(&shared, None)
        .expect("the event fits");
    assert!(firehose_transform::reingest::overflowed(&check).is_empty());
    layer.apply(&engine, &event, &mut check, None);
    assert_eq!(check.summary.failed(), 0);

    let mut group = c.benchmark_group("re-ingestion layer, 4 MB event that fits");
    group.sample_size(30);
    let json = serde_json::to_vec(&event).unwrap();
    group.throughput(Throughput::Bytes(json.len() as u64));
    group.bench_function("process-record, no layer", |b| {
        b.iter(|| {
            let invocation = engine.process_shared(black_box(&shared), None);
            black_box(invocation.expect("the event fits").response.into_chunks())
        })
    });
    group.bench_function("process-record, REINGEST=firehose", |b| {
        b.iter(|| {
            let mut invocation = engine
                .process_shared(black_box(&shared), None)
                .expect("the event fits");
            layer.apply(&engine, &event, &mut invocation, None);
            black_box(invocation.response.into_chunks())
        })
    });
    group.finish();
}

criterion_group!(benches, writer, reingest_when_everything_fits);
criterion_main!(benches);
