//! [`run`] and [`run_with`]: one call from `main` to a working function, on
//! Lambda or locally.
//!
//! On Lambda (`AWS_LAMBDA_RUNTIME_API` set) the transform is served through
//! `lambda_runtime`; each invocation logs one summary line and, unless
//! `FIREHOSE_METRICS=false`, one CloudWatch EMF metrics line.
//!
//! Anywhere else the same binary runs in **local mode**:
//!
//! ```text
//! BIN --event FILE [--decode]       a Firehose event (JSON) in, the response JSON out
//! BIN --lines FILE [--decode] [--batch-bytes N]
//!                                   one record per line (LF or CRLF), in Firehose-sized
//!                                   batches (default 1 MiB of records), one response a line
//! BIN --json FILE [--decode] [--batch-bytes N]
//!                                   the same with one record per JSON value
//! BIN --make-event (--lines FILE | --json FILE) [--source S] [--fill-bytes N]
//!                                   no processing: the event those records make, for
//!                                   fixtures and `cargo lambda invoke --data-file`
//! ```
//!
//! `FILE` may be `-` for standard input. `--decode` prints each output record
//! decoded, one per line with its result, instead of response JSON. Standard
//! output carries the responses alone; the summary, the logs and (with
//! `FIREHOSE_METRICS=true`) the EMF metrics line go to standard error. The
//! exit status is 0 whenever a response was produced (failed records
//! included), and for input with no records at all (said on standard error);
//! 1 with one line on standard error when the input cannot be read or is not
//! an event; 2 for bad arguments or settings.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::process::ExitCode;
use std::time::Instant;

use lambda_runtime::tracing;

use crate::codec;
use crate::config::{ConfigError, Settings};
use crate::engine::{
    Engine, EngineConfig, Invocation, InvocationError, ABORT_WARNING, ISOLATES_PANICS,
};
use crate::event::{Event, EventRecord, SharedEvent, SourceKind};
use crate::response::RecordResult;
use crate::telemetry::{now_ms, LogConfig, MetricsConfig, Summary};
use crate::testing::{json_values, EventBuilder};
use crate::transform::Transform;

mod allocator;
pub(crate) mod lambda;
mod mapped;

pub use allocator::keep_freed_memory;
pub(crate) use allocator::populate_spare_capacity;

/// Firehose's default processor buffer size: the batch size of `--lines`.
pub const DEFAULT_BATCH_BYTES: usize = 1024 * 1024;

/// Serves `transform`: on Lambda when `AWS_LAMBDA_RUNTIME_API` is set, in
/// local mode otherwise. Returns the process's exit code.
///
/// ```no_run
/// use firehose_transform::{Context, Failure, Output, Record, Transform};
///
/// struct Passthrough;
/// impl Transform for Passthrough {
///     type Item<'a> = &'a [u8];
///     fn parse<'a>(&self, record: &Record<'a>, _: &mut Context) -> Result<&'a [u8], Failure> {
///         Ok(record.data)
///     }
///     fn convert(&self, data: &[u8], out: &mut Output, _cx: &mut Context) -> Result<(), Failure> {
///         out.write(data);
///         Ok(())
///     }
/// }
///
/// fn main() -> std::process::ExitCode {
///     firehose_transform::run(Passthrough)
/// }
/// ```
pub fn run<T: Transform>(transform: T) -> ExitCode {
    run_with(move |_: &Settings| Ok(transform))
}

/// Like [`run`], building the transform from settings first: once per
/// execution environment, before the first invocation. A bad setting (the
/// transform's or the engine's) stops the process with one line on standard
/// error naming the variable and the problem, and exit status 2.
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     firehose_transform::run_with(firehose_transform::blueprints::process_record::ProcessRecord::from_settings)
/// }
/// ```
pub fn run_with<T, F>(init: F) -> ExitCode
where
    T: Transform,
    F: FnOnce(&Settings) -> Result<T, ConfigError>,
{
    let program = program_name();
    let on_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let local_args = if on_lambda {
        None
    } else {
        match LocalArgs::parse(std::env::args_os().skip(1)) {
            Ok(args) => Some(args),
            Err(ArgsError::Help) => {
                println!("{}", usage(&program));
                return ExitCode::SUCCESS;
            }
            Err(ArgsError::Bad(problem)) => {
                eprintln!("{program}: {problem}\n\n{}", usage(&program));
                return ExitCode::from(2);
            }
        }
    };
    if let Some(args) = local_args.as_ref().filter(|args| args.make_event) {
        // Only the records are needed: no settings, no transform.
        return make_event(args, &program);
    }

    let settings = Settings::from_env();
    match LogConfig::from_settings(&settings) {
        Ok(logs) if on_lambda => logs.init(io::stdout),
        // Standard output carries the responses; logs go to standard error.
        Ok(logs) => logs.init(io::stderr),
        Err(error) => {
            eprintln!("{program}: configuration error: {error}");
            return ExitCode::from(2);
        }
    }
    if !ISOLATES_PANICS {
        tracing::warn!("{ABORT_WARNING}");
    }
    let configured = EngineConfig::from_settings(&settings).and_then(|engine_config| {
        // Metrics are for CloudWatch: off locally unless asked for.
        let metrics = MetricsConfig::from_settings(&settings, on_lambda)?;
        let overflow = Overflow::from_settings(&settings)?;
        Ok((engine_config, metrics, overflow, init(&settings)?))
    });
    let (engine_config, metrics, overflow, transform) = match configured {
        Ok(parts) => parts,
        Err(error) => {
            eprintln!("{program}: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    for warning in engine_config.warnings() {
        tracing::warn!("{warning}");
    }
    let engine = Served {
        engine: Engine::with_config(transform, engine_config),
        overflow,
    };
    match local_args {
        None => lambda::serve(&engine, &metrics, &program),
        Some(args) => run_local(&engine, &metrics, &args, &program),
    }
}

/// What happens to records that do not fit the response: with the `aws`
/// feature and `REINGEST` set, they are re-ingested; otherwise they fail.
#[derive(Debug)]
struct Overflow {
    #[cfg(feature = "aws")]
    reingest: Option<crate::aws::reingest::Reingest>,
}

impl Overflow {
    fn from_settings(settings: &Settings) -> Result<Overflow, ConfigError> {
        #[cfg(feature = "aws")]
        {
            Ok(Overflow {
                reingest: crate::aws::reingest::Reingest::from_settings(settings)?,
            })
        }
        #[cfg(not(feature = "aws"))]
        match settings.get("REINGEST") {
            Some(_) => Err(ConfigError::new(
                "REINGEST",
                "re-ingestion needs a binary built with the `aws` feature (cargo build --features aws)",
            )),
            None => Ok(Overflow {}),
        }
    }
}

/// The engine and what runs after it on each batch.
struct Served<T> {
    engine: Engine<T>,
    overflow: Overflow,
}

impl<T: Transform> Served<T> {
    fn process(
        &self,
        event: &SharedEvent,
        deadline: Option<Instant>,
    ) -> Result<Invocation, InvocationError> {
        #[allow(unused_mut)]
        let mut invocation = self.engine.process_shared(event, deadline)?;
        #[cfg(feature = "aws")]
        if let Some(reingest) = &self.overflow.reingest {
            reingest.apply(&self.engine, event.get(), &mut invocation, deadline);
        }
        #[cfg(not(feature = "aws"))]
        let _ = &self.overflow;
        Ok(invocation)
    }
}

fn program_name() -> String {
    std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "firehose-transform".to_string())
}

fn usage(program: &str) -> String {
    format!(
        "usage: {program} --event FILE [--decode]\n       \
         {program} (--lines FILE | --json FILE) [--decode] [--batch-bytes N]\n       \
         {program} --make-event (--lines FILE | --json FILE) [--source direct-put|kinesis|msk] [--fill-bytes N]\n\
         FILE may be - for standard input. Without AWS_LAMBDA_RUNTIME_API set, the function runs\n\
         locally: --event processes one Firehose event (JSON) and prints the response JSON;\n\
         --lines makes one record of each line (--json: of each JSON value) and prints one\n\
         response per batch of N bytes of records (default {DEFAULT_BATCH_BYTES}, Firehose's default\n\
         buffer). --decode prints each output record decoded, with its result, instead.\n\
         --make-event prints the Firehose event those records make, without processing it;\n\
         --fill-bytes repeats them until the event is N bytes (a full-size batch)."
    )
}

/// Where the EMF metrics line goes: standard output on Lambda, where the
/// log stream is; standard error locally, where standard output is the
/// response alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MetricsTo {
    Stdout,
    Stderr,
}

fn log_invocation(
    summary: &Summary,
    metrics: &MetricsConfig,
    metrics_to: MetricsTo,
    failures: &[crate::engine::RecordFailure],
    event: &Event<'_>,
) {
    // Per-record reasons for the first few failures: Firehose's error records
    // never say why, so this is where an operator finds out.
    const LOGGED_FAILURES: usize = 10;
    for failed in failures.iter().take(LOGGED_FAILURES) {
        let record_id = event.records.get(failed.index).map_or("", |r| &r.record_id);
        tracing::warn!(
            record_id,
            reason = failed.failure.reason(),
            detail = failed.failure.detail().unwrap_or(""),
            "record failed"
        );
    }
    summary.log();
    if metrics.enabled {
        let line = metrics.emf_line(summary, now_ms());
        // EMF must be a line of its own on the log stream, outside any log
        // formatting, so it is printed directly rather than through tracing.
        let _ = match metrics_to {
            MetricsTo::Stdout => writeln!(io::stdout().lock(), "{line}"),
            MetricsTo::Stderr => writeln!(io::stderr().lock(), "{line}"),
        };
    }
}

/// Local mode's arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LocalArgs {
    input: Input,
    path: OsString,
    decode: bool,
    batch_bytes: usize,
    make_event: bool,
    source: SourceKind,
    fill_bytes: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Input {
    Event,
    Lines,
    Json,
}

/// Why local mode's arguments were not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ArgsError {
    Help,
    Bad(String),
}

impl From<String> for ArgsError {
    fn from(problem: String) -> Self {
        ArgsError::Bad(problem)
    }
}

impl From<&str> for ArgsError {
    fn from(problem: &str) -> Self {
        ArgsError::Bad(problem.to_string())
    }
}

impl LocalArgs {
    fn parse(args: impl IntoIterator<Item = OsString>) -> Result<LocalArgs, ArgsError> {
        let mut input = None;
        let mut decode = false;
        let mut batch_bytes = DEFAULT_BATCH_BYTES;
        let mut make_event = false;
        let mut source = SourceKind::DirectPut;
        let mut fill_bytes = None;
        let mut args = args.into_iter();
        let bytes = |flag: &str, value: Option<OsString>| -> Result<usize, ArgsError> {
            let value = value.ok_or_else(|| format!("{flag} needs a number of bytes"))?;
            value
                .to_str()
                .and_then(|v| v.parse().ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    format!("{flag}: {value:?} is not a positive number of bytes").into()
                })
        };
        while let Some(arg) = args.next() {
            match arg.to_str() {
                Some(flag @ ("--event" | "--lines" | "--json")) => {
                    let path = args
                        .next()
                        .ok_or_else(|| format!("{flag} needs a file (or - for standard input)"))?;
                    if input.is_some() {
                        return Err("give one of --event, --lines and --json, once".into());
                    }
                    let kind = match flag {
                        "--event" => Input::Event,
                        "--lines" => Input::Lines,
                        _ => Input::Json,
                    };
                    input = Some((kind, path));
                }
                Some("--decode") => decode = true,
                Some("--batch-bytes") => batch_bytes = bytes("--batch-bytes", args.next())?,
                Some("--make-event") => make_event = true,
                Some("--fill-bytes") => fill_bytes = Some(bytes("--fill-bytes", args.next())?),
                Some("--source") => {
                    source = match args.next().as_ref().and_then(|s| s.to_str()) {
                        Some("direct-put") => SourceKind::DirectPut,
                        Some("kinesis") => SourceKind::Kinesis,
                        Some("msk") => SourceKind::Msk,
                        _ => return Err("--source is direct-put, kinesis or msk".into()),
                    }
                }
                Some("-h" | "--help") => return Err(ArgsError::Help),
                _ => return Err(format!("unexpected argument {arg:?}").into()),
            }
        }
        let (input, path) = input.ok_or("give --event FILE, --lines FILE or --json FILE (this is local mode: AWS_LAMBDA_RUNTIME_API is not set)")?;
        if make_event && (input == Input::Event || decode) {
            return Err(
                "--make-event takes --lines FILE or --json FILE, and prints an event (no --decode)"
                    .into(),
            );
        }
        if !make_event && (fill_bytes.is_some() || source != SourceKind::DirectPut) {
            return Err("--fill-bytes and --source go with --make-event".into());
        }
        Ok(LocalArgs {
            input,
            path,
            decode,
            batch_bytes,
            make_event,
            source,
            fill_bytes,
        })
    }

    fn display_path(&self) -> String {
        if self.path == "-" {
            "standard input".to_string()
        } else {
            self.path.to_string_lossy().into_owned()
        }
    }

    fn open(&self) -> io::Result<Box<dyn Read>> {
        if self.path == "-" {
            Ok(Box::new(io::stdin().lock()))
        } else {
            Ok(Box::new(File::open(&self.path)?))
        }
    }
}

fn run_local<T: Transform>(
    engine: &Served<T>,
    metrics: &MetricsConfig,
    args: &LocalArgs,
    program: &str,
) -> ExitCode {
    let shown = args.display_path();
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let result = match args.input {
        Input::Event => local_event(engine, metrics, args, &mut out),
        Input::Lines | Input::Json => local_records(engine, metrics, args, &mut out).map(|n| {
            if n == 0 {
                eprintln!("{program}: {shown} holds no records: nothing to process, no response");
            }
        }),
    };
    match result.and_then(|()| out.flush().map_err(LocalError::Output)) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`| head`) is the reader's choice, not a failure.
        Err(LocalError::Output(error)) if error.kind() == io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{program}: {}", error.describe(&shown));
            ExitCode::FAILURE
        }
    }
}

enum LocalError {
    Input(io::Error),
    Output(io::Error),
    Invocation(InvocationError),
    Json(String),
}

impl LocalError {
    fn describe(&self, path: &str) -> String {
        match self {
            LocalError::Input(error) => format!("cannot read {path}: {error}"),
            LocalError::Output(error) => format!("cannot write the response: {error}"),
            LocalError::Invocation(error) => format!("{path}: {error}"),
            LocalError::Json(error) => format!("{path}: not JSON values: {error}"),
        }
    }
}

/// The records of `--lines` (one per line, without its LF or CRLF) or
/// `--json` (one per JSON value, compacted), read as they are needed.
enum Records {
    Lines(BufReader<Box<dyn Read>>),
    Json(std::vec::IntoIter<String>),
}

impl Records {
    fn open(args: &LocalArgs) -> Result<Records, LocalError> {
        let input = args.open().map_err(LocalError::Input)?;
        match args.input {
            Input::Json => {
                let mut text = String::new();
                BufReader::new(input)
                    .read_to_string(&mut text)
                    .map_err(LocalError::Input)?;
                let values = json_values(&text).map_err(LocalError::Json)?;
                Ok(Records::Json(values.into_iter()))
            }
            _ => Ok(Records::Lines(BufReader::with_capacity(1 << 16, input))),
        }
    }

    /// The prefix of the ids local mode gives records.
    fn id_prefix(&self) -> &'static str {
        match self {
            Records::Lines(_) => "line",
            Records::Json(_) => "value",
        }
    }

    fn next_record(&mut self) -> Result<Option<Vec<u8>>, LocalError> {
        match self {
            Records::Json(values) => Ok(values.next().map(String::into_bytes)),
            Records::Lines(reader) => {
                let mut line = Vec::new();
                if reader
                    .read_until(b'\n', &mut line)
                    .map_err(LocalError::Input)?
                    == 0
                {
                    return Ok(None);
                }
                if line.last() == Some(&b'\n') {
                    line.pop();
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                }
                Ok(Some(line))
            }
        }
    }
}

/// `--make-event`: the event the records make, on standard output.
fn make_event(args: &LocalArgs, program: &str) -> ExitCode {
    let shown = args.display_path();
    let mut records = Vec::new();
    let read = Records::open(args).and_then(|mut source| {
        while let Some(record) = source.next_record()? {
            records.push(record);
        }
        Ok(())
    });
    if let Err(error) = read {
        eprintln!("{program}: {}", error.describe(&shown));
        return ExitCode::FAILURE;
    }
    if records.is_empty() {
        eprintln!("{program}: {shown} holds no records: no event made");
        return ExitCode::FAILURE;
    }
    let builder = EventBuilder::new()
        .source(args.source)
        .arrival(now_ms() as i64);
    let builder = match args.fill_bytes {
        Some(max) => builder.fill_to(&records, max),
        None => builder.lines(&records),
    };
    let mut json = builder.to_json();
    let count = Event::from_slice(&json).map_or(0, |event| event.records.len());
    json.push(b'\n');
    let mut out = io::stdout().lock();
    if let Err(error) = out.write_all(&json).and_then(|()| out.flush()) {
        if error.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("{program}: cannot write the event: {error}");
            return ExitCode::FAILURE;
        }
    }
    eprintln!(
        "{program}: an event of {count} records, {} bytes",
        json.len() - 1
    );
    // Lambda refuses a synchronous request over 6 MB.
    const REQUEST_LIMIT: usize = 6 * 1024 * 1024;
    if json.len() - 1 > REQUEST_LIMIT {
        eprintln!(
            "{program}: note: that is over Lambda's {REQUEST_LIMIT}-byte request limit; Firehose never sends one so large"
        );
    }
    ExitCode::SUCCESS
}

fn local_event<T: Transform>(
    engine: &Served<T>,
    metrics: &MetricsConfig,
    args: &LocalArgs,
    out: &mut impl Write,
) -> Result<(), LocalError> {
    // A file is mapped, not copied (see `mapped`); standard input is read
    // into a buffer that grows as it comes.
    let json: bytes::Bytes = if args.path == "-" {
        let mut json = Vec::new();
        io::stdin()
            .lock()
            .read_to_end(&mut json)
            .map(|_| json.into())
    } else {
        mapped::read(&args.path)
    }
    .map_err(LocalError::Input)?;
    let event = engine
        .engine
        .parse_event(json)
        .map_err(|e| LocalError::Invocation(e.into()))?;
    let invocation = process_locally(engine, metrics, &event)?;
    emit(&invocation, args.decode, out).map_err(LocalError::Output)
}

/// `--lines` and `--json`: the records in Firehose-sized batches. Returns
/// how many records there were.
fn local_records<T: Transform>(
    engine: &Served<T>,
    metrics: &MetricsConfig,
    args: &LocalArgs,
    out: &mut impl Write,
) -> Result<usize, LocalError> {
    let mut source = Records::open(args)?;
    let prefix = source.id_prefix();
    let mut total = Summary::new("local");
    let mut batches = 0usize;
    let mut count = 0usize;
    let mut pending: Option<Vec<u8>> = None;
    loop {
        // One batch: records until the next would pass the batch size (a
        // record longer than the batch goes alone), as Firehose fills its buffer.
        let mut event = Event {
            invocation_id: format!("local-{}", batches + 1).into(),
            ..Event::default()
        };
        let mut batch_bytes = 0usize;
        let arrival = now_ms() as i64;
        loop {
            let next = match pending.take() {
                Some(held) => held,
                None => match source.next_record()? {
                    Some(record) => record,
                    None => break,
                },
            };
            if !event.records.is_empty() && batch_bytes + next.len() > args.batch_bytes {
                pending = Some(next);
                break;
            }
            count += 1;
            batch_bytes += next.len();
            event.records.push(EventRecord {
                record_id: format!("{prefix}-{count}").into(),
                approximate_arrival_timestamp: Some(arrival),
                data: Some(codec::encode(&next).into()),
                ..EventRecord::default()
            });
        }
        if event.records.is_empty() {
            break;
        }
        batches += 1;
        let invocation = process_locally(engine, metrics, &SharedEvent::from(event))?;
        total.merge(&invocation.summary);
        emit(&invocation, args.decode, out).map_err(LocalError::Output)?;
    }
    if batches > 1 {
        tracing::info!(batches, records = count, totals = %total.to_json(), "all batches");
    }
    Ok(count)
}

/// One local batch: processed, logged as on Lambda (to standard error).
/// Locally the process goes on after a batch that left a thread in the
/// transform (the engine starts another for the next), but says so.
fn process_locally<T: Transform>(
    engine: &Served<T>,
    metrics: &MetricsConfig,
    event: &SharedEvent,
) -> Result<Invocation, LocalError> {
    let invocation = engine
        .process(event, None)
        .map_err(LocalError::Invocation)?;
    log_invocation(
        &invocation.summary,
        metrics,
        MetricsTo::Stderr,
        &invocation.failures,
        event.get(),
    );
    if invocation.left_running {
        tracing::warn!(
            "a thread is still inside the transform (a record past the time limit, or set aside \
             after a panic while unwinding); on Lambda the process would end after this response"
        );
    }
    Ok(invocation)
}

/// Writes one invocation's output: its response JSON on one line, or with
/// `decode`, one line per record: result, id, then the output or the reason.
fn emit(invocation: &Invocation, decode: bool, out: &mut impl Write) -> io::Result<()> {
    if !decode {
        invocation.response.write_json(&mut *out)?;
        return out.write_all(b"\n");
    }
    let mut failures = invocation.failures.iter().peekable();
    let mut decoded = Vec::new();
    for (index, record) in invocation.response.records().enumerate() {
        write!(out, "{:<16} {}", record.result.as_str(), record.record_id)?;
        match record.result {
            RecordResult::Ok => {
                decoded.clear();
                if let Some(data) = record.data {
                    codec::decode_append(data, &mut decoded).map_err(io::Error::other)?;
                }
                let text = String::from_utf8_lossy(&decoded);
                // One line per record: the delimiter is implied, inner line
                // breaks are shown escaped.
                let text = text.strip_suffix('\n').unwrap_or(&text);
                write!(out, " {}", text.replace('\r', "\\r").replace('\n', "\\n"))?;
                for (key, value) in record.partition_keys {
                    write!(out, " [{key}={value}]")?;
                }
                if let Some(otf) = record.otf_metadata {
                    let field = |value: Option<&str>| value.unwrap_or("-").to_string();
                    write!(
                        out,
                        " [iceberg={}.{} {}]",
                        field(otf.database.as_deref()),
                        field(otf.table.as_deref()),
                        field(otf.operation.map(|o| o.as_str()))
                    )?;
                }
            }
            RecordResult::ProcessingFailed => {
                if let Some(failed) = failures.next_if(|f| f.index == index) {
                    write!(out, " {}", failed.failure)?;
                }
            }
            RecordResult::Dropped => {}
        }
        out.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<LocalArgs, String> {
        LocalArgs::parse(args.iter().map(OsString::from)).map_err(|e| format!("{e:?}"))
    }

    #[test]
    fn local_arguments_need_exactly_one_input() {
        assert!(parse(&[])
            .unwrap_err()
            .contains("give --event FILE, --lines FILE or --json FILE"));
        assert!(parse(&["--event", "a", "--lines", "b"])
            .unwrap_err()
            .contains("once"));
        assert!(parse(&["--event"])
            .unwrap_err()
            .contains("--event needs a file"));
        let args = parse(&["--lines", "-", "--decode", "--batch-bytes", "100"]).unwrap();
        assert_eq!(
            (args.input, args.decode, args.batch_bytes),
            (Input::Lines, true, 100)
        );
        assert!(parse(&["--lines", "x", "--batch-bytes", "0"])
            .unwrap_err()
            .contains("not a positive number"));
    }
}
