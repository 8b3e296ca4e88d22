//! A moto server (PyPI `moto[server]`) on a loopback port, a fault-injecting
//! proxy in front of it, and a few raw calls the SDK features of the crate
//! do not cover (S3). Shared by the AWS tests.
//!
//! moto checks no signatures: the raw calls carry a made-up SigV4
//! `Authorization` header only so that moto routes them to the right service.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, Once};
use std::thread;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";
const MOTO_VERSION: &str = "5.2.1";

/// Dummy credentials and the region, for in-process clients. Every test
/// sets the same values, so the races of `set_var` cannot change them.
pub fn aws_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::env::set_var("AWS_REGION", REGION);
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        std::env::remove_var("AWS_SESSION_TOKEN");
        std::env::remove_var("AWS_PROFILE");
        std::env::remove_var("AWS_ENDPOINT_URL");
    });
}

/// The environment a binary under test gets, pointed at `endpoint`.
pub fn binary_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_REGION", REGION.to_string()),
        ("AWS_ACCESS_KEY_ID", "testing".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
        ("AWS_ENDPOINT_URL", endpoint.to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
    ]
}

/// A moto server, stopped when dropped.
pub struct Moto {
    child: Child,
    pub port: u16,
}

impl Moto {
    /// Starts `moto_server` on a free loopback port and waits until it
    /// answers. Panics, saying how to install it, when it is missing.
    pub fn start() -> Moto {
        let found = std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("moto_server"))
                .find(|candidate| candidate.is_file())
        });
        let Some(program) = found else {
            panic!(
                "moto_server is not on PATH. These tests run against moto in server mode: \
                 run `pip install 'moto[server]=={MOTO_VERSION}'` and put pip's script directory \
                 on PATH (`python3 -c \"import sysconfig; print(sysconfig.get_path('scripts'))\"`)."
            )
        };
        let port = free_port();
        let child = Command::new(program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let moto = Moto { child, port };
        let started = Instant::now();
        loop {
            if let Ok((status, _)) = raw(port, "GET", "/moto-api/reset-auth", "s3", &[], b"") {
                if status > 0 {
                    break;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto_server did not answer on port {port} within 60 s"
            );
            thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn create_bucket(&self, bucket: &str) {
        let (status, body) = raw(self.port, "PUT", &format!("/{bucket}"), "s3", &[], b"").unwrap();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    }

    /// Every object of `bucket`, by key, in key order.
    pub fn objects(&self, bucket: &str) -> Vec<(String, Vec<u8>)> {
        let (status, body) = raw(
            self.port,
            "GET",
            &format!("/{bucket}?list-type=2&max-keys=10000"),
            "s3",
            &[],
            b"",
        )
        .unwrap();
        assert_eq!(status, 200);
        let listing = String::from_utf8(body).unwrap();
        let mut keys: Vec<String> = listing
            .split("<Key>")
            .skip(1)
            .filter_map(|s| s.split_once("</Key>").map(|(k, _)| k.replace("&amp;", "&")))
            .collect();
        keys.sort();
        keys.into_iter()
            .map(|key| {
                let (status, body) = raw(
                    self.port,
                    "GET",
                    &format!("/{bucket}/{key}"),
                    "s3",
                    &[],
                    b"",
                )
                .unwrap();
                assert_eq!(status, 200);
                (key, body)
            })
            .collect()
    }

    /// A JSON-protocol call (`Firehose_20150804.CreateDeliveryStream`, ...).
    pub fn call(&self, service: &str, target: &str, body: Value) -> Value {
        let headers = [
            ("X-Amz-Target", target.to_string()),
            ("Content-Type", "application/x-amz-json-1.1".to_string()),
        ];
        let (status, answer) = raw(
            self.port,
            "POST",
            "/",
            service,
            &headers,
            body.to_string().as_bytes(),
        )
        .unwrap();
        let answer: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
        assert_eq!(status, 200, "{target}: {answer}");
        answer
    }

    /// A delivery stream writing to a new bucket of the same name.
    pub fn delivery_stream(&self, name: &str) {
        self.create_bucket(name);
        self.call(
            "firehose",
            "Firehose_20150804.CreateDeliveryStream",
            json!({
                "DeliveryStreamName": name,
                "DeliveryStreamType": "DirectPut",
                "ExtendedS3DestinationConfiguration": {
                    "BucketARN": format!("arn:aws:s3:::{name}"),
                    "RoleARN": format!("arn:aws:iam::{ACCOUNT}:role/firehose"),
                },
            }),
        );
    }

    /// Everything the delivery stream delivered, in object order, each
    /// object's bytes (moto writes one object per `PutRecordBatch`).
    pub fn delivered(&self, name: &str) -> Vec<u8> {
        self.objects(name)
            .into_iter()
            .flat_map(|(_, body)| body)
            .collect()
    }

    pub fn kinesis_stream(&self, name: &str) {
        self.call(
            "kinesis",
            "Kinesis_20131202.CreateStream",
            json!({"StreamName": name, "ShardCount": 1}),
        );
    }

    /// Every record of a one-shard stream: (data, partition key).
    pub fn kinesis_records(&self, name: &str) -> Vec<(Vec<u8>, String)> {
        let shards = self.call(
            "kinesis",
            "Kinesis_20131202.ListShards",
            json!({"StreamName": name}),
        );
        let shard = shards["Shards"][0]["ShardId"].as_str().unwrap().to_string();
        let iterator = self.call(
            "kinesis",
            "Kinesis_20131202.GetShardIterator",
            json!({"StreamName": name, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}),
        );
        let mut iterator = iterator["ShardIterator"].as_str().unwrap().to_string();
        let mut records = Vec::new();
        loop {
            let page = self.call(
                "kinesis",
                "Kinesis_20131202.GetRecords",
                json!({"ShardIterator": iterator, "Limit": 10000}),
            );
            let batch = page["Records"].as_array().unwrap();
            if batch.is_empty() {
                return records;
            }
            for record in batch {
                records.push((
                    STANDARD.decode(record["Data"].as_str().unwrap()).unwrap(),
                    record["PartitionKey"].as_str().unwrap().to_string(),
                ));
            }
            iterator = page["NextShardIterator"].as_str().unwrap().to_string();
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 request on a new connection; (status, body).
pub fn raw(
    port: u16,
    method: &str,
    path: &str,
    service: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/{service}/aws4_request, SignedHeaders=host, Signature=0\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    stream.write_all(body)?;
    let mut reader = BufReader::new(stream);
    let message = read_message(&mut reader, true)?.ok_or(ErrorKind::UnexpectedEof)?;
    let status = message
        .start
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, message.body))
}

/// An HTTP/1.1 message: start line, headers, body.
#[derive(Debug, Clone)]
pub struct Message {
    pub start: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Message {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn write_to(&self, out: &mut impl Write, connection: &str) -> std::io::Result<()> {
        let mut head = format!("{}\r\n", self.start);
        for (name, value) in &self.headers {
            if ["content-length", "connection", "transfer-encoding"]
                .contains(&name.to_ascii_lowercase().as_str())
            {
                continue;
            }
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nConnection: {connection}\r\n\r\n",
            self.body.len()
        ));
        out.write_all(head.as_bytes())?;
        out.write_all(&self.body)?;
        out.flush()
    }
}

/// Reads one message; `None` at a clean end of the connection. A response
/// without a length is read to the end (`to_eof`).
pub fn read_message(reader: &mut impl BufRead, to_eof: bool) -> std::io::Result<Option<Message>> {
    let mut start = String::new();
    if reader.read_line(&mut start)? == 0 {
        return Ok(None);
    }
    let start = start.trim_end().to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    let mut message = Message {
        start,
        headers,
        body: Vec::new(),
    };
    if let Some(length) = message
        .header("content-length")
        .and_then(|l| l.parse::<usize>().ok())
    {
        message.body = vec![0; length];
        reader.read_exact(&mut message.body)?;
    } else if message
        .header("transfer-encoding")
        .is_some_and(|t| t.contains("chunked"))
    {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            message.body.extend_from_slice(&chunk[..size]);
        }
    } else if to_eof {
        reader.read_to_end(&mut message.body)?;
    }
    Ok(Some(message))
}

/// What the proxy does wrong, on purpose.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Share of Firehose/Kinesis entries answered throttled (not forwarded).
    pub throttle: f64,
    /// Entries holding this are always throttled.
    pub poison: Option<Vec<u8>>,
    /// Share of calls whose connection is closed before forwarding.
    pub drop_before: f64,
    /// Numbers (0-based, of write calls) whose answer is lost after moto applied them.
    pub lose_answer_of: Vec<usize>,
    /// Share of BatchGetItem keys answered as UnprocessedKeys.
    pub unprocessed: f64,
}

/// What the proxy saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// Each write call's entries (decoded data), in order.
    pub write_calls: Vec<Vec<Vec<u8>>>,
    pub throttled: usize,
    pub dropped_before: usize,
    /// The entries of the calls whose answer was lost.
    pub lost: Vec<Vec<Vec<u8>>>,
    /// Keys in each BatchGetItem call.
    pub batch_get_keys: Vec<usize>,
    pub unprocessed: usize,
}

/// A fault-injecting proxy to moto on a loopback port, running until the
/// test ends.
pub struct Proxy {
    pub port: u16,
    pub seen: Arc<Mutex<Seen>>,
}

impl Proxy {
    pub fn start(upstream: u16, faults: Faults) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let state = Arc::new(Mutex::new((faults, 0x2545_f491_4f6c_dd1du64)));
        let shared = seen.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (seen, state) = (shared.clone(), state.clone());
                thread::spawn(move || {
                    let _ = serve(client, upstream, &seen, &state);
                });
            }
        });
        Proxy { port, seen }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn chance(state: &Mutex<(Faults, u64)>, share: f64) -> bool {
    let mut guard = state.lock().unwrap();
    let x = &mut guard.1;
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    ((*x >> 11) as f64 / (1u64 << 53) as f64) < share
}

fn serve(
    client: TcpStream,
    upstream: u16,
    seen: &Mutex<Seen>,
    state: &Mutex<(Faults, u64)>,
) -> std::io::Result<()> {
    let mut writer = client.try_clone()?;
    let mut reader = BufReader::new(client);
    while let Some(request) = read_message(&mut reader, false)? {
        let faults = state.lock().unwrap().0.clone();
        let target = request.header("x-amz-target").unwrap_or("").to_string();
        let action = target.split('.').nth(1).unwrap_or("");
        let is_write = action == "PutRecordBatch" || action == "PutRecords";
        if (is_write || action == "BatchGetItem") && chance(state, faults.drop_before) {
            seen.lock().unwrap().dropped_before += 1;
            let _ = writer.shutdown(Shutdown::Both);
            return Ok(());
        }
        let response = if is_write {
            write_call(&request, upstream, seen, state, &faults)?
        } else if action == "BatchGetItem" {
            batch_get(&request, upstream, seen, state, &faults)?
        } else {
            Some(forward(&request, upstream)?)
        };
        match response {
            Some(response) => response.write_to(&mut writer, "keep-alive")?,
            None => {
                let _ = writer.shutdown(Shutdown::Both);
                return Ok(());
            }
        }
    }
    Ok(())
}

fn forward(request: &Message, upstream: u16) -> std::io::Result<Message> {
    let mut stream = TcpStream::connect(("127.0.0.1", upstream))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    request.write_to(&mut stream, "close")?;
    let mut reader = BufReader::new(stream);
    read_message(&mut reader, true)?.ok_or_else(|| ErrorKind::UnexpectedEof.into())
}

fn with_body(request: &Message, body: &Value) -> Message {
    Message {
        body: body.to_string().into_bytes(),
        ..request.clone()
    }
}

/// PutRecordBatch / PutRecords: throttled entries are answered with an
/// error and never reach moto; the rest go through. `None` loses the answer.
fn write_call(
    request: &Message,
    upstream: u16,
    seen: &Mutex<Seen>,
    state: &Mutex<(Faults, u64)>,
    faults: &Faults,
) -> std::io::Result<Option<Message>> {
    let body: Value = serde_json::from_slice(&request.body)
        .unwrap_or_else(|e| panic!("the proxy reads JSON-protocol bodies only: {e}"));
    let kinesis = body.get("StreamName").is_some() || body.get("StreamARN").is_some();
    let records = body["Records"].as_array().cloned().unwrap_or_default();
    let data: Vec<Vec<u8>> = records
        .iter()
        .map(|r| STANDARD.decode(r["Data"].as_str().unwrap_or("")).unwrap())
        .collect();
    let call = {
        let mut seen = seen.lock().unwrap();
        seen.write_calls.push(data.clone());
        seen.write_calls.len() - 1
    };
    let throttled: Vec<bool> = data
        .iter()
        .map(|d| {
            let poisoned = faults
                .poison
                .as_ref()
                .is_some_and(|p| d.windows(p.len()).any(|w| w == p.as_slice()));
            poisoned || chance(state, faults.throttle)
        })
        .collect();
    let passed: Vec<Value> = records
        .iter()
        .zip(&throttled)
        .filter(|(_, t)| !**t)
        .map(|(r, _)| r.clone())
        .collect();
    let mut upstream_answers = Vec::new();
    let mut template = None;
    if !passed.is_empty() {
        let mut forwarded = body.clone();
        forwarded["Records"] = Value::Array(passed);
        let response = forward(&with_body(request, &forwarded), upstream)?;
        let answer: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        let key = if kinesis {
            "Records"
        } else {
            "RequestResponses"
        };
        match answer[key].as_array() {
            Some(answers) => upstream_answers = answers.clone(),
            // An error from moto: pass it on as it is.
            None => return Ok(Some(response)),
        }
        template = Some(response);
    }
    if faults.lose_answer_of.contains(&call) {
        seen.lock().unwrap().lost.push(
            data.iter()
                .zip(&throttled)
                .filter(|(_, t)| !**t)
                .map(|(d, _)| d.clone())
                .collect(),
        );
        return Ok(None);
    }
    let mut answers = upstream_answers.into_iter();
    let mut merged = Vec::new();
    let mut failed = 0;
    for &t in &throttled {
        if t {
            failed += 1;
            merged.push(if kinesis {
                json!({"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded for shard (fault injected)"})
            } else {
                json!({"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down (fault injected)"})
            });
        } else {
            merged.push(answers.next().unwrap_or(Value::Null));
        }
    }
    seen.lock().unwrap().throttled += failed;
    let answer = if kinesis {
        json!({"FailedRecordCount": failed, "Records": merged})
    } else {
        json!({"FailedPutCount": failed, "Encrypted": false, "RequestResponses": merged})
    };
    let response = template.unwrap_or_else(|| Message {
        start: "HTTP/1.1 200 OK".to_string(),
        headers: vec![(
            "Content-Type".to_string(),
            "application/x-amz-json-1.1".to_string(),
        )],
        body: Vec::new(),
    });
    Ok(Some(Message {
        body: answer.to_string().into_bytes(),
        ..response
    }))
}

/// BatchGetItem: a share of keys is held back and answered as UnprocessedKeys.
fn batch_get(
    request: &Message,
    upstream: u16,
    seen: &Mutex<Seen>,
    state: &Mutex<(Faults, u64)>,
    faults: &Faults,
) -> std::io::Result<Option<Message>> {
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    let items = body["RequestItems"].as_object().unwrap().clone();
    let mut forwarded = body.clone();
    let mut unprocessed = serde_json::Map::new();
    let mut total = 0;
    for (table, spec) in &items {
        let keys = spec["Keys"].as_array().unwrap();
        total += keys.len();
        let (held, sent): (Vec<Value>, Vec<Value>) = keys
            .iter()
            .cloned()
            .partition(|_| chance(state, faults.unprocessed));
        let mut sent_spec = spec.clone();
        sent_spec["Keys"] = Value::Array(sent);
        forwarded["RequestItems"][table] = sent_spec;
        if !held.is_empty() {
            let mut held_spec = spec.clone();
            held_spec["Keys"] = Value::Array(held.clone());
            unprocessed.insert(table.clone(), held_spec);
            seen.lock().unwrap().unprocessed += held.len();
        }
    }
    seen.lock().unwrap().batch_get_keys.push(total);
    let response = forward(&with_body(request, &forwarded), upstream)?;
    if unprocessed.is_empty() {
        return Ok(Some(response));
    }
    let mut answer: Value = serde_json::from_slice(&response.body).unwrap();
    if answer.get("Responses").is_none() {
        return Ok(Some(response));
    }
    answer["UnprocessedKeys"] = Value::Object(unprocessed);
    Ok(Some(Message {
        body: answer.to_string().into_bytes(),
        ..response
    }))
}

/// Records of a delivered byte stream, split after each `\n`.
pub fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes
        .split_inclusive(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

/// Counts of each item (a multiset), to compare deliveries.
pub fn counts<T: std::hash::Hash + Eq + Clone>(items: &[T]) -> HashMap<T, usize> {
    let mut map = HashMap::new();
    for item in items {
        *map.entry(item.clone()).or_insert(0) += 1;
    }
    map
}
