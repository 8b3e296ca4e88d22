//! The Lambda Runtime API emulator (`cargo lambda watch --only-lambda-apis`)
//! and what talking to it needs: child processes killed with their group,
//! a small HTTP/1.1 client. Shared by `tests/lambda_e2e.rs` and
//! `benches/cold_start.rs` (included by `#[path]`, so not every user uses
//! every item).
#![allow(dead_code)]

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The emulator's first start runs `cargo metadata`, slow on a loaded machine.
pub const EMULATOR_START_TIMEOUT: Duration = Duration::from_secs(90);

// ---------------------------------------------------------------------------
// Child processes

/// A child process in its own process group, killed with the whole group
/// when dropped, so nothing it started outlives the test.
pub struct Guard {
    name: &'static str,
    child: Child,
}

impl Guard {
    pub fn spawn(name: &'static str, command: &mut Command) -> Guard {
        command.stdin(Stdio::null()).process_group(0);
        let child = command
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {name} ({command:?}): {error}"));
        Guard { name, child }
    }

    /// `Some(description)` once the process has exited.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(error) => Some(format!("unknown state ({error})")),
        }
    }

    /// Waits at most `timeout` for the process to exit by itself.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let until = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= until {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the process and its group and reaps it; a no-op once it has exited.
    pub fn kill(&mut self) {
        if self.child.try_wait().is_ok_and(|status| status.is_none()) {
            // The group id is the child's pid (process_group(0)): SIGKILL to
            // the group reaches anything the child started, too.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let _ = self.child.kill();
        }
        if self.wait_timeout(Duration::from_secs(10)).is_none() {
            eprintln!(
                "{} (pid {}) did not exit after SIGKILL",
                self.name,
                self.child.id()
            );
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs `command` to completion within `timeout`; its output goes to files
/// `<stem>.out` / `<stem>.err` under `dir`. Returns (success, stdout, stderr).
/// Gives up early, panicking, when `stop` returns a reason.
pub fn run_bounded(
    name: &'static str,
    command: &mut Command,
    (dir, stem): (&Path, &str),
    timeout: Duration,
    stop: &mut dyn FnMut() -> Option<String>,
) -> (bool, String, String) {
    let out_path = dir.join(format!("{stem}.out"));
    let err_path = dir.join(format!("{stem}.err"));
    command.stdout(create(&out_path)).stderr(create(&err_path));
    let mut guard = Guard::spawn(name, command);
    let until = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = guard.wait_timeout(Duration::from_millis(100)) {
            break Some(status);
        }
        if let Some(reason) = stop() {
            panic!("{name} abandoned: {reason}");
        }
        if Instant::now() >= until {
            break None;
        }
    };
    let stdout = fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = fs::read_to_string(&err_path).unwrap_or_default();
    match status {
        Some(status) => (status.success(), stdout, stderr),
        None => panic!(
            "{name} did not finish within {timeout:?}: {command:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        ),
    }
}

pub fn create(path: &Path) -> File {
    File::create(path).unwrap_or_else(|error| panic!("cannot create {}: {error}", path.display()))
}

/// Removes terminal colour codes, in case a tool colours its output anyway.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters final-byte (0x40..=0x7e).
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('\u{40}'..='\u{7e}').contains(&c) {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

pub fn free_loopback_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap_or_else(|error| panic!("cannot find a free loopback port: {error}"))
}

/// Starts `cargo lambda watch --only-lambda-apis` on a free loopback port and
/// waits until it serves. Returns the guard, the port, and the environment it
/// tells the function to use; `Err` with its output when it did not start.
pub fn start_emulator(
    cargo_lambda: &Path,
    dir: &Path,
    attempt: usize,
) -> Result<(Guard, u16, HashMap<String, String>), String> {
    let port = free_loopback_port();
    let (out_path, log) = (dir.join("emulator.out"), dir.join("emulator.err"));
    let mut emulator = Guard::spawn(
        "cargo lambda watch",
        Command::new(cargo_lambda)
            .args(["lambda", "watch", "--only-lambda-apis"])
            .args(["--invoke-address", "127.0.0.1"])
            .args(["--invoke-port", &port.to_string()])
            .env("NO_COLOR", "1")
            .env("CARGO_TERM_COLOR", "never")
            // It reads the package's metadata (it refuses to run outside one).
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(create(&out_path))
            .stderr(create(&log)),
    );
    let until = Instant::now() + EMULATOR_START_TIMEOUT;
    loop {
        let output = strip_ansi(
            &(fs::read_to_string(&out_path).unwrap_or_default()
                + &fs::read_to_string(&log).unwrap_or_default()),
        );
        if let Some(status) = emulator.exited() {
            return Err(format!(
                "attempt {}: cargo lambda watch on port {port} exited ({status}):\n{output}",
                attempt + 1
            ));
        }
        if output.contains("starting Runtime server") {
            let env = advertised_environment(&output);
            let serving = TcpStream::connect_timeout(
                &SocketAddr::from(([127, 0, 0, 1], port)),
                Duration::from_secs(1),
            )
            .is_ok();
            if serving && env.contains_key("AWS_LAMBDA_RUNTIME_API") {
                return Ok((emulator, port, env));
            }
        }
        if Instant::now() >= until {
            // Dropping the guard kills it.
            return Err(format!(
                "attempt {}: cargo lambda watch on port {port} was not serving after \
                 {EMULATOR_START_TIMEOUT:?}:\n{output}",
                attempt + 1
            ));
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// The `KEY=VALUE` lines the emulator prints after "you MUST set these
/// variables", e.g. `AWS_LAMBDA_RUNTIME_API=http://127.0.0.1:PORT/.rt`.
pub fn advertised_environment(output: &str) -> HashMap<String, String> {
    output
        .lines()
        .filter_map(|line| {
            let (key, value) = line.split_once('=')?;
            let key = key.split_whitespace().last()?;
            let is_name = key.starts_with("AWS_")
                && key
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
            is_name.then(|| (key.to_string(), value.trim().to_string()))
        })
        .collect()
}

// ---------------------------------------------------------------------------
// A small HTTP/1.1 client: the crate has no HTTP client, and one request with
// `Connection: close` needs little.

/// A reply: its status and its body (de-chunked).
pub struct HttpReply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl HttpReply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "HTTP {} body is not JSON ({error}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

pub fn http_post(
    port: u16,
    path: &str,
    payload: &[u8],
    timeout: Duration,
    stop: &mut dyn FnMut() -> Option<String>,
) -> HttpReply {
    let until = Instant::now() + timeout;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .unwrap_or_else(|error| panic!("cannot connect to the emulator at {addr}: {error}"));
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        payload.len()
    );
    let sent = stream
        .set_write_timeout(Some(timeout))
        .and_then(|()| stream.write_all(head.as_bytes()))
        .and_then(|()| stream.write_all(payload));
    if let Err(error) = sent {
        panic!("cannot send the invocation to {addr}{path}: {error}");
    }
    let mut raw = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        let left = until.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "no complete reply from {addr}{path} within {timeout:?}"
        );
        // Short reads, so a function that died is noticed at once.
        if let Err(error) = stream.set_read_timeout(Some(left.min(Duration::from_millis(100)))) {
            panic!("cannot set a read timeout: {error}");
        }
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buffer[..n]),
            Err(error)
                if matches!(
                    error.kind(),
                    ErrorKind::Interrupted | ErrorKind::WouldBlock | ErrorKind::TimedOut
                ) =>
            {
                if let Some(reason) = stop() {
                    panic!("no reply from {addr}{path}: {reason}");
                }
            }
            Err(error) => panic!("reading the reply from {addr}{path}: {error}"),
        }
    }
    parse_http_reply(&raw)
}

pub fn parse_http_reply(raw: &[u8]) -> HttpReply {
    let text_head = |raw: &[u8]| String::from_utf8_lossy(raw).into_owned();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("HTTP reply without a header end: {}", text_head(raw)));
    let head = text_head(&raw[..split]);
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("HTTP reply without a status line: {head}"));
    let chunked = lines.any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.eq_ignore_ascii_case("transfer-encoding")
                && value.trim().eq_ignore_ascii_case("chunked")
        })
    });
    if chunked {
        body = dechunk(&body);
    }
    HttpReply { status, body }
}

pub fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let Some(end) = raw.windows(2).position(|w| w == b"\r\n") else {
            panic!("truncated chunked body");
        };
        let size_text = String::from_utf8_lossy(&raw[..end]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .unwrap_or_else(|_| panic!("bad chunk size {size_text:?}"));
        if size == 0 {
            return body;
        }
        let chunk = raw
            .get(end + 2..end + 2 + size)
            .unwrap_or_else(|| panic!("truncated chunk of {size} bytes"));
        body.extend_from_slice(chunk);
        raw = raw.get(end + 4 + size..).unwrap_or_default();
    }
}
