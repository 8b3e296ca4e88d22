//! `kinesis-to-firehose`: reads a Kinesis data stream (or DynamoDB Streams)
//! through an event source mapping, runs the pipeline its variables describe
//! (those of `firehose-pipeline`), writes the outputs to
//! `DELIVERY_STREAM_NAME` and answers with `batchItemFailures`. See
//! `firehose_transform::aws::forward`. Needs the `aws` feature.

fn main() -> std::process::ExitCode {
    firehose_transform::aws::forward::run_with(
        firehose_transform::blueprints::pipeline::from_settings,
    )
}
