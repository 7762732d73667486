#!/usr/bin/env bash
# Two `huashan serve` processes on one fresh database (the arena scaled out):
# votes cast through both; after each change of the votes exactly one process
# recomputes the leaderboards (the advisory lock), both then serve the same
# snapshot id, and the snapshots table never holds two snapshots of one
# variant for the same vote event. Each recompute logs
# "leaderboard: recomputed N variants ... by HOST:PID" in its server's stderr:
# the lines across both logs must match the recomputes stored, one each.
source "$(dirname "$0")/lib.sh"
HUASHAN="$1"
e2e_workspace

synth_arena_models "$work" 5
migrated_database

# start_server NAME: serves on a fresh port; base URL in $work/NAME.base, stderr in $work/NAME.log.
start_server() {
  start_serve "$1" "$work" --models-dir "$work" --engine-threads 1 --min-vote-delay-ms 0 --leaderboard-interval 0.5 \
    --leaderboard-bootstrap 20
}

# battle_and_vote SERVER N CHOICE: a battle in its own session on SERVER, its
# stream read to the end, then the vote.
battle_and_vote() {
  local base jar id status
  base="$(cat "$work/$1.base")"
  jar="$work/jar.$2"
  id="$(answered_battle "$base" "$jar" "Say hello, battle $2." "$work/stream.$2")"
  status="$(curl -s -o "$work/vote.$2" -w '%{http_code}' -b "$jar" -X POST "$base/api/battles/$id/vote" \
    -H 'Content-Type: application/json' -d "{\"vote\":\"$3\"}")"
  [ "$status" = 200 ] || fail "vote $2 on $1: $status $(cat "$work/vote.$2")"
}

json_int() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }

# wait_for_votes N: until both servers serve an overall board of N votes with
# the same snapshot id (at most 60 s); prints that id.
wait_for_votes() {
  local a b id_a id_b
  for _ in $(seq 1 600); do
    a="$(curl -s "$(cat "$work/one.base")/api/leaderboard")"
    b="$(curl -s "$(cat "$work/two.base")/api/leaderboard")"
    id_a="$(echo "$a" | json_int snapshot_id)"
    id_b="$(echo "$b" | json_int snapshot_id)"
    if [ "$(echo "$a" | json_int vote_count)" = "$1" ] && [ "$(echo "$b" | json_int vote_count)" = "$1" ] &&
       [ -n "$id_a" ] && [ "$id_a" = "$id_b" ]; then
      echo "$id_a"
      return 0
    fi
    sleep 0.1
  done
  fail "servers do not agree on a board of $1 votes: one: ${a:0:300} two: ${b:0:300}"
}

start_server one
start_server two

# Before any vote: 404 on both.
for s in one two; do
  code="$(curl -s -o /dev/null -w '%{http_code}' "$(cat "$work/$s.base")/api/leaderboard")"
  [ "$code" = 404 ] || fail "board before any vote on $s: $code"
done

battle_and_vote one 1 a
battle_and_vote two 2 b
first="$(wait_for_votes 2)"
battle_and_vote two 3 tie
battle_and_vote one 4 a
second="$(wait_for_votes 4)"
[ "$second" -gt "$first" ] || fail "snapshot ids did not advance: $first then $second"

# The same snapshot by id from either server.
by_one="$(curl -s "$(cat "$work/one.base")/api/leaderboard/$second")"
by_two="$(curl -s "$(cat "$work/two.base")/api/leaderboard/$second")"
[ "$by_one" = "$by_two" ] || fail "snapshot $second differs between the servers"
curl -s "$(cat "$work/one.base")/api/leaderboard.csv" | head -1 | grep -qx 'rank,model,rating,ci_lo,ci_hi,rank_ub,votes' ||
  fail "CSV header"

# Let a few more check intervals pass: nothing new may be written without new votes.
before="$(psql "$url" -tAc "SELECT count(*) FROM leaderboard_snapshots")"
sleep 2
after="$(psql "$url" -tAc "SELECT count(*) FROM leaderboard_snapshots")"
[ "$before" = "$after" ] || fail "snapshots written without new votes: $before then $after"

# Never two snapshots of one variant for the same vote event, never two writers for one event.
dup="$(psql "$url" -tAc "SELECT count(*) FROM (SELECT 1 FROM leaderboard_snapshots
        GROUP BY category, language, style_control, last_vote_event HAVING count(*) > 1) d")"
[ "$dup" = 0 ] || fail "$dup variants were stored twice for one vote event"
writers="$(psql "$url" -tAc "SELECT count(*) FROM (SELECT 1 FROM leaderboard_snapshots
        GROUP BY last_vote_event HAVING count(DISTINCT computed_by) > 1) d")"
[ "$writers" = 0 ] || fail "$writers vote events were recomputed by two processes"

# One log line per stored recompute, each in the log of the process the table names
# (a recompute stores the overall plain board first, then the rest together,
# the overall style-controlled board among them).
recomputes="$(psql "$url" -tAc "SELECT count(*) FROM leaderboard_snapshots WHERE category = '' AND language = ''
        AND style_control")"
lines="$(cat "$work/one.log" "$work/two.log" | grep -c 'leaderboard: recomputed' || true)"
[ "$lines" = "$recomputes" ] || fail "$lines recompute log lines for $recomputes stored recomputes"
while read -r by; do
  pid="${by##*:}"
  owner=""
  for s in one two; do
    grep -q "leaderboard: recomputed .* by $by)" "$work/$s.log" && owner="$owner $s"
  done
  [ "$(echo $owner | wc -w)" = 1 ] || fail "recomputes by $by (pid $pid) are logged by:$owner"
done < <(psql "$url" -tAc "SELECT DISTINCT computed_by FROM leaderboard_snapshots")
echo "e2e two_servers: ok ($recomputes recomputes; one: $(grep -c 'leaderboard: recomputed' "$work/one.log" || true), two: $(grep -c 'leaderboard: recomputed' "$work/two.log" || true))"
