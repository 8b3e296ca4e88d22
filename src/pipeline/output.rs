//! Writers: JSON lines and RFC 4180 CSV.

use crate::doc::{write_compact, Path, Value};
use crate::formats::csv::write_field;
use crate::pipeline::Writer;
use crate::transform::Failure;

/// One compact JSON value per line.
///
/// Parts of a JSON record that no stage changed are copied as they were
/// written (whitespace between tokens aside), so numbers, escapes and member
/// order come out as they went in.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonLines;

impl Writer for JsonLines {
    fn write(
        &self,
        doc: &Value<'_>,
        source: Option<&str>,
        out: &mut Vec<u8>,
    ) -> Result<(), Failure> {
        match source {
            Some(text) => write_compact(text, out),
            None => doc.write_json(out),
        }
        out.push(b'\n');
        Ok(())
    }
}

/// One RFC 4180 row per document, from a list of paths, ending with `\n`;
/// no header row (each record is rows of the same table).
///
/// A string is written as it is, a number as written in the record, a
/// boolean as `true`/`false`, null or a missing field as an empty cell, an
/// array or object as its compact JSON.
///
/// ```
/// use firehose_transform::doc::{Path, Value};
/// use firehose_transform::pipeline::{Csv, Writer};
///
/// let csv = Csv::new([".id", ".user.name", ".tags", ".missing"].map(|p| Path::parse(p).unwrap()));
/// let doc = Value::parse_json(r#"{"id":7,"user":{"name":"Doe, J."},"tags":["a","b"]}"#).unwrap();
/// let mut out = Vec::new();
/// csv.write(&doc, None, &mut out).unwrap();
/// assert_eq!(out, b"7,\"Doe, J.\",\"[\"\"a\"\",\"\"b\"\"]\",\n");
/// ```
#[derive(Debug, Clone)]
pub struct Csv {
    columns: Vec<Path>,
}

impl Csv {
    /// A writer of these columns, in this order.
    pub fn new(columns: impl IntoIterator<Item = Path>) -> Self {
        Csv {
            columns: columns.into_iter().collect(),
        }
    }

    /// The columns.
    pub fn columns(&self) -> &[Path] {
        &self.columns
    }
}

impl Writer for Csv {
    fn write(
        &self,
        doc: &Value<'_>,
        _source: Option<&str>,
        out: &mut Vec<u8>,
    ) -> Result<(), Failure> {
        let mut json = Vec::new();
        for (i, column) in self.columns.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let Some(value) = doc.get(column) else {
                continue;
            };
            match &*value {
                Value::Null => {}
                Value::Str(s) => write_field(out, s),
                Value::Number(n) => write_field(out, n),
                Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
                other => {
                    json.clear();
                    other.write_json(&mut json);
                    write_field(out, std::str::from_utf8(&json).unwrap_or_default());
                }
            }
        }
        out.push(b'\n');
        Ok(())
    }
}
