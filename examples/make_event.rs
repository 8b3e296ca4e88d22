//! Builds a Firehose event from a file of lines, for trying a blueprint or
//! measuring one on a full-size batch.
//!
//! ```text
//! cargo run --release --example make_event -- FILE [--bytes N] [--source direct-put|kinesis|msk] > event.json
//! ```
//!
//! One record per line (line breaks removed), cycling through the file until
//! the event's JSON would pass `N` bytes (default 6,000,000: a full request).

use std::io::{BufRead, BufReader, Write};
use std::process::ExitCode;

use firehose_transform::testing::EventBuilder;
use firehose_transform::SourceKind;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut path = None;
    let mut max_bytes = 6_000_000usize;
    let mut source = SourceKind::DirectPut;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bytes" => match args.next().and_then(|v| v.parse().ok()) {
                Some(n) => max_bytes = n,
                None => return usage("--bytes needs a number"),
            },
            "--source" => {
                source = match args.next().as_deref() {
                    Some("direct-put") => SourceKind::DirectPut,
                    Some("kinesis") => SourceKind::Kinesis,
                    Some("msk") => SourceKind::Msk,
                    _ => return usage("--source is direct-put, kinesis or msk"),
                }
            }
            _ if path.is_none() => path = Some(arg),
            _ => return usage(&format!("unexpected argument {arg:?}")),
        }
    }
    let Some(path) = path else {
        return usage("give a file of lines");
    };
    let lines: Vec<Vec<u8>> = match std::fs::File::open(&path) {
        Ok(file) => BufReader::new(file)
            .split(b'\n')
            .filter_map(Result::ok)
            .map(|mut line| {
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                line
            })
            .collect(),
        Err(error) => {
            eprintln!("make_event: cannot read {path}: {error}");
            return ExitCode::FAILURE;
        }
    };
    if lines.is_empty() {
        eprintln!("make_event: {path} has no lines");
        return ExitCode::FAILURE;
    }
    // Each record costs its base64 plus the JSON around it, measured on a
    // one-record event (ids all have the same length).
    let size = |builder: &EventBuilder| {
        serde_json::to_vec(&builder.clone().build()).map_or(0, |j| j.len())
    };
    let empty = EventBuilder::new().source(source);
    let framing = size(&empty);
    let per_record = size(&empty.clone().record(b"")) - framing + 1;
    let mut builder = empty;
    let mut estimate = framing;
    for line in lines.iter().cycle() {
        let cost = line.len().div_ceil(3) * 4 + per_record;
        if estimate + cost > max_bytes {
            break;
        }
        estimate += cost;
        builder = builder.record(line);
    }
    let json = serde_json::to_vec(&builder.build()).expect("an event serializes");
    eprintln!("make_event: {} bytes", json.len());
    let mut out = std::io::stdout().lock();
    if out.write_all(&json).and_then(|()| out.flush()).is_err() {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("make_event: {problem}\nusage: make_event FILE [--bytes N] [--source direct-put|kinesis|msk]");
    ExitCode::from(2)
}
