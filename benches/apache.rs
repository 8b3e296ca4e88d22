//! Apache access log parsing and conversion, per line, over the 10,000-line
//! fixture (real combined-format lines from elastic/examples).
//!
//! Run with `cargo bench --bench apache`; criterion reports the median time per
//! iteration and, through `Throughput::Elements`, lines per second.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use firehose_transform::formats::apache;
use std::hint::black_box;

const FIXTURE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/apache/apache_combined_10k.log"
));

fn lines() -> Vec<&'static str> {
    FIXTURE.lines().collect()
}

fn per_line(c: &mut Criterion) {
    let lines = lines();
    let mut group = c.benchmark_group("apache per line");
    group.throughput(Throughput::Elements(lines.len() as u64));

    group.bench_function("parse", |b| {
        b.iter(|| {
            for line in &lines {
                black_box(apache::parse(black_box(line)).ok());
            }
        })
    });

    group.bench_function("parse + JSON", |b| {
        let mut out = Vec::with_capacity(1024);
        b.iter(|| {
            for line in &lines {
                out.clear();
                if let Ok(log) = apache::parse(black_box(line)) {
                    apache::write_json(&log, &mut out);
                }
                black_box(&out);
            }
        })
    });

    group.bench_function("parse + CSV", |b| {
        let mut out = Vec::with_capacity(1024);
        b.iter(|| {
            for line in &lines {
                out.clear();
                if let Ok(log) = apache::parse(black_box(line)) {
                    apache::write_csv(&log, &mut out);
                }
                black_box(&out);
            }
        })
    });

    group.bench_function("parse_lossy (bytes)", |b| {
        b.iter_batched(
            || (),
            |()| {
                for line in &lines {
                    black_box(apache::parse_lossy(black_box(line.as_bytes())).ok());
                }
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, per_line);
criterion_main!(benches);
