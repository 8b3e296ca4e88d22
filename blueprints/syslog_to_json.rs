//! `syslog-to-json`: syslog lines (RFC 3164 or RFC 5424) to JSON objects.
//! See `firehose_transform::blueprints::syslog`.

fn main() -> std::process::ExitCode {
    firehose_transform::run_with(
        firehose_transform::blueprints::syslog::SyslogToJson::from_settings,
    )
}
