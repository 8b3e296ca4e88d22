//! The wire format out: the response Firehose expects, and its exact size.
//!
//! A [`Response`] is built record by record by the [engine](crate::engine). It
//! is its own JSON, in a buffer of its own and in pieces of the buffers the
//! engine's threads wrote entries in (no allocation per record), and knows,
//! at every step, exactly how many bytes its JSON will take:
//! [`Response::serialized_len`] is computed from the same escaping rules
//! serde_json applies (see [`quoted_len`]), and a property test pins the two
//! together. That exact count is what lets the engine fill a response up to the
//! 6 MB limit without a headroom guess.
//!
//! The JSON written (by `serde_json`, through `Serialize`) is compact:
//! `{"records":[{"recordId":"…","result":"Ok","data":"…","metadata":{"partitionKeys":{…}}},…]}`.
//! `data` (or `kafkaRecordValue` for an MSK source) appears for `Ok` records
//! only, and `metadata` only when the record has partition keys.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use bytes::Bytes;

use serde::{Deserialize, Serialize};

use crate::codec;
use crate::formats::json::{quoted_len, write_str, write_str_contents};

/// The outcome Firehose is told for one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RecordResult {
    /// Transformed: `data` holds the output.
    Ok,
    /// Deliberately discarded; counts as success.
    Dropped,
    /// Could not be processed: Firehose writes the original to the error prefix.
    ProcessingFailed,
}

impl RecordResult {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordResult::Ok => "Ok",
            RecordResult::Dropped => "Dropped",
            RecordResult::ProcessingFailed => "ProcessingFailed",
        }
    }
}

impl fmt::Display for RecordResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of a [`Response`], as stored: where its parts are in the JSON.
#[derive(Debug, Clone)]
struct Entry {
    /// The record id: a range of the JSON when it needed no escaping (the
    /// JSON text is the id), else of [`Response::escaped_ids`].
    id: Span,
    /// Where the result's name starts in the JSON.
    result_at: usize,
    /// The result as written in the JSON.
    written: RecordResult,
    /// The result now: differs from `written` after [`Response::set_result`].
    result: RecordResult,
    /// The base64 data's range in the JSON (`Ok` only).
    data: Option<(usize, usize)>,
    metadata: Option<Box<Metadata>>,
}

/// Part of a response's JSON, from offset `start` of the whole.
#[derive(Debug, Clone)]
struct Piece {
    start: usize,
    bytes: PieceBytes,
}

#[derive(Debug, Clone)]
enum PieceBytes {
    /// A range of the response's own JSON.
    Own(Range<usize>),
    /// A range of a buffer the entries were written in.
    InPlace(Bytes, Range<usize>),
}

/// A range of bytes in one of the response's buffers.
#[derive(Debug, Clone, Copy)]
enum Span {
    Json(usize, usize),
    Escaped(usize, usize),
}

/// A borrowed view of one response record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResponseRecordRef<'a> {
    /// The record's id, as received.
    pub record_id: &'a str,
    /// The result.
    pub result: RecordResult,
    /// The output, base64 (`Ok` only).
    pub data: Option<&'a str>,
    /// The partition keys (empty when none).
    pub partition_keys: &'a [(String, String)],
    /// The Iceberg routing, when set.
    pub otf_metadata: Option<&'a OtfMetadata>,
}

/// A Firehose transformation response under construction or complete.
///
/// The response is its own JSON: each record pushed is written at once, in
/// the compact form Firehose reads, so the finished response is sent as it
/// is ([`into_chunks`](Response::into_chunks), or
/// [`into_json`](Response::into_json) in one piece) without another pass,
/// and its exact length is always known ([`serialized_len`](Response::serialized_len)).
/// Runs of entries the engine's threads wrote stay in their buffers, as
/// pieces of the JSON, rather than being copied into the response's own.
///
/// ```
/// use firehose_transform::response::{RecordResult, Response};
///
/// let mut response = Response::new(false);
/// response.push_encoded("r1", RecordResult::Ok, Some("aGk="), &Default::default());
/// response.push_encoded("r2", RecordResult::Dropped, None, &Default::default());
/// let json = response.to_json();
/// assert_eq!(
///     std::str::from_utf8(&json).unwrap(),
///     r#"{"records":[{"recordId":"r1","result":"Ok","data":"aGk="},{"recordId":"r2","result":"Dropped"}]}"#
/// );
/// assert_eq!(response.serialized_len(), json.len());
/// assert_eq!(response.into_json(), json);
/// ```
#[derive(Debug, Clone)]
pub struct Response {
    /// What the response wrote itself: `{"records":[` and the entries after
    /// it, without the closing `]}`; with `pieces`, only some of them.
    json: Vec<u8>,
    /// The JSON so far in order, when some of it is not in `json` (runs of
    /// entries the engine's threads wrote); empty while `json` is all of it.
    pieces: Vec<Piece>,
    /// The length of the JSON so far (without the closing `]}`): offsets
    /// into it (an entry's id, result and data) count across the pieces.
    len: usize,
    entries: Vec<Entry>,
    /// The ids that needed escaping, as received (rare: Firehose's ids are digits).
    escaped_ids: String,
    kafka: bool,
    serialized_len: usize,
    /// Whether some entry's result was changed after it was written.
    rewritten: bool,
}

/// What an `Ok` entry carries besides its data: `metadata` on the wire.
///
/// `partitionKeys` feed `!{partitionKeyFromLambda:key}` in a dynamic
/// partitioning prefix; `otfMetadata` routes the record to an Apache Iceberg
/// table. Both are counted in the response's exact size like everything else.
///
/// ```
/// use firehose_transform::response::{Metadata, OtfMetadata, OtfOperation, Response};
///
/// let mut metadata = Metadata::default();
/// metadata.set_partition_key("year", "2026");
/// metadata.otf = Some(OtfMetadata {
///     database: Some("logs".into()),
///     table: Some("events".into()),
///     operation: Some(OtfOperation::Insert),
/// });
/// let mut response = Response::new(false);
/// response.push_ok("r1", b"hi", &metadata);
/// assert_eq!(
///     String::from_utf8(response.to_json()).unwrap(),
///     r#"{"records":[{"recordId":"r1","result":"Ok","data":"aGk=","metadata":{"partitionKeys":{"year":"2026"},"otfMetadata":{"destinationDatabaseName":"logs","destinationTableName":"events","operation":"insert"}}}]}"#
/// );
/// assert_eq!(response.serialized_len(), response.to_json().len());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// Dynamic partitioning keys, in the order first set.
    pub partition_keys: Vec<(String, String)>,
    /// Apache Iceberg destination routing.
    pub otf: Option<OtfMetadata>,
}

impl Metadata {
    /// Metadata with these partition keys only.
    pub fn with_partition_keys<K: Into<String>, V: Into<String>>(
        keys: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let mut metadata = Metadata::default();
        for (key, value) in keys {
            metadata.set_partition_key(key, value);
        }
        metadata
    }

    /// Sets a partition key, replacing an earlier value of the same key.
    pub fn set_partition_key(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        let value = value.into();
        match self.partition_keys.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.partition_keys.push((key, value)),
        }
    }

    /// Whether there is nothing to send (no `metadata` member then).
    pub fn is_empty(&self) -> bool {
        self.partition_keys.is_empty() && self.otf.as_ref().is_none_or(OtfMetadata::is_empty)
    }

    /// Removes everything, keeping allocations.
    pub fn clear(&mut self) {
        self.partition_keys.clear();
        self.otf = None;
    }

    /// The bytes `,"metadata":{…}` takes in an entry (0 when empty).
    fn serialized_len(&self) -> usize {
        if self.is_empty() {
            return 0;
        }
        let mut len = r#","metadata":{}"#.len();
        if !self.partition_keys.is_empty() {
            len += r#""partitionKeys":{}"#.len() + self.partition_keys.len() - 1;
            len += self
                .partition_keys
                .iter()
                .map(|(key, value)| quoted_len(key) + 1 + quoted_len(value))
                .sum::<usize>();
        }
        if let Some(otf) = self.otf.as_ref().filter(|otf| !otf.is_empty()) {
            // A comma after partitionKeys, then "otfMetadata":{"name":"value",…}.
            len += usize::from(!self.partition_keys.is_empty()) + r#""otfMetadata":{}"#.len();
            let mut members = 0;
            for (key, value) in otf.members() {
                len += quoted_len(key) + 1 + quoted_len(value);
                members += 1;
            }
            len += members - 1;
        }
        len
    }

    fn write_json(&self, out: &mut Vec<u8>) {
        if self.is_empty() {
            return;
        }
        out.extend_from_slice(b",\"metadata\":{");
        if !self.partition_keys.is_empty() {
            out.extend_from_slice(b"\"partitionKeys\":{");
            for (j, (key, value)) in self.partition_keys.iter().enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                write_str(out, key);
                out.push(b':');
                write_str(out, value);
            }
            out.push(b'}');
        }
        if let Some(otf) = self.otf.as_ref().filter(|otf| !otf.is_empty()) {
            if !self.partition_keys.is_empty() {
                out.push(b',');
            }
            out.extend_from_slice(b"\"otfMetadata\":{");
            for (j, (key, value)) in otf.members().enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                out.push(b'"');
                out.extend_from_slice(key.as_bytes());
                out.extend_from_slice(b"\":");
                write_str(out, value);
            }
            out.push(b'}');
        }
        out.push(b'}');
    }
}

/// Routing of a record to an Apache Iceberg table (`metadata.otfMetadata`),
/// for Firehose's Iceberg destination. A member left `None` is not sent, and
/// Firehose uses the stream's configuration for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OtfMetadata {
    /// `destinationDatabaseName`.
    pub database: Option<String>,
    /// `destinationTableName`.
    pub table: Option<String>,
    /// `operation`.
    pub operation: Option<OtfOperation>,
}

impl OtfMetadata {
    /// Whether no member is set.
    pub fn is_empty(&self) -> bool {
        self.database.is_none() && self.table.is_none() && self.operation.is_none()
    }

    /// The members to send, as (wire name, value), in wire order.
    fn members(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("destinationDatabaseName", self.database.as_deref()),
            ("destinationTableName", self.table.as_deref()),
            ("operation", self.operation.map(OtfOperation::as_str)),
        ]
        .into_iter()
        .filter_map(|(key, value)| Some((key, value?)))
    }
}

/// What an Iceberg destination does with a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OtfOperation {
    /// `insert`.
    Insert,
    /// `update`.
    Update,
    /// `delete`.
    Delete,
}

impl OtfOperation {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            OtfOperation::Insert => "insert",
            OtfOperation::Update => "update",
            OtfOperation::Delete => "delete",
        }
    }
}

impl std::str::FromStr for OtfOperation {
    type Err = String;

    /// `insert`, `update` or `delete` (any case).
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "insert" => Ok(OtfOperation::Insert),
            "update" => Ok(OtfOperation::Update),
            "delete" => Ok(OtfOperation::Delete),
            _ => Err(format!(
                "{s:?} is not an Iceberg operation (insert, update or delete)"
            )),
        }
    }
}

/// The metadata of entries that carry none.
pub(crate) static NO_METADATA: Metadata = Metadata {
    partition_keys: Vec::new(),
    otf: None,
};

/// What a response starts with.
const OPENING: &[u8] = br#"{"records":["#;
/// What closes it.
const CLOSING: &[u8] = b"]}";

/// Where an `Ok` entry's data comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Data<'a> {
    /// Bytes to encode.
    Raw(&'a [u8]),
    /// Base64 text already made.
    Encoded(&'a str),
}

/// One entry to write: its record's id, result, data and metadata.
pub(crate) struct EntryText<'a> {
    /// `kafkaRecordValue` in place of `data`.
    pub kafka: bool,
    /// Starts with a comma (every entry but the first).
    pub comma: bool,
    pub record_id: &'a str,
    pub result: RecordResult,
    /// The data, for `Ok` (none is `""`); ignored otherwise.
    pub data: Option<Data<'a>>,
    /// Ignored unless `Ok`.
    pub metadata: &'a Metadata,
}

/// Where the parts of one entry's JSON are, counted from where it starts
/// (its comma, when written with one).
#[derive(Debug, Clone, Copy)]
pub(crate) struct EntryLayout {
    /// The id's contents, between its quotes (escaped, if it needed that).
    id: (usize, usize),
    /// Where the result's name starts.
    result_at: usize,
    /// The base64 data, between its quotes (`Ok` only).
    data: Option<(usize, usize)>,
    /// The entry's length with its comma: what it adds to a response that
    /// already has an entry.
    pub len: usize,
}

impl<'a> EntryText<'a> {
    /// The `ProcessingFailed` entry of `record_id`, after a comma; the other
    /// entries are written as changes to it.
    pub fn failed(kafka: bool, record_id: &'a str) -> Self {
        EntryText {
            kafka,
            comma: true,
            record_id,
            result: RecordResult::ProcessingFailed,
            data: None,
            metadata: &NO_METADATA,
        }
    }
}

impl EntryLayout {
    /// The id's length as a JSON string, quotes included.
    pub fn quoted_id_len(&self) -> usize {
        self.id.1 - self.id.0 + 2
    }
}

/// Writes one entry's JSON at the end of `json`. The engine's threads write
/// entries this way into their own buffers and [`Response::push_written`]
/// adds them; [`Response::push_entry`] writes straight into the response.
pub(crate) fn write_entry(json: &mut Vec<u8>, entry: EntryText<'_>) -> EntryLayout {
    let ok = entry.result == RecordResult::Ok;
    // Offsets count from where the comma is, or would be.
    let origin = json.len();
    let offset = |json: &Vec<u8>| json.len() - origin + usize::from(!entry.comma);
    if entry.comma {
        json.push(b',');
    }
    json.extend_from_slice(br#"{"recordId":""#);
    let id_from = offset(json);
    write_str_contents(json, entry.record_id);
    let id = (id_from, offset(json));
    json.extend_from_slice(br#"","result":""#);
    let result_at = offset(json);
    json.extend_from_slice(entry.result.as_str().as_bytes());
    json.push(b'"');
    let data = ok.then(|| {
        json.extend_from_slice(if entry.kafka {
            br#","kafkaRecordValue":""#
        } else {
            br#","data":""#
        });
        let from = offset(json);
        match entry.data.unwrap_or(Data::Encoded("")) {
            Data::Raw(bytes) => codec::encode_append(bytes, json),
            Data::Encoded(text) => json.extend_from_slice(text.as_bytes()),
        }
        let to = offset(json);
        json.push(b'"');
        (from, to)
    });
    if ok {
        entry.metadata.write_json(json);
    }
    json.push(b'}');
    EntryLayout {
        id,
        result_at,
        data,
        len: offset(json),
    }
}

impl Response {
    /// An empty response. `kafka` selects `kafkaRecordValue` (MSK source) in
    /// place of `data`.
    pub fn new(kafka: bool) -> Self {
        Response::with_capacity(kafka, 0, 0)
    }

    /// An empty response with room for `records` records and `bytes` of
    /// JSON (their data included).
    pub fn with_capacity(kafka: bool, records: usize, bytes: usize) -> Self {
        let mut response = Response {
            json: Vec::new(),
            pieces: Vec::new(),
            len: OPENING.len(),
            entries: Vec::with_capacity(records),
            escaped_ids: String::new(),
            kafka,
            serialized_len: OPENING.len() + CLOSING.len(),
            rewritten: false,
        };
        response.reserve(bytes.max(OPENING.len()));
        response.json.extend_from_slice(OPENING);
        response
    }

    /// Makes room for `bytes` more bytes of JSON (the closing `]}`
    /// included), so that entries up to that much are written without
    /// regrowing (and copying) the JSON.
    pub(crate) fn reserve(&mut self, bytes: usize) {
        let json = &mut self.json;
        let capacity = json.capacity();
        json.reserve_exact(bytes + CLOSING.len());
        if json.capacity() != capacity {
            // Room is made for what will be written, front to back: its
            // pages are entered at once rather than faulted in one by one
            // (1,500 faults for 6 MB; 6% of `apachelog-to-json`'s whole run
            // on a 6 MB event).
            crate::runtime::populate_spare_capacity(json);
        }
    }

    /// The bytes of JSON that fit without regrowing.
    pub(crate) fn spare_capacity(&self) -> usize {
        self.json.capacity() - self.json.len()
    }

    /// The bytes of JSON the response wrote itself (the rest stayed where
    /// the engine's threads wrote it).
    pub(crate) fn own_len(&self) -> usize {
        self.json.len()
    }

    /// Whether the payload key is `kafkaRecordValue`.
    pub fn is_kafka(&self) -> bool {
        self.kafka
    }

    fn data_key(&self) -> &'static str {
        if self.kafka {
            "kafkaRecordValue"
        } else {
            "data"
        }
    }

    /// The exact length of this response's JSON, in bytes.
    pub fn serialized_len(&self) -> usize {
        self.serialized_len
    }

    /// The number of records so far.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The bytes one record adds to the JSON (the separating comma included when
    /// it is not the first record). `data_len` is the base64 length.
    pub fn entry_len(
        &self,
        record_id: &str,
        result: RecordResult,
        data_len: Option<usize>,
        metadata: &Metadata,
        first: bool,
    ) -> usize {
        self.entry_len_quoted(quoted_len(record_id), result, data_len, metadata, first)
    }

    /// [`entry_len`](Response::entry_len) with the id's quoted length already
    /// known (the engine measures each id once).
    pub(crate) fn entry_len_quoted(
        &self,
        quoted_id_len: usize,
        result: RecordResult,
        data_len: Option<usize>,
        metadata: &Metadata,
        first: bool,
    ) -> usize {
        let mut len = usize::from(!first)
            + r#"{"recordId":"#.len()
            + quoted_id_len
            + r#","result":""#.len()
            + result.as_str().len()
            + r#""}"#.len();
        if let Some(data_len) = data_len {
            // ,"data":"…"
            len += ",\"".len() + self.data_key().len() + "\":\"".len() + data_len + "\"".len();
        }
        len + metadata.serialized_len()
    }

    /// The bytes a `ProcessingFailed` entry for `record_id` adds.
    pub fn failed_entry_len(&self, record_id: &str, first: bool) -> usize {
        self.entry_len(
            record_id,
            RecordResult::ProcessingFailed,
            None,
            &NO_METADATA,
            first,
        )
    }

    /// Appends a record whose output is already base64 (`data` for `Ok` only;
    /// ignored otherwise, as is the metadata).
    pub fn push_encoded(
        &mut self,
        record_id: &str,
        result: RecordResult,
        data: Option<&str>,
        metadata: &Metadata,
    ) {
        let data = data
            .filter(|_| result == RecordResult::Ok)
            .map(Data::Encoded);
        self.push_entry(record_id, result, data, metadata);
    }

    /// Appends an `Ok` record, base64-encoding `output` straight into the
    /// response's JSON.
    pub fn push_ok(&mut self, record_id: &str, output: &[u8], metadata: &Metadata) {
        self.push_entry(
            record_id,
            RecordResult::Ok,
            Some(Data::Raw(output)),
            metadata,
        );
    }

    /// Writes one entry into the JSON. An `Ok` entry always has data (empty
    /// output is `""`), others have neither data nor metadata.
    pub(crate) fn push_entry(
        &mut self,
        record_id: &str,
        result: RecordResult,
        data: Option<Data<'_>>,
        metadata: &Metadata,
    ) {
        let first = self.entries.is_empty();
        let start = self.len - usize::from(first);
        let from = self.json.len();
        let layout = write_entry(
            &mut self.json,
            EntryText {
                kafka: self.kafka,
                comma: !first,
                record_id,
                result,
                data,
                metadata,
            },
        );
        self.wrote_own(from);
        let metadata = (result == RecordResult::Ok && !metadata.is_empty())
            .then(|| Box::new(metadata.clone()));
        self.add_entry(start, &layout, record_id, result, metadata);
    }

    /// Appends an entry [`write_entry`] wrote elsewhere (on another thread):
    /// `text` is its JSON, with a leading comma, laid out as `layout` says;
    /// the comma is left out when this is the first entry.
    pub(crate) fn push_written(
        &mut self,
        text: &[u8],
        layout: &EntryLayout,
        record_id: &str,
        result: RecordResult,
        metadata: Option<Box<Metadata>>,
    ) {
        debug_assert_eq!(text.first(), Some(&b','));
        let skip = usize::from(self.entries.is_empty());
        let from = self.json.len();
        self.json.extend_from_slice(&text[skip..]);
        self.wrote_own(from);
        let start = self.len - text.len();
        self.add_entry(start, layout, record_id, result, metadata);
    }

    /// [`push_written`](Response::push_written) without copying: the entry
    /// at `at` in `buffer` (where [`write_entry`] wrote it, with a leading
    /// comma) becomes part of the response where it is. Entries that follow
    /// each other in one buffer make one piece.
    pub(crate) fn push_written_in_place(
        &mut self,
        buffer: &Bytes,
        at: usize,
        layout: &EntryLayout,
        record_id: &str,
        result: RecordResult,
        metadata: Option<Box<Metadata>>,
    ) {
        debug_assert_eq!(buffer.get(at), Some(&b','));
        let from = at + usize::from(self.entries.is_empty());
        let to = at + layout.len;
        if self.pieces.is_empty() {
            self.pieces.push(Piece {
                start: 0,
                bytes: PieceBytes::Own(0..self.json.len()),
            });
        }
        match self.pieces.last_mut().map(|piece| &mut piece.bytes) {
            Some(PieceBytes::InPlace(last, range))
                if last.as_ptr() == buffer.as_ptr() && range.end == from =>
            {
                range.end = to;
            }
            _ => self.pieces.push(Piece {
                start: self.len,
                bytes: PieceBytes::InPlace(buffer.clone(), from..to),
            }),
        }
        self.len += to - from;
        let start = self.len - layout.len;
        self.add_entry(start, layout, record_id, result, metadata);
    }

    /// Counts the bytes written at the end of the response's own JSON from
    /// `from` into the whole.
    fn wrote_own(&mut self, from: usize) {
        let to = self.json.len();
        match self.pieces.last_mut().map(|piece| &mut piece.bytes) {
            None => {}
            Some(PieceBytes::Own(range)) if range.end == from => range.end = to,
            Some(_) => self.pieces.push(Piece {
                start: self.len,
                bytes: PieceBytes::Own(from..to),
            }),
        }
        self.len += to - from;
    }

    /// The JSON's pieces in order, each with where it starts in the whole.
    fn pieces(&self) -> impl Iterator<Item = (usize, &[u8])> + '_ {
        let whole = self.pieces.is_empty().then_some((0, &self.json[..]));
        whole.into_iter().chain(self.pieces.iter().map(|piece| {
            let bytes = match &piece.bytes {
                PieceBytes::Own(range) => &self.json[range.clone()],
                PieceBytes::InPlace(buffer, range) => &buffer[range.clone()],
            };
            (piece.start, bytes)
        }))
    }

    /// The bytes from `from` to `to` of the JSON, which lie in one piece
    /// (an id, a payload).
    fn bytes_at(&self, from: usize, to: usize) -> &[u8] {
        if self.pieces.is_empty() {
            return &self.json[from..to];
        }
        let piece = &self.pieces[self.pieces.partition_point(|p| p.start <= from) - 1];
        let (bytes, range) = match &piece.bytes {
            PieceBytes::Own(range) => (&self.json[..], range),
            PieceBytes::InPlace(buffer, range) => (&buffer[..], range),
        };
        let offset = range.start + from - piece.start;
        &bytes[offset..offset + (to - from)]
    }

    /// Records the entry whose JSON starts at `start` (where its comma is,
    /// or would be for the first entry) and is laid out as `layout` says.
    fn add_entry(
        &mut self,
        start: usize,
        layout: &EntryLayout,
        record_id: &str,
        result: RecordResult,
        metadata: Option<Box<Metadata>>,
    ) {
        let at = |(from, to): (usize, usize)| (start + from, start + to);
        let (id_from, id_to) = at(layout.id);
        let id = if id_to - id_from == record_id.len() {
            // Nothing was escaped: the JSON text is the id.
            Span::Json(id_from, id_to)
        } else {
            let from = self.escaped_ids.len();
            self.escaped_ids.push_str(record_id);
            Span::Escaped(from, self.escaped_ids.len())
        };
        self.serialized_len += layout.len - usize::from(self.entries.is_empty());
        self.entries.push(Entry {
            id,
            result_at: start + layout.result_at,
            written: result,
            result,
            data: layout.data.map(at),
            metadata,
        });
        debug_assert_eq!(
            self.len - start,
            layout.len,
            "the entry's layout and its JSON agree"
        );
    }

    /// Changes the result of the entry at `index` between `Dropped` and
    /// `ProcessingFailed` (entries without data), keeping the exact size.
    /// Returns `false`, changing nothing, for an `Ok` entry, an `Ok` result
    /// or an index past the end: an `Ok` entry carries data that cannot be
    /// added or removed here.
    ///
    /// Re-ingestion uses it to answer `Dropped` for a record once its data is
    /// written back (`Dropped` is shorter, so the budget still holds). The
    /// JSON is rewritten once, when the response is next written out.
    ///
    /// ```
    /// use firehose_transform::response::{RecordResult, Response};
    ///
    /// let mut response = Response::new(false);
    /// response.push_encoded("r1", RecordResult::ProcessingFailed, None, &Default::default());
    /// assert!(response.set_result(0, RecordResult::Dropped));
    /// assert_eq!(response.serialized_len(), response.to_json().len());
    /// assert!(!response.set_result(0, RecordResult::Ok));
    /// assert!(!response.set_result(1, RecordResult::Dropped));
    /// ```
    pub fn set_result(&mut self, index: usize, result: RecordResult) -> bool {
        let Some(entry) = self.entries.get_mut(index) else {
            return false;
        };
        if entry.result == RecordResult::Ok || result == RecordResult::Ok {
            return false;
        }
        self.serialized_len =
            self.serialized_len - entry.result.as_str().len() + result.as_str().len();
        entry.result = result;
        self.rewritten |= entry.result != entry.written;
        true
    }

    /// The records, in order.
    pub fn records(&self) -> impl ExactSizeIterator<Item = ResponseRecordRef<'_>> + '_ {
        self.entries.iter().map(move |entry| ResponseRecordRef {
            record_id: match entry.id {
                Span::Json(start, end) => self.json_str(start, end),
                Span::Escaped(start, end) => &self.escaped_ids[start..end],
            },
            result: entry.result,
            data: entry.data.map(|(start, end)| self.json_str(start, end)),
            partition_keys: entry
                .metadata
                .as_deref()
                .map_or(&[], |m| m.partition_keys.as_slice()),
            otf_metadata: entry.metadata.as_deref().and_then(|m| m.otf.as_ref()),
        })
    }

    /// A piece of the JSON that is a whole string's contents (an id, a
    /// payload), so it is UTF-8 by construction.
    fn json_str(&self, start: usize, end: usize) -> &str {
        std::str::from_utf8(self.bytes_at(start, end))
            .expect("ids and payloads are written from strings, whole")
    }

    /// The response as JSON bytes (exactly [`serialized_len`](Response::serialized_len) of them).
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.serialized_len);
        self.write_json(&mut out)
            .expect("writing to a Vec cannot fail");
        out
    }

    /// The response as JSON bytes in one buffer, without copying them when
    /// the response wrote all of them itself and no result was changed after
    /// it was written. See [`into_chunks`](Response::into_chunks) to send it
    /// without joining its pieces.
    pub fn into_json(mut self) -> Vec<u8> {
        if self.rewritten || !self.pieces.is_empty() {
            return self.to_json();
        }
        self.json.extend_from_slice(CLOSING);
        self.json
    }

    /// The response as the pieces of its JSON, in order, without copying
    /// them (unless a result was changed after it was written): what to hand
    /// to a writer or an HTTP body that takes a list of buffers.
    ///
    /// ```
    /// use firehose_transform::response::{RecordResult, Response};
    ///
    /// let mut response = Response::new(false);
    /// response.push_encoded("r1", RecordResult::Ok, Some("aGk="), &Default::default());
    /// let json = response.to_json();
    /// assert_eq!(response.into_chunks().concat(), json);
    /// ```
    pub fn into_chunks(mut self) -> Vec<Bytes> {
        if self.rewritten {
            return vec![Bytes::from(self.to_json())];
        }
        if self.pieces.is_empty() {
            self.json.extend_from_slice(CLOSING);
            return vec![Bytes::from(self.json)];
        }
        let own = Bytes::from(std::mem::take(&mut self.json));
        let mut chunks: Vec<Bytes> = (self.pieces.into_iter())
            .map(|piece| match piece.bytes {
                PieceBytes::Own(range) => own.slice(range),
                PieceBytes::InPlace(buffer, range) => buffer.slice(range),
            })
            .collect();
        chunks.push(Bytes::from_static(CLOSING));
        chunks
    }

    /// Writes the response's JSON to `writer`.
    pub fn write_json<W: std::io::Write>(&self, mut writer: W) -> std::io::Result<()> {
        // Unchanged runs of entries go out as they are; a changed result is
        // written in place of the one the JSON holds (a result's name is
        // never split between pieces).
        let mut changed = (self.entries.iter())
            .filter(|e| e.result != e.written)
            .peekable();
        for (start, bytes) in self.pieces() {
            let mut from = 0;
            while let Some(entry) = changed.next_if(|e| e.result_at < start + bytes.len()) {
                let at = entry.result_at - start;
                writer.write_all(&bytes[from..at])?;
                writer.write_all(entry.result.as_str().as_bytes())?;
                from = at + entry.written.as_str().len();
            }
            writer.write_all(&bytes[from..])?;
        }
        writer.write_all(CLOSING)
    }
}

/// A response as read back from JSON (owned), for checking a response that
/// came from elsewhere: a binary's output, another implementation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct WireResponse {
    /// The records.
    pub records: Vec<WireResponseRecord>,
}

/// One record of a [`WireResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireResponseRecord {
    /// The record's id.
    pub record_id: String,
    /// `Ok`, `Dropped` or `ProcessingFailed`.
    pub result: RecordResult,
    /// The output, base64 (non-MSK sources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// The output, base64 (MSK source).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kafka_record_value: Option<String>,
    /// Partition keys, when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<WireMetadata>,
}

/// The `metadata` of a [`WireResponseRecord`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireMetadata {
    /// Dynamic partitioning keys.
    #[serde(default)]
    pub partition_keys: BTreeMap<String, String>,
    /// Iceberg routing, when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otf_metadata: Option<WireOtfMetadata>,
}

/// The `metadata.otfMetadata` of a [`WireResponseRecord`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireOtfMetadata {
    /// The Iceberg database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_database_name: Option<String>,
    /// The Iceberg table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_table_name: Option<String>,
    /// `insert`, `update` or `delete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
}

impl WireResponseRecord {
    /// The base64 payload, whichever key carried it.
    pub fn payload(&self) -> Option<&str> {
        self.data.as_deref().or(self.kafka_record_value.as_deref())
    }
}

/// Into `aws_lambda_events`' response type, for code that returns that type.
///
/// ```
/// use aws_lambda_events::event::firehose::KinesisFirehoseResponse;
/// use firehose_transform::response::{Metadata, RecordResult, Response};
///
/// let mut response = Response::new(false);
/// response.push_ok("r1", b"hi", &Metadata::with_partition_keys([("day", "01")]));
/// response.push_encoded("r2", RecordResult::Dropped, None, &Metadata::default());
/// let theirs = KinesisFirehoseResponse::from(&response);
/// assert_eq!(theirs.records[0].data.0, b"hi");
/// assert_eq!(theirs.records[0].metadata.partition_keys["day"], "01");
/// assert_eq!(theirs.records[1].result.as_deref(), Some("Dropped"));
/// ```
impl From<&Response> for aws_lambda_events::event::firehose::KinesisFirehoseResponse {
    fn from(response: &Response) -> Self {
        use aws_lambda_events::encodings::Base64Data;
        use aws_lambda_events::event::firehose::{
            KinesisFirehoseResponse, KinesisFirehoseResponseRecord,
        };

        let mut theirs = KinesisFirehoseResponse::default();
        theirs.records = response
            .records()
            .map(|record| {
                let mut out = KinesisFirehoseResponseRecord::default();
                out.record_id = Some(record.record_id.to_string());
                out.result = Some(record.result.as_str().to_string());
                // `Base64Data` is non-exhaustive: fill a default one.
                let mut data = Base64Data::default();
                if let Some(b64) = record.data {
                    data.0 = codec::decode(b64).expect("a response holds the base64 it encoded");
                }
                out.data = data;
                out.metadata.partition_keys = record.partition_keys.iter().cloned().collect();
                out
            })
            .collect();
        theirs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn keys() -> impl Strategy<Value = Vec<(String, String)>> {
        proptest::collection::vec((any::<String>(), any::<String>()), 0..3).prop_map(|mut keys| {
            keys.sort();
            keys.dedup_by(|a, b| a.0 == b.0);
            keys
        })
    }

    fn result() -> impl Strategy<Value = RecordResult> {
        prop_oneof![
            Just(RecordResult::Ok),
            Just(RecordResult::Dropped),
            Just(RecordResult::ProcessingFailed)
        ]
    }

    #[test]
    fn entries_in_other_buffers_read_and_write_as_if_copied() {
        // Entries written elsewhere, as the engine's threads do: some joined
        // where they are (the first of them, which loses its comma, and two
        // with a gap between them in one buffer), some copied, some written
        // by the response itself; then results changed in every kind.
        let key = Metadata::with_partition_keys([("k", "v")]);
        let entry = |id: &'static str, result, data: Option<&'static str>| EntryText {
            result,
            data: data.map(Data::Encoded),
            metadata: if data.is_some() { &key } else { &NO_METADATA },
            ..EntryText::failed(false, id)
        };
        let mut first = Vec::new();
        let layouts: Vec<_> = [
            entry("a", RecordResult::Ok, Some("YQ==")),
            entry("b\"quoted\"", RecordResult::ProcessingFailed, None),
            entry("c", RecordResult::Ok, Some("Yw==")),
            entry("d", RecordResult::Dropped, None),
        ]
        .into_iter()
        .map(|e| (write_entry(&mut first, e), first.len()))
        .collect();
        let first = Bytes::from(first);
        let mut second = Vec::new();
        let copied = write_entry(&mut second, entry("e", RecordResult::Ok, Some("ZQ==")));

        let mut response = Response::new(false);
        let mut expected = Response::new(false);
        let metadata = |r: RecordResult| (r == RecordResult::Ok).then(|| Box::new(key.clone()));
        let ids = ["a", "b\"quoted\"", "c", "d"];
        let results = [
            RecordResult::Ok,
            RecordResult::ProcessingFailed,
            RecordResult::Ok,
            RecordResult::Dropped,
        ];
        let data = [Some("YQ=="), None, Some("Yw=="), None];
        // a and b in place, one piece; c left out; d in place, a new piece.
        let mut at = 0;
        for (i, (layout, end)) in layouts.iter().enumerate() {
            if i != 2 {
                response.push_written_in_place(
                    &first,
                    at,
                    layout,
                    ids[i],
                    results[i],
                    metadata(results[i]),
                );
                let meta = if results[i] == RecordResult::Ok {
                    &key
                } else {
                    &NO_METADATA
                };
                expected.push_encoded(ids[i], results[i], data[i], meta);
            }
            at = *end;
        }
        response.push_encoded("own", RecordResult::Dropped, None, &NO_METADATA);
        expected.push_encoded("own", RecordResult::Dropped, None, &NO_METADATA);
        response.push_written(
            &second,
            &copied,
            "e",
            RecordResult::Ok,
            metadata(RecordResult::Ok),
        );
        expected.push_encoded("e", RecordResult::Ok, Some("ZQ=="), &key);
        assert_eq!(response.pieces.len(), 4, "{:?}", response.pieces);

        let check = |response: &Response, expected: &Response| {
            let json = expected.to_json();
            assert_eq!(
                String::from_utf8(response.to_json()).unwrap(),
                String::from_utf8(json.clone()).unwrap()
            );
            assert_eq!(response.serialized_len(), json.len());
            assert_eq!(response.clone().into_json(), json);
            assert_eq!(response.clone().into_chunks().concat(), json);
            assert!(response.records().eq(expected.records()));
            let wire: WireResponse = serde_json::from_slice(&json).unwrap();
            assert_eq!(wire.records.len(), response.len());
        };
        check(&response, &expected);
        for (index, result) in [
            (1, RecordResult::Dropped),
            (2, RecordResult::ProcessingFailed),
            (3, RecordResult::Dropped),
        ] {
            assert!(response.set_result(index, result));
            assert!(expected.set_result(index, result));
        }
        check(&response, &expected);
    }

    proptest! {
        /// The count the engine budgets with is the length serde_json writes,
        /// whatever the ids (quotes, control characters, non-ASCII), keys or source.
        #[test]
        fn serialized_len_is_exact(
            kafka in any::<bool>(),
            records in proptest::collection::vec(
                (any::<String>(), result(), proptest::collection::vec(any::<u8>(), 0..40), keys()),
                0..8,
            ),
        ) {
            let mut response = Response::new(kafka);
            for (id, result, data, keys) in &records {
                let predicted = response.entry_len(
                    id,
                    *result,
                    (*result == RecordResult::Ok).then(|| data.len().div_ceil(3) * 4),
                    &if *result == RecordResult::Ok { Metadata::with_partition_keys(keys.clone()) } else { Metadata::default() },
                    response.is_empty(),
                );
                let before = response.serialized_len();
                if *result == RecordResult::Ok {
                    response.push_ok(id, data, &Metadata::with_partition_keys(keys.clone()));
                } else {
                    response.push_encoded(id, *result, None, &Metadata::with_partition_keys(keys.clone()));
                }
                prop_assert_eq!(response.serialized_len() - before, predicted);
            }
            let json = response.to_json();
            prop_assert_eq!(json.len(), response.serialized_len());

            let back: WireResponse = serde_json::from_slice(&json).unwrap();
            prop_assert_eq!(back.records.len(), records.len());
            for (wire, (id, result, data, keys)) in back.records.iter().zip(&records) {
                prop_assert_eq!(&wire.record_id, id);
                prop_assert_eq!(wire.result, *result);
                if *result == RecordResult::Ok {
                    let payload = if kafka { &wire.kafka_record_value } else { &wire.data };
                    let decoded = codec::decode(payload.as_deref().unwrap()).unwrap();
                    prop_assert_eq!(&decoded, data);
                    let expected: BTreeMap<_, _> = keys.iter().cloned().collect();
                    prop_assert_eq!(wire.metadata.as_ref().map(|m| m.partition_keys.clone()).unwrap_or_default(), expected);
                } else {
                    prop_assert!(wire.payload().is_none());
                    prop_assert!(wire.metadata.is_none());
                }
            }
        }
    }

    #[test]
    fn msk_responses_use_kafka_record_value() {
        let mut response = Response::new(true);
        response.push_ok("a", b"hi", &Metadata::with_partition_keys([("k", "v")]));
        assert_eq!(
            String::from_utf8(response.to_json()).unwrap(),
            r#"{"records":[{"recordId":"a","result":"Ok","kafkaRecordValue":"aGk=","metadata":{"partitionKeys":{"k":"v"}}}]}"#
        );
    }

    #[test]
    fn empty_output_still_carries_data() {
        let mut response = Response::new(false);
        response.push_ok("a", b"", &Metadata::default());
        assert_eq!(
            String::from_utf8(response.to_json()).unwrap(),
            r#"{"records":[{"recordId":"a","result":"Ok","data":""}]}"#
        );
    }
}
