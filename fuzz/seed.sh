#!/usr/bin/env bash
# Builds fuzz/corpus/<target>/ from the files in fixtures/, so that every
# fuzz target starts from real data: the lines of the log fixtures one file
# each (the large ones cut to their first $MAX_LINES lines), the JSON and
# event fixtures whole, the records of the Firehose events decoded, and the
# CloudWatch Logs envelopes gzip-compressed as subscriptions send them.
# The corpus is generated (and grows as the fuzzer runs): it is not in git.
#
#   fuzz/seed.sh            # from anywhere in the repository
#   MAX_LINES=100 fuzz/seed.sh
#
# Needs bash, awk, jq, base64 and gzip. Existing corpus files are kept.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fixtures=$root/fixtures
corpus=$root/fuzz/corpus
MAX_LINES=${MAX_LINES:-500}

# lines TARGET PREFIX FILE...: one corpus file per non-empty line (no line
# break), PREFIX (a byte in \xHH form, or empty) written before each.
lines() {
    local target=$1 prefix=$2
    shift 2
    mkdir -p "$corpus/$target"
    for file in "$@"; do
        local name
        name=$(basename "$file")
        head -n "$MAX_LINES" "$file" |
            awk -v dir="$corpus/$target" -v name="$name" -v prefix="$prefix" '
                length($0) > 0 {
                    out = sprintf("%s/%s-%05d", dir, name, NR)
                    printf "%s%s", prefix, $0 > out
                    close(out)
                }'
    done
}

# whole TARGET FILE...: each file as it is.
whole() {
    local target=$1
    shift
    mkdir -p "$corpus/$target"
    for file in "$@"; do
        cp "$file" "$corpus/$target/$(basename "$file")"
    done
}

# records TARGET EVENT...: the decoded data of each record of Firehose events.
records() {
    local target=$1
    shift
    mkdir -p "$corpus/$target"
    for event in "$@"; do
        local name i=0
        name=$(basename "$event" .json)
        while IFS= read -r data; do
            printf '%s' "$data" | base64 -d >"$corpus/$target/$name-record-$i" || true
            i=$((i + 1))
        done < <(jq -r '.records[] | (.data // .kafkaRecordValue // empty)' "$event")
    done
}

events=("$fixtures"/events/*.json "$fixtures"/cloudwatch_logs/event.json "$fixtures"/pipeline/web-events.json)

whole event_engine "${events[@]}"

lines apache '' "$fixtures"/apache/*.log "$fixtures"/golden/apache/sample.log
lines syslog '' "$fixtures"/syslog/*.log "$fixtures"/golden/syslog/*.log
lines alb '' "$fixtures"/aws/alb/*.log

# The first byte picks the format, in the order of fuzz_targets/vpc_flow.rs
# (default, nat_gateway, tcp_flags_v3, transit_gateway_v3) and
# fuzz_targets/cloudfront.rs (all_fields, short).
lines vpc_flow '\x00' "$fixtures"/aws/vpc-flow/default_v2.log
lines vpc_flow '\x01' "$fixtures"/aws/vpc-flow/nat_gateway.log
lines vpc_flow '\x02' "$fixtures"/aws/vpc-flow/tcp_flags_v3.log
lines vpc_flow '\x03' "$fixtures"/aws/vpc-flow/transit_gateway_v3.log
lines cloudfront '\x00' "$fixtures"/aws/cloudfront/all_fields.log
lines cloudfront '\x01' "$fixtures"/aws/cloudfront/short.log

whole cloudtrail "$fixtures"/aws/cloudtrail/*.json "$fixtures"/aws/cloudtrail/bad/*.json
lines cloudtrail '' "$fixtures"/golden/aws/cloudtrail.jsonl
whole waf "$fixtures"/aws/waf/*.json
lines waf '' "$fixtures"/golden/aws/waf.jsonl

whole json "${events[@]}" "$fixtures"/aws/cloudtrail/*.json "$fixtures"/aws/waf/*.json \
    "$fixtures"/cloudwatch_logs/user-guide-sample.json "$fixtures"/cloudwatch_logs/control-message.json
lines json '' "$fixtures"/golden/aws/*.jsonl "$fixtures"/golden/apache/sample.ndjson

# CloudWatch Logs: the records of the fixture event (gzip, corrupt, cut,
# plain), the Lambda guide's payload, and the User Guide's envelopes gzipped.
records cloudwatch_logs "$fixtures"/cloudwatch_logs/event.json
jq -r '.awslogs.data' "$fixtures"/cloudwatch_logs/lambda-developer-guide-sample.json |
    base64 -d >"$corpus/cloudwatch_logs/lambda-developer-guide-sample.gz"
for envelope in user-guide-sample control-message; do
    gzip -n -c "$fixtures/cloudwatch_logs/$envelope.json" >"$corpus/cloudwatch_logs/$envelope.gz"
    cp "$fixtures/cloudwatch_logs/$envelope.json" "$corpus/cloudwatch_logs/$envelope.json"
done

# GeoIP: objects with addresses the test databases hold (from
# fixtures/mmdb/source-data), private and invalid ones, at the two fields
# fuzz_targets/geoip_enrich.rs reads (.ip and .client.ip).
mkdir -p "$corpus/geoip_enrich"
i=0
for ip in 81.2.69.142 2.125.160.216 89.160.20.112 175.16.199.0 216.160.83.56 \
    2001:218::1 2a02:cf40::1 1.128.0.0 10.0.0.1 ::1 not-an-address ''; do
    printf '{"ip":"%s","status":200}\n' "$ip" >"$corpus/geoip_enrich/ip-$i"
    printf '{"client":{"ip":"%s"},"g":1}' "$ip" >"$corpus/geoip_enrich/client-ip-$i"
    i=$((i + 1))
done
records geoip_enrich "$fixtures"/pipeline/web-events.json

records pipeline "$fixtures"/pipeline/web-events.json "$fixtures"/events/direct-put.json

for dir in "$corpus"/*/; do
    printf '%-16s %5d files\n' "$(basename "$dir")" "$(find "$dir" -type f | wc -l)"
done
