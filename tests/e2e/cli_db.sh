#!/usr/bin/env bash
# `huashan db migrate|status` on an empty database, again as a no-op, and a bad
# DATABASE_URL giving a one-line error.
source "$(dirname "$0")/lib.sh"
HUASHAN="$1"
trap cleanup_databases EXIT

fresh_database
url="$FRESH_URL"

"$HUASHAN" --database-url "$url" db status >/tmp/huashan-e2e-status.$$ && fail "status should exit 1 before migrating"
grep -q "pending" /tmp/huashan-e2e-status.$$ || fail "status did not list pending migrations"

out="$("$HUASHAN" --database-url "$url" db migrate)"
echo "$out" | grep -q "applied" || fail "first migrate did not apply: $out"
out="$("$HUASHAN" --database-url "$url" db migrate)"
echo "$out" | grep -q "nothing to do" || fail "second migrate was not a no-op: $out"
"$HUASHAN" --database-url "$url" db status | grep -q "database is current" || fail "status not current after migrate"

# DATABASE_URL from the environment works too.
DATABASE_URL="$url" "$HUASHAN" db migrate | grep -q "nothing to do" || fail "DATABASE_URL from env not used"

# A bad URL: exit 1, exactly one line on stderr, password not shown.
set +e
err="$("$HUASHAN" --database-url "postgresql://me:hunter2@127.0.0.1:1/none?connect_timeout=3" db migrate 2>&1 >/dev/null)"
rc=$?
set -e
[ $rc -eq 1 ] || fail "bad URL exit code $rc, expected 1"
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "bad URL error is not one line: $err"
echo "$err" | grep -q "huashan: error: cannot connect to the database" || fail "unexpected bad-URL error: $err"
echo "$err" | grep -q "hunter2" && fail "password leaked in: $err"

set +e
err="$("$HUASHAN" --database-url "not a url at all" db status 2>&1 >/dev/null)"
rc=$?
set -e
[ $rc -eq 1 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "malformed URL: rc $rc, error: $err"

rm -f /tmp/huashan-e2e-status.$$
echo "e2e cli_db: ok"
