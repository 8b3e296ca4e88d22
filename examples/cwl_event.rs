//! A Firehose event of gzip CloudWatch Logs subscription records, 50 log
//! events each, messages from the Apache fixture: the benchmark's input.
//! `cargo run --release --example cwl_event > /tmp/cwl.json` (about 3 MB).

use firehose_transform::formats::cloudwatch_logs::{encode, Envelope, LogEvent, MessageType};
use std::borrow::Cow;

const LOG: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/apache/apache_combined_10k.log"
));

/// The event's JSON and its records' bytes, records added until the event
/// reaches `size` bytes.
pub fn event(size: usize) -> (Vec<u8>, Vec<Vec<u8>>) {
    let lines: Vec<&str> = LOG.lines().collect();
    let mut records = Vec::new();
    let mut json = String::from("{\"invocationId\":\"bench\",\"deliveryStreamArn\":\"arn:aws:firehose:us-east-1:123456789012:deliverystream/cwl\",\"region\":\"us-east-1\",\"records\":[");
    let mut n = 0usize;
    while json.len() < size {
        let events: Vec<LogEvent> = (0..50)
            .map(|i| {
                let k = n * 50 + i;
                LogEvent {
                    id: Cow::Owned(format!("{:056}", 37_000_000_000u64 + k as u64)),
                    timestamp: 1_796_198_400_000 + k as i64,
                    message: Cow::Borrowed(lines[k % lines.len()]),
                }
            })
            .collect();
        let envelope = Envelope {
            message_type: MessageType::Data,
            owner: "123456789012".into(),
            log_group: "/aws/ec2/web".into(),
            log_stream: format!("i-0{:016x}", n % 8).into(),
            subscription_filters: vec!["to-firehose".into()],
            log_events: Vec::new(),
        };
        let record = encode(&envelope, &events);
        if n > 0 {
            json.push(',');
        }
        json.push_str(&format!(
            "{{\"recordId\":\"{:056}\",\"approximateArrivalTimestamp\":1796198400000,\"data\":\"{}\"}}",
            n,
            base64_encode(&record)
        ));
        records.push(record);
        n += 1;
    }
    json.push_str("]}");
    (json.into_bytes(), records)
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[allow(dead_code)]
fn main() {
    let (json, _) = event(
        std::env::args()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(3_000_000),
    );
    use std::io::Write;
    std::io::stdout().write_all(&json).unwrap();
}
