# Shared helpers for the end-to-end scripts: a fresh database per script on the
# server named by $DATABASE_URL, dropped on exit, and a free TCP port.
set -euo pipefail

[ -n "${DATABASE_URL:-}" ] || { echo "e2e tests need DATABASE_URL (./dev test sets it)" >&2; exit 1; }
ADMIN_URL="$DATABASE_URL"

# url_for_database NAME: $ADMIN_URL pointing at database NAME (URI or key=value form).
url_for_database() {
  if [[ "$ADMIN_URL" =~ ^postgres(ql)?:// ]]; then
    echo "$ADMIN_URL" | sed -E "s#^(postgres(ql)?://[^/?]*)(/[^?]*)?#\1/$1#"
  else
    echo "$ADMIN_URL dbname=$1"
  fi
}

# fresh_database: creates an empty database, prints its URL, drops it when the script exits.
E2E_DATABASES=()
cleanup_databases() {
  for db in "${E2E_DATABASES[@]}"; do
    psql "$ADMIN_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
}
fresh_database() {
  local name="huashan_e2e_$$_${#E2E_DATABASES[@]}_$RANDOM"
  psql "$ADMIN_URL" -qc "CREATE DATABASE $name" >/dev/null
  E2E_DATABASES+=("$name")
  FRESH_URL="$(url_for_database "$name")"
}

# migrated_database: a fresh database with every migration applied, its URL in $url.
migrated_database() {
  fresh_database
  url="$FRESH_URL"
  "$HUASHAN" --database-url "$url" db migrate >/dev/null 2>&1
}

free_port() {
  local port
  for port in $(seq $((20000 + RANDOM % 20000)) 45000); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

fail() { echo "FAIL: $*" >&2; exit 1; }

# e2e_workspace: a temporary folder in $work and a list `pids` of the
# servers the script starts; on exit they are killed, the script's databases
# dropped and $work removed (KEEP_WORK=1 keeps it).
e2e_workspace() {
  work="$(mktemp -d)"
  pids=()
  trap e2e_cleanup EXIT
}
e2e_cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  cleanup_throwaway_cluster
  cleanup_databases
  [ -z "${KEEP_WORK:-}" ] && rm -rf "$work" || echo "kept $work" >&2
}

# throwaway_cluster: a PostgreSQL cluster of the script's own in $throwaway
# (`HUASHAN_VAR=$throwaway ./dev db start`, never the shared one), for tests
# that stop or kill it; its migrated database's URL in $url. throwaway_pg
# ARGS runs `./dev db ARGS` on it; cleanup_throwaway_cluster stops and
# removes it (e2e_cleanup does).
E2E_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
throwaway=""
throwaway_pg() { env -u DATABASE_URL HUASHAN_VAR="$throwaway" "$E2E_ROOT/dev" db "$@"; }
throwaway_cluster() {
  throwaway="$(mktemp -d /tmp/huashan-cluster.XXXXXX)"
  url="$(throwaway_pg start 2>/dev/null | sed -n 's/^DATABASE_URL=//p')"
  [ -n "$url" ] || fail "the throwaway PostgreSQL did not start"
  "$HUASHAN" --database-url "$url" db migrate >"$throwaway/migrate.log" 2>&1 ||
    fail "migrating the throwaway database: $(tail -3 "$throwaway/migrate.log")"
}
cleanup_throwaway_cluster() {
  [ -n "$throwaway" ] || return 0
  throwaway_pg stop >/dev/null 2>&1 || true
  rm -rf "$throwaway"
  throwaway=""
}

# synth_arena_models DIR SEED: two tiny random-weight models (qwen3, qwen2) in
# DIR for an arena to serve (--models-dir DIR).
synth_arena_models() {
  local arch
  for arch in qwen3 qwen2; do
    "$HUASHAN" model synth --arch "$arch" --layers 1 --dim 64 --heads 2 --kv-heads 1 --ffn 128 --type q8_0 \
      --seed "$2" --threads 1 -o "$1/tiny-$arch.gguf" >/dev/null
  done
}

# counts_match URL: the stored pair/outcome counts equal those rebuilt from the votes.
counts_match() {
  local diff
  diff="$(psql "$1" -tAc "
    WITH kept AS (SELECT model_a_id, model_b_id, category, language, winner, votes FROM pair_outcome_counts WHERE votes > 0),
         rebuilt AS (SELECT b.model_a_id, b.model_b_id, coalesce(b.category, ''), coalesce(b.language, ''), v.winner, count(*)
                     FROM votes v JOIN battles b ON b.id = v.battle_id WHERE NOT b.flagged GROUP BY 1, 2, 3, 4, 5)
    SELECT (SELECT count(*) FROM (SELECT * FROM kept EXCEPT SELECT * FROM rebuilt) x) +
           (SELECT count(*) FROM (SELECT * FROM rebuilt EXCEPT SELECT * FROM kept) y)")"
  [ "$diff" = 0 ] || fail "pair_outcome_counts differ from the votes in $diff rows"
}

# answered_battle BASE JAR PROMPT OUT: starts a battle at BASE in the session
# whose cookies live in JAR, follows its stream to the end (into OUT) and
# prints the battle id; fails unless both sides answered.
answered_battle() {
  local reply id
  reply="$(curl -s -c "$2" -b "$2" -X POST "$1/api/battles" -H 'Content-Type: application/json' \
    -d "{\"prompt\":\"$3\"}")"
  id="$(echo "$reply" | sed -n 's/.*"battle_id":"\([^"]*\)".*/\1/p')"
  [ -n "$id" ] || fail "no battle id from $1: $reply"
  curl -s -b "$2" --max-time 120 "$1/api/battles/$id/stream" >"$4"
  grep -q "event: turn_done" "$4" || fail "battle $id did not finish: $(tail -c 300 "$4")"
  echo "$id"
}

# stop_gracefully PID: SIGTERM, then the server must exit 0.
stop_gracefully() {
  local rc
  kill -TERM "$1"
  set +e
  wait "$1"
  rc=$?
  set -e
  [ $rc -eq 0 ] || fail "serve exited $rc after SIGTERM, expected 0"
}


# start_serve NAME DIR SERVE_ARGS...: `$HUASHAN serve` on a fresh port against
# $url with SERVE_ARGS; base URL in DIR/NAME.base, output in DIR/NAME.out and
# DIR/NAME.log; its pid joins the caller's `pids`. Returns once /livez answers.
start_serve() {
  local name="$1" dir="$2" port pid
  shift 2
  port="$(free_port)"
  "$HUASHAN" --log-level info --database-url "$url" serve --port "$port" "$@" >"$dir/$name.out" 2>"$dir/$name.log" &
  pid=$!
  pids+=("$pid")
  echo "http://127.0.0.1:$port" >"$dir/$name.base"
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$port/livez" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || fail "serve $name exited: $(tail -5 "$dir/$name.log")"
    sleep 0.1
  done
  fail "serve $name did not answer /livez"
}
