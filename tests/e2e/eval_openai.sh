#!/usr/bin/env bash
# The same multiple-choice suites through the OpenAI-compatible client against
# `huashan serve`'s /v1/completions (echo + logprobs) and through the local
# engine: every request's log-likelihood agrees within 1e-4 and every task's
# accuracy is the same.
source "$(dirname "$0")/lib.sh"
HUASHAN="$1"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DATA="$ROOT/tests/data/datasets"
tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  cleanup_databases
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/models"
cp "$ROOT/tests/data/models/stories260K.gguf" "$tmp/models/"
SUITES=ceval-valid_logic,mmlu_world_religions,huashan-sample_en_mc,huashan-sample_zh_mc

fresh_database
"$HUASHAN" --database-url "$FRESH_URL" db migrate >/dev/null
port="$(free_port)"
"$HUASHAN" --database-url "$FRESH_URL" serve --port "$port" --models-dir "$tmp/models" >"$tmp/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 200); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || fail "serve not ready: $(tail -5 "$tmp/serve.log")"

common=(--suite "$SUITES" --suites-dir "$ROOT/benchmarks" --data-dir "$DATA" --limit 15 --no-cache)
"$HUASHAN" eval --model "$tmp/models/stories260K.gguf" "${common[@]}" --output "$tmp/local" >/dev/null 2>"$tmp/local.err" ||
  fail "local: $(tail -3 "$tmp/local.err")"
"$HUASHAN" eval --base-url "http://127.0.0.1:$port/v1" --model stories260K "${common[@]}" --concurrency 4 \
  --output "$tmp/remote" >/dev/null 2>"$tmp/remote.err" || fail "remote: $(tail -3 "$tmp/remote.err")"

python3 - "$tmp/local" "$tmp/remote" <<'PY' || fail "local and remote disagree"
import glob, json, os, sys
local, remote = sys.argv[1], sys.argv[2]
rl, rr = (json.load(open(f"{d}/results.json")) for d in (local, remote))
worst, n = 0.0, 0
for path in sorted(glob.glob(f"{local}/samples_*.jsonl")):
    name = os.path.basename(path)
    a = [json.loads(l) for l in open(path, encoding="utf-8")]
    b = [json.loads(l) for l in open(f"{remote}/{name}", encoding="utf-8")]
    assert len(a) == len(b) and a, name
    for x, y in zip(a, b):
        assert x["arguments"] == y["arguments"], f"{name} doc {x['doc_id']}: different requests"
        for rx, ry in zip(x["resps"], y["resps"]):
            d = abs(rx[0][0] - ry[0][0])
            worst = max(worst, d)
            n += 1
            if d > 1e-4:
                sys.exit(f"{name} doc {x['doc_id']}: local {rx[0][0]}, remote {ry[0][0]}")
for task, metrics in rl["results"].items():
    if metrics.get("acc,none") != rr["results"][task].get("acc,none"):
        sys.exit(f"{task}: acc local {metrics.get('acc,none')}, remote {rr['results'][task].get('acc,none')}")
print(f"{n} log-likelihoods: largest difference {worst:.2e}; accuracies equal")
PY
grep -q '"kind": "openai"' "$tmp/remote/results.json" || fail "the remote run's fingerprint is not the endpoint's"
stop_gracefully "$server_pid"
server_pid=""
echo "e2e eval_openai: ok"
