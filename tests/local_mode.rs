//! Local mode of a blueprint binary (`process-record`), run as a user would:
//! `--event`, `--lines`, `--decode`, standard input, exit codes and messages.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use firehose_transform::response::{RecordResult, WireResponse};
use firehose_transform::testing::{check_contract, fixture_event};

const BIN: &str = env!("CARGO_BIN_EXE_process-record");

fn fixture(name: &str) -> String {
    format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs the binary locally (no Lambda runtime API in its environment).
fn run(args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Output {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("FIREHOSE_METRICS")
        .envs(env.iter().copied())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the binary starts");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    child.wait_with_output().expect("the binary finishes")
}

fn stdout(output: &Output) -> &str {
    std::str::from_utf8(&output.stdout).expect("UTF-8 output")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn event_mode_answers_each_source_with_a_valid_response() {
    for name in ["direct-put", "kinesis", "msk"] {
        let path = fixture(&format!("events/{name}.json"));
        let output = run(&["--event", &path], &[("APPEND_NEWLINE", "true")], None);
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        let json = stdout(&output)
            .strip_suffix('\n')
            .expect("one response line");
        let event = fixture_event(&path);
        check_contract(&event, json.as_bytes(), 6 * 1024 * 1024)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            stderr(&output).contains("invocation summary"),
            "{name}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains("ok=4"),
            "{name}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn event_mode_reads_standard_input() {
    let event = std::fs::read(fixture("events/direct-put.json")).unwrap();
    let output = run(&["--event", "-"], &[], Some(&event));
    assert!(output.status.success(), "{}", stderr(&output));
    let response: WireResponse = serde_json::from_str(stdout(&output)).unwrap();
    assert_eq!(response.records.len(), 4);
    assert!(response
        .records
        .iter()
        .all(|r| r.result == RecordResult::Ok));
}

#[test]
fn lines_mode_splits_crlf_lines_into_firehose_sized_batches() {
    let mut input = Vec::new();
    for i in 0..50 {
        write!(input, "line {i:02} {}\r\n", "x".repeat(30)).unwrap();
    }
    input.extend_from_slice(b"no newline at the end");
    // 40 bytes a line: a 400-byte batch holds 10 lines.
    let output = run(&["--lines", "-", "--batch-bytes", "400"], &[], Some(&input));
    assert!(output.status.success(), "{}", stderr(&output));
    let responses: Vec<WireResponse> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(responses.len(), 6);
    assert!(responses[..5].iter().all(|r| r.records.len() == 10));
    let all: Vec<_> = responses.iter().flat_map(|r| &r.records).collect();
    assert_eq!(all.len(), 51);
    assert_eq!(all[0].record_id, "line-1");
    assert_eq!(all[50].record_id, "line-51");
    // The payloads are the lines without their CR or LF.
    let decoded: Vec<String> = all
        .iter()
        .map(|r| String::from_utf8(base64_decode(r.payload().unwrap())).unwrap())
        .collect();
    assert_eq!(decoded[0], format!("line 00 {}", "x".repeat(30)));
    assert_eq!(decoded[50], "no newline at the end");
    assert!(
        stderr(&output).contains("all batches"),
        "{}",
        stderr(&output)
    );
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

#[test]
fn decode_prints_one_line_per_record_with_its_result() {
    let output = run(
        &["--lines", "-", "--decode"],
        &[("DROP_EMPTY_RECORDS", "yes"), ("APPEND_NEWLINE", "true")],
        Some(b"first\n\nthird\n"),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let lines: Vec<&str> = stdout(&output).lines().collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["Ok", "line-1", "first"]
    );
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["Dropped", "line-2"]
    );
    assert_eq!(
        lines[2].split_whitespace().collect::<Vec<_>>(),
        ["Ok", "line-3", "third"]
    );
}

#[test]
fn failed_records_still_exit_zero_and_say_why() {
    let event =
        br#"{"records":[{"recordId":"good","data":"aGk="},{"recordId":"bad","data":"!!!!"}]}"#;
    let output = run(&["--event", "-", "--decode"], &[], Some(event));
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("ProcessingFailed"), "{text}");
    assert!(
        text.contains("data is not valid base64: Invalid symbol 33, offset 0."),
        "{text}"
    );
    let log = stderr(&output);
    assert!(
        log.contains("record failed") && log.contains("bad"),
        "{log}"
    );
}

#[test]
fn a_malformed_event_exits_one_with_one_line_naming_the_input() {
    let output = run(
        &["--event", "-"],
        &[],
        Some(b"{\"records\": [{\"recordId\": \"a\""),
    );
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(
        message.starts_with(
            "process-record: standard input: malformed Firehose event: not valid JSON"
        ),
        "{message}"
    );
    assert!(stdout(&output).is_empty());

    let output = run(&["--event", "-"], &[], Some(b"{\"records\": 3}"));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("invalid type: integer `3`, expected a sequence"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_unreadable_file_exits_one() {
    let output = run(&["--event", "/nonexistent/event.json"], &[], None);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output).trim_end(),
        "process-record: cannot read /nonexistent/event.json: No such file or directory (os error 2)"
    );
}

#[test]
fn a_bad_setting_stops_at_init_with_one_line_naming_the_variable() {
    for (variable, value, problem) in [
        (
            "APPEND_NEWLINE",
            "perhaps",
            "\"perhaps\" is not a yes/no value (use true or false)",
        ),
        (
            "FIREHOSE_RESPONSE_BUDGET_BYTES",
            "lots",
            "\"lots\" is not valid: invalid digit found in string",
        ),
        (
            "FIREHOSE_DEADLINE_MARGIN_MS",
            "-1",
            "\"-1\" is not valid: invalid digit found in string",
        ),
        (
            "FIREHOSE_DEADLINE_MARGIN_MS",
            "999999999",
            "999999999 ms is not shorter than Lambda's longest timeout (15 minutes, 900000 ms): \
             every record would fail before it is processed",
        ),
        (
            "AWS_LAMBDA_LOG_LEVEL",
            "bogus",
            "\"bogus\" is not a log level (TRACE, DEBUG, INFO, WARN, ERROR or FATAL)",
        ),
        (
            "AWS_LAMBDA_LOG_FORMAT",
            "xml",
            "\"xml\" is not a log format (Text or JSON)",
        ),
    ] {
        let output = run(
            &["--event", &fixture("events/direct-put.json")],
            &[(variable, value)],
            None,
        );
        assert_eq!(output.status.code(), Some(2), "{variable}");
        assert_eq!(
            stderr(&output).trim_end(),
            format!("process-record: configuration error: {variable}: {problem}")
        );
    }
}

#[test]
fn metrics_can_be_turned_on_locally() {
    let path = fixture("events/direct-put.json");
    let output = run(
        &["--event", &path],
        &[
            ("FIREHOSE_METRICS", "true"),
            ("FIREHOSE_METRICS_NAMESPACE", "Test"),
        ],
        None,
    );
    assert!(output.status.success());
    // Standard output is the response alone, valid JSON; the EMF line is on
    // standard error with the logs.
    let response: WireResponse = serde_json::from_str(stdout(&output)).unwrap_or_else(|e| {
        panic!(
            "stdout is not the response alone ({e}): {}",
            stdout(&output)
        )
    });
    assert_eq!(response.records.len(), 4);
    let emf = stderr(&output)
        .lines()
        .find(|l| l.starts_with("{\"_aws\""))
        .map(str::to_string)
        .expect("an EMF line on standard error");
    let emf: serde_json::Value = serde_json::from_str(&emf).unwrap();
    assert_eq!(emf["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Test");
    assert_eq!(emf["RecordsOk"], 4);
}

#[test]
fn lambda_log_levels_and_formats_are_honoured_in_any_case() {
    let path = fixture("events/direct-put.json");
    // FATAL (Lambda's highest level) keeps the summary, an INFO line, quiet.
    let output = run(
        &["--event", &path],
        &[("AWS_LAMBDA_LOG_LEVEL", "fatal")],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        !stderr(&output).contains("invocation summary"),
        "{}",
        stderr(&output)
    );
    let output = run(
        &["--event", &path],
        &[("AWS_LAMBDA_LOG_FORMAT", "Json")],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let summary = stderr(&output)
        .lines()
        .find(|l| l.contains("invocation summary"))
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a JSON log line"))
        .expect("a summary line");
    assert_eq!(summary["fields"]["records"], 4);
    // Rounded to the microsecond: no float noise in the log line.
    let duration = summary["fields"]["duration_ms"].as_f64().expect("a number");
    assert_eq!(
        format!("{duration}"),
        format!("{}", (duration * 1000.0).round() / 1000.0)
    );
}

#[test]
fn a_long_time_limit_is_accepted_with_a_warning_and_a_margin_as_long_is_refused() {
    let output = run(
        &["--event", &fixture("events/direct-put.json")],
        &[("FIREHOSE_TIME_LIMIT_MS", "400000")],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("FIREHOSE_TIME_LIMIT_MS: 400000 ms is over the 5 minutes"),
        "{}",
        stderr(&output)
    );
    let output = run(
        &["--event", &fixture("events/direct-put.json")],
        &[("FIREHOSE_DEADLINE_MARGIN_MS", "400000")],
        None,
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "configuration error: FIREHOSE_DEADLINE_MARGIN_MS: a 400000 ms margin \
             (FIREHOSE_DEADLINE_MARGIN_MS) leaves nothing of the 300000 ms time limit"
        ),
        "{}",
        stderr(&output)
    );
}

#[test]
fn lines_mode_on_empty_input_says_so_and_exits_zero() {
    let output = run(&["--lines", "-"], &[], Some(b""));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
    assert_eq!(
        stderr(&output).trim_end(),
        "process-record: standard input holds no records: nothing to process, no response"
    );
}

#[test]
fn json_mode_makes_one_record_of_each_json_value() {
    let input = b"{\"device\": \"t1\",\n \"celsius\": 20}\n{\"device\":\"t2\"} [1, 2]\n";
    let output = run(&["--json", "-", "--decode"], &[], Some(input));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "Ok               value-1 {\"device\":\"t1\",\"celsius\":20}\n\
         Ok               value-2 {\"device\":\"t2\"}\n\
         Ok               value-3 [1,2]\n"
    );
    let output = run(&["--json", "-"], &[], Some(b"{\"a\":1}\n{\"a\":"));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output).trim_end(),
        "process-record: standard input: not JSON values: value 2: line 2 column 5: EOF while parsing a value"
    );
}

#[test]
fn make_event_turns_lines_into_an_event_that_local_mode_and_the_kit_read() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("make_event");
    std::fs::create_dir_all(&dir).unwrap();
    let lines = dir.join("a.log");
    std::fs::write(&lines, "first\r\nsecond\n\nfourth").unwrap();
    let output = run(
        &[
            "--make-event",
            "--lines",
            lines.to_str().unwrap(),
            "--source",
            "kinesis",
        ],
        &[],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).starts_with("process-record: an event of 4 records, "),
        "{}",
        stderr(&output)
    );
    let event_path = dir.join("event.json");
    std::fs::write(&event_path, &output.stdout).unwrap();
    let event = fixture_event(&event_path);
    assert_eq!(event.records.len(), 4);
    assert!(event
        .records
        .iter()
        .all(|r| r.kinesis_record_metadata.is_some()));
    let output = run(
        &["--event", event_path.to_str().unwrap(), "--decode"],
        &[],
        None,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let texts: Vec<&str> = stdout(&output)
        .lines()
        .map(|l| l.split_once(' ').unwrap().1.trim_start())
        .map(|l| l.split_once(' ').map_or("", |(_, text)| text))
        .collect();
    assert_eq!(texts, ["first", "second", "", "fourth"]);

    // --fill-bytes repeats the records up to a full-size event.
    let output = run(
        &["--make-event", "--json", "-", "--fill-bytes", "100000"],
        &[],
        Some(b"{\"n\": 1}\n{\"n\": 2}"),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let json = stdout(&output).trim_end();
    assert!((99_000..=100_000).contains(&json.len()), "{}", json.len());
    // Nothing to make an event of is an error.
    let output = run(&["--make-event", "--lines", "-"], &[], Some(b""));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output).trim_end(),
        "process-record: standard input holds no records: no event made"
    );
}
