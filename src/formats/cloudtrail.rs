//! AWS CloudTrail events: one event, or a CloudTrail log file's
//! `{"Records":[...]}`.
//!
//! Source: *CloudTrail record contents* in the AWS CloudTrail user guide
//! (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html>).
//! An event is a JSON object. CloudTrail delivers events one by one to
//! CloudWatch Logs and EventBridge (and so, through a subscription, to
//! Firehose), and as log files of `{"Records":[event, ...]}` to S3. [`parse`]
//! takes either shape and gives one [`Event`] per event.
//!
//! **Kept, not flattened.** An event keeps every member as CloudTrail wrote
//! it, nested (`userIdentity.arn`, `requestParameters...`), byte for byte:
//! a member CloudTrail adds tomorrow reaches the output unchanged, nothing is
//! renamed, and the output is no bigger than the input (flattening would copy
//! the fields security tools look at). Those fields are read by path where
//! they are needed (jq `.userIdentity.arn` in a pipeline filter or partition
//! key, a CSV column `.userIdentity.arn`), and in Rust by [`Event`]'s
//! accessors, listed here with the members they read:
//!
//! | accessor | member | type | value (from the AWS documentation) |
//! |---|---|---|---|
//! | [`Event::event_version`] | `eventVersion` | string | the log event format version (`1.11`) |
//! | [`Event::event_time`] | `eventTime` | string | when the request was completed, UTC (`2014-03-06T21:22:54Z`) |
//! | [`Event::event_source`] | `eventSource` | string | the service the request was made to (`ec2.amazonaws.com`) |
//! | [`Event::event_name`] | `eventName` | string | the requested action (`StartInstances`, `ConsoleLogin`) |
//! | [`Event::aws_region`] | `awsRegion` | string | the Region the request was made to |
//! | [`Event::source_ip_address`] | `sourceIPAddress` | string | the requester's address, or the AWS service's name for calls made by a service |
//! | [`Event::user_agent`] | `userAgent` | string | the agent the request was made through (`aws-cli/2.13.5 ...`, `signin.amazonaws.com`) |
//! | [`Event::error_code`] | `errorCode` | string | the AWS service error, when the request failed (`AccessDenied`, `Client.UnauthorizedOperation`) |
//! | [`Event::error_message`] | `errorMessage` | string | its description |
//! | [`Event::user_identity`] | `userIdentity.type`, `.principalId`, `.arn`, `.accountId`, `.accessKeyId`, `.userName`, `.invokedBy`, `.sessionContext.sessionIssuer.arn` | strings | who made the request: the identity type (`Root`, `IAMUser`, `AssumedRole`, `AWSService`, ...) and its identifiers |
//! | [`Event::event_id`] | `eventID` | string | the GUID CloudTrail gave the event |
//! | [`Event::event_type`] | `eventType` | string | `AwsApiCall`, `AwsServiceEvent`, `AwsConsoleSignIn`, `AwsConsoleAction`, `AwsCloudTrailInsight`, `AwsVpceEvent` |
//! | [`Event::read_only`] | `readOnly` | boolean | whether the operation only reads |
//! | [`Event::recipient_account_id`] | `recipientAccountId` | string | the account that received the event |
//! | [`Event::event_category`] | `eventCategory` | string | `Management`, `Data`, `Insight` or `NetworkActivity` |
//! | | `requestParameters`, `responseElements`, `additionalEventData`, `resources`, `tlsDetails`, `requestID`, `sharedEventID`, `vpcEndpointId`, `managementEvent`, `serviceEventDetails`, `addendum`, `sessionCredentialFromConsole`, `edgeDeviceDetails`, `insightDetails`, ... | as written | kept |
//!
//! An event must have `eventVersion` and `eventTime` (strings): every
//! CloudTrail event does, management, data, network activity and Insights
//! events alike (Insights events have no `eventName` at the top level, and
//! the documentation's version 1.0 examples no `eventID`). Anything else (a
//! digest file, another service's JSON) is an error.
//!
//! ```
//! use firehose_transform::formats::cloudtrail;
//!
//! let text = r#"{"Records":[{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/Alice","accountId":"123456789012"},"eventTime":"2014-03-06T21:22:54Z","eventSource":"ec2.amazonaws.com","eventName":"StartInstances","awsRegion":"us-east-2","sourceIPAddress":"205.251.233.176","eventID":"6c0d8d38-3ba9-4d93-a0b1-6e6d5f7bd8ef"}]}"#;
//! let events = cloudtrail::parse(text).unwrap();
//! assert_eq!(events.len(), 1);
//! let event = &events[0];
//! assert_eq!(event.event_name(), Some("StartInstances"));
//! assert_eq!(event.user_identity().arn.as_deref(), Some("arn:aws:iam::123456789012:user/Alice"));
//! assert!(event.text().starts_with(r#"{"eventVersion":"1.08""#)); // the event's own text
//!
//! let error = cloudtrail::parse(r#"{"Records":[{"eventVersion":"1.08","eventTime":"2014-03-06T21:22:54Z"},{"eventVersion":"1.08"}]}"#).unwrap_err();
//! assert_eq!(error.to_string(), "Records[1]: no `eventTime` member");
//! ```

use std::borrow::Cow;
use std::fmt;

use serde_json::value::RawValue;

use crate::doc::Value;
use crate::formats::json_event::{self, EventError, JsonType};

/// The members every CloudTrail event has.
pub const REQUIRED: &[(&str, JsonType)] = &[
    ("eventVersion", JsonType::String),
    ("eventTime", JsonType::String),
];

/// Why a text is not CloudTrail events; for a log file, which event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    error: EventError,
    index: Option<usize>,
}

impl Error {
    /// What is wrong.
    pub fn kind(&self) -> &EventError {
        &self.error
    }

    /// For a log file, the index of the event in `Records` at fault.
    pub fn index(&self) -> Option<usize> {
        self.index
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(index) = self.index {
            write!(f, "Records[{index}]: ")?;
        }
        self.error.fmt(f)
    }
}

impl std::error::Error for Error {}

/// One CloudTrail event, kept as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Event<'a> {
    doc: Value<'a>,
    text: &'a str,
}

/// Who made the request (`userIdentity`); `None` for a member it lacks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserIdentity<'a> {
    /// `type`: `Root`, `IAMUser`, `AssumedRole`, `Role`, `FederatedUser`, `Directory`, `AWSAccount`, `AWSService`, `IdentityCenterUser`, `Unknown`.
    pub kind: Option<Cow<'a, str>>,
    /// `principalId`.
    pub principal_id: Option<Cow<'a, str>>,
    /// `arn`.
    pub arn: Option<Cow<'a, str>>,
    /// `accountId`.
    pub account_id: Option<Cow<'a, str>>,
    /// `accessKeyId`.
    pub access_key_id: Option<Cow<'a, str>>,
    /// `userName`.
    pub user_name: Option<Cow<'a, str>>,
    /// `invokedBy`: the AWS service that made the request for the identity.
    pub invoked_by: Option<Cow<'a, str>>,
    /// `sessionContext.sessionIssuer.arn`: the role or user a session was issued by.
    pub session_issuer_arn: Option<Cow<'a, str>>,
}

impl<'a> Event<'a> {
    /// The event as a document (the pipeline's).
    pub fn doc(&self) -> &Value<'a> {
        &self.doc
    }

    /// The document, and the event's own JSON text.
    pub fn into_parts(self) -> (Value<'a>, &'a str) {
        (self.doc, self.text)
    }

    /// The event's JSON text, as written.
    pub fn text(&self) -> &'a str {
        self.text
    }

    fn str(&self, name: &str) -> Option<&str> {
        json_event::str_member(&self.doc, name)
    }

    /// `eventVersion`.
    pub fn event_version(&self) -> Option<&str> {
        self.str("eventVersion")
    }
    /// `eventTime`.
    pub fn event_time(&self) -> Option<&str> {
        self.str("eventTime")
    }
    /// `eventSource`.
    pub fn event_source(&self) -> Option<&str> {
        self.str("eventSource")
    }
    /// `eventName`.
    pub fn event_name(&self) -> Option<&str> {
        self.str("eventName")
    }
    /// `awsRegion`.
    pub fn aws_region(&self) -> Option<&str> {
        self.str("awsRegion")
    }
    /// `sourceIPAddress`.
    pub fn source_ip_address(&self) -> Option<&str> {
        self.str("sourceIPAddress")
    }
    /// `userAgent`.
    pub fn user_agent(&self) -> Option<&str> {
        self.str("userAgent")
    }
    /// `errorCode`.
    pub fn error_code(&self) -> Option<&str> {
        self.str("errorCode")
    }
    /// `errorMessage`.
    pub fn error_message(&self) -> Option<&str> {
        self.str("errorMessage")
    }
    /// `eventID`.
    pub fn event_id(&self) -> Option<&str> {
        self.str("eventID")
    }
    /// `eventType`.
    pub fn event_type(&self) -> Option<&str> {
        self.str("eventType")
    }
    /// `recipientAccountId`.
    pub fn recipient_account_id(&self) -> Option<&str> {
        self.str("recipientAccountId")
    }
    /// `eventCategory`.
    pub fn event_category(&self) -> Option<&str> {
        self.str("eventCategory")
    }
    /// `readOnly` (a boolean; some services write the string `"true"`, read too).
    pub fn read_only(&self) -> Option<bool> {
        match json_event::member(&self.doc, "readOnly")? {
            Value::Bool(b) => Some(*b),
            Value::Str(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// `userIdentity`'s identifiers.
    pub fn user_identity(&self) -> UserIdentity<'a> {
        let at = |names: &[&str]| {
            let mut path = vec!["userIdentity"];
            path.extend_from_slice(names);
            json_event::str_at(&self.doc, &path)
        };
        UserIdentity {
            kind: at(&["type"]),
            principal_id: at(&["principalId"]),
            arn: at(&["arn"]),
            account_id: at(&["accountId"]),
            access_key_id: at(&["accessKeyId"]),
            user_name: at(&["userName"]),
            invoked_by: at(&["invokedBy"]),
            session_issuer_arn: at(&["sessionContext", "sessionIssuer", "arn"]),
        }
    }
}

/// Parses one event.
pub fn parse_event(text: &str) -> Result<Event<'_>, Error> {
    let doc = json_event::parse(text, REQUIRED).map_err(|error| Error { error, index: None })?;
    Ok(Event {
        doc,
        text: text.trim(),
    })
}

/// Parses one event or a log file's `{"Records":[...]}` (an object with a
/// `Records` array and no `eventVersion`) into its events, in order.
pub fn parse(text: &str) -> Result<Vec<Event<'_>>, Error> {
    let doc = Value::parse_json(text).map_err(|e| Error {
        error: EventError::Json(e),
        index: None,
    })?;
    events_of(doc, text.trim())
}

/// [`parse`] for a document already parsed from `text`.
pub fn events_of<'a>(doc: Value<'a>, text: &'a str) -> Result<Vec<Event<'a>>, Error> {
    let fail = |error| Error { error, index: None };
    let records = match json_event::member(&doc, "Records") {
        Some(Value::Raw(Cow::Borrowed(records)))
            if json_event::member(&doc, "eventVersion").is_none() =>
        {
            *records
        }
        _ => {
            json_event::check(&doc, REQUIRED).map_err(fail)?;
            return Ok(vec![Event { doc, text }]);
        }
    };
    let items: Vec<&RawValue> = serde_json::from_str(records).map_err(|_| {
        fail(EventError::WrongType {
            member: "Records",
            expected: JsonType::Array,
            found: JsonType::Object,
        })
    })?;
    items
        .into_iter()
        .enumerate()
        .map(|(index, raw)| {
            let text = raw.get();
            json_event::parse(text, REQUIRED)
                .map(|doc| Event { doc, text })
                .map_err(|error| Error {
                    error,
                    index: Some(index),
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_event_and_a_log_file_give_the_same_event() {
        let event = r#"{"eventVersion":"1.09","eventTime":"2023-01-01T00:00:00Z","eventID":"e1","readOnly":"true","userIdentity":{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::111122223333:role/Admin"}}}}"#;
        let one = parse(event).unwrap();
        let file = format!("{{\"Records\":[{event},\n {event}]}}");
        let two = parse(&file).unwrap();
        assert_eq!(two.len(), 2);
        assert_eq!(one[0].text(), two[1].text());
        assert_eq!(two[1].read_only(), Some(true));
        assert_eq!(
            two[0].user_identity().session_issuer_arn.as_deref(),
            Some("arn:aws:iam::111122223333:role/Admin")
        );
        assert_eq!(parse(r#"{"Records":[]}"#).unwrap().len(), 0);
    }

    #[test]
    fn what_is_not_an_event_says_why() {
        assert_eq!(parse("[1]").unwrap_err().to_string(), "not a JSON object");
        assert_eq!(
            parse(r#"{"Records":{"a":1}}"#).unwrap_err().to_string(),
            "`Records` is an object, expected an array"
        );
        assert_eq!(
            parse(r#"{"eventVersion":1}"#).unwrap_err().to_string(),
            "`eventVersion` is a number, expected a string"
        );
        assert!(parse("{\"a\":")
            .unwrap_err()
            .to_string()
            .starts_with("not JSON: line 1 column 5"));
    }
}
