#!/usr/bin/env bash
# ./dev bench reliability: the long versions of the reliability tests
# (docs/reliability.md), each against the real binary and PostgreSQL:
#   kill rounds   ROUNDS (20) SIGKILLs each of serve, the postmaster and the
#                 leaderboard process while visitors vote;
#   retry storm   STORM_BATTLES (100) battles a round, STORM_ROUNDS (3), 64
#                 connections;
#   hostile API   WALK_COUNT (5000) requests generated from docs/api.yaml, then
#                 1,000 idle connections, 50 slowloris ones and 50 never-read
#                 streams held 35 s (past the 30 s request timeout) against the
#                 default limit of 1,024 connections, /livez timed.
# Each prints its figures; the first failure stops the run. The fuzzers' long
# version is `./dev fuzz all 600`.
# Environment: HUASHAN_BIN (set by ./dev bench), DATABASE_URL (default: ./dev db start).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BIN="${HUASHAN_BIN:?HUASHAN_BIN is the huashan binary to test}"
if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL="$("$ROOT/dev" db start | sed -n 's/^DATABASE_URL=//p')"
  export DATABASE_URL
fi
E2E="$ROOT/tests/e2e"
run() {  # NAME COMMAND...: runs it, timed
  local name="$1" started
  shift
  started=$(date +%s)
  echo "== $name"
  "$@"
  echo "== $name: passed in $(($(date +%s) - started)) s"
}
run "kill rounds" env ROUNDS="${ROUNDS:-20}" bash "$E2E/kill_rounds.sh" "$BIN"
run "retry storm" env BATTLES="${STORM_BATTLES:-100}" ROUNDS="${STORM_ROUNDS:-3}" CONCURRENCY=64 \
  bash "$E2E/retry_storm.sh" "$BIN"
run "hostile API" env COUNT="${WALK_COUNT:-5000}" SEED="${WALK_SEED:-7}" IDLE=1000 SLOW=50 STREAMS=50 HOLD=35 MAX_CONNECTIONS=1024 \
  bash "$E2E/hostile_api.sh" "$BIN"
