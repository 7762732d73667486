#!/usr/bin/env bash
# ./dev bench harness: what the eval harness costs and what prefix reuse buys.
#
# The suite: 1,000 four-choice questions written here from a seeded generator
# (two-number arithmetic with distractors), five shots from a dev split
# (first_n), lm-evaluation-harness's MMLU-style prompt. The model: the
# Qwen3-0.6B-shaped synthetic Q8_0 file of ./dev bench engine (real Qwen3
# tokenizer), written once into $HUASHAN_BUILD/bench-models.
# Each round measures, one process each:
#   reuse on   huashan eval on all QUESTIONS (no cache): questions/s
#   reuse off  the same with --prefix-cache off on the first OFF_QUESTIONS
#              questions (the rate does not depend on the count; a smaller
#              count keeps the round short): questions/s
#   engine     huashan_bench_harness: the same (context, continuation) token
#              sequences, tokenized before the clock starts, submitted straight
#              to the engine in the harness's order: questions/s
# and the table reports medians over RUNS rounds, reuse on / reuse off (target
# >= 3) and harness / engine (target >= 0.9). Times are each process's own
# report of its scoring (model loading excluded on both sides).
#
# Environment: HUASHAN_BIN, HUASHAN_BUILD (release), THREADS (default 2),
#   RUNS (default 3), QUESTIONS (default 1000), OFF_QUESTIONS (default 20),
#   HUASHAN_BENCH_QUICK=1: stories260K, 100 questions, one round (a check that it runs).
# Results: $HUASHAN_BUILD/bench-harness.jsonl (one line per measurement, then a summary).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DATA="$ROOT/tests/data"
: "${HUASHAN_BIN:?set HUASHAN_BIN to the release huashan binary}"
: "${HUASHAN_BUILD:?set HUASHAN_BUILD to the release build directory}"
DRIVER="$HUASHAN_BUILD/tests/perf/harness/huashan_bench_harness"
[ -x "$DRIVER" ] || { echo "harness.sh: $DRIVER not built (configure with -DHUASHAN_BENCHMARKS=ON)" >&2; exit 1; }
THREADS="${THREADS:-2}"
RUNS="${RUNS:-3}"
QUESTIONS="${QUESTIONS:-1000}"
OFF_QUESTIONS="${OFF_QUESTIONS:-20}"
MODEL_DIR="$HUASHAN_BUILD/bench-models"
MODEL="$MODEL_DIR/qwen3-0.6b-synth-q8_0.gguf"
if [ "${HUASHAN_BENCH_QUICK:-0}" = "1" ]; then
  RUNS=1; QUESTIONS=100; OFF_QUESTIONS=20; MODEL="$DATA/models/stories260K.gguf"
fi
mkdir -p "$MODEL_DIR"
if [ ! -s "$MODEL" ]; then
  echo "==> writing $MODEL" >&2
  "$HUASHAN_BIN" model synth --arch qwen3 --layers 28 --dim 1024 --heads 16 --kv-heads 8 --head-dim 128 \
    --ffn 3072 --vocab 151936 --type q8_0 --seed 0 --tokenizer-from "$DATA/tokenizers/qwen3/tokenizer.json" \
    -o "$MODEL" >&2
fi
RESULTS="$HUASHAN_BUILD/bench-harness.jsonl"
: > "$RESULTS"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# ---- the suite
mkdir -p "$TMP/suites" "$TMP/data/arith"
python3 - "$TMP/data/arith" "$QUESTIONS" <<'PY'
import csv, random, sys
out, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(20261206)
def question():
    a, b = rnd.randint(10, 99), rnd.randint(10, 99)
    right = a + b
    wrong = rnd.sample([right + d for d in (-11, -10, -2, -1, 1, 2, 10, 11)], 3)
    choices = wrong + [right]
    rnd.shuffle(choices)
    return [f"A shop sells {a} red apples and {b} green apples on one day. How many apples does it sell that day?",
            *map(str, choices), "ABCD"[choices.index(right)]]
for split, count in (("dev", 5), ("test", n)):
    with open(f"{out}/{split}.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["question", "A", "B", "C", "D", "answer"])
        for _ in range(count):
            w.writerow(question())
PY
cat > "$TMP/suites/arith.yaml" <<'YAML'
task: bench_arith
dataset_path: arith
dataset_kwargs:
  data_files:
    test: test.csv
    dev: dev.csv
test_split: test
fewshot_split: dev
fewshot_config:
  sampler: first_n
num_fewshot: 5
output_type: multiple_choice
description: "The following are multiple choice questions (with answers) about arithmetic.\n\n"
doc_to_text: "{{question.strip()}}\nA. {{A}}\nB. {{B}}\nC. {{C}}\nD. {{D}}\nAnswer:"
doc_to_choice: ["A", "B", "C", "D"]
doc_to_target: "{{['A', 'B', 'C', 'D'].index(answer)}}"
metric_list:
  - metric: acc
metadata:
  version: 1.0
YAML

# ---- the rounds
eval_rate() {  # $1 mode, $2 round, $3 questions, extra flags...
  local mode="$1" round="$2" n="$3"
  shift 3
  "$HUASHAN_BIN" eval --model "$MODEL" --suite bench_arith --suites-dir "$TMP/suites" --data-dir "$TMP/data" \
    --no-cache --limit "$n" --threads "$THREADS" --output "$TMP/out-$mode" "$@" >/dev/null 2>"$TMP/eval.err" ||
    { cat "$TMP/eval.err" >&2; exit 1; }
  local seconds
  seconds="$(sed -n 's/.* computed, in \([0-9.]*\) s$/\1/p' "$TMP/eval.err" | tail -1)"
  [ -n "$seconds" ] || { echo "harness.sh: no timing in: $(tail -3 "$TMP/eval.err")" >&2; exit 1; }
  python3 -c "import json,sys; n,s=int(sys.argv[3]),float(sys.argv[4]); print(json.dumps({'mode': sys.argv[1], 'round': int(sys.argv[2]), 'questions': n, 'seconds': s, 'questions_per_s': n/s}))" \
    "$mode" "$round" "$n" "$seconds" | tee -a "$RESULTS"
}

for round in $(seq 1 "$RUNS"); do
  eval_rate reuse_on "$round" "$QUESTIONS"
  "$DRIVER" "$MODEL" "$TMP/out-reuse_on/samples_bench_arith.jsonl" --threads "$THREADS" |
    sed "s/^{/{\"mode\": \"engine\", \"round\": $round, /" | tee -a "$RESULTS"
  eval_rate reuse_off "$round" "$OFF_QUESTIONS" --prefix-cache off
done

python3 - "$RESULTS" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
med = {m: statistics.median(r["questions_per_s"] for r in rows if r["mode"] == m) for m in ("reuse_on", "reuse_off", "engine")}
summary = {"summary": True, **{f"{m}_questions_per_s": v for m, v in med.items()},
           "reuse_speedup": med["reuse_on"] / med["reuse_off"], "harness_over_engine": med["reuse_on"] / med["engine"]}
open(sys.argv[1], "a").write(json.dumps(summary) + "\n")
print()
print("| measurement | questions/s (median) |")
print("|---|---:|")
for m in ("reuse_on", "reuse_off", "engine"):
    print(f"| {m.replace('_', ' ')} | {med[m]:.2f} |")
print(f"\nprefix reuse: {summary['reuse_speedup']:.2f}x (target >= 3); harness / engine: {summary['harness_over_engine']:.3f} (target >= 0.9)")
PY
