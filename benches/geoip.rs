//! GeoIP lookups per second against MaxMind's test databases.
//!
//! `cargo bench --bench geoip`
//!
//! The addresses are the first address of every network in the City test
//! database's source data (IPv4 and IPv6), so every lookup finds a record and
//! decodes the fields.

use std::hint::black_box;
use std::net::IpAddr;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use firehose_transform::enrich::geoip::{FieldSet, GeoIp, Skip};
use firehose_transform::formats::json::ObjectWriter;

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

fn lookups(c: &mut Criterion) {
    let city = GeoIp::builder()
        .database(format!("{DIR}/GeoIP2-City-Test.mmdb"))
        .open()
        .expect("City test database");
    let city_and_asn = GeoIp::builder()
        .database(format!("{DIR}/GeoIP2-City-Test.mmdb"))
        .database(format!("{DIR}/GeoLite2-ASN-Test.mmdb"))
        .open()
        .expect("City and ASN test databases");
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

criterion_group!(benches, lookups);
criterion_main!(benches);
