#!/usr/bin/env bash
# `huashan eval` end to end with the real stories260K model on the real
# C-Eval, CMMLU, MMLU and GSM8K files the tests carry, the ARC and HellaSwag
# format samples and the project's own sample suites:
#   - every shipped suite with data here runs and writes results and samples;
#   - each multiple-choice request's log-likelihood in the samples equals
#     `huashan score` on the same context and continuation;
#   - acc, acc_norm and exact_match (each document's, each task's and their
#     standard errors) equal a plain recomputation from the samples file.
source "$(dirname "$0")/lib.sh"
HUASHAN="$1"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DATA="$ROOT/tests/data/datasets"
MODEL="$ROOT/tests/data/models/stories260K.gguf"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

run_eval() {  # OUT DATA_DIR SUITES [flags...]
  local out="$1" data="$2" suites="$3"
  shift 3
  "$HUASHAN" eval --model "$MODEL" --suite "$suites" --suites-dir "$ROOT/benchmarks" --data-dir "$data" \
    --cache-dir "$tmp/cache" --output "$out" "$@" >"$out.table" 2>"$out.err" ||
    fail "eval $suites: $(tail -5 "$out.err")"
  [ -s "$out/results.json" ] || fail "eval $suites wrote no results.json"
}

# Every C-Eval, CMMLU and MMLU subject the tests carry, GSM8K 8-shot chain of
# thought, the sample suites; then ARC and HellaSwag on their format samples.
CEVAL=ceval-valid_chinese_language_and_literature,ceval-valid_college_programming,ceval-valid_computer_network,ceval-valid_high_school_mathematics,ceval-valid_logic,ceval-valid_modern_chinese_history
CMMLU=cmmlu_ancient_chinese,cmmlu_chinese_driving_rule,cmmlu_chinese_food_culture,cmmlu_chinese_history,cmmlu_computer_science,cmmlu_high_school_mathematics,cmmlu_machine_learning
MMLU=mmlu_abstract_algebra,mmlu_college_computer_science,mmlu_global_facts,mmlu_high_school_mathematics,mmlu_machine_learning,mmlu_world_religions
run_eval "$tmp/real" "$DATA" "$CEVAL,$CMMLU,$MMLU,gsm8k_cot,huashan-sample" --limit 12 --num-fewshot 1
run_eval "$tmp/formats" "$DATA/format_samples" "arc_easy,arc_challenge,hellaswag"
grep -q "ceval-valid_logic" "$tmp/real.table" || fail "the table lacks ceval-valid_logic: $(cat "$tmp/real.table")"
head -3 "$tmp/real.table"

# Each request of the first two documents of a few tasks, again through `huashan score`.
python3 - "$tmp/real" <<'PY' >"$tmp/score_cases.jsonl"
import json, sys
for task in ("ceval-valid_logic", "cmmlu_chinese_history", "mmlu_world_religions", "huashan-sample_en_mc"):
    for line in list(open(f"{sys.argv[1]}/samples_{task}.jsonl", encoding="utf-8"))[:2]:
        s = json.loads(line)
        for k, args in enumerate(s["arguments"].values()):
            print(json.dumps({"task": task, "doc": s["doc_id"], "context": args["arg_0"], "continuation": args["arg_1"],
                              "logprob": s["resps"][k][0][0]}, ensure_ascii=False))
PY
python3 - "$HUASHAN" "$MODEL" "$tmp/score_cases.jsonl" <<'PY' || fail "eval and huashan score disagree"
import json, subprocess, sys
huashan, model, cases = sys.argv[1], sys.argv[2], [json.loads(l) for l in open(sys.argv[3], encoding="utf-8")]
for case in cases:
    run = subprocess.run([huashan, "score", "--model", model, "--prompt", case["context"], "--continuation",
                          case["continuation"], "--json"], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"score: {run.stderr}")
    got = json.loads(run.stdout)["logprob_sum"]
    if got != case["logprob"]:
        sys.exit(f"{case['task']} doc {case['doc']} {case['continuation']!r}: eval {case['logprob']!r}, score {got!r}")
if len(cases) < 24:
    sys.exit(f"only {len(cases)} comparisons")
print(f"eval = huashan score on {len(cases)} requests")
PY

# acc, acc_norm, exact_match and their standard errors from the samples alone.
for dir in "$tmp/real" "$tmp/formats"; do
python3 - "$dir" <<'PY' || fail "recomputation from the samples of $dir"
import json, math, re, string, sys, glob, os
out = sys.argv[1]
results = json.load(open(f"{out}/results.json", encoding="utf-8"))
def mean_stderr(xs):
    n = len(xs)
    m = sum(xs) / n
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1)) if n > 1 else None
    return m, (sd / math.sqrt(n) if sd is not None else None)
def close(a, b):
    return abs(a - b) <= 1e-12 * max(1.0, abs(a), abs(b))
checked = 0
for path in sorted(glob.glob(f"{out}/samples_*.jsonl")):
    task = os.path.basename(path)[len("samples_"):-len(".jsonl")]
    config = results["configs"][task]
    rows = [json.loads(l) for l in open(path, encoding="utf-8")]
    per_filter = {}
    for s in rows:
        per_filter.setdefault(s["filter"], []).append(s)
    for flt, samples in per_filter.items():
        values = {}
        for s in samples:
            if config["output_type"] == "multiple_choice":
                lls = [r[0][0] for r in s["resps"]]
                delim = config.get("target_delimiter", " ")
                choices = [a["arg_1"][len(delim):] for a in s["arguments"].values()]
                gold = s["target"]
                best = max(range(len(lls)), key=lambda i: (lls[i], -i))
                norm = [ll / len(c) for ll, c in zip(lls, choices)]
                best_norm = max(range(len(norm)), key=lambda i: (norm[i], -i))
                mine = {"acc": float(best == gold), "acc_norm": float(best_norm == gold)}
            elif config["output_type"] == "generate_until":
                metric = next(m for m in config["metric_list"] if m["metric"] == "exact_match")
                pred, ref = s["filtered_resps"][0], str(s["target"])
                for rx in metric.get("regexes_to_ignore", []):
                    pred, ref = re.sub(rx, "", pred), re.sub(rx, "", ref)
                if metric.get("ignore_case"):
                    pred, ref = pred.lower(), ref.lower()
                if metric.get("ignore_punctuation"):
                    table = str.maketrans("", "", string.punctuation)
                    pred, ref = pred.translate(table), ref.translate(table)
                mine = {"exact_match": float(pred == ref)}
            else:
                continue
            for k, v in mine.items():
                if k in s:
                    if s[k] != v:
                        sys.exit(f"{task} doc {s['doc_id']} {k}: samples {s[k]}, recomputed {v}")
                    values.setdefault(k, []).append(v)
        for metric, xs in values.items():
            m, se = mean_stderr(xs)
            got = results["results"][task][f"{metric},{flt}"]
            got_se = results["results"][task][f"{metric}_stderr,{flt}"]
            if not close(got, m):
                sys.exit(f"{task} {metric},{flt}: results {got}, recomputed {m}")
            if se is None:
                if got_se != "N/A":
                    sys.exit(f"{task} {metric}_stderr: {got_se}, expected N/A")
            elif not close(got_se, se):
                sys.exit(f"{task} {metric}_stderr,{flt}: results {got_se}, recomputed {se}")
            checked += 1
print(f"{out}: {checked} task metrics recomputed from the samples")
if checked == 0:
    sys.exit("nothing checked")
PY
done
echo "e2e eval_suites: ok"
