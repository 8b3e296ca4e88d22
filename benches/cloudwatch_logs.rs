//! `cloudwatch-logs-processor` on a 3 MB Firehose event of gzip subscription
//! records holding 50 log events each (Apache log lines from the fixture as the
//! messages), in-process: parse the event, inflate, read the envelopes, write
//! the messages, base64, build and serialize the response. The budget is raised
//! so that every record's output is produced (the event inflates past 6 MB, as
//! real subscription batches do; the AWS blueprint re-ingests that overflow);
//! the default-budget figure is measured too. Also the gzip inflaters alone
//! on the same records: the crate's (libdeflate), zlib-rs through flate2
//! (its fallback), and miniz_oxide (flate2's default backend). `cargo bench --bench cloudwatch_logs`;
//! `cargo run --release --example cwl_event > /tmp/cwl.json` writes the same
//! event for `benches/aws/cloudwatch_logs_processor.py`, which reports its
//! CPU time too. Times are the benchmark process's CPU time, every thread's
//! (`support/cpu_time.rs`), so that the figures are per core on a shared
//! machine.

use std::hint::black_box;
use std::io::Read;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use firehose_transform::blueprints::cloudwatch_logs::{CloudWatchLogsProcessor, MessageFormat};
use firehose_transform::engine::{Engine, EngineConfig};
use firehose_transform::SharedEvent;

#[path = "support/cpu_time.rs"]
mod cpu_time;
#[path = "../examples/cwl_event.rs"]
mod cwl_event;
use cpu_time::CpuTime;

fn processor(c: &mut Criterion<CpuTime>) {
    // As the binaries do at start-up (`run`): freed memory is kept for the
    // next iteration instead of being faulted in again.
    firehose_transform::runtime::keep_freed_memory();
    let (json, records) = cwl_event::event(3_000_000);
    let mut group = c.benchmark_group("cloudwatch-logs-processor, 3 MB event");
    group.sample_size(20);
    // One thread runs the records: these are per-core figures.
    let big = EngineConfig {
        response_budget: 256 << 20,
        threads: 1,
        ..EngineConfig::default()
    };
    // The request body as Lambda hands it over: owned, parsed in place.
    let body = bytes::Bytes::from(json.clone());
    let parse = |body: &bytes::Bytes| SharedEvent::parse(body.clone()).expect("valid event");
    let raw = Engine::with_config(
        CloudWatchLogsProcessor::new(MessageFormat::Raw, 256 << 20),
        big.clone(),
    );
    let out = raw.process_shared(&parse(&body), None).unwrap();
    let output_bytes = out.summary.data_bytes_out;
    eprintln!(
        "event {} bytes, {} records, output {} bytes",
        json.len(),
        records.len(),
        output_bytes
    );
    group.throughput(Throughput::Bytes(output_bytes));
    group.bench_function("raw (all output)", |b| {
        b.iter(|| {
            black_box(
                raw.process_shared(&parse(black_box(&body)), None)
                    .unwrap()
                    .response
                    .into_chunks(),
            )
        })
    });
    let envelope = Engine::with_config(
        CloudWatchLogsProcessor::new(MessageFormat::Envelope, 256 << 20),
        big,
    );
    group.bench_function("envelope (all output)", |b| {
        b.iter(|| {
            black_box(
                envelope
                    .process_shared(&parse(black_box(&body)), None)
                    .unwrap()
                    .response
                    .into_chunks(),
            )
        })
    });
    let default = Engine::with_config(
        CloudWatchLogsProcessor::new(MessageFormat::Raw, 6 << 20),
        EngineConfig {
            threads: 1,
            ..EngineConfig::default()
        },
    );
    group.bench_function("raw, default 6 MiB budget", |b| {
        b.iter(|| {
            black_box(
                default
                    .process_shared(&parse(black_box(&body)), None)
                    .unwrap()
                    .response
                    .into_chunks(),
            )
        })
    });
    group.finish();

    let inflated: u64 = records
        .iter()
        .map(|r| {
            firehose_transform::formats::cloudwatch_logs::decode(r, usize::MAX)
                .unwrap()
                .len() as u64
        })
        .sum();
    let mut group = c.benchmark_group("gzip inflate, the event's records");
    group.throughput(Throughput::Bytes(inflated));
    // The deflate body of a CloudWatch Logs record: its gzip header is the
    // fixed 10 bytes, its trailer 8 (CRC-32, ISIZE).
    let body = |record: &[u8]| record[10..record.len() - 8].to_vec();
    let bodies: Vec<Vec<u8>> = records.iter().map(|r| body(r)).collect();
    let sizes: Vec<usize> = records
        .iter()
        .map(|r| {
            let t = &r[r.len() - 4..];
            u32::from_le_bytes([t[0], t[1], t[2], t[3]]) as usize
        })
        .collect();
    group.bench_function(
        "the crate's decode: libdeflate, one call per member, header and CRC checked",
        |b| {
            b.iter(|| {
                let mut n = 0;
                for record in &records {
                    n += firehose_transform::formats::cloudwatch_logs::decode(record, 6 << 20)
                        .unwrap()
                        .len();
                }
                black_box(n)
            })
        },
    );
    // What decode did before libdeflate, and still does with any stream
    // that is not a single member.
    group.bench_function(
        "zlib-rs (flate2::Decompress), one call per member, header and CRC checked",
        |b| {
            b.iter(|| {
                let mut n = 0;
                for (record, size) in records.iter().zip(&sizes) {
                    let mut out = Vec::with_capacity(size + 1);
                    let mut inflater = flate2::Decompress::new_gzip(15);
                    inflater
                        .decompress_vec(record, &mut out, flate2::FlushDecompress::Finish)
                        .unwrap();
                    n += out.len();
                }
                black_box(n)
            })
        },
    );
    group.bench_function("flate2 + zlib-rs, streamed gzip, reused buffer", |b| {
        let mut out = Vec::new();
        b.iter(|| {
            for record in &records {
                out.clear();
                flate2::read::MultiGzDecoder::new(&record[..])
                    .read_to_end(&mut out)
                    .unwrap();
            }
            black_box(out.len())
        })
    });
    // Same footing for the two backends: one raw-deflate call into a buffer
    // sized from the trailer, no CRC.
    group.bench_function("zlib-rs one shot (flate2::Decompress), no CRC", |b| {
        b.iter(|| {
            let mut n = 0;
            for (body, size) in bodies.iter().zip(&sizes) {
                let mut out = Vec::with_capacity(size + 1);
                let mut inflater = flate2::Decompress::new(false);
                inflater
                    .decompress_vec(body, &mut out, flate2::FlushDecompress::Finish)
                    .unwrap();
                n += out.len();
            }
            black_box(n)
        })
    });
    group.bench_function("miniz_oxide one shot, no CRC", |b| {
        b.iter(|| {
            let mut n = 0;
            for body in &bodies {
                n += miniz_oxide::inflate::decompress_to_vec(body).unwrap().len();
            }
            black_box(n)
        })
    });
    group.bench_function("CRC-32 of the inflated data (flate2::Crc, zlib-rs)", |b| {
        let inflated: Vec<Vec<u8>> = bodies
            .iter()
            .map(|body| miniz_oxide::inflate::decompress_to_vec(body).unwrap())
            .collect();
        b.iter(|| {
            let mut sum = 0u32;
            for data in &inflated {
                let mut crc = flate2::Crc::new();
                crc.update(data);
                sum ^= crc.sum();
            }
            black_box(sum)
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(CpuTime);
    targets = processor
}
criterion_main!(benches);
