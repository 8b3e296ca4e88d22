// The AWS Node.js "kinesis-firehose-process-record" blueprint's handler (the
// identity transformation, as the blueprint ships it), in a harness that reads
// an event file and prints the response, like this project's local mode, so
// the two can be timed as whole processes on the same event:
//
//   node benches/aws/process_record.js EVENT.json > /dev/null
'use strict';

const fs = require('fs');

const handler = async (event) => {
    /* Process the list of records and transform them */
    const output = event.records.map((record) => ({
        /* This transformation is the "identity" transformation, the data is left intact */
        recordId: record.recordId,
        result: 'Ok',
        data: record.data,
    }));
    console.error(`Processing completed.  Successful records ${output.length}.`);
    return { records: output };
};

const event = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
handler(event).then((response) => process.stdout.write(JSON.stringify(response) + '\n'));
