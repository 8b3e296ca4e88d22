//! `cloudwatch-logs-processor`: CloudWatch Logs subscription records (gzip or
//! plain) to one line per log event: the raw message, an envelope object, or
//! the message parsed by an input format. A drop-in for the AWS blueprint.
//! See `firehose_transform::blueprints::cloudwatch_logs`.

fn main() -> std::process::ExitCode {
    firehose_transform::run_with(
        firehose_transform::blueprints::cloudwatch_logs::CloudWatchLogsProcessor::from_settings,
    )
}
