#!/usr/bin/env bash
# A killed eval resumes; bad input fails clearly and loses nothing cached.
#   - `kill -9` of a running `huashan eval`, then the same command: it finishes,
#     asks the model none of the requests already in the cache (the count it
#     prints equals the cache's lines at the kill), and writes the same
#     results.json as an uninterrupted run (its date aside); a third run asks nothing.
#   - a suite with an unknown key, a record missing a field, a template that
#     does not parse, a dataset path that does not exist, a chat-only endpoint
#     asked for log-likelihoods: exit 1 with one line naming file, line or
#     field, and the cache file is byte for byte what it was.
source "$(dirname "$0")/lib.sh"
HUASHAN="$1"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DATA="$ROOT/tests/data/datasets"
MODEL="$ROOT/tests/data/models/stories260K.gguf"
tmp="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
SUITES=mmlu_high_school_mathematics,cmmlu_chinese_history
eval_cmd=("$HUASHAN" eval --model "$MODEL" --suite "$SUITES" --suites-dir "$ROOT/benchmarks" --data-dir "$DATA"
          --batch-size 16 --threads 1)

strip_date() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r.pop("date"); print(json.dumps(r, sort_keys=True))' "$1"; }

# The reference: one uninterrupted run.
"${eval_cmd[@]}" --cache-dir "$tmp/cache-ref" --output "$tmp/ref" >/dev/null 2>"$tmp/ref.err" || fail "reference run: $(tail -3 "$tmp/ref.err")"
unique="$(sed -n 's/^eval: [0-9]* requests, \([0-9]*\) unique.*/\1/p' "$tmp/ref.err")"
[ -n "$unique" ] && [ "$unique" -gt 1000 ] || fail "reference run: $(tail -2 "$tmp/ref.err")"

# Killed once some answers are cached and before all are.
"${eval_cmd[@]}" --cache-dir "$tmp/cache" --output "$tmp/run" >/dev/null 2>"$tmp/killed.err" &
pid=$!
pids+=("$pid")
cache_file=""
for _ in $(seq 1 600); do
  cache_file="$(ls "$tmp"/cache/*.jsonl 2>/dev/null | head -1 || true)"
  if [ -n "$cache_file" ] && [ "$(wc -l <"$cache_file")" -ge 200 ]; then break; fi
  kill -0 "$pid" 2>/dev/null || fail "the eval ended before it could be killed: $(tail -2 "$tmp/killed.err")"
  sleep 0.05
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
lines="$(wc -l <"$cache_file")"
[ "$lines" -lt "$unique" ] || fail "killed too late: $lines of $unique answers cached"
[ ! -e "$tmp/run/results.json" ] || fail "a killed run wrote results"
echo "killed with $lines of $unique answers cached"

"${eval_cmd[@]}" --cache-dir "$tmp/cache" --output "$tmp/run" >/dev/null 2>"$tmp/resumed.err" || fail "resumed run: $(tail -3 "$tmp/resumed.err")"
summary="$(grep '^eval: .* computed' "$tmp/resumed.err")"
echo "resumed: $summary"
[[ "$summary" == *" $lines from the cache, $((unique - lines)) computed"* ]] || fail "resumed run recomputed cached requests: $summary"
[ "$(strip_date "$tmp/run/results.json")" = "$(strip_date "$tmp/ref/results.json")" ] || fail "resumed results differ from the uninterrupted run's"
for f in "$tmp"/ref/samples_*.jsonl; do
  cmp -s "$f" "$tmp/run/$(basename "$f")" || fail "$(basename "$f") differs from the uninterrupted run's"
done

"${eval_cmd[@]}" --cache-dir "$tmp/cache" --output "$tmp/again" >/dev/null 2>"$tmp/again.err" || fail "third run: $(tail -3 "$tmp/again.err")"
grep -q " $unique from the cache, 0 computed" "$tmp/again.err" || fail "an unchanged rerun computed: $(tail -1 "$tmp/again.err")"

# ---- bad input: one clear line, exit 1, the cache untouched
before="$(sha256sum "$cache_file")"
mkdir -p "$tmp/bad/data"
printf '{"q": "2+2?", "choices": ["3", "4"], "gold": 1}\n{"choices": ["a", "b"], "gold": 0}\n' >"$tmp/bad/data/docs.jsonl"
good_yaml() {
  local text="${2:-}"
  [ -n "$text" ] || text='Q: {{q}}\nA:'
  cat <<YAML
task: $1
dataset_path: json
dataset_kwargs:
  data_files:
    test: data/docs.jsonl
test_split: test
output_type: multiple_choice
doc_to_text: "$text"
doc_to_choice: choices
doc_to_target: gold
YAML
}
expect_error() {  # NAME PATTERN eval-args...
  local name="$1" pattern="$2"
  shift 2
  local out status=0
  out="$("$HUASHAN" eval --cache-dir "$tmp/cache" "$@" 2>&1 >/dev/null)" || status=$?
  [ "$status" = 1 ] || fail "$name: exit $status, expected 1: $out"
  grep -qE -- "$pattern" <<<"$out" || fail "$name: the error does not name what is wrong: $out"
  [ "$(grep -c 'error' <<<"$out")" = 1 ] || fail "$name: expected one error line: $out"
  echo "$name: $out"
}
{ good_yaml unknown_key; echo "doc_to_txet: x"; } >"$tmp/bad/unknown_key.yaml"
expect_error "unknown key" "unknown_key\.yaml:[0-9]+.*doc_to_txet" --model "$MODEL" --suite "$tmp/bad/unknown_key.yaml"
good_yaml missing_field >"$tmp/bad/missing_field.yaml"
expect_error "missing field" "missing_field.*(document|doc).*1.*q" --model "$MODEL" --suite "$tmp/bad/missing_field.yaml"
good_yaml bad_template 'Q: {{ q }\\nA:' >"$tmp/bad/bad_template.yaml"
expect_error "template error" "bad_template.*:[0-9]+:[0-9]+" --model "$MODEL" --suite "$tmp/bad/bad_template.yaml"
sed 's|data/docs.jsonl|data/nowhere.jsonl|' "$tmp/bad/missing_field.yaml" | sed 's/task: missing_field/task: no_data/' >"$tmp/bad/no_data.yaml"
expect_error "missing dataset" "nowhere\.jsonl" --model "$MODEL" --suite "$tmp/bad/no_data.yaml"

# A chat-only endpoint (chat completions, no /v1/completions) asked for log-likelihoods.
port="$(free_port)"
python3 - "$port" >"$tmp/chat_only.log" 2>&1 <<'PY' &
import http.server, json, sys
class Chat(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path.endswith("/chat/completions"):
            body = json.dumps({"id": "x", "object": "chat.completion", "model": "m",
                               "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]})
            code = 200
        else:
            body, code = json.dumps({"error": {"message": "Not found", "type": "invalid_request_error"}}), 404
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Chat).serve_forever()
PY
pids+=("$!")
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.05; done
expect_error "chat-only endpoint" "log-probabilit" --suite mmlu_world_religions --suites-dir "$ROOT/benchmarks" \
  --data-dir "$DATA" --limit 2 --base-url "http://127.0.0.1:$port/v1" --model chat-only

[ "$(sha256sum "$cache_file")" = "$before" ] || fail "a failed run changed the cache"
echo "e2e eval_resume: ok"
