//! `apachelog-to-json`: Apache/NCSA access log lines to JSON objects, a drop-in
//! for the AWS blueprint of the same name. See
//! `firehose_transform::blueprints::apache` and `docs/apache.md`.

fn main() -> std::process::ExitCode {
    firehose_transform::run_with(
        firehose_transform::blueprints::apache::ApacheToJson::from_settings,
    )
}
