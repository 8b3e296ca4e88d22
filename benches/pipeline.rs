//! The `firehose-pipeline` transform on a ~6 MB event of 1 KB JSON records,
//! in-process: event parsing, decoding, the stages, the response.
//!
//! `cargo bench --bench pipeline`. Throughput is records per second on one
//! core. The issue's targets: FILTER + PARTITION_KEYS at least 500,000
//! records/s; with two fields hashed as well, at least 300,000.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use firehose_transform::blueprints::pipeline::from_settings;
use firehose_transform::config::Settings;
use firehose_transform::testing::EventBuilder;
use firehose_transform::{Engine, EngineConfig, SharedEvent};

/// A 1,000-byte web event, varied by `i` (xorshift, so nothing is uniform).
fn record(i: usize, state: &mut u64) -> String {
    let mut next = || {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    };
    let status = [200, 200, 200, 201, 304, 400, 404, 500, 503][(next() % 9) as usize];
    let path = [
        "/health",
        "/api/orders",
        "/api/users/42",
        "/login",
        "/static/app.js",
    ][(next() % 5) as usize];
    let mut line = format!(
        concat!(
            r#"{{"ts":"2026-11-{:02}T{:02}:{:02}:{:02}.{:03}Z","customer_id":"c-{}","status":{},"method":"GET","path":"{}","#,
            r#""user":{{"id":{},"email":"user{}@example.com","name":"User Name {}"}},"client":{{"ip":"81.2.69.{}","port":{}}},"#,
            r#""ua":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36","#,
            r#""referrer":"https://www.example.com/search?q={}","latency_ms":{}.{:03},"bytes":{},"tags":["a","b","web"],"#,
            r#""trace_id":"{:032x}","message":""#
        ),
        1 + next() % 28,
        next() % 24,
        next() % 60,
        next() % 60,
        next() % 1000,
        1 + next() % 40,
        status,
        path,
        next() % 1_000_000,
        next() % 100_000,
        i,
        1 + next() % 254,
        1024 + next() % 60000,
        i,
        next() % 500,
        next() % 1000,
        next() % 1_000_000,
        u128::from(next()) << 64 | u128::from(next()),
    );
    while line.len() < 998 {
        line.push((b'a' + (next() % 26) as u8) as char);
    }
    line.push_str("\"}");
    line
}

/// An event of about 6 MB of such records.
fn event_json() -> (Vec<u8>, usize) {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let count = 6_000_000 / (1000 * 4 / 3 + 130);
    let lines: Vec<String> = (0..count).map(|i| record(i, &mut state)).collect();
    let event = EventBuilder::new().lines(lines).build();
    (
        serde_json::to_vec(&event).expect("an event serializes"),
        count,
    )
}

fn pipeline(c: &mut Criterion) {
    // As the binaries do at start-up (`run`): freed memory is kept for the
    // next iteration instead of being faulted in again.
    firehose_transform::runtime::keep_freed_memory();
    let (json, records) = event_json();
    eprintln!(
        "event: {} bytes, {records} records of 1,000 bytes",
        json.len()
    );
    let filter = ("FILTER", r#".status >= 400 and .path != "/health""#);
    let keys = ("PARTITION_KEYS", "{customer: .customer_id}");
    let cases: [(&str, Vec<(&str, &str)>); 4] = [
        ("json to json, no stage", vec![]),
        ("filter + partition keys", vec![filter, keys]),
        (
            "filter + partition keys + hash 2 fields",
            vec![
                filter,
                keys,
                ("REDACT_FIELDS", ".user.email:hash,.client.ip:hash"),
                ("REDACT_HASH_KEY", "bench-key-bench-key-bench-key-32"),
            ],
        ),
        (
            "all patterns redacted in every string",
            vec![(
                "REDACT_PATTERNS",
                "email,ipv4,ipv6,credit_card,aws_access_key",
            )],
        ),
    ];
    // The request body as Lambda hands it over: owned, parsed in place.
    let body = bytes::Bytes::from(json);
    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Elements(records as u64));
    group.sample_size(20);
    for (name, pairs) in cases {
        let transform = from_settings(&Settings::from_pairs(pairs)).expect("valid settings");
        // One thread runs the records: these are per-core figures.
        let config = EngineConfig {
            threads: 1,
            ..EngineConfig::default()
        };
        let engine = Engine::with_config(transform, config);
        group.bench_function(name, |b| {
            b.iter(|| {
                let event = SharedEvent::parse(black_box(body.clone())).expect("valid event");
                let invocation = engine.process_shared(&event, None).expect("the event fits");
                assert_eq!(invocation.summary.failed(), 0);
                black_box(invocation.response.into_chunks())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
