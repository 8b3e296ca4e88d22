// The AWS Lambda blueprint "kinesis-firehose-apachelog-to-json" (Node.js), its
// algorithm kept as AWS ships it, in a harness that reads an event file and
// prints the response, like this project's local mode and
// benches/aws/process_record.js, so the two can be timed as whole processes on
// the same event:
//
//   node benches/aws/apachelog_to_json.js EVENT.json > /dev/null
//
// Source: the blueprint as AWS publishes it in the Serverless Application
// Repository examples, github.com/aws/serverless-application-model,
// examples/apps/kinesis-firehose-apachelog-to-json/index.js (runtime nodejs6.10
// in its template.yaml; the code runs unchanged on Node 20).
// Copyright 2016 Amazon.com, Inc. or its affiliates. Licensed under the Apache
// License, Version 2.0 (http://www.apache.org/licenses/LICENSE-2.0).
//
// What was changed: only the harness around it (the `fs` import, console.log
// sent to standard error, and the last lines that read the event and write the
// response). The regex, the field names, the result handling and the log lines
// are the blueprint's, including what it gets wrong, because the point is to
// time what users of the blueprint run: a line whose byte count is `-` (304s,
// HEADs) does not match `(\d+)` and is ProcessingFailed; `@timestamp` is the
// local time labelled UTC; referrer and user agent are dropped; the JSON has no
// trailing newline. README "How they differ from the AWS blueprints" lists them.
'use strict';

const fs = require('fs');

// Harness: on Lambda, console.log goes to CloudWatch Logs, not into the
// response; here standard output carries the response, so the blueprint's
// log lines go to standard error.
console.log = console.error;

// ---- the blueprint, as published ----
console.log('Loading function');

/* Apache Log format parser */
const parser = /^([\d.]+) (\S+) (\S+) \[([\w:/]+)(\s[\+\-]\d{4}){0,1}\] "(.+?)" (\d{3}) (\d+)/;

exports.handler = (event, context, callback) => {
    let success = 0; // Number of valid entries found
    let failure = 0; // Number of invalid entries found

    /* Process the list of records and transform them */
    const output = event.records.map((record) => {
        const entry = (Buffer.from(record.data, 'base64')).toString('utf8');
        const match = parser.exec(entry);
        if (match) {
            /* Prepare JSON version from Apache log data */
            const safeStringToInt = (strVal) => {
                if (isNaN(Number(strVal))) {
                    return strVal;
                } else {
                    return Number(strVal);
                }
            };
            const formatDate = (strVal) => strVal.replace(/\//g, ' ').replace(':', ' ');

            const result = {
                host: match[1],
                ident: match[2],
                authuser: match[3],
                request: match[6],
                response: safeStringToInt(match[7]),
                bytes: safeStringToInt(match[8]),
            };

            if (match[6] && match[6].split(' ').length > 1) {
                result.verb = match[6].split(' ')[0];
            }

            let isoTs = match[4];
            try {
                isoTs = new Date(formatDate(isoTs)).toISOString();
            } catch (err) {
                console.log('Parsing the timestamp to date failed.');
            }
            result['@timestamp'] = isoTs;

            if (match[5]) {
                const timezone = match[5].trim();
                result.timezone = timezone;
                try {
                    const ts = formatDate(match[4]);
                    const combinedTs = `${ts} ${timezone}`;
                    result['@timestamp_utc'] = new Date(combinedTs).toISOString();
                } catch (err) {
                    console.log('Calculating UTC time failed.');
                }
            }

            const payload = (Buffer.from(JSON.stringify(result), 'utf8')).toString('base64');
            success++;
            return {
                recordId: record.recordId,
                result: 'Ok',
                data: payload,
            };
        } else {
            /* Failed event, notify the error and leave the record intact */
            failure++;
            return {
                recordId: record.recordId,
                result: 'ProcessingFailed',
                data: record.data,
            };
        }
    });
    console.log(`Processing completed.  Successful records ${success}, Failed records ${failure}.`);
    callback(null, { records: output });
};
// ---- end of the blueprint ----

// Harness: one invocation on the event file, the response on standard output
// (as process_record.js and `BINARY --event FILE` do).
const event = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
exports.handler(event, {}, (error, response) => {
    if (error) {
        throw error;
    }
    process.stdout.write(JSON.stringify(response) + '\n');
});
