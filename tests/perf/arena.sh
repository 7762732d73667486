#!/usr/bin/env bash
# ./dev bench arena: the arena's two hot paths on loopback, each beside a
# baseline doing the same work without our code in the way.
#
#  votes:       POST /api/battles/{id}/vote, every request a different answered
#               battle of one session (the vote's real transaction: the battle
#               read, INSERT vote, pair/outcome counts upsert, vote_events,
#               the models read, COMMIT before the reply), driven by wrk,
#               against pgbench running the same statements (tests/perf/
#               arena_vote.sql, extended protocol like libpqxx) with as many
#               clients as wrk has connections. Target: >= 0.5x pgbench.
#  leaderboard: GET /api/leaderboard (a stored snapshot) against nginx serving
#               the very same bytes from a file. Target: >= 0.5x nginx.
#
# Setup: the private PostgreSQL (./dev db start; or DATABASE_URL), a fresh
# database (dropped at exit), `huashan serve` (release) with two tiny
# synthetic models, one battle through the API for a session cookie, then
# battles inserted by SQL for that session with answers an hour old (votes on
# battles the process does not hold in memory are checked against the stored
# battle: its session and answer time, in the vote's own SELECT). The bench's
# serve relaxes the vote rate limits and the answer-to-vote delay
# (--votes-per-*-minute, --min-vote-delay-ms) and logs at warn (no access log;
# nginx runs with access_log off too).
#
# Environment: HUASHAN_BIN, HUASHAN_BUILD (set by ./dev bench), RUNS (3),
#   DURATION (seconds per run, 10), CONNECTIONS (16), WRK_THREADS (2),
#   HUASHAN_BENCH_QUICK=1: one 2-second run of each (checks that it works).
# Results: one JSON line per run and per median in $HUASHAN_BUILD/bench-arena.jsonl,
# then a table. The script fails when a run has errors or a vote is missing.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PERF="$ROOT/tests/perf"
: "${HUASHAN_BIN:?set HUASHAN_BIN to the release huashan binary}"
: "${HUASHAN_BUILD:?set HUASHAN_BUILD to the release build directory}"
RUNS="${RUNS:-3}"
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-16}"
WRK_THREADS="${WRK_THREADS:-2}"
if [ "${HUASHAN_BENCH_QUICK:-0}" = "1" ]; then
  RUNS=1; DURATION=2
fi
for tool in wrk nginx pgbench psql curl; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
    { echo "arena.sh: $tool missing (./dev setup installs it)" >&2; exit 1; }
done
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
# Fresh battles per vote run: enough for this many votes a second.
MAX_RATE="${MAX_RATE:-8000}"
RESULTS="$HUASHAN_BUILD/bench-arena.jsonl"
: >"$RESULTS"

tmp="$(mktemp -d)"
server_pid=""
nginx_started=0
admin_url=""
bench_db=""
cleanup() {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  [ "$nginx_started" = 0 ] || "$NGINX" -p "$tmp/nginx" -e "$tmp/nginx/logs/error.log" -c "$tmp/nginx/nginx.conf" \
    -s stop 2>/dev/null || true
  [ -z "$bench_db" ] || psql "$admin_url" -qc "DROP DATABASE IF EXISTS $bench_db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'arena.sh: %s\n' "$*" >&2; exit 1; }

free_port() {
  local port
  for port in $(seq $((20000 + RANDOM % 20000)) 45000); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
  done
  return 1
}

# ---------------------------------------------------------------- database and server

if [ -n "${DATABASE_URL:-}" ]; then
  admin_url="$DATABASE_URL"
else
  admin_url="$("$ROOT/dev" db start | sed -n 's/^DATABASE_URL=//p')"
fi
[ -n "$admin_url" ] || die "no database (./dev db start failed)"
bench_db="huashan_bench_$$"
psql "$admin_url" -qc "CREATE DATABASE $bench_db" >/dev/null
if [[ "$admin_url" =~ ^postgres(ql)?:// ]]; then
  url="$(echo "$admin_url" | sed -E "s#^(postgres(ql)?://[^/?]*)(/[^?]*)?#\1/$bench_db#")"
else
  url="$admin_url dbname=$bench_db"
fi
"$HUASHAN_BIN" --database-url "$url" db migrate >/dev/null

models="$HUASHAN_BUILD/bench-models/arena"
mkdir -p "$models"
for arch in qwen3 qwen2; do
  [ -s "$models/tiny-$arch.gguf" ] ||
    "$HUASHAN_BIN" model synth --arch "$arch" --layers 1 --dim 64 --heads 2 --kv-heads 1 --ffn 128 --type q8_0 \
      --seed 5 --threads 1 -o "$models/tiny-$arch.gguf" >/dev/null
done

port="$(free_port)"
base="http://127.0.0.1:$port"
secret="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
"$HUASHAN_BIN" --log-level warn --database-url "$url" serve --port "$port" --models-dir "$models" --engine-threads 1 \
  --session-secret "$secret" --min-vote-delay-ms 0 --votes-per-session-minute 1e8 \
  --votes-per-address-minute 1e8 >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -sf "$base/readyz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || die "serve exited: $(tail -5 "$tmp/server.log")"
  sleep 0.1
done
curl -sf "$base/readyz" >/dev/null || die "serve is not ready: $(curl -s "$base/readyz")"

# One real battle: the session cookie and its id.
reply="$(curl -s -c "$tmp/jar" -X POST "$base/api/battles" -H 'Content-Type: application/json' -d '{"prompt":"Hello!"}')"
battle="$(echo "$reply" | sed -n 's/.*"battle_id":"\([^"]*\)".*/\1/p')"
[ -n "$battle" ] || die "starting a battle failed: $reply"
curl -s -b "$tmp/jar" --max-time 60 "$base/api/battles/$battle/stream" >/dev/null
cookie="huashan_session=$(awk '$6 == "huashan_session" { print $7 }' "$tmp/jar")"
session="$(psql "$url" -tAc "SELECT session_id FROM battles WHERE id = '$battle'")"
read -r model_a model_b < <(psql "$url" -tAc "SELECT min(id), max(id) FROM models" | tr '|' ' ')

# insert_battles N KEY_SQL: N answered battles of the session; KEY_SQL maps
# generate_series' g to the battle id. Alternates the ordered pair.
insert_battles() {
  psql "$url" -qc "INSERT INTO battles (id, model_a_id, model_b_id, session_id, sampling_probability, answered_at, style_a, style_b)
    SELECT $2, CASE WHEN g % 2 = 0 THEN $model_a ELSE $model_b END, CASE WHEN g % 2 = 0 THEN $model_b ELSE $model_a END,
           '$session', 0.5, now() - interval '1 hour', '{40,1,2,0}', '{35,0,3,1}'
    FROM generate_series(1, $1) AS g" >/dev/null
}

# wrk_run MODE URL [IDS]: one wrk run; prints its BENCH json.
wrk_run() {
  BENCH_MODE="$1" BENCH_IDS="${3:-}" BENCH_COOKIE="$cookie" BENCH_THREADS="$WRK_THREADS" \
    wrk -t "$WRK_THREADS" -c "$CONNECTIONS" -d "${DURATION}s" --timeout 10s -s "$PERF/arena.lua" "$2" >"$tmp/wrk.out" 2>&1 ||
    die "wrk failed: $(cat "$tmp/wrk.out")"
  sed -n 's/^BENCH //p' "$tmp/wrk.out"
}

field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
record() { echo "$1" | tee -a "$RESULTS"; }

say "arena bench $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)); load $(cut -d' ' -f1-3 /proc/loadavg)"
say "runs $RUNS x ${DURATION}s, $CONNECTIONS connections, wrk threads $WRK_THREADS"

# ---------------------------------------------------------------- votes vs pgbench

per_run=$((MAX_RATE * DURATION))
per_client=$((per_run / CONNECTIONS + 1))
for run in $(seq 1 "$RUNS"); do
  # wrk: fresh random-UUID battles, their ids in a file the Lua script splits.
  insert_battles "$per_run" "gen_random_uuid()"
  psql "$url" -tAc "SELECT id FROM battles b WHERE session_id = '$session' AND NOT EXISTS (SELECT 1 FROM votes v WHERE v.battle_id = b.id) AND id::text NOT LIKE '00000000-%' AND id <> '$battle'" >"$tmp/ids"
  before="$(psql "$url" -tAc "SELECT count(*) FROM votes")"
  json="$(wrk_run vote "$base" "$tmp/ids")"
  after="$(psql "$url" -tAc "SELECT count(*) FROM votes")"
  requests="$(field "$json" requests)"
  [ "$(field "$json" non_2xx)" = 0 ] || die "vote run $run: non-2xx replies: $json ($(tail -3 "$tmp/server.log"))"
  [ "$requests" -le "$per_run" ] || die "vote run $run used more votes ($requests) than battles ($per_run): raise MAX_RATE"
  # Every acknowledged vote is a stored vote (wrk may leave a few requests unanswered at the end).
  [ $((after - before)) -ge "$requests" ] || die "vote run $run: $requests acknowledged, $((after - before)) stored"
  record "{\"test\": \"votes\", \"server\": \"huashan\", \"run\": $run, ${json:1}"
  psql "$url" -qc "DELETE FROM battles b WHERE session_id = '$session' AND NOT EXISTS (SELECT 1 FROM votes v WHERE v.battle_id = b.id) AND id <> '$battle'" >/dev/null

  # pgbench: the same transaction on battles with ids from (run, client, counter).
  insert_battles "$((per_client * CONNECTIONS))" \
    "('00000000-0000-4000-8000-' || lpad(($run * 100000000 + ((g - 1) / $per_client) * 1000000 + (g - 1) % $per_client + 1)::text, 12, '0'))::uuid"
  pgbench -n -M extended -c "$CONNECTIONS" -j "$WRK_THREADS" -T "$DURATION" -D run="$run" -D i=0 -D session="$session" \
    -f "$PERF/arena_vote.sql" "$url" >"$tmp/pgbench.out" 2>&1 ||
    die "pgbench failed: $(tail -5 "$tmp/pgbench.out")"
  tps="$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$tmp/pgbench.out" | head -1)"
  lat="$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$tmp/pgbench.out")"
  failed="$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$tmp/pgbench.out")"
  [ "${failed:-0}" = 0 ] || die "pgbench run $run: failed transactions: $(cat "$tmp/pgbench.out")"
  record "{\"test\": \"votes\", \"server\": \"pgbench\", \"run\": $run, \"rps\": $tps, \"latency_avg_ms\": $lat}"
  psql "$url" -qc "DELETE FROM battles b WHERE id::text LIKE '00000000-%' AND NOT EXISTS (SELECT 1 FROM votes v WHERE v.battle_id = b.id)" >/dev/null
done

# ---------------------------------------------------------------- leaderboard vs nginx

code="$(curl -s -o "$tmp/leaderboard.json" -w '%{http_code}' "$base/api/leaderboard")"
if [ "$code" = 404 ] && grep -q "no route" "$tmp/leaderboard.json"; then
  say "GET /api/leaderboard is not served by this build: leaderboard half skipped"
else
  # The votes above moved vote_events: wait for the snapshot that includes them.
  for _ in $(seq 1 600); do
    code="$(curl -s -o "$tmp/leaderboard.json" -w '%{http_code}' "$base/api/leaderboard")"
    [ "$code" = 200 ] && grep -q '"rows": *\[{' "$tmp/leaderboard.json" && break
    sleep 0.5
  done
  [ "$code" = 200 ] || die "GET /api/leaderboard: $code $(head -c 300 "$tmp/leaderboard.json")"
  grep -q '"rows": *\[{' "$tmp/leaderboard.json" || die "the leaderboard has no rows: $(head -c 300 "$tmp/leaderboard.json")"
  ctype="$(curl -s -o /dev/null -w '%{content_type}' "$base/api/leaderboard")"

  mkdir -p "$tmp/nginx/logs" "$tmp/nginx/www/api"
  cp "$tmp/leaderboard.json" "$tmp/nginx/www/api/leaderboard"
  nginx_port="$(free_port)"
  user_line=""
  if [ "$(id -u)" = 0 ]; then
    # nginx workers drop to this user: it must read the file.
    user_line="user nobody nogroup;"
    chmod -R a+rX "$tmp/nginx"
    chmod a+x "$tmp"
  fi
  cat >"$tmp/nginx/nginx.conf" <<NGINX
$user_line
worker_processes 2;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000000;
  keepalive_timeout 60s;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  server {
    listen 127.0.0.1:$nginx_port;
    root $tmp/nginx/www;
    location = /api/leaderboard { default_type "$ctype"; }
  }
}
NGINX
  "$NGINX" -p "$tmp/nginx" -e "$tmp/nginx/logs/error.log" -c "$tmp/nginx/nginx.conf" || die "nginx did not start: $(cat "$tmp/nginx/logs/error.log")"
  nginx_started=1
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$nginx_port/api/leaderboard" >/dev/null && break; sleep 0.1; done
  cmp -s <(curl -s "http://127.0.0.1:$nginx_port/api/leaderboard") <(curl -s "$base/api/leaderboard") ||
    die "nginx and huashan serve different leaderboard bytes (did a recompute land?)"
  say "leaderboard: $(wc -c <"$tmp/leaderboard.json") bytes, $ctype"
  for run in $(seq 1 "$RUNS"); do
    json="$(wrk_run get "$base/api/leaderboard")"
    [ "$(field "$json" non_2xx)" = 0 ] || die "leaderboard run $run: non-2xx replies: $json"
    record "{\"test\": \"leaderboard\", \"server\": \"huashan\", \"run\": $run, ${json:1}"
    json="$(wrk_run get "http://127.0.0.1:$nginx_port/api/leaderboard")"
    record "{\"test\": \"leaderboard\", \"server\": \"nginx\", \"run\": $run, ${json:1}"
  done
fi

# ---------------------------------------------------------------- medians and the table

python3 - "$RESULTS" "$CONNECTIONS" "$DURATION" <<'PY' | tee "$HUASHAN_BUILD/bench-arena.txt"
import json, statistics, sys
path, connections, duration = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [json.loads(l) for l in open(path) if l.strip()]
def med(test, server, key):
    vals = [r[key] for r in rows if r["test"] == test and r["server"] == server and key in r]
    return statistics.median(vals) if vals else None
medians = []
print(f"| test | ours req/s | ours p99 ms | baseline | baseline req/s | baseline p99 / avg ms | ratio | target |")
print("|---|---|---|---|---|---|---|---|")
for test, peer, target in (("votes", "pgbench", 0.5), ("leaderboard", "nginx", 0.5)):
    ours, p99 = med(test, "huashan", "rps"), med(test, "huashan", "p99_ms")
    base = med(test, peer, "rps")
    if ours is None:
        continue
    base_lat = med(test, peer, "p99_ms") if peer == "nginx" else med(test, peer, "latency_avg_ms")
    ratio = ours / base if base else None
    medians.append({"test": test, "median": True, "huashan_rps": ours, "huashan_p99_ms": p99, "baseline": peer,
                    "baseline_rps": base, "baseline_latency_ms": base_lat, "ratio": ratio, "target": target})
    status = "met" if ratio is not None and ratio >= target else "NOT met"
    lat_label = f"{base_lat:.2f} ({'p99' if peer == 'nginx' else 'avg'})"
    print(f"| {test} | {ours:.0f} | {p99:.2f} | {peer} | {base:.0f} | {lat_label} | {ratio:.2f}x | >= {target}x: {status} |")
with open(path, "a") as out:
    for m in medians:
        out.write(json.dumps(m) + "\n")
print(f"(medians of the runs; {connections} connections / pgbench clients, {duration} s each)")
PY
