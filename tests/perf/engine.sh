#!/usr/bin/env bash
# ./dev bench engine: engine throughput beside llama.cpp's figures.
#
# Models: ../shared/data/models/stories260K.gguf, and a Qwen3-0.6B-shaped
# synthetic model (28 layers, dim 1024, 16/8 heads, head_dim 128, ffn 3072,
# vocab 151936, real Qwen3 tokenizer) in F16, Q8_0 and Q4_K written by
# `huashan model synth` into $HUASHAN_BUILD/bench-models (made once, never committed).
# For each: prompt (pp128) and generation (tg64) tokens/s at batch 1 and
# aggregate tokens/s at batch 16, median of RUNS runs (huashan_bench_engine,
# which also checks that batched greedy tokens equal the batch-1 ones).
#
# Environment: HUASHAN_BIN (release huashan), HUASHAN_BUILD (release build dir),
#   THREADS (default 2, as llama.cpp's figures), RUNS (default 3),
#   MODELS (default "stories f16 q8_0 q4_k"), BATCH (default 16),
#   HUASHAN_BENCH_QUICK=1: stories260K only, small sizes (a check that it runs).
# Results: one JSON line per measurement in $HUASHAN_BUILD/bench-engine.jsonl,
# then a table with llama.cpp's figures and ratios (docs/perf.md records them).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DATA="$ROOT/../shared/data"
: "${HUASHAN_BIN:?set HUASHAN_BIN to the release huashan binary}"
: "${HUASHAN_BUILD:?set HUASHAN_BUILD to the release build directory}"
DRIVER="$HUASHAN_BUILD/tests/perf/engine/huashan_bench_engine"
[ -x "$DRIVER" ] || { echo "engine.sh: $DRIVER not built (configure with -DHUASHAN_BENCHMARKS=ON)" >&2; exit 1; }
THREADS="${THREADS:-2}"
RUNS="${RUNS:-3}"
BATCH="${BATCH:-16}"
MODELS="${MODELS:-stories f16 q8_0 q4_k}"
PP=128
TG=64
if [ "${HUASHAN_BENCH_QUICK:-0}" = "1" ]; then
  MODELS=stories; RUNS=1; PP=32; TG=16; BATCH=4
fi
OUT_DIR="$HUASHAN_BUILD/bench-models"
mkdir -p "$OUT_DIR"
RESULTS="$HUASHAN_BUILD/bench-engine.jsonl"
: > "$RESULTS"

model_file() {
  case "$1" in
    stories) echo "$DATA/models/stories260K.gguf" ;;
    *)
      local f="$OUT_DIR/qwen3-0.6b-synth-$1.gguf"
      if [ ! -s "$f" ]; then
        echo "==> writing $f" >&2
        "$HUASHAN_BIN" model synth --arch qwen3 --layers 28 --dim 1024 --heads 16 --kv-heads 8 --head-dim 128 \
          --ffn 3072 --vocab 151936 --type "$1" --seed 0 --tokenizer-from "$DATA/tokenizers/qwen3/tokenizer.json" \
          -o "$f" >&2
      fi
      echo "$f" ;;
  esac
}

for m in $MODELS; do
  f="$(model_file "$m")"
  echo "==> $m: $f (threads $THREADS, runs $RUNS)" >&2
  "$DRIVER" "$f" --threads "$THREADS" --pp "$PP" --tg "$TG" --batch "$BATCH" --runs "$RUNS" | sed "s/^{/{\"key\": \"$m\", /" | tee -a "$RESULTS"
done

# llama.cpp figures from ../shared/data/golden/engine/README.md (2 vCPU EPYC, -t 2):
# llama-bench medians (pp128, tg64 from an empty context) and llama-batched-bench
# (Q8_0, PP 128, TG 64: S_TG 18.67 at B=1, 45.41 aggregate at B=16).
python3 - "$RESULTS" "$PP" "$TG" "$BATCH" <<'PY'
import json, sys
path, pp, tg, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
peer = {("stories", "pp"): 29195.50, ("stories", "tg"): 4449.96,
        ("f16", "pp"): 124.23, ("f16", "tg"): 11.26,
        ("q8_0", "pp"): 90.89, ("q8_0", "tg"): 20.86,
        ("q4_k", "pp"): 111.07, ("q4_k", "tg"): 28.14}
peer_batched = {"q8_0": (18.67, 45.41)}
rows = [json.loads(l) for l in open(path) if l.strip()]
def get(key, test, b, field="median_tps"):
    for r in rows:
        if r["key"] == key and r["test"] == test and r["batch"] == b:
            return r[field]
    return None
same_sizes = (pp, tg) == (128, 64)
fmt = lambda v: "-" if v is None else f"{v:.2f}"
ratio = lambda a, b: "-" if a is None or b is None or not same_sizes else f"{a / b:.2f}x"
print(f"| model | pp{pp} | llama.cpp | ratio | tg{tg} | llama.cpp | ratio | tg{tg}@pp{pp} b1 | b{batch} aggregate | b{batch}/b1 | llama.cpp b1 / b{batch} |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for key in dict.fromkeys(r["key"] for r in rows):
    p1, t1 = get(key, f"pp{pp}", 1), get(key, f"tg{tg}", 1)
    tb1, tbb = get(key, f"tg{tg}@pp{pp}", 1), get(key, f"tg{tg}@pp{pp}", batch)
    pp_peer, tg_peer = peer.get((key, "pp")), peer.get((key, "tg"))
    scale = "-" if tbb is None or not tb1 else f"{tbb / tb1:.2f}x"
    pb = peer_batched.get(key)
    pbs = "-" if pb is None else f"{pb[0]:.2f} / {pb[1]:.2f}"
    print(f"| {key} | {fmt(p1)} | {fmt(pp_peer)} | {ratio(p1, pp_peer)} | {fmt(t1)} | {fmt(tg_peer)} | {ratio(t1, tg_peer)} | {fmt(tb1)} | {fmt(tbb)} | {scale} | {pbs} |")
print()
print("CPU-normalised (tokens per CPU-second x threads; an idle-machine estimate when the machine is shared):")
for key in dict.fromkeys(r["key"] for r in rows):
    cells = [f"{t} b{b}: {fmt(get(key, t, b, 'median_cpu_tps'))}" for t, b in
             ((f"pp{pp}", 1), (f"tg{tg}", 1), (f"tg{tg}@pp{pp}", 1), (f"tg{tg}@pp{pp}", batch))]
    print(f"  {key}: " + ", ".join(cells))
PY
