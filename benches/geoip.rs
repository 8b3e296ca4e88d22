//! GeoIP lookups per second against MaxMind's test databases, and the
//! `geoip-enrich` blueprint through the engine on a ~6 MB event.
//!
//! `cargo bench --bench geoip`
//!
//! Times are the benchmark process's CPU time (Linux
//! `CLOCK_PROCESS_CPUTIME_ID`: every thread's, the engine's own included),
//! not wall-clock time, so that the figures are per core even on a machine
//! shared with other work (the development machine has 2 vCPUs and runs
//! several builds at once). Elsewhere, and on other systems, wall-clock time
//! is used. The engine runs the records on one thread (`threads: 1`).
//!
//! The addresses are the first address of every network in the City test
//! database's source data (IPv4 and IPv6), so every lookup finds a record and
//! decodes the fields.

use std::hint::black_box;
use std::net::IpAddr;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use firehose_transform::blueprints::geoip::GeoIpEnrich;
use firehose_transform::config::Settings;
use firehose_transform::enrich::geoip::{FieldSet, GeoIp, Skip};
use firehose_transform::formats::json::ObjectWriter;
use firehose_transform::testing::EventBuilder;
use firehose_transform::{Engine, EngineConfig, SharedEvent};

#[path = "support/cpu_time.rs"]
mod cpu_time;
use cpu_time::CpuTime;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/mmdb");

/// The first address of each network in a source JSON file that the
/// enricher would look up (special-purpose addresses left out).
fn addresses(source: &str) -> Vec<IpAddr> {
    let text = std::fs::read_to_string(format!("{DIR}/source-data/{source}")).expect("source data");
    let entries: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(&text).expect("JSON");
    let mut addresses = Vec::new();
    for key in entries.iter().flat_map(|entry| entry.keys()) {
        let Some((address, _)) = key.split_once('/') else {
            continue;
        };
        let Ok(ip) = address.parse::<IpAddr>() else {
            continue;
        };
        // `::a.b.c.d` in the source stands for the IPv4 address a.b.c.d.
        let ip = match ip {
            IpAddr::V6(v6) if u128::from(v6) >> 32 == 0 => {
                IpAddr::V4(std::net::Ipv4Addr::from(u128::from(v6) as u32))
            }
            other => other,
        };
        if Skip::for_address(ip).is_none() {
            addresses.push(ip);
        }
    }
    addresses
}

fn lookups(c: &mut Criterion<CpuTime>) {
    let city = GeoIp::builder()
        .database(format!("{DIR}/GeoIP2-City-Test.mmdb"))
        .open()
        .expect("City test database");
    let city_and_asn = GeoIp::builder()
        .database(format!("{DIR}/GeoIP2-City-Test.mmdb"))
        .database(format!("{DIR}/GeoLite2-ASN-Test.mmdb"))
        .open()
        .expect("City and ASN test databases");
    let uncached = GeoIp::builder()
        .database(format!("{DIR}/GeoIP2-City-Test.mmdb"))
        .record_cache(0)
        .open()
        .expect("City test database");
    let all_fields = GeoIp::builder()
        .database(format!("{DIR}/GeoIP2-City-Test.mmdb"))
        .fields(FieldSet::ALL.difference(FieldSet::of(&[
            firehose_transform::enrich::geoip::Field::Asn,
            firehose_transform::enrich::geoip::Field::AsOrg,
        ])))
        .open()
        .expect("City test database");

    let addresses = addresses("GeoIP2-City-Test.json");
    let hits = addresses
        .iter()
        .filter(|ip| city.lookup(**ip).is_ok())
        .count();
    assert!(
        hits * 10 >= addresses.len() * 9,
        "only {hits} of {} addresses found",
        addresses.len()
    );
    let texts: Vec<String> = addresses.iter().map(ToString::to_string).collect();

    let mut group = c.benchmark_group("geoip");
    group.throughput(Throughput::Elements(addresses.len() as u64));

    group.bench_function("city_default_fields", |b| {
        b.iter(|| {
            for ip in &addresses {
                let _ = black_box(city.lookup(black_box(*ip)));
            }
        })
    });

    // Every lookup decodes: the worst case, all records distinct.
    group.bench_function("city_default_fields_uncached", |b| {
        b.iter(|| {
            for ip in &addresses {
                let _ = black_box(uncached.lookup(black_box(*ip)));
            }
        })
    });

    group.bench_function("city_all_fields", |b| {
        b.iter(|| {
            for ip in &addresses {
                let _ = black_box(all_fields.lookup(black_box(*ip)));
            }
        })
    });

    group.bench_function("city_and_asn_default_fields", |b| {
        b.iter(|| {
            for ip in &addresses {
                let _ = black_box(city_and_asn.lookup(black_box(*ip)));
            }
        })
    });

    // What an enrich stage does per record: parse the text, look up, write JSON.
    let mut out = Vec::with_capacity(64 * 1024);
    group.bench_function("city_default_fields_text_to_json", |b| {
        b.iter(|| {
            out.clear();
            for text in &texts {
                let mut obj = ObjectWriter::new(&mut out);
                let _ = city.enrich_object(black_box(text), &mut obj, "geo");
                obj.finish();
            }
            black_box(out.len())
        })
    });
    group.finish();
}

/// Web-log-like JSON records (about 200 bytes), the client address nested,
/// nine in ten from the test database's networks and one in ten private.
fn records(addresses: &[IpAddr], count: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            let ip = if i % 10 == 9 {
                format!("10.{}.{}.{}", i % 256, (i / 256) % 256, i % 200)
            } else {
                addresses[i % addresses.len()].to_string()
            };
            format!(
                r#"{{"ts":"2026-11-22T05:{:02}:{:02}.{:03}Z","client":{{"ip":"{ip}","port":{}}},"method":"GET","path":"/items/{i}?page=2","status":200,"bytes":{},"ua":"Mozilla/5.0 (X11; Linux x86_64)"}}"#,
                i / 60 % 60,
                i % 60,
                i % 1000,
                1024 + i % 60000,
                i * 37 % 100_000,
            )
        })
        .collect()
}

/// The geoip-enrich transform on the City and ASN test databases, and a
/// ~6 MB event of JSON records with their addresses under `client.ip`.
fn geoip_enrich() -> (GeoIpEnrich, Vec<u8>, usize) {
    let databases = format!("{DIR}/GeoIP2-City-Test.mmdb,{DIR}/GeoLite2-ASN-Test.mmdb");
    let settings = Settings::from_pairs([
        ("GEOIP_DATABASE", databases.as_str()),
        ("GEOIP_IP_FIELD", "client.ip"),
    ]);
    let transform = GeoIpEnrich::from_settings(&settings).expect("settings");
    let sample = records(&addresses("GeoIP2-City-Test.json"), 1);
    let per_record = sample[0].len().div_ceil(3) * 4 + 130;
    let count = 6_000_000 / per_record;
    let json = EventBuilder::new()
        .lines(records(&addresses("GeoIP2-City-Test.json"), count))
        .to_json();
    (transform, json, count)
}

/// The records grow by their geo object: the response budget is lifted so
/// that the benches measure enrichment, not records failed for size.
fn lifted_budget(threads: usize) -> EngineConfig {
    EngineConfig {
        response_budget: 64 << 20,
        threads,
        ..EngineConfig::default()
    }
}

fn blueprint(c: &mut Criterion<CpuTime>) {
    // As the binaries do at start-up (`run`): freed memory is kept for the
    // next iteration instead of being faulted in again.
    firehose_transform::runtime::keep_freed_memory();
    let (transform, json, count) = geoip_enrich();
    let engine = Engine::with_config(transform, lifted_budget(1));
    let event = SharedEvent::parse(json.clone()).expect("valid event");
    let check = engine.process_shared(&event, None).expect("the event fits");
    assert_eq!(check.summary.failed(), 0, "{:?}", check.summary.failures);
    eprintln!(
        "geoip-enrich event: {count} records, {} bytes of JSON; counters {:?}",
        json.len(),
        check.summary.counters
    );

    let mut group = c.benchmark_group("geoip_enrich");
    group.throughput(Throughput::Elements(count as u64));
    group.sample_size(20);
    group.bench_function("engine_process_6mb_event", |b| {
        b.iter(|| {
            black_box(
                engine
                    .process_shared(black_box(&event), None)
                    .expect("the event fits")
                    .summary
                    .ok,
            )
        })
    });
    group.finish();
}

/// Wall-clock time of the same event, parsed from its JSON each time as
/// Lambda hands it over, on one thread and on two.
fn threads(c: &mut Criterion) {
    // As the binaries do at start-up (`run`): freed memory is kept for the
    // next iteration instead of being faulted in again.
    firehose_transform::runtime::keep_freed_memory();
    let (_, json, count) = geoip_enrich();
    let body = bytes::Bytes::from(json);
    let mut group = c.benchmark_group("geoip_enrich, wall time");
    group.throughput(Throughput::Elements(count as u64));
    group.sample_size(20);
    for threads in [1, 2] {
        let (transform, _, _) = geoip_enrich();
        let engine = Engine::with_config(transform, lifted_budget(threads));
        group.bench_function(format!("6 MB event, {threads} thread(s)"), |b| {
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

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(CpuTime);
    targets = lookups, blueprint
}
criterion_group!(wall_time, threads);
criterion_main!(benches, wall_time);
