//! The AWS service log formats, end to end: the AWS documentation's samples
//! through `firehose-pipeline`'s pipeline (`INPUT_FORMAT=alb`, ...) against
//! golden outputs, with the contract checked on every event; failures and
//! configuration errors; and properties: a line written from any values
//! parses back to them.
//!
//! `UPDATE_GOLDEN=1 cargo test --test aws_formats` rewrites the golden files
//! (then read the diff).

use std::path::Path;

use firehose_transform::blueprints::pipeline::from_settings;
use firehose_transform::config::Settings;
use firehose_transform::formats::fields::{Kind, EXTRA_FIELDS};
use firehose_transform::formats::{alb, cloudfront, vpc_flow};
use firehose_transform::pipeline::{input, Pipeline};
use firehose_transform::testing::{self, EventBuilder};
use proptest::prelude::*;

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/aws")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn pipeline(pairs: &[(&str, &str)]) -> Pipeline {
    from_settings(&Settings::from_pairs(pairs.iter().copied())).unwrap()
}

/// The outputs of `records` through `pipeline`, which must all be `Ok`,
/// compared with `fixtures/golden/aws/{golden}`.
fn assert_golden<R: AsRef<[u8]>>(pipeline: &Pipeline, records: &[R], golden: &str) {
    let processed = testing::run(pipeline, records); // checks the contract
    let mut output = String::new();
    for i in 0..processed.len() {
        assert!(
            processed.is_ok(i),
            "record {i}: {:?}",
            processed.failure(i).map(|f| (f.reason(), f.detail()))
        );
        output.push_str(processed.text(i));
    }
    for line in output.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/golden/aws")
        .join(golden);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &output).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (UPDATE_GOLDEN=1 cargo test --test aws_formats writes it)",
            path.display()
        )
    });
    assert_eq!(output, expected, "{golden}");
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

#[test]
fn alb_documentation_examples_match_their_golden_output() {
    let log = fixture("alb/doc_examples.log");
    assert_golden(
        &pipeline(&[("INPUT_FORMAT", "alb")]),
        &lines(&log),
        "alb.jsonl",
    );
}

#[test]
fn alb_fields_are_typed_and_trailing_unknown_fields_are_kept() {
    let log = fixture("alb/doc_examples.log");
    let processed = testing::run(&pipeline(&[("INPUT_FORMAT", "alb")]), lines(&log));
    let first: serde_json::Value = serde_json::from_str(processed.text(0)).unwrap();
    assert_eq!(first["elb_status_code"], 200);
    assert_eq!(first["client_port"], 2817);
    assert!(first["request_processing_time"].is_number());
    assert!(first["conn_trace_id"].is_null()); // a 2018 entry
    let lambda_failed: serde_json::Value = serde_json::from_str(processed.text(6)).unwrap();
    assert!(lambda_failed["target_ip"].is_null());
    assert!(lambda_failed["target_status_code"].is_null());
    assert_eq!(lambda_failed["error_reason"], "LambdaInvalidResponse");
    let newest: serde_json::Value = serde_json::from_str(processed.text(8)).unwrap();
    assert_eq!(newest["classification_reason"], "SpaceInUri");
    assert_eq!(newest["request_url"], "http://www.example.com:80/a b");
    assert_eq!(newest["transformed_uri"], "/a%20b");
    assert_eq!(
        newest[EXTRA_FIELDS],
        serde_json::json!(["a future field", "7"])
    );
}

#[test]
fn vpc_flow_default_and_custom_formats_match_their_golden_outputs() {
    assert_golden(
        &pipeline(&[("INPUT_FORMAT", "vpc-flow")]),
        &lines(&fixture("vpc-flow/default_v2.log")),
        "vpc_flow_default_v2.jsonl",
    );
    for name in ["tcp_flags_v3", "transit_gateway_v3", "nat_gateway"] {
        let format = fixture(&format!("vpc-flow/{name}.format"));
        let log = fixture(&format!("vpc-flow/{name}.log"));
        assert_golden(
            &pipeline(&[("INPUT_FORMAT", "vpc-flow"), ("VPC_FLOW_FIELDS", &format)]),
            &lines(&log),
            &format!("vpc_flow_{name}.jsonl"),
        );
    }
}

#[test]
fn vpc_flow_nodata_records_have_nulls_and_a_filter_can_drop_them() {
    let log = fixture("vpc-flow/default_v2.log");
    let transform = pipeline(&[
        ("INPUT_FORMAT", "vpc-flow"),
        ("FILTER", r#".log_status == "OK""#),
        ("PARTITION_KEYS", "{action: .action}"),
    ]);
    let processed = testing::run(&transform, lines(&log));
    assert!(processed.is_dropped(2) && processed.is_dropped(3)); // NODATA, SKIPDATA
    assert_eq!(
        processed.partition_keys(1),
        &[("action".to_string(), "REJECT".to_string())]
    );
    let unfiltered = testing::run(&pipeline(&[("INPUT_FORMAT", "vpc-flow")]), lines(&log));
    let nodata: serde_json::Value = serde_json::from_str(unfiltered.text(2)).unwrap();
    assert!(nodata["srcaddr"].is_null() && nodata["packets"].is_null());
    assert_eq!(nodata["start"], 1431280876);
}

#[test]
fn cloudfront_realtime_records_match_their_golden_outputs() {
    for name in ["all_fields", "short"] {
        let fields = fixture(&format!("cloudfront/{name}.format"));
        assert_golden(
            &pipeline(&[
                ("INPUT_FORMAT", "cloudfront-realtime"),
                ("CLOUDFRONT_FIELDS", &fields),
            ]),
            &lines(&fixture(&format!("cloudfront/{name}.log"))),
            &format!("cloudfront_{name}.jsonl"),
        );
    }
}

#[test]
fn cloudtrail_log_files_give_one_line_per_event_kept_as_written() {
    let names = [
        "ec2_start_instances",
        "ec2_stop_instances",
        "ec2_create_key_pair",
        "iam_create_user",
        "iam_add_user_to_group",
        "cloudtrail_update_trail_error",
    ];
    let files: Vec<String> = names
        .iter()
        .map(|n| fixture(&format!("cloudtrail/{n}.json")))
        .collect();
    let transform = pipeline(&[("INPUT_FORMAT", "cloudtrail")]);
    assert_golden(&transform, &files, "cloudtrail.jsonl");

    // The same events one per record (as a CloudWatch Logs subscription
    // delivers them) give the same lines.
    let singles: Vec<String> = files
        .iter()
        .map(|file| {
            #[derive(serde::Deserialize)]
            struct File<'a> {
                #[serde(borrow, rename = "Records")]
                records: Vec<&'a serde_json::value::RawValue>,
            }
            let file: File = serde_json::from_str(file).unwrap();
            file.records[0].get().to_string()
        })
        .collect();
    let processed = testing::run(&transform, &singles);
    let whole = testing::run(&transform, &files);
    assert_eq!(processed.ok_texts(), whole.ok_texts());

    // A log file of several events: one line each, under the record's id.
    let two = format!("{{\"Records\":[{},{}]}}", singles[0], singles[5]);
    let processed = testing::run(&transform, [two]);
    assert_eq!(processed.text(0).lines().count(), 2);
}

#[test]
fn cloudtrail_fields_are_read_by_path_in_filters_keys_and_csv() {
    let files: Vec<String> = ["ec2_start_instances", "cloudtrail_update_trail_error"]
        .iter()
        .map(|n| fixture(&format!("cloudtrail/{n}.json")))
        .collect();
    let transform = pipeline(&[
        ("INPUT_FORMAT", "cloudtrail"),
        ("FILTER", ".errorCode != null"),
        ("PARTITION_KEYS", "{account: .userIdentity.accountId}"),
        ("OUTPUT_FORMAT", "csv"),
        (
            "CSV_COLUMNS",
            ".eventTime,.eventName,.userIdentity.arn,.sourceIPAddress,.errorCode",
        ),
    ]);
    let processed = testing::run(&transform, &files);
    assert!(processed.is_dropped(0));
    assert_eq!(
        processed.text(1),
        "2016-07-14T19:15:45Z,UpdateTrail,arn:aws:iam::123456789012:user/Alice,205.251.233.182,TrailNotFoundException\n"
    );
    assert_eq!(
        processed.partition_keys(1),
        &[("account".to_string(), "123456789012".to_string())]
    );
}

#[test]
fn what_is_not_a_cloudtrail_event_fails_alone_with_where() {
    let transform = pipeline(&[("INPUT_FORMAT", "cloudtrail")]);
    let bad = fixture("cloudtrail/bad/iam_create_role_as_documented.json");
    let good = fixture("cloudtrail/iam_create_user.json");
    let processed = testing::run(
        &transform,
        [
            bad.as_str(),
            good.as_str(),
            r#"{"Records":[{"eventVersion":"1.0","eventTime":"t"},{"eventName":"x"}]}"#,
            r#"{"hello":"world"}"#,
        ],
    );
    let failure = processed.failure(0).unwrap();
    assert_eq!(failure.reason(), input::NOT_JSON);
    assert!(
        failure.detail().unwrap().starts_with("line 19 column"),
        "{failure:?}"
    );
    assert!(processed.is_ok(1));
    assert_eq!(processed.failure_reason(2), Some(input::NOT_CLOUDTRAIL));
    assert_eq!(
        processed.failure(2).unwrap().detail(),
        Some("Records[1]: no `eventVersion` member")
    );
    assert_eq!(
        processed.failure(3).unwrap().detail(),
        Some("no `eventVersion` member")
    );
}

#[test]
fn waf_logs_are_kept_as_written_and_checked() {
    let log = fixture("waf/sqli_block.json");
    let transform = pipeline(&[
        ("INPUT_FORMAT", "waf"),
        ("PARTITION_KEYS", "{action: .action}"),
    ]);
    assert_golden(&transform, &[log.as_str()], "waf.jsonl");
    let compact =
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&log).unwrap()).unwrap();
    // Two logs in a record (newline-delimited, as AWS WAF delivers them), and one that is not a WAF log.
    let two = format!("{compact}\n{compact}\n");
    let processed = testing::run(
        &transform,
        [
            two.as_str(),
            r#"{"timestamp":"soon","webaclId":"a","action":"ALLOW","httpRequest":{}}"#,
        ],
    );
    assert_eq!(processed.text(0).lines().count(), 2);
    assert_eq!(
        processed.partition_keys(0),
        &[("action".to_string(), "BLOCK".to_string())]
    );
    assert_eq!(processed.failure_reason(1), Some(input::NOT_WAF));
    assert_eq!(
        processed.failure(1).unwrap().detail(),
        Some("`timestamp` is a string, expected a number")
    );
}

#[test]
fn line_formats_convert_every_line_of_a_record_and_name_the_bad_one() {
    let log = fixture("alb/doc_examples.log");
    let transform = pipeline(&[("INPUT_FORMAT", "alb")]);
    let processed = testing::run(&transform, [log.as_str()]);
    assert_eq!(processed.text(0).lines().count(), 9);

    let bad = log.replacen(" 200 200 34 366 ", " 200 200 34 many ", 1);
    let processed = testing::run(&transform, [bad.as_str()]);
    let failure = processed.failure(0).unwrap();
    assert_eq!(failure.reason(), input::NOT_ALB);
    assert_eq!(
        failure.detail(),
        Some("line 1: expected an integer or `-` in `sent_bytes` at byte 131")
    );
    let dropping = pipeline(&[("INPUT_FORMAT", "alb"), ("BAD_LINE", "drop")]);
    let processed = testing::run(&dropping, [bad.as_str()]);
    assert_eq!(processed.text(0).lines().count(), 8);
    assert_eq!(
        processed
            .summary()
            .counters
            .get("pipeline.bad_lines_dropped"),
        Some(&1)
    );
}

#[test]
fn configuration_errors_name_the_variable_and_the_position() {
    let error = |pairs: &[(&str, &str)]| {
        from_settings(&Settings::from_pairs(pairs.iter().copied()))
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        error(&[
            ("INPUT_FORMAT", "vpc-flow"),
            ("VPC_FLOW_FIELDS", "${version} ${srcaddr} ${version}")
        ]),
        "VPC_FLOW_FIELDS: at character 23: `version` is listed twice"
    );
    assert_eq!(
        error(&[
            ("INPUT_FORMAT", "vpc-flow"),
            ("VPC_FLOW_FIELDS", "${version} ${}")
        ]),
        "VPC_FLOW_FIELDS: at character 12: an empty field name"
    );
    assert_eq!(
        error(&[("INPUT_FORMAT", "cloudfront-realtime")]),
        "CLOUDFRONT_FIELDS: is required with cloudfront-realtime: the real-time log configuration's fields, in order, as in `timestamp c-ip sc-status cs-uri-stem`"
    );
    assert_eq!(
        error(&[
            ("INPUT_FORMAT", "cloudfront-realtime"),
            ("CLOUDFRONT_FIELDS", "timestamp,,c-ip \"x")
        ]),
        "CLOUDFRONT_FIELDS: at character 17: '\"' in the field name `\"x`"
    );
    assert!(error(&[("INPUT_FORMAT", "elb")])
        .starts_with("INPUT_FORMAT: \"elb\" is not a known format"));
}

#[test]
fn a_record_of_invalid_utf8_is_converted_with_replacement() {
    let mut record = fixture("vpc-flow/default_v2.log")
        .lines()
        .next()
        .unwrap()
        .as_bytes()
        .to_vec();
    let at = record.iter().position(|&b| b == b'e').unwrap(); // in eni-...
    record[at] = 0xff;
    let event = EventBuilder::new().record(&record).build();
    let processed = testing::run_event(&pipeline(&[("INPUT_FORMAT", "vpc-flow")]), &event);
    let value: serde_json::Value = serde_json::from_str(processed.text(0)).unwrap();
    assert_eq!(value["interface_id"], "\u{fffd}ni-1235b8ca123456789");
}

/// A value of a field's kind, as a log would write it.
fn value_of(kind: Kind) -> BoxedStrategy<String> {
    match kind {
        Kind::Integer => prop_oneof![
            Just("-".to_string()),
            any::<i64>().prop_map(|n| n.to_string())
        ]
        .boxed(),
        Kind::Decimal => prop_oneof![
            Just("-1".to_string()),
            (0u32..100_000, 0u32..1000).prop_map(|(a, b)| format!("{a}.{b:03}"))
        ]
        .boxed(),
        Kind::Text => "[!-~]{1,12}".boxed(),
    }
}

fn json_of(value: &str, kind: Kind) -> serde_json::Value {
    match (value, kind) {
        ("-", _) => serde_json::Value::Null,
        (text, Kind::Text) => serde_json::Value::String(text.to_string()),
        (number, _) => serde_json::from_str(number).unwrap(),
    }
}

/// Some of the VPC fields, in any order kept from the table, with values.
fn vpc_case() -> impl Strategy<Value = (Vec<(&'static str, u8, Kind)>, Vec<String>)> {
    proptest::sample::subsequence(vpc_flow::FIELDS.to_vec(), 1..=vpc_flow::FIELDS.len())
        .prop_flat_map(|picks| {
            let values: Vec<_> = picks.iter().map(|&(_, _, kind)| value_of(kind)).collect();
            (Just(picks), values)
        })
}

proptest! {
    #[test]
    fn a_vpc_flow_record_written_from_any_values_parses_back(
        (picks, values) in vpc_case(),
        extra in proptest::collection::vec("[a-z0-9]{1,5}", 0..3),
    ) {
        let names: Vec<String> = picks.iter().map(|(name, _, _)| format!("${{{name}}}")).collect();
        let format = vpc_flow::Format::new(&names.join(" ")).unwrap();
        let mut line = values.join(" ");
        for e in &extra {
            line.push(' ');
            line.push_str(e);
        }
        let record = format.parse(&line).unwrap();
        let mut json = Vec::new();
        format.write_json(&record, &mut json);
        let object: serde_json::Value = serde_json::from_slice(&json).unwrap();
        for ((name, _, kind), value) in picks.iter().zip(&values) {
            prop_assert_eq!(&object[name.replace('-', "_")], &json_of(value, *kind), "{}", name);
        }
        if extra.is_empty() {
            prop_assert!(object.get(EXTRA_FIELDS).is_none());
        } else {
            prop_assert_eq!(&object[EXTRA_FIELDS], &serde_json::json!(extra));
        }
    }

    #[test]
    fn a_cloudfront_record_written_from_any_values_parses_back(
        values in proptest::collection::vec("[ -~]{0,10}", 46),
        status in 0u16..1000,
    ) {
        let mut values = values;
        values[4] = format!("{status:03}"); // sc-status
        values[0] = "1587162023.123".to_string(); // timestamp
        for (i, name) in cloudfront::ALL_FIELDS.iter().enumerate() {
            if cloudfront::kind_of(name) != Kind::Text && i != 4 && i != 0 {
                values[i] = "-".to_string();
            }
        }
        let fields = cloudfront::Fields::new(&cloudfront::ALL_FIELDS.join(",")).unwrap();
        let line = values.join("\t");
        let record = fields.parse(&line).unwrap();
        let mut json = Vec::new();
        fields.write_json(&record, &mut json);
        let object: serde_json::Value = serde_json::from_slice(&json).unwrap();
        prop_assert_eq!(&object["sc_status"], &serde_json::json!(status));
        for (name, value) in cloudfront::ALL_FIELDS.iter().zip(&values) {
            let kind = cloudfront::kind_of(name);
            if kind == Kind::Text {
                prop_assert_eq!(&object[name.replace('-', "_")], &json_of(value, kind), "{}", name);
            }
        }
    }

    #[test]
    fn an_alb_entry_written_from_any_values_parses_back(
        elb_status in 100u16..600,
        target_status in prop_oneof![Just(None), (100u16..600).prop_map(Some)],
        times in proptest::collection::vec(value_of(Kind::Decimal), 3),
        user_agent in "[ -~]{0,40}",
        path in "/[!-~]{0,20}",
        classification in prop_oneof![Just("-"), Just("Acceptable"), Just("Severe")],
        extra in proptest::collection::vec("[a-z]{1,6}", 0..3),
    ) {
        let escape = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        let escaped_agent = escape(&user_agent);
        let escaped_path = escape(&path);
        let target = target_status.map_or("-".to_string(), |s| s.to_string());
        let mut line = format!(
            "https 2024-05-01T00:00:00.000000Z app/lb/1 192.0.2.1:443 10.0.0.1:80 {} {} {} {elb_status} {target} 10 20 \"GET https://example.com:443{escaped_path} HTTP/1.1\" \"{escaped_agent}\" - - arn:tg \"Root=1\" \"-\" \"-\" 0 2024-05-01T00:00:00.000000Z \"forward\" \"-\" \"-\" \"10.0.0.1:80\" \"{target}\" \"{classification}\" \"-\" TID_1 \"-\" \"-\" \"-\"",
            times[0], times[1], times[2],
        );
        for e in &extra {
            line.push(' ');
            line.push_str(e);
        }
        let entry = alb::parse(&line).unwrap();
        let mut json = Vec::new();
        alb::write_json(&entry, &mut json);
        let object: serde_json::Value = serde_json::from_slice(&json).unwrap();
        prop_assert_eq!(&object["elb_status_code"], &serde_json::json!(elb_status));
        prop_assert_eq!(&object["target_status_code"], &serde_json::json!(target_status));
        prop_assert_eq!(&object["request_processing_time"], &json_of(&times[0], Kind::Decimal));
        prop_assert_eq!(&object["response_processing_time"], &json_of(&times[2], Kind::Decimal));
        prop_assert_eq!(&object["user_agent"], &json_of(&user_agent, Kind::Text));
        let url = format!("https://example.com:443{path}");
        prop_assert_eq!(object["request_url"].as_str(), Some(url.as_str()));
        prop_assert_eq!(&object["classification"], &json_of(classification, Kind::Text));
        if !extra.is_empty() {
            prop_assert_eq!(&object[EXTRA_FIELDS], &serde_json::json!(extra));
        }
    }
}
