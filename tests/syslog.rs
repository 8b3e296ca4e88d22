//! The syslog parser and writers against real logs, reviewed golden outputs
//! and random lines; the `syslog-to-json`/`-csv` transforms through the engine.

use firehose_transform::blueprints::syslog::{
    SyslogToCsv, SyslogToJson, INVALID_UTF8_COUNTER, NOT_SYSLOG,
};
use firehose_transform::config::Settings;
use firehose_transform::formats::syslog::{self, Message, Priority, Rfc3164Timestamp};
use firehose_transform::formats::timestamp::DateTime;
use firehose_transform::testing::{self, EventBuilder};
use proptest::prelude::*;

const LINUX: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/syslog/linux_rfc3164_2k.log"
));
const OPENSSH: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/syslog/openssh_rfc3164_2k.log"
));
const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/golden/syslog");

/// 2005-07-28T00:00:00Z: the Linux sample runs from June to July 2005.
const LINUX_RECEIVED: i64 = 1_122_508_800_000;
/// 2017-01-05T00:00:00Z: the OpenSSH sample is from 10 December, the year before.
const OPENSSH_RECEIVED: i64 = 1_483_574_400_000;
/// 2026-11-22T00:00:00Z, for the RFC examples.
const EXAMPLES_RECEIVED: i64 = 1_795_305_600_000;

/// The fixture's lines as records: split on LF, each keeping its CR, which
/// the parser trims as a record newline.
fn records(text: &str) -> impl Iterator<Item = &str> {
    text.split_inclusive('\n')
}

#[test]
fn every_fixture_line_parses_with_host_and_message() {
    for (name, text, count) in [("linux", LINUX, 2000), ("openssh", OPENSSH, 2000)] {
        let mut parsed = 0;
        for (i, line) in records(text).enumerate() {
            let message = syslog::parse(line)
                .unwrap_or_else(|e| panic!("{name} line {}: {e}: {line:?}", i + 1));
            let Message::Rfc3164(m) = &message else {
                panic!("{name} line {} is not RFC 3164", i + 1)
            };
            assert_eq!(
                m.hostname,
                Some(if name == "linux" { "combo" } else { "LabSZ" })
            );
            assert!(
                !m.message.ends_with('\r') && !m.message.ends_with('\n'),
                "{name} line {}",
                i + 1
            );
            parsed += 1;
        }
        assert_eq!(parsed, count, "{name}");
    }
}

#[test]
fn fixture_programs_and_pids_are_read() {
    let programs: Vec<_> = records(OPENSSH)
        .map(|line| syslog::parse(line).unwrap())
        .map(|m| (m.program(), m.process_id().is_some()))
        .collect();
    assert!(programs
        .iter()
        .all(|&(program, has_pid)| program == Some("sshd") && has_pid));
    // In the Linux file, only `syslogd 1.4.1: restart.` and `-- root[2421]:`
    // have no tag; every other line names its program.
    let untagged: Vec<_> = records(LINUX)
        .map(|line| syslog::parse(line).unwrap())
        .filter(|m| m.program().is_none())
        .map(|m| m.text().split(' ').next().unwrap_or_default().to_string())
        .collect();
    assert!(
        untagged
            .iter()
            .all(|word| word == "syslogd" || word == "--"),
        "{untagged:?}"
    );
    assert_eq!(untagged.len(), 8);
}

fn golden_lines(name: &str) -> String {
    std::fs::read_to_string(format!("{GOLDEN}/{name}.log")).unwrap()
}

/// Compares `actual` with the golden file, or rewrites it when
/// `UPDATE_GOLDEN=1` (then READ the diff before committing it).
fn check_golden(file: &str, actual: &str) {
    let path = format!("{GOLDEN}/{file}");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    for (i, (a, e)) in actual.lines().zip(expected.lines()).enumerate() {
        assert_eq!(a, e, "{file} line {}", i + 1);
    }
    assert_eq!(actual.lines().count(), expected.lines().count(), "{file}");
}

fn render(name: &str, received_millis: i64) -> (String, String) {
    let mut json = Vec::new();
    let mut csv = syslog::CSV_COLUMNS.join(",").into_bytes();
    csv.push(b'\n');
    for line in golden_lines(name).lines() {
        let message = syslog::parse(line).unwrap_or_else(|e| panic!("{name}: {e}: {line:?}"));
        syslog::write_json(&mut json, &message, received_millis);
        json.push(b'\n');
        syslog::write_csv(&mut csv, &message, received_millis);
        csv.push(b'\n');
    }
    (
        String::from_utf8(json).unwrap(),
        String::from_utf8(csv).unwrap(),
    )
}

#[test]
fn golden_outputs_for_the_linux_sample() {
    let (json, csv) = render("linux_sample", LINUX_RECEIVED);
    check_golden("linux_sample.jsonl", &json);
    check_golden("linux_sample.csv", &csv);
}

#[test]
fn golden_outputs_for_the_openssh_sample() {
    let (json, csv) = render("openssh_sample", OPENSSH_RECEIVED);
    check_golden("openssh_sample.jsonl", &json);
    check_golden("openssh_sample.csv", &csv);
}

#[test]
fn golden_outputs_for_the_rfc_examples() {
    let (json, csv) = render("rfc_examples", EXAMPLES_RECEIVED);
    check_golden("rfc_examples.jsonl", &json);
    check_golden("rfc_examples.csv", &csv);
}

#[test]
fn golden_json_is_valid_json_with_the_aws_members() {
    for (name, received) in [
        ("linux_sample", LINUX_RECEIVED),
        ("openssh_sample", OPENSSH_RECEIVED),
        ("rfc_examples", EXAMPLES_RECEIVED),
    ] {
        for line in render(name, received).0.lines() {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            for key in ["timestamp", "hostname", "program", "processid", "message"] {
                assert!(value.get(key).is_some(), "{name}: no {key} in {line}");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The blueprints, through the engine.

fn json_of(text: &str) -> serde_json::Value {
    let line = text
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("no newline after {text:?}"));
    serde_json::from_str(line).unwrap()
}

#[test]
fn every_fixture_line_converts_in_one_event() {
    let event = EventBuilder::new()
        .arrival(LINUX_RECEIVED)
        .lines(records(LINUX))
        .arrival(OPENSSH_RECEIVED)
        .lines(records(OPENSSH))
        .build();
    for processed in [
        testing::run_event(&SyslogToJson::default(), &event),
        testing::run_event(&SyslogToCsv::default(), &event),
    ] {
        assert_eq!(processed.len(), 4000);
        assert_eq!(processed.summary().ok, 4000);
        assert!(processed
            .ok_texts()
            .iter()
            .all(|text| text.ends_with('\n') && text.matches('\n').count() == 1));
    }
    let json = testing::run_event(&SyslogToJson::default(), &event);
    assert_eq!(json_of(json.text(0))["timestamp"], "2005-06-14T15:16:01Z");
    assert_eq!(
        json_of(json.text(3999))["timestamp"],
        "2016-12-10T11:04:45Z"
    );
}

#[test]
fn a_line_that_is_not_syslog_fails_with_the_reason_and_where() {
    let transform = SyslogToJson::default();
    let processed = testing::run(
        &transform,
        [
            "127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 2326",
            "",
            "<1>1 - h a p m [x y=1]",
        ],
    );
    for i in 0..3 {
        assert!(processed.is_failed(i), "record {i}");
        assert_eq!(processed.failure_reason(i), Some(NOT_SYSLOG));
    }
    assert_eq!(
        processed.failure(0).unwrap().detail(),
        Some(
            "invalid timestamp (expected \"Mmm dd hh:mm:ss\" or RFC 3339 with an offset) at byte 0"
        )
    );
    assert_eq!(
        processed.failure(1).unwrap().detail(),
        Some("empty line at byte 0")
    );
    assert_eq!(
        processed.failure(2).unwrap().detail(),
        Some("invalid structured data: expected '\"' to open a parameter value at byte 20")
    );
    assert_eq!(
        processed.summary().failures.len(),
        1,
        "one reason groups them all"
    );
}

#[test]
fn rfc3164_year_comes_from_the_arrival_across_new_year() {
    let new_year_2027 = 1_798_761_600_000;
    let event = EventBuilder::new()
        .arrival(new_year_2027 + 2_000)
        .line("Dec 31 23:59:59 host app: last second of the year")
        .arrival(new_year_2027 - 2_000)
        .line("Jan  1 00:00:01 host app: clock a little ahead")
        .arrival(new_year_2027 + 40 * 86_400_000)
        .line("Feb 10 08:00:00 host app: mid-February")
        .build();
    let processed = testing::run_event(&SyslogToJson::default(), &event);
    assert_eq!(
        json_of(processed.text(0))["timestamp"],
        "2026-12-31T23:59:59Z"
    );
    assert_eq!(
        json_of(processed.text(1))["timestamp"],
        "2027-01-01T00:00:01Z"
    );
    assert_eq!(
        json_of(processed.text(2))["timestamp"],
        "2027-02-10T08:00:00Z"
    );
}

#[test]
fn rfc5424_timestamps_ignore_the_arrival() {
    let event = EventBuilder::new()
        .arrival(1_798_761_600_000)
        .line("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time")
        .build();
    let processed = testing::run_event(&SyslogToJson::default(), &event);
    assert_eq!(
        json_of(processed.text(0))["timestamp"],
        "2003-08-24T05:14:15.000003-07:00"
    );
}

#[test]
fn invalid_utf8_is_replaced_and_counted_not_failed() {
    let event = EventBuilder::new()
        .arrival(OPENSSH_RECEIVED)
        .record(b"Dec 10 06:55:46 LabSZ sshd[1]: user \xe9t\xe9 from 10.0.0.1".as_slice())
        .record(b"\xff\xfe not syslog at all".as_slice())
        .build();
    let processed = testing::run_event(&SyslogToCsv::default(), &event);
    assert_eq!(
        processed.text(0),
        "2016-12-10T06:55:46Z,LabSZ,sshd,1,user \u{fffd}t\u{fffd} from 10.0.0.1,,,,,,,\n"
    );
    assert_eq!(processed.failure_reason(1), Some(NOT_SYSLOG));
    assert_eq!(processed.summary().counters[INVALID_UTF8_COUNTER], 1);
}

#[test]
fn multi_line_records_keep_every_line_of_the_message() {
    let transform =
        SyslogToCsv::from_settings(&Settings::from_pairs([("APPEND_NEWLINE", "false")])).unwrap();
    let processed = testing::run(
        &transform,
        ["<11>1 2026-11-22T04:30:00Z host java 7 EXC - java.lang.NullPointerException\n\tat Main.run(Main.java:5)\n"],
    );
    assert_eq!(
        processed.text(0),
        "2026-11-22T04:30:00Z,host,java,7,\"java.lang.NullPointerException\n\tat Main.run(Main.java:5)\",user,1,err,3,1,EXC,"
    );
    let processed = testing::run(
        &SyslogToJson::default(),
        ["Dec 10 06:55:46 LabSZ app[2]: first\r\nsecond\r\n"],
    );
    assert!(
        processed
            .text(0)
            .contains(r#""message":"first\r\nsecond"}"#),
        "{}",
        processed.text(0)
    );
}

// ---------------------------------------------------------------------------
// Round trips: a line formatted from random fields parses back to them.

fn token() -> impl Strategy<Value = String> {
    // Printable ASCII without space; `-` alone is the nil value.
    "[!-~]{1,24}".prop_filter("not nil", |s| s != "-")
}

fn opt_token() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(token())
}

fn message_text() -> impl Strategy<Value = String> {
    // Any text, multi-line included, but not ending in the record's newline.
    any::<String>().prop_filter("no trailing newline", |s| !s.ends_with(['\n', '\r']))
}

#[derive(Debug, Clone)]
struct Line3164 {
    priority: Option<u8>,
    timestamp: Rfc3164Timestamp,
    zero_padded_day: bool,
    hostname: Option<String>,
    program: Option<String>,
    pid: Option<String>,
    message: String,
}

fn line_3164() -> impl Strategy<Value = Line3164> {
    let classic = (
        1u8..=12,
        1u8..=28,
        0u8..24,
        0u8..60,
        0u8..=60,
        proptest::option::of(0u32..1000),
    )
        .prop_map(
            |(month, day, hour, minute, second, millis)| Rfc3164Timestamp {
                nanos: millis.map_or(0, |ms| ms * 1_000_000),
                ..Rfc3164Timestamp::new(month, day, hour, minute, second)
            },
        );
    // rsyslog's high-precision form: RFC 3339 with year and offset.
    let rfc3339 = datetime().prop_map(|t| Rfc3164Timestamp {
        year: Some(t.year),
        month: t.month,
        day: t.day,
        hour: t.hour,
        minute: t.minute,
        second: t.second,
        nanos: t.nanos,
        offset_minutes: Some(t.offset_minutes),
    });
    let timestamp = prop_oneof![3 => classic, 1 => rfc3339];
    let program = proptest::option::of("[A-Za-z0-9_./()-]{1,20}");
    (
        proptest::option::of(0u8..=191),
        timestamp,
        any::<bool>(),
        proptest::option::of("[A-Za-z0-9.-]{1,30}"),
        program,
        proptest::option::of("[0-9]{1,7}"),
        message_text(),
        "[a-z]{1,8}",
    )
        .prop_map(
            |(priority, timestamp, zero_padded_day, hostname, program, pid, message, word)| {
                // Without a tag, a message whose first word looked like one would
                // read as a tag: start it with a plain word. Without a hostname
                // the tag is what marks its absence, so keep one.
                let (program, pid, message, hostname) = match program {
                    Some(program) => (Some(program), pid, message, hostname),
                    None => (
                        None,
                        None,
                        format!("{word} {message}"),
                        hostname.or(Some("host".into())),
                    ),
                };
                Line3164 {
                    priority,
                    timestamp,
                    zero_padded_day,
                    hostname,
                    program,
                    pid,
                    message,
                }
            },
        )
}

fn format_3164(line: &Line3164) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = &line.timestamp;
    let mut text = String::new();
    if let Some(priority) = line.priority {
        text.push_str(&format!("<{priority}>"));
    }
    if let (Some(year), Some(offset_minutes)) = (t.year, t.offset_minutes) {
        let written = t.with_year(year).unwrap();
        assert_eq!(written.offset_minutes, offset_minutes);
        text.push_str(&written.to_rfc3339());
        text.push(' ');
    } else {
        let day = if line.zero_padded_day {
            format!("{:02}", t.day)
        } else {
            format!("{:>2}", t.day)
        };
        text.push_str(&format!(
            "{} {day} {:02}:{:02}:{:02}",
            MONTHS[usize::from(t.month - 1)],
            t.hour,
            t.minute,
            t.second
        ));
        if t.nanos != 0 {
            text.push_str(&format!(".{:03}", t.nanos / 1_000_000));
        }
        text.push(' ');
    }
    if let Some(hostname) = &line.hostname {
        text.push_str(hostname);
        text.push(' ');
    }
    if let Some(program) = &line.program {
        text.push_str(program);
        if let Some(pid) = &line.pid {
            text.push_str(&format!("[{pid}]"));
        }
        text.push_str(": ");
    }
    text.push_str(&line.message);
    text
}

#[derive(Debug, Clone)]
struct Line5424 {
    priority: u8,
    version: u16,
    timestamp: Option<DateTime>,
    hostname: Option<String>,
    app_name: Option<String>,
    proc_id: Option<String>,
    msg_id: Option<String>,
    structured_data: Vec<(String, Vec<(String, String)>)>,
    bom: bool,
    message: String,
}

fn datetime() -> impl Strategy<Value = DateTime> {
    (
        0i32..=9999,
        1u8..=12,
        1u8..=28,
        0u8..24,
        0u8..60,
        0u8..=60,
        0u32..1_000_000,
        -1439i16..1440,
    )
        .prop_map(
            |(year, month, day, hour, minute, second, micros, offset_minutes)| DateTime {
                year,
                month,
                day,
                hour,
                minute,
                second,
                nanos: micros * 1000,
                offset_minutes,
            },
        )
}

fn line_5424() -> impl Strategy<Value = Line5424> {
    let param = ("[A-Za-z0-9._-]{1,12}", any::<String>());
    let element = (
        "[A-Za-z0-9._-]{1,12}(@[0-9]{1,5})?",
        proptest::collection::vec(param, 0..4),
    );
    (
        (0u8..=191, 1u16..=999, proptest::option::of(datetime())),
        (opt_token(), opt_token(), opt_token(), opt_token()),
        proptest::collection::vec(element, 0..4),
        any::<bool>(),
        message_text().prop_filter("no BOM of its own", |m| !m.starts_with('\u{feff}')),
    )
        .prop_map(
            |(
                (priority, version, timestamp),
                (hostname, app_name, proc_id, msg_id),
                structured_data,
                bom,
                message,
            )| {
                Line5424 {
                    priority,
                    version,
                    timestamp,
                    hostname,
                    app_name,
                    proc_id,
                    msg_id,
                    structured_data,
                    bom,
                    message,
                }
            },
        )
}

fn format_5424(line: &Line5424) -> String {
    let nil = |field: &Option<String>| field.clone().unwrap_or_else(|| "-".to_string());
    let mut text = format!(
        "<{}>{} {} {} {} {} {} ",
        line.priority,
        line.version,
        line.timestamp
            .map_or_else(|| "-".to_string(), |t| t.to_rfc3339()),
        nil(&line.hostname),
        nil(&line.app_name),
        nil(&line.proc_id),
        nil(&line.msg_id),
    );
    if line.structured_data.is_empty() {
        text.push('-');
    }
    for (id, params) in &line.structured_data {
        text.push('[');
        text.push_str(id);
        for (name, value) in params {
            let escaped = value
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace(']', "\\]");
            text.push_str(&format!(" {name}=\"{escaped}\""));
        }
        text.push(']');
    }
    if line.bom || !line.message.is_empty() {
        text.push(' ');
        if line.bom {
            text.push('\u{feff}');
        }
        text.push_str(&line.message);
    }
    text
}

proptest! {
    #[test]
    fn rfc3164_lines_parse_back_to_their_fields(line in line_3164(), newline in prop_oneof!["", "\n", "\r\n"]) {
        let text = format_3164(&line) + newline.as_str();
        let parsed = match syslog::parse(&text) {
            Ok(Message::Rfc3164(m)) => m,
            other => panic!("{text:?}: {other:?}"),
        };
        prop_assert_eq!(parsed.priority, line.priority.and_then(Priority::new));
        prop_assert_eq!(parsed.timestamp, line.timestamp);
        prop_assert_eq!(parsed.hostname, line.hostname.as_deref());
        prop_assert_eq!(parsed.program, line.program.as_deref());
        prop_assert_eq!(parsed.pid, line.pid.as_deref());
        prop_assert_eq!(parsed.message, line.message.as_str());
    }

    #[test]
    fn rfc5424_lines_parse_back_to_their_fields(line in line_5424(), newline in prop_oneof!["", "\n", "\r\n"]) {
        let text = format_5424(&line) + newline.as_str();
        let parsed = match syslog::parse(&text) {
            Ok(Message::Rfc5424(m)) => m,
            other => panic!("{text:?}: {other:?}"),
        };
        prop_assert_eq!(parsed.priority.value(), line.priority);
        prop_assert_eq!(parsed.version, line.version);
        prop_assert_eq!(parsed.timestamp.map(|t| t.to_rfc3339()), line.timestamp.map(|t| t.to_rfc3339()));
        prop_assert_eq!(parsed.timestamp.map(|t| t.unix_seconds()), line.timestamp.map(|t| t.unix_seconds()));
        prop_assert_eq!(parsed.hostname, line.hostname.as_deref());
        prop_assert_eq!(parsed.app_name, line.app_name.as_deref());
        prop_assert_eq!(parsed.proc_id, line.proc_id.as_deref());
        prop_assert_eq!(parsed.msg_id, line.msg_id.as_deref());
        let sd: Vec<(String, Vec<(String, String)>)> = parsed
            .structured_data
            .elements()
            .map(|e| (e.id.to_string(), e.params().map(|p| (p.name.to_string(), p.value.unescape().into_owned())).collect()))
            .collect();
        prop_assert_eq!(sd, line.structured_data.clone());
        prop_assert_eq!(parsed.bom, line.bom);
        prop_assert_eq!(parsed.message, line.message.as_str());
    }

    #[test]
    fn json_output_is_valid_and_carries_the_fields(line in line_5424()) {
        let text = format_5424(&line);
        let message = syslog::parse(&text).unwrap();
        let mut out = Vec::new();
        syslog::write_json(&mut out, &message, 0);
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        prop_assert_eq!(value["message"].as_str(), Some(line.message.as_str()));
        prop_assert_eq!(value["hostname"].as_str(), line.hostname.as_deref());
        prop_assert_eq!(value["severity_code"].as_u64(), Some(u64::from(line.priority % 8)));
        for (id, params) in &line.structured_data {
            for (name, _) in params {
                prop_assert!(value["structured_data"][id][name].is_string() || value["structured_data"][id][name].is_array());
            }
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        if let Ok(message) = syslog::parse(&text) {
            let mut out = Vec::new();
            syslog::write_json(&mut out, &message, 0);
            serde_json::from_slice::<serde_json::Value>(&out).unwrap();
            syslog::write_csv(&mut out, &message, 0);
        }
    }

    #[test]
    fn mangled_rfc3164_lines_never_panic(line in line_3164(), cut in any::<proptest::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = format_3164(&line).into_bytes();
        let at = cut.index(bytes.len());
        bytes[at] = byte;
        for candidate in [&bytes[..at], &bytes[..]] {
            if let Ok(text) = std::str::from_utf8(candidate) {
                if let Ok(message) = syslog::parse(text) {
                    let mut out = Vec::new();
                    syslog::write_json(&mut out, &message, i64::MAX);
                    serde_json::from_slice::<serde_json::Value>(&out).unwrap();
                    syslog::write_csv(&mut out, &message, i64::MIN);
                }
            }
        }
    }

    #[test]
    fn mangled_rfc5424_lines_never_panic(line in line_5424(), cut in any::<proptest::sample::Index>(), byte in any::<u8>()) {
        // Truncating or overwriting one byte of a valid line must give a clean
        // result or a clean error.
        let mut bytes = format_5424(&line).into_bytes();
        let at = cut.index(bytes.len());
        bytes[at] = byte;
        for candidate in [&bytes[..at], &bytes[..]] {
            if let Ok(text) = std::str::from_utf8(candidate) {
                if let Ok(message) = syslog::parse(text) {
                    let mut out = Vec::new();
                    syslog::write_json(&mut out, &message, 0);
                    serde_json::from_slice::<serde_json::Value>(&out).unwrap();
                }
            }
        }
    }
}
