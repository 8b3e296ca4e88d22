//! A record's fields as a tree the pipeline's stages read and change:
//! [`Value`], borrowed from the record and looked into only where a stage
//! asks.
//!
//! A JSON record is scanned once, at its top level: each member's value stays
//! [`Value::Raw`], the record's own text, until a stage reads into it, and is
//! then parsed one level further. Writing the document back copies every part
//! no stage changed as it was, so a pipeline that filters on two fields never
//! builds the other twenty, and its output keeps the record's own number
//! formatting, member order and escapes.
//!
//! ```
//! use firehose_transform::doc::{Path, Value};
//!
//! let mut doc = Value::parse_json(r#"{"user":{"email":"a@example.com","id":7},"status":404}"#).unwrap();
//! assert_eq!(doc.get(&Path::parse(".status").unwrap()).unwrap().as_i64(), Some(404));
//! doc.set(&Path::parse(".user.email").unwrap(), Value::from("*****"));
//! doc.remove(&Path::parse(".status").unwrap());
//! assert_eq!(doc.to_json(), br#"{"user":{"email":"*****","id":7}}"#);
//! ```

use std::borrow::Cow;
use std::fmt;

use crate::formats::json::write_str;

mod scan;
mod serde_read;

/// A JSON value, borrowed from a record where it can be.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number as written in the record (kept so it is written back
    /// unchanged: `1.50` stays `1.50`, a 30-digit integer stays exact).
    Number(Cow<'a, str>),
    /// A string, unescaped.
    Str(Cow<'a, str>),
    /// Valid JSON text not looked into yet (written back as it is).
    Raw(Cow<'a, str>),
    /// An array.
    Array(Vec<Value<'a>>),
    /// An object: members in order.
    Object(Vec<(Cow<'a, str>, Value<'a>)>),
}

/// A JSON text that is not valid JSON: what is wrong, with its line and
/// column (1-based, as serde_json counts them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    message: String,
    line: usize,
    column: usize,
}

impl JsonError {
    fn new(error: &serde_json::Error) -> Self {
        // serde_json's message ends with " at line L column C"; keep the
        // message alone and the position as numbers.
        let text = error.to_string();
        let message = match text.rfind(" at line ") {
            Some(at) => text[..at].to_string(),
            None => text,
        };
        JsonError {
            message,
            line: error.line(),
            column: error.column(),
        }
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The line (1-based).
    pub fn line(&self) -> usize {
        self.line
    }

    /// The column (1-based).
    pub fn column(&self) -> usize {
        self.column
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {} column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for JsonError {}

impl<'a> Value<'a> {
    /// Parses one JSON value (whitespace around it allowed), scanning objects
    /// and arrays one level deep: their members stay [`Value::Raw`] until read.
    /// The whole text is validated.
    ///
    /// ```
    /// use firehose_transform::doc::Value;
    /// let error = Value::parse_json("{\"a\":1,\n\"b\":}").unwrap_err();
    /// assert_eq!(error.to_string(), "line 2 column 5: expected value");
    /// ```
    pub fn parse_json(text: &'a str) -> Result<Value<'a>, JsonError> {
        // Refused: serde_json reads it again to say what and where.
        scan::document(text).or_else(|scan::Invalid| serde_read::parse_json(text))
    }

    /// Every JSON value in `text`, one after another (newline-delimited, or
    /// simply concatenated: `{"a":1}{"a":2}`), each scanned as by
    /// [`parse_json`](Value::parse_json) and given with its own text. Stops
    /// at the first error.
    ///
    /// ```
    /// use firehose_transform::doc::Value;
    /// let docs: Vec<_> = Value::parse_json_stream("{\"a\":1}\n{\"a\": 2}\n").collect();
    /// assert_eq!(docs.len(), 2);
    /// let (value, text) = docs[1].as_ref().unwrap();
    /// assert_eq!(value.to_json(), br#"{"a":2}"#);
    /// assert_eq!(*text, r#"{"a": 2}"#);
    /// ```
    pub fn parse_json_stream(
        text: &'a str,
    ) -> impl Iterator<Item = Result<(Value<'a>, &'a str), JsonError>> {
        let mut values = scan::stream(text);
        let mut read = 0;
        // After a refusal: serde_json's reading from there, for its error.
        let mut refused: Option<Box<dyn Iterator<Item = _> + 'a>> = None;
        std::iter::from_fn(move || {
            if let Some(rest) = &mut refused {
                return rest.next();
            }
            match values.next()? {
                Ok(value) => {
                    read += 1;
                    Some(Ok(value))
                }
                Err(scan::Invalid) => {
                    // serde_json reads the same values up to this one (they
                    // were given already), then says what is wrong with it.
                    let mut rest = serde_read::parse_json_stream(text).skip(read);
                    let next = rest.next();
                    refused = Some(Box::new(rest));
                    next
                }
            }
        })
    }

    /// Looks one level into a [`Value::Raw`] (other values are returned as
    /// they are): objects and arrays get members that are themselves `Raw`.
    fn expand(self) -> Value<'a> {
        match self {
            Value::Raw(Cow::Borrowed(text)) => expand_raw(text),
            // Owned text cannot be borrowed from past this call: parse it and
            // own the result.
            Value::Raw(Cow::Owned(text)) => expand_raw(&text).into_owned(),
            other => other,
        }
    }

    /// A copy that borrows nothing.
    pub fn into_owned(self) -> Value<'static> {
        let own = |s: Cow<'a, str>| Cow::Owned(s.into_owned());
        match self {
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(b),
            Value::Number(n) => Value::Number(own(n)),
            Value::Str(s) => Value::Str(own(s)),
            Value::Raw(r) => Value::Raw(own(r)),
            Value::Array(items) => Value::Array(items.into_iter().map(Value::into_owned).collect()),
            Value::Object(members) => Value::Object(
                members
                    .into_iter()
                    .map(|(k, v)| (own(k), v.into_owned()))
                    .collect(),
            ),
        }
    }

    /// Makes this value's top level looked into (a `Raw` becomes what it
    /// holds), in place.
    fn expand_in_place(&mut self) {
        if matches!(self, Value::Raw(_)) {
            let raw = std::mem::replace(self, Value::Null);
            *self = raw.expand();
        }
    }

    /// The value at `path`, looked into as far as needed. Borrowed when the
    /// path ends on a value already looked into; parsed (from the record's
    /// text) when it ends inside one not yet looked into.
    pub fn get(&self, path: &Path) -> Option<Cow<'_, Value<'a>>> {
        let mut current: Cow<'_, Value<'a>> = Cow::Borrowed(self);
        for segment in &path.segments {
            current = match current {
                Cow::Borrowed(value) => match value {
                    Value::Raw(_) => Cow::Owned(child(value.clone().expand(), segment)?),
                    _ => Cow::Borrowed(child_ref(value, segment)?),
                },
                Cow::Owned(value) => Cow::Owned(child(value.expand(), segment)?),
            };
        }
        Some(match current {
            Cow::Borrowed(Value::Raw(_)) => Cow::Owned(current.into_owned().expand()),
            Cow::Owned(value) => Cow::Owned(value.expand()),
            borrowed => borrowed,
        })
    }

    /// The value at `path` for changing, looked into (and so no longer copied
    /// as written) along the way; `None` when the path does not exist.
    pub fn get_mut(&mut self, path: &Path) -> Option<&mut Value<'a>> {
        let mut current = self;
        for segment in &path.segments {
            current.expand_in_place();
            current = child_mut(current, segment)?;
        }
        current.expand_in_place();
        Some(current)
    }

    /// Sets the value at `path`, creating the last member if the object
    /// holding it exists. Returns whether it was set (the path's parent
    /// exists and is an object or an array holding that index).
    pub fn set(&mut self, path: &Path, value: Value<'a>) -> bool {
        let Some((last, parent)) = path.segments.split_last() else {
            *self = value;
            return true;
        };
        let parent = Path {
            segments: parent.to_vec(),
        };
        let Some(container) = self.get_mut(&parent) else {
            return false;
        };
        match (container, last) {
            (Value::Object(members), Segment::Key(key)) => {
                match members.iter_mut().find(|(k, _)| k == key) {
                    Some(slot) => slot.1 = value,
                    None => members.push((Cow::Owned(key.clone()), value)),
                }
                true
            }
            (Value::Array(items), Segment::Index(index)) => {
                match index_of(items.len(), *index).and_then(|i| items.get_mut(i)) {
                    Some(slot) => {
                        *slot = value;
                        true
                    }
                    None => false,
                }
            }
            _ => false,
        }
    }

    /// Removes the member (or array element) at `path`; returns it.
    pub fn remove(&mut self, path: &Path) -> Option<Value<'a>> {
        let (last, parent) = path.segments.split_last()?;
        let parent = Path {
            segments: parent.to_vec(),
        };
        match (self.get_mut(&parent)?, last) {
            (Value::Object(members), Segment::Key(key)) => {
                let at = members.iter().position(|(k, _)| k == key)?;
                Some(members.remove(at).1)
            }
            (Value::Array(items), Segment::Index(index)) => {
                let at = index_of(items.len(), *index).filter(|&i| i < items.len())?;
                Some(items.remove(at))
            }
            _ => None,
        }
    }

    /// Calls `f` on every string value in the tree (not on keys), looking into
    /// every part of it.
    pub fn for_each_str_mut(&mut self, f: &mut dyn FnMut(&mut Cow<'a, str>)) {
        self.expand_in_place();
        match self {
            Value::Str(s) => f(s),
            Value::Array(items) => items.iter_mut().for_each(|v| v.for_each_str_mut(f)),
            Value::Object(members) => members.iter_mut().for_each(|(_, v)| v.for_each_str_mut(f)),
            _ => {}
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The number as an `i64`, if it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.parse().ok(),
            _ => None,
        }
    }

    /// The number as an `f64`, if this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => n.parse().ok(),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Writes the value as compact JSON. Parts not looked into are copied as
    /// written, minus any whitespace between tokens (so a pretty-printed
    /// record still comes out on one line).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Value::Null => out.extend_from_slice(b"null"),
            Value::Bool(true) => out.extend_from_slice(b"true"),
            Value::Bool(false) => out.extend_from_slice(b"false"),
            Value::Number(n) => out.extend_from_slice(n.as_bytes()),
            Value::Str(s) => write_str(out, s),
            Value::Raw(raw) => write_compact(raw, out),
            Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write_json(out);
                }
                out.push(b']');
            }
            Value::Object(members) => {
                out.push(b'{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_str(out, key);
                    out.push(b':');
                    value.write_json(out);
                }
                out.push(b'}');
            }
        }
    }

    /// [`write_json`](Value::write_json) into a new buffer.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_json(&mut out);
        out
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(s: &'a str) -> Self {
        Value::Str(Cow::Borrowed(s))
    }
}

impl From<String> for Value<'_> {
    fn from(s: String) -> Self {
        Value::Str(Cow::Owned(s))
    }
}

impl From<i64> for Value<'_> {
    fn from(n: i64) -> Self {
        Value::Number(Cow::Owned(n.to_string()))
    }
}

impl From<bool> for Value<'_> {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

/// Copies valid JSON text, dropping whitespace outside strings when it has
/// any line break (the common compact case is one plain copy), so that it
/// takes one line.
pub fn write_compact(raw: &str, out: &mut Vec<u8>) {
    let bytes = raw.trim_ascii().as_bytes();
    // Valid JSON has no raw line break inside a string, so one anywhere is
    // whitespace between tokens; memchr finds it (or not) at SIMD speed.
    if memchr::memchr2(b'\n', b'\r', bytes).is_none() {
        out.extend_from_slice(bytes);
        return;
    }
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            if b == b'"' {
                in_string = true;
            }
            out.push(b);
        }
    }
}

fn index_of(len: usize, index: i64) -> Option<usize> {
    if index >= 0 {
        usize::try_from(index).ok()
    } else {
        len.checked_sub(usize::try_from(index.unsigned_abs()).ok()?)
    }
}

fn child_ref<'v, 'a>(value: &'v Value<'a>, segment: &Segment) -> Option<&'v Value<'a>> {
    match (value, segment) {
        (Value::Object(members), Segment::Key(key)) => {
            // The last of duplicate keys wins, as in jq and serde_json.
            members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
        }
        (Value::Array(items), Segment::Index(index)) => items.get(index_of(items.len(), *index)?),
        _ => None,
    }
}

fn child<'a>(value: Value<'a>, segment: &Segment) -> Option<Value<'a>> {
    match (value, segment) {
        (Value::Object(members), Segment::Key(key)) => members
            .into_iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v),
        (Value::Array(mut items), Segment::Index(index)) => {
            let at = index_of(items.len(), *index).filter(|&i| i < items.len())?;
            Some(items.swap_remove(at))
        }
        _ => None,
    }
}

fn child_mut<'v, 'a>(value: &'v mut Value<'a>, segment: &Segment) -> Option<&'v mut Value<'a>> {
    match (value, segment) {
        (Value::Object(members), Segment::Key(key)) => members
            .iter_mut()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v),
        (Value::Array(items), Segment::Index(index)) => {
            let at = index_of(items.len(), *index)?;
            items.get_mut(at)
        }
        _ => None,
    }
}

/// One level of a raw JSON text (known valid: it came through the parser).
fn expand_raw(text: &str) -> Value<'_> {
    match scan::top_level(text, 0) {
        Ok((value, _)) => value,
        // Unreachable for text the parser produced; keep it as it was.
        Err(scan::Invalid) => Value::Raw(Cow::Borrowed(text)),
    }
}

/// A path into a document, in jq's syntax for simple paths: `.a.b`,
/// `.["a key"]`, `.a[0]`, `.a[-1]`.
///
/// ```
/// use firehose_transform::doc::Path;
/// let path = Path::parse(r#".user["e-mail"][0]"#).unwrap();
/// assert_eq!(path.to_string(), r#".user["e-mail"][0]"#);
/// assert!(Path::parse("user").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Path {
    segments: Vec<Segment>,
}

/// One step of a [`Path`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// An object member.
    Key(String),
    /// An array element (negative counts from the end).
    Index(i64),
}

impl Path {
    /// The path of these member names.
    pub fn from_keys<S: Into<String>>(keys: impl IntoIterator<Item = S>) -> Self {
        Path {
            segments: keys.into_iter().map(|k| Segment::Key(k.into())).collect(),
        }
    }

    /// The root, `.`.
    pub fn root() -> Self {
        Path::default()
    }

    /// This path with one more member name at its end.
    ///
    /// ```
    /// use firehose_transform::doc::Path;
    /// assert_eq!(Path::parse(".a").unwrap().child("b"), Path::parse(".a.b").unwrap());
    /// ```
    pub fn child(&self, key: impl Into<String>) -> Path {
        let mut segments = self.segments.clone();
        segments.push(Segment::Key(key.into()));
        Path { segments }
    }

    /// Parses `.a.b`, `.["a b"]`, `.a[0]`; an error says what and at which
    /// character.
    pub fn parse(text: &str) -> Result<Path, String> {
        let text = text.trim();
        let bytes = text.as_bytes();
        if bytes.first() != Some(&b'.') {
            return Err(format!(
                "a path starts with `.` (as in `.user.id`), not {text:?}"
            ));
        }
        let mut segments = Vec::new();
        let mut at = 0;
        if text == "." {
            return Ok(Path { segments });
        }
        while at < bytes.len() {
            match bytes[at] {
                b'.' if bytes.get(at + 1) == Some(&b'[') => at += 1,
                b'.' => {
                    let start = at + 1;
                    let end = text[start..]
                        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .map_or(text.len(), |n| start + n);
                    if end == start || text.as_bytes()[start].is_ascii_digit() {
                        return Err(format!(
                            "expected a member name after `.` at character {} of {text:?} (quote other names: .[\"a-b\"])",
                            start + 1
                        ));
                    }
                    segments.push(Segment::Key(text[start..end].to_string()));
                    at = end;
                }
                b'[' => {
                    let close = text[at..].find(']').map(|n| at + n).ok_or_else(|| {
                        format!("unclosed `[` at character {} of {text:?}", at + 1)
                    })?;
                    let inner = text[at + 1..close].trim();
                    if inner.starts_with('"') {
                        let key: String = serde_json::from_str(inner).map_err(|e| {
                            format!("bad quoted name at character {} of {text:?}: {e}", at + 2)
                        })?;
                        segments.push(Segment::Key(key));
                    } else {
                        let index = inner.parse::<i64>().map_err(|_| {
                            format!(
                                "expected an index or a quoted name inside `[]` at character {} of {text:?}",
                                at + 2
                            )
                        })?;
                        segments.push(Segment::Index(index));
                    }
                    at = close + 1;
                }
                _ => {
                    return Err(format!(
                        "unexpected {:?} at character {} of {text:?}",
                        text[at..].chars().next().unwrap_or(' '),
                        at + 1
                    ))
                }
            }
        }
        Ok(Path { segments })
    }

    /// The steps, outermost first.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Whether this is the root, `.`.
    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }
}

/// `".client.ip".parse::<Path>()`, as [`Path::parse`].
///
/// ```
/// use firehose_transform::doc::Path;
/// let path: Path = ".client.ip".parse().unwrap();
/// assert_eq!(path, Path::from_keys(["client", "ip"]));
/// ```
impl std::str::FromStr for Path {
    type Err = String;

    fn from_str(text: &str) -> Result<Path, String> {
        Path::parse(text)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.segments.is_empty() {
            return f.write_str(".");
        }
        for (i, segment) in self.segments.iter().enumerate() {
            let bracketed = match segment {
                Segment::Key(key) => {
                    key.is_empty()
                        || key.starts_with(|c: char| c.is_ascii_digit())
                        || !key.chars().all(|c| c.is_alphanumeric() || c == '_')
                }
                Segment::Index(_) => true,
            };
            if i == 0 && bracketed {
                f.write_str(".")?;
            }
            match segment {
                Segment::Key(key)
                    if !key.is_empty()
                        && !key.starts_with(|c: char| c.is_ascii_digit())
                        && key.chars().all(|c| c.is_alphanumeric() || c == '_') =>
                {
                    write!(f, ".{key}")?
                }
                Segment::Key(key) => write!(
                    f,
                    "[{}]",
                    serde_json::to_string(key).map_err(|_| fmt::Error)?
                )?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Path {
        Path::parse(p).unwrap()
    }

    #[test]
    fn untouched_members_are_copied_as_written() {
        let text = r#"{"a":1.50,"b":{"c":"x\u00e9"},"d":[1, 2]}"#;
        let doc = Value::parse_json(text).unwrap();
        assert_eq!(
            doc.to_json(),
            br#"{"a":1.50,"b":{"c":"x\u00e9"},"d":[1, 2]}"#
        );
    }

    #[test]
    fn pretty_printed_records_come_out_on_one_line() {
        let text = "{\n  \"a\": [1,\n 2],\n  \"b\": \"x y\"\n}\n";
        let doc = Value::parse_json(text).unwrap();
        assert_eq!(doc.to_json(), br#"{"a":[1,2],"b":"x y"}"#);
    }

    #[test]
    fn get_reads_nested_members_and_indexes() {
        let doc = Value::parse_json(r#"{"a":{"b":[10,{"c":"deep"}]},"s":"x\"y"}"#).unwrap();
        assert_eq!(doc.get(&path(".a.b[1].c")).unwrap().as_str(), Some("deep"));
        assert_eq!(doc.get(&path(".a.b[-2]")).unwrap().as_i64(), Some(10));
        assert_eq!(doc.get(&path(".s")).unwrap().as_str(), Some("x\"y"));
        assert!(doc.get(&path(".a.zz")).is_none());
        assert!(doc.get(&path(".s.x")).is_none());
    }

    #[test]
    fn set_and_remove_change_only_their_member() {
        let mut doc =
            Value::parse_json(r#"{"u":{"e":"a@b.c","n":1},"p":"secret","k":[1,2]}"#).unwrap();
        assert!(doc.set(&path(".u.e"), Value::from("h")));
        assert!(doc.set(&path(".geo"), Value::Raw(Cow::Borrowed(r#"{"c":"GB"}"#))));
        assert_eq!(doc.remove(&path(".p")), Some(Value::from("secret")));
        assert!(!doc.set(&path(".missing.x"), Value::Null));
        assert_eq!(
            doc.to_json(),
            br#"{"u":{"e":"h","n":1},"k":[1,2],"geo":{"c":"GB"}}"#
        );
    }

    #[test]
    fn errors_give_line_and_column() {
        let error = Value::parse_json("{\"a\" 1}").unwrap_err();
        assert_eq!((error.line(), error.column()), (1, 6));
        assert_eq!(error.message(), "expected `:`");
        let error = Value::parse_json("{\"a\":1} x").unwrap_err();
        assert_eq!(error.message(), "trailing characters");
    }

    #[test]
    fn streams_of_objects_split_and_report_the_bad_one() {
        let docs: Vec<_> = Value::parse_json_stream("{\"a\":1} {\"a\":2}\n{bad}").collect();
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[1].as_ref().unwrap().1, "{\"a\":2}");
        assert_eq!(docs[2].as_ref().unwrap_err().line(), 2);
    }

    #[test]
    fn every_string_can_be_rewritten_and_owned_raw_text_is_read() {
        let mut doc = Value::Raw(Cow::Owned(
            r#"{"a":"x","b":["y",{"c":"z"}],"n":1}"#.to_string(),
        ));
        doc.for_each_str_mut(&mut |s| *s = Cow::Owned(s.to_uppercase()));
        assert_eq!(doc.to_json(), br#"{"a":"X","b":["Y",{"c":"Z"}],"n":1}"#);
    }

    #[test]
    fn paths_parse_and_print() {
        for text in [
            ".",
            ".a",
            ".a.b_c",
            r#".["a b"].c"#,
            ".a[0][-1]",
            ".é",
            ".[2]",
        ] {
            assert_eq!(path(text).to_string(), text);
        }
        assert!(Path::parse(".a[").unwrap_err().contains("unclosed"));
        assert!(Path::parse(".1a").unwrap_err().contains("member name"));
        assert!(Path::parse(".a b").unwrap_err().contains("unexpected"));
    }
}
