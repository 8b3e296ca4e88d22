//! End to end: the built `process-record` binary served by a real Lambda
//! Runtime API emulator, `cargo lambda watch --only-lambda-apis`
//! (cargo-lambda from PyPI: `pip install cargo-lambda`).
//!
//! Each test starts the emulator on a free loopback port, reads from its
//! output the environment it tells a function to run with
//! (`AWS_LAMBDA_RUNTIME_API`, `AWS_LAMBDA_FUNCTION_NAME`, ...), starts the
//! binary with that environment and nothing else of ours, and invokes it: with
//! `cargo lambda invoke --data-file` for events, and with a plain HTTP POST to
//! the emulator's invoke endpoint where the exact error body matters.
//!
//! Without cargo-lambda the tests fail with the command that installs it.
//! `SKIP_LAMBDA_E2E=1 cargo test` builds them `#[ignore]`d instead (see
//! `build.rs`), so they are reported as ignored, never as passed.
//!
//! Every wait is bounded, and every child process is killed (with its process
//! group) when a test ends, passing or failing.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::Value;

#[path = "support/emulator.rs"]
mod emulator;
use emulator::{
    advertised_environment, create, http_post, parse_http_reply, run_bounded, start_emulator,
    strip_ansi, Guard, HttpReply,
};

/// One invocation: process-record answers in milliseconds; the rest is slack
/// for a busy CI machine.
const INVOKE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a log line may trail the response it belongs to.
const LOG_TIMEOUT: Duration = Duration::from_secs(10);
/// Ports tried before giving up when another process takes the free port
/// between our probe and the emulator's bind.
const PORT_ATTEMPTS: usize = 3;

const METRICS_NAMESPACE: &str = "FirehoseTransformE2E";
const NOT_BASE64: &str = "data is not valid base64";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/events")
        .join(name)
}

fn read_json(path: &Path) -> Value {
    let text = fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("{} is not JSON: {error}", path.display()))
}

// ---------------------------------------------------------------------------
// Finding cargo-lambda

/// The `cargo-lambda` executable, or `None` when the tests are to be skipped.
/// Panics, saying how to install it, when it is missing and not skipped.
fn cargo_lambda(test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("cargo-lambda"))
            .find(|candidate| is_executable(candidate))
    });
    match found {
        Some(path) => Some(path),
        None => panic!(
            "{test}: cargo-lambda is not on PATH. This end-to-end test needs the Lambda \
             Runtime API emulator: run `pip install cargo-lambda` and put pip's script \
             directory on PATH (`python3 -c \"import sysconfig; print(sysconfig.get_path('scripts'))\"`), \
             or build the tests with SKIP_LAMBDA_E2E=1 to have them reported as ignored."
        ),
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

// ---------------------------------------------------------------------------
// The emulator and the function under it

struct Harness {
    // Declared first so it is dropped (killed) before the emulator.
    function: Guard,
    /// The binary's name, for messages.
    binary: &'static str,
    emulator: Guard,
    cargo_lambda: PathBuf,
    port: u16,
    function_name: String,
    dir: PathBuf,
    invocations: usize,
}

impl Harness {
    /// Starts the emulator and `process-record` under it, with `settings` as
    /// the function's own configuration. `None` when skipped.
    fn start(test: &str, settings: &[(&str, &str)]) -> Option<Harness> {
        let binary = Path::new(env!("CARGO_BIN_EXE_process-record"));
        Harness::start_binary(test, ("process-record", binary), settings)
    }

    /// [`start`](Harness::start) for another binary.
    fn start_binary(
        test: &str,
        (name, binary): (&'static str, &Path),
        settings: &[(&str, &str)],
    ) -> Option<Harness> {
        let cargo_lambda = cargo_lambda(test)?;
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("lambda_e2e")
            .join(format!("{test}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir)
            .unwrap_or_else(|error| panic!("cannot create {}: {error}", dir.display()));

        let mut last_failure = String::new();
        for attempt in 0..PORT_ATTEMPTS {
            match start_emulator(&cargo_lambda, &dir, attempt) {
                Ok((emulator, port, function_env)) => {
                    let function = start_function(name, binary, &dir, &function_env, settings);
                    let function_name = function_env
                        .get("AWS_LAMBDA_FUNCTION_NAME")
                        .cloned()
                        .unwrap_or_else(|| "_".to_string());
                    return Some(Harness {
                        function,
                        binary: name,
                        emulator,
                        cargo_lambda,
                        port,
                        function_name,
                        dir,
                        invocations: 0,
                    });
                }
                Err(failure) => last_failure = failure,
            }
        }
        panic!("the emulator did not start in {PORT_ATTEMPTS} attempts; last:\n{last_failure}");
    }

    /// Invokes the function with an event file through `cargo lambda invoke`,
    /// returning the response it prints.
    fn invoke_file(&mut self, event: &Path) -> Value {
        self.invocations += 1;
        let stem = format!("invoke-{}", self.invocations);
        let function = &mut self.function;
        let (ok, stdout, stderr) = run_bounded(
            "cargo lambda invoke",
            Command::new(&self.cargo_lambda)
                .args(["lambda", "invoke", &self.function_name])
                .args(["--invoke-address", "127.0.0.1"])
                .args(["--invoke-port", &self.port.to_string()])
                .arg("--data-file")
                .arg(event)
                .args(["--output-format", "json"])
                .env("CARGO_LAMBDA_COLOR", "never")
                .current_dir(env!("CARGO_MANIFEST_DIR")),
            (&self.dir, &stem),
            INVOKE_TIMEOUT,
            &mut || function_exited(function),
        );
        assert!(
            ok,
            "invoking with {} failed\nstdout:\n{stdout}\nstderr:\n{stderr}",
            event.display()
        );
        serde_json::from_str(&stdout).unwrap_or_else(|error| {
            panic!(
                "the response to {} is not JSON ({error}):\n{stdout}",
                event.display()
            )
        })
    }

    /// Invokes the function by POSTing `payload` to the emulator's invoke
    /// endpoint, as the Lambda Invoke API does.
    fn post(&mut self, payload: &[u8]) -> HttpReply {
        self.invocations += 1;
        let path = format!("/2015-03-31/functions/{}/invocations", self.function_name);
        let function = &mut self.function;
        http_post(self.port, &path, payload, INVOKE_TIMEOUT, &mut || {
            function_exited(function)
        })
    }

    /// The function's standard output and standard error so far.
    fn function_output(&self) -> String {
        let stdout = fs::read_to_string(self.dir.join("function.out")).unwrap_or_default();
        let stderr = fs::read_to_string(self.dir.join("function.err")).unwrap_or_default();
        strip_ansi(&(stdout + &stderr))
    }

    /// Waits (bounded) until `found` holds of the function's output.
    fn wait_for_output<T>(&self, what: &str, found: impl Fn(&str) -> Option<T>) -> T {
        let until = Instant::now() + LOG_TIMEOUT;
        loop {
            let output = self.function_output();
            if let Some(value) = found(&output) {
                return value;
            }
            assert!(
                Instant::now() < until,
                "{what} did not appear in the function's output within {LOG_TIMEOUT:?}:\n{output}"
            );
            thread::sleep(Duration::from_millis(25));
        }
    }

    fn assert_function_running(&mut self) {
        if let Some(status) = self.function.exited() {
            panic!(
                "{} exited ({status}) instead of serving the next invocation:\n{}",
                self.binary,
                self.function_output()
            );
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if thread::panicking() {
            let emulator = fs::read_to_string(self.dir.join("emulator.out")).unwrap_or_default()
                + &fs::read_to_string(self.dir.join("emulator.err")).unwrap_or_default();
            eprintln!(
                "--- {} output:\n{}\n--- emulator output:\n{}\n--- files kept in {}",
                self.binary,
                self.function_output(),
                strip_ansi(&emulator),
                self.dir.display()
            );
        } else {
            // Kill the children before removing the files they write to.
            self.function.kill();
            self.emulator.kill();
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Why waiting for an invocation is pointless: the function is gone.
fn function_exited(function: &mut Guard) -> Option<String> {
    function
        .exited()
        .map(|status| format!("the function exited ({status})"))
}

/// Starts the function's binary with only the emulator's environment and
/// `settings`: nothing from the test's own environment leaks in.
fn start_function(
    name: &'static str,
    binary: &Path,
    dir: &Path,
    emulator_env: &HashMap<String, String>,
    settings: &[(&str, &str)],
) -> Guard {
    Guard::spawn(
        name,
        Command::new(binary)
            .env_clear()
            .envs(emulator_env)
            .envs(settings.iter().copied())
            .stdout(create(&dir.join("function.out")))
            .stderr(create(&dir.join("function.err"))),
    )
}

// ---------------------------------------------------------------------------
// What the response must be

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expected {
    Ok(Vec<u8>),
    Dropped,
    Failed,
}

/// process-record with `APPEND_NEWLINE=true` and `DROP_EMPTY_RECORDS=true`,
/// stated independently of the crate: a newline is added unless the record
/// already ends with one; empty and line-break-only records are dropped.
fn expected_process_record(input: &[u8]) -> Expected {
    match input {
        b"" | b"\n" | b"\r\n" => Expected::Dropped,
        _ if input.ends_with(b"\n") => Expected::Ok(input.to_vec()),
        _ => Expected::Ok([input, b"\n"].concat()),
    }
}

fn record_ids(event: &Value) -> Vec<String> {
    event["records"]
        .as_array()
        .expect("a fixture event has records")
        .iter()
        .map(|r| {
            r["recordId"]
                .as_str()
                .expect("a fixture record has an id")
                .to_string()
        })
        .collect()
}

/// The input payload of each record of a well-formed fixture event.
fn input_payloads(event: &Value) -> Vec<Vec<u8>> {
    let field = payload_field(event);
    event["records"]
        .as_array()
        .expect("a fixture event has records")
        .iter()
        .map(|record| {
            let text = record[field]
                .as_str()
                .expect("a fixture record has a payload");
            STANDARD
                .decode(text)
                .expect("a fixture record's payload is base64")
        })
        .collect()
}

/// MSK events carry `kafkaRecordValue` where the others carry `data`, in the
/// event and in the response alike.
fn payload_field(event: &Value) -> &'static str {
    if event.get("sourceMSKArn").is_some() {
        "kafkaRecordValue"
    } else {
        "data"
    }
}

/// Checks `response` against the contract and the expected outcomes; returns
/// the (ok, dropped, failed) counts it holds.
fn check_response(
    name: &str,
    event: &Value,
    response: &Value,
    expected: &[Expected],
) -> (u64, u64, u64) {
    let ids = record_ids(event);
    assert_eq!(
        ids.len(),
        expected.len(),
        "{name}: one expectation per record"
    );
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        ids.len(),
        "{name}: the fixture's ids must be distinct for the check to mean anything"
    );

    let object = response
        .as_object()
        .unwrap_or_else(|| panic!("{name}: response is not an object: {response}"));
    assert_eq!(
        object.keys().collect::<Vec<_>>(),
        ["records"],
        "{name}: response has only `records`"
    );
    let records = response["records"]
        .as_array()
        .unwrap_or_else(|| panic!("{name}: `records` is not a list: {response}"));
    let returned: Vec<&str> = records
        .iter()
        .map(|r| r["recordId"].as_str().unwrap_or("<no recordId>"))
        .collect();
    assert_eq!(
        returned, ids,
        "{name}: every recordId exactly once, in input order"
    );

    let field = payload_field(event);
    let other = if field == "data" {
        "kafkaRecordValue"
    } else {
        "data"
    };
    let mut counts = (0, 0, 0);
    for ((record, id), expected) in records.iter().zip(&ids).zip(expected) {
        let result = record["result"].as_str().unwrap_or("<no result>");
        assert!(
            record.get("metadata").is_none(),
            "{name}/{id}: no partition keys, so no metadata: {record}"
        );
        match expected {
            Expected::Ok(bytes) => {
                counts.0 += 1;
                assert_eq!(result, "Ok", "{name}/{id}: {record}");
                let encoded = record[field].as_str().unwrap_or_else(|| {
                    panic!("{name}/{id}: an Ok record carries `{field}`: {record}")
                });
                assert!(
                    record.get(other).is_none(),
                    "{name}/{id}: `{other}` has no place here: {record}"
                );
                let decoded = STANDARD.decode(encoded).unwrap_or_else(|error| {
                    panic!("{name}/{id}: `{field}` is not base64 ({error}): {encoded}")
                });
                assert_eq!(
                    decoded,
                    *bytes,
                    "{name}/{id}: output {:?}, expected {:?}",
                    String::from_utf8_lossy(&decoded),
                    String::from_utf8_lossy(bytes)
                );
            }
            Expected::Dropped => {
                counts.1 += 1;
                assert_eq!(result, "Dropped", "{name}/{id}: {record}");
            }
            Expected::Failed => {
                counts.2 += 1;
                assert_eq!(result, "ProcessingFailed", "{name}/{id}: {record}");
            }
        }
    }
    counts
}

// ---------------------------------------------------------------------------
// What the function logs

/// The JSON objects among the output's lines (`AWS_LAMBDA_LOG_FORMAT=JSON`
/// makes every log line one; the EMF line is one in any format).
fn json_lines(output: &str) -> Vec<Value> {
    output
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line.trim()).ok())
        .filter(Value::is_object)
        .collect()
}

/// A JSON log line's fields (tracing-subscriber's layout), or the line itself.
fn fields(line: &Value) -> &Value {
    line.get("fields").unwrap_or(line)
}

fn summary_lines(output: &str) -> Vec<Value> {
    json_lines(output)
        .into_iter()
        .filter(|line| fields(line)["message"] == "invocation summary")
        .collect()
}

fn emf_lines(output: &str) -> Vec<Value> {
    json_lines(output)
        .into_iter()
        .filter(|line| line.get("_aws").is_some())
        .collect()
}

/// Waits for the `n`th (1-based) summary and EMF lines and checks their counts.
fn check_telemetry(
    harness: &Harness,
    n: usize,
    name: &str,
    records: usize,
    counts: (u64, u64, u64),
) -> Value {
    let summary = harness.wait_for_output(&format!("summary line {n} ({name})"), |out| {
        summary_lines(out).into_iter().nth(n - 1)
    });
    let f = fields(&summary);
    assert_eq!(f["records"], records, "{name}: summary records: {summary}");
    assert_eq!(f["ok"], counts.0, "{name}: summary ok: {summary}");
    assert_eq!(f["dropped"], counts.1, "{name}: summary dropped: {summary}");
    assert_eq!(f["failed"], counts.2, "{name}: summary failed: {summary}");
    for key in ["data_bytes_in", "data_bytes_out", "duration_ms"] {
        assert!(
            f[key].is_number(),
            "{name}: summary has a numeric `{key}`: {summary}"
        );
    }

    let emf = harness.wait_for_output(&format!("EMF line {n} ({name})"), |out| {
        emf_lines(out).into_iter().nth(n - 1)
    });
    let directive = &emf["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(
        directive["Namespace"], METRICS_NAMESPACE,
        "{name}: EMF namespace: {emf}"
    );
    assert!(
        emf["_aws"]["Timestamp"].is_u64(),
        "{name}: EMF timestamp: {emf}"
    );
    let declared: Vec<&str> = directive["Metrics"]
        .as_array()
        .map(|metrics| metrics.iter().filter_map(|m| m["Name"].as_str()).collect())
        .unwrap_or_default();
    for (metric, value) in [
        ("Records", records as u64),
        ("RecordsOk", counts.0),
        ("RecordsDropped", counts.1),
        ("RecordsFailed", counts.2),
    ] {
        assert!(
            declared.contains(&metric),
            "{name}: EMF declares {metric}: {emf}"
        );
        assert_eq!(emf[metric], value, "{name}: EMF {metric}: {emf}");
    }
    // The dimension names the function as the emulator told it to call itself.
    assert_eq!(
        directive["Dimensions"][0][0], "FunctionName",
        "{name}: EMF dimension: {emf}"
    );
    assert_eq!(
        emf["FunctionName"],
        harness.function_name.as_str(),
        "{name}: EMF FunctionName: {emf}"
    );
    summary
}

/// The failures listed in a summary line, whether logged as a list or as a
/// JSON string holding one (a log field can carry only scalars).
fn summary_failures(summary: &Value) -> Vec<Value> {
    match &fields(summary)["failures"] {
        Value::Array(list) => list.clone(),
        Value::String(text) => serde_json::from_str(text)
            .unwrap_or_else(|error| panic!("summary failures are not JSON ({error}): {text}")),
        other => panic!("summary has no failures list: {other}"),
    }
}

// ---------------------------------------------------------------------------
// The tests

const FUNCTION_SETTINGS: &[(&str, &str)] = &[
    ("APPEND_NEWLINE", "true"),
    ("DROP_EMPTY_RECORDS", "true"),
    ("FIREHOSE_METRICS_NAMESPACE", METRICS_NAMESPACE),
];

#[test]
#[cfg_attr(
    skip_lambda_e2e,
    ignore = "SKIP_LAMBDA_E2E=1 was set when the tests were built"
)]
fn each_source_comes_back_transformed_with_every_record_once_under_the_lambda_runtime() {
    let settings = [FUNCTION_SETTINGS, &[("AWS_LAMBDA_LOG_FORMAT", "JSON")]].concat();
    let Some(mut harness) = Harness::start("sources", &settings) else {
        return;
    };
    let started = Instant::now();

    let sources = ["direct-put.json", "kinesis.json", "msk.json"];
    for (n, name) in sources.iter().enumerate() {
        let path = fixture(name);
        let event = read_json(&path);
        let expected: Vec<Expected> = input_payloads(&event)
            .iter()
            .map(|input| expected_process_record(input))
            .collect();
        assert!(
            expected.iter().all(|e| matches!(e, Expected::Ok(_))),
            "{name}: the source fixtures hold plain text lines, all kept"
        );
        let response = harness.invoke_file(&path);
        let counts = check_response(name, &event, &response, &expected);
        check_telemetry(&harness, n + 1, name, expected.len(), counts);
    }

    // One record of each kind of outcome, and an id that needs JSON escaping.
    let name = "e2e-mixed.json";
    let path = fixture(name);
    let event = read_json(&path);
    let expected = [
        Expected::Ok(b"first line\n".to_vec()),
        Expected::Ok(b"already ends with a newline\n".to_vec()),
        Expected::Dropped,
        Expected::Failed,
        Expected::Dropped,
        Expected::Ok(b"\xff\xfe binary \x00 bytes\n".to_vec()),
    ];
    let response = harness.invoke_file(&path);
    let counts = check_response(name, &event, &response, &expected);
    assert_eq!(counts, (3, 2, 1));
    let summary = check_telemetry(&harness, sources.len() + 1, name, expected.len(), counts);
    assert_eq!(
        fields(&summary)["invocation_id"],
        "e2e-mixed-invocation",
        "{summary}"
    );
    let failures = summary_failures(&summary);
    assert_eq!(failures.len(), 1, "one failure reason: {summary}");
    assert_eq!(failures[0]["reason"], NOT_BASE64, "{summary}");
    assert_eq!(failures[0]["count"], 1, "{summary}");
    assert_eq!(
        failures[0]["record_ids"],
        serde_json::json!(["e2e-4"]),
        "{summary}"
    );
    // The reason Firehose's error bucket will not give: logged per record.
    harness.wait_for_output("the failed record's own log line", |out| {
        json_lines(out).into_iter().find(|line| {
            let f = fields(line);
            f["record_id"] == "e2e-4" && f["reason"] == NOT_BASE64
        })
    });

    harness.assert_function_running();
    eprintln!(
        "sources: {} invocations in {:?}",
        harness.invocations,
        started.elapsed()
    );
}

#[test]
#[cfg_attr(
    skip_lambda_e2e,
    ignore = "SKIP_LAMBDA_E2E=1 was set when the tests were built"
)]
fn a_large_response_sent_in_pieces_arrives_whole() {
    // Records long enough that the engine sends most of the response where
    // its threads wrote it, in pieces, between records it answers as they
    // came (those already ending with a newline) and dropped ones: the
    // emulator must receive one whole response of the announced length.
    let settings = [FUNCTION_SETTINGS, &[("FIREHOSE_THREADS", "2")]].concat();
    let Some(mut harness) = Harness::start("pieces", &settings) else {
        return;
    };
    let lines: Vec<String> = (0..3000)
        .map(|n| match n % 50 {
            7 => format!("{n:05} {}\n", "b".repeat(600)),
            31 => String::new(),
            _ => format!("{n:05} {}", "a".repeat(600)),
        })
        .collect();
    let records: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(n, line)| {
            serde_json::json!({
                "recordId": format!("piece-{n}"),
                "approximateArrivalTimestamp": 1_700_000_000_000u64 + n as u64,
                "data": STANDARD.encode(line),
            })
        })
        .collect();
    let event = serde_json::json!({
        "invocationId": "pieces",
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/example",
        "region": "us-east-1",
        "records": records,
    });
    let path = harness.dir.join("pieces.json");
    fs::write(&path, serde_json::to_vec(&event).unwrap()).unwrap();
    let expected: Vec<Expected> = lines
        .iter()
        .map(|line| expected_process_record(line.as_bytes()))
        .collect();
    let response = harness.invoke_file(&path);
    let counts = check_response("pieces.json", &event, &response, &expected);
    assert_eq!(counts, (2940, 60, 0));
    harness.assert_function_running();
}

/// A Firehose event but for its records.
const NO_RECORDS: &[u8] = br#"{"invocationId": "no-records",
 "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/example",
 "region": "us-east-1"}"#;

/// Checks that an invocation failed (HTTP 500 from the emulator) and returns
/// its error body and message.
fn invocation_error(reply: HttpReply, what: &str) -> (serde_json::Value, String) {
    assert_eq!(
        reply.status,
        500,
        "{what}: the invocation errs: {}",
        String::from_utf8_lossy(&reply.body)
    );
    let error = reply.json();
    let message = error["errorMessage"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no errorMessage: {error}"))
        .to_string();
    (error, message)
}

#[test]
#[cfg_attr(
    skip_lambda_e2e,
    ignore = "SKIP_LAMBDA_E2E=1 was set when the tests were built"
)]
fn malformed_events_fail_the_invocation_with_a_clear_error_and_the_function_keeps_serving() {
    // Default (text) log format here: the EMF line must stand alone anyway.
    let Some(mut harness) = Harness::start("malformed", FUNCTION_SETTINGS) else {
        return;
    };
    let started = Instant::now();

    let (error, message) = invocation_error(harness.post(b"this is not JSON"), "not JSON");
    assert!(
        error["errorType"].is_string(),
        "not JSON: errorType: {error}"
    );
    // The body goes to the engine's parser as it is: its message says so.
    assert_eq!(error["errorType"], "MalformedFirehoseEvent", "{error}");
    assert!(
        message.starts_with("malformed Firehose event: not valid JSON"),
        "not JSON: the message says the payload is not a JSON event: {message}"
    );
    harness.assert_function_running();

    let (error, message) = invocation_error(harness.post(NO_RECORDS), "no records");
    assert!(
        message.contains("malformed Firehose event") && message.contains("`records`"),
        "no records: the message names the missing field: {message}"
    );
    assert_eq!(error["errorType"], "MalformedFirehoseEvent", "{error}");
    // Logged as well, where an operator looks.
    harness.wait_for_output("the malformed event's error line", |out| {
        out.lines()
            .find(|line| line.contains("ERROR") && line.contains("missing field `records`"))
            .map(str::to_string)
    });
    harness.assert_function_running();

    // The same process then serves a good event as if nothing happened.
    let path = fixture("direct-put.json");
    let event = read_json(&path);
    let expected: Vec<Expected> = input_payloads(&event)
        .iter()
        .map(|input| expected_process_record(input))
        .collect();
    let response = harness.invoke_file(&path);
    let counts = check_response("direct-put.json after errors", &event, &response, &expected);
    assert_eq!(counts, (expected.len() as u64, 0, 0));
    // Malformed invocations log no summary: the first summary is this one.
    let summary = harness.wait_for_output("the summary line", |out| {
        out.lines()
            .find(|line| line.contains("invocation summary"))
            .map(str::to_string)
    });
    assert!(
        summary.contains(&format!(" records={} ", expected.len()))
            && summary.contains(&format!(" ok={} ", expected.len()))
            && summary.contains(" failed=0 "),
        "text summary counts: {summary}"
    );
    let emf = harness.wait_for_output("the EMF line", |out| emf_lines(out).into_iter().next());
    assert_eq!(emf["Records"], expected.len(), "{emf}");
    assert_eq!(emf["RecordsOk"], expected.len(), "{emf}");
    harness.assert_function_running();
    eprintln!(
        "malformed: {} invocations in {:?}",
        harness.invocations,
        started.elapsed()
    );
}

#[test]
fn http_replies_are_parsed_whole_and_dechunked() {
    let plain =
        parse_http_reply(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 2\r\n\r\n{}");
    assert_eq!((plain.status, plain.body.as_slice()), (500, &b"{}"[..]));
    let chunked = parse_http_reply(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;x=y\r\n:1}\r\n0\r\n\r\n",
    );
    assert_eq!(
        (chunked.status, chunked.body.as_slice()),
        (200, &br#"{"a":1}"#[..])
    );
}

#[test]
fn the_advertised_environment_is_read_from_the_emulator_output() {
    let output = " INFO you MUST set these variables in the environment where you're running your function:\n \
                  INFO AWS_LAMBDA_FUNCTION_VERSION=1\n \
                  INFO AWS_LAMBDA_RUNTIME_API=http://127.0.0.1:9000/.rt\n \
                  INFO AWS_LAMBDA_FUNCTION_NAME=_\n \
                  INFO starting Runtime server runtime_addr=127.0.0.1:9000\n";
    let env = advertised_environment(&strip_ansi(output));
    assert_eq!(
        env.get("AWS_LAMBDA_RUNTIME_API").map(String::as_str),
        Some("http://127.0.0.1:9000/.rt")
    );
    assert_eq!(
        env.get("AWS_LAMBDA_FUNCTION_NAME").map(String::as_str),
        Some("_")
    );
    assert_eq!(env.len(), 3, "{env:?}");
    assert_eq!(strip_ansi("\u{1b}[32m INFO\u{1b}[0m A=1"), " INFO A=1");
}

#[path = "support/fixture_crate.rs"]
mod fixture_crate;

#[test]
#[cfg_attr(
    skip_lambda_e2e,
    ignore = "SKIP_LAMBDA_E2E=1 was set when the tests were built"
)]
fn a_hung_record_is_answered_in_time_and_the_process_then_ends() {
    // A user's binary whose transform never returns on a record that says
    // "hang" (fixtures/hostile-transform).
    let binary = fixture_crate::FixtureCrate {
        name: "hostile-transform",
        binary: "hostile-transform",
    }
    .build();
    // The emulator's deadline is a placeholder: the time limit bounds the
    // invocation (2 s, less the 500 ms margin).
    let settings = [
        ("FIREHOSE_TIME_LIMIT_MS", "2000"),
        ("FIREHOSE_DEADLINE_MARGIN_MS", "500"),
        ("FIREHOSE_METRICS", "false"),
    ];
    let Some(mut harness) =
        Harness::start_binary("hung", ("hostile-transform", &binary), &settings)
    else {
        return;
    };
    let lines = ["first", "hang", "last"];
    let event = serde_json::json!({
        "invocationId": "hung",
        "records": lines.iter().enumerate().map(|(i, line)| serde_json::json!({
            "recordId": format!("r{i}"),
            "approximateArrivalTimestamp": 1_700_000_000_000u64,
            "data": STANDARD.encode(line),
        })).collect::<Vec<_>>(),
    });
    let started = Instant::now();
    let reply = harness.post(event.to_string().as_bytes());
    let took = started.elapsed();
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert!(took < Duration::from_secs(10), "answered in {took:?}");
    let response = reply.json();
    let results: Vec<(&str, &str)> = response["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            (
                r["recordId"].as_str().unwrap_or(""),
                r["result"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        results,
        [
            ("r0", "Ok"),
            ("r1", "ProcessingFailed"),
            ("r2", "ProcessingFailed")
        ]
    );
    assert_eq!(
        STANDARD
            .decode(response["records"][0]["data"].as_str().unwrap_or(""))
            .ok(),
        Some(b"first\n".to_vec())
    );
    // Then the process ends by itself, so that Lambda starts a clean one.
    let status = harness
        .function
        .wait_timeout(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("the function still runs:\n{}", harness.function_output()));
    assert!(status.success(), "{status}");
    assert!(
        harness
            .function_output()
            .contains("ending the process so that Lambda starts a clean one"),
        "{}",
        harness.function_output()
    );
}
