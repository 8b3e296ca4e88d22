//! The deployment template, `deploy/template.yaml`, checked offline:
//!
//! - every `[[bin]]` of `Cargo.toml` is a blueprint with its documented
//!   variables (`blueprints::BINARIES`), and its configuration code reads no
//!   variable that the list lacks;
//! - every binary has its function in the template (built with cargo-lambda,
//!   named `STACK-BINARY`, selectable as `Blueprint`), and every variable it
//!   documents, and the engine's, is mapped from its parameter;
//! - `cfn-lint` reports nothing (no error, no warning) and `sam validate --lint`
//!   passes (both from PyPI: `pip install cfn-lint aws-sam-cli`; neither needs
//!   AWS credentials).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use firehose_transform::blueprints::{self, COMMON_VARIABLES, REINGEST_VARIABLES};
use firehose_transform::config::{ConfigError, Settings};
use firehose_transform::telemetry::MetricsConfig;
use firehose_transform::EngineConfig;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn template_path() -> PathBuf {
    root().join("deploy/template.yaml")
}

fn template() -> String {
    std::fs::read_to_string(template_path()).expect("deploy/template.yaml is readable")
}

/// The `name`s of the `[[bin]]` tables of Cargo.toml.
fn cargo_binaries() -> Vec<String> {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
    let mut names = Vec::new();
    let mut in_bin = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin {
            if let Some(value) = line.strip_prefix("name").map(str::trim_start) {
                if let Some(value) = value.strip_prefix('=') {
                    names.push(value.trim().trim_matches('"').to_string());
                }
            }
        }
    }
    assert!(!names.is_empty(), "no [[bin]] found in Cargo.toml");
    names
}

fn documented(binary: &str) -> Vec<&'static str> {
    blueprints::variables_of(binary)
        .unwrap_or_else(|| {
            panic!(
                "{binary} is a [[bin]] of Cargo.toml but not in blueprints::BINARIES: add it there \
                 with the variables it documents (a VARIABLES const in its blueprint module)"
            )
        })
        .collect()
}

/// The binaries that Cargo.toml has `cargo lambda build` (so `sam build`)
/// build with the `aws` feature: `[package.metadata.lambda.bin.NAME.build]`
/// tables whose `features` name it.
fn built_with_aws() -> BTreeSet<String> {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
    let mut names = BTreeSet::new();
    let mut current: Option<String> = None;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            current = line
                .strip_prefix("[package.metadata.lambda.bin.")
                .and_then(|rest| rest.strip_suffix(".build]"))
                .map(str::to_string);
        } else if let Some(binary) = &current {
            if line.starts_with("features") && line.contains("\"aws\"") {
                names.insert(binary.clone());
            }
        }
    }
    names
}

/// `APPEND_NEWLINE` -> `AppendNewline`: the template's parameter for a variable.
fn parameter_name(variable: &str) -> String {
    variable
        .split('_')
        .map(|part| {
            let lower = part.to_ascii_lowercase();
            let mut chars = lower.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// The lines of the function resource built from `binary`: from its
/// `Type` line to the next blank line.
fn function_block<'t>(template: &'t str, binary: &str) -> Vec<&'t str> {
    let marker = format!("BuildProperties: {{Binary: {binary}}}");
    let lines: Vec<&str> = template.lines().collect();
    let at = lines
        .iter()
        .position(|line| line.contains(&marker))
        .unwrap_or_else(|| {
            panic!(
                "deploy/template.yaml has no function built from {binary}: add a resource with \
                 `Metadata: {{BuildMethod: rust-cargolambda, {marker}}}`"
            )
        });
    lines[at..]
        .iter()
        .take_while(|line| !line.trim().is_empty())
        .copied()
        .collect()
}

#[test]
fn every_binary_has_its_function_and_every_variable_its_parameter() {
    let template = template();
    let parameters_end = template
        .find("\nConditions:")
        .expect("the template has a Conditions section after its Parameters");
    let parameters = &template[..parameters_end];
    for binary in cargo_binaries() {
        assert!(
            parameters.contains(&format!("      - {binary}\n")),
            "{binary} is not one of the Blueprint parameter's AllowedValues"
        );
        let block = function_block(&template, &binary);
        assert!(
            block
                .iter()
                .any(|line| line.trim() == format!("FunctionName: !Sub ${{AWS::StackName}}-{binary}")),
            "the {binary} function must be named ${{AWS::StackName}}-{binary} (the stream and alarms name it so)"
        );
        for variable in COMMON_VARIABLES.iter().chain(&documented(&binary)) {
            let parameter = parameter_name(variable);
            let mapping = format!("{variable}: !Ref {parameter}");
            let reference = format!("!Ref {parameter}");
            assert!(
                block.iter().any(|line| {
                    let line = line.trim();
                    line == mapping
                        // A choice between the example stack's value and the parameter.
                        || (line.starts_with(&format!("{variable}: !If ["))
                            && line.split([',', ']']).any(|part| part.trim() == reference))
                }),
                "the {binary} function does not set {variable} (`{mapping}` under Environment.Variables)"
            );
            assert!(
                parameters.contains(&format!("\n  {parameter}:\n")),
                "deploy/template.yaml lacks the parameter {parameter} for {variable}"
            );
            assert!(
                parameters.contains(&format!("Description: {variable}"))
                    || parameters.contains(&format!("Description: \"{variable}")),
                "the parameter {parameter}'s Description must start with {variable} and say its default"
            );
        }
    }
}

#[test]
fn the_binaries_that_talk_to_aws_are_built_with_the_aws_feature() {
    let with_aws = built_with_aws();
    let talks_to_aws = |binary: &str| {
        documented(binary).iter().any(|variable| {
            REINGEST_VARIABLES.contains(variable)
                || variable.starts_with("DYNAMODB_")
                || *variable == "DELIVERY_STREAM_NAME"
        })
    };
    for binary in cargo_binaries() {
        assert_eq!(
            talks_to_aws(&binary),
            with_aws.contains(&binary),
            "{binary}: a binary documents re-ingestion, DynamoDB or forwarding variables exactly \
             when Cargo.toml builds it for Lambda with the aws feature \
             ([package.metadata.lambda.bin.{binary}.build] features = [\"aws\"])"
        );
    }
    assert!(with_aws.contains("kinesis-to-firehose"), "{with_aws:?}");
}

/// Each binary's configuration, as its `main` builds it.
fn configure(binary: &str, settings: &Settings) -> Result<(), ConfigError> {
    use blueprints::*;
    EngineConfig::from_settings(settings)?;
    MetricsConfig::from_settings(settings, true)?;
    if built_with_aws().contains(binary) && binary != "kinesis-to-firehose" {
        // What the runtime reads for every binary built with `aws`.
        firehose_transform::aws::reingest::ReingestConfig::from_settings(settings)?;
    }
    match binary {
        "process-record" => process_record::ProcessRecord::from_settings(settings).map(drop),
        "apachelog-to-json" => apache::ApacheToJson::from_settings(settings).map(drop),
        "apachelog-to-csv" => apache::ApacheToCsv::from_settings(settings).map(drop),
        "syslog-to-json" => syslog::SyslogToJson::from_settings(settings).map(drop),
        "syslog-to-csv" => syslog::SyslogToCsv::from_settings(settings).map(drop),
        "geoip-enrich" => geoip::GeoIpEnrich::from_settings(settings).map(drop),
        "firehose-pipeline" => pipeline::from_settings(settings).map(drop),
        "cloudwatch-logs-processor" => {
            cloudwatch_logs::CloudWatchLogsProcessor::from_settings(settings).map(drop)
        }
        "kinesis-to-firehose" => {
            // Both, whichever fails: each reads its own variables.
            let forward = firehose_transform::aws::forward::ForwardConfig::from_settings(settings);
            let pipeline = pipeline::from_settings(settings);
            forward.and(pipeline.map(drop))
        }
        other => panic!(
            "tests/deploy.rs does not know how {other} reads its settings: add it to `configure`"
        ),
    }
}

#[test]
fn the_configuration_code_reads_only_documented_variables() {
    // A few settings that lead the code into its conditional reads.
    let cases: &[&[(&str, &str)]] = &[
        &[],
        &[("OUTPUT_FORMAT", "csv")],
        &[("GEOIP_DATABASE", "/nonexistent.mmdb")],
        &[("REINGEST", "firehose"), ("DELIVERY_STREAM_NAME", "s")],
        &[("INPUT_FORMAT", "vpc-flow"), ("MESSAGE_FORMAT", "vpc-flow")],
        &[
            ("INPUT_FORMAT", "cloudfront"),
            ("MESSAGE_FORMAT", "cloudfront"),
        ],
        &[("RECORD_DECODER", "cloudwatch-logs")],
        &[
            ("DYNAMODB_TABLE", "t"),
            ("DYNAMODB_KEY_FIELD", "id"),
            ("DELIVERY_STREAM_NAME", "s"),
        ],
    ];
    let mut undocumented = BTreeSet::new();
    for binary in cargo_binaries() {
        let allowed: BTreeSet<&str> = COMMON_VARIABLES
            .iter()
            .chain(&documented(&binary))
            .copied()
            .collect();
        for case in cases {
            let settings = Settings::recording(case.iter().copied());
            let _ = configure(&binary, &settings);
            let read = settings.names_read();
            assert!(!read.is_empty(), "{binary} read no settings at all");
            for name in read {
                if !allowed.contains(name.as_str()) && name != "AWS_LAMBDA_FUNCTION_NAME" {
                    undocumented.insert(format!("{binary} reads {name}"));
                }
            }
        }
    }
    assert!(
        undocumented.is_empty(),
        "variables read but not documented (add each to its blueprint's VARIABLES and to \
         deploy/template.yaml):\n{}",
        undocumented.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// A tool on PATH, or a failure saying how to install it.
fn tool(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|candidate| candidate.is_file())
        })
        .unwrap_or_else(|| {
            panic!(
                "{name} is not on PATH. The template is validated offline with cfn-lint and \
                 the SAM CLI from PyPI: `pip install cfn-lint==1.58.0 aws-sam-cli==1.170.0` \
                 (.ci/run installs them in a virtual environment)"
            )
        })
}

#[test]
fn cfn_lint_reports_nothing() {
    let output = Command::new(tool("cfn-lint"))
        .arg(template_path())
        .output()
        .expect("cfn-lint runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && text.trim().is_empty(),
        "cfn-lint found problems ({}):\n{text}",
        output.status
    );
}

#[test]
fn sam_validate_lint_passes_without_credentials() {
    let output = Command::new(tool("sam"))
        .args(["validate", "--lint", "--region", "us-east-1", "--template"])
        .arg(template_path())
        // Prove that no credentials are needed.
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("SAM_CLI_TELEMETRY", "0")
        .output()
        .expect("sam runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && text.contains("is a valid SAM Template"),
        "sam validate --lint failed ({}):\n{text}",
        output.status
    );
}

#[test]
fn parameter_names_follow_the_variables() {
    assert_eq!(parameter_name("APPEND_NEWLINE"), "AppendNewline");
    assert_eq!(
        parameter_name("FIREHOSE_DEADLINE_MARGIN_MS"),
        "FirehoseDeadlineMarginMs"
    );
}
