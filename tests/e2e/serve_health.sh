#!/usr/bin/env bash
# `huashan serve`: /livez always 200; /readyz 503 until migrations are current,
# then 200 with the database status; problem+json for unknown routes; SIGTERM
# ends the process with exit 0; an unknown --sampler is refused at start.
source "$(dirname "$0")/lib.sh"
HUASHAN="$1"
server_pid=""
cleanup() {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  cleanup_databases
}
trap cleanup EXIT

fresh_database
url="$FRESH_URL"
port="$(free_port)"
"$HUASHAN" --database-url "$url" serve --port "$port" &
server_pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/livez" >/dev/null 2>&1 && break
  sleep 0.1
done

body="$(curl -s "http://127.0.0.1:$port/livez")"
echo "$body" | grep -q '"status":"ok"' || fail "/livez: $body"

code="$(curl -s -o /tmp/huashan-e2e-ready.$$ -w '%{http_code}' "http://127.0.0.1:$port/readyz")"
[ "$code" = 503 ] || fail "/readyz before migrate: $code"
grep -q '"migrations_current":false' /tmp/huashan-e2e-ready.$$ || fail "readyz body: $(cat /tmp/huashan-e2e-ready.$$)"

"$HUASHAN" --database-url "$url" db migrate >/dev/null
code="$(curl -s -o /tmp/huashan-e2e-ready.$$ -w '%{http_code}' "http://127.0.0.1:$port/readyz")"
[ "$code" = 200 ] || fail "/readyz after migrate: $code $(cat /tmp/huashan-e2e-ready.$$)"
grep -q '"reachable":true' /tmp/huashan-e2e-ready.$$ || fail "readyz body: $(cat /tmp/huashan-e2e-ready.$$)"
# No models given: loaded (none), and the page-less arena says battles need two.
grep -q '"models":{"loaded":true,"offered":0,"enabled":0,"warning":"battles need two enabled models"}' \
  /tmp/huashan-e2e-ready.$$ || fail "readyz models: $(cat /tmp/huashan-e2e-ready.$$)"

code="$(curl -s -o /tmp/huashan-e2e-ready.$$ -w '%{http_code} %{content_type}' "http://127.0.0.1:$port/nope")"
[ "$code" = "404 application/problem+json" ] || fail "unknown route: $code"

code="$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/livez")"
[ "$code" = 405 ] || fail "POST /livez: $code"

# Oversized body: refused with 413, the server keeps serving.
code="$(head -c 2000000 /dev/zero | curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @- "http://127.0.0.1:$port/livez")"
[ "$code" = 413 ] || fail "oversized body: $code"
curl -sf "http://127.0.0.1:$port/livez" >/dev/null || fail "server died after an oversized body"

# /metrics counts what was served so far, by route and status.
metrics="$(curl -s "http://127.0.0.1:$port/metrics")"
echo "$metrics" | grep -q 'huashan_http_requests_total{method="GET",route="/readyz",status="200"} 1' ||
  fail "/metrics lacks the readyz count: $(echo "$metrics" | grep readyz)"
echo "$metrics" | grep -q 'route="unmatched",status="404"' || fail "/metrics lacks the 404"

stop_gracefully "$server_pid"
server_pid=""
rm -f /tmp/huashan-e2e-ready.$$

# An unknown pair-sampling policy, by flag or by HUASHAN_SAMPLER: refused before
# serving, naming the flag and the policies there are.
for how in "--sampler bogus" "env"; do
  if [ "$how" = env ]; then
    out="$(HUASHAN_SAMPLER=bogus timeout 20 "$HUASHAN" --database-url "$url" serve --port "$(free_port)" 2>&1)" &&
      fail "HUASHAN_SAMPLER=bogus: serve exited 0"
  else
    out="$(timeout 20 "$HUASHAN" --database-url "$url" serve --port "$(free_port)" $how 2>&1)" &&
      fail "serve $how exited 0"
  fi
  echo "$out" | grep -q -- "--sampler 'bogus' is not one of uniform, weighted, active" || fail "serve $how: $out"
done
echo "e2e serve_health: ok"
