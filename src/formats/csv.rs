//! Writing RFC 4180 CSV rows into a byte buffer.
//!
//! A field is quoted only when it must be: when it contains a comma, a double
//! quote, a carriage return or a line feed (or starts or ends with a space, which
//! some readers trim). Quotes inside a quoted field are doubled. The AWS blueprints
//! join fields with bare commas, so a comma in a user agent shifts every column
//! after it; this writer is the fix.
//!
//! ```
//! use firehose_transform::formats::csv::RowWriter;
//!
//! let mut out = Vec::new();
//! let mut row = RowWriter::new(&mut out);
//! row.field("GET /a,b HTTP/1.1");
//! row.field("say \"hi\"");
//! row.field("");
//! row.u64(200);
//! row.finish();
//! assert_eq!(out, b"\"GET /a,b HTTP/1.1\",\"say \"\"hi\"\"\",,200");
//! ```

/// Writes the fields of one CSV row; the row separator is the caller's (the
/// record delimiter), so nothing is written after the last field.
pub struct RowWriter<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> RowWriter<'a> {
    /// Starts a row at the end of `out`.
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        RowWriter { out, first: true }
    }

    fn separator(&mut self) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
    }

    /// A text field, quoted when RFC 4180 requires it.
    pub fn field(&mut self, value: &str) {
        self.separator();
        write_field(self.out, value);
    }

    /// A text field, or an empty field when absent.
    pub fn opt_field(&mut self, value: Option<&str>) {
        self.field(value.unwrap_or(""));
    }

    /// An unsigned integer field.
    pub fn u64(&mut self, value: u64) {
        self.separator();
        crate::formats::json::write_u64(self.out, value);
    }

    /// Ends the row. (Kept for symmetry with the JSON writer and so a row reads
    /// as finished at the call site; it writes nothing.)
    pub fn finish(self) {}
}

/// Whether `value` must be quoted to survive a round trip through a CSV reader.
pub fn needs_quotes(value: &str) -> bool {
    // Branch-free so that it vectorizes: most fields need no quotes, and for
    // them this scan plus a copy is all the work.
    let special = value.bytes().fold(false, |special, b| {
        special | (b == b',') | (b == b'"') | (b == b'\r') | (b == b'\n')
    });
    special || value.starts_with(' ') || value.ends_with(' ')
}

/// Appends one field, quoted and with inner quotes doubled when needed.
pub fn write_field(out: &mut Vec<u8>, value: &str) {
    if !needs_quotes(value) {
        out.extend_from_slice(value.as_bytes());
        return;
    }
    out.push(b'"');
    for (i, part) in value.split('"').enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\"\"");
        }
        out.extend_from_slice(part.as_bytes());
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A minimal RFC 4180 reader for one row, to check that what we write reads
    /// back to the same fields.
    fn read_row(text: &str) -> Vec<String> {
        let mut fields = vec![String::new()];
        let mut chars = text.chars().peekable();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    fields.last_mut().unwrap().push('"');
                }
                (true, '"') => quoted = false,
                (false, '"') => quoted = true,
                (false, ',') => fields.push(String::new()),
                (_, c) => fields.last_mut().unwrap().push(c),
            }
        }
        fields
    }

    #[test]
    fn plain_fields_are_not_quoted() {
        let mut out = Vec::new();
        let mut row = RowWriter::new(&mut out);
        row.field("GET");
        row.opt_field(None);
        row.u64(7);
        row.finish();
        assert_eq!(out, b"GET,,7");
    }

    #[test]
    fn newlines_and_edge_spaces_are_quoted() {
        let mut out = Vec::new();
        write_field(&mut out, "a\nb");
        out.push(b',');
        write_field(&mut out, " padded");
        assert_eq!(out, b"\"a\nb\",\" padded\"");
    }

    proptest! {
        #[test]
        fn rows_read_back_to_the_same_fields(fields in proptest::collection::vec(any::<String>(), 1..6)) {
            let mut out = Vec::new();
            let mut row = RowWriter::new(&mut out);
            for field in &fields {
                row.field(field);
            }
            row.finish();
            prop_assert_eq!(read_row(&String::from_utf8(out).unwrap()), fields);
        }
    }
}
