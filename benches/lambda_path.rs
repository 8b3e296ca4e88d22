//! A warm invocation on the Lambda path: the `process-record` binary serving
//! a Runtime API, invoked again and again with the same 6 MB event, against
//! the engine on that event in-process.
//!
//! The Runtime API is served here, on loopback, by a few lines of HTTP/1.1,
//! so that the figure is the function's own duration as Lambda bills it:
//! from the moment the event's last byte is handed over (the `/next`
//! response) to the moment the function's response has fully arrived. (An
//! emulator such as `cargo lambda watch` times the invoke as its client sees
//! it, relay included, and does not report the function's part.) Each
//! invocation is one sample; the first is left out as the cold one.
//!
//! `LAMBDA_PATH_BINARY=/path/to/process-record` measures another build of the
//! binary beside this one (an older commit, say), in the same run.
//!
//! ```sh
//! cargo bench --bench lambda_path
//! ```

#[path = "support/lines.rs"]
mod support_lines;

use std::hint::black_box;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use firehose_transform::blueprints::process_record::ProcessRecord;
use firehose_transform::testing::EventBuilder;
use firehose_transform::{Engine, EngineConfig};

/// A ~6 MB event of 1,000-byte log lines.
fn event_json() -> Vec<u8> {
    let lines = support_lines::lines(6_000_000 / 1464, 1000, 0x2545_f491_4f6c_dd1d);
    EventBuilder::new().lines(lines).to_json()
}

/// One HTTP/1.1 request read off a connection.
struct HttpRequest {
    path: String,
    body: Vec<u8>,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<HttpRequest> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let path = line.split_whitespace().nth(1)?.to_string();
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(HttpRequest { path, body })
}

/// What the Runtime API saw of one invocation.
struct Answered {
    /// From the event handed over to the response received.
    duration: Duration,
    response_len: usize,
}

/// Serves one connection of the function's: each `/next` gets `event`, each
/// posted response ends an invocation.
fn serve(
    stream: TcpStream,
    event: &[u8],
    invocations: &Mutex<mpsc::Receiver<()>>,
    done: &mpsc::Sender<Answered>,
) {
    let mut writer = stream.try_clone().expect("clone the stream");
    let mut reader = BufReader::new(stream);
    let mut handed_over = None;
    let mut n = 0u64;
    while let Some(request) = read_request(&mut reader) {
        if request.path.ends_with("/invocation/next") {
            // Wait until the bench asks for an invocation.
            let asked = invocations.lock().is_ok_and(|rx| rx.recv().is_ok());
            if !asked {
                return;
            }
            n += 1;
            let deadline = SystemTime::now() + Duration::from_secs(60);
            let deadline_ms = deadline
                .duration_since(UNIX_EPOCH)
                .expect("after 1970")
                .as_millis();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                 Lambda-Runtime-Aws-Request-Id: request-{n}\r\n\
                 Lambda-Runtime-Deadline-Ms: {deadline_ms}\r\n\
                 Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:bench\r\n\
                 Lambda-Runtime-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1\r\n\
                 Content-Length: {}\r\n\r\n",
                event.len()
            );
            writer.write_all(head.as_bytes()).expect("write the event");
            writer.write_all(event).expect("write the event");
            writer.flush().expect("write the event");
            handed_over = Some(Instant::now());
        } else {
            let received = Instant::now();
            writer
                .write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}")
                .expect("answer the response");
            if let Some(start) = handed_over.take() {
                assert!(
                    request.path.ends_with("/response"),
                    "the function answered {}: {}",
                    request.path,
                    String::from_utf8_lossy(&request.body)
                );
                let answered = Answered {
                    duration: received - start,
                    response_len: request.body.len(),
                };
                if done.send(answered).is_err() {
                    return;
                }
            }
        }
    }
}

/// A function process and the Runtime API it polls.
struct Function {
    child: Child,
    invoke: mpsc::Sender<()>,
    answered: mpsc::Receiver<Answered>,
}

impl Function {
    fn start(binary: &PathBuf, event: Vec<u8>) -> Function {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let address = listener.local_addr().expect("its address");
        let (invoke, invocations) = mpsc::channel();
        let (done, answered) = mpsc::channel();
        thread::spawn(move || {
            // The function may open more than one connection: whichever
            // waits in `/next` takes the next invocation.
            let invocations = Arc::new(Mutex::new(invocations));
            let event = Arc::new(event);
            for stream in listener.incoming().flatten() {
                let (invocations, event, done) = (invocations.clone(), event.clone(), done.clone());
                thread::spawn(move || serve(stream, &event, &invocations, &done));
            }
        });
        let child = Command::new(binary)
            .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1769")
            .env("AWS_LAMBDA_LOG_LEVEL", "ERROR")
            .env("FIREHOSE_METRICS", "false")
            .env("FIREHOSE_THREADS", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        let function = Function {
            child,
            invoke,
            answered,
        };
        // The cold invocation, left out.
        function.invoke();
        function
    }

    fn invoke(&self) -> Answered {
        self.invoke.send(()).expect("the Runtime API runs");
        self.answered
            .recv_timeout(Duration::from_secs(60))
            .expect("the function answers")
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lambda_path(c: &mut Criterion) {
    // As the binaries do at start-up (`run`): freed memory is kept for the
    // next iteration instead of being faulted in again.
    firehose_transform::runtime::keep_freed_memory();
    let json = event_json();
    let mut subjects = vec![(
        "process-record".to_string(),
        PathBuf::from(env!("CARGO_BIN_EXE_process-record")),
    )];
    if let Some(other) = std::env::var_os("LAMBDA_PATH_BINARY") {
        subjects.push(("LAMBDA_PATH_BINARY".to_string(), PathBuf::from(other)));
    }
    let mut group = c.benchmark_group("warm invocation, 6 MB event");
    group.throughput(Throughput::Bytes(json.len() as u64));
    group.sample_size(30);

    // The engine alone, one thread, on the same event as a Lambda body.
    let config = EngineConfig {
        threads: 1,
        ..EngineConfig::default()
    };
    let engine = Engine::with_config(ProcessRecord::default(), config);
    let body = bytes::Bytes::from(json.clone());
    group.bench_function("in-process engine", |b| {
        b.iter(|| {
            let event = engine
                .parse_event(black_box(body.clone()))
                .expect("valid event");
            let invocation = engine.process_shared(&event, None).expect("the event fits");
            black_box(invocation.response.into_chunks())
        })
    });

    for (name, binary) in subjects {
        let function = Function::start(&binary, json.clone());
        let expected = function.invoke().response_len;
        group.bench_function(format!("{name} under the Runtime API"), |b| {
            b.iter_custom(|iterations| {
                (0..iterations)
                    .map(|_| {
                        let answered = function.invoke();
                        assert_eq!(answered.response_len, expected);
                        answered.duration
                    })
                    .sum()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, lambda_path);
criterion_main!(benches);
