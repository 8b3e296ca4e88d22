//! A user's crate built with `panic = "abort"` (`fixtures/panic-abort`): a
//! JSON transform depending on firehose-transform alone, without its
//! optional features. Built here with cargo into `target/panic-abort` (kept
//! between runs: the first build compiles the dependencies again with
//! panic=abort, later ones only the crates that changed).
//!
//! Checks that under abort the crate says at start-up that per-record panic
//! isolation is off, never swallows a panic's message (and names the
//! record), and that the build compiled neither maxminddb nor regex.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn crate_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/panic-abort")
}

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/panic-abort")
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command
        .arg("--color=never")
        .current_dir(crate_dir())
        // The outer build's settings are not the user's.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR");
    command
}

/// Builds the fixture crate; its lock file is the main crate's, so the
/// versions are those already downloaded.
fn prepare() {
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock"),
        crate_dir().join("Cargo.lock"),
    )
    .expect("copy Cargo.lock into the fixture crate");
}

fn build() -> PathBuf {
    prepare();
    let output = cargo()
        .args(["build", "--target-dir"])
        .arg(target_dir())
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "building fixtures/panic-abort failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    target_dir().join("debug/iot-readings")
}

#[test]
fn under_panic_abort_the_panic_is_reported_and_isolation_is_said_to_be_off() {
    use std::io::Write;
    use std::os::unix::process::ExitStatusExt;

    let binary = build();
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
    prepare();
    let output = cargo()
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
