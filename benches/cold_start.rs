//! Cold start: the time from `exec` of a blueprint binary to its first
//! response, for a tiny event (`fixtures/events/direct-put.json`: 4 Apache
//! lines; the CloudWatch Logs processor gets `fixtures/cloudwatch_logs/event.json`).
//!
//! Two ways, each a fresh process every run:
//! - **local mode**: `BINARY --event FILE`, until the process has written the
//!   response and exited;
//! - **under the Lambda Runtime API** of `cargo lambda watch
//!   --only-lambda-apis`: the invocation is queued first, then the binary is
//!   started with the emulator's environment; the time runs until the
//!   invoker has the response (init, `next`, the batch, the posted response,
//!   the emulator's relay).
//!
//! For comparison on the same machine, the same job (process-record:
//! records back with a newline) in Python 3 and in Node.js, each as small as
//! it can be (a Runtime API loop on the standard library only, as AWS's
//! process-record blueprint would run without its runtime interface
//! client), so their figures are a lower bound for those runtimes.
//!
//! Runs alternate between the subjects so that machine noise spreads over
//! all of them; medians and the 10th/90th percentiles are printed.
//! `COLD_START_RUNS` (default 25) sets the runs per subject.
//!
//! ```sh
//! pip install cargo-lambda==1.9.2   # the emulator
//! cargo bench --bench cold_start
//! ```

#[path = "../tests/support/emulator.rs"]
mod emulator;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use emulator::{create, http_post, start_emulator, Guard};

const INVOKE_TIMEOUT: Duration = Duration::from_secs(30);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(path: &str) -> PathBuf {
    root().join("fixtures").join(path)
}

/// process-record's job, in Python: every record back `Ok`, with a newline.
const PYTHON_PROCESS_RECORD: &str = r#"
import base64, json, os, sys, urllib.request

def transform(event):
    records = []
    for record in event["records"]:
        data = base64.b64decode(record["data"])
        if not data.endswith(b"\n"):
            data += b"\n"
        records.append({"recordId": record["recordId"], "result": "Ok",
                        "data": base64.b64encode(data).decode()})
    return {"records": records}

if len(sys.argv) > 1:
    with open(sys.argv[1], "rb") as f:
        print(json.dumps(transform(json.load(f))))
    sys.exit(0)
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
base = api if api.startswith("http") else "http://" + api
while True:
    with urllib.request.urlopen(base + "/2018-06-01/runtime/invocation/next") as reply:
        request_id = reply.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(reply.read())
    body = json.dumps(transform(event)).encode()
    urllib.request.urlopen(urllib.request.Request(
        base + "/2018-06-01/runtime/invocation/" + request_id + "/response",
        data=body, method="POST")).read()
"#;

/// The same in Node.js.
const NODE_PROCESS_RECORD: &str = r#"
const http = require("http"), fs = require("fs");
function transform(event) {
  return { records: event.records.map((record) => {
    let data = Buffer.from(record.data, "base64");
    if (data[data.length - 1] !== 10) data = Buffer.concat([data, Buffer.from("\n")]);
    return { recordId: record.recordId, result: "Ok", data: data.toString("base64") };
  }) };
}
if (process.argv.length > 2) {
  console.log(JSON.stringify(transform(JSON.parse(fs.readFileSync(process.argv[2])))));
  process.exit(0);
}
const api = process.env.AWS_LAMBDA_RUNTIME_API;
const base = new URL(api.startsWith("http") ? api : "http://" + api);
const prefix = base.pathname.replace(/\/$/, "");
function next() {
  http.get({ host: base.hostname, port: base.port, path: prefix + "/2018-06-01/runtime/invocation/next" }, (reply) => {
    const chunks = [];
    reply.on("data", (c) => chunks.push(c));
    reply.on("end", () => {
      const id = reply.headers["lambda-runtime-aws-request-id"];
      const body = JSON.stringify(transform(JSON.parse(Buffer.concat(chunks))));
      const post = http.request({ host: base.hostname, port: base.port, method: "POST",
        path: prefix + "/2018-06-01/runtime/invocation/" + id + "/response",
        headers: { "Content-Length": Buffer.byteLength(body) } }, (r) => { r.resume(); r.on("end", next); });
      post.end(body);
    });
  });
}
next();
"#;

/// One thing to start: a program, its arguments before the event file, and
/// its settings.
struct Subject {
    name: &'static str,
    program: PathBuf,
    args: Vec<String>,
    settings: Vec<(&'static str, &'static str)>,
    event: PathBuf,
}

fn subjects(scripts: &Path) -> Vec<Subject> {
    let apache_event = fixture("events/direct-put.json");
    let binary = |name: &'static str, path: &str, settings: Vec<_>, event: &PathBuf| Subject {
        name,
        program: PathBuf::from(path),
        args: Vec::new(),
        settings,
        event: event.clone(),
    };
    let python = scripts.join("process_record.py");
    let node = scripts.join("process_record.js");
    std::fs::write(&python, PYTHON_PROCESS_RECORD).expect("write the Python script");
    std::fs::write(&node, NODE_PROCESS_RECORD).expect("write the Node.js script");
    vec![
        binary(
            "process-record",
            env!("CARGO_BIN_EXE_process-record"),
            vec![("APPEND_NEWLINE", "true")],
            &apache_event,
        ),
        binary(
            "apachelog-to-json",
            env!("CARGO_BIN_EXE_apachelog-to-json"),
            vec![],
            &apache_event,
        ),
        binary(
            "firehose-pipeline",
            env!("CARGO_BIN_EXE_firehose-pipeline"),
            vec![("INPUT_FORMAT", "apache"), ("FILTER", ".status >= 200")],
            &apache_event,
        ),
        binary(
            "cloudwatch-logs-processor",
            env!("CARGO_BIN_EXE_cloudwatch-logs-processor"),
            vec![("MESSAGE_FORMAT", "envelope")],
            &fixture("cloudwatch_logs/event.json"),
        ),
        Subject {
            name: "Python 3 (same job)",
            program: interpreter("python3", &["-c", "import sys; print(sys.executable)"])
                .unwrap_or_default(),
            args: vec![python.display().to_string()],
            settings: vec![],
            event: apache_event.clone(),
        },
        Subject {
            name: "Node.js (same job)",
            program: interpreter("node", &["-e", "console.log(process.execPath)"])
                .unwrap_or_default(),
            args: vec![node.display().to_string()],
            settings: vec![],
            event: apache_event,
        },
    ]
}

/// A program on PATH, or `None`.
fn on_path(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The interpreter's own executable, not a wrapper on PATH (pyenv's shims are
/// shell scripts that would add their own start-up to every run); `None` when
/// it is not installed.
fn interpreter(name: &str, print_executable: &[&str]) -> Option<PathBuf> {
    let output = Command::new(on_path(name)?)
        .args(print_executable)
        .output()
        .ok()?;
    let path = String::from_utf8(output.stdout).ok()?;
    let path = PathBuf::from(path.trim());
    (output.status.success() && path.is_absolute()).then_some(path)
}

/// Local mode: exec until exit, the response read from standard output.
fn local_run(subject: &Subject) -> Duration {
    let mut command = Command::new(&subject.program);
    command.args(&subject.args);
    if subject.args.is_empty() {
        // A blueprint binary; the scripts take the file alone.
        command.arg("--event");
    }
    command
        .arg(&subject.event)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(subject.settings.iter().copied())
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    let started = Instant::now();
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", subject.name));
    let took = started.elapsed();
    assert!(
        output.status.success() && output.stdout.starts_with(b"{"),
        "{} did not answer in local mode ({}): {}",
        subject.name,
        output.status,
        String::from_utf8_lossy(&output.stdout)
    );
    took
}

/// Under the emulator: queue the invocation, exec, wait for the response.
fn emulated_run(
    subject: &Subject,
    port: u16,
    env: &HashMap<String, String>,
    dir: &Path,
) -> Duration {
    let payload = std::fs::read(&subject.event).expect("read the event");
    let function = env
        .get("AWS_LAMBDA_FUNCTION_NAME")
        .cloned()
        .unwrap_or_else(|| "_".to_string());
    let path = format!("/2015-03-31/functions/{function}/invocations");
    let (done, answered) = mpsc::channel();
    let invoker = thread::spawn(move || {
        let reply = http_post(port, &path, &payload, INVOKE_TIMEOUT, &mut || None);
        let _ = done.send(Instant::now());
        reply
    });
    // Let the request reach the emulator's queue before the clock starts.
    thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    let mut command = Command::new(&subject.program);
    command
        .args(&subject.args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env)
        .envs(subject.settings.iter().copied())
        .stdout(create(&dir.join("function.out")))
        .stderr(create(&dir.join("function.err")));
    let mut process = Guard::spawn(subject.name, &mut command);
    let finished = answered
        .recv_timeout(INVOKE_TIMEOUT)
        .unwrap_or_else(|_| panic!("{} gave no response under the emulator", subject.name));
    let reply = invoker.join().expect("the invoker thread");
    process.kill();
    assert!(
        reply.status == 200 && reply.body.starts_with(b"{\"records\""),
        "{} answered HTTP {}: {}",
        subject.name,
        reply.status,
        String::from_utf8_lossy(&reply.body)
    );
    finished - started
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[at]
}

fn report(title: &str, subjects: &[Subject], times: &[Vec<Duration>]) {
    println!("\n{title}");
    println!(
        "{:<28} {:>5} {:>10} {:>10} {:>10}",
        "subject", "runs", "median ms", "p10 ms", "p90 ms"
    );
    for (subject, runs) in subjects.iter().zip(times) {
        if runs.is_empty() {
            println!("{:<28} (not installed: not measured)", subject.name);
            continue;
        }
        let mut sorted = runs.clone();
        sorted.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{:<28} {:>5} {:>10.2} {:>10.2} {:>10.2}",
            subject.name,
            sorted.len(),
            ms(percentile(&sorted, 0.5)),
            ms(percentile(&sorted, 0.1)),
            ms(percentile(&sorted, 0.9))
        );
    }
}

fn main() {
    // `cargo bench -- --list` / `cargo test --benches` pass flags: nothing to list.
    if std::env::args().any(|arg| arg == "--list" || arg == "--test") {
        return;
    }
    let runs: usize = std::env::var("COLD_START_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25);
    let dir = std::env::temp_dir().join(format!("cold-start-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let subjects = subjects(&dir);
    let present: Vec<bool> = subjects
        .iter()
        .map(|subject| subject.program.is_absolute())
        .collect();

    // Warm the page cache and check that each answers.
    for (subject, _) in subjects.iter().zip(&present).filter(|(_, p)| **p) {
        local_run(subject);
    }
    let mut local = vec![Vec::new(); subjects.len()];
    for _ in 0..runs {
        for (i, subject) in subjects.iter().enumerate().filter(|(i, _)| present[*i]) {
            local[i].push(local_run(subject));
        }
    }
    report(
        "Local mode: exec to exit, response on stdout",
        &subjects,
        &local,
    );

    let Some(cargo_lambda) = on_path("cargo-lambda") else {
        eprintln!(
            "\ncargo-lambda is not on PATH, so the Runtime API half is not measured: \
             `pip install cargo-lambda==1.9.2`"
        );
        std::process::exit(1);
    };
    let (_emulator, port, env) = start_emulator(&cargo_lambda, &dir, 0)
        .unwrap_or_else(|problem| panic!("the emulator did not start: {problem}"));
    let mut emulated = vec![Vec::new(); subjects.len()];
    // A warm-up run each, which also checks the response.
    for (subject, _) in subjects.iter().zip(&present).filter(|(_, p)| **p) {
        emulated_run(subject, port, &env, &dir);
    }
    for _ in 0..runs {
        for (i, subject) in subjects.iter().enumerate().filter(|(i, _)| present[*i]) {
            emulated[i].push(emulated_run(subject, port, &env, &dir));
        }
    }
    report(
        "Under cargo lambda watch --only-lambda-apis: exec to the invoker holding the response",
        &subjects,
        &emulated,
    );
    let _ = std::fs::remove_dir_all(&dir);
}
