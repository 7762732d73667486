#!/usr/bin/env bash
# Anyone can recompute the live boards (docs/arena.md, "Exports"): votes cast
# through the real server, GET /api/battles.csv downloaded and ranked with
# `huashan rank` using the flags the snapshot's `parameters` name gives every
# model's rating of /api/leaderboard within 1e-6 (plain and style-controlled);
# `huashan db export-battles` writes the same bytes. Then, after more votes
# and a flag, `huashan db recompute-snapshot` reproduces every stored snapshot
# byte for byte (exit 0), names an unknown id (exit 1) and reports an altered
# body with where it differs (exit 1).
source "$(dirname "$0")/lib.sh"
HUASHAN="$1"
work="$(mktemp -d)"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  cleanup_databases
  [ -z "${KEEP_WORK:-}" ] && rm -rf "$work" || echo "kept $work" >&2
}
trap cleanup EXIT

for m in "qwen3 5 a" "qwen2 5 b" "qwen3 9 c"; do
  set -- $m
  "$HUASHAN" model synth --arch "$1" --layers 1 --dim 64 --heads 2 --kv-heads 1 --ffn 128 --type q8_0 \
    --seed "$2" --threads 1 -o "$work/tiny-$3.gguf" >/dev/null
done
migrated_database

port="$(free_port)"
base="http://127.0.0.1:$port"
"$HUASHAN" --database-url "$url" serve --port "$port" --models-dir "$work" --engine-threads 1 \
  --min-vote-delay-ms 0 --leaderboard-interval 0.3 --leaderboard-bootstrap 20 --leaderboard-seed 7 \
  >"$work/serve.out" 2>"$work/serve.log" &
pid=$!
for _ in $(seq 1 300); do
  curl -sf "$base/livez" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || fail "serve exited: $(tail -5 "$work/serve.log")"
  sleep 0.1
done

choices=(a b tie bothbad a b a)
vote() {  # vote N: a battle in its own session, answered, then voted on
  local jar="$work/jar.$1" id status
  id="$(answered_battle "$base" "$jar" "Say hello, battle $1." "$work/stream.$1")"
  status="$(curl -s -o "$work/vote.$1" -w '%{http_code}' -b "$jar" -X POST "$base/api/battles/$id/vote" \
    -H 'Content-Type: application/json' -d "{\"vote\":\"${choices[$(($1 % 7))]}\"}")"
  [ "$status" = 200 ] || fail "vote $1: $status $(cat "$work/vote.$1")"
  echo "$id"
}
# wait_for_board N: until both overall boards count N votes as of the current
# vote event (a board of N votes may also have been served on the way there).
wait_for_board() {
  local event
  event="$(psql "$url" -tAc "SELECT last_value FROM vote_events")"
  for _ in $(seq 1 400); do
    if curl -s "$base/api/leaderboard" | grep -q "\"vote_count\":$1,.*\"last_vote_event\":$event," &&
       curl -s "$base/api/leaderboard?style=true" | grep -q "\"vote_count\":$1,.*\"last_vote_event\":$event,"; then
      return 0
    fi
    sleep 0.1
  done
  fail "no board of $1 votes: $(curl -s "$base/api/leaderboard" | head -c 300)"
}

# round_trip TAG: export, rank with the snapshot's parameters, compare every rating.
round_trip() {
  curl -s "$base/api/leaderboard" >"$work/$1.plain.json"
  curl -s "$base/api/leaderboard?style=true" >"$work/$1.style.json"
  status="$(curl -s -o "$work/$1.http.csv" -D "$work/$1.headers" -w '%{http_code}' "$base/api/battles.csv")"
  [ "$status" = 200 ] || fail "GET /api/battles.csv: $status"
  grep -qi '^content-type: text/csv' "$work/$1.headers" || fail "battles.csv content type: $(cat "$work/$1.headers")"
  head -1 "$work/$1.http.csv" | grep -qx \
    'model_a,model_b,winner,tstamp,language,category,sampling_probability,len_a,len_b,header_a,header_b,list_a,list_b,bold_a,bold_b' ||
    fail "battles.csv header: $(head -1 "$work/$1.http.csv")"
  "$HUASHAN" --database-url "$url" db export-battles -o "$work/$1.cli.csv"
  cmp "$work/$1.http.csv" "$work/$1.cli.csv" || fail "db export-battles -o differs from GET /api/battles.csv"
  "$HUASHAN" --database-url "$url" db export-battles | cmp - "$work/$1.http.csv" ||
    fail "db export-battles to stdout differs from GET /api/battles.csv"
  for board in plain style; do
    flags="$(python3 - "$work/$1.$board.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))["parameters"]
f = ["--bootstrap", str(p["bootstrap_rounds"]), "--seed", str(p["seed"]), "--ties", p["tie_model"]]
if p["bootstrap_rounds"] == 0: f += ["--intervals", "sandwich"]
if p["style_control"]: f += ["--style-control", "--style-penalty", p["style_penalty"]]
if p["reweight"]: f.append("--reweight")
if p["inverse_propensity"]: f.append("--ipw")
assert p["category"] is None and p["language"] is None
print(" ".join(f))
PY
)"
    # shellcheck disable=SC2086
    "$HUASHAN" rank "$work/$1.http.csv" --format json --threads 1 $flags >"$work/$1.$board.rank.json" ||
      fail "huashan rank $flags failed"
    python3 - "$work/$1.$board.json" "$work/$1.$board.rank.json" "$1 $board" <<'PY' || fail "round trip $1 $board"
import json, sys
board = json.load(open(sys.argv[1]))
live = {r["model"]: r["rating"] for r in board["rows"]}
ranked_rows = json.load(open(sys.argv[2]))["ratings"]
ranked = {r["model"]: r["rating"] for r in ranked_rows}
if set(live) != set(ranked) or len(live) < 3:
    sys.exit(f"models differ: live {sorted(live)}, rank {sorted(ranked)}")
diff = max(abs(live[m] - ranked[m]) for m in live)
print(f"round trip {sys.argv[3]}: {len(live)} models, max |rating difference| {diff:.3g}")
if diff > 1e-6:
    sys.exit(f"ratings differ by {diff}: live {live}, rank {ranked}")
# Sandwich intervals (the style boards' default) are deterministic: the same bounds.
if board["parameters"]["bootstrap_rounds"] == 0:
    if "style" in sys.argv[3] and board["interval_method"] != "sandwich":
        sys.exit(f"the style board's intervals are {board['interval_method']}, expected sandwich")
    bounds = {r["model"]: (r["ci_lo"], r["ci_hi"]) for r in ranked_rows}
    worst = max(abs(a - b) for r in board["rows"] for a, b in zip((r["ci_lo"], r["ci_hi"]), bounds[r["model"]]))
    if worst > 1e-6:
        sys.exit(f"sandwich bounds differ by {worst}")
PY
  done
}

n=16
ids=()
for k in $(seq 1 $n); do ids+=("$(vote "$k")"); done
wait_for_board "$n"
round_trip first
first="$(curl -s "$base/api/leaderboard" | sed -n 's/.*"snapshot_id":\([0-9]*\).*/\1/p')"
[ -n "$first" ] || fail "no snapshot id"

# Later: more votes, and a counted battle flagged the way arena_store::flag_battle
# does it (the server has no route that flags a voted battle; the db test
# `test_snapshot_recompute` drives flag_battle itself).
for k in $(seq $((n + 1)) $((n + 3))); do vote "$k" >/dev/null; done
psql "$url" -qtAc "BEGIN;
  UPDATE pair_outcome_counts c SET votes = votes - 1 FROM battles t, votes v
   WHERE t.id = '${ids[2]}' AND v.battle_id = t.id AND c.model_a_id = t.model_a_id AND c.model_b_id = t.model_b_id
     AND c.category = coalesce(t.category, '') AND c.language = coalesce(t.language, '') AND c.winner = v.winner;
  UPDATE battles SET flagged = true, flag_reason = 'test', flagged_event = nextval('vote_events') WHERE id = '${ids[2]}';
  COMMIT;" >/dev/null
wait_for_board $((n + 2))
round_trip second

# Every stored snapshot, old and new, recomputes to the same bytes.
count="$(psql "$url" -tAc "SELECT count(*) FROM leaderboard_snapshots")"
[ "$count" -ge 4 ] || fail "only $count snapshots stored"
for id in $(psql "$url" -tAc "SELECT id FROM leaderboard_snapshots ORDER BY id"); do
  out="$("$HUASHAN" --database-url "$url" db recompute-snapshot "$id")" || fail "recompute-snapshot $id: $out"
  echo "$out" | grep -q "^snapshot $id: identical" || fail "recompute-snapshot $id said: $out"
done
set +e
err="$("$HUASHAN" --database-url "$url" db recompute-snapshot 999999 2>&1)"
rc=$?
set -e
[ $rc = 1 ] || fail "recompute-snapshot of an unknown id exited $rc"
echo "$err" | grep -q "no leaderboard snapshot 999999" || fail "unknown id message: $err"

psql "$url" -qc "UPDATE leaderboard_snapshots SET body = jsonb_set(body, '{rows,0,votes}', '4321') WHERE id = $first"
set +e
out="$("$HUASHAN" --database-url "$url" db recompute-snapshot "$first")"
rc=$?
set -e
[ $rc = 1 ] || fail "recompute-snapshot of an altered body exited $rc: $out"
echo "$out" | grep -q "snapshot $first: different" || fail "altered body not reported: $out"
echo "$out" | grep -q "body differs at byte .*4321" || fail "altered body's place not named: $out"
echo "e2e battle_export: ok ($count snapshots reproduced)"
