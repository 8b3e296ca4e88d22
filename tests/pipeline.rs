//! The pipeline: jq expressions checked against the real `jq` program, the
//! redaction property, the byte budget with keys, and the `firehose-pipeline`
//! binary end to end in local mode.

use std::io::Write;
use std::process::{Command, Stdio};

use firehose_transform::blueprints::pipeline::from_settings;
use firehose_transform::config::Settings;
use firehose_transform::doc::Value;
use firehose_transform::pipeline::jq::Jq;
use firehose_transform::pipeline::redact::{Action, Pattern, Redact, Redactor};
use firehose_transform::pipeline::Stage;
use firehose_transform::response::{OtfOperation, RecordResult, WireResponse};
use firehose_transform::testing::{self, check_contract, event_from_lines};
use firehose_transform::{Context, EngineConfig};
use proptest::prelude::*;

const BIN: &str = env!("CARGO_BIN_EXE_firehose-pipeline");

/// Records of every shape the expressions meet: missing members, nulls,
/// numbers of all kinds, nested objects and arrays, strings needing escapes.
fn generated_records() -> Vec<String> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let scalars = [
        "null",
        "true",
        "false",
        "0",
        "-1",
        "400",
        "503",
        "1.5",
        "1e3",
        "12345678901",
        "\"\"",
        "\"/health\"",
        "\"/api/orders\"",
        "\"2026-11-22T05:00:00Z\"",
        "\"c-42\"",
        "\"sp ace\"",
        "\"quote\\\"d\"",
        "\"é\"",
        "[]",
        "[1,\"a\",null]",
        "{}",
        "{\"id\":7}",
    ];
    (0..300)
        .map(|i| {
            let mut members = Vec::new();
            for key in [
                "status",
                "path",
                "customer_id",
                "ts",
                "level",
                "user",
                "tags",
                "n",
            ] {
                match next(10) {
                    0 => {} // missing
                    1..=2 => members.push(format!(
                        "\"{key}\":{}",
                        scalars[next(scalars.len() as u64) as usize]
                    )),
                    _ => {
                        let value = match key {
                            "status" => {
                                ["200", "404", "500", "503", "301"][next(5) as usize].to_string()
                            }
                            "path" => ["\"/health\"", "\"/api\"", "\"/login\""][next(3) as usize]
                                .to_string(),
                            "customer_id" => format!("\"c-{}\"", next(5)),
                            "ts" => format!("\"2026-{:02}-01T00:00:00Z\"", 1 + next(12)),
                            "level" => {
                                ["\"ERROR\"", "\"info\"", "\"WARN\""][next(3) as usize].to_string()
                            }
                            "user" => format!(
                                "{{\"id\":{},\"email\":\"u{}@example.com\",\"tier\":\"{}\"}}",
                                next(100),
                                next(100),
                                ["gold", "free"][next(2) as usize]
                            ),
                            "tags" => format!("[\"t{}\",\"t{}\"]", next(3), next(3)),
                            _ => format!("{}", next(1000) as i64 - 500),
                        };
                        members.push(format!("\"{key}\":{value}"));
                    }
                }
            }
            members.push(format!("\"seq\":{i}"));
            format!("{{{}}}", members.join(","))
        })
        .collect()
}

/// Every expression the tests and the README use, and more of jq's forms.
const EXPRESSIONS: &[&str] = &[
    ".status >= 400 and .path != \"/health\"",
    ".status",
    ".user.tier == \"gold\"",
    ".level | ascii_downcase == \"error\"",
    "(.level // \"none\") | test(\"err\"; \"i\")",
    ".tags | index(\"t1\")",
    ".tags[0]",
    ".ts[0:4]",
    "{customer: .customer_id, year: (.ts[0:4])}",
    "{customer: .customer_id}",
    "{status: .status, tier: .user.tier}",
    "{customer_id}",
    ".n > 0 or .status == null",
    "if .status >= 500 then \"server\" elif .status >= 400 then \"client\" else \"ok\" end",
    "(.status | tostring) + \"-\" + (.path // \"-\")",
    ".user.email | length",
    "[.status, .n] | add",
    ".status as $s | .n | . + ($s // 0)",
    "keys",
    "select(.status == 500) | .seq",
    "has(\"user\")",
    ".missing.deeper",
    "not",
    "try (.user.id + 1) catch \"no\"",
    ".status >= 400",
    ".response >= 500",
    ".a.b",
    "if .status >= 500 then \"errors\" else \"requests\" end",
    "{year: (.event_timestamp | strftime(\"%Y\"))}",
    ".n | strftime(\"%Y-%m-%dT%H:%M:%SZ\")",
    "{status: (.status | tostring)}",
];

fn jq_available() {
    let found = Command::new("jq").arg("--version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "these tests compare with the jq program: install it (Debian: apt-get install jq; macOS: brew install jq)"
    );
}

/// What `jq -c` outputs for each record, as JSON lines per record: each
/// record's results collected with `[EXPR]`, or the error.
fn reference(expression: &str, records: &[String]) -> Vec<Result<serde_json::Value, ()>> {
    let program = format!("try [{expression}] catch \"__jq_error__\"");
    let mut child = Command::new("jq")
        .args(["-c", &program])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("jq starts");
    let input = records.join("\n");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("jq runs");
    writer.join().unwrap().unwrap();
    assert!(
        output.status.success(),
        "jq failed on {expression}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            if value == "__jq_error__" {
                Err(())
            } else {
                Ok(value)
            }
        })
        .collect()
}

/// Numbers compared by value: jq and jaq agree on `1.5`, not always on how
/// `1e3` is spelled.
fn normalized(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        J::Number(n) => J::from(n.as_f64().unwrap_or(f64::NAN)),
        J::Array(items) => J::Array(items.into_iter().map(normalized).collect()),
        J::Object(members) => J::Object(
            members
                .into_iter()
                .map(|(k, v)| (k, normalized(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Where jaq and jq 1.6 (Debian's) answer differently, pinned: the README's
/// "jq compatibility" lists the same. An expression here must still differ
/// (so the list stays true), and no other may.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        ".tags | index(\"t1\")",
        "index(s) on null: jq gives null, jaq an error",
    ),
    (
        ".tags[0]",
        "a number index on an object: jq errors, jaq gives null",
    ),
    (".ts[0:4]", "slicing null: jq gives null, jaq an error"),
    (
        "{customer: .customer_id, year: (.ts[0:4])}",
        "slicing null, as above",
    ),
];

#[test]
fn every_expression_gives_what_the_jq_program_gives() {
    jq_available();
    let records = generated_records();
    let mut differing = Vec::new();
    for expression in EXPRESSIONS {
        let jq = Jq::compile(expression).unwrap_or_else(|e| panic!("{expression}: {e}"));
        let expected = reference(expression, &records);
        assert_eq!(expected.len(), records.len(), "{expression}");
        let mut first_difference = None;
        for (record, expected) in records.iter().zip(expected) {
            let doc = Value::parse_json(record).unwrap();
            let ours: Result<Vec<serde_json::Value>, String> = jq
                .run(&doc)
                .into_iter()
                .map(|r| r.map(|v| serde_json::from_str(&v.to_string()).unwrap()))
                .collect();
            let same = match (&ours, &expected) {
                (Ok(ours), Ok(serde_json::Value::Array(theirs))) => {
                    ours.iter().cloned().map(normalized).collect::<Vec<_>>()
                        == theirs.iter().cloned().map(normalized).collect::<Vec<_>>()
                }
                (Err(_), Err(())) => true,
                _ => false,
            };
            if !same && first_difference.is_none() {
                first_difference = Some(format!(
                    "{expression} on {record}: ours {ours:?}, jq {expected:?}"
                ));
            }
        }
        let known = KNOWN_DIFFERENCES.iter().any(|(e, _)| e == expression);
        match (first_difference, known) {
            (Some(difference), false) => differing.push(difference),
            (None, true) => differing.push(format!("{expression} is listed as differing but agrees now: update the list and the README")),
            _ => {}
        }
    }
    assert!(differing.is_empty(), "{}", differing.join("\n"));
}

#[test]
fn filter_and_partition_keys_decide_as_jq_does() {
    jq_available();
    let records = generated_records();
    let filter = ".status >= 400 and .path != \"/health\"";
    let keys = "{customer: .customer_id, status: .status}";
    let pipeline = from_settings(&Settings::from_pairs([
        ("FILTER", filter),
        ("PARTITION_KEYS", keys),
    ]))
    .unwrap();
    let processed = testing::run(&pipeline, &records);
    let kept = reference(&format!("select({filter}) | true"), &records);
    let key_objects = reference(keys, &records);
    for (i, record) in records.iter().enumerate() {
        let keep = matches!(&kept[i], Ok(serde_json::Value::Array(v)) if !v.is_empty());
        if !keep {
            assert!(
                processed.is_dropped(i),
                "record {i} {record} should be dropped"
            );
            continue;
        }
        let Ok(serde_json::Value::Array(objects)) = &key_objects[i] else {
            panic!("keys of {record}")
        };
        let object = objects[0].as_object().unwrap();
        if object
            .values()
            .any(|v| v.is_null() || v.is_array() || v.is_object())
        {
            assert_eq!(
                processed.failure_reason(i),
                Some("partition keys could not be produced"),
                "{record}"
            );
            continue;
        }
        let expected: Vec<(String, String)> = object
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_string),
                )
            })
            .collect();
        let ours = processed.partition_keys(i);
        assert_eq!(ours.len(), expected.len(), "{record}");
        for ((k1, v1), (k2, v2)) in ours.iter().zip(&expected) {
            assert_eq!(k1, k2, "{record}");
            // jq 1.6 prints numbers with %.17g; the keys are canonical JSON
            // numbers (the README says so): equal as numbers.
            match (v1.parse::<f64>(), v2.parse::<f64>()) {
                (Ok(a), Ok(b)) if object[k1.as_str()].is_number() => assert_eq!(a, b, "{record}"),
                _ => assert_eq!(v1, v2, "{record}"),
            }
        }
        assert_eq!(processed.text(i), format!("{record}\n"));
    }
}

/// A Luhn-valid card number from 15 digits.
fn luhn_complete(digits: &[u8]) -> String {
    let mut all: Vec<u32> = digits.iter().map(|d| u32::from(d % 10)).collect();
    let sum: u32 = all
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    all.push((10 - sum % 10) % 10);
    all.iter().map(|d| char::from(b'0' + *d as u8)).collect()
}

fn secret() -> impl Strategy<Value = String> {
    prop_oneof![
        ("[a-z][a-z0-9._]{0,10}", "[a-z]{1,8}", "[a-z]{2,4}")
            .prop_map(|(u, d, t)| format!("{u}@{d}.{t}")),
        any::<[u8; 4]>().prop_map(|o| format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3])),
        any::<[u16; 8]>().prop_map(|g| std::net::Ipv6Addr::from(g).to_string()),
        proptest::collection::vec(0u8..10, 15).prop_map(|d| luhn_complete(&d)),
        "(AKIA|ASIA)[A-Z0-9]{16}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Whatever text surrounds them and however deep they sit, no secret a
    /// pattern covers survives redaction, escaped or not.
    #[test]
    fn redaction_never_leaves_a_matched_secret(
        secrets in proptest::collection::vec(secret(), 1..4),
        words in proptest::collection::vec("[a-zA-Z ,;:()\"\\\\-]{0,12}", 4),
        nested in any::<bool>(),
    ) {
        let text = format!("{} {} {} {} {}", words[0], secrets.join(" , "), words[1], words[2], words[3]);
        let string = serde_json::to_string(&text).unwrap();
        let json = if nested {
            format!(r#"{{"a":{{"b":[1,{string}]}},"c":{string}}}"#)
        } else {
            format!(r#"{{"msg":{string}}}"#)
        };
        let redact = Redact::new().patterns(Redactor::new(Pattern::ALL.map(|p| (p, Action::Mask)), None).unwrap());
        let mut doc = Value::parse_json(&json).unwrap();
        redact.apply(&mut doc, &mut Context::default()).unwrap();
        let out = String::from_utf8(doc.to_json()).unwrap();
        let decoded: serde_json::Value = serde_json::from_str(&out).unwrap();
        let plain = decoded.to_string();
        for secret in &secrets {
            prop_assert!(!out.contains(secret.as_str()), "{} left in {}", secret, out);
            prop_assert!(!plain.contains(secret.as_str()), "{} left in {}", secret, plain);
        }
    }
}

#[test]
fn keys_and_iceberg_routing_are_counted_exactly_in_the_budget() {
    let pipeline = from_settings(&Settings::from_pairs([
        ("PARTITION_KEYS", "{customer: .c, \"quoted\\\"key\": .q}"),
        ("ICEBERG_DATABASE", "analytics"),
        ("ICEBERG_TABLE", ".t"),
        (
            "ICEBERG_OPERATION",
            "if .del then \"delete\" else \"insert\" end",
        ),
    ]))
    .unwrap();
    let lines: Vec<String> = (0..20)
        .map(|i| {
            format!(
                r#"{{"c":"c-{i}","q":"a\"b\u0001","t":"table_{}","del":{}}}"#,
                i % 3,
                i % 2 == 0
            )
        })
        .collect();
    let event = event_from_lines(&lines);
    let full = testing::run_event(&pipeline, &event);
    assert_eq!(full.response_len(), full.response_json().len());
    assert_eq!(
        full.otf_metadata(0).unwrap().operation,
        Some(OtfOperation::Delete)
    );
    assert_eq!(
        full.otf_metadata(1).unwrap().table.as_deref(),
        Some("table_1")
    );
    // A budget of exactly the response's size fits every record; one byte
    // less fails the last record, and the response still fits.
    let exact = EngineConfig {
        response_budget: full.response_len(),
        ..EngineConfig::default()
    };
    let fits = testing::run_event_with(&pipeline, &exact, &event);
    assert!((0..20).all(|i| fits.is_ok(i)));
    let short = EngineConfig {
        response_budget: full.response_len() - 1,
        ..EngineConfig::default()
    };
    let over = testing::run_event_with(&pipeline, &short, &event);
    assert!((0..19).all(|i| over.is_ok(i)));
    assert_eq!(
        over.failure_reason(19),
        Some("response byte budget exceeded")
    );
    assert!(over.response_len() < full.response_len());
}

fn run_binary(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("FIREHOSE_METRICS")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn fixture(name: &str) -> String {
    format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_binary_filters_redacts_and_partitions_an_event_in_local_mode() {
    let event_path = fixture("pipeline/web-events.json");
    let output = run_binary(
        &["--event", &event_path],
        &[
            ("FILTER", ".status >= 400 and .path != \"/health\""),
            (
                "PARTITION_KEYS",
                "{customer: .customer_id, year: (.ts[0:4])}",
            ),
            ("REDACT_FIELDS", ".user.email:hash,.password:drop"),
            ("REDACT_PATTERNS", "credit_card,ipv4"),
            ("REDACT_HASH_KEY", "test-key-not-a-secret-0123456789ab"),
            ("ICEBERG_TABLE", "web_errors"),
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let event = std::fs::read(&event_path).unwrap();
    let parsed = firehose_transform::Event::from_slice(&event).unwrap();
    check_contract(&parsed, &output.stdout, 6 * 1024 * 1024).unwrap();
    let response: WireResponse = serde_json::from_slice(&output.stdout).unwrap();
    let results: Vec<RecordResult> = response.records.iter().map(|r| r.result).collect();
    assert_eq!(
        results,
        [
            RecordResult::Ok,
            RecordResult::Dropped,
            RecordResult::Dropped,
            RecordResult::Ok,
            RecordResult::ProcessingFailed
        ]
    );
    let first = String::from_utf8(base64_decode(response.records[0].payload().unwrap())).unwrap();
    assert!(
        !first.contains("hunter2") && !first.contains("jo@example.com") && !first.contains("4111")
    );
    assert!(!first.contains("203.0.113.7"));
    let metadata = response.records[0].metadata.as_ref().unwrap();
    assert_eq!(metadata.partition_keys["customer"], "c-1");
    assert_eq!(metadata.partition_keys["year"], "2026");
    assert_eq!(
        metadata
            .otf_metadata
            .as_ref()
            .unwrap()
            .destination_table_name
            .as_deref(),
        Some("web_errors")
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("record is not JSON"), "{stderr}");
}

#[test]
fn a_bad_setting_stops_the_binary_with_one_line() {
    let output = run_binary(
        &["--event", &fixture("pipeline/web-events.json")],
        &[("PARTITION_KEYS", ".customer")],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.trim_end(),
        "firehose-pipeline: configuration error: PARTITION_KEYS: at character 1: expected an object of keys, as in {customer: .customer_id}"
    );
}

#[test]
fn apache_lines_go_through_the_same_stages_and_out_as_csv() {
    let pipeline = from_settings(&Settings::from_pairs([
        ("INPUT_FORMAT", "apache"),
        ("FILTER", ".response >= 500"),
        ("OUTPUT_FORMAT", "csv"),
        (
            "CSV_COLUMNS",
            ".host,.response,.request,.[\"@timestamp_utc\"]",
        ),
    ]))
    .unwrap();
    let processed = testing::run(&pipeline, [
        "192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /a,b HTTP/1.1\" 503 12\n192.0.2.2 - - [10/Oct/2000:13:55:37 -0700] \"GET / HTTP/1.1\" 200 1",
        "not a log line",
    ]);
    assert_eq!(
        processed.text(0),
        "192.0.2.1,503,\"GET /a,b HTTP/1.1\",2000-10-10T20:55:36Z\n"
    );
    assert_eq!(
        processed.failure_reason(1),
        Some("not an Apache access log line")
    );
    assert!(processed
        .failure(1)
        .unwrap()
        .detail()
        .unwrap()
        .starts_with("line 1: "));
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("the response holds base64")
}
