//! Configuration from environment variables, read once per execution
//! environment, with errors that name the variable.
//!
//! Blueprints and user transforms read their settings through [`Settings`]
//! rather than `std::env` directly, so that tests can give settings without
//! touching the process environment, and so every bad value is reported the
//! same way: one line, `VARIABLE: problem`.
//!
//! ```
//! use firehose_transform::config::Settings;
//!
//! let settings = Settings::from_pairs([("APPEND_NEWLINE", "no"), ("BATCH", "12x")]);
//! assert_eq!(settings.flag("APPEND_NEWLINE", true).unwrap(), false);
//! assert_eq!(settings.flag("DROP_EMPTY_RECORDS", false).unwrap(), false);
//! let error = settings.parse::<u32>("BATCH", 10).unwrap_err();
//! assert_eq!(error.to_string(), "BATCH: \"12x\" is not valid: invalid digit found in string");
//! ```

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

/// A bad or missing setting: which variable, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    variable: String,
    problem: String,
}

impl ConfigError {
    /// A problem with `variable`.
    pub fn new(variable: impl Into<String>, problem: impl fmt::Display) -> Self {
        ConfigError {
            variable: variable.into(),
            problem: problem.to_string(),
        }
    }

    /// The variable at fault.
    pub fn variable(&self) -> &str {
        &self.variable
    }

    /// What is wrong with it.
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.problem)
    }
}

impl std::error::Error for ConfigError {}

/// A source of settings: the process environment, or given pairs.
///
/// A transform reads its settings from one, once, in
/// [`run_with`](crate::run_with)'s init closure; a bad value is a
/// [`ConfigError`] that stops the function there with one line. In tests,
/// [`Settings::from_pairs`] gives the values without touching the
/// environment.
///
/// ```
/// use firehose_transform::config::{ConfigError, Settings};
///
/// /// A transform's configuration.
/// #[derive(Debug)]
/// struct Keep {
///     prefix: String,
///     levels: Vec<String>,
///     max_bytes: usize,
///     newline: bool,
/// }
///
/// impl Keep {
///     fn from_settings(settings: &Settings) -> Result<Keep, ConfigError> {
///         let levels = settings.list("KEEP_LEVELS");
///         if levels.is_empty() {
///             return Err(ConfigError::new("KEEP_LEVELS", "needs at least one level"));
///         }
///         Ok(Keep {
///             prefix: settings.require("KEEP_PREFIX")?,
///             levels,
///             max_bytes: settings.parse("KEEP_MAX_BYTES", 4096)?,
///             newline: settings.flag("APPEND_NEWLINE", true)?,
///         })
///     }
/// }
///
/// let settings = Settings::from_pairs([("KEEP_PREFIX", "app"), ("KEEP_LEVELS", "WARN, ERROR,")]);
/// let keep = Keep::from_settings(&settings)?;
/// assert_eq!(keep.levels, ["WARN", "ERROR"]);
/// assert_eq!((keep.prefix.as_str(), keep.max_bytes, keep.newline), ("app", 4096, true));
///
/// // Init stops with one line naming the variable.
/// let error = Keep::from_settings(&Settings::from_pairs([("KEEP_LEVELS", "WARN")])).unwrap_err();
/// assert_eq!(error.to_string(), "KEEP_PREFIX: is required but not set");
/// let settings = Settings::from_pairs([("KEEP_PREFIX", "app"), ("KEEP_LEVELS", "WARN"), ("APPEND_NEWLINE", "maybe")]);
/// assert_eq!(Keep::from_settings(&settings).unwrap_err().variable(), "APPEND_NEWLINE");
///
/// // In the function: the process environment.
/// let _ = Keep::from_settings(&Settings::from_env());
/// # Ok::<(), ConfigError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Settings {
    given: Option<HashMap<String, String>>,
    /// The names asked for, when recording (see [`Settings::recording`]).
    read: Option<Arc<Mutex<BTreeSet<String>>>>,
}

impl Settings {
    /// Settings read from the process environment.
    pub fn from_env() -> Self {
        Settings::default()
    }

    /// Settings from the given pairs that also record every name asked for,
    /// so a test can check that the variables a configuration reads are the
    /// ones it documents.
    ///
    /// ```
    /// use firehose_transform::config::Settings;
    ///
    /// let settings = Settings::recording([("A", "1")]);
    /// let _ = settings.get("A");
    /// let _ = settings.flag("B", false);
    /// assert_eq!(settings.names_read(), ["A", "B"]);
    /// ```
    pub fn recording<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Settings {
            read: Some(Arc::default()),
            ..Settings::from_pairs(pairs)
        }
    }

    /// The names asked for so far, sorted (empty unless [`Settings::recording`]).
    pub fn names_read(&self) -> Vec<String> {
        self.read.as_ref().map_or_else(Vec::new, |read| {
            read.lock()
                .map(|names| names.iter().cloned().collect())
                .unwrap_or_default()
        })
    }

    /// Settings from the given pairs only (for tests).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Settings {
            given: Some(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
            ),
            read: None,
        }
    }

    /// The value of `name`; `None` when unset or blank (a blank variable in the
    /// Lambda console means "not set").
    pub fn get(&self, name: &str) -> Option<String> {
        if let Some(read) = &self.read {
            if let Ok(mut names) = read.lock() {
                names.insert(name.to_string());
            }
        }
        let value = match &self.given {
            Some(map) => map.get(name).cloned(),
            None => std::env::var(name).ok(),
        }?;
        let trimmed = value.trim();
        (!trimmed.is_empty()).then(|| trimmed.to_string())
    }

    /// The value of `name`, which must be set.
    pub fn require(&self, name: &str) -> Result<String, ConfigError> {
        self.get(name)
            .ok_or_else(|| ConfigError::new(name, "is required but not set"))
    }

    /// A yes/no setting: `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off` (any case).
    pub fn flag(&self, name: &str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(value) => match value.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(true),
                "false" | "0" | "no" | "off" => Ok(false),
                _ => Err(ConfigError::new(
                    name,
                    format!("{value:?} is not a yes/no value (use true or false)"),
                )),
            },
        }
    }

    /// A setting parsed with `FromStr`, or `default` when unset.
    pub fn parse<T: FromStr>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        match self.get(name) {
            None => Ok(default),
            Some(value) => value.parse().map_err(|error| {
                ConfigError::new(name, format!("{value:?} is not valid: {error}"))
            }),
        }
    }

    /// Refuses `name` when it is set but this build leaves out the cargo
    /// `feature` it needs, so that a setting never does nothing silently.
    #[cfg_attr(all(feature = "geoip", feature = "regex"), allow(dead_code))]
    pub(crate) fn refuse_without_feature(
        &self,
        name: &str,
        feature: &str,
    ) -> Result<(), ConfigError> {
        match self.get(name) {
            None => Ok(()),
            Some(_) => Err(ConfigError::new(
                name,
                format!(
                    "is set, but this build of firehose-transform leaves out its `{feature}` cargo \
                     feature (enable it: features = [\"{feature}\"])"
                ),
            )),
        }
    }

    /// A comma-separated list (items trimmed, empty items skipped); empty when unset.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|value| {
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_values_count_as_unset() {
        let settings = Settings::from_pairs([("A", "  ")]);
        assert_eq!(settings.get("A"), None);
        assert_eq!(
            settings.require("A").unwrap_err().to_string(),
            "A: is required but not set"
        );
    }

    #[test]
    fn flags_reject_anything_but_yes_or_no() {
        let settings = Settings::from_pairs([("F", "maybe")]);
        assert_eq!(
            settings.flag("F", true).unwrap_err().to_string(),
            "F: \"maybe\" is not a yes/no value (use true or false)"
        );
        assert!(Settings::from_pairs([("F", "ON")])
            .flag("F", false)
            .unwrap());
    }

    #[test]
    fn a_setting_whose_feature_is_left_out_is_refused_by_name() {
        let settings = Settings::from_pairs([("GEOIP_DATABASE", "city.mmdb")]);
        assert_eq!(
            settings
                .refuse_without_feature("GEOIP_DATABASE", "geoip")
                .unwrap_err()
                .to_string(),
            "GEOIP_DATABASE: is set, but this build of firehose-transform leaves out its `geoip` \
             cargo feature (enable it: features = [\"geoip\"])"
        );
        assert!(settings
            .refuse_without_feature("KEEP_REGEX", "regex")
            .is_ok());
    }

    #[test]
    fn lists_are_split_on_commas() {
        let settings = Settings::from_pairs([("L", " a.mmdb, ,b.mmdb ")]);
        assert_eq!(settings.list("L"), ["a.mmdb", "b.mmdb"]);
        assert!(settings.list("MISSING").is_empty());
    }
}
