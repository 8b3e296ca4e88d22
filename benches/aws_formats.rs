//! The AWS service log parsers on their typical line (the AWS documentation's
//! samples in `fixtures/aws/`): each parser alone, then with its JSON writer,
//! and the pipeline's input format (what `firehose-pipeline` does per line).
//!
//! Run with `cargo bench --bench aws_formats`; criterion reports the time per
//! line and, through `Throughput::Elements`, lines per second. Times are the
//! benchmark process's CPU time (`support/cpu_time.rs`), so that the figures
//! are per core on a shared machine.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use firehose_transform::config::Settings;
use firehose_transform::formats::{alb, cloudfront, cloudtrail, vpc_flow, waf};
use firehose_transform::pipeline::input::{self, ParseContext};
use std::hint::black_box;

#[path = "support/cpu_time.rs"]
mod cpu_time;
use cpu_time::CpuTime;

macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/aws/", $path))
    };
}

/// The newest documented ALB entry (every field through the 2025 ones).
fn alb_line() -> &'static str {
    fixture!("alb/doc_examples.log").lines().nth(7).unwrap()
}

fn compact(json: &str) -> String {
    serde_json::to_string(&serde_json::from_str::<serde_json::Value>(json).unwrap()).unwrap()
}

fn parsers(c: &mut Criterion<CpuTime>) {
    let mut group = c.benchmark_group("aws formats per line");
    group.throughput(Throughput::Elements(1));
    let mut out = Vec::with_capacity(2048);

    let line = alb_line();
    group.bench_function("alb parse", |b| {
        b.iter(|| black_box(alb::parse(black_box(line)).ok()))
    });
    group.bench_function("alb parse + JSON", |b| {
        b.iter(|| {
            out.clear();
            let entry = alb::parse(black_box(line)).unwrap();
            alb::write_json(&entry, &mut out);
            black_box(out.len())
        })
    });

    let vpc = vpc_flow::Format::default();
    let line = fixture!("vpc-flow/default_v2.log").lines().next().unwrap();
    group.bench_function("vpc-flow v2 parse", |b| {
        b.iter(|| black_box(vpc.parse(black_box(line)).ok()))
    });
    group.bench_function("vpc-flow v2 parse + JSON", |b| {
        b.iter(|| {
            out.clear();
            let record = vpc.parse(black_box(line)).unwrap();
            vpc.write_json(&record, &mut out);
            black_box(out.len())
        })
    });
    let tcp = vpc_flow::Format::new(fixture!("vpc-flow/tcp_flags_v3.format")).unwrap();
    let line = fixture!("vpc-flow/tcp_flags_v3.log")
        .lines()
        .next()
        .unwrap();
    group.bench_function("vpc-flow v3 custom parse + JSON", |b| {
        b.iter(|| {
            out.clear();
            let record = tcp.parse(black_box(line)).unwrap();
            tcp.write_json(&record, &mut out);
            black_box(out.len())
        })
    });

    let fields = cloudfront::Fields::new(fixture!("cloudfront/all_fields.format")).unwrap();
    let line = fixture!("cloudfront/all_fields.log")
        .lines()
        .next()
        .unwrap();
    group.bench_function("cloudfront-realtime parse", |b| {
        b.iter(|| black_box(fields.parse(black_box(line)).ok()))
    });
    group.bench_function("cloudfront-realtime parse + JSON", |b| {
        b.iter(|| {
            out.clear();
            let record = fields.parse(black_box(line)).unwrap();
            fields.write_json(&record, &mut out);
            black_box(out.len())
        })
    });

    let event = compact(
        &serde_json::from_str::<serde_json::Value>(fixture!(
            "cloudtrail/cloudtrail_update_trail_error.json"
        ))
        .unwrap()["Records"][0]
            .to_string(),
    );
    group.bench_function("cloudtrail event parse", |b| {
        b.iter(|| black_box(cloudtrail::parse(black_box(&event)).ok()))
    });
    let log = compact(fixture!("waf/sqli_block.json"));
    group.bench_function("waf log parse", |b| {
        b.iter(|| black_box(waf::parse(black_box(&log)).ok()))
    });
    group.finish();

    // The pipeline's input formats: parse, then the document (JSON text for
    // line formats) that the stages and the writer see.
    let mut group = c.benchmark_group("aws input formats");
    group.throughput(Throughput::Elements(1));
    let settings = Settings::from_pairs([(
        "CLOUDFRONT_FIELDS",
        fixture!("cloudfront/all_fields.format"),
    )]);
    let cx = ParseContext::default();
    for (name, line) in [
        ("alb", alb_line()),
        (
            "vpc-flow",
            fixture!("vpc-flow/default_v2.log").lines().next().unwrap(),
        ),
        (
            "cloudfront-realtime",
            fixture!("cloudfront/all_fields.log")
                .lines()
                .next()
                .unwrap(),
        ),
    ] {
        let format = input::by_name(name, &settings).unwrap();
        group.bench_function(name, |b| {
            b.iter(|| black_box(format.parse(black_box(line), &cx).ok()))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(CpuTime).sample_size(30).measurement_time(std::time::Duration::from_secs(2)).warm_up_time(std::time::Duration::from_millis(500));
    targets = parsers
}
criterion_main!(benches);
