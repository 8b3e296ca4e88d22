//! `firehose-pipeline`: a no-code transform configured by environment
//! variables (input format, jq filter, GeoIP, redaction, jq partition keys,
//! Iceberg routing, JSON or CSV out). See `firehose_transform::blueprints::pipeline`.

fn main() -> std::process::ExitCode {
    firehose_transform::run_with(firehose_transform::blueprints::pipeline::from_settings)
}
