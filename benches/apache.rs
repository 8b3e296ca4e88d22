//! Apache access log parsing and conversion over the 10,000-line fixture (real
//! combined-format lines from elastic/examples): the parser and writers per
//! line, then the blueprints through the engine with the whole fixture as one
//! event (base64 in and out, response accounting included).
//!
//! Run with `cargo bench --bench apache`; criterion reports the time per
//! iteration (10,000 lines) and, through `Throughput::Elements`, lines per second.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use firehose_transform::blueprints::apache::{ApacheOptions, ApacheToCsv, ApacheToJson};
use firehose_transform::config::Settings;
use firehose_transform::engine::Engine;
use firehose_transform::enrich::geoip::GeoIp;
use firehose_transform::event::Event;
use firehose_transform::formats::apache;
use firehose_transform::pipeline::{input, GeoIpField, JsonLines, Pipeline};
use firehose_transform::testing;
use firehose_transform::Transform;
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
    let event = testing::event_from_lines(lines());
    let options = ApacheOptions::default();
    let mut group = c.benchmark_group("apache engine, 10,000-line event");
    group.throughput(Throughput::Elements(event.records.len() as u64));
    group.sample_size(30);

    let json = Engine::new(ApacheToJson {
        options,
        geoip: None,
    });
    group.bench_function("apachelog-to-json", |b| {
        b.iter(|| black_box(json.process(black_box(&event), None)))
    });
    // With GeoIP of `host` (the City test database: most of the log's real
    // addresses are not in it, so this is mostly the cost of a lookup miss).
    let city = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/mmdb/GeoIP2-City-Test.mmdb"
    );
    let settings = Settings::from_pairs([("GEOIP_DATABASE", city)]);
    let json_geoip =
        Engine::new(ApacheToJson::from_settings(&settings).expect("the test database opens"));
    group.bench_function("apachelog-to-json with GeoIP", |b| {
        b.iter(|| black_box(json_geoip.process(black_box(&event), None)))
    });
    let csv = Engine::new(ApacheToCsv { options });
    group.bench_function("apachelog-to-csv", |b| {
        b.iter(|| black_box(csv.process(black_box(&event), None)))
    });

    // The same two as compositions of the pipeline's stages (README,
    // Performance: tried, measured, not adopted). Each must answer byte for
    // byte as the blueprint does before it is timed.
    let composed = Engine::new(Pipeline::new(input::Apache).write(JsonLines));
    same_response(&json, &composed, &event);
    group.bench_function("apachelog-to-json composed", |b| {
        b.iter(|| black_box(composed.process(black_box(&event), None)))
    });
    let geoip = GeoIp::builder()
        .database(city)
        .open()
        .expect("the test database opens");
    let field = ".host".parse().expect("a path");
    let target = ".geo".parse().expect("a path");
    let composed_geoip = Engine::new(
        Pipeline::new(input::Apache)
            .stage(GeoIpField::new(geoip, field, target))
            .write(JsonLines),
    );
    same_response(&json_geoip, &composed_geoip, &event);
    group.bench_function("apachelog-to-json with GeoIP composed", |b| {
        b.iter(|| black_box(composed_geoip.process(black_box(&event), None)))
    });
    group.finish();
}

/// Checks that two transforms give the same response to `event`.
fn same_response<A: Transform, B: Transform>(a: &Engine<A>, b: &Engine<B>, event: &Event<'_>) {
    let (a, b) = (a.process(event, None), b.process(event, None));
    assert_eq!(a.summary.ok, event.records.len() as u64);
    assert!(
        a.response.to_json() == b.response.to_json(),
        "the composition answers differently"
    );
}

criterion_group!(benches, per_line, through_the_engine);
criterion_main!(benches);
