//! Log lines as a list of named, typed fields: the shape that ALB access
//! logs, VPC flow logs and CloudFront real-time logs share.
//!
//! Each of those formats is a line of values separated by one byte (a space
//! or a tab), where `-` means "no value", some values are numbers, and AWS
//! appends new fields at the end over the years. This module holds what they
//! have in common, written once:
//!
//! - a [`Layout`]: the fields' names and [`Kind`]s, fixed (ALB) or read from
//!   configuration (VPC flow logs' custom formats, CloudFront's field list,
//!   with [`Layout::parse_names`]);
//! - a [`Row`]: one line's values, borrowed from the line (owned only when a
//!   quoted value held an escape), plus the values past the end of the
//!   layout, kept as [`Row::extra`] rather than failing the line;
//! - the scanner ([`Splitter`]) that finds the values, with typed errors that
//!   say what and at which byte;
//! - [`Row::write_json`]: one JSON object, through
//!   [`ObjectWriter`], the same way for every format. Numbers are written as
//!   the line has them (checked to be JSON numbers when parsed, so `0.000`
//!   stays `0.000`); `-` is `null`; extra values are the array `extra_fields`.
//!
//! ```
//! use firehose_transform::formats::fields::{Kind, Layout, Splitter};
//! use firehose_transform::formats::json::ObjectWriter;
//!
//! let layout = Layout::parse_names("${version} ${srcaddr} ${bytes}", |_| Kind::Text).unwrap();
//! assert_eq!(layout.names().collect::<Vec<_>>(), ["version", "srcaddr", "bytes"]);
//!
//! let layout = Layout::new([("host", Kind::Text), ("status", Kind::Integer), ("secs", Kind::Decimal)]);
//! let row = Splitter::spaces().row(&layout, "example.com 200 0.040 surplus").unwrap();
//! assert_eq!(row.get(&layout, "status"), Some("200"));
//! let mut out = Vec::new();
//! let mut object = ObjectWriter::new(&mut out);
//! row.write_json(&layout, &mut object);
//! object.finish();
//! assert_eq!(out, br#"{"host":"example.com","status":200,"secs":0.040,"extra_fields":["surplus"]}"#);
//!
//! let error = Splitter::spaces().row(&layout, "example.com OK 0.040").unwrap_err();
//! assert_eq!(error.to_string(), "expected an integer or `-` in `status` at byte 12");
//! ```

use std::borrow::Cow;
use std::fmt;

use crate::formats::json::{write_str, EncodedKey, ObjectWriter};

/// The member holding values past the last field of the layout.
pub const EXTRA_FIELDS: &str = "extra_fields";

/// What a field's value is, besides `-` (no value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Any text, written as a JSON string.
    Text,
    /// An integer (`-?[0-9]+`), written as a JSON number.
    Integer,
    /// A decimal (`-?[0-9]+(\.[0-9]+)?`), written as a JSON number as it is
    /// in the line (`0.000` stays `0.000`).
    Decimal,
}

impl Kind {
    /// Whether `text` is a value of this kind (`-` is checked apart).
    ///
    /// ```
    /// use firehose_transform::formats::fields::Kind;
    /// assert!(Kind::Integer.accepts("-1") && Kind::Integer.accepts("000") && !Kind::Integer.accepts("1.5"));
    /// assert!(Kind::Decimal.accepts("0.000") && Kind::Decimal.accepts("12") && !Kind::Decimal.accepts("1."));
    /// ```
    pub fn accepts(self, text: &str) -> bool {
        match self {
            Kind::Text => true,
            Kind::Integer => integer_len(text.as_bytes()) == Some(text.len()),
            Kind::Decimal => {
                let b = text.as_bytes();
                let Some(int) = integer_len(b) else {
                    return false;
                };
                match b.get(int) {
                    None => true,
                    Some(b'.') => {
                        let fraction = &b[int + 1..];
                        !fraction.is_empty() && fraction.iter().all(u8::is_ascii_digit)
                    }
                    Some(_) => false,
                }
            }
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Integer => "an integer",
            Kind::Decimal => "a number",
        }
    }
}

/// The length of the integer at the start of `b` (`-?[0-9]+`).
fn integer_len(b: &[u8]) -> Option<usize> {
    let sign = usize::from(b.first() == Some(&b'-'));
    let digits = b[sign..].iter().take_while(|c| c.is_ascii_digit()).count();
    (digits > 0).then_some(sign + digits)
}

/// Appends a number [`Kind::accepts`] took as JSON: as written, but without
/// leading zeros, which JSON does not allow (CloudFront writes a status of
/// `000` for a viewer that hung up first).
///
/// ```
/// let mut out = Vec::new();
/// firehose_transform::formats::fields::write_number(&mut out, "-007.50");
/// assert_eq!(out, b"-7.50");
/// ```
pub fn write_number(out: &mut Vec<u8>, number: &str) {
    let b = number.as_bytes();
    let (sign, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    let zeros = digits
        .windows(2)
        .take_while(|pair| pair[0] == b'0' && pair[1].is_ascii_digit())
        .count();
    if sign {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[zeros..]);
}

/// One field of a layout: its name in the output and its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDef {
    name: Box<str>,
    kind: Kind,
    /// The name as a JSON key, escaped once for every row written.
    key: EncodedKey,
}

impl FieldDef {
    fn new(name: Box<str>, kind: Kind) -> Self {
        FieldDef {
            key: EncodedKey::new(&name),
            name,
            kind,
        }
    }

    /// The field's name (the JSON member).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }
}

/// The fields of a line, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    fields: Vec<FieldDef>,
}

/// A field list from configuration that does not parse: what, and at which
/// character (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutError {
    problem: String,
    at: usize,
}

impl LayoutError {
    /// The character (1-based) where the problem is.
    pub fn position(&self) -> usize {
        self.at
    }
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: {}", self.at, self.problem)
    }
}

impl std::error::Error for LayoutError {}

impl Layout {
    /// A layout of these fields.
    pub fn new<N: Into<Box<str>>>(fields: impl IntoIterator<Item = (N, Kind)>) -> Self {
        Layout {
            fields: fields
                .into_iter()
                .map(|(name, kind)| FieldDef::new(name.into(), kind))
                .collect(),
        }
    }

    /// A layout from a list of field names as AWS writes them: `${name}`
    /// placeholders (a VPC flow log's `LogFormat`) or bare names, separated
    /// by spaces, tabs or commas. `kind_of` gives each name's kind (from the
    /// AWS name). Output names are the AWS names with every character other
    /// than a letter, a digit or `_` turned into `_` (`log-status` is
    /// `log_status`, `timestamp(ms)` is `timestamp_ms`), so that they are
    /// plain jq paths and SQL columns.
    ///
    /// ```
    /// use firehose_transform::formats::fields::{Kind, Layout};
    /// let error = Layout::parse_names("${version} ${srcaddr", |_| Kind::Text).unwrap_err();
    /// assert_eq!(error.to_string(), "at character 12: `${` without its closing `}`");
    /// let error = Layout::parse_names("version, srcaddr version", |_| Kind::Text).unwrap_err();
    /// assert_eq!(error.to_string(), "at character 18: `version` is listed twice");
    /// ```
    pub fn parse_names(text: &str, kind_of: impl Fn(&str) -> Kind) -> Result<Layout, LayoutError> {
        let mut fields: Vec<FieldDef> = Vec::new();
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let mut i = 0;
        let is_separator = |c: char| c.is_whitespace() || c == ',';
        while i < chars.len() {
            let (start, c) = chars[i];
            if is_separator(c) {
                i += 1;
                continue;
            }
            let at = i + 1;
            let (name, next) = if text[start..].starts_with("${") {
                let Some(close) = text[start..].find('}') else {
                    return Err(LayoutError {
                        problem: "`${` without its closing `}`".into(),
                        at,
                    });
                };
                let name = &text[start + 2..start + close];
                if name.contains(|c: char| c.is_whitespace() || c == '$' || c == '{') {
                    // `${a ${b}`: the first placeholder is the one left open.
                    return Err(LayoutError {
                        problem: "`${` without its closing `}`".into(),
                        at,
                    });
                }
                let end = start + close + 1;
                (
                    name,
                    chars
                        .iter()
                        .position(|&(o, _)| o >= end)
                        .unwrap_or(chars.len()),
                )
            } else {
                let len = chars[i..]
                    .iter()
                    .position(|&(_, c)| is_separator(c))
                    .unwrap_or(chars.len() - i);
                let end = chars.get(i + len).map_or(text.len(), |&(o, _)| o);
                (&text[start..end], i + len)
            };
            let name = name.trim();
            if name.is_empty() {
                return Err(LayoutError {
                    problem: "an empty field name".into(),
                    at,
                });
            }
            if let Some(bad) = name
                .chars()
                .find(|&c| c.is_whitespace() || matches!(c, '$' | '{' | '}' | '"'))
            {
                return Err(LayoutError {
                    problem: format!("{bad:?} in the field name `{name}`"),
                    at,
                });
            }
            let output = output_name(name);
            if fields.iter().any(|f| *f.name == *output) {
                return Err(LayoutError {
                    problem: format!("`{name}` is listed twice"),
                    at,
                });
            }
            fields.push(FieldDef::new(output.into(), kind_of(name)));
            i = next;
        }
        if fields.is_empty() {
            return Err(LayoutError {
                problem: "no field names".into(),
                at: 1,
            });
        }
        Ok(Layout { fields })
    }

    /// The fields.
    pub fn fields(&self) -> &[FieldDef] {
        &self.fields
    }

    /// The fields' names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.name())
    }

    /// How many fields there are.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The index of the field called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| *f.name == *name)
    }
}

/// An AWS field name as a JSON member: `log-status` → `log_status`.
pub fn output_name(aws_name: &str) -> String {
    let mut name: String = aws_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    while name.len() > 1 && name.ends_with('_') {
        name.pop();
    }
    name
}

/// One line's values, in the order of its [`Layout`]; `None` is `-`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Row<'a> {
    /// A value per field of the layout (`None` for `-`, and for fields past
    /// the end of a line that has fewer, where the format allows that).
    pub values: Vec<Option<Cow<'a, str>>>,
    /// Values past the last field of the layout, as written: fields AWS
    /// added after the layout was written.
    pub extra: Vec<Cow<'a, str>>,
}

impl<'a> Row<'a> {
    /// The value of the field called `name`; `None` for `-` or no such field.
    pub fn get(&self, layout: &Layout, name: &str) -> Option<&str> {
        self.values.get(layout.index_of(name)?)?.as_deref()
    }

    /// Writes the fields as members of `object`, in the layout's order, then
    /// the extra values as the array `extra_fields` when there are any.
    pub fn write_json(&self, layout: &Layout, object: &mut ObjectWriter<'_>) {
        for (field, value) in layout.fields.iter().zip(&self.values) {
            let out = object.encoded_key(&field.key);
            match (value, field.kind) {
                (None, _) => out.extend_from_slice(b"null"),
                (Some(text), Kind::Text) => write_str(out, text),
                // Checked by the parser to be a number.
                (Some(number), _) => write_number(out, number),
            }
        }
        for field in layout.fields.iter().skip(self.values.len()) {
            object.encoded_key(&field.key).extend_from_slice(b"null");
        }
        if !self.extra.is_empty() {
            let out = object.key(EXTRA_FIELDS);
            out.push(b'[');
            for (i, value) in self.extra.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, value);
            }
            out.push(b']');
        }
    }
}

/// What was wrong with a line; see [`ParseError`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The line is empty.
    Empty,
    /// The line ends before the field.
    Missing {
        /// How many values the line has.
        found: usize,
        /// How many it needs at least.
        expected: usize,
    },
    /// A value is not of its field's kind.
    NotA(Kind),
    /// A quoted value without its closing `"`.
    CloseQuote,
    /// A line break inside the line.
    LineBreak,
    /// A value the format needs in a particular shape (`client:port`).
    Shape(&'static str),
}

/// Why a line does not parse, the field, and the byte where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    kind: ErrorKind,
    field: Option<Box<str>>,
    at: usize,
}

impl ParseError {
    /// A new error.
    pub fn new(kind: ErrorKind, field: Option<&str>, at: usize) -> Self {
        ParseError {
            kind,
            field: field.map(Into::into),
            at,
        }
    }

    /// What was wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The field it was wrong in, when it is one field.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// The byte offset in the line (0-based).
    pub fn position(&self) -> usize {
        self.at
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = self.field.as_deref().unwrap_or("?");
        match &self.kind {
            ErrorKind::Empty => f.write_str("the line is empty")?,
            ErrorKind::Missing { found, expected } => write!(
                f,
                "the line ends after {found} fields, before `{field}` (expected at least {expected})"
            )?,
            ErrorKind::NotA(kind) => {
                write!(f, "expected {} or `-` in `{field}`", kind.describe())?
            }
            ErrorKind::CloseQuote => write!(f, "no closing `\"` for `{field}`")?,
            ErrorKind::LineBreak => {
                f.write_str("a line break inside the line (one line per call)")?
            }
            ErrorKind::Shape(shape) => write!(f, "expected {shape} in `{field}`")?,
        }
        write!(f, " at byte {}", self.at)
    }
}

impl std::error::Error for ParseError {}

/// One value as the scanner found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    /// The value's text (inside the quotes, escapes not yet decoded).
    pub text: &'a str,
    /// Where it starts in the line (the quote, for a quoted value).
    pub at: usize,
    /// Whether it holds a backslash escape to decode (quoted values).
    pub escaped: bool,
}

impl<'a> Token<'a> {
    /// The value with `\"` and `\\` decoded; borrowed unless it had an escape.
    #[inline]
    pub fn value(&self) -> Cow<'a, str> {
        if self.escaped {
            Cow::Owned(unescape(self.text))
        } else {
            Cow::Borrowed(self.text)
        }
    }

    /// The value, or `None` when it is `-`.
    pub fn non_dash(&self) -> Option<Cow<'a, str>> {
        (self.text != "-").then(|| self.value())
    }
}

/// Decodes `\"` and `\\`; other backslashes are kept as written.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.clone().next() {
                Some(next @ ('"' | '\\')) => {
                    out.push(next);
                    chars.next();
                }
                _ => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// How a format separates its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Splitter {
    separator: u8,
    collapse: bool,
    quotes: bool,
}

impl Splitter {
    /// Values separated by runs of spaces, none quoted (VPC flow logs).
    pub fn spaces() -> Self {
        Splitter {
            separator: b' ',
            collapse: true,
            quotes: false,
        }
    }

    /// Values separated by single spaces, some `"`-quoted (a quoted value may
    /// hold spaces and `\"` escapes): ALB access logs.
    pub fn quoted_spaces() -> Self {
        Splitter {
            separator: b' ',
            collapse: true,
            quotes: true,
        }
    }

    /// Values separated by single tabs; an empty value is kept (CloudFront
    /// real-time logs).
    pub fn tabs() -> Self {
        Splitter {
            separator: b'\t',
            collapse: false,
            quotes: false,
        }
    }

    /// The values of `line` (one trailing `\n` or `\r\n` ignored), each
    /// passed to `each`; stops at the first error.
    #[inline(always)]
    pub fn for_each<'a>(
        &self,
        line: &'a str,
        mut each: impl FnMut(Token<'a>) -> Result<(), ParseError>,
    ) -> Result<(), ParseError> {
        let line = strip_line_end(line);
        let b = line.as_bytes();
        if b.is_empty() {
            return Err(ParseError::new(ErrorKind::Empty, None, 0));
        }
        if let Some(at) = find2(b, b'\n', b'\n') {
            return Err(ParseError::new(ErrorKind::LineBreak, None, at));
        }
        let mut pos = 0;
        loop {
            if self.collapse {
                while b.get(pos) == Some(&self.separator) {
                    pos += 1;
                }
                if pos == b.len() {
                    return Ok(());
                }
            }
            let start = pos;
            let token = if self.quotes && b.get(pos) == Some(&b'"') {
                let (end, escaped) = closing_quote(b, pos + 1)
                    .ok_or_else(|| ParseError::new(ErrorKind::CloseQuote, None, start))?;
                pos = end + 1;
                Token {
                    // Between ASCII quotes: on character boundaries.
                    text: &line[start + 1..end],
                    at: start,
                    escaped,
                }
            } else {
                let len = find2(&b[pos..], self.separator, self.separator).unwrap_or(b.len() - pos);
                pos += len;
                Token {
                    text: &line[start..pos],
                    at: start,
                    escaped: false,
                }
            };
            each(token)?;
            if pos >= b.len() {
                return Ok(());
            }
            // At a separator (or, after a quoted value, whatever follows its
            // closing quote, which `closing_quote` made sure is a space).
            pos += 1;
            if !self.collapse && pos == b.len() {
                // A trailing tab: one more, empty, value.
                return each(Token {
                    text: "",
                    at: pos,
                    escaped: false,
                });
            }
        }
    }

    /// The values of `line` as a [`Row`] of `layout`: each checked against
    /// its field's kind, `-` as `None`, values past the layout's end kept as
    /// [`Row::extra`]. A line with fewer values than the layout is an error.
    pub fn row<'a>(&self, layout: &Layout, line: &'a str) -> Result<Row<'a>, ParseError> {
        let mut row = Row {
            values: Vec::with_capacity(layout.len()),
            extra: Vec::new(),
        };
        let mut end = 0;
        self.for_each(line, |token| {
            end = token.at + token.text.len();
            match layout.fields.get(row.values.len()) {
                Some(field) => row.values.push(typed(field, token)?),
                None => row.extra.push(token.value()),
            }
            Ok(())
        })?;
        if row.values.len() < layout.len() {
            return Err(ParseError::new(
                ErrorKind::Missing {
                    found: row.values.len(),
                    expected: layout.len(),
                },
                Some(layout.fields[row.values.len()].name()),
                end,
            ));
        }
        Ok(row)
    }
}

/// A token as the value of `field`: `None` for `-`, checked against its kind.
#[inline]
pub fn typed<'a>(field: &FieldDef, token: Token<'a>) -> Result<Option<Cow<'a, str>>, ParseError> {
    if token.text == "-" {
        return Ok(None);
    }
    if field.kind != Kind::Text && !field.kind.accepts(token.text) {
        return Err(ParseError::new(
            ErrorKind::NotA(field.kind),
            Some(field.name()),
            token.at,
        ));
    }
    Ok(Some(token.value()))
}

/// `line` without one trailing `\n`, `\r\n` or `\r`.
pub fn strip_line_end(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}

/// The index of the quote closing a value opened before `from`: the first
/// `"` not escaped by a backslash and followed by a space or the end of the
/// line (a bare `"` inside a value, from a client's header, stays in it);
/// with whether a backslash was seen.
fn closing_quote(b: &[u8], from: usize) -> Option<(usize, bool)> {
    let mut i = from;
    let mut escaped = false;
    loop {
        i += find2(b.get(i..)?, b'"', b'\\')?;
        if b[i] == b'\\' {
            escaped = true;
            i += 2;
        } else if matches!(b.get(i + 1), None | Some(b' ')) {
            return Some((i, escaped));
        } else {
            i += 1;
        }
    }
}

/// The index of the first `x` or `y` in `b`, eight bytes at a time (the
/// values of a line are most of its bytes; a byte-at-a-time loop over long
/// user agents was most of the parse time).
pub fn find2(b: &[u8], x: u8, y: u8) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let xs = u64::from_ne_bytes([x; 8]);
    let ys = u64::from_ne_bytes([y; 8]);
    // The classic "has a zero byte" test: its lowest set bit marks the first
    // zero byte exactly (false positives can only appear above a true one).
    let zero_bytes = |w: u64| w.wrapping_sub(ONES) & !w & HIGHS;
    let mut chunks = b.chunks_exact(8);
    let mut offset = 0;
    for chunk in chunks.by_ref() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let hits = zero_bytes(w ^ xs) | zero_bytes(w ^ ys);
        if hits != 0 {
            return Some(offset + (hits.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&c| c == x || c == y)
        .map(|at| offset + at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tokens(splitter: Splitter, line: &str) -> Vec<String> {
        let mut out = Vec::new();
        splitter
            .for_each(line, |t| {
                out.push(t.value().into_owned());
                Ok(())
            })
            .unwrap();
        out
    }

    #[test]
    fn quoted_values_keep_spaces_and_decode_escapes() {
        assert_eq!(
            tokens(
                Splitter::quoted_spaces(),
                r#"a "b c" "say \"hi\" \\ \x" "" "a"b" d"#
            ),
            ["a", "b c", r#"say "hi" \ \x"#, "", "a\"b", "d"]
        );
    }

    #[test]
    fn tabs_keep_empty_values_including_a_trailing_one() {
        assert_eq!(tokens(Splitter::tabs(), "a\t\tb\t"), ["a", "", "b", ""]);
        assert_eq!(tokens(Splitter::tabs(), "a b\tc\n"), ["a b", "c"]);
    }

    #[test]
    fn runs_of_spaces_separate_once() {
        assert_eq!(tokens(Splitter::spaces(), " a  b \r\n"), ["a", "b"]);
    }

    #[test]
    fn errors_say_what_and_where() {
        let layout = Layout::new([("a", Kind::Text), ("b", Kind::Decimal), ("c", Kind::Text)]);
        let err = Splitter::quoted_spaces().row(&layout, "x \"y").unwrap_err();
        assert_eq!(err.to_string(), "no closing `\"` for `?` at byte 2");
        let err = Splitter::spaces().row(&layout, "x 1.5").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the line ends after 2 fields, before `c` (expected at least 3) at byte 5"
        );
        let err = Splitter::spaces().row(&layout, "x 1e3 z").unwrap_err();
        assert_eq!(err.to_string(), "expected a number or `-` in `b` at byte 2");
        let err = Splitter::spaces().row(&layout, "x 1\nz").unwrap_err();
        assert_eq!(*err.kind(), ErrorKind::LineBreak);
        let err = Splitter::spaces().row(&layout, "\n").unwrap_err();
        assert_eq!(*err.kind(), ErrorKind::Empty);
    }

    #[test]
    fn names_come_from_placeholders_or_words() {
        let layout = Layout::parse_names(
            "${version}${account-id} log-status,timestamp(ms)\tx",
            |_| Kind::Text,
        )
        .unwrap();
        assert_eq!(
            layout.names().collect::<Vec<_>>(),
            ["version", "account_id", "log_status", "timestamp_ms", "x"]
        );
        assert_eq!(
            Layout::parse_names("  ", |_| Kind::Text)
                .unwrap_err()
                .to_string(),
            "at character 1: no field names"
        );
        assert_eq!(
            Layout::parse_names("a ${} b", |_| Kind::Text)
                .unwrap_err()
                .to_string(),
            "at character 3: an empty field name"
        );
        assert_eq!(
            Layout::parse_names("a b$c", |_| Kind::Text)
                .unwrap_err()
                .to_string(),
            "at character 3: '$' in the field name `b$c`"
        );
    }

    proptest! {
        #[test]
        fn find2_agrees_with_a_plain_search(b in proptest::collection::vec(any::<u8>(), 0..40), x: u8, y: u8) {
            prop_assert_eq!(find2(&b, x, y), b.iter().position(|&c| c == x || c == y));
        }

        #[test]
        fn accepted_numbers_are_written_as_json_numbers_of_the_same_value(text in "-?[0-9]{0,3}(\\.[0-9]{0,2})?") {
            let shape = text.trim_start_matches('-').split('.').all(|part| !part.is_empty());
            prop_assert_eq!(Kind::Decimal.accepts(&text), shape);
            prop_assert_eq!(Kind::Integer.accepts(&text), shape && !text.contains('.'));
            if shape {
                let mut out = Vec::new();
                write_number(&mut out, &text);
                let json: f64 = serde_json::from_slice(&out).unwrap();
                prop_assert_eq!(json, text.parse::<f64>().unwrap());
            }
        }
    }
}
