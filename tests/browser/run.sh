#!/usr/bin/env bash
# The web pages in a real browser (Debian's chromium driven by playwright-core):
# an arena round, hostile model output, the leaderboard against the API, both
# languages, console errors, security headers, accessibility (axe-core) and the
# leaderboard without JavaScript.
#
# usage: run.sh HUASHAN ARTIFACTS_DIR [TEST_FILE...]   (default: every *.test.mjs)
# Two servers on fresh databases: BASE serves the demo models (three names,
# two of them the same weights) with votes seeded in categories coding, math
# and none; HOSTILE_BASE serves two OpenAI-compatible endpoints answered by
# upstream.mjs with markup that must stay text. Screenshots go to
# ARTIFACTS_DIR. With HUASHAN_WEB_DIR set, the servers read web/ from disk
# (front-end work without a rebuild; HUASHAN_WEB_DIR may name another copy of
# web/); otherwise the compiled-in pages are tested.
source "$(dirname "$0")/../e2e/lib.sh"
HUASHAN="${1:?usage: run.sh HUASHAN ARTIFACTS_DIR}"
ARTIFACTS="${2:?usage: run.sh HUASHAN ARTIFACTS_DIR}"
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

[ -x "$CHROMIUM" ] || fail "$CHROMIUM is missing (./dev setup installs chromium)"
command -v node >/dev/null || fail "node is missing (./dev setup installs it)"
[ -d "$HERE/node_modules/playwright-core" ] && [ -d "$HERE/node_modules/axe-core" ] ||
  fail "tests/browser/node_modules is missing (./dev setup runs npm ci there)"

tmp="$(mktemp -d)"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  cleanup_databases
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$ARTIFACTS"
ARTIFACTS="$(cd "$ARTIFACTS" && pwd)"  # the tests run from tests/browser
rm -f "$ARTIFACTS"/*.png

web_args=()
if [ -n "${HUASHAN_WEB_DIR:-}" ]; then
  if [ -d "$HUASHAN_WEB_DIR" ]; then web_args=(--web-dir "$HUASHAN_WEB_DIR"); else web_args=(--web-dir "$ROOT/web"); fi
fi
tests=("${@:3}")
[ ${#tests[@]} -gt 0 ] || tests=("$HERE"/*.test.mjs)
# Votes right after the answers, a board a moment later, and no rate limit in
# the way of the seeding below.
serve_args=(--min-vote-delay-ms 0 --leaderboard-interval 0.3 --votes-per-session-minute 100000
            --votes-per-address-minute 100000 "${web_args[@]}")

# BASE: the demo models plus the F32 weights under a third name, so the
# category boards can differ in who played whom.
HUASHAN_BIN="$HUASHAN" HUASHAN_VAR="$tmp/var" "$ROOT/dev" demo "$tmp/demo" >/dev/null
cat >"$tmp/twin.yaml" <<YAML
models:
  - name: stories260k-twin
    display_name: Stories 260K (twin)
    organization: llama2.c tinyllamas
    license: MIT
    local: { path: "$ROOT/tests/data/models/stories260K.gguf" }
YAML
fresh_database
url="$FRESH_URL"
base_url="$url"
"$HUASHAN" --database-url "$url" db migrate >"$tmp/migrate.log" 2>&1 || fail "migrate: $(tail -5 "$tmp/migrate.log")"
start_serve base "$tmp" --models "$tmp/demo/models.yaml" --models "$tmp/twin.yaml" "${serve_args[@]}"
BASE="$(cat "$tmp/base.base")"

# HOSTILE_BASE: its own database, so its models never reach BASE's boards.
node "$HERE/upstream.mjs" "$tmp/upstream.port" 60 >"$tmp/upstream.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$tmp/upstream.port" ] && break; sleep 0.1; done
[ -s "$tmp/upstream.port" ] || fail "upstream.mjs did not start: $(cat "$tmp/upstream.log")"
upstream="http://127.0.0.1:$(cat "$tmp/upstream.port")/v1"
cat >"$tmp/hostile.yaml" <<YAML
models:
  - name: scripted-one
    display_name: Scripted One
    organization: Huashan tests
    license: MIT
    openai: { base_url: "$upstream", model: scripted-one }
  - name: scripted-two
    display_name: Scripted Two
    organization: Huashan tests
    license: MIT
    openai: { base_url: "$upstream", model: scripted-two }
YAML
fresh_database
url="$FRESH_URL"
"$HUASHAN" --database-url "$url" db migrate >"$tmp/migrate.log" 2>&1 || fail "migrate: $(tail -5 "$tmp/migrate.log")"
start_serve hostile "$tmp" --models "$tmp/hostile.yaml" "${serve_args[@]}"
HOSTILE_BASE="$(cat "$tmp/hostile.base")"

# seed CATEGORY VOTE: one answered battle on BASE (CATEGORY may be empty), then
# the vote; a session of its own each time (a session may start 5 battles at
# once). The address allows 15 at once: 9 here leave room for the tests' own.
seed() {
  local body id reply jar="$tmp/jar$seeded"
  if [ -n "$1" ]; then body="{\"prompt\":\"Once upon a time\",\"category\":\"$1\"}"; else body='{"prompt":"Once upon a time"}'; fi
  reply="$(curl -s -c "$jar" -b "$jar" -X POST "$BASE/api/battles" -H 'Content-Type: application/json' -d "$body")"
  id="$(echo "$reply" | sed -n 's/.*"battle_id":"\([^"]*\)".*/\1/p')"
  [ -n "$id" ] || fail "seeding: no battle id: $reply"
  curl -s -b "$jar" --max-time 120 "$BASE/api/battles/$id/stream" >"$tmp/stream"
  grep -q "event: turn_done" "$tmp/stream" || fail "seeding: battle $id did not finish: $(tail -c 300 "$tmp/stream")"
  reply="$(curl -s -b "$jar" -X POST "$BASE/api/battles/$id/vote" -H 'Content-Type: application/json' \
    -d "{\"vote\":\"$2\"}")"
  echo "$reply" | grep -q '"recorded":true' || fail "seeding: vote on $id: $reply"
}
seeded=0
for category in coding math ""; do
  for vote in a b tie; do
    seed "$category" "$vote"
    seeded=$((seeded + 1))
  done
done
# The boards exist once the overall one counts every seeded vote.
for _ in $(seq 1 300); do
  count="$(curl -s "$BASE/api/leaderboard" | sed -n 's/.*"vote_count":\([0-9]*\).*/\1/p')"
  [ "$count" = "$seeded" ] && break
  sleep 0.2
done
[ "$count" = "$seeded" ] || fail "the leaderboard never counted the $seeded seeded votes (has '${count:-none}')"
for category in coding math; do
  curl -sf "$BASE/api/leaderboard?category=$category" >/dev/null || fail "no $category board"
done

echo "browser tests: BASE=$BASE HOSTILE_BASE=$HOSTILE_BASE ($seeded votes seeded), artifacts in $ARTIFACTS"
set +e
(cd "$HERE" && BASE="$BASE" HOSTILE_BASE="$HOSTILE_BASE" ARTIFACTS="$ARTIFACTS" DATABASE_URL="$base_url" \
  CHROMIUM="$CHROMIUM" node --test --test-concurrency=1 --test-reporter=spec "${tests[@]}")
rc=$?
set -e
if [ $rc -ne 0 ]; then
  echo "--- base server log (last lines)" >&2
  tail -20 "$tmp/base.log" >&2
  echo "--- hostile server log (last lines)" >&2
  tail -20 "$tmp/hostile.log" >&2
fi
exit $rc
