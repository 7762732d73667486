#!/usr/bin/env bash
# Retry storms on the vote endpoint, with the real binary and real PostgreSQL:
# BATTLES answered battles, each in its own session; every vote is then sent
# 1–5 times at once, and for a third of the battles another choice races
# them, all battles' requests interleaved on CONCURRENCY connections
# (tests/e2e/retry_storm.py). Must hold: no 5xx; per battle one stored vote,
# every 200 for it carries the same body and the stored choice, exactly one of
# them stored it (no Idempotent-Replayed header), every request with the other
# choice is 409; the pair/outcome counts equal the counts rebuilt from the
# votes. ROUNDS storms (a new seed each) run on the same server. Then the
# per-session vote limit over HTTP: a second server allowing 4 votes a minute
# (a burst of 2) takes two votes of one session and answers the next ones 429
# with Retry-After, and those votes are not stored.
source "$(dirname "$0")/lib.sh"
HUASHAN="$1"
BATTLES="${BATTLES:-24}"
ROUNDS="${ROUNDS:-2}"
CONCURRENCY="${CONCURRENCY:-32}"
e2e_workspace

synth_arena_models "$work" 5
migrated_database
start_serve arena "$work" --models-dir "$work" --engine-threads 1 --min-vote-delay-ms 0 \
  --votes-per-session-minute 6000 --votes-per-address-minute 600000 --battles-per-address-minute 600000 \
  --leaderboard-interval 3600
base="$(cat "$work/arena.base")"

for round in $(seq 1 "$ROUNDS"); do
  : >"$work/battles.$round"
  for i in $(seq 1 "$BATTLES"); do
    id="$(answered_battle "$base" "$work/jar.$round.$i" "Retry storm $round, battle $i." "$work/stream")"
    echo "$id $work/jar.$round.$i" >>"$work/battles.$round"
  done
  python3 "$(dirname "$0")/retry_storm.py" "$base" "$url" "$work/battles.$round" "$round" "$CONCURRENCY" ||
    fail "retry storm round $round"
done
[ "$(psql "$url" -tAc "SELECT count(*) FROM votes")" = $((BATTLES * ROUNDS)) ] ||
  fail "expected $((BATTLES * ROUNDS)) votes, one per battle"
counts_match "$url"
echo "retry storm: $ROUNDS rounds of $BATTLES battles, one vote each, no 5xx"

start_serve limited "$work" --models-dir "$work" --engine-threads 1 --min-vote-delay-ms 0 \
  --votes-per-session-minute 4 --leaderboard-interval 3600
limited="$(cat "$work/limited.base")"
ids=()
for i in 1 2 3 4; do ids+=("$(answered_battle "$limited" "$work/jar.limited" "Limited battle $i." "$work/stream")"); done
for i in 0 1 2 3; do
  status="$(curl -s -D "$work/limited.headers.$i" -o "$work/limited.vote.$i" -w '%{http_code}' -b "$work/jar.limited" \
    -X POST "$limited/api/battles/${ids[$i]}/vote" -H 'Content-Type: application/json' -d '{"vote":"a"}')"
  stored="$(psql "$url" -tAc "SELECT count(*) FROM votes WHERE battle_id = '${ids[$i]}'")"
  if [ "$i" -lt 2 ]; then
    [ "$status" = 200 ] && [ "$stored" = 1 ] || fail "vote $i within the limit: $status, stored $stored"
  else
    [ "$status" = 429 ] || fail "vote $i beyond the limit: $status $(cat "$work/limited.vote.$i")"
    grep -qi '^retry-after: [1-9]' "$work/limited.headers.$i" || fail "429 without Retry-After: $(cat "$work/limited.headers.$i")"
    [ "$stored" = 0 ] || fail "vote $i beyond the limit was stored"
  fi
done
counts_match "$url"
echo "vote limit: 2 of 4 votes taken, 2 answered 429 with Retry-After and not stored"
for pid in "${pids[@]}"; do stop_gracefully "$pid"; done
pids=()
