//! `syslog-to-csv`: syslog lines (RFC 3164 or RFC 5424) to RFC 4180 CSV rows.
//! See `firehose_transform::blueprints::syslog`.

fn main() -> std::process::ExitCode {
    firehose_transform::run_with(firehose_transform::blueprints::syslog::SyslogToCsv::from_settings)
}
