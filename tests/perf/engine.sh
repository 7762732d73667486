#!/usr/bin/env bash
# ./dev bench engine: engine throughput, and llama.cpp's measured beside it.
#
# Models: tests/data/models/stories260K.gguf, and a Qwen3-0.6B-shaped
# synthetic model (28 layers, dim 1024, 16/8 heads, head_dim 128, ffn 3072,
# vocab 151936, real Qwen3 tokenizer) in F16, Q8_0 and Q4_K written by
# `huashan model synth` into $HUASHAN_BUILD/bench-models (made once, never committed).
# For each: prompt (ppPP) and generation (tgTG) tokens/s at batch 1 and
# aggregate tokens/s at batch BATCH, median of RUNS rounds (huashan_bench_engine,
# one process per round, which also checks that batched greedy tokens equal the
# batch-1 ones).
#
# The peer (optional): with LLAMA_BENCH=/path/to/llama-bench and/or
# LLAMA_BATCHED_BENCH=/path/to/llama-batched-bench, each round runs ours, then
# llama-bench (-p PP -n TG -t THREADS -r 1), then llama-batched-bench
# (-npp PP -ntg TG -npl 1,BATCH,1 -t THREADS) on the same model file, so a slow
# spell of this shared machine falls on both sides alike; the ratios (ours /
# llama.cpp, above 1 = we are faster) come from this run's medians only.
# Without them: our figures alone, no ratio.
#
# Environment: HUASHAN_BIN (release huashan), HUASHAN_BUILD (release build dir),
#   THREADS (default 2), RUNS (default 3), MODELS (default "stories f16 q8_0 q4_k"),
#   BATCH (default 16), LLAMA_BENCH, LLAMA_BATCHED_BENCH (see above),
#   HUASHAN_BENCH_QUICK=1: stories260K only, small sizes, one round (a check that it runs).
# Results: $HUASHAN_BUILD/bench-engine.jsonl: a "meta" line (CPU, flags, builds),
# one line per measurement per round and side ("side": "huashan" | "llama.cpp"),
# then "summary" lines (medians, and ratios where the peer ran); then a table.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DATA="$ROOT/tests/data"
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
LLAMA_BENCH="${LLAMA_BENCH:-}"
LLAMA_BATCHED_BENCH="${LLAMA_BATCHED_BENCH:-}"
for peer in "$LLAMA_BENCH" "$LLAMA_BATCHED_BENCH"; do
  [ -z "$peer" ] || [ -x "$peer" ] || { echo "engine.sh: $peer is not an executable" >&2; exit 1; }
done
OUT_DIR="$HUASHAN_BUILD/bench-models"
mkdir -p "$OUT_DIR"
RESULTS="$HUASHAN_BUILD/bench-engine.jsonl"
: > "$RESULTS"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

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

# ---- the header: this machine, both builds (one "meta" line in the JSONL)
CPU_MODEL="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
CPU_FLAGS="$(lscpu 2>/dev/null | sed -n 's/^Flags:[[:space:]]*//p' | head -1)"
[ -n "$CPU_FLAGS" ] || CPU_FLAGS="$(sed -n 's/^flags[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -1)"
HUASHAN_COMMIT="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
PEER_VERSION=""
if [ -n "$LLAMA_BATCHED_BENCH" ]; then
  # llama-batched-bench --version: "version: N (commit)" and "built with CC for TARGET"
  PEER_VERSION="$("$LLAMA_BATCHED_BENCH" --version 2>&1 | grep -E '^(version|built with)' | paste -sd ',' - | sed 's/,/, /g' || true)"
fi
BB_JSONL=0
if [ -n "$LLAMA_BATCHED_BENCH" ]; then
  BB_HELP="$("$LLAMA_BATCHED_BENCH" --help 2>&1 || true)"
  [[ "$BB_HELP" != *"md,jsonl"* ]] || BB_JSONL=1  # --output-format jsonl; otherwise its markdown table is parsed
fi
python3 - "$RESULTS" "$CPU_MODEL" "$CPU_FLAGS" "$THREADS" "$RUNS" "$PP" "$TG" "$BATCH" "$HUASHAN_COMMIT" \
  "$PEER_VERSION" "${LLAMA_BENCH:+llama-bench}" "${LLAMA_BATCHED_BENCH:+llama-batched-bench}" <<'PY'
import json, sys
path, cpu, flags, threads, runs, pp, tg, batch, commit, peer_version, lb, lbb = sys.argv[1:13]
flags = set(flags.split())
meta = {"meta": True, "cpu": cpu, "flags": {f: f in flags for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni")},
        "threads": int(threads), "runs": int(runs), "pp": int(pp), "tg": int(tg), "batch": int(batch),
        "huashan_commit": commit, "peer_tools": [t for t in (lb, lbb) if t], "llama_cpp_version": peer_version}
open(path, "a").write(json.dumps(meta) + "\n")
PY

# ---- one round of each side; every line tagged with key, side and round
PEER_FAILED=0
peer_failed() {  # $1 tool, $2 key, $3 round, $4 log
  PEER_FAILED=1
  echo "engine.sh: $1 failed on $2 (round $3); its last lines:" >&2
  tail -n 15 "$4" | sed 's/^/    /' >&2
  printf '{"side": "llama.cpp", "tool": "%s", "key": "%s", "round": %d, "error": true}\n' "$1" "$2" "$3" >> "$RESULTS"
}

ours() {  # $1 key, $2 file, $3 round
  "$DRIVER" "$2" --threads "$THREADS" --pp "$PP" --tg "$TG" --batch "$BATCH" --runs 1 |
    sed "s/^{/{\"side\": \"huashan\", \"key\": \"$1\", \"round\": $3, /" | tee -a "$RESULTS"
}

peer_bench() {  # $1 key, $2 file, $3 round: pp and tg (from an empty context) at batch 1
  local log="$TMP/llama-bench.err" out="$TMP/llama-bench.json"
  if ! "$LLAMA_BENCH" -m "$2" -p "$PP" -n "$TG" -t "$THREADS" -r 1 -o json > "$out" 2> "$log"; then
    cat "$out" >> "$log"; peer_failed llama-bench "$1" "$3" "$log"; return 0
  fi
  python3 - "$out" "$1" "$3" <<'PY' | tee -a "$RESULTS" || peer_failed llama-bench "$1" "$3" "$out"
import json, sys
path, key, rnd = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = json.load(open(path))
if not rows:
    sys.exit("llama-bench printed no result")
for r in rows:
    if r.get("n_depth", 0) or bool(r["n_prompt"]) == bool(r["n_gen"]):
        continue
    test = f"pp{r['n_prompt']}" if r["n_prompt"] else f"tg{r['n_gen']}"
    keep = ("build_commit", "build_number", "cpu_info", "backends", "model_type", "model_size", "n_threads",
            "n_batch", "n_ubatch", "flash_attn", "type_k", "type_v", "avg_ns")
    line = {"side": "llama.cpp", "tool": "llama-bench", "key": key, "round": rnd, "test": test, "batch": 1,
            "tps": r["avg_ts"], **{k: r[k] for k in keep if k in r}}
    print(json.dumps(line))
PY
}

# Its results go through llama.cpp's asynchronous logger, which can drop the last
# lines when the process exits: a trailing B=1 configuration (-npl 1,BATCH,1, its
# row unused) keeps the two rows that count from being the last ones.
peer_batched() {  # $1 key, $2 file, $3 round: S_PP and S_TG after a PP-token prompt, B=1 and B=BATCH
  local log="$TMP/llama-batched-bench.out" fmt=()
  [ "$BB_JSONL" = 1 ] && fmt=(--output-format jsonl)
  if ! "$LLAMA_BATCHED_BENCH" -m "$2" -c $((BATCH * (PP + TG))) -b 2048 -ub 512 -npp "$PP" -ntg "$TG" \
      -npl "1,$BATCH,1" -t "$THREADS" "${fmt[@]}" > "$log" 2>&1; then
    peer_failed llama-batched-bench "$1" "$3" "$log"; return 0
  fi
  python3 - "$log" "$1" "$3" "$PP" "$TG" "$BATCH" <<'PY' | tee -a "$RESULTS" || peer_failed llama-batched-bench "$1" "$3" "$log"
import json, sys
path, key, rnd, pp, tg, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), *map(int, sys.argv[4:7])
rows = []
for l in open(path, errors="replace"):
    l = l.strip()
    if l.startswith("{") and '"speed_tg"' in l:  # --output-format jsonl
        r = json.loads(l)
        rows.append({"pp": r["pp"], "tg": r["tg"], "pl": r["pl"], "speed_pp": r["speed_pp"], "speed_tg": r["speed_tg"],
                     "n_kv_max": r.get("n_kv_max"), "flash_attn": r.get("flash_attn"), "n_threads": r.get("n_threads")})
    elif l.startswith("|") and not l.startswith("|-"):  # | PP | TG | B | N_KV | T_PP s | S_PP t/s | T_TG s | S_TG t/s | T s | S t/s |
        c = [x.strip() for x in l.strip("|").split("|")]
        if len(c) == 10 and c[0].isdigit():
            rows.append({"pp": int(c[0]), "tg": int(c[1]), "pl": int(c[2]), "speed_pp": float(c[5]), "speed_tg": float(c[7])})
want = {1, batch}
got = {r["pl"] for r in rows if (r["pp"], r["tg"]) == (pp, tg)}
if not want <= got:
    sys.exit(f"llama-batched-bench: no row for B={sorted(want - got)} (context too small?)")
seen = set()
for r in rows:  # the first row of each B (the trailing B=1 row only guards against lost lines)
    if (r["pp"], r["tg"]) != (pp, tg) or r["pl"] not in want or r["pl"] in seen:
        continue
    seen.add(r["pl"])
    extra = {k: r[k] for k in ("n_kv_max", "flash_attn", "n_threads") if r.get(k) is not None}
    print(json.dumps({"side": "llama.cpp", "tool": "llama-batched-bench", "key": key, "round": rnd,
                      "test": f"tg{tg}@pp{pp}", "batch": r["pl"], "tps": r["speed_tg"], **extra}))
    print(json.dumps({"side": "llama.cpp", "tool": "llama-batched-bench", "key": key, "round": rnd,
                      "test": f"pp{pp}", "batch": r["pl"], "tps": r["speed_pp"], **extra}))
PY
}

for m in $MODELS; do
  f="$(model_file "$m")"
  echo "==> $m: $f (threads $THREADS, rounds $RUNS${LLAMA_BENCH:+, with llama-bench}${LLAMA_BATCHED_BENCH:+, with llama-batched-bench})" >&2
  for ((r = 1; r <= RUNS; r++)); do
    ours "$m" "$f" "$r"
    [ -z "$LLAMA_BENCH" ] || peer_bench "$m" "$f" "$r"
    [ -z "$LLAMA_BATCHED_BENCH" ] || peer_batched "$m" "$f" "$r"
  done
done

# ---- medians of this run's rounds, ratios, the table
python3 - "$RESULTS" "$PP" "$TG" "$BATCH" <<'PY'
import json, sys
path, pp, tg, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
lines = [json.loads(l) for l in open(path) if l.strip()]
meta = next(l for l in lines if l.get("meta"))
rows = [l for l in lines if "side" in l and not l.get("error")]
peer_ran = bool(meta["peer_tools"])
median = lambda v: sorted(v)[len(v) // 2]  # as huashan_bench_engine: the upper median for an even count

# (model, tool, test, batch) -> per-round figures; llama-bench and llama-batched-bench
# both give a batch-1 prompt rate: the pp column takes llama-bench's where it ran.
OURS, LB, LBB = "huashan_bench_engine", "llama-bench", "llama-batched-bench"
summary = {}
for r in rows:
    k = (r["key"], r.get("tool", OURS), r["test"], r["batch"])
    s = summary.setdefault(k, {"side": r["side"], "tps": [], "cpu": []})
    s["tps"].append(r["median_tps"] if r["side"] == "huashan" else r["tps"])
    if "median_cpu_tps" in r:
        s["cpu"].append(r["median_cpu_tps"])
def get(key, tool, test, b, field="tps"):
    s = summary.get((key, tool, test, b))
    return median(s[field]) if s and s[field] else None
def peer(key, test, b):
    v = get(key, LB, test, b)
    return v if v is not None else get(key, LBB, test, b)

out = open(path, "a")
for (key, tool, test, b), s in summary.items():
    line = {"summary": True, "key": key, "side": s["side"], "tool": tool, "test": test, "batch": b, "runs": len(s["tps"]),
            "median_tps": round(median(s["tps"]), 2), "min_tps": min(s["tps"]), "max_tps": max(s["tps"])}
    if s["cpu"]:
        line["median_cpu_tps"] = round(median(s["cpu"]), 2)
    p = peer(key, test, b) if tool == OURS else None
    if p:
        line["ratio_vs_llama_cpp"] = round(median(s["tps"]) / p, 3)
    out.write(json.dumps(line) + "\n")
out.close()

flags = meta["flags"]
yn = lambda f: "yes" if flags.get(f) else "no"
print(f"CPU: {meta['cpu'] or 'unknown'}; avx2 {yn('avx2')}, avx512f {yn('avx512f')}, avx512_vnni {yn('avx512_vnni')}, "
      f"avx_vnni {yn('avx_vnni')}; threads {meta['threads']}; median of {meta['runs']} round(s)")
print(f"huashan: {meta['huashan_commit']}")
if peer_ran:
    builds = sorted({f"version: {r['build_number']} ({r['build_commit']})" for r in rows if r.get("tool") == LB and "build_commit" in r})
    info = meta["llama_cpp_version"] or "; ".join(builds) or "unknown build"
    print(f"llama.cpp: {info}; tools: {', '.join(meta['peer_tools'])} (measured in this run, round by round "
          "after ours, same model files and threads; ratio = ours / llama.cpp)")
    cols = ([f"pp{pp}, tg{tg} (from an empty context) from llama-bench"] if LB in meta["peer_tools"] else []) + \
           ([f"tg{tg}@pp{pp} b1 and b{batch} aggregate from llama-batched-bench's S_TG at B=1 and B={batch}"]
            + ([] if LB in meta["peer_tools"] else [f"pp{pp} from its S_PP at B=1"]) if LBB in meta["peer_tools"] else [])
    print("llama.cpp columns: " + "; ".join(cols))
    cpu_infos = sorted({r["cpu_info"] for r in rows if r.get("cpu_info")})
    if cpu_infos:
        print(f"llama.cpp sees: {'; '.join(cpu_infos)}")
print()

fmt = lambda v: "-" if v is None else f"{v:.2f}"
ratio = lambda a, b: "-" if a is None or not b else f"{a / b:.2f}x"
keys = list(dict.fromkeys(r["key"] for r in rows))
tp, tt, tb = f"pp{pp}", f"tg{tg}", f"tg{tg}@pp{pp}"
if peer_ran:
    print(f"| model | {tp} | llama.cpp | ratio | {tt} | llama.cpp | ratio | {tb} b1 | llama.cpp | ratio "
          f"| b{batch} aggregate | llama.cpp | ratio | b{batch}/b1 | llama.cpp b{batch}/b1 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
else:
    print(f"| model | {tp} | {tt} | {tb} b1 | b{batch} aggregate | b{batch}/b1 |")
    print("|---|---|---|---|---|---|")
for key in keys:
    h = lambda t, b: get(key, OURS, t, b)
    p1, t1, tb1, tbb = h(tp, 1), h(tt, 1), h(tb, 1), h(tb, batch)
    if peer_ran:
        lp1, lt1, ltb1, ltbb = peer(key, tp, 1), get(key, LB, tt, 1), get(key, LBB, tb, 1), get(key, LBB, tb, batch)
        print(f"| {key} | {fmt(p1)} | {fmt(lp1)} | {ratio(p1, lp1)} | {fmt(t1)} | {fmt(lt1)} | {ratio(t1, lt1)} "
              f"| {fmt(tb1)} | {fmt(ltb1)} | {ratio(tb1, ltb1)} | {fmt(tbb)} | {fmt(ltbb)} | {ratio(tbb, ltbb)} "
              f"| {ratio(tbb, tb1)} | {ratio(ltbb, ltb1)} |")
    else:
        print(f"| {key} | {fmt(p1)} | {fmt(t1)} | {fmt(tb1)} | {fmt(tbb)} | {ratio(tbb, tb1)} |")
print()
print("CPU-normalised, ours (tokens per CPU-second x threads; an idle-machine estimate when the machine is shared):")
for key in keys:
    cells = [f"{t} b{b}: {fmt(get(key, OURS, t, b, 'cpu'))}" for t, b in ((tp, 1), (tt, 1), (tb, 1), (tb, batch))]
    print(f"  {key}: " + ", ".join(cells))
print(f"\nresults: {path}")
PY
if [ "$PEER_FAILED" = 1 ]; then
  echo "engine.sh: llama.cpp failed on some model or round (see above); its cells show '-'" >&2
  exit 1
fi
