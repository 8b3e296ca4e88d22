//! `process-record`: passthrough with an optional newline delimiter and
//! optional dropping of empty records. See `firehose_transform::blueprints::process_record`.

fn main() -> std::process::ExitCode {
    firehose_transform::run_with(
        firehose_transform::blueprints::process_record::ProcessRecord::from_settings,
    )
}
