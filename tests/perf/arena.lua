-- wrk script for ./dev bench arena (tests/perf/arena.sh).
--   BENCH_MODE=get:  GET wrk's URL path (the leaderboard) on every request.
--   BENCH_MODE=vote: POST /api/battles/{id}/vote, each request a different
--     battle id from the file BENCH_IDS (one per line), split between wrk's
--     threads; BENCH_COOKIE is the session cookie that owns the battles.
-- done() prints one line "BENCH {json}": requests, seconds, requests/s,
-- p50/p99 latency (ms) and errors; non-2xx statuses count as errors.
local mode = os.getenv("BENCH_MODE") or "get"
local threads = {}
local next_thread = 0

function setup(thread)
  thread:set("tid", next_thread)
  next_thread = next_thread + 1
  table.insert(threads, thread)
end

local ids = {}
local at = 0
local choices = { "a", "b", "tie", "a", "b", "bothbad" }
local exhausted = 0

function init(args)
  if mode ~= "vote" then return end
  local tid, n = tid or 0, tonumber(os.getenv("BENCH_THREADS") or "1")
  local i = 0
  for line in io.lines(os.getenv("BENCH_IDS")) do
    if i % n == tid then table.insert(ids, line) end
    i = i + 1
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
end

function request()
  if mode ~= "vote" then return wrk.format() end
  at = at + 1
  if at > #ids then
    -- Out of fresh battles: repeats would measure a different path; the
    -- shell script sizes the file so this does not happen, and checks.
    exhausted = exhausted + 1
    at = 1
  end
  local body = '{"vote":"' .. choices[(at % #choices) + 1] .. '"}'
  return wrk.format(nil, "/api/battles/" .. ids[at] .. "/vote", nil, body)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.3f, "p99_ms": %.3f, ' ..
    '"non_2xx": %d, "socket_errors": %d}\n',
    summary.requests, seconds, summary.requests / seconds, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end
