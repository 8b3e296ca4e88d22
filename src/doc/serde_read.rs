//! serde_json's reading of a document, used when [`scan`](super::scan)
//! refuses a text: serde_json then says what is wrong and where, so error
//! messages, lines and columns are its own.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{JsonError, Value};

/// [`Value::parse_json`] through serde_json.
pub(super) fn parse_json(text: &str) -> Result<Value<'_>, JsonError> {
    if starts_number(text) {
        // A number is kept as written, at the top level as in a member:
        // read as its raw text, not through f64 (which would round a
        // long integer, rewrite `1.50` and refuse `1e400`).
        let raw: &RawValue = serde_json::from_str(text).map_err(|e| JsonError::new(&e))?;
        return Ok(Value::Number(Cow::Borrowed(raw.get())));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Shallow::deserialize(&mut de).map_err(|e| JsonError::new(&e))?;
    de.end().map_err(|e| JsonError::new(&e))?;
    Ok(value.0)
}

/// [`Value::parse_json_stream`] through serde_json.
pub(super) fn parse_json_stream(
    text: &str,
) -> impl Iterator<Item = Result<(Value<'_>, &str), JsonError>> {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Shallow<'_>>();
    let mut failed = false;
    let mut end = 0;
    std::iter::from_fn(move || {
        if failed {
            return None;
        }
        match stream.next()? {
            Ok(value) => {
                let start = end;
                end = stream.byte_offset();
                let own = text[start..end].trim_ascii();
                // A number came through f64: keep its text instead.
                let value = match value.0 {
                    Value::Number(_) => Value::Number(Cow::Borrowed(own)),
                    other => other,
                };
                Some(Ok((value, own)))
            }
            Err(error) => {
                failed = true;
                Some(Err(JsonError::new(&error)))
            }
        }
    })
}

/// Deserializes one level of JSON: containers get `Raw` members.
struct Shallow<'a>(Value<'a>);

/// A member name, borrowed when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// The text of one value, borrowed from the input.
struct RawText<'a>(&'a str);

impl<'de> Deserialize<'de> for RawText<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <&'de RawValue>::deserialize(deserializer)?;
        Ok(RawText(raw.get()))
    }
}

impl<'de> Deserialize<'de> for Shallow<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ShallowVisitor;
        impl<'de> Visitor<'de> for ShallowVisitor {
            type Value = Shallow<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Shallow<'de>, E> {
                Ok(Shallow(Value::Null))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Shallow<'de>, E> {
                Ok(Shallow(Value::Bool(v)))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Shallow<'de>, E> {
                Ok(Shallow(Value::Str(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Shallow<'de>, E> {
                Ok(Shallow(Value::Str(Cow::Owned(v.to_string()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Shallow<'de>, E> {
                Ok(Shallow(Value::Str(Cow::Owned(v))))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shallow<'de>, A::Error> {
                let mut items = Vec::new();
                while let Some(RawText(raw)) = seq.next_element::<RawText<'de>>()? {
                    items.push(raw_value(raw));
                }
                Ok(Shallow(Value::Array(items)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shallow<'de>, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(16));
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    let RawText(raw) = map.next_value::<RawText<'de>>()?;
                    members.push((key, raw_value(raw)));
                }
                Ok(Shallow(Value::Object(members)))
            }
            // Numbers arrive here only at the top level of a stream (members
            // are raw text, and `parse_json` reads a number as its text):
            // `parse_json_stream` replaces them with their text.
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Shallow<'de>, E> {
                Ok(Shallow(Value::Number(Cow::Owned(v.to_string()))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Shallow<'de>, E> {
                Ok(Shallow(Value::Number(Cow::Owned(v.to_string()))))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Shallow<'de>, E> {
                Ok(Shallow(Value::Number(Cow::Owned(
                    serde_json::Number::from_f64(v)
                        .map_or_else(|| "null".into(), |n| n.to_string()),
                ))))
            }
        }
        deserializer.deserialize_any(ShallowVisitor)
    }
}

/// Whether a JSON text's value is a number (after JSON's whitespace).
fn starts_number(text: &str) -> bool {
    matches!(
        text.trim_start_matches([' ', '\t', '\n', '\r'])
            .as_bytes()
            .first(),
        Some(b'-' | b'0'..=b'9')
    )
}

/// A member's raw text as a value: scalars are taken as they are (cheap to
/// tell apart by their first byte), containers stay raw.
fn raw_value(raw: &str) -> Value<'_> {
    match raw.as_bytes().first() {
        Some(b'{' | b'[') => Value::Raw(Cow::Borrowed(raw)),
        Some(b'"') => {
            let inner = &raw[1..raw.len() - 1];
            if !inner.contains('\\') {
                Value::Str(Cow::Borrowed(inner))
            } else {
                match serde_json::from_str::<String>(raw) {
                    Ok(s) => Value::Str(Cow::Owned(s)),
                    Err(_) => Value::Raw(Cow::Borrowed(raw)),
                }
            }
        }
        Some(b't') => Value::Bool(true),
        Some(b'f') => Value::Bool(false),
        Some(b'n') => Value::Null,
        _ => Value::Number(Cow::Borrowed(raw)),
    }
}
