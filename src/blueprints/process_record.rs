//! `process-record`: passthrough, with an optional newline delimiter,
//! optional dropping of empty records, and an optional regex filter.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `APPEND_NEWLINE` | `false` | end each record with `\n` (not added when it already ends with one) |
//! | `DROP_EMPTY_RECORDS` | `false` | return `Dropped` for records with no bytes, or only a line break |
//! | `KEEP_REGEX` | unset | keep only records that match this regex (the rest are `Dropped`) |
//! | `DROP_REGEX` | unset | drop records that match this regex |
//!
//! The regexes use the [`regex`] crate's syntax, match anywhere in the record
//! unless anchored, and run on the record's bytes, so records that are not
//! UTF-8 are matched too (`(?-u:\xff)` matches a raw byte). They are compiled
//! once, at start-up; a bad one stops the function there with one line naming
//! the variable.
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
//!
//! let settings = Settings::from_pairs([("KEEP_REGEX", "^(ERROR|WARN) "), ("DROP_REGEX", "healthcheck")]);
//! let filter = ProcessRecord::from_settings(&settings).unwrap();
//! let processed = testing::run(&filter, ["ERROR disk full", "INFO started", "WARN healthcheck slow"]);
//! assert_eq!(processed.text(0), "ERROR disk full");
//! assert!(processed.is_dropped(1) && processed.is_dropped(2));
//! ```

#[cfg(feature = "regex")]
use regex::bytes::Regex;

use crate::blueprints::APPEND_NEWLINE;
use crate::config::{ConfigError, Settings};
use crate::transform::{Context, Failure, Output, Record, Transform};

/// The `process-record` transform.
#[derive(Debug, Clone, Default)]
pub struct ProcessRecord {
    /// End each record with a newline.
    pub append_newline: bool,
    /// Drop records that are empty or only a line break.
    pub drop_empty: bool,
    /// Keep only records matching this.
    #[cfg(feature = "regex")]
    pub keep: Option<Regex>,
    /// Drop records matching this.
    #[cfg(feature = "regex")]
    pub drop: Option<Regex>,
}

impl ProcessRecord {
    /// Reads `APPEND_NEWLINE`, `DROP_EMPTY_RECORDS`, `KEEP_REGEX` and
    /// `DROP_REGEX` (the last two refused at start-up in a build without the
    /// `regex` feature).
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        #[cfg(not(feature = "regex"))]
        for name in ["KEEP_REGEX", "DROP_REGEX"] {
            settings.refuse_without_feature(name, "regex")?;
        }
        Ok(ProcessRecord {
            append_newline: settings.flag(APPEND_NEWLINE, false)?,
            drop_empty: settings.flag("DROP_EMPTY_RECORDS", false)?,
            #[cfg(feature = "regex")]
            keep: regex_setting(settings, "KEEP_REGEX")?,
            #[cfg(feature = "regex")]
            drop: regex_setting(settings, "DROP_REGEX")?,
        })
    }
}

/// Compiles the regex in `name`, if set. The regex crate's error is a
/// multi-line diagram; its last line says what is wrong, and that is what a
/// one-line start-up error needs.
#[cfg(feature = "regex")]
fn regex_setting(settings: &Settings, name: &str) -> Result<Option<Regex>, ConfigError> {
    let Some(pattern) = settings.get(name) else {
        return Ok(None);
    };
    Regex::new(&pattern).map(Some).map_err(|error| {
        let text = error.to_string();
        let problem = text
            .lines()
            .rev()
            .find_map(|line| line.trim().strip_prefix("error: "))
            .unwrap_or_else(|| text.lines().next().unwrap_or("invalid"));
        ConfigError::new(name, format!("{pattern:?} is not a valid regex: {problem}"))
    })
}

impl Transform for ProcessRecord {
    type Item<'a> = &'a [u8];

    fn parse<'a>(&self, record: &Record<'a>, _cx: &mut Context) -> Result<&'a [u8], Failure> {
        Ok(record.data)
    }

    fn filter(&self, data: &&[u8], _cx: &mut Context) -> bool {
        let empty = self.drop_empty && matches!(*data, b"" | b"\n" | b"\r\n");
        #[cfg(feature = "regex")]
        {
            let kept = self.keep.as_ref().is_none_or(|keep| keep.is_match(data));
            let dropped = self.drop.as_ref().is_some_and(|drop| drop.is_match(data));
            !empty && kept && !dropped
        }
        #[cfg(not(feature = "regex"))]
        !empty
    }

    fn convert(&self, data: &[u8], out: &mut Output, _cx: &mut Context) -> Result<(), Failure> {
        out.write(data);
        if self.append_newline && !data.ends_with(b"\n") {
            out.write(b"\n");
        }
        Ok(())
    }
}

/// The variables `process-record` reads (beside the engine's).
pub const VARIABLES: &[&str] = &[
    APPEND_NEWLINE,
    "DROP_EMPTY_RECORDS",
    "KEEP_REGEX",
    "DROP_REGEX",
];

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

    #[cfg(feature = "regex")]
    #[test]
    fn a_bad_regex_is_one_line_naming_the_variable() {
        let error = ProcessRecord::from_settings(&Settings::from_pairs([("KEEP_REGEX", "(ERROR")]))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "KEEP_REGEX: \"(ERROR\" is not a valid regex: unclosed group"
        );
    }

    #[cfg(feature = "regex")]
    #[test]
    fn regexes_match_records_that_are_not_utf8() {
        let settings = Settings::from_pairs([("DROP_REGEX", r"(?-u:\xff)")]);
        let transform = ProcessRecord::from_settings(&settings).unwrap();
        let processed = testing::run(&transform, [&b"ok"[..], b"bad \xff byte"]);
        assert_eq!(processed.data(0), b"ok");
        assert!(processed.is_dropped(1));
    }

    #[cfg(not(feature = "regex"))]
    #[test]
    fn a_regex_setting_is_refused_in_a_build_without_the_regex_feature() {
        let error =
            ProcessRecord::from_settings(&Settings::from_pairs([("DROP_REGEX", "x")])).unwrap_err();
        assert_eq!(error.variable(), "DROP_REGEX");
        assert!(error.problem().contains("`regex` cargo feature"), "{error}");
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
