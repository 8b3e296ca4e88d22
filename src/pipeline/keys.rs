//! Key stages: partition keys and Iceberg routing from jq expressions.
//!
//! `PARTITION_KEYS` takes the syntax of Firehose's own dynamic partitioning
//! (`{customer: .customer_id, year: (.ts[0:4])}`); each value must be a
//! string, number or boolean, since it becomes part of an S3 prefix.
//!
//! ```
//! use firehose_transform::doc::Value;
//! use firehose_transform::pipeline::{KeyStage, PartitionKeys};
//! use firehose_transform::response::Metadata;
//!
//! let keys = PartitionKeys::new("{customer: .customer_id, year: (.ts[0:4])}").unwrap();
//! let doc = Value::parse_json(r#"{"customer_id":42,"ts":"2026-11-22T05:00:00Z"}"#).unwrap();
//! let mut metadata = Metadata::default();
//! keys.keys(&doc, &mut metadata).unwrap();
//! assert_eq!(metadata.partition_keys, [("customer".into(), "42".into()), ("year".into(), "2026".into())]);
//!
//! let doc = Value::parse_json(r#"{"ts":"2026-11-22T05:00:00Z"}"#).unwrap();
//! let failure = keys.keys(&doc, &mut Metadata::default()).unwrap_err();
//! assert_eq!(failure.to_string(), "partition keys could not be produced: key `customer` is null (is the field missing?)");
//! ```

use std::str::FromStr;

use jaq_json::Val;

use crate::doc::Value;
use crate::pipeline::jq::{kind, scalar_text, Jq, JqError};
use crate::pipeline::KeyStage;
use crate::response::{Metadata, OtfMetadata, OtfOperation};
use crate::transform::Failure;

/// The reason of a record whose partition keys could not be produced.
pub const PARTITION_KEYS_FAILED: &str = "partition keys could not be produced";
/// The reason of a record whose Iceberg routing could not be produced.
pub const ICEBERG_ROUTING_FAILED: &str = "Iceberg routing could not be produced";
/// The reason of a record whose values ask for different keys.
pub const KEYS_DISAGREE: &str = "the values of one record have different keys";

/// Partition keys from a jq object expression.
#[derive(Debug)]
pub struct PartitionKeys(Jq);

impl PartitionKeys {
    /// Compiles `code`, which must build an object (`{name: expr, ...}`).
    pub fn new(code: &str) -> Result<Self, JqError> {
        if !code.trim_start().starts_with('{') {
            return Err(JqError {
                position: Some(1),
                message: "expected an object of keys, as in {customer: .customer_id}".into(),
            });
        }
        Jq::compile(code).map(PartitionKeys)
    }
}

impl KeyStage for PartitionKeys {
    fn keys(&self, doc: &Value<'_>, metadata: &mut Metadata) -> Result<(), Failure> {
        let fail = |detail: String| Failure::new(PARTITION_KEYS_FAILED).with_detail(detail);
        let mut results = self.0.run(doc).into_iter();
        let object = match (results.next(), results.next()) {
            (Some(Ok(Val::Obj(object))), None) => object,
            (Some(Err(error)), _) | (_, Some(Err(error))) => return Err(fail(error)),
            (None, _) => return Err(fail("the expression gave no value".into())),
            (Some(Ok(_)), Some(Ok(_))) => {
                return Err(fail("the expression gave more than one value".into()))
            }
            (Some(Ok(other)), None) => {
                return Err(fail(format!(
                    "the expression gave {}, not an object",
                    kind(&other)
                )))
            }
        };
        for (key, value) in object.iter() {
            let key = scalar_text(key).unwrap_or_default();
            match scalar_text(value) {
                Some(text) => metadata.set_partition_key(key, text),
                None if matches!(value, Val::Null) => {
                    return Err(fail(format!("key `{key}` is null (is the field missing?)")))
                }
                None => {
                    return Err(fail(format!(
                        "key `{key}` is {}, not a string, number or boolean",
                        kind(value)
                    )))
                }
            }
        }
        Ok(())
    }
}

/// Where an Iceberg routing member comes from: a fixed name, or a jq
/// expression evaluated per document.
#[derive(Debug)]
pub enum NameSource {
    /// The same for every record.
    Literal(String),
    /// Evaluated per document; must give a string.
    Jq(Jq),
}

impl NameSource {
    /// A bare name (letters, digits, `_`, `-`, `.`, not starting with `.`)
    /// is a literal; anything else is a jq expression (`.table`,
    /// `"orders"`, `if .deleted then "delete" else "insert" end`).
    pub fn parse(text: &str) -> Result<NameSource, JqError> {
        let text = text.trim();
        let bare = !text.is_empty()
            && !text.starts_with('.')
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if bare {
            Ok(NameSource::Literal(text.to_string()))
        } else {
            Jq::compile(text).map(NameSource::Jq)
        }
    }

    fn value(&self, doc: &Value<'_>, what: &str) -> Result<String, Failure> {
        let fail = |detail: String| Failure::new(ICEBERG_ROUTING_FAILED).with_detail(detail);
        match self {
            NameSource::Literal(name) => Ok(name.clone()),
            NameSource::Jq(jq) => match jq.run(doc).into_iter().next() {
                Some(Ok(Val::TStr(s))) => Ok(String::from_utf8_lossy(&s).into_owned()),
                Some(Ok(other)) => Err(fail(format!("{what} is {}, not a string", kind(&other)))),
                Some(Err(error)) => Err(fail(format!("{what}: {error}"))),
                None => Err(fail(format!("{what}: the expression gave no value"))),
            },
        }
    }
}

/// `metadata.otfMetadata` for Firehose's Apache Iceberg destination.
#[derive(Debug, Default)]
pub struct IcebergRouting {
    /// `destinationDatabaseName`.
    pub database: Option<NameSource>,
    /// `destinationTableName`.
    pub table: Option<NameSource>,
    /// `operation`: `insert`, `update` or `delete`.
    pub operation: Option<NameSource>,
}

impl IcebergRouting {
    /// Checks a literal operation now rather than on every record.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(NameSource::Literal(op)) = &self.operation {
            OtfOperation::from_str(op)?;
        }
        Ok(())
    }
}

impl KeyStage for IcebergRouting {
    fn keys(&self, doc: &Value<'_>, metadata: &mut Metadata) -> Result<(), Failure> {
        let name = |source: &Option<NameSource>, what| {
            source.as_ref().map(|s| s.value(doc, what)).transpose()
        };
        let operation = match name(&self.operation, "the operation")? {
            Some(op) => Some(
                OtfOperation::from_str(&op)
                    .map_err(|e| Failure::new(ICEBERG_ROUTING_FAILED).with_detail(e))?,
            ),
            None => None,
        };
        metadata.otf = Some(OtfMetadata {
            database: name(&self.database, "the database")?,
            table: name(&self.table, "the table")?,
            operation,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(code: &str, json: &str) -> Result<Vec<(String, String)>, String> {
        let mut metadata = Metadata::default();
        PartitionKeys::new(code)
            .unwrap()
            .keys(&Value::parse_json(json).unwrap(), &mut metadata)
            .map(|()| metadata.partition_keys)
            .map_err(|f| f.detail().unwrap_or_default().to_string())
    }

    #[test]
    fn values_are_strings_numbers_or_booleans() {
        assert_eq!(
            keys("{a: .s, b: .n, c: .t}", r#"{"s":"x/y","n":1.5,"t":true}"#).unwrap(),
            [
                ("a".into(), "x/y".into()),
                ("b".into(), "1.5".into()),
                ("c".into(), "true".into())
            ]
        );
        assert_eq!(
            keys("{a: .o}", r#"{"o":{"x":1}}"#).unwrap_err(),
            "key `a` is an object, not a string, number or boolean"
        );
        assert_eq!(
            keys("{a: empty}", "{}").unwrap_err(),
            "the expression gave no value"
        );
        assert_eq!(
            keys("{a: (1,2)}", "{}").unwrap_err(),
            "the expression gave more than one value"
        );
    }

    #[test]
    fn the_expression_must_build_an_object() {
        assert!(PartitionKeys::new(".customer").is_err());
    }

    #[test]
    fn iceberg_names_are_literals_or_jq() {
        let routing = IcebergRouting {
            database: Some(NameSource::parse("analytics").unwrap()),
            table: Some(NameSource::parse(".kind + \"_events\"").unwrap()),
            operation: Some(
                NameSource::parse("if .deleted then \"delete\" else \"insert\" end").unwrap(),
            ),
        };
        let mut metadata = Metadata::default();
        routing
            .keys(
                &Value::parse_json(r#"{"kind":"click","deleted":true}"#).unwrap(),
                &mut metadata,
            )
            .unwrap();
        let otf = metadata.otf.unwrap();
        assert_eq!(otf.database.as_deref(), Some("analytics"));
        assert_eq!(otf.table.as_deref(), Some("click_events"));
        assert_eq!(otf.operation, Some(OtfOperation::Delete));
        let bad = IcebergRouting {
            operation: Some(NameSource::parse("upsert").unwrap()),
            ..Default::default()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .contains("insert, update or delete"));
    }
}
