#!/usr/bin/env bash
# Kill rounds with the real binary and real PostgreSQL: visitors start
# battles and vote without pause while, ROUNDS times each, `huashan serve`,
# the PostgreSQL postmaster and serve's leaderboard process are killed with
# SIGKILL at a random moment and started again (tests/e2e/kill_rounds.py). The cluster is a throwaway one
# of this script's own, never the shared one. Must hold: every acknowledged
# vote is stored once with its choice, no vote is stored that was never sent,
# the pair/outcome counts equal the counts rebuilt from the votes, and the
# leaderboard comes back counting every stored vote, and no leaderboard
# process outlives serve. Prints the figures as a
# JSON line. ROUNDS (3), SESSIONS (6), SEED (1).
source "$(dirname "$0")/lib.sh"
HUASHAN="$1"
e2e_workspace
synth_arena_models "$work" 11
throwaway_cluster
# libpqxx 6.4 drops a PGresult when a connection breaks mid-query (see durability.sh).
echo "leak:PQmakeEmptyPGresult" >"$work/lsan.supp"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$work/lsan.supp"
HUASHAN="$HUASHAN" MODELS="$work" WORK="$work" URL="$url" PG_VAR="$throwaway" ROOT="$E2E_ROOT" \
  ROUNDS="${ROUNDS:-3}" SESSIONS="${SESSIONS:-6}" SEED="${SEED:-1}" \
  python3 "$(dirname "$0")/kill_rounds.py" || fail "kill rounds (server log: $(grep -av ' access ' "$work/server.log" | tail -5))"
[ "$(psql "$url" -tAc "SELECT count(*) - count(DISTINCT battle_id) FROM votes")" = 0 ] || fail "a battle has two votes"
counts_match "$url"
echo "kill rounds: ok"
