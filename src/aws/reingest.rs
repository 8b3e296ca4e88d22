//! Re-ingestion: records that do not fit the response are written back into
//! the stream and answered `Dropped`, instead of failing to the error prefix.
//!
//! Opt-in, for every binary built with the `aws` feature:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `REINGEST` | unset (off) | `firehose`: write back into the delivery stream (`PutRecordBatch`); `source-stream`: into the Kinesis data stream the delivery stream reads (`PutRecords`, with each record's original partition key) |
//! | `REINGEST_MAX_ROUNDS` | `3` | a record already re-ingested this many times is not written back again: it fails (`ProcessingFailed`) |
//! | `REINGEST_STREAM` | the event's | the stream to write to, by name, when not the one in the event (`deliveryStreamArn` or `sourceKinesisStreamArn`) |
//! | `AWS_WRITE_*` | | the [writer's](super::writer::WriterConfig) retries |
//!
//! After the engine has answered a batch, the layer takes the records that
//! failed because they did not fit the response (and only those: the
//! engine's `response byte budget exceeded`, and a CloudWatch Logs record
//! that inflates past the budget), and for each:
//!
//! 1. reads its re-ingestion round from its [frame](crate::reingest); at
//!    `REINGEST_MAX_ROUNDS` it stays failed (`reingest.max_rounds` counts it);
//! 2. runs the transform on it alone: if even alone its output exceeds the
//!    budget, writing it back whole would bring it back too large again, so
//!    the transform's [`split_oversized`](crate::Transform::split_oversized)
//!    decides (the parts are written back instead), and without parts it
//!    stays failed (`reingest.too_large`);
//! 3. writes its **original data** back behind a frame with the round plus
//!    one, all such records in as few calls as the limits allow, with
//!    retries bounded by the invocation's deadline (less half the engine's
//!    margin, kept to send the response);
//! 4. answers it `Dropped` only once every part was accepted; otherwise it
//!    stays `ProcessingFailed` and Firehose keeps it in the error prefix.
//!    Nothing is lost either way.
//!
//! When every record fits, the layer does nothing at all.

use std::time::Instant;

use lambda_runtime::tracing;

use super::writer::{Destination, Entry, Writer, WriterConfig};
use super::Aws;
use crate::config::{ConfigError, Settings};
use crate::engine::{Engine, Invocation};
use crate::event::Event;
use crate::reingest::{answer_dropped, frame, overflowed, unframe};
use crate::transform::{Record, Transform};

/// Counter: records written back and answered `Dropped`.
pub const REINGESTED: &str = "reingest.records";
/// Counter: records (or parts) written back.
pub const WRITTEN: &str = "reingest.written";
/// Counter: records left failed because they reached the round limit.
pub const MAX_ROUNDS: &str = "reingest.max_rounds";
/// Counter: records left failed because their output alone exceeds the
/// budget and the transform does not split them.
pub const TOO_LARGE: &str = "reingest.too_large";
/// Counter: oversized records written back as several parts.
pub const SPLIT: &str = "reingest.split";
/// Counter: records left failed because the write was not accepted.
pub const WRITE_FAILED: &str = "reingest.write_failed";
/// Counter: records left failed because no stream to write to was known.
pub const NO_STREAM: &str = "reingest.no_stream";

/// Where records are written back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The delivery stream itself (`PutRecordBatch`).
    Firehose,
    /// The Kinesis data stream the delivery stream reads (`PutRecords`).
    SourceStream,
}

/// The re-ingestion settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReingestConfig {
    /// Where to write.
    pub target: Target,
    /// Rounds a record may be re-ingested.
    pub max_rounds: u8,
    /// A stream name to use instead of the event's.
    pub stream: Option<String>,
    /// The writer's retries.
    pub writer: WriterConfig,
}

impl ReingestConfig {
    /// Reads `REINGEST`, `REINGEST_MAX_ROUNDS`, `REINGEST_STREAM` and the
    /// writer's settings; `None` when `REINGEST` is unset.
    ///
    /// ```
    /// use firehose_transform::{aws::reingest::ReingestConfig, config::Settings};
    /// assert_eq!(ReingestConfig::from_settings(&Settings::from_pairs([("X", "1")])).unwrap(), None);
    /// let error = ReingestConfig::from_settings(&Settings::from_pairs([("REINGEST", "s3")])).unwrap_err();
    /// assert_eq!(error.to_string(), "REINGEST: \"s3\" is not a target (firehose or source-stream)");
    /// ```
    pub fn from_settings(settings: &Settings) -> Result<Option<Self>, ConfigError> {
        let Some(target) = settings.get("REINGEST") else {
            return Ok(None);
        };
        let target = match target.to_ascii_lowercase().as_str() {
            "firehose" => Target::Firehose,
            "source-stream" | "source_stream" => Target::SourceStream,
            _ => {
                return Err(ConfigError::new(
                    "REINGEST",
                    format!("{target:?} is not a target (firehose or source-stream)"),
                ))
            }
        };
        let max_rounds: u8 = settings.parse("REINGEST_MAX_ROUNDS", 3)?;
        if max_rounds == 0 {
            return Err(ConfigError::new(
                "REINGEST_MAX_ROUNDS",
                "must be at least 1 (unset REINGEST to turn re-ingestion off)",
            ));
        }
        Ok(Some(ReingestConfig {
            target,
            max_rounds,
            stream: settings.get("REINGEST_STREAM"),
            writer: WriterConfig::from_settings(settings)?,
        }))
    }
}

/// The re-ingestion layer; see the [module](self) documentation.
#[derive(Debug)]
pub struct Reingest {
    aws: Aws,
    config: ReingestConfig,
}

impl Reingest {
    /// The layer with these settings and AWS clients.
    pub fn new(aws: Aws, config: ReingestConfig) -> Self {
        Reingest { aws, config }
    }

    /// [`ReingestConfig::from_settings`], with the AWS configuration loaded
    /// from the environment; `None` when `REINGEST` is unset.
    pub fn from_settings(settings: &Settings) -> Result<Option<Self>, ConfigError> {
        let Some(config) = ReingestConfig::from_settings(settings)? else {
            return Ok(None);
        };
        let aws = Aws::from_env().map_err(|e| ConfigError::new("REINGEST", e))?;
        Ok(Some(Reingest::new(aws, config)))
    }

    /// The settings.
    pub fn config(&self) -> &ReingestConfig {
        &self.config
    }

    /// Writes back the records of `invocation` that did not fit and answers
    /// them `Dropped` once written. `deadline` is the invocation's; the
    /// writes end half the engine's margin before it.
    pub fn apply<T: Transform>(
        &self,
        engine: &Engine<T>,
        event: &Event<'_>,
        invocation: &mut Invocation,
        deadline: Option<Instant>,
    ) {
        let over = overflowed(invocation);
        if over.is_empty() {
            return;
        }
        let mut count = |name: &'static str, n: u64| {
            *invocation.summary.counters.entry(name).or_insert(0) += n;
        };
        let Some(destination) = self.destination(event) else {
            tracing::warn!(
                records = over.len(),
                "re-ingestion: no stream to write to (set REINGEST_STREAM); the records stay failed"
            );
            count(NO_STREAM, over.len() as u64);
            return;
        };

        // Every part to write, and which record each belongs to.
        let mut entries = Vec::new();
        let mut owners = Vec::new();
        let mut decoded = Vec::new();
        for &index in &over {
            let wire = &event.records[index];
            decoded.clear();
            let Some(payload) = wire.payload() else {
                continue;
            };
            if crate::codec::decode_append(payload, &mut decoded).is_err() {
                continue;
            }
            let (round, original) = unframe(&decoded);
            if round >= self.config.max_rounds {
                count(MAX_ROUNDS, 1);
                continue;
            }
            let record = Record {
                id: &wire.record_id,
                data: original,
                approximate_arrival_timestamp: wire.approximate_arrival_timestamp,
                source: wire.source(),
            };
            let parts = if fits_alone(engine, event, index) {
                vec![original.to_vec()]
            } else {
                match engine.transform().split_oversized(&record) {
                    Some(parts) if !parts.is_empty() => {
                        count(SPLIT, 1);
                        parts
                    }
                    _ => {
                        count(TOO_LARGE, 1);
                        continue;
                    }
                }
            };
            let key = wire
                .kinesis_record_metadata
                .as_ref()
                .map(|m| m.partition_key.to_string())
                .filter(|k| !k.is_empty());
            for part in parts {
                entries.push(Entry {
                    data: frame(round.saturating_add(1), &part),
                    partition_key: key.clone(),
                });
                owners.push(index);
            }
        }
        if entries.is_empty() {
            return;
        }

        let margin = engine.config().deadline_margin / 2;
        let write_by = deadline.map(|d| d.checked_sub(margin).unwrap_or_else(Instant::now));
        let writer = Writer::new(&self.aws, destination.clone(), self.config.writer.clone());
        let report = writer.write(entries, write_by);
        count(WRITTEN, report.accepted() as u64);

        // A record is Dropped only when all of its parts were accepted.
        let mut start = 0;
        while start < owners.len() {
            let index = owners[start];
            let end = start + owners[start..].iter().take_while(|&&o| o == index).count();
            if (start..end).all(|i| report.is_accepted(i)) {
                if answer_dropped(invocation, index) {
                    *invocation.summary.counters.entry(REINGESTED).or_insert(0) += 1;
                }
            } else {
                *invocation.summary.counters.entry(WRITE_FAILED).or_insert(0) += 1;
                if let Some(error) = (start..end).find_map(|i| report.errors[i].clone()) {
                    tracing::warn!(record_id = %event.records[index].record_id, %destination, error, "re-ingestion: write not accepted; the record stays failed");
                }
            }
            start = end;
        }
    }

    /// The stream to write to: the setting, or the event's.
    fn destination(&self, event: &Event<'_>) -> Option<Destination> {
        match self.config.target {
            Target::Firehose => {
                let name = self
                    .config
                    .stream
                    .clone()
                    .or_else(|| name_from_arn(&event.delivery_stream_arn, "deliverystream/"))?;
                Some(Destination::Firehose(name))
            }
            Target::SourceStream => {
                let name = self.config.stream.clone().or_else(|| {
                    name_from_arn(event.source_kinesis_stream_arn.as_deref()?, "stream/")
                })?;
                Some(Destination::Kinesis(name))
            }
        }
    }
}

/// Whether the record at `index`, alone in a batch, fits the budget: if it
/// does not, writing it back whole would only bring it back too large.
fn fits_alone<T: Transform>(engine: &Engine<T>, event: &Event<'_>, index: usize) -> bool {
    let alone = Event {
        invocation_id: event.invocation_id.clone(),
        delivery_stream_arn: event.delivery_stream_arn.clone(),
        region: event.region.clone(),
        source_kinesis_stream_arn: event.source_kinesis_stream_arn.clone(),
        source_msk_arn: event.source_msk_arn.clone(),
        records: vec![event.records[index].clone()],
    };
    match engine.process(&alone, None) {
        Ok(invocation) => !invocation
            .failures
            .iter()
            .any(|f| f.failure.is_over_budget()),
        // Not even its failed entry fits.
        Err(_) => false,
    }
}

/// `NAME` from `arn:aws:SERVICE:REGION:ACCOUNT:{kind}NAME`.
fn name_from_arn(arn: &str, kind: &str) -> Option<String> {
    let at = arn.find(kind)?;
    let name = &arn[at + kind.len()..];
    (!name.is_empty()).then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_arns() {
        assert_eq!(
            name_from_arn(
                "arn:aws:firehose:eu-west-1:123456789012:deliverystream/logs",
                "deliverystream/"
            ),
            Some("logs".to_string())
        );
        assert_eq!(
            name_from_arn(
                "arn:aws:kinesis:eu-west-1:123456789012:stream/in",
                "stream/"
            ),
            Some("in".to_string())
        );
        assert_eq!(name_from_arn("", "stream/"), None);
    }

    #[test]
    fn bad_settings_name_the_variable() {
        let error = ReingestConfig::from_settings(&Settings::from_pairs([
            ("REINGEST", "firehose"),
            ("REINGEST_MAX_ROUNDS", "0"),
        ]))
        .unwrap_err();
        assert_eq!(error.variable(), "REINGEST_MAX_ROUNDS");
        let config =
            ReingestConfig::from_settings(&Settings::from_pairs([("REINGEST", "Source-Stream")]))
                .unwrap()
                .unwrap();
        assert_eq!(
            (config.target, config.max_rounds),
            (Target::SourceStream, 3)
        );
    }
}
