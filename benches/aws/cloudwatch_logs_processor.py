"""The transform of the AWS blueprint kinesis-firehose-cloudwatch-logs-processor-python
(lambda_function.py), re-implemented faithfully for timing: the same per-record
algorithm (base64-decode, gzip.decompress, json.loads, CONTROL_MESSAGE -> Dropped,
DATA_MESSAGE -> each message + "\n" joined, UTF-8, base64) and the same size
accounting (a record over 6,000,000 base64 bytes split in halves, the running
projected size against 6,000,000). The re-ingestion calls (PutRecordBatch /
PutRecords through boto3) are not made: the records the blueprint would re-ingest
are counted instead, so the figure is the transform's CPU cost alone.

    cargo run --release --example cwl_event > /tmp/cwl.json
    python3 benches/aws/cloudwatch_logs_processor.py /tmp/cwl.json

Prints the median of 9 runs of json.loads(event) + handler + json.dumps(response),
wall-clock time and the thread's CPU time (what benches/cloudwatch_logs.rs
measures: per core, whatever else the machine runs).
"""
import base64
import gzip
import json
import statistics
import sys
import time


def transformLogEvent(log_event):
    return log_event['message'] + '\n'


def loadJsonGzipBase64(base64Data):
    return json.loads(gzip.decompress(base64.b64decode(base64Data)))


def processRecords(records):
    for r in records:
        data = loadJsonGzipBase64(r['data'])
        recId = r['recordId']
        if data['messageType'] == 'CONTROL_MESSAGE':
            yield {'result': 'Dropped', 'recordId': recId}
        elif data['messageType'] == 'DATA_MESSAGE':
            joinedData = ''.join([transformLogEvent(e) for e in data['logEvents']])
            dataBytes = joinedData.encode("utf-8")
            encodedData = base64.b64encode(dataBytes).decode('utf-8')
            yield {'data': encodedData, 'result': 'Ok', 'recordId': recId}
        else:
            yield {'result': 'ProcessingFailed', 'recordId': recId}


def splitCWLRecord(cwlRecord):
    logEvents = cwlRecord['logEvents']
    mid = len(logEvents) // 2
    rec1 = {k: v for k, v in cwlRecord.items()}
    rec1['logEvents'] = logEvents[:mid]
    rec2 = {k: v for k, v in cwlRecord.items()}
    rec2['logEvents'] = logEvents[mid:]
    return [gzip.compress(json.dumps(r).encode('utf-8')) for r in [rec1, rec2]]


def lambda_handler(event, context):
    records = list(processRecords(event['records']))
    projectedSize = 0
    recordListsToReingest = []
    for idx, rec in enumerate(records):
        originalRecord = event['records'][idx]
        if rec['result'] != 'Ok':
            continue
        if len(rec['data']) > 6000000:
            cwlRecord = loadJsonGzipBase64(originalRecord['data'])
            if len(cwlRecord['logEvents']) > 1:
                rec['result'] = 'Dropped'
                recordListsToReingest.append(splitCWLRecord(cwlRecord))
            else:
                rec['result'] = 'ProcessingFailed'
            del rec['data']
        else:
            projectedSize += len(rec['data']) + len(rec['recordId'])
            if projectedSize > 6000000:
                recordListsToReingest.append([originalRecord['data']])
                del rec['data']
                rec['result'] = 'Dropped'
    # (the blueprint now calls PutRecordBatch/PutRecords for recordListsToReingest)
    return {"records": records}, len(recordListsToReingest)


def main():
    raw = open(sys.argv[1], 'rb').read()
    times, cpu_times = [], []
    for _ in range(9):
        start, cpu_start = time.perf_counter(), time.thread_time()
        response, reingested = lambda_handler(json.loads(raw), None)
        body = json.dumps(response)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.thread_time() - cpu_start)
    out = sum(len(base64.b64decode(r['data'])) for r in response['records'] if 'data' in r)
    print(f"median {statistics.median(times) * 1000:.1f} ms, CPU {statistics.median(cpu_times) * 1000:.1f} ms; "
          f"{len(raw)} event bytes; "
          f"{out} output bytes kept, {reingested} records to re-ingest; response {len(body)} bytes")


if __name__ == '__main__':
    main()
