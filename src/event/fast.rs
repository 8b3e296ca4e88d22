//! A fast reader for the shape of event Firehose sends.
//!
//! serde_json's derived parser took about 40% of the engine's time on a 6 MB
//! event of 100-byte records (matching each key by name, validating each
//! string's UTF-8 and looking for escapes byte by byte). This reader takes
//! only the common shape: the event's fields as strings; records holding
//! `recordId`, `approximateArrivalTimestamp` (an integer), `data` or
//! `kafkaRecordValue`, and `kinesisRecordMetadata` with its string fields and
//! integer numbers; strings of printable ASCII without escapes. It gives up
//! on anything else (`null`, an escape, a byte outside ASCII, a float, an
//! unknown or repeated field, MSK metadata, any syntax error) and the event
//! goes to serde, which then reads it from the start: serde is the definition
//! of what an event means, and it says where an error is. Every event this
//! reader accepts, serde reads to the same value (a property test checks it
//! on events with every kind of detour).
//!
//! A large event's records can be read in parts at once, on threads of their
//! own (see `Reader::records`); the event read is the same.

use std::borrow::Cow;

use super::{Event, EventRecord, KinesisRecordMetadata};
use crate::formats::json::{skip_whitespace, special_bytes};

/// Reads `json` if it has the common shape, or `None` (then use serde).
/// With the event comes the sum of its ids' lengths once quoted as JSON
/// strings, which the engine needs before it starts (and would otherwise
/// measure in a pass of its own over every id): the ids read here need no
/// escaping, so each is its length plus two quotes.
///
/// With `parts` above one, the records array is read in that many parts at
/// once, each on a thread of its own (see [`Reader::records`]); the result
/// is the same.
pub(super) fn parse(json: &[u8], parts: usize) -> Option<(Event<'_>, usize)> {
    parse_counting_parts(json, parts).map(|(event, quoted_ids, _)| (event, quoted_ids))
}

/// [`parse`], and how many parts of the records array were read apart.
fn parse_counting_parts(json: &[u8], parts: usize) -> Option<(Event<'_>, usize, usize)> {
    parse_guessing(json, parts, part_starts)
}

/// Where the parts of a records array start, guessed by [`part_starts`]
/// (tests guess otherwise).
type Guess = fn(json: &[u8], from: usize, parts: usize) -> Vec<usize>;

fn parse_guessing(json: &[u8], parts: usize, guess: Guess) -> Option<(Event<'_>, usize, usize)> {
    let mut reader = Reader {
        json,
        at: 0,
        quoted_ids: 0,
        parts,
        guess,
        parts_read: 1,
    };
    let event = reader.event()?;
    reader.skip_space();
    (reader.at == json.len()).then_some((event, reader.quoted_ids, reader.parts_read))
}

struct Reader<'a> {
    json: &'a [u8],
    at: usize,
    quoted_ids: usize,
    /// Into how many parts to split the records array.
    parts: usize,
    guess: Guess,
    /// Into how many it was split.
    parts_read: usize,
}

/// Where a run of records ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum RunEnd {
    /// At the start of the part with this index: the next record is its first.
    AtPart(usize),
    /// After the records array's closing bracket.
    Closed,
}

/// The records of one part, read on a thread of their own.
struct Part<'a> {
    records: Vec<EventRecord<'a>>,
    quoted_ids: usize,
    at: usize,
    end: RunEnd,
}

/// Fields seen so far in one object, to give up on a repeated one (serde
/// refuses it).
#[derive(Default)]
struct Seen(u8);

impl Seen {
    fn first(&mut self, field: u8) -> Option<()> {
        let bit = 1 << field;
        let first = self.0 & bit == 0;
        self.0 |= bit;
        first.then_some(())
    }
}

impl<'a> Reader<'a> {
    fn skip_space(&mut self) {
        self.at = skip_whitespace(self.json, self.at);
    }

    /// The next byte that is not whitespace, consumed.
    fn next(&mut self) -> Option<u8> {
        self.skip_space();
        let byte = *self.json.get(self.at)?;
        self.at += 1;
        Some(byte)
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.next()? == byte).then_some(())
    }

    /// Whether the object or array goes on (`,`) or ends (`close`).
    fn more(&mut self, close: u8) -> Option<bool> {
        match self.next()? {
            b',' => Some(true),
            byte if byte == close => Some(false),
            _ => None,
        }
    }

    /// Whether the object or array just opened is empty, consuming `close`.
    fn empty(&mut self, close: u8) -> bool {
        self.skip_space();
        let empty = self.json.get(self.at) == Some(&close);
        self.at += usize::from(empty);
        empty
    }

    fn string(&mut self) -> Option<&'a str> {
        self.expect(b'"')?;
        let start = self.at;
        let len = plain_len(&self.json[start..])?;
        self.at = start + len + 1;
        let text = &self.json[start..start + len];
        debug_assert!(text.is_ascii());
        // SAFETY: `plain_len` checked that every byte is below 0x80, and
        // ASCII is valid UTF-8. (Checking again would cost a pass over
        // every record's data.)
        Some(unsafe { std::str::from_utf8_unchecked(text) })
    }

    fn borrowed(&mut self) -> Option<Cow<'a, str>> {
        self.string().map(Cow::Borrowed)
    }

    /// A field name and its colon.
    fn key(&mut self) -> Option<&'a [u8]> {
        let key = self.string()?;
        self.expect(b':')?;
        Some(key.as_bytes())
    }

    /// A non-negative integer as JSON writes it (no sign, fraction, exponent
    /// or leading zero), within `u64`.
    fn integer(&mut self) -> Option<u64> {
        self.skip_space();
        let start = self.at;
        let mut value = 0u64;
        while let Some(&digit) = self.json.get(self.at).filter(|b| b.is_ascii_digit()) {
            value = value
                .checked_mul(10)?
                .checked_add(u64::from(digit - b'0'))?;
            self.at += 1;
        }
        let digits = self.at - start;
        if digits == 0 || (digits > 1 && self.json[start] == b'0') {
            return None;
        }
        match self.json.get(self.at) {
            Some(b'.' | b'e' | b'E') => None,
            _ => Some(value),
        }
    }

    /// Milliseconds, as serde reads them when they fit an `i64`.
    fn millis(&mut self) -> Option<Option<i64>> {
        i64::try_from(self.integer()?).ok().map(Some)
    }

    fn event(&mut self) -> Option<Event<'a>> {
        self.expect(b'{')?;
        let mut event = Event::default();
        let mut seen = Seen::default();
        let mut records = None;
        if self.empty(b'}') {
            return None;
        }
        loop {
            match self.key()? {
                b"invocationId" => {
                    seen.first(0)?;
                    event.invocation_id = self.borrowed()?;
                }
                b"deliveryStreamArn" => {
                    seen.first(1)?;
                    event.delivery_stream_arn = self.borrowed()?;
                }
                b"region" => {
                    seen.first(2)?;
                    event.region = Some(self.borrowed()?);
                }
                b"sourceKinesisStreamArn" => {
                    seen.first(3)?;
                    event.source_kinesis_stream_arn = Some(self.borrowed()?);
                }
                b"sourceMSKArn" => {
                    seen.first(4)?;
                    event.source_msk_arn = Some(self.borrowed()?);
                }
                b"records" => {
                    seen.first(5)?;
                    records = Some(self.records()?);
                }
                _ => return None,
            }
            if !self.more(b'}')? {
                break;
            }
        }
        event.records = records?;
        Some(event)
    }

    fn records(&mut self) -> Option<Vec<EventRecord<'a>>> {
        self.expect(b'[')?;
        let mut records = Vec::new();
        if self.empty(b']') {
            return Some(records);
        }
        self.first_record(&mut records)?;
        let starts = if self.parts > 1 {
            (self.guess)(self.json, self.at, self.parts)
        } else {
            Vec::new()
        };
        if starts.is_empty() {
            self.run(&mut records, &[])?;
            return Some(records);
        }
        // Each part but the first is read on a thread of its own, from a
        // guess at where one of its records starts: the next `{` after a
        // `}` and a comma. A guess can be wrong (a record id may hold
        // `},{`), so a part is taken only when the part before it ends
        // exactly where the guess put its start: then the part was read
        // from a record's start, as this reader would have read it, since
        // nothing a reader carries from one record to the next matters but
        // its position. After a wrong guess, the part before it just reads
        // on, past it; the parts it would have taken are read for nothing.
        // (Threads are started for the call: about 50 µs, which only events
        // of a few megabytes repay; see `Engine::parse_event`.)
        let json = self.json;
        std::thread::scope(|scope| {
            let parts: Vec<_> = starts
                .iter()
                .enumerate()
                .map(|(index, &start)| {
                    let later = &starts[index + 1..];
                    #[cfg(test)]
                    if tests::NO_THREADS.with(std::cell::Cell::get) {
                        return None;
                    }
                    // A part whose thread cannot be started is read here.
                    std::thread::Builder::new()
                        .spawn_scoped(scope, move || read_part(json, start, later))
                        .ok()
                })
                .collect();
            let mut end = self.run(&mut records, &starts)?;
            for (index, part) in parts.into_iter().enumerate() {
                // A part not taken is still waited for (by the scope), and a
                // panic in one is a panic here.
                let part = part.map(|thread| {
                    thread
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                });
                if end != RunEnd::AtPart(index) {
                    continue;
                }
                let later = match part {
                    Some(part) => {
                        let part = part?;
                        records.extend(part.records);
                        self.quoted_ids += part.quoted_ids;
                        self.at = part.at;
                        self.parts_read += 1;
                        part.end
                    }
                    None => {
                        records.push(self.record()?);
                        self.run(&mut records, &starts[index + 1..])?
                    }
                };
                end = match later {
                    // Later parts are numbered from this one's successor.
                    RunEnd::AtPart(later) => RunEnd::AtPart(index + 1 + later),
                    RunEnd::Closed => RunEnd::Closed,
                };
            }
            (end == RunEnd::Closed).then_some(records)
        })
    }

    /// The first record, and room in `records` for the rest.
    fn first_record(&mut self, records: &mut Vec<EventRecord<'a>>) -> Option<()> {
        let first_at = self.at;
        records.push(self.record()?);
        // Records of one event are mostly alike: room for as many more as
        // the rest of the input would hold of this one saves regrowing (and
        // copying) the vector a dozen times, and half as many again for
        // records shorter than the first (a first record longer than most
        // regrew it once: 0.5% of an Apache event's time). Pages not used
        // are never touched.
        let first_len = self.at - first_at;
        records.reserve((self.json.len() - self.at) / first_len.max(16) * 3 / 2);
        Some(())
    }

    /// Reads the records after one just read, up to the array's end or to
    /// the first of `part_starts` that a record starts at.
    fn run(&mut self, records: &mut Vec<EventRecord<'a>>, part_starts: &[usize]) -> Option<RunEnd> {
        let mut next_part = 0;
        while self.more(b']')? {
            if next_part < part_starts.len() {
                self.skip_space();
                // Past a start a record never began at (a wrong guess).
                while part_starts.get(next_part).is_some_and(|&s| s < self.at) {
                    next_part += 1;
                }
                if part_starts.get(next_part) == Some(&self.at) {
                    return Some(RunEnd::AtPart(next_part));
                }
            }
            records.push(self.record()?);
        }
        Some(RunEnd::Closed)
    }

    fn record(&mut self) -> Option<EventRecord<'a>> {
        self.expect(b'{')?;
        let mut record = EventRecord::default();
        let mut seen = Seen::default();
        if self.empty(b'}') {
            return None;
        }
        loop {
            match self.key()? {
                b"recordId" => {
                    seen.first(0)?;
                    record.record_id = self.borrowed()?;
                }
                b"approximateArrivalTimestamp" => {
                    seen.first(1)?;
                    record.approximate_arrival_timestamp = self.millis()?;
                }
                b"data" => {
                    seen.first(2)?;
                    record.data = Some(self.borrowed()?);
                }
                b"kafkaRecordValue" => {
                    seen.first(3)?;
                    record.kafka_record_value = Some(self.borrowed()?);
                }
                b"kinesisRecordMetadata" => {
                    seen.first(4)?;
                    record.kinesis_record_metadata = Some(Box::new(self.kinesis_metadata()?));
                }
                _ => return None,
            }
            if !self.more(b'}')? {
                break;
            }
        }
        // serde refuses a record without an id.
        seen.first(0).is_none().then_some(())?;
        self.quoted_ids += record.record_id.len() + 2;
        Some(record)
    }

    fn kinesis_metadata(&mut self) -> Option<KinesisRecordMetadata<'a>> {
        self.expect(b'{')?;
        let mut metadata = KinesisRecordMetadata::default();
        let mut seen = Seen::default();
        if self.empty(b'}') {
            return Some(metadata);
        }
        loop {
            match self.key()? {
                b"shardId" => {
                    seen.first(0)?;
                    metadata.shard_id = self.borrowed()?;
                }
                b"partitionKey" => {
                    seen.first(1)?;
                    metadata.partition_key = self.borrowed()?;
                }
                b"approximateArrivalTimestamp" => {
                    seen.first(2)?;
                    metadata.approximate_arrival_timestamp = self.millis()?;
                }
                b"sequenceNumber" => {
                    seen.first(3)?;
                    metadata.sequence_number = self.borrowed()?;
                }
                b"subsequenceNumber" => {
                    seen.first(4)?;
                    metadata.subsequence_number = Some(self.integer()?);
                }
                _ => return None,
            }
            if !self.more(b'}')? {
                return Some(metadata);
            }
        }
    }
}

/// Reads the records from `start` (the guessed start of a record) to the
/// end of the array or to the first of `later` (the following parts'
/// starts) that a record starts at.
fn read_part<'a>(json: &'a [u8], start: usize, later: &[usize]) -> Option<Part<'a>> {
    let mut reader = Reader {
        json,
        at: start,
        quoted_ids: 0,
        parts: 1,
        guess: part_starts,
        parts_read: 1,
    };
    let mut records = Vec::new();
    reader.first_record(&mut records)?;
    let end = reader.run(&mut records, later)?;
    Some(Part {
        records,
        quoted_ids: reader.quoted_ids,
        at: reader.at,
        end,
    })
}

/// Guesses where to split the records array that goes on from `from` into
/// `parts` parts of about the same length: for each, the first `{` after
/// its share of the bytes that follows a `}` and a comma (with whitespace
/// around them or not), as between two records. At most `parts - 1` starts,
/// in order; none where no such `{` comes within a window of the share's
/// start, so that an event with no such place is not scanned to its end.
fn part_starts(json: &[u8], from: usize, parts: usize) -> Vec<usize> {
    const WINDOW: usize = 64 * 1024;
    let share = (json.len() - from) / parts;
    let mut starts: Vec<usize> = Vec::with_capacity(parts - 1);
    for part in 1..parts {
        let target = (from + share * part).max(starts.last().map_or(0, |&s| s + 1));
        let window = &json[target.min(json.len())..(target + WINDOW).min(json.len())];
        let found = window
            .iter()
            .enumerate()
            .filter(|&(_, &byte)| byte == b'{')
            .map(|(offset, _)| target + offset)
            .find(|&brace| between_records(&json[..brace]));
        starts.extend(found);
    }
    starts
}

/// Whether `before` ends with `}` and a comma, whitespace aside.
fn between_records(before: &[u8]) -> bool {
    let mut bytes = before
        .iter()
        .rev()
        .filter(|byte| !matches!(byte, b' ' | b'\t' | b'\n' | b'\r'));
    bytes.next() == Some(&b',') && bytes.next() == Some(&b'}')
}

/// The length of a string's text up to its closing quote, when every byte
/// before it is printable ASCII other than `\` (so the JSON text is the
/// string itself); `None` otherwise, or when the quote never comes.
fn plain_len(text: &[u8]) -> Option<usize> {
    let mut at = 0;
    // Sixteen bytes at a time with SSE2, which every x86_64 has: the first
    // byte that is a quote, a backslash, or below 0x20 as a signed byte
    // (which is also every byte above 0x7f).
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_loadu_si128, _mm_movemask_epi8,
            _mm_or_si128, _mm_set1_epi8,
        };
        while at + 16 <= text.len() {
            // SAFETY: SSE2 is part of the x86_64 baseline; the unaligned
            // load reads the 16 bytes at `at`, inside `text` (checked above).
            let flagged = unsafe {
                let bytes = _mm_loadu_si128(text.as_ptr().add(at).cast::<__m128i>());
                let quote = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'"' as i8));
                let backslash = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'\\' as i8));
                let control_or_high = _mm_cmplt_epi8(bytes, _mm_set1_epi8(0x20));
                _mm_movemask_epi8(_mm_or_si128(
                    _mm_or_si128(quote, backslash),
                    control_or_high,
                ))
            };
            if flagged != 0 {
                let end = at + flagged.trailing_zeros() as usize;
                return (text[end] == b'"').then_some(end);
            }
            at += 16;
        }
    }
    // Elsewhere, and for the last bytes: eight at a time (as serde_json
    // does, but exact): the lowest flagged byte of a word is the first
    // special one. (A flag can spill into the bytes above a flagged one,
    // never below.)
    while let Some(chunk) = text.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        // Outside ASCII too: such a string goes to serde.
        let special = special_bytes(word) | (word & u64::from_ne_bytes([0x80; 8]));
        if special != 0 {
            let end = at + (special.trailing_zeros() / 8) as usize;
            return (text[end] == b'"').then_some(end);
        }
        at += 8;
    }
    for (offset, &byte) in text[at..].iter().enumerate() {
        match byte {
            b'"' => return Some(at + offset),
            b'\\' => return None,
            0x20..=0x7f => {}
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::EventBuilder;
    use crate::SourceKind;
    use proptest::prelude::*;

    /// serde alone: what every accepted event must equal.
    fn by_serde(json: &[u8]) -> Result<Event<'_>, serde_json::Error> {
        serde_json::from_slice(json)
    }

    #[test]
    fn events_as_firehose_sends_them_take_the_fast_path() {
        for source in [SourceKind::DirectPut, SourceKind::Kinesis] {
            let event = EventBuilder::new()
                .source(source)
                .lines(["a line", "another line", ""])
                .build();
            for json in [
                serde_json::to_vec(&event).unwrap(),
                serde_json::to_vec_pretty(&event).unwrap(),
            ] {
                let (fast, quoted_ids) = parse(&json, 1).expect("the common shape is read");
                let measured: usize = event
                    .records
                    .iter()
                    .map(|r| crate::formats::json::quoted_len(&r.record_id))
                    .sum();
                assert_eq!(quoted_ids, measured);
                assert_eq!(fast, by_serde(&json).unwrap());
                assert_eq!(fast, event);
                assert!(matches!(fast.records[0].record_id, Cow::Borrowed(_)));
            }
        }
    }

    #[test]
    fn anything_else_goes_to_serde() {
        for json in [
            &br#"{"records":[{"recordId":"a\u0041","data":""}]}"#[..],
            b"{\"records\":[{\"recordId\":\"\xc3\xa9\",\"data\":\"\"}]}",
            br#"{"records":[{"recordId":"a","data":null}]}"#,
            br#"{"records":[{"recordId":"a","approximateArrivalTimestamp":1.5}]}"#,
            br#"{"records":[{"recordId":"a","approximateArrivalTimestamp":"15"}]}"#,
            br#"{"records":[{"recordId":"a","approximateArrivalTimestamp":01}]}"#,
            br#"{"records":[{"recordId":"a","approximateArrivalTimestamp":9223372036854775808}]}"#,
            br#"{"records":[{"recordId":"a","mskRecordMetadata":{"offset":"1"}}]}"#,
            br#"{"records":[{"recordId":"a","extra":1}]}"#,
            br#"{"records":[{"recordId":"a","recordId":"b"}]}"#,
            br#"{"records":[{"data":""}]}"#,
            br#"{"records":[]} x"#,
            br#"{"invocationId":"i"}"#,
            br#"["i","arn",null,null,null,[]]"#,
        ] {
            assert!(
                parse(json, 1).is_none(),
                "{} was read",
                String::from_utf8_lossy(json)
            );
        }
    }

    /// JSON text of a string value: mostly plain, sometimes one needing serde.
    fn string_token() -> impl Strategy<Value = String> {
        prop_oneof![
            40 => "[ -~&&[^\\\\\"]]{0,12}".prop_map(|s| format!("\"{s}\"")),
            1 => Just(r#""a\"b""#.to_string()),
            1 => Just(r#""\u00e9""#.to_string()),
            1 => Just("\"\u{e9}t\u{e9}\"".to_string()),
            1 => Just("\"\u{7f}\"".to_string()),
            1 => Just("null".to_string()),
            1 => Just("17".to_string()),
            1 => Just("\"unclosed".to_string()),
        ]
    }

    fn number_token() -> impl Strategy<Value = String> {
        prop_oneof![
            1 => any::<u64>().prop_map(|n| n.to_string()),
            20 => (0u64..1 << 62).prop_map(|n| n.to_string()),
            1 => prop::sample::select(vec![
                "0", "01", "-5", "-0", "1.5", "1e3", "2E2", "9223372036854775807",
                "9223372036854775808", "18446744073709551616", "\"15\"", "null", "",
            ])
            .prop_map(str::to_string),
        ]
    }

    fn space() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["", "", "", " ", "\n  ", "\t", "\r\n"])
    }

    fn field(
        name: &'static str,
        value: impl Strategy<Value = String>,
    ) -> impl Strategy<Value = (String, String)> {
        value.prop_map(move |value| (format!("\"{name}\""), value))
    }

    /// An object of `fields` (name token, value), perhaps with a slip in its
    /// syntax.
    fn object(fields: Vec<(String, String)>, sp: &str, slip: u8) -> String {
        let members: Vec<String> = fields
            .into_iter()
            .map(|(key, value)| format!("{sp}{key}{sp}:{sp}{value}{sp}"))
            .collect();
        match slip {
            0 => format!("{{{}}}", members.join(",")),
            1 => format!("{{{},}}", members.join(",")),
            _ => format!("{{{}}}", members.join(";")),
        }
    }

    /// Fields, each there or not, in a rotated order, and now and then one
    /// that sends the object to serde (unknown, repeated, escaped name).
    fn fields(
        fields: Vec<BoxedStrategy<Option<(String, String)>>>,
        odd: BoxedStrategy<(String, String)>,
    ) -> impl Strategy<Value = Vec<(String, String)>> {
        (fields, prop::option::weighted(0.05, odd), 0usize..8).prop_map(
            |(fields, odd, rotation)| {
                let mut fields: Vec<_> = fields.into_iter().flatten().chain(odd).collect();
                let len = fields.len().max(1);
                fields.rotate_left(rotation % len);
                fields
            },
        )
    }

    fn maybe(
        chance: f64,
        field: impl Strategy<Value = (String, String)> + 'static,
    ) -> BoxedStrategy<Option<(String, String)>> {
        prop::option::weighted(chance, field).boxed()
    }

    fn kinesis_metadata() -> impl Strategy<Value = String> {
        let odd = prop_oneof![
            field("shardId", string_token()),
            field("other", string_token()),
        ];
        let all = vec![
            maybe(0.9, field("shardId", string_token())),
            maybe(0.9, field("partitionKey", string_token())),
            maybe(0.9, field("sequenceNumber", string_token())),
            maybe(0.9, field("approximateArrivalTimestamp", number_token())),
            maybe(0.5, field("subsequenceNumber", number_token())),
        ];
        (fields(all, odd.boxed()), space()).prop_map(|(fields, sp)| object(fields, sp, 0))
    }

    fn record() -> impl Strategy<Value = String> {
        let odd = prop_oneof![
            field("recordId", string_token()),
            field("mskRecordMetadata", Just(r#"{"offset":"1"}"#.to_string())),
            field("unknown", string_token()),
            field("record\\u0049d", string_token()),
        ];
        let all = vec![
            maybe(0.97, field("recordId", string_token())),
            maybe(0.8, field("approximateArrivalTimestamp", number_token())),
            maybe(0.8, field("data", string_token())),
            maybe(0.1, field("kafkaRecordValue", string_token())),
            maybe(0.15, field("kinesisRecordMetadata", kinesis_metadata())),
        ];
        (
            fields(all, odd.boxed()),
            space(),
            prop::sample::select([vec![0u8; 60], vec![1, 2]].concat()),
        )
            .prop_map(|(fields, sp, slip)| object(fields, sp, slip))
    }

    fn event() -> impl Strategy<Value = String> {
        let odd = prop_oneof![
            field("other", string_token()),
            field("region", string_token()),
            field("records", Just("[]".to_string())),
        ];
        let all = vec![
            maybe(0.9, field("invocationId", string_token())),
            maybe(0.9, field("deliveryStreamArn", string_token())),
            maybe(0.5, field("region", string_token())),
            maybe(0.1, field("sourceKinesisStreamArn", string_token())),
            maybe(0.05, field("sourceMSKArn", string_token())),
        ];
        let records = (prop::collection::vec(record(), 0..4), space())
            .prop_map(|(records, sp)| format!("[{sp}{}{sp}]", records.join(",")));
        (
            fields(all, odd.boxed()),
            records,
            0usize..6,
            space(),
            prop::sample::select(vec!["", "", "", "", "", "", "", "", " \n", "x", "}", ","]),
        )
            .prop_map(|(mut fields, records, at, sp, trailing)| {
                let at = at.min(fields.len());
                fields.insert(at, ("\"records\"".to_string(), records));
                format!("{sp}{}{trailing}", object(fields, sp, 0))
            })
    }

    #[test]
    fn the_generated_events_exercise_both_paths() {
        // Otherwise the property below could pass by reading nothing fast.
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let mut fast = 0;
        let mut with_records = 0;
        for _ in 0..1000 {
            let json = event().new_tree(&mut runner).unwrap().current();
            if let Some((event, _)) = parse(json.as_bytes(), 1) {
                fast += 1;
                with_records += usize::from(!event.records.is_empty());
            }
        }
        assert!((200..900).contains(&fast), "{fast} of 1000 read fast");
        assert!(with_records >= 100, "{with_records} of them with records");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Whatever the fast reader accepts, serde reads to the same event.
        #[test]
        fn the_fast_path_agrees_with_serde(json in event()) {
            let whole = parse(json.as_bytes(), 1);
            for parts in 2..5 {
                // Split or not, the same event (or the same refusal).
                let split = parse(json.as_bytes(), parts);
                prop_assert_eq!(&split, &whole, "in {} parts", parts);
            }
            if let Some((fast, quoted_ids)) = whole {
                let measured: usize = fast
                    .records
                    .iter()
                    .map(|r| crate::formats::json::quoted_len(&r.record_id))
                    .sum();
                prop_assert_eq!(quoted_ids, measured);
                match by_serde(json.as_bytes()) {
                    Ok(serde) => prop_assert_eq!(fast, serde),
                    Err(error) => {
                        prop_assert!(false, "serde refuses what the fast path read: {}", error)
                    }
                }
            }
        }
    }

    #[test]
    fn a_large_event_is_read_in_as_many_parts_as_asked() {
        let json = EventBuilder::new()
            .source(SourceKind::Kinesis)
            .lines((0..5000).map(|n| format!("line {n}")))
            .to_json();
        let (whole, quoted_ids) = parse(&json, 1).expect("the common shape");
        for parts in [2, 3, 8] {
            let (event, measured, read) = parse_counting_parts(&json, parts).expect("read");
            assert_eq!(read, parts);
            assert_eq!(measured, quoted_ids);
            assert_eq!(event, whole);
        }
    }

    /// Every place a part could start: each record's start, and each `},{`
    /// inside an id.
    fn every_candidate(json: &[u8], from: usize, _: usize) -> Vec<usize> {
        (from..json.len())
            .filter(|&at| json[at] == b'{' && between_records(&json[..at]))
            .collect()
    }

    #[test]
    fn a_wrong_guess_at_a_part_start_is_read_past() {
        // Ids holding what lies between two records, with and without
        // whitespace: a part guessed to start there is not taken (the part
        // before it reads on), and every part that starts at a record is.
        let records: Vec<String> = (0..20)
            .map(|n| {
                format!(
                    r#"{{"recordId":"{n}}}, {{ }},{{","data":"{}"}}"#,
                    "QQ==".repeat(n)
                )
            })
            .collect();
        let json = format!(r#"{{"records":[{}]}}"#, records.join(",\n "));
        let candidates = every_candidate(json.as_bytes(), 0, 0);
        assert_eq!(
            candidates.len(),
            20 * 2 + 19,
            "two in each id, and 19 between records"
        );
        let (event, quoted_ids, read) =
            parse_guessing(json.as_bytes(), 2, every_candidate).expect("read");
        assert_eq!(read, 20, "one part for each record");
        assert_eq!((event, quoted_ids), parse(json.as_bytes(), 1).unwrap());
        assert_eq!(
            parse(json.as_bytes(), 1).unwrap().0,
            by_serde(json.as_bytes()).unwrap()
        );
    }

    thread_local! {
        /// Starting a thread for a part fails (as when the system has none
        /// left to give).
        pub(super) static NO_THREADS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    #[test]
    fn parts_whose_threads_cannot_start_are_read_by_the_first() {
        let json = EventBuilder::new()
            .lines((0..300).map(|n| format!("line {n}")))
            .to_json();
        NO_THREADS.with(|no| no.set(true));
        let read = parse_guessing(&json, 2, every_candidate);
        NO_THREADS.with(|no| no.set(false));
        let (event, quoted_ids, parts) = read.expect("read");
        assert_eq!(parts, 1, "no part was read apart");
        assert_eq!((event, quoted_ids), parse(&json, 1).unwrap());
    }

    #[test]
    fn a_part_that_cannot_be_read_fast_sends_the_event_to_serde() {
        let mut json = EventBuilder::new()
            .lines((0..100).map(|n| format!("line {n}")))
            .to_json();
        // An escape in the last record's id: only the last part sees it.
        let at = json.len() - 30;
        let id = json[..at]
            .windows(12)
            .rposition(|w| w == b"\"recordId\":\"")
            .unwrap()
            + 12;
        json.splice(id..id, *br"\u0041");
        assert!(parse(&json, 1).is_none());
        assert!(parse(&json, 4).is_none());
        assert!(by_serde(&json).is_ok());
    }

    #[test]
    fn plain_len_stops_at_the_quote_and_refuses_what_needs_decoding() {
        assert_eq!(plain_len(b"\""), Some(0));
        assert_eq!(plain_len(b"abcdefghijklmnop\"rest"), Some(16));
        assert_eq!(plain_len(b"abcdefghijklmno\x7f\"rest"), Some(16));
        for special in [b'\\', b'\n', 0x1f, 0x80, 0xff] {
            for at in 0..44 {
                let mut text = vec![b'a'; 48];
                text[at] = special;
                text.push(b'"');
                assert_eq!(plain_len(&text), None, "byte {special:#x} at {at}");
            }
        }
        assert_eq!(plain_len(b"no closing quote"), None);
        // The quote in every position of the wide and the narrow steps.
        for len in 0..48 {
            let mut text = vec![b'a'; len];
            text.extend_from_slice(b"\"tail of the input, long enough");
            assert_eq!(plain_len(&text), Some(len));
            assert_eq!(plain_len(&text[..=len]), Some(len));
        }
    }
}
