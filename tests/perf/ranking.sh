#!/usr/bin/env bash
# ./dev bench ranking: parse, fit, 1000 bootstrap rounds and style control
# (fit + 100 rounds) at 100 models / 100k battles, 200 / 1M and 300 / 5M,
# median of 5 each (bench_ranking), then `huashan rank` end to end on the 1M
# file. Env: HUASHAN_BIN (release huashan), HUASHAN_BUILD (release build dir).
# Args: --quick (100k only, 2 reps) | --reps N. The driver checks its answers
# (convergence, Spearman with the planted strengths) and fails otherwise.
set -euo pipefail
: "${HUASHAN_BIN:?set HUASHAN_BIN to the release huashan binary}"
: "${HUASHAN_BUILD:?set HUASHAN_BUILD to the release build directory}"
driver="$HUASHAN_BUILD/tests/perf/ranking/bench_ranking"
[ -x "$driver" ] || { echo "ranking.sh: $driver missing (build target bench_ranking, HUASHAN_BENCHMARKS=ON)" >&2; exit 1; }

reps=5
sizes=("100 100000" "200 1000000" "300 5000000")
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) reps=2; sizes=("100 100000") ;;
    --reps) reps="$2"; shift ;;
    *) echo "ranking.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "# ranking benchmark $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for size in "${sizes[@]}"; do
  set -- $size
  echo "## $1 models, $2 battles"
  "$driver" "$1" "$2" --reps "$reps" --rounds 1000 --style-rounds 100 --write "$tmp/battles-$1-$2.csv"
done

# End to end: the command a user runs (read + parse + fit + 1000 rounds + print).
file="$tmp/battles-${sizes[-1]// /-}.csv"
[ "${#sizes[@]}" -gt 1 ] && file="$tmp/battles-200-1000000.csv"
times=()
for _ in $(seq "$reps"); do
  start=$(date +%s.%N)
  "$HUASHAN_BIN" --log-level warn rank "$file" --bootstrap 1000 --format csv > "$tmp/out.csv"
  end=$(date +%s.%N)
  times+=("$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }')")
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (reps + 1) / 2 ))p")
echo "## huashan rank end to end ($(basename "$file"), 1000 rounds): median ${median}s of ${reps}"
head -3 "$tmp/out.csv"
