//! Apache access log parsing and conversion over the 10,000-line fixture (real
//! combined-format lines from elastic/examples): the parser and writers per
//! line, then the blueprints through the engine with the whole fixture as one
//! event (base64 in and out, response accounting included).
//!
//! Run with `cargo bench --bench apache`; criterion reports the time per
//! iteration (10,000 lines) and, through `Throughput::Elements`, lines per second.
//! Those run the records on one thread; the last group runs a full 6 MB event
//! (parsed from its JSON as Lambda hands it over) on one thread and on two,
//! and the reading of that event alone.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use firehose_transform::blueprints::apache::{ApacheOptions, ApacheToCsv, ApacheToJson};
use firehose_transform::config::Settings;
use firehose_transform::engine::{Engine, EngineConfig};
use firehose_transform::enrich::geoip::GeoIp;
use firehose_transform::formats::apache;
use firehose_transform::pipeline::{input, GeoIpField, JsonLines, Pipeline};
use firehose_transform::testing;
use firehose_transform::{SharedEvent, Transform};
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
        b.iter(|| {
            for line in &lines {
                black_box(apache::parse_lossy(black_box(line.as_bytes())).ok());
            }
        })
    });
    group.finish();
}

fn through_the_engine(c: &mut Criterion) {
    // As the binaries do at start-up (`run`): freed memory is kept for the
    // next iteration instead of being faulted in again.
    firehose_transform::runtime::keep_freed_memory();
    let event = SharedEvent::from(testing::event_from_lines(lines()));
    let records = event.get().records.len();
    // One thread runs the records: these are per-core figures.
    let one_thread = EngineConfig {
        threads: 1,
        ..EngineConfig::default()
    };
    let options = ApacheOptions::default();
    let mut group = c.benchmark_group("apache engine, 10,000-line event");
    group.throughput(Throughput::Elements(records as u64));
    group.sample_size(30);

    let json = Engine::with_config(
        ApacheToJson {
            options,
            geoip: None,
        },
        one_thread.clone(),
    );
    group.bench_function("apachelog-to-json", |b| {
        b.iter(|| black_box(json.process_shared(black_box(&event), None)))
    });
    // With GeoIP of `host` (the City test database: most of the log's real
    // addresses are not in it, so this is mostly the cost of a lookup miss).
    let city = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/mmdb/GeoIP2-City-Test.mmdb"
    );
    let settings = Settings::from_pairs([("GEOIP_DATABASE", city)]);
    let json_geoip = Engine::with_config(
        ApacheToJson::from_settings(&settings).expect("the test database opens"),
        one_thread.clone(),
    );
    group.bench_function("apachelog-to-json with GeoIP", |b| {
        b.iter(|| black_box(json_geoip.process_shared(black_box(&event), None)))
    });
    let csv = Engine::with_config(ApacheToCsv { options }, one_thread.clone());
    group.bench_function("apachelog-to-csv", |b| {
        b.iter(|| black_box(csv.process_shared(black_box(&event), None)))
    });

    // The same two as compositions of the pipeline's stages (README,
    // Performance: tried, measured, not adopted). Each must answer byte for
    // byte as the blueprint does before it is timed.
    let composed = Engine::with_config(
        Pipeline::new(input::Apache).write(JsonLines),
        one_thread.clone(),
    );
    same_response(&json, &composed, &event);
    group.bench_function("apachelog-to-json composed", |b| {
        b.iter(|| black_box(composed.process_shared(black_box(&event), None)))
    });
    let geoip = GeoIp::builder()
        .database(city)
        .open()
        .expect("the test database opens");
    let field = ".host".parse().expect("a path");
    let target = ".geo".parse().expect("a path");
    let composed_geoip = Engine::with_config(
        Pipeline::new(input::Apache)
            .stage(GeoIpField::new(geoip, field, target))
            .write(JsonLines),
        one_thread,
    );
    same_response(&json_geoip, &composed_geoip, &event);
    group.bench_function("apachelog-to-json with GeoIP composed", |b| {
        b.iter(|| black_box(composed_geoip.process_shared(black_box(&event), None)))
    });
    group.finish();
}

fn threads(c: &mut Criterion) {
    // As the binaries do at start-up (`run`): freed memory is kept for the
    // next iteration instead of being faulted in again.
    firehose_transform::runtime::keep_freed_memory();
    let json = testing::EventBuilder::new()
        .fill_to(&lines(), 6_000_000)
        .to_json();
    let body = bytes::Bytes::from(json);
    let records = SharedEvent::parse(body.clone())
        .map(|e| e.get().records.len())
        .unwrap_or(0);
    let mut group = c.benchmark_group("apache engine, 6 MB event");
    group.throughput(Throughput::Elements(records as u64));
    group.sample_size(30);
    for threads in [1, 2] {
        let config = EngineConfig {
            threads,
            ..EngineConfig::default()
        };
        let engine = Engine::with_config(
            ApacheToJson {
                options: ApacheOptions::default(),
                geoip: None,
            },
            config,
        );
        group.bench_function(format!("reading the event, {threads} thread(s)"), |b| {
            b.iter(|| {
                engine
                    .parse_event(black_box(body.clone()))
                    .expect("valid event")
            })
        });
        group.bench_function(format!("apachelog-to-json, {threads} thread(s)"), |b| {
            b.iter(|| {
                let event = engine
                    .parse_event(black_box(body.clone()))
                    .expect("valid event");
                let invocation = engine.process_shared(&event, None).expect("the event fits");
                black_box(invocation.response.into_chunks())
            })
        });
    }
    group.finish();
}

/// Checks that two transforms give the same response to `event`.
fn same_response<A: Transform, B: Transform>(a: &Engine<A>, b: &Engine<B>, event: &SharedEvent) {
    let (a, b) = (
        a.process_shared(event, None).expect("the event fits"),
        b.process_shared(event, None).expect("the event fits"),
    );
    assert_eq!(a.summary.ok, event.get().records.len() as u64);
    assert!(
        a.response.to_json() == b.response.to_json(),
        "the composition answers differently"
    );
}

criterion_group!(benches, per_line, through_the_engine, threads);
criterion_main!(benches);
