//! Records that hold many lines: splitting text into messages.
//!
//! Producers such as Fluent Bit (`simple_aggregation`) and the Kinesis Agent
//! put many lines in one record. [`messages`] splits a record's text into the
//! messages it holds: each line starts a message unless the format says it
//! continues the one before (a syslog stack trace), and a message spanning
//! several lines stays one slice of the text, so parsers still borrow from
//! the record.
//!
//! ```
//! use firehose_transform::formats::lines::messages;
//!
//! let text = "GET /a\r\n\nGET /b\n";
//! let found: Vec<_> = messages(text, |_| false).collect();
//! assert_eq!(found, [(1, "GET /a"), (3, "GET /b")]);
//!
//! // A line that starts with a space continues the message before it.
//! let text = "first\n  more of it\nsecond";
//! let found: Vec<_> = messages(text, |line| line.starts_with(' ')).collect();
//! assert_eq!(found, [(1, "first\n  more of it"), (3, "second")]);
//! ```

use memchr::memchr;

/// The messages of `text`, each with the number (1-based) of its first line.
///
/// Lines end with LF or CRLF. A line for which `continues` is true joins the
/// message before it (the line break between them is kept in the slice);
/// any other line starts a message. Blank lines are skipped: between two
/// lines of one message they stay inside its slice, anywhere else they are
/// left out. The first line always starts a message. Each slice ends at the
/// end of its last non-blank line (no trailing line break).
pub fn messages<F>(text: &str, continues: F) -> Messages<'_, F>
where
    F: Fn(&str) -> bool,
{
    Messages {
        text,
        at: 0,
        line: 0,
        pending: None,
        continues,
    }
}

/// The iterator of [`messages`].
#[derive(Debug, Clone)]
pub struct Messages<'a, F> {
    text: &'a str,
    /// Where the next line starts.
    at: usize,
    /// The number of the last line read.
    line: usize,
    /// The message being gathered: its first line's number, start and end.
    pending: Option<(usize, usize, usize)>,
    continues: F,
}

impl<'a, F> Iterator for Messages<'a, F>
where
    F: Fn(&str) -> bool,
{
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<(usize, &'a str)> {
        while self.at < self.text.len() {
            let rest = &self.text[self.at..];
            let (line_len, next) = match memchr(b'\n', rest.as_bytes()) {
                Some(i) => (i, self.at + i + 1),
                None => (rest.len(), self.text.len()),
            };
            let start = self.at;
            let mut line = &rest[..line_len];
            line = line.strip_suffix('\r').unwrap_or(line);
            let end = start + line.len();
            self.at = next;
            self.line += 1;
            if line.trim().is_empty() {
                continue;
            }
            match self.pending {
                Some((number, first, _)) if (self.continues)(line) => {
                    self.pending = Some((number, first, end));
                }
                previous => {
                    self.pending = Some((self.line, start, end));
                    if let Some((number, first, last)) = previous {
                        return Some((number, &self.text[first..last]));
                    }
                }
            }
        }
        let (number, first, last) = self.pending.take()?;
        Some((number, &self.text[first..last]))
    }
}

/// Whether `text` holds more than one line (a line break before its last
/// byte, past one trailing `\n` or `\r\n`): the quick test that keeps
/// one-line records on their one-line path.
///
/// ```
/// use firehose_transform::formats::lines::is_multi_line;
/// assert!(!is_multi_line("one line\r\n"));
/// assert!(is_multi_line("one\ntwo"));
/// ```
pub fn is_multi_line(text: &str) -> bool {
    let trimmed = text.strip_suffix('\n').unwrap_or(text);
    memchr(b'\n', trimmed.as_bytes()).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<(usize, &str)> {
        messages(text, |line| line.starts_with('\t')).collect()
    }

    #[test]
    fn blank_lines_are_kept_inside_a_message_and_dropped_between_messages() {
        assert_eq!(
            split("\n\na\n\n\tb\n\n\nc\r\n\t d\r\n\n"),
            [(3, "a\n\n\tb"), (8, "c\r\n\t d")]
        );
    }

    #[test]
    fn a_first_line_that_continues_still_starts_a_message() {
        assert_eq!(split("\tx\ny"), [(1, "\tx"), (2, "y")]);
        assert!(split("").is_empty());
        assert!(split("\n \r\n").is_empty());
    }
}
