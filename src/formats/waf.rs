//! AWS WAF web ACL traffic logs (JSON).
//!
//! Source: *Log fields for web ACL traffic* and *Web ACL traffic log
//! examples* in the AWS WAF developer guide
//! (<https://docs.aws.amazon.com/waf/latest/developerguide/logging-fields.html>).
//! Each log is one JSON object; AWS WAF delivers them to Firehose (a stream
//! named `aws-waf-logs-...`), CloudWatch Logs or S3. Like a CloudTrail event
//! a log is kept as written, nested, every member included (AWS WAF adds
//! members such as `ja4Fingerprint`); [`Log`]'s accessors read the ones
//! pipelines filter and partition on:
//!
//! | accessor | member | type | value (from the AWS documentation) |
//! |---|---|---|---|
//! | [`Log::timestamp_ms`] | `timestamp` | number | when the request was evaluated, Unix milliseconds |
//! | | `formatVersion` | number | the log format version (1) |
//! | [`Log::webacl_id`] | `webaclId` | string | the web ACL's ARN |
//! | [`Log::action`] | `action` | string | the terminating action: `ALLOW`, `BLOCK`, `CAPTCHA` or `CHALLENGE` |
//! | [`Log::terminating_rule_id`] | `terminatingRuleId` | string | the rule that ended the evaluation, or `Default_Action` |
//! | [`Log::terminating_rule_type`] | `terminatingRuleType` | string | `REGULAR`, `RATE_BASED`, `GROUP`, `MANAGED_RULE_GROUP` |
//! | | `terminatingRuleMatchDetails` | array | what matched (`conditionType`, `location`, `matchedData`) for SQLi and XSS rules |
//! | [`Log::http_source_name`] | `httpSourceName` | string | the resource type: `ALB`, `APIGW`, `APPSYNC`, `CF`, `COGNITOIDP`, ... |
//! | | `httpSourceId` | string | the resource's ID |
//! | | `ruleGroupList`, `rateBasedRuleList`, `nonTerminatingMatchingRules` | arrays | the rule groups evaluated, rate-based rules that acted, rules that matched without ending the evaluation (COUNT) |
//! | | `requestHeadersInserted`, `responseCodeSent` | array, number | custom request headers added, custom response code sent |
//! | [`Log::client_ip`] | `httpRequest.clientIp` | string | the client's address |
//! | [`Log::country`] | `httpRequest.country` | string | the client's country (ISO 3166-1 alpha-2) |
//! | [`Log::uri`] | `httpRequest.uri` | string | the request's path |
//! | | `httpRequest.args` | string | the query string |
//! | [`Log::header`] | `httpRequest.headers` | array | `{name, value}` for each request header |
//! | [`Log::http_method`] | `httpRequest.httpMethod` | string | the method |
//! | | `httpRequest.httpVersion`, `.requestId`, `.fragment`, `.scheme`, `.host` | strings | as named |
//! | [`Log::labels`] | `labels` | array | `{name}` for each label the rules added (`awswaf:managed:aws:...`) |
//! | | `captchaResponse`, `challengeResponse`, `ja3Fingerprint`, `ja4Fingerprint`, `oversizeFields`, `requestBodySize`, `requestBodySizeInspectedByWAF` | as written | kept |
//!
//! A log must have `timestamp` (a number), `webaclId` and `action`
//! (strings) and `httpRequest` (an object).
//!
//! ```
//! use firehose_transform::formats::waf;
//!
//! let log = waf::parse(r#"{"timestamp":1576280412771,"formatVersion":1,"webaclId":"arn:aws:wafv2:ap-southeast-2:111122223333:regional/webacl/STMTest/1EXAMPLE","terminatingRuleId":"STMTest_SQLi_XSS","action":"BLOCK","httpRequest":{"clientIp":"1.1.1.1","country":"AU","headers":[{"name":"Host","value":"localhost:1989"}],"uri":"/foo","httpMethod":"GET"},"labels":[{"name":"value"}]}"#).unwrap();
//! assert_eq!(log.action(), Some("BLOCK"));
//! assert_eq!(log.timestamp_ms(), Some(1576280412771));
//! assert_eq!(log.client_ip().as_deref(), Some("1.1.1.1"));
//! assert_eq!(log.header("host").as_deref(), Some("localhost:1989"));
//! assert_eq!(log.labels(), ["value"]);
//!
//! let error = waf::parse(r#"{"timestamp":1576280412771,"webaclId":"arn","action":"BLOCK"}"#).unwrap_err();
//! assert_eq!(error.to_string(), "no `httpRequest` member");
//! ```

use std::borrow::Cow;

use crate::doc::{Path, Value};
use crate::formats::json_event::{self, EventError, JsonType};

/// The members every AWS WAF log has.
pub const REQUIRED: &[(&str, JsonType)] = &[
    ("timestamp", JsonType::Number),
    ("webaclId", JsonType::String),
    ("action", JsonType::String),
    ("httpRequest", JsonType::Object),
];

/// One AWS WAF log, kept as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Log<'a> {
    doc: Value<'a>,
    text: &'a str,
}

/// Parses one log.
pub fn parse(text: &str) -> Result<Log<'_>, EventError> {
    json_event::parse(text, REQUIRED).map(|doc| Log {
        doc,
        text: text.trim(),
    })
}

impl<'a> Log<'a> {
    /// The log as a document (the pipeline's).
    pub fn doc(&self) -> &Value<'a> {
        &self.doc
    }

    /// The document, and the log's own JSON text.
    pub fn into_parts(self) -> (Value<'a>, &'a str) {
        (self.doc, self.text)
    }

    /// The log's JSON text, as written.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// `timestamp`, Unix milliseconds.
    pub fn timestamp_ms(&self) -> Option<i64> {
        json_event::member(&self.doc, "timestamp")?.as_i64()
    }
    /// `webaclId`.
    pub fn webacl_id(&self) -> Option<&str> {
        json_event::str_member(&self.doc, "webaclId")
    }
    /// `action`.
    pub fn action(&self) -> Option<&str> {
        json_event::str_member(&self.doc, "action")
    }
    /// `terminatingRuleId`.
    pub fn terminating_rule_id(&self) -> Option<&str> {
        json_event::str_member(&self.doc, "terminatingRuleId")
    }
    /// `terminatingRuleType`.
    pub fn terminating_rule_type(&self) -> Option<&str> {
        json_event::str_member(&self.doc, "terminatingRuleType")
    }
    /// `httpSourceName`.
    pub fn http_source_name(&self) -> Option<&str> {
        json_event::str_member(&self.doc, "httpSourceName")
    }
    /// `httpRequest.clientIp`.
    pub fn client_ip(&self) -> Option<Cow<'a, str>> {
        json_event::str_at(&self.doc, &["httpRequest", "clientIp"])
    }
    /// `httpRequest.country`.
    pub fn country(&self) -> Option<Cow<'a, str>> {
        json_event::str_at(&self.doc, &["httpRequest", "country"])
    }
    /// `httpRequest.uri`.
    pub fn uri(&self) -> Option<Cow<'a, str>> {
        json_event::str_at(&self.doc, &["httpRequest", "uri"])
    }
    /// `httpRequest.httpMethod`.
    pub fn http_method(&self) -> Option<Cow<'a, str>> {
        json_event::str_at(&self.doc, &["httpRequest", "httpMethod"])
    }

    /// The value of the first request header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<Cow<'a, str>> {
        let headers = self.doc.get(&Path::from_keys(["httpRequest", "headers"]))?;
        let Value::Array(items) = headers.into_owned() else {
            return None;
        };
        let name_path = Path::from_keys(["name"]);
        let value_path = Path::from_keys(["value"]);
        items.into_iter().find_map(|item| {
            let matches = item
                .get(&name_path)
                .is_some_and(|n| n.as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)));
            if !matches {
                return None;
            }
            match item.get(&value_path)?.into_owned() {
                Value::Str(s) => Some(Cow::Owned(s.into_owned())),
                _ => None,
            }
        })
    }

    /// The labels' names (`labels[].name`).
    pub fn labels(&self) -> Vec<String> {
        let Some(labels) = self.doc.get(&Path::from_keys(["labels"])) else {
            return Vec::new();
        };
        let Value::Array(items) = labels.into_owned() else {
            return Vec::new();
        };
        let name = Path::from_keys(["name"]);
        items
            .iter()
            .filter_map(|item| item.get(&name).and_then(|n| n.as_str().map(str::to_string)))
            .collect()
    }
}
