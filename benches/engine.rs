//! The engine on a ~6 MB event, in-process: parse the event JSON, decode every
//! record, run the transform, build the response and serialize it.
//!
//! `cargo bench --bench engine`. Throughput is bytes of event JSON per second
//! of the process's CPU time (every thread's): per core. One thread runs the
//! records (`threads: 1`) while the calling thread assembles the response
//! behind it, so wall-clock time would flatter the engine by the overlap.
//! The `threads` group, one thread against two, is in wall-clock time, and
//! so is `reading`, the event's JSON read on one thread and on two.

#[path = "support/cpu_time.rs"]
mod cpu_time;
#[path = "support/lines.rs"]
mod support_lines;

use std::hint::black_box;

use cpu_time::CpuTime;
use criterion::measurement::Measurement;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use firehose_transform::blueprints::process_record::ProcessRecord;
use firehose_transform::testing::EventBuilder;
use firehose_transform::{Engine, EngineConfig, SharedEvent, Transform};

/// Log-like lines of `len` bytes (see `support/lines.rs`).
fn lines(count: usize, len: usize) -> Vec<String> {
    support_lines::lines(count, len, 0x2545_f491_4f6c_dd1d)
}

/// An event of about 6 MB (the request limit) made of `len`-byte records.
fn event_json(len: usize) -> Vec<u8> {
    let per_record = len.div_ceil(3) * 4 + 130;
    let count = 6_000_000 / per_record;
    let event = EventBuilder::new().lines(lines(count, len)).build();
    serde_json::to_vec(&event).expect("an event serializes")
}

fn bench_transform<T: Transform>(
    c: &mut Criterion<CpuTime>,
    name: &str,
    transform: T,
    json: &[u8],
) {
    let config = EngineConfig {
        threads: 1,
        ..EngineConfig::default()
    };
    bench_with(c, "engine", name, transform, config, json);
}

fn bench_with<T: Transform, M: Measurement>(
    c: &mut Criterion<M>,
    group: &str,
    name: &str,
    transform: T,
    config: EngineConfig,
    json: &[u8],
) {
    let engine = Engine::with_config(transform, config);
    // The request body as Lambda hands it over: owned, parsed in place.
    let body = bytes::Bytes::copy_from_slice(json);
    let mut group = c.benchmark_group(group);
    group.throughput(Throughput::Bytes(json.len() as u64));
    group.sample_size(30);
    group.bench_function(name, |b| {
        b.iter(|| {
            let event = engine
                .parse_event(black_box(body.clone()))
                .expect("valid event");
            let invocation = engine.process_shared(&event, None).expect("the event fits");
            black_box(invocation.response.into_chunks())
        })
    });
    group.finish();
}

fn engine(c: &mut Criterion<CpuTime>) {
    // As the binaries do at start-up (`run`): freed memory is kept for the
    // next iteration instead of being faulted in again.
    firehose_transform::runtime::keep_freed_memory();
    let json_1k = event_json(1000);
    let json_100 = event_json(100);
    eprintln!(
        "event sizes: {} bytes (1,000-byte records), {} bytes (100-byte records)",
        json_1k.len(),
        json_100.len()
    );
    bench_transform(
        c,
        "passthrough/6MB/1000B-records",
        ProcessRecord::default(),
        &json_1k,
    );
    bench_transform(
        c,
        "passthrough/6MB/100B-records",
        ProcessRecord::default(),
        &json_100,
    );
    let newline = ProcessRecord {
        append_newline: true,
        ..ProcessRecord::default()
    };
    bench_transform(c, "append-newline/6MB/1000B-records", newline, &json_1k);
}

/// One thread against two, on the 100-byte records of a 6 MB event and on
/// smaller events, where handing work to a second thread may cost more than
/// it saves (what `PARALLEL_MIN_BYTES` is set from).
fn threads(c: &mut Criterion) {
    // As the binaries do at start-up (`run`): freed memory is kept for the
    // next iteration instead of being faulted in again.
    firehose_transform::runtime::keep_freed_memory();
    for size in [16 << 10, 64 << 10, 256 << 10, 1 << 20, 6_000_000] {
        let per_record = 100usize.div_ceil(3) * 4 + 130;
        let event = EventBuilder::new()
            .lines(lines(size / per_record, 100))
            .build();
        let json = serde_json::to_vec(&event).expect("an event serializes");
        for threads in [1, 2] {
            let config = EngineConfig {
                threads,
                parallel_min_bytes: 0,
                ..EngineConfig::default()
            };
            let name = format!(
                "passthrough/{}KiB/100B-records/{threads}-thread(s)",
                size >> 10
            );
            bench_with(c, "threads", &name, ProcessRecord::default(), config, &json);
        }
    }
}

/// Reading an event of 100-byte records on one thread and on two, by size:
/// what `PARALLEL_PARSE_MIN_BYTES` is set from (a thread is started for
/// each read).
fn reading(c: &mut Criterion) {
    firehose_transform::runtime::keep_freed_memory();
    let mut group = c.benchmark_group("reading");
    for size in [256 << 10, 512 << 10, 1 << 20, 2 << 20, 6_000_000] {
        let per_record = 100usize.div_ceil(3) * 4 + 130;
        let event = EventBuilder::new()
            .lines(lines(size / per_record, 100))
            .build();
        let body = bytes::Bytes::from(serde_json::to_vec(&event).expect("an event serializes"));
        group.throughput(Throughput::Bytes(body.len() as u64));
        for threads in [1, 2] {
            let name = format!("{}KiB/100B-records/{threads}-thread(s)", size >> 10);
            group.bench_function(name, |b| {
                b.iter(|| {
                    SharedEvent::parse_on_threads(black_box(body.clone()), threads)
                        .expect("valid event")
                })
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(CpuTime);
    targets = engine
}
criterion_group!(wall_time, threads, reading);
criterion_main!(benches, wall_time);
