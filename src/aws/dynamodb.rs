//! DynamoDB lookup enrichment: a pipeline [`Stage`] that looks a field's
//! value up in a table and adds chosen attributes of the item found.
//!
//! - **One call per 100 keys per batch, not one per record.** Before the
//!   records run, [`Stage::prepare`] collects the key of every document of
//!   the batch, drops duplicates and keys already cached, and fetches the
//!   rest with `BatchGetItem` (at most 100 keys a call), retrying
//!   `UnprocessedKeys` with backoff until the deadline. Each record then
//!   reads the cache. A key the batch did not see (an earlier stage made it)
//!   is fetched on its own.
//! - **Cached across invocations** for `DYNAMODB_CACHE_TTL_SECONDS`, found
//!   and not-found keys alike, up to `DYNAMODB_CACHE_MAX_ENTRIES` keys.
//! - **A key not in the table** leaves the document as it is, counted
//!   (`dynamodb.not_found`); so does a document without the key field
//!   (`dynamodb.missing_key`).
//! - **A lookup that fails** (throttled past the retries, no such table, no
//!   permission) fails the record (`DYNAMODB_ON_ERROR=fail`, the default:
//!   Firehose keeps it in the error prefix) or passes it unenriched
//!   (`pass`, counted as `dynamodb.lookup_failed`).
//!
//! The table's partition key is the only key: tables with a sort key need
//! both parts and are not supported. The key's type follows the field's
//! JSON value: a string looks up an `S` key, a number an `N` key.
//!
//! The attributes are written as plain JSON (`{"S":"x"}` becomes `"x"`,
//! `N` a number, `M` an object, `L`, `SS`, `NS` and `BS` arrays, `B` base64
//! text, `NULL` null), under the target field:
//!
//! ```text
//! {"customer_id":"c-7","status":503}  ─▶  {"customer_id":"c-7","status":503,"customer":{"name":"Ada","tier":"gold"}}
//! ```

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};

use super::backoff::Backoff;
use super::{call_error, Aws};
use crate::config::{ConfigError, Settings};
use crate::doc::{Path, Value};
use crate::formats::json::write_str;
use crate::pipeline::{BatchDocs, Stage};
use crate::transform::{Context, Failure};

/// The reason of a record whose lookup failed (with `DYNAMODB_ON_ERROR=fail`).
pub const LOOKUP_FAILED: &str = "DynamoDB lookup failed";
/// Counter: documents enriched.
pub const ENRICHED: &str = "dynamodb.enriched";
/// Counter: keys not in the table.
pub const NOT_FOUND: &str = "dynamodb.not_found";
/// Counter: documents without the key field (or with one neither string nor number).
pub const MISSING_KEY: &str = "dynamodb.missing_key";
/// Counter: lookups failed and passed (`DYNAMODB_ON_ERROR=pass`).
pub const FAILED_PASSED: &str = "dynamodb.lookup_failed";
/// Counter: `BatchGetItem` calls made.
pub const CALLS: &str = "dynamodb.batch_get_calls";
/// Counter: keys served from the cache.
pub const CACHE_HITS: &str = "dynamodb.cache_hits";

/// `BatchGetItem`'s limit of keys a call.
pub const MAX_KEYS_PER_CALL: usize = 100;

/// What a failed lookup does to its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// `ProcessingFailed`.
    Fail,
    /// Kept unenriched, and counted.
    Pass,
}

/// The lookup's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct LookupConfig {
    /// The table (`DYNAMODB_TABLE`).
    pub table: String,
    /// Where the key is in each document (`DYNAMODB_KEY_FIELD`).
    pub key_field: Path,
    /// The table's partition key attribute (`DYNAMODB_KEY_ATTRIBUTE`;
    /// default the key field's last member name).
    pub key_attribute: String,
    /// The attributes to add (`DYNAMODB_ATTRIBUTES`; empty for all).
    pub attributes: Vec<String>,
    /// Where they go (`DYNAMODB_TARGET_FIELD`, default `dynamodb`).
    pub target: Path,
    /// `DYNAMODB_ON_ERROR`: `fail` (default) or `pass`.
    pub on_error: OnError,
    /// `DYNAMODB_CACHE_TTL_SECONDS` (default 300; 0 caches within one batch only).
    pub ttl: Duration,
    /// `DYNAMODB_CACHE_MAX_ENTRIES` (default 100,000).
    pub max_entries: usize,
    /// `DYNAMODB_CONSISTENT_READ` (default false).
    pub consistent_read: bool,
    /// Attempts per call, `UnprocessedKeys` retries included (`DYNAMODB_MAX_ATTEMPTS`, default 10).
    pub max_attempts: u32,
}

impl LookupConfig {
    /// Reads the `DYNAMODB_*` variables; `None` when `DYNAMODB_TABLE` is unset.
    ///
    /// ```
    /// use firehose_transform::{aws::dynamodb::LookupConfig, config::Settings};
    /// let config = LookupConfig::from_settings(&Settings::from_pairs([
    ///     ("DYNAMODB_TABLE", "customers"),
    ///     ("DYNAMODB_KEY_FIELD", ".customer.id"),
    ///     ("DYNAMODB_ATTRIBUTES", "name,tier"),
    /// ])).unwrap().unwrap();
    /// assert_eq!(config.key_attribute, "id");
    /// assert_eq!(config.target.to_string(), ".dynamodb");
    /// let error = LookupConfig::from_settings(&Settings::from_pairs([("DYNAMODB_TABLE", "t")])).unwrap_err();
    /// assert_eq!(error.to_string(), "DYNAMODB_KEY_FIELD: is required with DYNAMODB_TABLE: the path of the key, as in .customer_id");
    /// ```
    pub fn from_settings(settings: &Settings) -> Result<Option<Self>, ConfigError> {
        let Some(table) = settings.get("DYNAMODB_TABLE") else {
            return Ok(None);
        };
        let field = settings.get("DYNAMODB_KEY_FIELD").ok_or_else(|| {
            ConfigError::new(
                "DYNAMODB_KEY_FIELD",
                "is required with DYNAMODB_TABLE: the path of the key, as in .customer_id",
            )
        })?;
        let key_field = path_or_name("DYNAMODB_KEY_FIELD", &field)?;
        let key_attribute = match settings.get("DYNAMODB_KEY_ATTRIBUTE") {
            Some(name) => name,
            None => match key_field.segments().last() {
                Some(crate::doc::Segment::Key(name)) => name.clone(),
                _ => {
                    return Err(ConfigError::new(
                        "DYNAMODB_KEY_ATTRIBUTE",
                        "is required: the key field does not end in a member name",
                    ))
                }
            },
        };
        let target = path_or_name(
            "DYNAMODB_TARGET_FIELD",
            &settings
                .get("DYNAMODB_TARGET_FIELD")
                .unwrap_or_else(|| "dynamodb".to_string()),
        )?;
        if target.is_root() {
            return Err(ConfigError::new(
                "DYNAMODB_TARGET_FIELD",
                "cannot be the whole document: name a member, as in .customer",
            ));
        }
        let on_error = match settings
            .get("DYNAMODB_ON_ERROR")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("fail") => OnError::Fail,
            Some("pass") => OnError::Pass,
            Some(other) => {
                return Err(ConfigError::new(
                    "DYNAMODB_ON_ERROR",
                    format!("{other:?} is not a policy (fail or pass)"),
                ))
            }
        };
        let max_attempts = settings.parse("DYNAMODB_MAX_ATTEMPTS", 10u32)?.max(1);
        Ok(Some(LookupConfig {
            table,
            key_field,
            key_attribute,
            attributes: settings.list("DYNAMODB_ATTRIBUTES"),
            target,
            on_error,
            ttl: Duration::from_secs(settings.parse("DYNAMODB_CACHE_TTL_SECONDS", 300u64)?),
            max_entries: settings.parse("DYNAMODB_CACHE_MAX_ENTRIES", 100_000usize)?,
            consistent_read: settings.flag("DYNAMODB_CONSISTENT_READ", false)?,
            max_attempts,
        }))
    }
}

/// A path (`.a.b`) or a plain top-level name (`customer`).
fn path_or_name(variable: &str, text: &str) -> Result<Path, ConfigError> {
    let text = text.trim();
    if text.starts_with('.') {
        Path::parse(text).map_err(|e| ConfigError::new(variable, e))
    } else {
        Ok(Path::from_keys([text]))
    }
}

/// A key's value, typed as the table stores it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    S(String),
    N(String),
}

impl Key {
    fn from_value(value: &Value<'_>) -> Option<Key> {
        match value {
            Value::Str(s) => Some(Key::S(s.to_string())),
            Value::Number(n) => Some(Key::N(n.to_string())),
            _ => None,
        }
    }

    fn from_attribute(value: &AttributeValue) -> Option<Key> {
        match value {
            AttributeValue::S(s) => Some(Key::S(s.clone())),
            AttributeValue::N(n) => Some(Key::N(n.clone())),
            _ => None,
        }
    }

    fn attribute(&self) -> AttributeValue {
        match self {
            Key::S(s) => AttributeValue::S(s.clone()),
            Key::N(n) => AttributeValue::N(n.clone()),
        }
    }
}

/// A cached answer: the attributes' JSON, or `None` for a key not in the table.
#[derive(Debug, Clone)]
struct Cached {
    at: Instant,
    item: Option<Arc<str>>,
}

#[derive(Debug, Default)]
struct Cache {
    entries: HashMap<Key, Cached>,
    /// Keys whose lookup failed in this batch, with why (not cached across
    /// batches: the next one tries again).
    failed: HashMap<Key, String>,
    /// When the current batch began: what it fetched is fresh for all of
    /// it, whatever the TTL.
    batch_started: Option<Instant>,
}

impl Cache {
    fn fresh(&self, key: &Key, ttl: Duration) -> Option<&Cached> {
        self.entries
            .get(key)
            .filter(|c| c.at.elapsed() < ttl || self.batch_started.is_some_and(|b| c.at >= b))
    }
}

/// The lookup stage; see the [module](self) documentation.
pub struct DynamoDbLookup {
    aws: Aws,
    client: aws_sdk_dynamodb::Client,
    config: LookupConfig,
    cache: Mutex<Cache>,
}

impl fmt::Debug for DynamoDbLookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamoDbLookup")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl DynamoDbLookup {
    /// A lookup with these settings and the clients of `aws`.
    pub fn new(aws: &Aws, config: LookupConfig) -> Self {
        DynamoDbLookup {
            aws: aws.clone(),
            client: aws.dynamodb(),
            config,
            cache: Mutex::new(Cache::default()),
        }
    }

    /// The settings.
    pub fn config(&self) -> &LookupConfig {
        &self.config
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        // A panic while holding the lock leaves a cache that is still
        // consistent (entries are inserted whole): keep using it.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fetches `keys` into the cache (failures into the batch's failed set).
    /// Returns the number of calls made.
    fn fetch(&self, keys: Vec<Key>, deadline: Option<Instant>) -> usize {
        if keys.is_empty() {
            return 0;
        }
        let client = self.client.clone();
        let config = self.config.clone();
        let (found, failed, calls) = self
            .aws
            .block_on(async move { batch_get(&client, &config, keys, deadline).await });
        let now = Instant::now();
        let mut cache = self.lock();
        if cache.entries.len() + found.len() > self.config.max_entries {
            let ttl = self.config.ttl;
            let batch = cache.batch_started;
            cache
                .entries
                .retain(|_, c| now.duration_since(c.at) < ttl || batch.is_some_and(|b| c.at >= b));
            if cache.entries.len() + found.len() > self.config.max_entries {
                cache.entries.clear();
            }
        }
        for (key, item) in found {
            cache.entries.insert(key, Cached { at: now, item });
        }
        for (key, error) in failed {
            cache.failed.insert(key, error);
        }
        calls
    }

    /// The cached answer for `key`, if fresh; `Err` with why if it failed
    /// in this batch.
    fn cached(&self, key: &Key) -> Option<Result<Option<Arc<str>>, String>> {
        let cache = self.lock();
        if let Some(error) = cache.failed.get(key) {
            return Some(Err(error.clone()));
        }
        cache
            .fresh(key, self.config.ttl)
            .map(|hit| Ok(hit.item.clone()))
    }
}

impl Stage for DynamoDbLookup {
    fn prepare(&self, docs: &mut BatchDocs<'_>, cx: &mut Context) {
        // A new batch: failures of the last one are tried again.
        {
            let mut cache = self.lock();
            cache.failed.clear();
            cache.batch_started = Some(Instant::now());
        }
        let mut wanted = Vec::new();
        let mut seen = std::collections::HashSet::new();
        {
            let cache = self.lock();
            let ttl = self.config.ttl;
            let field = &self.config.key_field;
            docs.for_each(|doc| {
                let Some(key) = doc.get(field).and_then(|v| Key::from_value(&v)) else {
                    return;
                };
                if cache.fresh(&key, ttl).is_none() && seen.insert(key.clone()) {
                    wanted.push(key);
                }
            });
        }
        let calls = self.fetch(wanted, docs.deadline());
        cx.add(CALLS, calls as u64);
    }

    fn apply(&self, doc: &mut Value<'_>, cx: &mut Context) -> Result<bool, Failure> {
        let Some(key) = doc
            .get(&self.config.key_field)
            .and_then(|v| Key::from_value(&v))
        else {
            cx.count(MISSING_KEY);
            return Ok(true);
        };
        let answer = match self.cached(&key) {
            Some(answer) => {
                cx.count(CACHE_HITS);
                answer
            }
            None => {
                // Not seen by prepare (an earlier stage made this key):
                // fetch it alone.
                let calls = self.fetch(vec![key.clone()], None);
                cx.add(CALLS, calls as u64);
                self.cached(&key)
                    .unwrap_or_else(|| Err("no answer for the key".to_string()))
            }
        };
        match answer {
            Ok(Some(item)) => {
                doc.set(
                    &self.config.target,
                    Value::Raw(Cow::Owned(item.to_string())),
                );
                cx.count(ENRICHED);
                Ok(true)
            }
            Ok(None) => {
                cx.count(NOT_FOUND);
                Ok(true)
            }
            Err(error) => match self.config.on_error {
                OnError::Fail => Err(Failure::new(LOOKUP_FAILED).with_detail(format_args!(
                    "table {}, key {}: {error}",
                    self.config.table,
                    describe(&key)
                ))),
                OnError::Pass => {
                    cx.count(FAILED_PASSED);
                    Ok(true)
                }
            },
        }
    }
}

fn describe(key: &Key) -> String {
    match key {
        Key::S(s) => format!("{s:?}"),
        Key::N(n) => n.clone(),
    }
}

/// `BatchGetItem` over `keys`, 100 a call, retrying unprocessed keys.
/// Returns what was found (or not) per key, the keys that failed with why,
/// and the calls made.
async fn batch_get(
    client: &aws_sdk_dynamodb::Client,
    config: &LookupConfig,
    keys: Vec<Key>,
    deadline: Option<Instant>,
) -> (Vec<(Key, Option<Arc<str>>)>, Vec<(Key, String)>, usize) {
    let mut found = Vec::with_capacity(keys.len());
    let mut failed = Vec::new();
    let mut calls = 0;
    // The key attribute is always fetched, to match answers to keys.
    let mut names = HashMap::new();
    let projection = if config.attributes.is_empty() {
        None
    } else {
        let mut parts = vec!["#k".to_string()];
        names.insert("#k".to_string(), config.key_attribute.clone());
        for (i, attribute) in config.attributes.iter().enumerate() {
            names.insert(format!("#a{i}"), attribute.clone());
            parts.push(format!("#a{i}"));
        }
        Some(parts.join(","))
    };
    // Keys left unprocessed go back to the front of the queue and fill the
    // next call up to 100 with new keys: no call is spent on a few retries.
    let mut queue: std::collections::VecDeque<Key> = keys.into();
    let new_backoff = || {
        Backoff::new(
            Duration::from_millis(25),
            Duration::from_secs(1),
            config.max_attempts,
        )
    };
    let mut backoff = new_backoff();
    while !queue.is_empty() {
        if super::time_left(deadline).is_some_and(|left| left.is_zero()) {
            let error = "invocation deadline reached before the lookup".to_string();
            failed.extend(queue.drain(..).map(|k| (k, error.clone())));
            break;
        }
        let take = queue.len().min(MAX_KEYS_PER_CALL);
        let pending: Vec<Key> = queue.drain(..take).collect();
        let request = KeysAndAttributes::builder()
            .set_keys(Some(
                pending
                    .iter()
                    .map(|k| HashMap::from([(config.key_attribute.clone(), k.attribute())]))
                    .collect(),
            ))
            .set_projection_expression(projection.clone())
            .set_expression_attribute_names((!names.is_empty()).then(|| names.clone()))
            .consistent_read(config.consistent_read)
            .build()
            .expect("keys are set");
        calls += 1;
        let send = client
            .batch_get_item()
            .request_items(&config.table, request)
            .send();
        let result = match super::time_left(deadline) {
            // The SDK's own error type is large; it is built once per failed call.
            #[allow(clippy::result_large_err)]
            Some(left) => tokio::time::timeout(left, send).await.unwrap_or_else(|_| {
                Err(aws_sdk_dynamodb::error::SdkError::timeout_error("deadline"))
            }),
            None => send.await,
        };
        let (retry, error) = match result {
            Ok(output) => {
                let items = output
                    .responses()
                    .and_then(|r| r.get(&config.table))
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let mut answered: HashMap<Key, Arc<str>> = HashMap::new();
                for item in items {
                    if let Some(key) = item
                        .get(&config.key_attribute)
                        .and_then(Key::from_attribute)
                    {
                        answered.insert(key, Arc::from(item_json(item, config)));
                    }
                }
                let unprocessed: std::collections::HashSet<Key> = output
                    .unprocessed_keys()
                    .and_then(|u| u.get(&config.table))
                    .map(|k| {
                        k.keys()
                            .iter()
                            .filter_map(|key| {
                                key.get(&config.key_attribute).and_then(Key::from_attribute)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let mut retry = Vec::new();
                for key in pending {
                    if let Some(item) = answered.remove(&key) {
                        found.push((key, Some(item)));
                    } else if unprocessed.contains(&key) {
                        retry.push(key);
                    } else {
                        found.push((key, None));
                    }
                }
                (
                    retry,
                    "UnprocessedKeys: throttled past the retries".to_string(),
                )
            }
            Err(error) => {
                let error = call_error(error);
                if !error.retryable {
                    failed.extend(pending.into_iter().map(|k| (k, error.message.clone())));
                    failed.extend(queue.drain(..).map(|k| (k, error.message.clone())));
                    break;
                }
                (pending, error.message)
            }
        };
        if retry.is_empty() {
            backoff = new_backoff();
            continue;
        }
        match backoff.next_wait(deadline) {
            Some(wait) => {
                for key in retry.into_iter().rev() {
                    queue.push_front(key);
                }
                tokio::time::sleep(wait).await;
            }
            None => {
                failed.extend(retry.into_iter().map(|k| (k, error.clone())));
                backoff = new_backoff();
            }
        }
    }
    (found, failed, calls)
}

/// The chosen attributes of `item` as a JSON object: in the configured
/// order, or every attribute by name.
fn item_json(item: &HashMap<String, AttributeValue>, config: &LookupConfig) -> String {
    let mut out = Vec::with_capacity(128);
    out.push(b'{');
    let mut names: Vec<&String> = if config.attributes.is_empty() {
        let mut all: Vec<&String> = item.keys().collect();
        all.sort();
        all
    } else {
        config.attributes.iter().collect()
    };
    names.retain(|n| item.contains_key(*n));
    for (i, name) in names.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(&mut out, name);
        out.push(b':');
        write_attribute(&item[name], &mut out);
    }
    out.push(b'}');
    String::from_utf8(out).expect("the JSON writer writes UTF-8")
}

/// One attribute value as plain JSON.
pub fn write_attribute(value: &AttributeValue, out: &mut Vec<u8>) {
    match value {
        AttributeValue::S(s) => write_str(out, s),
        AttributeValue::N(n) => write_number(n, out),
        AttributeValue::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        AttributeValue::Null(_) => out.extend_from_slice(b"null"),
        AttributeValue::B(blob) => write_str(out, &crate::codec::encode(blob.as_ref())),
        AttributeValue::Ss(items) => write_array(out, items, |s, out| write_str(out, s)),
        AttributeValue::Ns(items) => write_array(out, items, |n, out| write_number(n, out)),
        AttributeValue::Bs(items) => write_array(out, items, |b, out| {
            write_str(out, &crate::codec::encode(b.as_ref()))
        }),
        AttributeValue::L(items) => write_array(out, items, write_attribute),
        AttributeValue::M(members) => {
            let mut names: Vec<&String> = members.keys().collect();
            names.sort();
            out.push(b'{');
            for (i, name) in names.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, name);
                out.push(b':');
                write_attribute(&members[name], out);
            }
            out.push(b'}');
        }
        _ => out.extend_from_slice(b"null"),
    }
}

fn write_array<T>(out: &mut Vec<u8>, items: &[T], mut write: impl FnMut(&T, &mut Vec<u8>)) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(item, out);
    }
    out.push(b']');
}

/// A DynamoDB number as a JSON number (DynamoDB's own text, which is
/// valid JSON but for a leading `+` or `.`; those are fixed up), or a
/// string when it is not a number at all.
pub(crate) fn write_number(n: &str, out: &mut Vec<u8>) {
    let n = n.trim();
    let n = n.strip_prefix('+').unwrap_or(n);
    if serde_json::from_str::<serde_json::Number>(n).is_ok() {
        out.extend_from_slice(n.as_bytes());
    } else if let Ok(f) = n.parse::<f64>() {
        match serde_json::Number::from_f64(f) {
            Some(number) => out.extend_from_slice(number.to_string().as_bytes()),
            None => write_str(out, n),
        }
    } else {
        write_str(out, n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_become_plain_json() {
        let item = HashMap::from([
            ("id".to_string(), AttributeValue::S("c-7".into())),
            ("n".to_string(), AttributeValue::N("+.5".into())),
            (
                "tags".to_string(),
                AttributeValue::Ss(vec!["a".into(), "b\"".into()]),
            ),
            (
                "m".to_string(),
                AttributeValue::M(HashMap::from([
                    ("z".to_string(), AttributeValue::Null(true)),
                    (
                        "a".to_string(),
                        AttributeValue::L(vec![
                            AttributeValue::Bool(true),
                            AttributeValue::N("1e3".into()),
                        ]),
                    ),
                ])),
            ),
            (
                "b".to_string(),
                AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(b"hi".to_vec())),
            ),
        ]);
        let mut config = LookupConfig::from_settings(&Settings::from_pairs([
            ("DYNAMODB_TABLE", "t"),
            ("DYNAMODB_KEY_FIELD", "id"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            item_json(&item, &config),
            r#"{"b":"aGk=","id":"c-7","m":{"a":[true,1e3],"z":null},"n":0.5,"tags":["a","b\""]}"#
        );
        config.attributes = vec!["tags".into(), "missing".into(), "id".into()];
        assert_eq!(
            item_json(&item, &config),
            r#"{"tags":["a","b\""],"id":"c-7"}"#
        );
    }

    #[test]
    fn bad_settings_name_the_variable() {
        let error = |pairs: &[(&str, &str)]| {
            LookupConfig::from_settings(&Settings::from_pairs(pairs.iter().copied()))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            error(&[
                ("DYNAMODB_TABLE", "t"),
                ("DYNAMODB_KEY_FIELD", "id"),
                ("DYNAMODB_ON_ERROR", "skip")
            ]),
            "DYNAMODB_ON_ERROR: \"skip\" is not a policy (fail or pass)"
        );
        assert_eq!(
            error(&[("DYNAMODB_TABLE", "t"), ("DYNAMODB_KEY_FIELD", ".a[0]")]),
            "DYNAMODB_KEY_ATTRIBUTE: is required: the key field does not end in a member name"
        );
    }
}
