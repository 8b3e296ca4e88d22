//! Every shell command of the README, checked.
//!
//! The README's commands are extracted from it at run time: each logical line
//! of a ```` ```sh ```` block, each `$ ` prompt of a ```` ```text ```` block,
//! and each inline code span of the prose that starts with a command (`cargo`,
//! `aws`, `./target/...`, ...). Every one must be in [`COMMANDS`], either run
//! here or listed with the reason it cannot run offline; a command added to the
//! README and not listed fails `every_readme_command_is_run_or_listed`, and so
//! does a listed one the README no longer has.
//!
//! All of them must split into shell words (a small POSIX-like splitter, as
//! the shell does) and pass `sh -n`. Those that can run offline run in a
//! scratch directory, as written, with these substitutions only, each for
//! speed and stated where it is made:
//! - `cargo build --release` / `cargo run --release --bin NAME --` /
//!   `cargo run --`: the binaries `cargo test` already built (debug profile,
//!   the same code) stand in, as `target/release/NAME` and on `PATH`;
//! - `| less` becomes `| cat` (no pager in a test), `/tmp/event.json` a file of
//!   the scratch directory;
//! - a `cargo lambda build` output is the test's own binary of that name.
//!
//! The `aws` commands run with the real AWS CLI against a local listener
//! (`--endpoint-url`, fake credentials), which takes the request the CLI would
//! send AWS: so the CLI's own argument parsing is checked (its `Variables={..}`
//! shorthand breaks on a comma in a value). The environment they give a
//! function is then started locally with that binary, so a configuration the
//! README shows is one that works. The other commands that need AWS or take
//! minutes are listed with the reason, and what can be checked of them is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// The blueprint binaries a README command may name, built by `cargo test`.
const BINARIES: &[(&str, &str)] = &[
    ("process-record", env!("CARGO_BIN_EXE_process-record")),
    ("apachelog-to-json", env!("CARGO_BIN_EXE_apachelog-to-json")),
    ("apachelog-to-csv", env!("CARGO_BIN_EXE_apachelog-to-csv")),
    ("syslog-to-json", env!("CARGO_BIN_EXE_syslog-to-json")),
    ("syslog-to-csv", env!("CARGO_BIN_EXE_syslog-to-csv")),
    ("geoip-enrich", env!("CARGO_BIN_EXE_geoip-enrich")),
    ("firehose-pipeline", env!("CARGO_BIN_EXE_firehose-pipeline")),
    (
        "cloudwatch-logs-processor",
        env!("CARGO_BIN_EXE_cloudwatch-logs-processor"),
    ),
];

// ---------------------------------------------------------------------------
// The README's commands, each run or listed
// ---------------------------------------------------------------------------

/// What is done with one README command (beyond the word-split and `sh -n`
/// checks every command gets).
enum Check {
    /// Run offline by the `#[test]` of this name.
    Runs(&'static str),
    /// Cannot run offline (the reason); the `#[test]` of this name checks
    /// what can be checked without running it.
    Checked(&'static str, &'static str),
    /// Not run, for the reason given.
    Listed(&'static str),
}

const SETUP_RUN: &str = "cargo run --release --bin apachelog-to-json -- --lines fixtures/apache/apache_combined_10k.log --decode";
const SETUP_TEST: &str = "pip install cargo-lambda==1.9.2 && cargo test --all-features";

const PACKAGE_BUILD: &str = "cargo lambda build --release --bin geoip-enrich";
const PACKAGE_COPY: &str = "mkdir -p build && cp target/lambda/geoip-enrich/bootstrap GeoLite2-City.mmdb GeoLite2-ASN.mmdb build/";
const PACKAGE_ZIP: &str =
    "(cd build && zip -9 ../geoip-enrich.zip bootstrap GeoLite2-City.mmdb GeoLite2-ASN.mmdb)";

const LAYER_COPY: &str =
    "mkdir -p layer/geoip && cp GeoLite2-City.mmdb GeoLite2-ASN.mmdb layer/geoip/";
const LAYER_ZIP: &str = "(cd layer && zip -r9 ../geoip-layer.zip geoip)";
const LAYER_PUBLISH: &str = "aws lambda publish-layer-version --layer-name geoip-databases --zip-file fileb://geoip-layer.zip";
const LAYER_CONFIGURE: &str = r#"aws lambda update-function-configuration --function-name my-geoip-enrich --layers arn:aws:lambda:REGION:ACCOUNT:layer:geoip-databases:VERSION --environment '{"Variables":{"GEOIP_DATABASE":"/opt/geoip/GeoLite2-City.mmdb,/opt/geoip/GeoLite2-ASN.mmdb","GEOIP_IP_FIELD":"client.ip"}}'"#;
const DEPLOY_CONFIGURE: &str = r#"aws lambda update-function-configuration --function-name apachelog-to-json --environment '{"Variables":{"APPEND_NEWLINE":"true","GEOIP_DATABASE":"/opt/geoip/GeoLite2-City.mmdb,/opt/geoip/GeoLite2-ASN.mmdb"}}'"#;

const PIPELINE_FILTER: &str = r#"FILTER='.status >= 400 and .path != "/health"' firehose-pipeline --lines events.jsonl --decode"#;
const PIPELINE_KEYS: &str = "PARTITION_KEYS='{customer: .customer_id, year: (.ts[0:4])}' firehose-pipeline --lines events.jsonl --decode";
const PIPELINE_REDACT: &str = "REDACT_FIELDS='.user.email:hash,.password:drop' REDACT_PATTERNS='credit_card,ipv4' REDACT_HASH_KEY='0123456789abcdef0123456789abcdef' firehose-pipeline --lines events.jsonl --decode";
const PIPELINE_GEOIP: &str = "GEOIP_DATABASE=GeoLite2-City.mmdb GEOIP_FIELD=.client.ip firehose-pipeline --lines events.jsonl --decode";
const PIPELINE_CSV: &str = "OUTPUT_FORMAT=csv CSV_COLUMNS='.ts,.customer_id,.status,.path,.user.email' firehose-pipeline --lines events.jsonl --decode";
const PIPELINE_ICEBERG: &str = r#"ICEBERG_DATABASE=web ICEBERG_TABLE='if .status >= 500 then "errors" else "requests" end' ICEBERG_OPERATION=insert firehose-pipeline --lines events.jsonl"#;
const PIPELINE_APACHE: &str = r#"INPUT_FORMAT=apache FILTER='.response >= 500' OUTPUT_FORMAT=csv CSV_COLUMNS='.host,.["@timestamp"],.request,.response' firehose-pipeline --lines fixtures/apache/apache_combined_10k.log --decode"#;
const PIPELINE_VPC: &str = "INPUT_FORMAT=vpc-flow VPC_FLOW_FIELDS='${version} ${vpc-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${bytes} ${action} ${log-status}' FILTER='.action == \"REJECT\"' PARTITION_KEYS='{vpc: .vpc_id}' firehose-pipeline --lines flows.log --decode";

const LOCAL_BUILD: &str = "cargo build --release";
const LOCAL_SYSLOG: &str =
    "./target/release/syslog-to-json --lines fixtures/golden/syslog/linux_sample.log --decode | less";
const LOCAL_EVENT: &str = "./target/release/process-record --event fixtures/events/kinesis.json";
const LOCAL_MAKE_EVENT: &str = "./target/release/process-record --make-event --lines fixtures/apache/apache_combined_10k.log --fill-bytes 6000000 > /tmp/event.json";

const MAKE_EVENT_JSON: &str =
    "cargo run -- --make-event --json readings.json > fixtures/readings-event.json";
const MAKE_EVENT_LINES: &str = "cargo run -- --make-event --lines sample.log > event.json";

const DEPLOY_INSTALL: &str = "pip install cargo-lambda==1.9.2 ziglang aws-sam-cli";
const DEPLOY_BUILD: &str = "sam build -t deploy/template.yaml";
const DEPLOY_DEPLOY: &str = "sam deploy --guided -t .aws-sam/build/template.yaml";

const BENCHMARK: &str = "a benchmark: minutes of a quiet machine, its figures are the README's; \
                         CI builds every bench (`cargo bench --no-run`) and the bench is checked \
                         to exist";

/// Every command the README has, and what is done with it.
const COMMANDS: &[(&str, Check)] = &[
    // Set-up
    (SETUP_RUN, Check::Runs("set_up_runs_the_apache_blueprint_on_the_fixture")),
    (
        SETUP_TEST,
        Check::Checked(
            "installing from PyPI and running the whole test suite is what CI does; a test \
             cannot run the suite it is part of",
            "set_up_test_command_is_what_ci_runs",
        ),
    ),
    (
        "apt-get install jq",
        Check::Checked(
            "installs a system package",
            "jq_install_is_what_ci_does",
        ),
    ),
    (
        "pip install awscli",
        Check::Checked(
            "installs from PyPI; CI installs it, pinned",
            "deploy_tools_are_what_ci_installs",
        ),
    ),
    (
        "brew install jq",
        Check::Listed("installs a package with Homebrew (macOS); CI installs jq with apt-get"),
    ),
    (
        "cargo test --all-features",
        Check::Checked(
            "the whole test suite, which this test is part of",
            "set_up_test_command_is_what_ci_runs",
        ),
    ),
    (
        "cargo test",
        Check::Listed("the whole test suite, which this test is part of"),
    ),
    (
        "SKIP_LAMBDA_E2E=1 cargo test",
        Check::Listed(
            "the whole test suite, which this test is part of; build.rs turns the variable \
             into the cfg that tests/lambda_e2e.rs reads",
        ),
    ),
    (
        "cargo fmt --check",
        Check::Checked("CI's formatting check", "fmt_and_clippy_are_what_ci_runs"),
    ),
    (
        "cargo clippy --all-targets --all-features -- -D warnings",
        Check::Checked("CI's lint", "fmt_and_clippy_are_what_ci_runs"),
    ),
    // Shipping the GeoIP database
    (
        PACKAGE_BUILD,
        Check::Checked(
            "a cross build with cargo-lambda and zig takes minutes (tests/lambda_build.rs runs \
             `cargo lambda build --release` for process-record); the package block runs with \
             the test's own geoip-enrich binary as its output",
            "geoip_package_block_runs",
        ),
    ),
    (PACKAGE_COPY, Check::Runs("geoip_package_block_runs")),
    (PACKAGE_ZIP, Check::Runs("geoip_package_block_runs")),
    (LAYER_COPY, Check::Runs("geoip_layer_block_runs")),
    (LAYER_ZIP, Check::Runs("geoip_layer_block_runs")),
    (
        LAYER_PUBLISH,
        Check::Checked(
            "needs AWS; run by the AWS CLI against a local listener, which checks that it \
             uploads the zip the block made",
            "geoip_layer_block_runs",
        ),
    ),
    (
        LAYER_CONFIGURE,
        Check::Checked(
            "needs AWS; run by the AWS CLI against a local listener, which checks the \
             variables it sends, and the function started locally with them, /opt being the \
             layer zip unpacked",
            "geoip_layer_block_runs",
        ),
    ),
    // Pipelines
    (PIPELINE_FILTER, Check::Runs("pipeline_examples_print_what_the_readme_shows")),
    (PIPELINE_KEYS, Check::Runs("pipeline_examples_print_what_the_readme_shows")),
    (PIPELINE_REDACT, Check::Runs("pipeline_examples_print_what_the_readme_shows")),
    (PIPELINE_GEOIP, Check::Runs("pipeline_examples_print_what_the_readme_shows")),
    (PIPELINE_CSV, Check::Runs("pipeline_examples_print_what_the_readme_shows")),
    (PIPELINE_ICEBERG, Check::Runs("pipeline_examples_print_what_the_readme_shows")),
    (PIPELINE_APACHE, Check::Runs("pipeline_apache_example_fills_every_column")),
    (PIPELINE_VPC, Check::Runs("pipeline_vpc_flow_example_keeps_rejects_by_vpc")),
    // Writing your own transform
    (MAKE_EVENT_JSON, Check::Runs("make_event_commands_make_events")),
    (MAKE_EVENT_LINES, Check::Runs("make_event_commands_make_events")),
    (
        "cargo lambda watch",
        Check::Checked(
            "a long-running emulator of the user's own crate; tests/lambda_e2e.rs runs \
             `cargo lambda watch` on a blueprint",
            "cargo_lambda_commands_are_run_by_the_end_to_end_test",
        ),
    ),
    (
        "cargo lambda invoke my-transform --data-file event.json",
        Check::Checked(
            "needs `cargo lambda watch` of the user's own crate; tests/lambda_e2e.rs invokes a \
             blueprint with `cargo lambda invoke --data-file`",
            "cargo_lambda_commands_are_run_by_the_end_to_end_test",
        ),
    ),
    // Local mode
    (
        LOCAL_BUILD,
        Check::Listed(
            "cargo test has built every binary; the local-mode commands after it run those \
             (debug profile) as ./target/release/NAME",
        ),
    ),
    (LOCAL_SYSLOG, Check::Runs("local_mode_block_runs")),
    (LOCAL_EVENT, Check::Runs("local_mode_block_runs")),
    (LOCAL_MAKE_EVENT, Check::Runs("local_mode_block_runs")),
    (
        "./target/release/process-record --make-event --lines FILE --fill-bytes 6000000 > /tmp/event.json",
        Check::Listed("a template (FILE); the same command on the Apache fixture runs in Local mode"),
    ),
    (
        "/usr/bin/time -v firehose-pipeline --event FILE",
        Check::Listed("a template (FILE) for a peak-RSS measurement"),
    ),
    (
        "/usr/bin/time -v BIN --event FILE",
        Check::Listed("a template (BIN, FILE) for the peak-RSS measurements"),
    ),
    (
        "/usr/bin/time -v ./target/release/cloudwatch-logs-processor --event FILE",
        Check::Listed("a template (FILE) for a peak-RSS measurement"),
    ),
    (
        "cargo run --release --example cwl_event > /tmp/cwl.json",
        Check::Listed("a release build of the benchmark's event generator, for the Python comparison (minutes)"),
    ),
    (
        "cargo lambda build --release --x86-64 --bin firehose-pipeline",
        Check::Listed("a release cross build with the AWS SDK (minutes); tests/lambda_build.rs runs the same build for process-record"),
    ),
    // Performance
    ("cargo bench --bench engine", Check::Checked(BENCHMARK, "benches_exist")),
    ("cargo bench --bench engine -- 1000B-records", Check::Checked(BENCHMARK, "benches_exist")),
    ("cargo bench --bench engine -- 100B-records", Check::Checked(BENCHMARK, "benches_exist")),
    ("cargo bench --bench engine -- threads", Check::Checked(BENCHMARK, "benches_exist")),
    ("cargo bench --bench apache -- \"6 MB\"", Check::Checked(BENCHMARK, "benches_exist")),
    ("cargo bench --bench apache -- \"apachelog-to-json, \"", Check::Checked(BENCHMARK, "benches_exist")),
    ("cargo bench --bench apache -- reading", Check::Checked(BENCHMARK, "benches_exist")),
    ("cargo bench --bench engine -- reading", Check::Checked(BENCHMARK, "benches_exist")),
    ("cargo bench --bench geoip -- \"wall time\"", Check::Checked(BENCHMARK, "benches_exist")),
    ("cargo bench --bench lambda_path", Check::Checked(BENCHMARK, "benches_exist")),
    ("cargo bench --bench aws_formats", Check::Checked(BENCHMARK, "benches_exist")),
    ("cargo bench --bench cloudwatch_logs", Check::Checked(BENCHMARK, "benches_exist")),
    ("cargo bench --bench cloudwatch_logs -- gzip", Check::Checked(BENCHMARK, "benches_exist")),
    ("cargo bench --bench pipeline", Check::Checked(BENCHMARK, "benches_exist")),
    (
        "cargo bench --bench apache -- \"10,000-line event\"",
        Check::Checked(BENCHMARK, "benches_exist"),
    ),
    ("cargo bench --bench syslog -- blueprint", Check::Checked(BENCHMARK, "benches_exist")),
    ("cargo bench --bench cold_start", Check::Checked(BENCHMARK, "benches_exist")),
    (
        "cargo bench --features aws --bench cold_start",
        Check::Checked(BENCHMARK, "benches_exist"),
    ),
    (
        "cargo bench --features aws --bench aws_writer",
        Check::Checked(BENCHMARK, "benches_exist"),
    ),
    (
        "cargo bench --features aws --bench aws_writer -- re-ingestion --sample-size 100",
        Check::Checked(BENCHMARK, "benches_exist"),
    ),
    // Re-ingestion, kinesis-to-firehose
    (
        "cargo build --release --features aws",
        Check::Listed(
            "a release build of every binary with the aws feature (minutes); the tests build \
             and run the same binaries with --all-features",
        ),
    ),
    (
        "cargo build --release --features aws --bin kinesis-to-firehose",
        Check::Listed(
            "a release build (minutes); tests/aws_moto.rs builds and runs kinesis-to-firehose \
             against moto",
        ),
    ),
    (
        "bash benches/whole_process.sh",
        Check::Checked(
            "a benchmark of release builds against the AWS Node.js blueprints (hyperfine, \
             Node.js; minutes of a quiet machine), its figures are the README's; the script \
             and the Node.js harnesses it runs are checked to exist",
            "benches_exist",
        ),
    ),
    // Deploying
    (
        DEPLOY_INSTALL,
        Check::Checked(
            "installs from PyPI; CI installs the same packages, pinned",
            "deploy_tools_are_what_ci_installs",
        ),
    ),
    (
        DEPLOY_BUILD,
        Check::Checked(
            "cross-builds every function with cargo-lambda: minutes; tests/deploy.rs lints and \
             validates the template, tests/lambda_build.rs runs the cargo lambda build it uses",
            "deploy_tools_are_what_ci_installs",
        ),
    ),
    (DEPLOY_DEPLOY, Check::Listed("needs AWS (and asks questions)")),
    (
        "cargo lambda build",
        Check::Checked(
            "named as what reads the build metadata; a cross build takes minutes \
             (tests/lambda_build.rs runs one); the metadata it reads is checked",
            "aws_built_blueprints_have_their_build_metadata",
        ),
    ),
    (
        "sam build",
        Check::Checked(
            "named as what reads the build metadata (through cargo lambda build); builds \
             every function: minutes",
            "aws_built_blueprints_have_their_build_metadata",
        ),
    ),
    (
        "sam validate --lint",
        Check::Checked(
            "tests/deploy.rs runs it (with --region and --template)",
            "deploy_tools_are_what_ci_installs",
        ),
    ),
    (
        "cargo lambda build --release --arm64",
        Check::Listed("tests/lambda_build.rs runs it (a cross build: minutes)"),
    ),
    (
        "cargo lambda deploy … --env-file .env",
        Check::Listed("needs AWS; `…` stands for the user's own options"),
    ),
    (
        DEPLOY_CONFIGURE,
        Check::Checked(
            "needs AWS; run by the AWS CLI against a local listener, which checks the \
             variables it sends, and apachelog-to-json started locally with them, /opt being \
             the GeoIP layer of the layer block",
            "geoip_layer_block_runs",
        ),
    ),
    // Fuzzing
    (
        "cargo install cargo-fuzz --locked",
        Check::Listed("installs a tool from crates.io (minutes)"),
    ),
    (
        "fuzz/seed.sh",
        Check::Listed("writes the generated corpus into fuzz/corpus/ of the repository"),
    ),
    (
        "cd fuzz",
        Check::Listed("changes into the fuzz workspace for the commands after it"),
    ),
    (
        "RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none apache -- -runs=10000000",
        Check::Listed("needs cargo-fuzz and builds the fuzz targets (minutes), then fuzzes for minutes"),
    ),
    (
        r#"for target in $(cargo fuzz list); do RUSTC_BOOTSTRAP=1 nice -n 10 cargo fuzz run --sanitizer none "$target" -- -runs=10000000 || break; done"#,
        Check::Listed("needs cargo-fuzz and fuzzes every target for minutes each"),
    ),
];

/// Panics unless the README has `command` word for word (so a test never runs
/// a copy the README has moved away from).
fn readme_has(command: &str) {
    assert!(
        readme_commands().iter().any(|found| found.text == command),
        "the README no longer has this command: {command}"
    );
}

// ---------------------------------------------------------------------------
// Extraction from the README
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Where {
    ShBlock,
    Prompt,
    Inline,
}

#[derive(Debug, Clone)]
struct ReadmeCommand {
    text: String,
    line: usize,
    kind: Where,
}

fn readme() -> String {
    std::fs::read_to_string(format!("{MANIFEST_DIR}/README.md")).expect("README.md")
}

/// The first words of an inline code span that make it a command.
const COMMAND_WORDS: &[&str] = &[
    "cargo",
    "aws",
    "sam",
    "pip",
    "pip3",
    "jq",
    "apt-get",
    "brew",
    "hyperfine",
    "node",
    "python",
    "python3",
    "zip",
    "cp",
    "mkdir",
    "curl",
    "docker",
    "npm",
];

fn is_command_span(span: &str) -> bool {
    if span.starts_with("./target/") || span.starts_with("/usr/bin/") {
        return true;
    }
    // Leading `NAME=value` assignments, then the command word.
    let mut words = span.split(' ');
    let mut first = words.next().unwrap_or("");
    while first.contains('=')
        && first.split('=').next().is_some_and(|name| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        })
    {
        match words.next() {
            Some(next) => first = next,
            None => return false,
        }
    }
    // `cargo` alone is a word of prose (the tool), not a command.
    COMMAND_WORDS.contains(&first) && span.contains(' ')
}

/// Every command of the README, in order, each once.
fn readme_commands() -> Vec<ReadmeCommand> {
    let text = readme();
    let mut commands: Vec<ReadmeCommand> = Vec::new();
    let mut push = |text: String, line: usize, kind: Where| {
        if !commands.iter().any(|c| c.text == text) {
            commands.push(ReadmeCommand { text, line, kind });
        }
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    let mut prose = String::new();
    let mut prose_start = 0;
    let flush_prose =
        |prose: &mut String, start: usize, push: &mut dyn FnMut(String, usize, Where)| {
            for span in code_spans(prose) {
                if is_command_span(&span) {
                    push(span, start, Where::Inline);
                }
            }
            prose.clear();
        };
    while i < lines.len() {
        let line = lines[i];
        if let Some(info) = line.strip_prefix("```") {
            flush_prose(&mut prose, prose_start, &mut push);
            let info = info.trim();
            let start = i + 1;
            i += 1;
            let mut body = Vec::new();
            while i < lines.len() && !lines[i].starts_with("```") {
                body.push(lines[i]);
                i += 1;
            }
            i += 1; // the closing fence
            match info {
                "sh" | "bash" | "shell" | "console" => {
                    for (offset, command) in logical_lines(&body) {
                        let command = strip_comment(&command);
                        if !command.is_empty() {
                            push(command, start + offset + 1, Where::ShBlock);
                        }
                    }
                }
                "text" | "" => {
                    for (offset, command) in logical_lines(&body) {
                        if let Some(command) = command.strip_prefix("$ ") {
                            push(strip_comment(command), start + offset + 1, Where::Prompt);
                        }
                    }
                }
                _ => {}
            }
            continue;
        }
        if line.trim().is_empty() || line.starts_with('#') || line.starts_with('|') {
            // A paragraph ends (a table row is its own paragraph: spans never
            // cross cells).
            flush_prose(&mut prose, prose_start, &mut push);
            if line.starts_with('|') {
                prose.push_str(line);
                flush_prose(&mut prose, i + 1, &mut push);
            }
        } else {
            if prose.is_empty() {
                prose_start = i + 1;
            }
            prose.push_str(line);
            prose.push(' ');
        }
        i += 1;
    }
    flush_prose(&mut prose, prose_start, &mut push);
    commands
}

/// The lines of a block with `\`-newline continuations joined (the next
/// line's indentation becomes one space), each with its offset in the block.
fn logical_lines(body: &[&str]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (offset, line) in body.iter().enumerate() {
        let (start, mut text) = match current.take() {
            Some((start, text)) => (start, text + line.trim_start()),
            None => (offset, line.to_string()),
        };
        if let Some(stripped) = text.strip_suffix('\\') {
            text = stripped.trim_end().to_string() + " ";
            current = Some((start, text));
        } else {
            out.push((start, text));
        }
    }
    out.extend(current);
    out
}

/// The command without a trailing `# comment` (a `#` starting a word outside
/// quotes), trimmed; empty for a comment line.
fn strip_comment(command: &str) -> String {
    let mut quote = None;
    let mut previous = ' ';
    for (at, c) in command.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '#' && previous.is_whitespace() => {
                return command[..at].trim().to_string()
            }
            None => {}
        }
        previous = c;
    }
    command.trim().to_string()
}

/// Markdown code spans of a paragraph: a run of N backticks up to the next
/// run of exactly N; inner line breaks are spaces and one space of padding
/// each side is removed, as CommonMark does.
fn code_spans(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let open = i;
        while i < bytes.len() && bytes[i] == b'`' {
            i += 1;
        }
        let n = i - open;
        let content_start = i;
        let mut j = i;
        let mut close = None;
        while j < bytes.len() {
            if bytes[j] == b'`' {
                let run = j;
                while j < bytes.len() && bytes[j] == b'`' {
                    j += 1;
                }
                if j - run == n {
                    close = Some(run);
                    break;
                }
            } else {
                j += 1;
            }
        }
        match close {
            Some(close) => {
                let content = &text[content_start..close];
                let content =
                    if content.len() > 2 && content.starts_with(' ') && content.ends_with(' ') {
                        &content[1..content.len() - 1]
                    } else {
                        content
                    };
                spans.push(content.split_whitespace().collect::<Vec<_>>().join(" "));
                i = j;
            }
            None => i = content_start,
        }
    }
    spans
}

// ---------------------------------------------------------------------------
// Shell words
// ---------------------------------------------------------------------------

/// Splits a command into words as a POSIX shell does (quotes, backslashes;
/// `&&`, `|`, `;`, `(`, `)`, `>`, `<` as words of their own). Expansions are
/// not done: `$X` stays as written. An unterminated quote is an error.
fn shell_words(command: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = command.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(format!("unterminated ' in {command}")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('$' | '`' | '"' | '\\')) => word.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err(format!("unterminated \" in {command}")),
                        },
                        Some(c) => word.push(c),
                        None => return Err(format!("unterminated \" in {command}")),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(c) => {
                    in_word = true;
                    word.push(c);
                }
                None => return Err(format!("a trailing \\ in {command}")),
            },
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '&' | '|' | ';' | '(' | ')' | '>' | '<' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
                let mut operator = c.to_string();
                if matches!(c, '&' | '|' | '>') && chars.peek() == Some(&c) {
                    operator.push(c);
                    chars.next();
                }
                words.push(operator);
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[test]
fn shell_words_splits_as_the_shell_does() {
    assert_eq!(
        shell_words(r#"A='x y' cmd --e '{"V":{"a":"1,2"}}' "q \"z\"" b\ c && (cd d)"#).unwrap(),
        [
            "A=x y",
            "cmd",
            "--e",
            r#"{"V":{"a":"1,2"}}"#,
            r#"q "z""#,
            "b c",
            "&&",
            "(",
            "cd",
            "d",
            ")"
        ]
    );
    assert!(shell_words("echo 'open").is_err());
    assert!(shell_words("echo \"open").is_err());
}

// ---------------------------------------------------------------------------
// The checks every command gets
// ---------------------------------------------------------------------------

#[test]
fn every_readme_command_is_run_or_listed() {
    let found = readme_commands();
    assert!(
        found.iter().filter(|c| c.kind == Where::ShBlock).count() >= 10
            && found.iter().any(|c| c.kind == Where::Prompt)
            && found.iter().any(|c| c.kind == Where::Inline),
        "the extraction found too little: {found:#?}"
    );
    let unlisted: Vec<String> = found
        .iter()
        .filter(|c| !COMMANDS.iter().any(|(listed, _)| *listed == c.text))
        .map(|c| format!("README.md:{} ({:?}): {}", c.line, c.kind, c.text))
        .collect();
    let gone: Vec<&str> = COMMANDS
        .iter()
        .map(|(listed, _)| *listed)
        .filter(|listed| !found.iter().any(|c| c.text == *listed))
        .collect();
    assert!(
        unlisted.is_empty() && gone.is_empty(),
        "README commands neither run nor listed in tests/readme_commands.rs (add each to \
         COMMANDS, run or with the reason it cannot run offline):\n{}\n\nlisted but no longer \
         in the README:\n{}",
        unlisted.join("\n"),
        gone.join("\n")
    );
}

#[test]
fn every_readme_command_splits_into_words_and_passes_sh_n() {
    for command in readme_commands() {
        let words = shell_words(&command.text)
            .unwrap_or_else(|e| panic!("README.md:{}: {e}", command.line));
        assert!(!words.is_empty(), "README.md:{}: no words", command.line);
        let output = Command::new("sh")
            .args(["-n", "-c", &command.text])
            .output()
            .expect("sh runs");
        assert!(
            output.status.success(),
            "README.md:{}: sh -n refuses `{}`: {}",
            command.line,
            command.text,
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn every_command_not_run_says_why_and_every_test_named_exists() {
    let source = include_str!("readme_commands.rs");
    for (command, check) in COMMANDS {
        readme_has(command);
        if let Check::Checked(reason, _) | Check::Listed(reason) = check {
            assert!(!reason.trim().is_empty(), "no reason given for {command}");
        }
        if let Check::Runs(test) | Check::Checked(_, test) = check {
            assert!(
                source.contains(&format!("#[test]\nfn {test}() {{")),
                "COMMANDS names {test} for `{command}`, which is not a #[test] of this file"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// A scratch directory that looks like a clone after `cargo build --release`
// ---------------------------------------------------------------------------

struct Scratch {
    dir: PathBuf,
    bin: PathBuf,
}

impl Scratch {
    /// `fixtures/` (a link to the repository's, for reading), the binaries as
    /// `target/release/NAME` and on `PATH`.
    fn new(name: &str) -> Scratch {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("readme-commands")
            .join(name);
        let _ = std::fs::remove_dir_all(&dir);
        let bin = dir.join("target/release");
        std::fs::create_dir_all(&bin).unwrap();
        for (name, path) in BINARIES {
            std::os::unix::fs::symlink(path, bin.join(name)).unwrap();
        }
        let scratch = Scratch { dir, bin };
        scratch.link("fixtures", &format!("{MANIFEST_DIR}/fixtures"));
        scratch
    }

    /// Like `new`, with `fixtures/` a directory of its own (for a command that
    /// writes into it).
    fn with_own_fixtures(name: &str) -> Scratch {
        let scratch = Scratch::new(name);
        std::fs::remove_file(scratch.dir.join("fixtures")).unwrap();
        std::fs::create_dir(scratch.dir.join("fixtures")).unwrap();
        scratch
    }

    fn link(&self, name: &str, target: &str) {
        let path = self.dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, path).unwrap();
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn write(&self, name: &str, contents: &str) {
        std::fs::write(self.dir.join(name), contents).unwrap();
    }

    /// The MaxMind test databases under the README's GeoLite2 file names.
    fn geoip_databases(&self) {
        for (name, fixture) in [
            ("GeoLite2-City.mmdb", "GeoIP2-City-Test.mmdb"),
            ("GeoLite2-ASN.mmdb", "GeoLite2-ASN-Test.mmdb"),
        ] {
            std::fs::copy(
                format!("{MANIFEST_DIR}/fixtures/mmdb/{fixture}"),
                self.dir.join(name),
            )
            .unwrap();
        }
    }

    /// Runs a README command with `sh -c`, as a user would in a clone: local
    /// mode (no Lambda runtime API), metrics at their local default.
    fn sh(&self, command: &str) -> Output {
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Command::new("sh")
            .args(["-c", command])
            .current_dir(&self.dir)
            .env("PATH", path)
            .env_remove("AWS_LAMBDA_RUNTIME_API")
            .env_remove("FIREHOSE_METRICS")
            .env_remove("AWS_LAMBDA_LOG_LEVEL")
            .env_remove("AWS_LAMBDA_LOG_FORMAT")
            .stdin(Stdio::null())
            .output()
            .expect("sh runs")
    }

    /// Runs a README command and insists that it succeeds; its standard output.
    fn run_ok(&self, command: &str) -> String {
        let output = self.sh(command);
        assert!(
            output.status.success(),
            "`{command}` failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("UTF-8 output")
    }
}

fn require_tool(name: &str, install: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "{name} is not on PATH; the README's commands use it (install it: {install})"
    );
}

/// The file names in a zip archive (`unzip -Z1`).
fn zip_entries(zip: &Path) -> Vec<String> {
    require_tool("unzip", "apt-get install unzip");
    let output = Command::new("unzip").arg("-Z1").arg(zip).output().unwrap();
    assert!(output.status.success(), "unzip -Z1 {}", zip.display());
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn unzip(zip: &Path, into: &Path) {
    let status = Command::new("unzip")
        .args(["-q", "-o"])
        .arg(zip)
        .arg("-d")
        .arg(into)
        .status()
        .unwrap();
    assert!(status.success(), "unzip {}", zip.display());
}

/// Runs a binary locally in `dir` with exactly these settings (plus PATH),
/// `input` as the `--lines` file; its `--decode` output.
fn run_configured(
    binary: &str,
    dir: &Path,
    settings: &BTreeMap<String, String>,
    input: &str,
) -> String {
    let (_, path) = BINARIES
        .iter()
        .find(|(name, _)| *name == binary)
        .unwrap_or_else(|| panic!("no binary {binary}"));
    std::fs::write(dir.join("input.log"), input).unwrap();
    let output = Command::new(path)
        .args(["--lines", "input.log", "--decode"])
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(settings)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{binary} with {settings:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

// ---------------------------------------------------------------------------
// Set-up
// ---------------------------------------------------------------------------

#[test]
fn set_up_runs_the_apache_blueprint_on_the_fixture() {
    readme_has(SETUP_RUN);
    // `cargo run --release --bin apachelog-to-json --` is the binary cargo test built.
    let scratch = Scratch::new("set-up");
    let command = SETUP_RUN.replace(
        "cargo run --release --bin apachelog-to-json --",
        "apachelog-to-json",
    );
    let stdout = scratch.run_ok(&command);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 10_000, "one line per log line");
    let ok = lines.iter().filter(|l| l.starts_with("Ok ")).count();
    assert!(ok >= 9_900, "{ok} of 10,000 lines converted");
    let first = lines[0]
        .split_once('{')
        .map(|(_, rest)| format!("{{{rest}"));
    let value: serde_json::Value =
        serde_json::from_str(first.as_deref().expect("JSON after the result")).expect("JSON");
    assert!(
        value["host"].is_string() && value["@timestamp"].is_string(),
        "{value}"
    );
}

fn ci_script() -> String {
    std::fs::read_to_string(format!("{MANIFEST_DIR}/.ci/run")).expect(".ci/run")
}

#[test]
fn set_up_test_command_is_what_ci_runs() {
    readme_has(SETUP_TEST);
    let ci = ci_script();
    // README: "`.ci/run` installs cargo-lambda ... the same way and runs the same
    // `cargo test --all-features`".
    assert!(
        ci.contains("CARGO_LAMBDA_VERSION=1.9.2"),
        ".ci/run pins another cargo-lambda"
    );
    assert!(ci.contains("pip install --no-input \"cargo-lambda==${CARGO_LAMBDA_VERSION}\""));
    assert!(ci.lines().any(|l| l.trim() == "cargo test --all-features"));
}

#[test]
fn jq_install_is_what_ci_does() {
    assert!(ci_script().contains("apt-get install -y -qq jq"));
}

#[test]
fn fmt_and_clippy_are_what_ci_runs() {
    let ci = ci_script();
    for command in [
        "cargo fmt --check",
        "cargo clippy --all-targets --all-features -- -D warnings",
    ] {
        readme_has(command);
        assert!(
            ci.lines().any(|l| l.trim() == command),
            ".ci/run lacks {command}"
        );
    }
}

// ---------------------------------------------------------------------------
// Shipping the GeoIP database
// ---------------------------------------------------------------------------

#[test]
fn geoip_package_block_runs() {
    require_tool("zip", "apt-get install zip");
    let scratch = Scratch::new("geoip-package");
    scratch.geoip_databases();
    // What `cargo lambda build --release --bin geoip-enrich` leaves behind.
    readme_has(PACKAGE_BUILD);
    scratch.link(
        "target/lambda/geoip-enrich/bootstrap",
        env!("CARGO_BIN_EXE_geoip-enrich"),
    );
    for command in [PACKAGE_COPY, PACKAGE_ZIP] {
        readme_has(command);
        scratch.run_ok(command);
    }
    let zip = scratch.path("geoip-enrich.zip");
    let mut entries = zip_entries(&zip);
    entries.sort();
    assert_eq!(
        entries,
        ["GeoLite2-ASN.mmdb", "GeoLite2-City.mmdb", "bootstrap"]
    );
    // Lambda unpacks it to /var/task, the working directory; the block's
    // comment gives the setting.
    let task = scratch.path("var-task");
    unzip(&zip, &task);
    let text = readme();
    let comment = text
        .lines()
        .skip_while(|l| *l != PACKAGE_ZIP)
        .nth(1)
        .and_then(|l| l.strip_prefix("# "))
        .expect("the GEOIP_DATABASE comment after the zip command");
    let (name, value) = comment.split_once('=').unwrap();
    assert_eq!(name, "GEOIP_DATABASE");
    let settings = BTreeMap::from([
        (name.to_string(), value.to_string()),
        ("GEOIP_IP_FIELD".to_string(), "client.ip".to_string()),
    ]);
    let output = Command::new(task.join("bootstrap"))
        .args(["--lines", "-", "--decode"])
        .current_dir(&task)
        .env_clear()
        .envs(&settings)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(br#"{"client":{"ip":"81.2.69.160"}}"#)?;
            child.wait_with_output()
        })
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains(r#""city_name":"London""#),
        "the packaged function with {settings:?}: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The `Variables` of an `aws lambda update-function-configuration`
/// command's `--environment`, read from its shell words as the CLI gets them.
fn aws_environment(command: &str) -> (String, BTreeMap<String, String>) {
    let words = shell_words(command).unwrap();
    assert_eq!(
        &words[..3],
        ["aws", "lambda", "update-function-configuration"]
    );
    let value_of = |option: &str| {
        let at = words
            .iter()
            .position(|w| w == option)
            .unwrap_or_else(|| panic!("{option} missing in {command}"));
        words[at + 1].clone()
    };
    let environment = value_of("--environment");
    let json: serde_json::Value = serde_json::from_str(&environment)
        .unwrap_or_else(|e| panic!("--environment is not JSON ({e}): {environment}"));
    let variables = json
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.get("Variables"))
        .and_then(|v| v.as_object())
        .unwrap_or_else(|| panic!("--environment is not {{\"Variables\": {{...}}}}: {json}"));
    let variables = variables
        .iter()
        .map(|(name, value)| {
            let value = value
                .as_str()
                .unwrap_or_else(|| panic!("{name}: Lambda variables are strings, not {value}"));
            (name.clone(), value.to_string())
        })
        .collect();
    (value_of("--function-name"), variables)
}

/// What the AWS CLI sends for a README command: the command is run as
/// written, with `--endpoint-url` pointing at a local listener that takes the
/// one request, answers `{}` and returns its path and JSON body. So the
/// CLI's own parsing of the arguments (where `Variables={...}` with a comma
/// in a value fails) is what is checked, with fake credentials and no AWS.
fn aws_cli_request(scratch: &Scratch, command: &str) -> (String, serde_json::Value) {
    use std::io::{BufRead, BufReader, Read, Write};
    require_tool(
        "aws",
        "pip install awscli (the AWS CLI; .ci/run installs awscli==1.45.11)",
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        let mut length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            if header.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap();
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let mut stream = stream;
        stream
            .write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                  Content-Length: 2\r\nConnection: close\r\n\r\n{}",
            )
            .unwrap();
        (request_line, body)
    });
    let output = Command::new("sh")
        .args([
            "-c",
            &format!("{command} --endpoint-url http://127.0.0.1:{port}"),
        ])
        .current_dir(&scratch.dir)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .stdin(Stdio::null())
        .output()
        .expect("sh runs");
    assert!(
        output.status.success(),
        "the AWS CLI refuses `{command}` ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let (request_line, body) = server.join().expect("the CLI sent one request");
    let path = request_line.split(' ').nth(1).unwrap_or("").to_string();
    let body = serde_json::from_slice(&body).expect("a JSON request body");
    (path, body)
}

#[test]
fn geoip_layer_block_runs() {
    require_tool("zip", "apt-get install zip");
    let scratch = Scratch::new("geoip-layer");
    scratch.geoip_databases();
    for command in [LAYER_COPY, LAYER_ZIP] {
        readme_has(command);
        scratch.run_ok(command);
    }
    let zip = scratch.path("geoip-layer.zip");
    let entries = zip_entries(&zip);
    for file in ["geoip/GeoLite2-City.mmdb", "geoip/GeoLite2-ASN.mmdb"] {
        assert!(
            entries.iter().any(|e| e == file),
            "{file} not in {entries:?}"
        );
    }
    // A layer's contents appear under /opt.
    let opt = scratch.path("opt");
    unzip(&zip, &opt);

    // publish-layer-version uploads the zip just made.
    readme_has(LAYER_PUBLISH);
    let (path, body) = aws_cli_request(&scratch, LAYER_PUBLISH);
    assert_eq!(path, "/2018-10-31/layers/geoip-databases/versions");
    let sent = body["Content"]["ZipFile"]
        .as_str()
        .expect("the zip, base64");
    assert_eq!(
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, sent).unwrap(),
        std::fs::read(&zip).unwrap(),
        "the layer uploaded is the zip the block made"
    );

    // Both configurations of the README: the list of databases survives the
    // CLI's parsing whole, names files of the layer, and starts the function.
    // Two inputs, one found in each database (the City test database has no
    // AS data), so both files of the list are in use.
    let json = "{\"client\":{\"ip\":\"81.2.69.160\"}}\n{\"client\":{\"ip\":\"1.128.0.1\"}}\n";
    let apache = "81.2.69.160 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 2326\n\
                  1.128.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 2326\n";
    for command in [LAYER_CONFIGURE, DEPLOY_CONFIGURE] {
        readme_has(command);
        // The AWS CLI's own parsing first: it sends the variables, the list whole.
        let (path, body) = aws_cli_request(&scratch, command);
        let (function, mut variables) = aws_environment(command);
        assert_eq!(
            path,
            format!("/2015-03-31/functions/{function}/configuration")
        );
        let sent: BTreeMap<String, String> =
            serde_json::from_value(body["Environment"]["Variables"].clone())
                .unwrap_or_else(|e| panic!("{e}: {body}"));
        assert_eq!(sent, variables, "what the CLI sends for `{command}`");
        let databases: Vec<&str> = variables["GEOIP_DATABASE"].split(',').collect();
        assert_eq!(
            databases,
            [
                "/opt/geoip/GeoLite2-City.mmdb",
                "/opt/geoip/GeoLite2-ASN.mmdb"
            ],
            "{command}"
        );
        for value in variables.values_mut() {
            *value = value.replace("/opt/", &format!("{}/", opt.display()));
        }
        let (binary, input) = match function.as_str() {
            "my-geoip-enrich" => ("geoip-enrich", json),
            "apachelog-to-json" => ("apachelog-to-json", apache),
            other => panic!("which binary is {other}?"),
        };
        let stdout = run_configured(binary, &scratch.dir, &variables, input);
        let lines: Vec<&str> = stdout.lines().collect();
        assert!(
            lines.len() == 2
                && lines[0].starts_with("Ok ")
                && lines[0].contains(r#""city_name":"London""#)
                && lines[1].contains(r#""asn":1221"#),
            "{binary} with {variables:?}:\n{stdout}"
        );
    }
}

// ---------------------------------------------------------------------------
// Pipelines
// ---------------------------------------------------------------------------

/// The README's `events.jsonl`: the text block after "Each example below runs
/// on this file".
fn readme_events_jsonl() -> String {
    let text = readme();
    let after = text
        .split_once("Each example below runs on this file")
        .expect("the pipeline examples' file")
        .1;
    let block = after.split_once("```text\n").unwrap().1;
    block.split_once("```").unwrap().0.to_string()
}

/// The output lines the README shows under a `$ ` prompt (up to the block's
/// end), in order.
fn readme_output_of(command: &str) -> Vec<String> {
    let text = readme();
    let lines: Vec<&str> = text.lines().collect();
    let block_lines: Vec<(usize, String)> = {
        // Find the prompt's logical line and what follows it in its block.
        let mut found = None;
        let mut i = 0;
        while i < lines.len() {
            if lines[i] == "```text" {
                let start = i + 1;
                let mut end = start;
                while !lines[end].starts_with("```") {
                    end += 1;
                }
                let logical = logical_lines(&lines[start..end]);
                if let Some(at) = logical.iter().position(|(_, l)| {
                    l.strip_prefix("$ ").map(strip_comment).as_deref() == Some(command)
                }) {
                    found = Some(logical[at + 1..].to_vec());
                    break;
                }
                i = end;
            }
            i += 1;
        }
        found.unwrap_or_else(|| panic!("no `$ {command}` in a text block"))
    };
    block_lines.into_iter().map(|(_, l)| l).collect()
}

/// Whether `actual` matches `shown`, where `…` in `shown` stands for any text.
fn matches_elided(shown: &str, actual: &str) -> bool {
    let pieces: Vec<&str> = shown.split('…').collect();
    let mut rest = actual;
    for (n, piece) in pieces.iter().enumerate() {
        if n == 0 {
            match rest.strip_prefix(piece) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if n == pieces.len() - 1 {
            return rest.ends_with(piece);
        } else {
            match rest.find(piece) {
                Some(at) => rest = &rest[at + piece.len()..],
                None => return false,
            }
        }
    }
    rest.is_empty()
}

#[test]
fn pipeline_examples_print_what_the_readme_shows() {
    let scratch = Scratch::new("pipeline");
    scratch.geoip_databases();
    scratch.write("events.jsonl", &readme_events_jsonl());
    for command in [
        PIPELINE_FILTER,
        PIPELINE_KEYS,
        PIPELINE_REDACT,
        PIPELINE_GEOIP,
        PIPELINE_CSV,
        PIPELINE_ICEBERG,
    ] {
        readme_has(command);
        let stdout = scratch.run_ok(command);
        let actual: Vec<&str> = stdout.lines().collect();
        let shown = readme_output_of(command);
        assert!(!shown.is_empty(), "no output shown for {command}");
        // Each line shown is a line printed, in order (the README may leave
        // out lines after the ones it shows; `…` elides text).
        let mut printed = actual.iter();
        for line in &shown {
            assert!(
                printed.any(|a| matches_elided(line, a)),
                "`{command}`: the README shows\n{line}\nbut it prints\n{stdout}"
            );
        }
    }
}

#[test]
fn pipeline_apache_example_fills_every_column() {
    readme_has(PIPELINE_APACHE);
    let scratch = Scratch::new("pipeline-apache");
    let stdout = scratch.run_ok(PIPELINE_APACHE);
    let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with("Ok ")).collect();
    let log = std::fs::read_to_string(format!(
        "{MANIFEST_DIR}/fixtures/apache/apache_combined_10k.log"
    ))
    .unwrap();
    let server_errors = log
        .lines()
        .filter(|l| {
            l.split(' ')
                .nth(8)
                .is_some_and(|status| status.starts_with('5'))
        })
        .count();
    assert!(server_errors > 0);
    assert_eq!(
        rows.len(),
        server_errors,
        "the 5xx lines are kept: {stdout}"
    );
    for row in rows {
        let csv = row.splitn(3, ' ').last().unwrap().trim_start();
        let csv = csv.split_once(' ').unwrap().1; // after the record id
                                                  // host, timestamp, the request (quoted when it holds a comma), status.
        let first_comma = csv.find(',').unwrap();
        let rest = &csv[first_comma + 1..];
        let timestamp = rest.split(',').next().unwrap();
        assert!(
            first_comma > 0
                && timestamp.len() >= 20
                && csv.rsplit(',').next().unwrap().starts_with('5'),
            "a column is empty or wrong (a path the fields do not have?): {row}"
        );
    }
}

#[test]
fn pipeline_vpc_flow_example_keeps_rejects_by_vpc() {
    readme_has(PIPELINE_VPC);
    let scratch = Scratch::new("pipeline-vpc");
    // Lines of the README's custom format: version vpc-id srcaddr dstaddr
    // srcport dstport protocol bytes action log-status.
    scratch.write(
        "flows.log",
        "3 vpc-0a1b2c3d 10.0.1.5 10.0.2.9 443 49152 6 5120 ACCEPT OK\n\
         3 vpc-0a1b2c3d 203.0.113.12 10.0.2.9 51515 22 6 40 REJECT OK\n\
         3 vpc-9f8e7d6c 198.51.100.7 10.1.0.4 3390 3389 6 80 REJECT OK\n",
    );
    let stdout = scratch.run_ok(PIPELINE_VPC);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].starts_with("Dropped "), "{stdout}");
    for (line, vpc) in [(lines[1], "vpc-0a1b2c3d"), (lines[2], "vpc-9f8e7d6c")] {
        assert!(
            line.starts_with("Ok ")
                && line.contains(r#""action":"REJECT""#)
                && line.ends_with(&format!("[vpc={vpc}]")),
            "{line}"
        );
    }
}

// ---------------------------------------------------------------------------
// Writing your own transform: fixture events
// ---------------------------------------------------------------------------

#[test]
fn make_event_commands_make_events() {
    // `cargo run --` in the user's crate is their function; every function built
    // with `run` has --make-event, process-record among them.
    let scratch = Scratch::with_own_fixtures("make-event");
    scratch.write(
        "readings.json",
        "{\"device\":\"d-1\",\"celsius\":21.5}\n[1,2]\n{\"device\":\"d-2\",\"celsius\":null}",
    );
    scratch.write("sample.log", "first line\nsecond line\n");
    for (command, file, records) in [
        (MAKE_EVENT_JSON, "fixtures/readings-event.json", 3),
        (MAKE_EVENT_LINES, "event.json", 2),
    ] {
        readme_has(command);
        scratch.run_ok(&command.replace("cargo run --", "process-record"));
        let event = firehose_transform::testing::fixture_event(scratch.path(file));
        assert_eq!(event.records.len(), records, "{command}");
    }
}

#[test]
fn cargo_lambda_commands_are_run_by_the_end_to_end_test() {
    // The end-to-end test and the emulator helpers it shares with the
    // cold-start benchmark.
    let e2e = ["tests/lambda_e2e.rs", "tests/support/emulator.rs"]
        .iter()
        .filter_map(|file| std::fs::read_to_string(format!("{MANIFEST_DIR}/{file}")).ok())
        .collect::<String>();
    assert!(e2e.contains(r#".args(["lambda", "watch", "--only-lambda-apis"])"#));
    assert!(e2e.contains(r#".args(["lambda", "invoke", &self.function_name])"#));
    assert!(e2e.contains(r#".arg("--data-file")"#));
}

// ---------------------------------------------------------------------------
// Local mode
// ---------------------------------------------------------------------------

#[test]
fn local_mode_block_runs() {
    let scratch = Scratch::new("local-mode");

    readme_has(LOCAL_SYSLOG);
    let stdout = scratch.run_ok(&LOCAL_SYSLOG.replace("| less", "| cat"));
    let log = std::fs::read_to_string(format!(
        "{MANIFEST_DIR}/fixtures/golden/syslog/linux_sample.log"
    ))
    .unwrap();
    assert_eq!(
        stdout.lines().count(),
        log.lines().count(),
        "one line per record"
    );
    assert!(stdout.lines().all(|l| l.starts_with("Ok ")), "{stdout}");

    readme_has(LOCAL_EVENT);
    let stdout = scratch.run_ok(LOCAL_EVENT);
    let event = firehose_transform::testing::fixture_event(format!(
        "{MANIFEST_DIR}/fixtures/events/kinesis.json"
    ));
    firehose_transform::testing::check_contract(&event, stdout.trim_end().as_bytes(), 6 << 20)
        .unwrap();

    readme_has(LOCAL_MAKE_EVENT);
    scratch.run_ok(&LOCAL_MAKE_EVENT.replace("/tmp/event.json", "event.json"));
    let bytes = std::fs::metadata(scratch.path("event.json")).unwrap().len();
    assert!(
        (5_500_000..=6_000_000).contains(&bytes),
        "--fill-bytes 6000000 made {bytes} bytes"
    );
    let event = firehose_transform::testing::fixture_event(scratch.path("event.json"));
    assert!(event.records.len() > 10_000);
}

// ---------------------------------------------------------------------------
// Performance and deploying
// ---------------------------------------------------------------------------

#[test]
fn benches_exist() {
    let manifest = std::fs::read_to_string(format!("{MANIFEST_DIR}/Cargo.toml")).unwrap();
    for command in readme_commands() {
        let words = shell_words(&command.text).unwrap();
        if let Some(at) = words.iter().position(|w| w == "--bench") {
            let name = &words[at + 1];
            assert!(
                manifest.contains(&format!("[[bench]]\nname = \"{name}\"")),
                "README.md:{}: no bench {name} in Cargo.toml",
                command.line
            );
        }
        if let Some(script_path) = words
            .first()
            .filter(|shell| *shell == "bash")
            .and(words.get(1))
        {
            // A benchmark script: it must exist, and so must every Node.js
            // harness (`benches/aws/NAME.js`) it times.
            let script = std::fs::read_to_string(Path::new(MANIFEST_DIR).join(script_path))
                .unwrap_or_else(|e| panic!("README.md:{}: {script_path}: {e}", command.line));
            let harnesses: Vec<&str> = script
                .split(|c: char| c.is_whitespace() || c == '|' || c == '"')
                .filter(|word| word.starts_with("benches/aws/") && word.ends_with(".js"))
                .collect();
            assert!(
                !harnesses.is_empty(),
                "{script_path} names no Node.js harness"
            );
            for harness in harnesses {
                assert!(
                    Path::new(MANIFEST_DIR).join(harness).exists(),
                    "{script_path}: {harness} does not exist"
                );
            }
        }
        for word in &words {
            if let Some(script) = word.strip_prefix("node ") {
                let script = script.split(' ').next().unwrap();
                assert!(
                    Path::new(MANIFEST_DIR).join(script).exists(),
                    "README.md:{}: {script} does not exist",
                    command.line
                );
            }
        }
    }
}

#[test]
fn aws_built_blueprints_have_their_build_metadata() {
    // README: "`firehose-pipeline`, `cloudwatch-logs-processor` and
    // `kinesis-to-firehose` are built with the `aws` feature: ... which
    // `cargo lambda build`, and so `sam build`, reads".
    let text = readme();
    let sentence = text
        .split_once("are built\nwith the `aws` feature")
        .expect("the README's sentence on the aws-built blueprints")
        .0;
    let names = sentence.rsplit("\n\n").next().unwrap();
    let manifest = std::fs::read_to_string(format!("{MANIFEST_DIR}/Cargo.toml")).unwrap();
    let mut found = 0;
    for (name, _) in BINARIES.iter().chain([&("kinesis-to-firehose", "")]) {
        if names.contains(&format!("`{name}`")) {
            found += 1;
            assert!(
                manifest.contains(&format!(
                    "[package.metadata.lambda.bin.{name}.build]\nfeatures = [\"aws\"]"
                )),
                "Cargo.toml has no aws build metadata for {name}"
            );
        }
    }
    assert_eq!(found, 3, "{names}");
}

#[test]
fn deploy_tools_are_what_ci_installs() {
    let ci = ci_script();
    readme_has(DEPLOY_INSTALL);
    for package in ["cargo-lambda", "ziglang", "aws-sam-cli", "awscli"] {
        assert!(
            ci.contains(&format!("\"{package}==")),
            ".ci/run does not install {package}"
        );
    }
    readme_has(DEPLOY_BUILD);
    assert!(Path::new(MANIFEST_DIR)
        .join("deploy/template.yaml")
        .exists());
    let deploy = std::fs::read_to_string(format!("{MANIFEST_DIR}/tests/deploy.rs")).unwrap();
    assert!(deploy.contains(r#".args(["validate", "--lint""#));
}
