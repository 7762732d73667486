#!/usr/bin/env bash
# Evals as a service on one fresh database:
#   - two `huashan serve` processes and three `huashan worker` processes on
#     loopback work one queued run of huashan-sample (every request kind) in
#     shards; one worker is killed with SIGKILL mid-shard: its lease expires
#     (short, --eval-lease-ms) and another worker takes the shard; the run
#     completes with every item stored exactly once, and its results equal a
#     single-process `huashan eval` of the same suites in every metric;
#   - `huashan eval --publish` twice stores the run once; /api/evals (each row
#     naming the arena model of the same fingerprint), its CSV, samples and the
#     paired comparison answer;
#   - hostile input (unknown run or shard, a different second answer, a wrong
#     key, bad JSON, a huge body) gets a 4xx problem+json naming what is
#     wrong, and the stored rows are unchanged.
source "$(dirname "$0")/lib.sh"
HUASHAN="$1"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DATA="$ROOT/tests/data/datasets"
MODEL="$ROOT/tests/data/models/stories260K.gguf"
e2e_workspace

migrated_database
key="$("$HUASHAN" --database-url "$url" admin create-key --name e2e-evals 2>/dev/null)"
# Server a offers the model in its arena too: its fingerprint ties the arena
# model to the eval runs of the same weights.
mkdir -p "$work/no-models" "$work/arena-models"
cp "$MODEL" "$work/arena-models/story-arena.gguf"

start_server() {  # NAME MODELS_DIR
  start_serve "$1" "$work" --models-dir "$2" --suites-dir "$ROOT/benchmarks" --data-dir "$DATA" --eval-lease-ms 1500 \
    --eval-body-mb 2
}
start_server a "$work/arena-models"
start_server b "$work/no-models"
A="$(cat "$work/a.base")"
B="$(cat "$work/b.base")"
auth=(-H "Authorization: Bearer $key" -H 'Content-Type: application/json')
sql() { psql "$url" -XAtqc "$1"; }

# The reference: one process, no cache.
"$HUASHAN" eval --model "$MODEL" --suite huashan-sample --suites-dir "$ROOT/benchmarks" --data-dir "$DATA" \
  --threads 1 --no-cache --output "$work/ref" >/dev/null 2>"$work/ref.err" || fail "reference eval: $(tail -3 "$work/ref.err")"

# Queue through one server; workers spread over both.
status="$(curl -s -o "$work/queued.json" -w '%{http_code}' "${auth[@]}" -X POST "$A/api/eval-runs" \
  -d '{"models": ["tiny"], "suites": ["huashan-sample"], "shard_size": 4}')"
[ "$status" = 201 ] || fail "queueing: $status $(cat "$work/queued.json")"
run="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["runs"][0]["id"])' "$work/queued.json")"
items="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["runs"][0]["items"])' "$work/queued.json")"

start_worker() {
  "$HUASHAN" --log-level info worker --arena "$2" --key "$key" --name "$1" --model "tiny=$MODEL" \
    --suites-dir "$ROOT/benchmarks" --data-dir "$DATA" --threads 1 --poll-ms 100 >"$work/$1.out" 2>"$work/$1.log" &
  pids+=("$!")
  echo "$!" >"$work/$1.pid"
}
start_worker w1 "$A"
# w1 alone first, so it surely holds a shard when it is killed.
for _ in $(seq 1 300); do
  grep -q "worker w1: shard" "$work/w1.log" 2>/dev/null && break
  sleep 0.02
done
killed_shard="$(sed -n 's/.*worker w1: shard \([0-9]*\) of run.*/\1/p' "$work/w1.log" | tail -1)"
[ -n "$killed_shard" ] || fail "w1 took no shard: $(tail -3 "$work/w1.log")"
kill -9 "$(cat "$work/w1.pid")"
[ "$(sql "SELECT state FROM eval_shards WHERE id = $killed_shard")" != done ] || fail "w1 finished shard $killed_shard before the kill"
echo "killed w1 holding shard $killed_shard"
start_worker w2 "$A"
start_worker w3 "$B"

for _ in $(seq 1 600); do
  state="$(curl -s "$B/api/eval-runs/$run" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')"
  [ "$state" = done ] && break
  [ "$state" = failed ] && fail "run $run failed: $(curl -s "$B/api/eval-runs/$run")"
  sleep 0.2
done
[ "$state" = done ] || fail "run $run did not finish: $(curl -s "$B/api/eval-runs/$run")"

# The killed shard went to another worker once its lease expired.
read -r taker attempts <<<"$(sql "SELECT worker, attempts FROM eval_shards WHERE id = $killed_shard" | tr '|' ' ')"
[ "$taker" != w1 ] && [ "$attempts" -ge 2 ] || fail "shard $killed_shard: worker $taker after $attempts lease(s)"
echo "shard $killed_shard finished by $taker on lease $attempts"
# Every item exactly once.
[ "$(sql "SELECT count(*) FROM eval_items WHERE run_id = $run")" = "$items" ] || fail "stored items differ from $items"
[ "$(sql "SELECT count(DISTINCT (task, doc_id)) FROM eval_items WHERE run_id = $run")" = "$items" ] || fail "an item is stored twice"

# The same numbers as one process: every metric, group and prompt hash.
curl -sf "$A/api/evals/$run" >"$work/queued-results.json" || fail "no results for run $run"
python3 - "$work/queued-results.json" "$work/ref/results.json" <<'PY' || fail "the queued run's metrics differ from a single-process eval"
import json, sys
q = open(sys.argv[1]).read(); r = open(sys.argv[2]).read()
a, b = json.loads(q), json.loads(r)
for key in ("results", "groups", "n-samples", "task_prompts", "model_fingerprint", "configs", "versions"):
    if json.dumps(a.get(key), sort_keys=True) != json.dumps(b.get(key), sort_keys=True):
        sys.exit(f"{key} differs")
# Byte for byte: the text of the "results" block is the same.
block = lambda t: t[t.index('"results"'):t.index('"group_subtasks"')]
if block(q) != block(r): sys.exit("the results block's text differs")
PY
echo "queued run $run equals the single-process eval"

# Publishing: twice, stored once.
pub=("$HUASHAN" eval --model "$MODEL" --suite huashan-sample --suites-dir "$ROOT/benchmarks" --data-dir "$DATA"
     --threads 1 --cache-dir "$work/cache" --publish "$B" --key "$key" --publish-model tiny-published)
"${pub[@]}" >/dev/null 2>"$work/pub1.err" || fail "publish: $(tail -2 "$work/pub1.err")"
"${pub[@]}" >/dev/null 2>"$work/pub2.err" || fail "publish again: $(tail -2 "$work/pub2.err")"
grep -q "eval: published to $B/api/evals/" "$work/pub1.err" || fail "first publish: $(tail -1 "$work/pub1.err")"
grep -q "eval: already at $B/api/evals/" "$work/pub2.err" || fail "second publish stored again: $(tail -1 "$work/pub2.err")"
[ "$(sql "SELECT count(*) FROM eval_runs WHERE source = 'published'")" = 1 ] || fail "published runs stored more than once"
published="$(sql "SELECT id FROM eval_runs WHERE source = 'published'")"

curl -sf "$A/api/evals" | python3 -c '
import json, sys
rows = json.load(sys.stdin)["evals"]
models = {r["model"] for r in rows}
assert models == {"tiny", "tiny-published"}, models
acc = [r for r in rows if r["task"] == "huashan-sample_zh_mc" and r["metric"] == "acc"]
assert len(acc) == 2 and acc[0]["value"] == acc[1]["value"] and acc[0]["n"] == 32, acc
assert all(r["fingerprint"] and r["date"] for r in rows)
assert {r["arena_model"] for r in rows} == {"story-arena"}, "the arena model of the same weights"' || fail "GET /api/evals"
curl -sf "$A/api/evals.csv" | head -1 | grep -q '^model,task,is_group,metric,filter,value,stderr,n' || fail "GET /api/evals.csv"
[ "$(curl -sf "$A/api/evals/$run/samples?task=huashan-sample_zh_mc" | wc -l)" = 32 ] || fail "samples of zh_mc"
curl -sf "$A/api/evals/compare?a=$run&b=$published" | python3 -c '
import json, sys
c = json.load(sys.stdin)
t = [d for d in c["tasks"] if d["task"] == "huashan-sample_zh_mc" and d["metric"] == "acc"][0]
assert t["difference"] == 0 and t["n"] == 32, t' || fail "GET /api/evals/compare"

# Hostile input: 4xx problem+json naming the problem; nothing stored changes.
fingerprint() { sql "SELECT md5(string_agg(run_id || task || doc_id || answer_sha256, ',' ORDER BY run_id, task, doc_id)) FROM eval_items" ; sql "SELECT md5(string_agg(id || state || coalesce(results, ''), ',' ORDER BY id)) FROM eval_runs"; }
before="$(fingerprint)"
expect() {  # STATUS WORDS METHOD URL [curl args...]
  local want="$1" words="$2" method="$3" target="$4"
  shift 4
  local got
  got="$(curl -s -o "$work/reply" -D "$work/headers" -w '%{http_code}' -X "$method" "$target" "$@")"
  [ "$got" = "$want" ] || fail "$method $target: $got, expected $want: $(head -c 300 "$work/reply")"
  grep -qi '^content-type: application/problem+json' "$work/headers" || fail "$method $target: not problem+json"
  grep -q "$words" "$work/reply" || fail "$method $target: '$words' not in $(head -c 300 "$work/reply")"
}
token="$(sql "SELECT lease_token FROM eval_shards WHERE run_id = $run ORDER BY id LIMIT 1")"
shard="$(sql "SELECT id FROM eval_shards WHERE run_id = $run ORDER BY id LIMIT 1")"
read -r task doc <<<"$(sql "SELECT task, doc_id FROM eval_items WHERE shard_id = $shard ORDER BY doc_id LIMIT 1" | tr '|' ' ')"
fp='{"kind": "gguf", "gguf_sha256": "x"}'
stored_fp="$(curl -s "$A/api/evals/$run" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["model_fingerprint"]))')"
answers="$(sql "SELECT answer FROM eval_items WHERE run_id = $run AND task = '$task' AND doc_id = $doc")"
different="$(echo "$answers" | sed 's/"is_greedy":false/"is_greedy":true/; t; s/"is_greedy":true/"is_greedy":false/')"
expect 404 "no eval run 999999" GET "$A/api/eval-runs/999999"
expect 404 "no eval run 999999" GET "$A/api/evals/999999"
expect 404 "no eval shard 999999" POST "$A/api/eval-shards/999999/items" "${auth[@]}" \
  -d "{\"lease\": \"$token\", \"fingerprint\": $stored_fp, \"items\": []}"
expect 409 "different answer for task '$task' document $doc" POST "$A/api/eval-shards/$shard/items" "${auth[@]}" \
  -d "{\"lease\": \"$token\", \"fingerprint\": $stored_fp, \"items\": [{\"task\": \"$task\", \"doc_id\": $doc, \"answers\": $different}]}"
expect 409 "fingerprint" POST "$A/api/eval-shards/$shard/items" "${auth[@]}" \
  -d "{\"lease\": \"$token\", \"fingerprint\": $fp, \"items\": [{\"task\": \"$task\", \"doc_id\": $doc, \"answers\": $answers}]}"
expect 409 "not held with this lease" POST "$A/api/eval-shards/$shard/items" "${auth[@]}" \
  -d "{\"lease\": \"not-the-lease\", \"fingerprint\": $stored_fp, \"items\": []}"
expect 400 "outside shard $shard" POST "$A/api/eval-shards/$shard/items" "${auth[@]}" \
  -d "{\"lease\": \"$token\", \"fingerprint\": $stored_fp, \"items\": [{\"task\": \"$task\", \"doc_id\": 100000, \"answers\": []}]}"
expect 400 "has 0 answers" POST "$A/api/eval-shards/$shard/items" "${auth[@]}" \
  -d "{\"lease\": \"$token\", \"fingerprint\": $stored_fp, \"items\": [{\"task\": \"$task\", \"doc_id\": $doc, \"answers\": []}]}"
expect 401 "Bearer" POST "$A/api/eval-shards/$shard/items" -H "Authorization: Bearer hsk_wrong_key_0000000000" -d '{}'
expect 401 "Bearer" POST "$A/api/eval-runs" -d '{"models": ["x"], "suites": ["huashan-sample"]}'
expect 400 "not valid JSON" POST "$A/api/eval-runs" "${auth[@]}" -d '{"models": ['
expect 400 "field 'suites'" POST "$A/api/eval-runs" "${auth[@]}" -d '{"models": ["x"]}'
expect 400 "no-such-suite" POST "$A/api/eval-runs" "${auth[@]}" -d '{"models": ["x"], "suites": ["no-such-suite"]}'
expect 400 "field 'results_json'" POST "$A/api/evals" "${auth[@]}" -d '{"model": "m", "results_json": "[1, 2]"}'
head -c 3000000 /dev/zero | tr '\0' 'x' >"$work/huge"
expect 413 "exceeds 2097152 bytes" POST "$A/api/eval-shards/$shard/items" "${auth[@]}" --data-binary @"$work/huge"
expect 413 "exceeds" POST "$A/api/eval-runs" "${auth[@]}" --data-binary @"$work/huge"
[ "$(fingerprint)" = "$before" ] || fail "a refused request changed stored eval rows"
echo "hostile input refused; stored rows unchanged"
