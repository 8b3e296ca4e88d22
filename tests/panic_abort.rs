//! A user's crate built with `panic = "abort"` (`fixtures/panic-abort`): a
//! JSON transform depending on firehose-transform alone, without its
//! optional features. Built here with cargo into `target/panic-abort` (kept
//! between runs: the first build compiles the dependencies again with
//! panic=abort, later ones only the crates that changed).
//!
//! Checks that under abort the crate says at start-up that per-record panic
//! isolation is off, never swallows a panic's message (and names the
//! record), and that the build compiled neither maxminddb nor regex.

use std::process::{Command, Stdio};

#[path = "support/fixture_crate.rs"]
mod fixture_crate;

const CRATE: fixture_crate::FixtureCrate = fixture_crate::FixtureCrate {
    name: "panic-abort",
    binary: "iot-readings",
};

#[test]
fn under_panic_abort_the_panic_is_reported_and_isolation_is_said_to_be_off() {
    use std::io::Write;
    use std::os::unix::process::ExitStatusExt;

    let binary = CRATE.build();
    let run = |input: &[u8]| {
        let mut child = Command::new(&binary)
            .args(["--lines", "-", "--decode"])
            .env_remove("AWS_LAMBDA_RUNTIME_API")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the fixture binary starts");
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap()
    };

    // Without a panic, the transform works (and a JSON transform needs no
    // dependency but this crate).
    let output = run(b"{\"device\":\"t1\",\"celsius\":20}\n{\"device\":\"t2\"}\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "Ok               line-1 {\"device\":\"t1\",\"fahrenheit\":68.0}\nDropped          line-2\n"
    );
    assert!(
        stderr.contains("per-record panic isolation is off"),
        "the start-up warning: {stderr}"
    );

    // A panic ends the process (SIGABRT), loudly.
    let output = run(b"{\"device\":\"t1\",\"celsius\":1}\n{\"device\":\"boom\",\"celsius\":1}\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.signal(), Some(6), "aborted: {stderr}");
    assert!(
        stderr.contains("device boom sent a reading"),
        "the panic's own message: {stderr}"
    );
    assert!(
        stderr.contains("the transform panicked on record \"line-2\""),
        "the record named: {stderr}"
    );
}

#[test]
fn without_default_features_neither_maxminddb_nor_regex_is_compiled() {
    CRATE.prepare();
    let output = CRATE
        .cargo()
        .args(["tree", "--edges", "normal", "--prefix", "none"])
        .output()
        .expect("cargo runs");
    let tree = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(tree.contains("firehose-transform v"), "{tree}");
    for line in tree.lines() {
        assert!(
            !line.starts_with("maxminddb ") && !line.starts_with("regex "),
            "{line:?} is compiled without the features:\n{tree}"
        );
    }
}
