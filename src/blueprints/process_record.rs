//! `process-record`: passthrough, with an optional newline delimiter and
//! optional dropping of empty records.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `APPEND_NEWLINE` | `false` | end each record with `\n` (not added when it already ends with one) |
//! | `DROP_EMPTY_RECORDS` | `false` | return `Dropped` for records with no bytes, or only a line break |
//!
//! A record passed through unchanged costs no base64 encoding: the engine
//! sends the input's own base64 back.
//!
//! ```
//! use firehose_transform::{blueprints::process_record::ProcessRecord, config::Settings, testing};
//!
//! let settings = Settings::from_pairs([("APPEND_NEWLINE", "true"), ("DROP_EMPTY_RECORDS", "true")]);
//! let transform = ProcessRecord::from_settings(&settings).unwrap();
//! let processed = testing::run(&transform, ["a", "b\n", "", "\r\n"]);
//! assert_eq!(processed.text(0), "a\n");
//! assert_eq!(processed.text(1), "b\n");
//! assert!(processed.is_dropped(2) && processed.is_dropped(3));
//! ```

use crate::blueprints::APPEND_NEWLINE;
use crate::config::{ConfigError, Settings};
use crate::transform::{Context, Failure, Output, Record, Transform};

/// The `process-record` transform.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessRecord {
    /// End each record with a newline.
    pub append_newline: bool,
    /// Drop records that are empty or only a line break.
    pub drop_empty: bool,
}

impl ProcessRecord {
    /// Reads `APPEND_NEWLINE` and `DROP_EMPTY_RECORDS`.
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(ProcessRecord {
            append_newline: settings.flag(APPEND_NEWLINE, false)?,
            drop_empty: settings.flag("DROP_EMPTY_RECORDS", false)?,
        })
    }
}

impl Transform for ProcessRecord {
    type Item<'a> = &'a [u8];

    fn parse<'a>(&self, record: &Record<'a>, _cx: &mut Context) -> Result<&'a [u8], Failure> {
        Ok(record.data)
    }

    fn filter(&self, data: &&[u8], _cx: &mut Context) -> bool {
        !(self.drop_empty && matches!(*data, b"" | b"\n" | b"\r\n"))
    }

    fn convert(&self, data: &[u8], out: &mut Output) -> Result<(), Failure> {
        out.write(data);
        if self.append_newline && !data.ends_with(b"\n") {
            out.write(b"\n");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    #[test]
    fn defaults_pass_every_record_through_unchanged() {
        let transform =
            ProcessRecord::from_settings(&Settings::from_pairs::<&str, &str>([])).unwrap();
        let processed = testing::run(&transform, [&b"a"[..], b"", b"\xff\x00binary"]);
        assert_eq!(processed.data(0), b"a");
        assert_eq!(processed.data(1), b"");
        assert_eq!(processed.data(2), b"\xff\x00binary");
    }

    #[test]
    fn a_bad_flag_names_its_variable() {
        let error = ProcessRecord::from_settings(&Settings::from_pairs([(
            "DROP_EMPTY_RECORDS",
            "sometimes",
        )]))
        .unwrap_err();
        assert_eq!(error.variable(), "DROP_EMPTY_RECORDS");
    }
}
