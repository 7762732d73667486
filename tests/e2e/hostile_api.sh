#!/usr/bin/env bash
# Hostile clients against the real binary and PostgreSQL, on one server:
# 1. the schema-driven API walk (tests/e2e/api_walk.py): COUNT requests (200)
#    generated from docs/api.yaml for every route, with wrong types, missing
#    and extra fields, huge values, bad ids and Unicode edge cases. No 5xx;
#    every status documented; every JSON reply valid against its schema.
# 2. resource limits (tests/e2e/resource_limits.py): a 10 MB body, 100 KB of
#    headers, max_tokens 10^9, then IDLE idle connections, SLOW slowloris
#    ones and STREAMS never-read streams held HOLD seconds, /livez timed
#    throughout (p99 within LIVEZ_P99_MS, no probe refused). The server
#    allows MAX_CONNECTIONS (128) at once, fewer than the idle ones: each new
#    connection past the limit takes the place of the longest idle.
# The server must then still answer and stop cleanly. Longer versions:
# COUNT=5000 SEED=N for the walk; IDLE=1000 SLOW=50 STREAMS=50 HOLD=35
# MAX_CONNECTIONS=1024 (the default) for the limits (HOLD past the 30 s request timeout, so slowloris connections are
# seen closed).
source "$(dirname "$0")/lib.sh"
HUASHAN="$1"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
COUNT="${COUNT:-200}"
SEED="${SEED:-1}"
IDLE="${IDLE:-200}"
SLOW="${SLOW:-20}"
STREAMS="${STREAMS:-24}"  # more than the 16 handler threads
HOLD="${HOLD:-3}"
LIVEZ_P99_MS="${LIVEZ_P99_MS:-50}"
MAX_CONNECTIONS="${MAX_CONNECTIONS:-128}"
e2e_workspace

synth_arena_models "$work" 3
migrated_database
key="$("$HUASHAN" --database-url "$url" admin create-key --name api-walk 2>/dev/null)"
[ -n "$key" ] || fail "admin create-key printed no key"
start_serve walk "$work" --models-dir "$work" --engine-threads 1 --min-vote-delay-ms 0 \
  --votes-per-session-minute 600000 --votes-per-address-minute 600000 --battles-per-address-minute 600000 \
  --battles-per-session-minute 600000 --suites-dir "$ROOT/benchmarks" --data-dir "$ROOT/tests/data/datasets" \
  --leaderboard-interval 3600 --max-connections "$MAX_CONNECTIONS"
base="$(cat "$work/walk.base")"
serve_pid="${pids[-1]}"

python3 "$(dirname "$0")/api_walk.py" "$base" "$ROOT/docs/api.yaml" "$COUNT" "$SEED" "$key" ||
  fail "API walk (seed $SEED): see the failures above"

python3 "$(dirname "$0")/resource_limits.py" "$base" "$serve_pid" tiny-qwen3 "$IDLE" "$SLOW" "$STREAMS" "$HOLD" \
  >"$work/limits.json" || { cat "$work/limits.json"; fail "resource limits: see the failures above"; }
cat "$work/limits.json"
p99="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["livez"]["p99_ms"])' "$work/limits.json")"
python3 -c "import sys; sys.exit(0 if $p99 <= $LIVEZ_P99_MS else 1)" || fail "/livez p99 $p99 ms > $LIVEZ_P99_MS ms"

curl -sf "$base/livez" >/dev/null || fail "/livez does not answer afterwards"
for pid in "${pids[@]}"; do stop_gracefully "$pid"; done
pids=()
