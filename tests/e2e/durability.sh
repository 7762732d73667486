#!/usr/bin/env bash
# The arena's durability promises with the real binary and real PostgreSQL:
#  (a) votes acknowledged during a burst, then `kill -9` of the server: after a
#      restart every acknowledged vote is stored, a retry gets the same reply,
#      another choice is 409, and the pair/outcome counts equal the counts
#      rebuilt from the votes;
#  (b) PostgreSQL stopped under a running server (a throwaway cluster made by
#      `HUASHAN_VAR=tmp ./dev db start`, never the shared one): /readyz is 503
#      and a vote is a 503 problem+json naming the database with Retry-After,
#      the leaderboard computed before is still served, the server stays up;
#      with PostgreSQL back /readyz is 200, votes succeed, nothing is lost.
# Two tiny synthetic models answer the battles; the vote delay is 0 here.
source "$(dirname "$0")/lib.sh"
HUASHAN="$1"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -z "$server_pid" ] || kill -9 "$server_pid" 2>/dev/null || true
  cleanup_throwaway_cluster
  cleanup_databases
  [ -z "${KEEP_WORK:-}" ] && rm -rf "$work" || echo "kept $work" >&2
}
trap cleanup EXIT

secret="$(printf '7%.0s' $(seq 64))"  # fixed: sessions outlive a server restart
synth_arena_models "$work" 3

# start_server URL: serves on a fresh port with the two models; sets server_pid and base.
start_server() {
  local port
  port="$(free_port)"
  "$HUASHAN" --log-level warn --database-url "$1" serve --port "$port" --models-dir "$work" --engine-threads 1 \
    --session-secret "$secret" --min-vote-delay-ms 0 --votes-per-session-minute 6000 \
    --votes-per-address-minute 60000 --leaderboard-interval 1 >>"$work/server.log" 2>&1 &
  server_pid=$!
  base="http://127.0.0.1:$port"
  for _ in $(seq 1 300); do
    curl -sf "$base/livez" >/dev/null 2>&1 && return 0
    kill -0 "$server_pid" 2>/dev/null || fail "serve exited: $(tail -5 "$work/server.log")"
    sleep 0.1
  done
  fail "serve did not answer /livez"
}

# new_battle N: a battle in its own session (cookie jar $work/jar.N), answered; prints its id.
new_battle() {
  local id
  id="$(answered_battle "$base" "$work/jar.$1" "Say hello, battle $1." "$work/stream.$1")"
  echo "$id" >"$work/id.$1"
}

# vote N CHOICE: POST the vote of battle N; writes the body to $work/vote.N, prints the status.
vote() {
  curl -s -o "$work/vote.$1" -w '%{http_code}' -b "$work/jar.$1" -X POST "$base/api/battles/$(cat "$work/id.$1")/vote" \
    -H 'Content-Type: application/json' -d "{\"vote\":\"$2\"}"
}

# ---------------------------------------------------------------- (a) kill -9

migrated_database
start_server "$url"
n=8
for i in $(seq 1 $n); do new_battle "$i"; done
# A burst of votes in parallel; the server is killed while they are in flight.
choices=(a b tie bothbad a b a tie)
for i in $(seq 1 $n); do
  (vote "$i" "${choices[$((i - 1))]}" >"$work/status.$i") &
done
# Kill as soon as the first acknowledgement arrives: the others are in flight.
for _ in $(seq 1 500); do
  grep -qs 200 "$work"/status.* && break
  sleep 0.01
done
kill -9 "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=""
wait
acked=0
for i in $(seq 1 $n); do
  status="$(cat "$work/status.$i")"
  if [ "$status" = 200 ]; then
    acked=$((acked + 1))
    grep -q '"recorded":true' "$work/vote.$i" || fail "acknowledged vote $i: $(cat "$work/vote.$i")"
  fi
done
[ "$acked" -ge 1 ] || fail "no vote was acknowledged before kill -9"
echo "(a) $acked of $n votes acknowledged before kill -9"

start_server "$url"
for i in $(seq 1 $n); do
  id="$(cat "$work/id.$i")"
  if [ "$(cat "$work/status.$i")" = 200 ]; then
    first="$(sed -n 's/.*"winner":"\([^"]*\)".*/\1/p' "$work/vote.$i")"
    stored="$(psql "$url" -tAc "SELECT winner FROM votes WHERE battle_id = '$id'")"
    [ "$stored" = "$first" ] || fail "acknowledged vote $i lost after kill -9 (stored '$stored', acknowledged '$first')"
    # A retry, now answered from the database (the restarted server holds no
    # battles): the same reply; another choice cannot change the vote.
    cp "$work/vote.$i" "$work/first.$i"
    status="$(vote "$i" "${choices[$((i - 1))]}")"
    [ "$status" = 200 ] || fail "retried vote $i after restart: $status $(cat "$work/vote.$i")"
    cmp -s "$work/vote.$i" "$work/first.$i" || fail "retried vote $i: $(cat "$work/vote.$i"), first $(cat "$work/first.$i")"
    other="$([ "${choices[$((i - 1))]}" = tie ] && echo a || echo tie)"
    status="$(vote "$i" "$other")"
    [ "$status" = 409 ] || fail "changed vote $i after restart: $status $(cat "$work/vote.$i")"
  else
    # Not acknowledged: it may or may not have committed; the same vote again
    # is stored now or replayed, either way acknowledged.
    status="$(vote "$i" "${choices[$((i - 1))]}")"
    [ "$status" = 200 ] || fail "vote $i after restart: $status $(cat "$work/vote.$i")"
  fi
done
[ "$(psql "$url" -tAc "SELECT count(*) FROM votes")" = "$n" ] || fail "expected $n votes after the restart"
counts_match "$url"
# Another session cannot vote on a stored battle: 404, as for an unknown id.
status="$(curl -s -o "$work/other" -w '%{http_code}' -X POST "$base/api/battles/$(cat "$work/id.1")/vote" \
  -H 'Content-Type: application/json' -d '{"vote":"a"}')"
[ "$status" = 404 ] || fail "another session's vote on a stored battle: $status $(cat "$work/other")"
kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
echo "(a) ok: every acknowledged vote survived kill -9; counts equal the votes"

# ---------------------------------------------------------------- (b) PostgreSQL restart

throwaway_cluster
rm -f "$work"/id.* "$work"/jar.* "$work"/vote.*
# libpqxx 6.4 drops a PGresult when a connection breaks mid-query (a leak in
# the library, on a path only a database restart takes): LeakSanitizer, in
# the ASan build, is told to ignore exactly that allocation.
echo "leak:PQmakeEmptyPGresult" >"$work/lsan.supp"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$work/lsan.supp"
start_server "$url"
for i in 1 2 3; do new_battle "$i"; done
[ "$(vote 1 a)" = 200 ] || fail "vote before the database restart: $(cat "$work/vote.1")"
# The board with that vote, served from memory through the outage.
for _ in $(seq 1 300); do
  [ "$(curl -s -o "$work/board" -w '%{http_code}' "$base/api/leaderboard")" = 200 ] && break
  sleep 0.1
done
grep -q '"vote_count":1' "$work/board" || fail "no leaderboard with the first vote: $(head -c 300 "$work/board")"

throwaway_pg stop >"$work/pg-stop.log" 2>&1 || fail "stopping the throwaway PostgreSQL: $(tail -3 "$work/pg-stop.log")"
for _ in $(seq 1 100); do
  [ "$(curl -s -o "$work/ready" -w '%{http_code}' "$base/readyz")" = 503 ] && break
  sleep 0.1
done
[ "$(curl -s -o "$work/ready" -w '%{http_code}' "$base/readyz")" = 503 ] || fail "/readyz with the database down: $(cat "$work/ready")"
grep -q '"reachable":false' "$work/ready" || fail "/readyz body with the database down: $(cat "$work/ready")"
headers="$(curl -s -D - -o "$work/vote.2" -b "$work/jar.2" -X POST "$base/api/battles/$(cat "$work/id.2")/vote" \
  -H 'Content-Type: application/json' -d '{"vote":"b"}')"
echo "$headers" | head -1 | grep -q " 503" || fail "vote with the database down: $(echo "$headers" | head -1) $(cat "$work/vote.2")"
echo "$headers" | grep -qi '^content-type: application/problem+json' || fail "503 vote is not problem+json: $headers"
grep -q '"status":503' "$work/vote.2" || fail "503 vote body: $(cat "$work/vote.2")"
grep -q 'database' "$work/vote.2" || fail "503 vote does not name the database: $(cat "$work/vote.2")"
echo "$headers" | grep -qi '^retry-after: [0-9]' || fail "503 vote without Retry-After: $headers"
[ "$(curl -s -o "$work/board.down" -w '%{http_code}' "$base/api/leaderboard")" = 200 ] ||
  fail "the cached leaderboard is not served with the database down: $(head -c 300 "$work/board.down")"
cmp -s "$work/board" "$work/board.down" || fail "the leaderboard changed with the database down"
curl -sf "$base/livez" >/dev/null || fail "the server died with the database down"
kill -0 "$server_pid" || fail "the server exited with the database down"

throwaway_pg start >/dev/null 2>&1 || fail "the throwaway PostgreSQL did not restart"
for _ in $(seq 1 100); do
  [ "$(curl -s -o "$work/ready" -w '%{http_code}' "$base/readyz")" = 200 ] && break
  sleep 0.1
done
[ "$(curl -s -o "$work/ready" -w '%{http_code}' "$base/readyz")" = 200 ] || fail "/readyz after the restart: $(cat "$work/ready")"
# Pooled connections from before the restart fail once each (503, nothing
# stored) and are replaced; the vote then goes through.
status=""
for _ in $(seq 1 20); do
  status="$(vote 2 b)"
  [ "$status" = 200 ] && break
  [ "$status" = 503 ] || fail "vote after the database restart: $status $(cat "$work/vote.2")"
done
[ "$status" = 200 ] || fail "votes still fail after the database restart: $(cat "$work/vote.2")"
grep -q '"recorded":true' "$work/vote.2" || fail "vote after the restart: $(cat "$work/vote.2")"
[ "$(vote 3 tie)" = 200 ] || fail "second vote after the restart: $(cat "$work/vote.3")"
[ "$(psql "$url" -tAc "SELECT count(*) FROM votes")" = 3 ] || fail "expected 3 votes after the database restart"
[ "$(psql "$url" -tAc "SELECT winner FROM votes WHERE battle_id = '$(cat "$work/id.1")'")" = model_a ] ||
  fail "the vote from before the database restart is gone"
counts_match "$url"
stop_gracefully "$server_pid"
server_pid=""
echo "e2e durability: ok"
