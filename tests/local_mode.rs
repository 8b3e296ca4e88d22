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
    let emf = stderr(&output)
        .lines()
        .chain(stdout(&output).lines())
        .find(|l| l.starts_with("{\"_aws\""))
        .map(str::to_string)
        .expect("an EMF line");
    let emf: serde_json::Value = serde_json::from_str(&emf).unwrap();
    assert_eq!(emf["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Test");
    assert_eq!(emf["RecordsOk"], 4);
}
