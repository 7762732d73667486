#!/usr/bin/env bash
# ./dev bench evals: shards a second the arena's eval queue hands out and
# takes back, against pgbench running the same transactions.
#
#  huashan: WORKERS simulated workers (tests/perf/evals/bench_eval_queue.cpp,
#           one keep-alive connection each) loop POST /api/eval-shards/claim
#           -> /items (valid answers for the shard's documents) -> /complete
#           on loopback for DURATION seconds. Everything the routes do is in
#           it: key check, JSON, the answers checked against the run's
#           prepared documents, the store's transactions, and scoring a run
#           when its last shard completes.
#  pgbench: the three transactions eval_store sends for those calls
#           (tests/perf/eval_queue.sql: claim CTE with FOR UPDATE SKIP
#           LOCKED, the items' held-shard check, fingerprint, conflict check
#           and INSERT via json_to_recordset, the completion's item count,
#           UPDATE done and open-shard count) as one pgbench transaction, with
#           -c WORKERS, extended protocol like libpqxx. Target: the arena
#           >= 0.5x pgbench's transactions a second.
#
# Setup: the private PostgreSQL (./dev db start; or DATABASE_URL), a fresh
# database (dropped at exit), an API key, `huashan serve` (release, log level
# warn) with the repository's suites. Before every run, of either side, the
# eval tables are emptied and the same queue is made through POST
# /api/eval-runs: many model names x SUITE in shards of SHARD_SIZE documents,
# enough for MAX_RATE shards a second, so the queue never runs dry (a dry
# queue fails the run). pgbench stores the very answer text the arena stored.
#
# Environment: HUASHAN_BIN, HUASHAN_BUILD (set by ./dev bench), RUNS (3),
#   DURATION (seconds per run, 10), WORKERS (16), PGBENCH_THREADS (2),
#   SHARD_SIZE (1), SUITE (huashan-sample_zh_mc), ANSWERS (answers per
#   document of SUITE, 4), MAX_RATE (shards/s queued for, 1500),
#   HUASHAN_BENCH_QUICK=1: one 2-second run of each (checks that it works).
# Results: one JSON line per run and the medians in
# $HUASHAN_BUILD/bench-evals.jsonl, then a table. The script fails when a run
# has errors, a failed transaction, or a shard it counted is not stored done.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PERF="$ROOT/tests/perf"
: "${HUASHAN_BIN:?set HUASHAN_BIN to the release huashan binary}"
: "${HUASHAN_BUILD:?set HUASHAN_BUILD to the release build directory}"
DRIVER="$HUASHAN_BUILD/tests/perf/evals/huashan_bench_evals"
RUNS="${RUNS:-3}"
DURATION="${DURATION:-10}"
WORKERS="${WORKERS:-16}"
PGBENCH_THREADS="${PGBENCH_THREADS:-2}"
SHARD_SIZE="${SHARD_SIZE:-1}"
SUITE="${SUITE:-huashan-sample_zh_mc}"
ANSWERS="${ANSWERS:-4}"
MAX_RATE="${MAX_RATE:-1500}"
LEASE_MS=60000
MAX_ATTEMPTS=5
if [ "${HUASHAN_BENCH_QUICK:-0}" = "1" ]; then
  RUNS=1; DURATION=2
fi
for tool in pgbench psql curl python3; do
  command -v "$tool" >/dev/null || { echo "evals.sh: $tool missing (./dev setup installs it)" >&2; exit 1; }
done
[ -x "$DRIVER" ] || { echo "evals.sh: $DRIVER missing (build the target huashan_bench_evals)" >&2; exit 1; }
RESULTS="$HUASHAN_BUILD/bench-evals.jsonl"
: >"$RESULTS"

tmp="$(mktemp -d)"
server_pid=""
admin_url=""
bench_db=""
cleanup() {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  [ -z "$bench_db" ] || psql "$admin_url" -qc "DROP DATABASE IF EXISTS $bench_db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'evals.sh: %s\n' "$*" >&2; exit 1; }

free_port() {
  local port
  for port in $(seq $((20000 + RANDOM % 20000)) 45000); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
  done
  return 1
}

# ---------------------------------------------------------------- database and server

if [ -n "${DATABASE_URL:-}" ]; then
  admin_url="$DATABASE_URL"
else
  admin_url="$("$ROOT/dev" db start | sed -n 's/^DATABASE_URL=//p')"
fi
[ -n "$admin_url" ] || die "no database (./dev db start failed)"
bench_db="huashan_bench_evals_$$"
psql "$admin_url" -qc "CREATE DATABASE $bench_db" >/dev/null
if [[ "$admin_url" =~ ^postgres(ql)?:// ]]; then
  url="$(echo "$admin_url" | sed -E "s#^(postgres(ql)?://[^/?]*)(/[^?]*)?#\1/$bench_db#")"
else
  url="$admin_url dbname=$bench_db"
fi
sql() { psql "$url" -XAtqc "$1"; }
"$HUASHAN_BIN" --database-url "$url" db migrate >/dev/null
key="$("$HUASHAN_BIN" --database-url "$url" admin create-key --name bench 2>/dev/null)"
[ -n "$key" ] || die "admin create-key gave no key"

mkdir -p "$tmp/no-models"
port="$(free_port)"
base="http://127.0.0.1:$port"
secret="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
"$HUASHAN_BIN" --log-level warn --database-url "$url" serve --port "$port" --models-dir "$tmp/no-models" \
  --session-secret "$secret" --suites-dir "$ROOT/benchmarks" --data-dir "$ROOT/tests/data/datasets" \
  --eval-lease-ms "$LEASE_MS" --eval-max-attempts "$MAX_ATTEMPTS" >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -sf "$base/livez" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || die "serve exited: $(tail -5 "$tmp/server.log")"
  sleep 0.1
done
curl -sf "$base/livez" >/dev/null || die "serve is not live: $(tail -5 "$tmp/server.log")"

# fresh_queue TAG: empties the eval tables (the fingerprints stay) and queues
# runs of SUITE for models TAG-1, TAG-2, ... until MAX_RATE x DURATION shards
# (and a margin) wait. Prints the number of shards queued.
fresh_queue() {
  sql "SET client_min_messages = warning; TRUNCATE eval_runs CASCADE" >/dev/null
  local want=$((MAX_RATE * DURATION * 11 / 10 + 1000)) queued=0 batch=0 reply status
  while [ "$queued" -lt "$want" ]; do
    batch=$((batch + 1))
    models="$(python3 -c 'import json,sys; print(json.dumps([f"{sys.argv[1]}-{sys.argv[2]}-{i}" for i in range(64)]))' "$1" "$batch")"
    status="$(curl -s -o "$tmp/queued.json" -w '%{http_code}' -X POST "$base/api/eval-runs" \
      -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
      -d "{\"models\": $models, \"suites\": [\"$SUITE\"], \"shard_size\": $SHARD_SIZE, \"determinism_check\": false}")"
    [ "$status" = 201 ] || die "queueing runs: $status $(head -c 300 "$tmp/queued.json")"
    queued=$((queued + $(python3 -c 'import json,sys; print(sum(r["shards"] for r in json.load(open(sys.argv[1]))["runs"]))' "$tmp/queued.json")))
  done
  sql "VACUUM ANALYZE eval_runs" >/dev/null
  sql "VACUUM ANALYZE eval_shards" >/dev/null
  echo "$queued"
}
done_shards() { sql "SELECT count(*) FROM eval_shards WHERE state = 'done'"; }

field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
record() { echo "$1" | tee -a "$RESULTS"; }

say "evals bench $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)); load $(cut -d' ' -f1-3 /proc/loadavg)"
say "runs $RUNS x ${DURATION}s, $WORKERS workers / pgbench clients, $SUITE in shards of $SHARD_SIZE document(s)"

# pgbench's fingerprint exists before its clients race to add it (the arena
# retries that race; a pgbench script cannot).
digest="$(printf 'pgbench' | sha256sum | cut -c1-64)"
sql "INSERT INTO model_fingerprints (digest, kind, fields) VALUES ('$digest', 'gguf', '{\"file\":\"bench.gguf\"}')" >/dev/null

for run in $(seq 1 "$RUNS"); do
  queued="$(fresh_queue "huashan-$run")"
  "$DRIVER" --url "$base" --key "$key" --threads "$WORKERS" --duration "$DURATION" --answers "$ANSWERS" \
    >"$tmp/driver.out" 2>&1 || die "huashan run $run: $(cat "$tmp/driver.out") (server: $(tail -3 "$tmp/server.log"))"
  json="$(sed -n 's/^BENCH //p' "$tmp/driver.out")"
  [ -n "$json" ] || die "huashan run $run: no BENCH line: $(cat "$tmp/driver.out")"
  shards="$(field "$json" shards)"
  stored="$(done_shards)"
  [ "$stored" -ge "$shards" ] || die "huashan run $run: $shards shards acknowledged, $stored stored done"
  # A run whose last shard completed was scored and stored before that reply.
  unscored="$(sql "SELECT count(*) FROM eval_runs r WHERE r.state <> 'done' AND NOT EXISTS
    (SELECT 1 FROM eval_shards s WHERE s.run_id = r.id AND s.state <> 'done')")"
  [ "$unscored" = 0 ] || die "huashan run $run: $unscored runs have every shard done but no results"
  runs_done="$(sql "SELECT count(*) FROM eval_runs WHERE state = 'done' AND results IS NOT NULL")"
  record "{\"test\": \"eval_queue\", \"server\": \"huashan\", \"run\": $run, \"queued\": $queued, \"runs_done\": $runs_done, ${json:1}"
  # The answer text the arena stored for a document: pgbench stores the same bytes.
  answer="$(sql "SELECT answer FROM eval_items ORDER BY run_id, doc_id LIMIT 1")"
  [ -n "$answer" ] || die "huashan run $run stored no items"
  sha="$(printf '%s' "$answer" | sha256sum | cut -c1-64)"

  queued="$(fresh_queue "pgbench-$run")"
  pgbench -n -M extended -c "$WORKERS" -j "$PGBENCH_THREADS" -T "$DURATION" -D lease_ms="$LEASE_MS" \
    -D max_attempts="$MAX_ATTEMPTS" -D answer="$answer" -D sha="$sha" -D digest="$digest" \
    -f "$PERF/eval_queue.sql" "$url" >"$tmp/pgbench.out" 2>&1 ||
    die "pgbench run $run failed: $(tail -5 "$tmp/pgbench.out")"
  tps="$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$tmp/pgbench.out" | head -1)"
  lat="$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$tmp/pgbench.out")"
  failed="$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$tmp/pgbench.out")"
  processed="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$tmp/pgbench.out")"
  [ -n "$tps" ] && [ "${failed:-0}" = 0 ] || die "pgbench run $run: failed transactions: $(cat "$tmp/pgbench.out")"
  stored="$(done_shards)"
  [ "$stored" -ge "$processed" ] || die "pgbench run $run: $processed transactions, $stored shards done"
  record "{\"test\": \"eval_queue\", \"server\": \"pgbench\", \"run\": $run, \"queued\": $queued, \"shards\": $processed, \"shards_per_s\": $tps, \"latency_avg_ms\": $lat}"
done
sql "SET client_min_messages = warning; TRUNCATE eval_runs CASCADE" >/dev/null
grep -v '^\s*$' "$tmp/server.log" | head -5 >&2 || true

# ---------------------------------------------------------------- medians and the table

python3 - "$RESULTS" "$WORKERS" "$DURATION" "$SUITE" "$SHARD_SIZE" <<'PY' | tee "$HUASHAN_BUILD/bench-evals.txt"
import json, statistics, sys
path, workers, duration, suite, shard_size = sys.argv[1:6]
rows = [json.loads(l) for l in open(path) if l.strip()]
def med(server, key):
    vals = [r[key] for r in rows if r["server"] == server and key in r]
    return statistics.median(vals) if vals else None
ours, base = med("huashan", "shards_per_s"), med("pgbench", "shards_per_s")
p50, p99, lat = med("huashan", "shard_p50_ms"), med("huashan", "shard_p99_ms"), med("pgbench", "latency_avg_ms")
ratio = ours / base if base else None
target = 0.5
with open(path, "a") as out:
    out.write(json.dumps({"test": "eval_queue", "median": True, "huashan_shards_per_s": ours, "huashan_p50_ms": p50,
                          "huashan_p99_ms": p99, "baseline": "pgbench", "baseline_shards_per_s": base,
                          "baseline_latency_avg_ms": lat, "ratio": ratio, "target": target}) + "\n")
status = "met" if ratio is not None and ratio >= target else "NOT met"
print("| test | huashan shards/s | claim-to-complete p50 / p99 ms | pgbench tps | pgbench avg ms | ratio | target |")
print("|---|---|---|---|---|---|---|")
print(f"| eval queue | {ours:.0f} | {p50:.1f} / {p99:.1f} | {base:.0f} | {lat:.1f} | {ratio:.2f}x | >= {target}x: {status} |")
print(f"(medians of the runs; {workers} workers / pgbench clients, {duration} s each, {suite} in shards of {shard_size})")
PY
