//! The Apache access log parser and the `apachelog-to-json` / `apachelog-to-csv`
//! blueprints, on the 10,000-line elastic/examples fixture, reviewed golden
//! outputs, generated lines, and the blueprint contract.
//!
//! Golden files are regenerated with `UPDATE_GOLDEN=1 cargo test --test apache`;
//! read the diff before committing it.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use firehose_transform::blueprints::apache::{ApacheToCsv, ApacheToJson, INVALID_UTF8_COUNTER};
use firehose_transform::blueprints::APPEND_NEWLINE;
use firehose_transform::config::Settings;
use firehose_transform::formats::apache::{self, AccessLog, Format, CSV_COLUMNS};
use firehose_transform::formats::timestamp::DateTime;
use firehose_transform::testing;
use proptest::prelude::*;

const FIXTURE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/apache/apache_combined_10k.log"
));
const GOLDEN_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/golden/apache");

fn golden(name: &str) -> String {
    std::fs::read_to_string(format!("{GOLDEN_DIR}/{name}"))
        .unwrap_or_else(|e| panic!("{GOLDEN_DIR}/{name}: {e}"))
}

/// Compares `actual` with a golden file, or rewrites it under `UPDATE_GOLDEN=1`.
fn check_golden(name: &str, actual: &str) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(format!("{GOLDEN_DIR}/{name}"), actual).unwrap();
        return;
    }
    let expected = golden(name);
    for (i, (want, got)) in expected.lines().zip(actual.lines()).enumerate() {
        assert_eq!(got, want, "{name} line {}", i + 1);
    }
    assert_eq!(
        actual.lines().count(),
        expected.lines().count(),
        "{name}: line count"
    );
    assert_eq!(actual, expected, "{name}");
}

fn settings(pairs: &[(&str, &str)]) -> Settings {
    Settings::from_pairs(pairs.iter().copied())
}

/// A small RFC 4180 reader for one row (no record separator inside).
fn read_csv_row(text: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        let field = fields.last_mut().unwrap();
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => fields.push(String::new()),
            (_, c) => field.push(c),
        }
    }
    fields
}

/// What `write_csv` promises for each column of a parsed line.
fn expected_csv(log: &AccessLog<'_>) -> Vec<String> {
    let dash = |v: &Option<Cow<'_, str>>| v.as_deref().unwrap_or("-").to_string();
    let (referrer, agent) = match log.format {
        Format::Combined => (dash(&log.referrer), dash(&log.agent)),
        Format::Common => (String::new(), String::new()),
    };
    vec![
        log.host.to_string(),
        dash(&log.ident),
        dash(&log.authuser),
        log.timestamp_text.to_string(),
        log.request.to_string(),
        log.status.map(|s| s.to_string()).unwrap_or_default(),
        log.bytes.to_string(),
        referrer,
        agent,
    ]
}

// ---------------------------------------------------------------- the fixture

#[test]
fn every_fixture_line_parses() {
    let mut count = 0;
    for (n, line) in FIXTURE.lines().enumerate() {
        let log = apache::parse(line).unwrap_or_else(|e| panic!("line {}: {e}\n{line}", n + 1));
        assert_eq!(log.format, Format::Combined, "line {}", n + 1);
        assert!(log.ip().is_some(), "line {}: host {}", n + 1, log.host);
        assert!(log.status.is_some(), "line {}", n + 1);
        assert_eq!(log.timestamp.offset_minutes, 0, "line {}", n + 1);
        count += 1;
    }
    assert_eq!(count, 10_000);
}

#[test]
fn every_fixture_line_converts_to_json_that_serde_reads_back() {
    let mut out = Vec::new();
    for (n, line) in FIXTURE.lines().enumerate() {
        let log = apache::parse(line).unwrap();
        out.clear();
        apache::write_json(&log, &mut out);
        let value: serde_json::Value =
            serde_json::from_slice(&out).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
        assert_eq!(value["host"], log.host);
        assert_eq!(value["request"], log.request.as_ref());
        assert_eq!(value["response"], u64::from(log.status.unwrap()));
        assert_eq!(value["bytes"], log.bytes);
        assert_eq!(value["@timestamp_utc"], log.timestamp.to_utc().to_rfc3339());
        assert_eq!(value["agent"], log.agent.as_deref().unwrap_or("-"));
    }
}

#[test]
fn every_fixture_line_converts_to_a_csv_row_that_reads_back() {
    let mut out = Vec::new();
    for (n, line) in FIXTURE.lines().enumerate() {
        let log = apache::parse(line).unwrap();
        out.clear();
        apache::write_csv(&log, &mut out);
        let row = read_csv_row(std::str::from_utf8(&out).unwrap());
        assert_eq!(row, expected_csv(&log), "line {}", n + 1);
        assert_eq!(row.len(), CSV_COLUMNS.len());
    }
}

// ----------------------------------------------------------------- golden files

#[test]
fn golden_json_and_csv_for_the_sample() {
    let sample = golden("sample.log");
    let (mut json, mut csv) = (Vec::new(), Vec::new());
    for line in sample.lines() {
        let log = apache::parse(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        apache::write_json(&log, &mut json);
        json.push(b'\n');
        apache::write_csv(&log, &mut csv);
        csv.push(b'\n');
    }
    check_golden("sample.ndjson", std::str::from_utf8(&json).unwrap());
    check_golden("sample.csv", std::str::from_utf8(&csv).unwrap());
}

#[test]
fn blueprints_reproduce_the_golden_files() {
    let sample = golden("sample.log");
    let lines: Vec<&str> = sample.lines().collect();
    let json = ApacheToJson::from_settings(&settings(&[])).unwrap();
    let processed = testing::run(&json, &lines);
    assert_eq!(processed.ok_texts().concat(), golden("sample.ndjson"));
    let csv = ApacheToCsv::from_settings(&settings(&[])).unwrap();
    let processed = testing::run(&csv, &lines);
    assert_eq!(processed.ok_texts().concat(), golden("sample.csv"));
}

// ------------------------------------------------------------ the blueprints

#[test]
fn a_line_that_is_not_apache_fails_with_the_reason_and_where() {
    let json = ApacheToJson::from_settings(&settings(&[])).unwrap();
    let processed = testing::run(
        &json,
        [
            "<34>Oct 11 22:14:15 mymachine su: 'su root' failed",
            r#"127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326"#,
            "",
        ],
    );
    assert!(processed.is_failed(0));
    let failure = processed.failure(0).unwrap();
    assert_eq!(failure.reason(), "not an Apache access log line");
    assert_eq!(
        failure.detail(),
        Some("expected a host (an IP address or a hostname) at byte 0")
    );
    assert!(processed.is_ok(1));
    assert_eq!(
        processed.failure_reason(2),
        Some("not an Apache access log line")
    );
    let summary = processed.summary();
    assert_eq!((summary.ok, summary.failed()), (1, 2));
}

#[test]
fn invalid_utf8_is_replaced_and_counted_not_failed() {
    let line =
        b"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /\xff HTTP/1.1\" 200 5 \"-\" \"b\xc3\"";
    for transform_output in [
        testing::run(
            &ApacheToJson::from_settings(&settings(&[])).unwrap(),
            [&line[..]],
        ),
        testing::run(
            &ApacheToCsv::from_settings(&settings(&[])).unwrap(),
            [&line[..]],
        ),
    ] {
        assert!(transform_output.is_ok(0));
        let text = transform_output.text(0);
        assert!(text.contains("GET /\u{fffd} HTTP/1.1"), "{text}");
        assert!(text.contains("b\u{fffd}"), "{text}");
        assert_eq!(
            transform_output
                .summary()
                .counters
                .get(INVALID_UTF8_COUNTER),
            Some(&1)
        );
    }
}

#[test]
fn records_with_a_trailing_line_break_parse_and_many_lines_are_each_converted() {
    let line = r#"10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5"#;
    let csv = ApacheToCsv::from_settings(&settings(&[(APPEND_NEWLINE, "false")])).unwrap();
    let processed = testing::run(
        &csv,
        [
            format!("{line}\n"),
            format!("{line}\r\n"),
            format!("{line}\n{line}\n"),
            format!("{line}\n{line} trailing\nGET /\n"),
        ],
    );
    let row = "10.0.0.1,-,-,10/Oct/2000:13:55:36 -0700,GET / HTTP/1.1,200,5,,";
    assert_eq!(processed.text(0), row);
    assert_eq!(processed.text(1), row);
    assert_eq!(processed.text(2), format!("{row}\n{row}"));
    let failure = processed.failure(3).unwrap();
    assert!(
        failure.detail().unwrap().starts_with("line 3: "),
        "{failure}"
    );
}

#[test]
fn the_whole_fixture_as_one_event_converts_within_the_contract() {
    let json = ApacheToJson::from_settings(&settings(&[])).unwrap();
    let processed = testing::run(&json, FIXTURE.lines());
    let summary = processed.summary();
    assert_eq!(summary.records, 10_000);
    // The JSON is about twice the input: what does not fit in the 6 MB response
    // is the engine's to defer, never a failure of this transform.
    assert!(summary
        .failures
        .iter()
        .all(|f| f.reason != "not an Apache access log line"));
    assert!(summary.ok > 0);
    for text in processed.ok_texts() {
        assert!(text.ends_with("}\n"));
    }
}

/// Runs a blueprint binary in local mode over the golden sample, one record per
/// line, and returns the decoded outputs joined.
#[test]
fn host_is_enriched_with_geoip_when_a_database_is_configured() {
    let city = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/mmdb/GeoIP2-City-Test.mmdb"
    );
    let transform = ApacheToJson::from_settings(&settings(&[
        ("GEOIP_DATABASE", city),
        ("GEOIP_FIELDS", "country_iso_code,city_name"),
    ]))
    .unwrap();
    let line = |host: &str| {
        format!(r#"{host} - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 2326"#)
    };
    let processed = testing::run(
        &transform,
        [
            line("81.2.69.142"),
            line("10.0.0.1"),
            line("example.com"),
            line("2001:480:10::1"),
        ],
    );
    let json = |i: usize| serde_json::from_str::<serde_json::Value>(processed.text(i)).unwrap();
    // London, GB, as the database's source data says.
    assert_eq!(
        json(0)["geo"],
        serde_json::json!({"country_iso_code": "GB", "city_name": "London"})
    );
    assert_eq!(json(0)["host"], "81.2.69.142");
    // A private address and a hostname leave the line unenriched, counted.
    assert!(json(1).get("geo").is_none());
    assert!(json(2).get("geo").is_none());
    assert_eq!(json(3)["geo"]["city_name"], "San Diego");
    let counters = &processed.summary().counters;
    assert_eq!(counters.get("geoip.enriched"), Some(&2));
    assert_eq!(counters.get("geoip.private"), Some(&1));
    assert_eq!(counters.get("geoip.invalid_address"), Some(&1));
}

#[test]
fn a_missing_geoip_database_stops_apachelog_to_json_at_init() {
    let error =
        ApacheToJson::from_settings(&settings(&[("GEOIP_DATABASE", "/nonexistent/City.mmdb")]))
            .unwrap_err();
    assert_eq!(error.variable(), "GEOIP_DATABASE");
    assert!(
        error.problem().contains("/nonexistent/City.mmdb"),
        "{error}"
    );
}

fn run_binary(exe: &str, env: &[(&str, &str)]) -> String {
    use base64::Engine as _;
    let output = std::process::Command::new(exe)
        .args(["--lines", &format!("{GOLDEN_DIR}/sample.log")])
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut joined = Vec::new();
    for response in String::from_utf8(output.stdout).unwrap().lines() {
        let response: serde_json::Value = serde_json::from_str(response).unwrap();
        for record in response["records"].as_array().unwrap() {
            assert_eq!(record["result"], "Ok", "{record}");
            let data = record["data"].as_str().unwrap();
            joined.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .unwrap(),
            );
        }
    }
    String::from_utf8(joined).unwrap()
}

#[test]
fn the_binaries_in_local_mode_reproduce_the_golden_files() {
    let json = run_binary(env!("CARGO_BIN_EXE_apachelog-to-json"), &[]);
    assert_eq!(json, golden("sample.ndjson"));
    let csv = run_binary(env!("CARGO_BIN_EXE_apachelog-to-csv"), &[]);
    assert_eq!(csv, golden("sample.csv"));
    let csv = run_binary(
        env!("CARGO_BIN_EXE_apachelog-to-csv"),
        &[(APPEND_NEWLINE, "false")],
    );
    assert_eq!(csv, golden("sample.csv").replace('\n', ""));
}

// ------------------------------------------------------------ generated lines

/// The fields a generated line is made of.
#[derive(Debug, Clone)]
struct Fields {
    host: String,
    ident: Option<String>,
    authuser: Option<String>,
    timestamp: DateTime,
    request: String,
    /// The method, when `request` was made as `METHOD PATH PROTOCOL`.
    method: Option<String>,
    status: Option<u16>,
    bytes: u64,
    combined: Option<(Option<String>, Option<String>)>,
    escape_non_ascii: bool,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Escapes a field as Apache's `ap_escape_logitem` does (and, when
/// `non_ascii`, every non-ASCII byte as `\xhh`, as Apache does since 2.0.46).
fn escape(value: &str, non_ascii: bool) -> String {
    let mut out = String::new();
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{b}' => out.push_str("\\v"),
            c if c.is_ascii_control() => out.push_str(&format!("\\x{:02x}", c as u8)),
            c if !c.is_ascii() && non_ascii => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

fn format_line(f: &Fields) -> String {
    let t = &f.timestamp;
    let offset = t.offset_minutes.unsigned_abs();
    let text = |v: &Option<String>| {
        v.as_deref()
            .map_or("-".to_string(), |v| escape(v, f.escape_non_ascii))
    };
    let mut line = format!(
        "{} {} {} [{:02}/{}/{:04}:{:02}:{:02}:{:02} {}{:02}{:02}] \"{}\" {} {}",
        f.host,
        text(&f.ident),
        text(&f.authuser),
        t.day,
        MONTHS[usize::from(t.month - 1)],
        t.year,
        t.hour,
        t.minute,
        t.second,
        if t.offset_minutes < 0 { '-' } else { '+' },
        offset / 60,
        offset % 60,
        escape(&f.request, f.escape_non_ascii),
        f.status.map_or("-".to_string(), |s| s.to_string()),
        if f.bytes == 0 {
            "-".to_string()
        } else {
            f.bytes.to_string()
        },
    );
    if let Some((referrer, agent)) = &f.combined {
        line.push_str(&format!(" \"{}\" \"{}\"", text(referrer), text(agent)));
    }
    line
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<Ipv4Addr>().prop_map(|ip| ip.to_string()),
        any::<Ipv6Addr>().prop_map(|ip| ip.to_string()),
        "[a-z][a-z0-9-]{0,15}(\\.[a-z]{2,6}){0,3}",
    ]
}

/// A token field (no spaces), never exactly `-`.
fn token() -> impl Strategy<Value = Option<String>> {
    proptest::option::of("[!-~]{1,12}".prop_filter("not a dash", |s| s != "-"))
}

/// A quoted field's text, never exactly `-`: any characters, including quotes,
/// backslashes and control characters.
fn quoted_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(
        prop_oneof![any::<String>(), "[ -~]{0,40}", "[\"\\\\ a]{0,8}"]
            .prop_filter("not a dash", |s| s != "-"),
    )
}

fn request() -> impl Strategy<Value = (String, Option<String>)> {
    prop_oneof![
        ("[A-Z]{3,7}", "/[!-~]{0,30}", "HTTP/[0-3]\\.[0-9]")
            .prop_map(|(m, p, v)| (format!("{m} {p} {v}"), Some(m))),
        any::<String>().prop_map(|r| (r, None)),
        Just(("-".to_string(), None)),
    ]
}

fn timestamp() -> impl Strategy<Value = DateTime> {
    // Years 1000 to 9998, so the local time always has four digits.
    (-30_610_224_000i64..253_370_764_800, -1439i16..1440).prop_map(|(seconds, offset)| {
        DateTime::from_unix_millis(seconds * 1000).with_offset(offset)
    })
}

fn fields() -> impl Strategy<Value = Fields> {
    (
        host(),
        token(),
        token(),
        timestamp(),
        request(),
        proptest::option::of(0u16..1000),
        prop_oneof![Just(0u64), any::<u64>()],
        proptest::option::of((quoted_text(), quoted_text())),
        any::<bool>(),
    )
        .prop_map(
            |(
                host,
                ident,
                authuser,
                timestamp,
                (request, method),
                status,
                bytes,
                combined,
                escape_non_ascii,
            )| Fields {
                host,
                ident,
                authuser,
                timestamp,
                request,
                method,
                status,
                bytes,
                combined,
                escape_non_ascii,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_formatted_line_parses_back_to_its_fields(f in fields()) {
        let line = format_line(&f);
        let log = apache::parse(&line).map_err(|e| TestCaseError::fail(format!("{e}: {line}")))?;
        prop_assert_eq!(log.host, f.host.as_str());
        prop_assert_eq!(log.ident.as_deref(), f.ident.as_deref());
        prop_assert_eq!(log.authuser.as_deref(), f.authuser.as_deref());
        prop_assert_eq!(log.timestamp, f.timestamp);
        prop_assert_eq!(log.request.as_ref(), f.request.as_str());
        prop_assert_eq!(log.status, f.status);
        prop_assert_eq!(log.bytes, f.bytes);
        match &f.combined {
            Some((referrer, agent)) => {
                prop_assert_eq!(log.format, Format::Combined);
                prop_assert_eq!(log.referrer.as_deref(), referrer.as_deref());
                prop_assert_eq!(log.agent.as_deref(), agent.as_deref());
            }
            None => prop_assert_eq!(log.format, Format::Common),
        }
        if let Some(method) = &f.method {
            prop_assert_eq!(log.verb(), Some(method.as_str()));
        } else if f.request == "-" {
            prop_assert_eq!(log.verb(), None);
        }
        // The same line with a line break, or as bytes, parses the same.
        let with_break = format!("{line}\r\n");
        prop_assert_eq!(&apache::parse(&with_break).unwrap(), &log);
        prop_assert_eq!(&apache::parse_lossy(line.as_bytes()).unwrap(), &log);
    }

    #[test]
    fn csv_rows_read_back_to_the_parsed_fields(f in fields()) {
        let line = format_line(&f);
        let log = apache::parse(&line).unwrap();
        let mut out = Vec::new();
        apache::write_csv(&log, &mut out);
        let row = read_csv_row(std::str::from_utf8(&out).unwrap());
        prop_assert_eq!(row, expected_csv(&log));
    }

    #[test]
    fn json_objects_read_back_to_the_parsed_fields(f in fields()) {
        let line = format_line(&f);
        let log = apache::parse(&line).unwrap();
        let mut out = Vec::new();
        apache::write_json(&log, &mut out);
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        prop_assert_eq!(&value["request"], log.request.as_ref());
        prop_assert_eq!(&value["@timestamp"], &log.timestamp.to_rfc3339());
        prop_assert_eq!(&value["@timestamp_utc"], &log.timestamp.to_utc().to_rfc3339());
        prop_assert_eq!(&value["bytes"], log.bytes);
        if let Some((referrer, _)) = &f.combined {
            prop_assert_eq!(&value["referrer"], referrer.as_deref().unwrap_or("-"));
        }
    }
}
