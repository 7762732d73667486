#!/usr/bin/env bash
# ./dev bench engine_kernels: matvec GB/s per weight type (1 and 2 threads,
# batch 1 and 16) and scalar vs AVX2 dot products. Extra arguments go to
# Google Benchmark (e.g. --benchmark_filter=matmul/q4_k).
set -euo pipefail
BUILD="${HUASHAN_BUILD:?run through ./dev bench engine_kernels}"
exec "$BUILD/tests/perf/engine_kernels/bench_engine_kernels" --benchmark_min_time=0.3 "$@"
