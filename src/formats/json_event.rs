//! JSON log events checked against the members their service documents: the
//! shape CloudTrail events and AWS WAF logs share.
//!
//! Such an event is kept as the service wrote it (a [`doc::Value`] that
//! borrows from the text, members looked into only when read), so every
//! member, including those added after this was written, reaches the output
//! unchanged. What is checked is what makes it an event of that service: a
//! JSON object, with each required member present and of its JSON type. The
//! check reads only the top level, which the one validating pass over the
//! text has already split into members.
//!
//! ```
//! use firehose_transform::formats::json_event::{self, JsonType};
//!
//! const REQUIRED: &[(&str, JsonType)] = &[("id", JsonType::String), ("at", JsonType::Number)];
//! let doc = json_event::parse(r#"{"id":"a","at":17,"more":[1]}"#, REQUIRED).unwrap();
//! assert_eq!(json_event::str_member(&doc, "id"), Some("a"));
//! let error = json_event::parse(r#"{"id":7,"at":17}"#, REQUIRED).unwrap_err();
//! assert_eq!(error.to_string(), "`id` is a number, expected a string");
//! let error = json_event::parse(r#"{"id":"a"}"#, REQUIRED).unwrap_err();
//! assert_eq!(error.to_string(), "no `at` member");
//! ```
//!
//! [`doc::Value`]: crate::doc::Value

use std::borrow::Cow;
use std::fmt;

use crate::doc::{JsonError, Value};

/// The JSON type a member must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JsonType {
    /// A string.
    String,
    /// A number.
    Number,
    /// `true` or `false`.
    Bool,
    /// An object.
    Object,
    /// An array.
    Array,
}

impl JsonType {
    fn name(self) -> &'static str {
        match self {
            JsonType::String => "a string",
            JsonType::Number => "a number",
            JsonType::Bool => "a boolean",
            JsonType::Object => "an object",
            JsonType::Array => "an array",
        }
    }

    /// The type of a value, as far as its top level tells.
    pub fn of(value: &Value<'_>) -> Option<JsonType> {
        match value {
            Value::Str(_) => Some(JsonType::String),
            Value::Number(_) => Some(JsonType::Number),
            Value::Bool(_) => Some(JsonType::Bool),
            Value::Object(_) => Some(JsonType::Object),
            Value::Array(_) => Some(JsonType::Array),
            Value::Raw(raw) => match raw.trim_start().as_bytes().first() {
                Some(b'{') => Some(JsonType::Object),
                Some(b'[') => Some(JsonType::Array),
                Some(b'"') => Some(JsonType::String),
                Some(b't' | b'f') => Some(JsonType::Bool),
                Some(b'n') | None => None,
                Some(_) => Some(JsonType::Number),
            },
            Value::Null => None,
        }
    }
}

/// Why a text is not an event of the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventError {
    /// Not JSON: what and where (line and column).
    Json(JsonError),
    /// JSON, but not an object.
    NotAnObject,
    /// A required member is missing (or `null`).
    Missing(&'static str),
    /// A required member has another type.
    WrongType {
        /// The member.
        member: &'static str,
        /// The type it must have.
        expected: JsonType,
        /// The type it has.
        found: JsonType,
    },
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventError::Json(error) => write!(f, "not JSON: {error}"),
            EventError::NotAnObject => f.write_str("not a JSON object"),
            EventError::Missing(member) => write!(f, "no `{member}` member"),
            EventError::WrongType {
                member,
                expected,
                found,
            } => write!(
                f,
                "`{member}` is {}, expected {}",
                found.name(),
                expected.name()
            ),
        }
    }
}

impl std::error::Error for EventError {}

/// Parses `text` as one JSON object and checks its required members.
pub fn parse<'a>(
    text: &'a str,
    required: &[(&'static str, JsonType)],
) -> Result<Value<'a>, EventError> {
    let doc = Value::parse_json(text).map_err(EventError::Json)?;
    check(&doc, required)?;
    Ok(doc)
}

/// Checks that `doc` is an object with each required member, of its type.
pub fn check(doc: &Value<'_>, required: &[(&'static str, JsonType)]) -> Result<(), EventError> {
    let Value::Object(members) = doc else {
        return Err(EventError::NotAnObject);
    };
    for &(name, expected) in required {
        let value = members
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v);
        match value.and_then(JsonType::of) {
            None => return Err(EventError::Missing(name)),
            Some(found) if found != expected => {
                return Err(EventError::WrongType {
                    member: name,
                    expected,
                    found,
                })
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// A top-level member of an object, when there is one.
pub fn member<'v, 'a>(doc: &'v Value<'a>, name: &str) -> Option<&'v Value<'a>> {
    match doc {
        Value::Object(members) => members
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v),
        _ => None,
    }
}

/// A top-level string member.
pub fn str_member<'v>(doc: &'v Value<'_>, name: &str) -> Option<&'v str> {
    member(doc, name).and_then(Value::as_str)
}

/// The string at a nested path of member names (`["userIdentity", "arn"]`),
/// looking into the members on the way.
pub fn str_at<'a>(doc: &Value<'a>, names: &[&str]) -> Option<Cow<'a, str>> {
    let path = crate::doc::Path::from_keys(names.iter().copied());
    match doc.get(&path)?.into_owned() {
        Value::Str(s) => Some(s),
        _ => None,
    }
}
