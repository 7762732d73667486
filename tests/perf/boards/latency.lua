-- wrk script for ./dev bench boards (tests/perf/boards.sh): GETs wrk's URL on
-- every request, each connection waiting BENCH_DELAY_MS (env; 0: none) before
-- each, so the load has a set rate rather than all the CPU; done() prints one line "BENCH {json}" with the request count,
-- rate and latency percentiles (ms); non-2xx replies count as errors.
function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, ' ..
    '"p999_ms": %.3f, "max_ms": %.3f, "non_2xx": %d, "socket_errors": %d}\n',
    summary.requests, seconds, summary.requests / seconds, latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
    latency.max / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end

local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
if delay_ms > 0 then
  function delay() return delay_ms end
end
