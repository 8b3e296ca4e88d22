//! Records that do the worst a transform can do, through a user's own binary
//! (`fixtures/hostile-transform`, built here with cargo) in local mode, each
//! run a process of its own:
//!
//! - a record that never returns is answered `ProcessingFailed` when the
//!   time limit (less the margin) comes, with every other record answered,
//!   and the process says a thread was left behind;
//! - a record whose value panics in `Drop` while its first panic unwinds,
//!   which Rust answers by aborting the process, fails alone: its thread is
//!   set aside and another finishes the batch.
//!
//! The same hung record under the Lambda Runtime API is in
//! `tests/lambda_e2e.rs`, where the process must also end after answering.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

#[path = "support/fixture_crate.rs"]
mod fixture_crate;

const CRATE: fixture_crate::FixtureCrate = fixture_crate::FixtureCrate {
    name: "hostile-transform",
    binary: "hostile-transform",
};

/// Runs the fixture in local mode on `lines`, one record each, with `env`.
fn run(lines: &str, env: &[(&str, &str)]) -> (Output, Duration) {
    let binary = CRATE.build();
    let started = Instant::now();
    let mut child = Command::new(&binary)
        .args(["--lines", "-", "--decode"])
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the fixture binary starts");
    child
        .stdin
        .take()
        .expect("its standard input")
        .write_all(lines.as_bytes())
        .expect("the records are written");
    let output = child.wait_with_output().expect("it ends");
    (output, started.elapsed())
}

#[test]
fn a_record_that_never_returns_fails_at_the_time_limit_and_the_others_are_answered() {
    let (output, took) = run(
        "first\nhang\nlast\n",
        &[
            ("FIREHOSE_TIME_LIMIT_MS", "1500"),
            ("FIREHOSE_DEADLINE_MARGIN_MS", "500"),
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // Answered at the limit less the margin (1 s), not held by the record.
    assert!(
        took >= Duration::from_millis(950) && took < Duration::from_secs(10),
        "took {took:?}"
    );
    let deadline = "invocation deadline reached before processing";
    assert_eq!(
        stdout,
        format!(
            "Ok               line-1 first\n\
             ProcessingFailed line-2 {deadline}\n\
             ProcessingFailed line-3 {deadline}\n"
        )
    );
    assert!(
        stderr.contains("a thread is still inside the transform"),
        "{stderr}"
    );
}

#[test]
fn a_drop_that_panics_while_unwinding_fails_only_its_record() {
    let (output, took) = run("first\ndrop-panics\nlast\n", &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "not aborted: {stderr}");
    // Another thread takes over at once: nothing waits for a deadline.
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert_eq!(lines[0], "Ok               line-1 first");
    assert!(
        lines[1].starts_with(
            "ProcessingFailed line-2 transform panicked: it panicked again while unwinding a \
             panic (the guard's drop panicked at src/main.rs:"
        ),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2], "Ok               line-3 last");
    assert!(
        stderr.contains("a thread is still inside the transform"),
        "{stderr}"
    );
}

/// The same through the testing kit, with a transform of the test's own that
/// sleeps forever on one record: `testing::run_engine` runs it on the engine's
/// threads, as a function would.
#[test]
fn the_testing_kit_answers_a_record_that_sleeps_forever_by_the_deadline() {
    use firehose_transform::{testing, Context, Engine, EngineConfig, Failure, Record, Transform};

    struct SleepsOnZero;
    impl Transform for SleepsOnZero {
        type Item<'a> = &'a [u8];
        fn parse<'a>(&self, record: &Record<'a>, _: &mut Context) -> Result<&'a [u8], Failure> {
            if record.data == b"0" {
                loop {
                    std::thread::sleep(Duration::from_secs(3600));
                }
            }
            Ok(record.data)
        }
        fn convert(
            &self,
            data: &[u8],
            out: &mut firehose_transform::Output,
            _: &mut Context,
        ) -> Result<(), Failure> {
            out.write(data);
            Ok(())
        }
    }

    let lines: Vec<String> = (0..400).map(|i| (i % 200).to_string()).collect();
    let config = EngineConfig {
        deadline_margin: Duration::from_millis(200),
        threads: 2,
        parallel_min_bytes: 0,
        ..EngineConfig::default()
    };
    let engine = Engine::with_config(SleepsOnZero, config);
    let event = testing::event_from_lines(&lines);
    let deadline = Instant::now() + Duration::from_millis(800);
    let processed = testing::run_engine(&engine, &event, Some(deadline));
    assert!(Instant::now() < deadline, "answered before the deadline");
    assert!(processed.left_running());
    let deadline_reason = Some("invocation deadline reached before processing");
    // The first "0" hangs its thread; the other takes every block it can
    // until it meets the second "0".
    assert_eq!(processed.failure_reason(0), deadline_reason);
    let answered = (0..400).filter(|i| processed.is_ok(*i)).count();
    assert!(answered >= 150, "only {answered} of 400 answered");
    for (i, line) in lines.iter().enumerate() {
        assert!(
            processed.is_ok(i) || processed.failure_reason(i) == deadline_reason,
            "record {i}"
        );
        if processed.is_ok(i) {
            assert_eq!(processed.text(i), line);
        }
    }
}
