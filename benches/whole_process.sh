#!/usr/bin/env bash
# Whole process, side by side: each blueprint binary in local mode
# (`BINARY --event FILE`) against the AWS Node.js blueprint that it replaces
# (benches/aws/*.js, each the blueprint's handler in a harness that reads the
# same event file and prints the response), on a 6 MB event, start-up
# included, timed with hyperfine. The figures of README "Performance", "Whole
# process".
#
#   bash benches/whole_process.sh              # from anywhere in the repository
#
# Pairs (targets from issue 11):
#   process-record     vs benches/aws/process_record.js     (>= 5x)
#   apachelog-to-json  vs benches/aws/apachelog_to_json.js  (>= 10x)
#
# Settings (environment):
#   ROUNDS=5    hyperfine runs per pair; the order of the two alternates from
#               round to round, and the ratios are taken within a round (the
#               machine's load changes slower than one round), then the median
#               over rounds is reported
#   RUNS=20     timed runs per command per round (hyperfine --runs)
#   WARMUP=3    untimed runs first (hyperfine --warmup: page cache, CPU clocks)
#   RSS_RUNS=5  runs under /usr/bin/time -v per command; median peak RSS
#   OUT=target/whole-process   events, responses, hyperfine JSON/markdown
# FIREHOSE_THREADS and other settings of the binaries are passed through.
#
# Needs: cargo, Node.js, hyperfine, GNU time. On Debian/Ubuntu:
#   apt-get install -y nodejs hyperfine time
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROUNDS=${ROUNDS:-5}
RUNS=${RUNS:-20}
WARMUP=${WARMUP:-3}
RSS_RUNS=${RSS_RUNS:-5}
OUT=${OUT:-target/whole-process}
LINES_FIXTURE=fixtures/apache/apache_combined_10k.log
EVENT_BYTES=6000000
# Lambda runs every function with TZ=:UTC; the Node apachelog blueprint reads
# the log's wall-clock time in the local zone, so pin it to Lambda's.
export TZ=UTC

missing=()
command -v node >/dev/null 2>&1 || missing+=("node (Node.js: apt-get install -y nodejs)")
command -v hyperfine >/dev/null 2>&1 || missing+=("hyperfine (apt-get install -y hyperfine)")
[ -x /usr/bin/time ] || missing+=("/usr/bin/time (GNU time: apt-get install -y time)")
command -v cargo >/dev/null 2>&1 || missing+=("cargo (https://rustup.rs)")
if [ ${#missing[@]} -gt 0 ]; then
    echo "whole_process.sh: missing, cannot measure:" >&2
    printf '  %s\n' "${missing[@]}" >&2
    exit 1
fi

step() { echo; echo "==> $*"; }

step "Machine"
echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "node $(node --version); $(hyperfine --version); $(rustc --version 2>/dev/null || cargo --version)"
echo "FIREHOSE_THREADS=${FIREHOSE_THREADS:-unset (the binaries use every CPU)}"

step "Building the release binaries"
# nice: the build must not slow down whatever else shares the machine; the
# measurements below run at normal priority.
nice -n 10 cargo build --release --bin process-record --bin apachelog-to-json

mkdir -p "$OUT"

# name | binary | Node.js harness | target (times faster)
PAIRS=(
    "process-record|target/release/process-record|benches/aws/process_record.js|5"
    "apachelog-to-json|target/release/apachelog-to-json|benches/aws/apachelog_to_json.js|10"
)

# Prints "RECORDS RESULT=COUNT ..." for a Firehose event or response.
count_records() {
    node -e '
        const body = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        const counts = {};
        for (const record of body.records) {
            counts[record.result] = (counts[record.result] || 0) + 1;
        }
        const results = Object.entries(counts).map(([result, n]) => `${result}=${n}`);
        console.log([body.records.length, ...results].join(" "));
    ' "$1"
}

step "Events (${EVENT_BYTES} bytes of ${LINES_FIXTURE}, each made by its binary's --make-event) and a check that both sides answer every record"
for pair in "${PAIRS[@]}"; do
    IFS='|' read -r name binary node_script _target <<<"$pair"
    event="$OUT/$name.event.json"
    "$binary" --make-event --lines "$LINES_FIXTURE" --fill-bytes "$EVENT_BYTES" >"$event"
    read -r event_records _ <<<"$(count_records "$event")"
    echo "$name: $(wc -c <"$event") bytes, $event_records records"
    "$binary" --event "$event" >"$OUT/$name.rust.response.json" 2>"$OUT/$name.rust.stderr"
    node "$node_script" "$event" >"$OUT/$name.node.response.json" 2>"$OUT/$name.node.stderr"
    for side in rust node; do
        response="$OUT/$name.$side.response.json"
        counts=$(count_records "$response")
        read -r response_records _ <<<"$counts"
        echo "  $side: $(wc -c <"$response")-byte response, $counts"
        if [ "$response_records" != "$event_records" ]; then
            echo "whole_process.sh: $name ($side) answered $response_records of $event_records records" >&2
            exit 1
        fi
    done
done

# Peak RSS: median over RSS_RUNS runs, in KiB.
peak_rss_kib() {
    local sizes=()
    for _ in $(seq "$RSS_RUNS"); do
        sizes+=("$(/usr/bin/time -v "$@" 2>&1 >/dev/null |
            awk -F': ' '/Maximum resident set size/ { print $2 }')")
    done
    printf '%s\n' "${sizes[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

step "Timing: ${ROUNDS} rounds per pair, the order alternating; ${WARMUP} warm-up and ${RUNS} timed runs per command per round"
for round in $(seq "$ROUNDS"); do
    for pair in "${PAIRS[@]}"; do
        IFS='|' read -r name binary node_script _target <<<"$pair"
        event="$OUT/$name.event.json"
        rust_command="$binary --event $event"
        node_command="node $node_script $event"
        if [ $((round % 2)) -eq 1 ]; then
            commands=("$rust_command" "$node_command")
        else
            commands=("$node_command" "$rust_command")
        fi
        echo "-- round $round, $name (load $(cut -d' ' -f1 /proc/loadavg))"
        hyperfine -N --style basic --warmup "$WARMUP" --runs "$RUNS" \
            --export-json "$OUT/$name.round$round.json" \
            --export-markdown "$OUT/$name.round$round.md" \
            "${commands[@]}"
    done
done

step "Node.js start-up alone, for scale (paid once per Lambda execution environment, not per invocation)"
hyperfine -N --style basic --warmup "$WARMUP" --runs "$RUNS" \
    --export-json "$OUT/node-startup.json" "node -e 0"

step "Peak RSS (/usr/bin/time -v, median of ${RSS_RUNS} runs)"
RSS_FILE="$OUT/peak_rss.txt"
: >"$RSS_FILE"
for pair in "${PAIRS[@]}"; do
    IFS='|' read -r name binary node_script _target <<<"$pair"
    event="$OUT/$name.event.json"
    echo "$name rust $(peak_rss_kib "$binary" --event "$event")" >>"$RSS_FILE"
    echo "$name node $(peak_rss_kib node "$node_script" "$event")" >>"$RSS_FILE"
done
cat "$RSS_FILE"

step "Summary (medians over ${ROUNDS} rounds; load now: $(cut -d' ' -f1-3 /proc/loadavg))"
# Per round and command: wall = hyperfine's median, CPU = its mean user +
# mean system (the JSON has no per-run CPU). Ratios are node/rust within the
# round, and their median over the rounds is the figure.
node -e '
    const fs = require("fs");
    const [out, rounds, rssFile, ...pairs] = process.argv.slice(1);
    const median = (xs) => {
        const s = [...xs].sort((a, b) => a - b);
        const m = s.length >> 1;
        return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
    };
    const rss = {};
    for (const line of fs.readFileSync(rssFile, "utf8").trim().split("\n")) {
        const [name, side, kib] = line.split(" ");
        rss[`${name} ${side}`] = Number(kib) / 1024;
    }
    const ms = (s) => (s * 1000).toFixed(1);
    const rows = [];
    let missed = 0;
    for (const pair of pairs) {
        const [name, , nodeScript, target] = pair.split("|");
        const per = { rust: { wall: [], cpu: [] }, node: { wall: [], cpu: [] } };
        const wallRatio = [], cpuRatio = [];
        for (let round = 1; round <= Number(rounds); round++) {
            const results = JSON.parse(fs.readFileSync(`${out}/${name}.round${round}.json`)).results;
            const side = (r) => (r.command.startsWith("node ") ? "node" : "rust");
            const got = {};
            for (const r of results) {
                got[side(r)] = { wall: r.median, cpu: r.user + r.system };
                per[side(r)].wall.push(r.median);
                per[side(r)].cpu.push(r.user + r.system);
            }
            wallRatio.push(got.node.wall / got.rust.wall);
            cpuRatio.push(got.node.cpu / got.rust.cpu);
            console.log(`${name} round ${round}: wall ${ms(got.rust.wall)} vs ${ms(got.node.wall)} ms ` +
                `(${(got.node.wall / got.rust.wall).toFixed(2)}x), CPU ${ms(got.rust.cpu)} vs ` +
                `${ms(got.node.cpu)} ms (${(got.node.cpu / got.rust.cpu).toFixed(2)}x)`);
        }
        const wall = median(wallRatio), cpu = median(cpuRatio);
        const verdict = wall >= Number(target) ? "met" : "MISSED";
        if (verdict !== "met") missed++;
        rows.push(`| \`${name} --event\` | ${ms(median(per.rust.wall))} ms | ${ms(median(per.rust.cpu))} ms | ` +
            `${rss[`${name} rust`].toFixed(1)} MiB | | |`);
        rows.push(`| AWS Node.js blueprint (\`node ${nodeScript}\`) | ` +
            `${ms(median(per.node.wall))} ms | ${ms(median(per.node.cpu))} ms | ${rss[`${name} node`].toFixed(1)} MiB | ` +
            `**${wall.toFixed(2)}x** wall, ${cpu.toFixed(2)}x CPU | ≥ ${target}x (${verdict}) |`);
    }
    console.log();
    console.log("| command | wall (median) | CPU (user + sys) | peak RSS | Rust faster by | target |");
    console.log("|---|---|---|---|---|---|");
    for (const row of rows) console.log(row);
    const startup = JSON.parse(fs.readFileSync(`${out}/node-startup.json`)).results[0];
    console.log(`\nNode.js start-up alone (\`node -e 0\`): wall ${ms(startup.median)} ms, ` +
        `CPU ${ms(startup.user + startup.system)} ms`);
    if (missed) console.log(`\n${missed} target(s) missed on wall time.`);
' "$OUT" "$ROUNDS" "$RSS_FILE" "${PAIRS[@]}"
