#!/usr/bin/env bash
# The whole suite: SQLite, then PostgreSQL when reachable, then the browser journeys.
# In CI (CI=true) a missing PostgreSQL or Chromium is a failure; on a laptop it is skipped
# with a line saying so.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export TASKS_BACKEND=dummy
export LEADLOOP_VAR_DIR="${LEADLOOP_VAR_DIR:-$(mktemp -d)}"
PG_URL="${LEADLOOP_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
WORKERS="${PYTEST_WORKERS:-2}"
CHROMIUM="${LEADLOOP_CHROMIUM:-/usr/bin/chromium}"
status=0

echo "== lint (ruff, format, import contracts, mypy, migrations) =="
bash scripts/lint.sh

echo "== tests on SQLite =="
$BIN/pytest -n "$WORKERS" -m "not browser" -q || status=$?
[ "$status" -eq 0 ] || exit "$status"

echo "== tests on PostgreSQL =="
if $BIN/python - "$PG_URL" <<'PY' 2>/dev/null
import sys, psycopg
psycopg.connect(sys.argv[1].replace("postgres://", "postgresql://"), connect_timeout=3).close()
PY
then
  DATABASE_URL="$PG_URL" $BIN/pytest -n "$WORKERS" -m "not browser" -q || status=$?
  [ "$status" -eq 0 ] || exit "$status"
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL at $PG_URL is not reachable, and CI must test on it."; exit 1
else
  echo "SKIPPED: PostgreSQL at $PG_URL is not reachable (set LEADLOOP_TEST_POSTGRES_URL)."
fi

echo "== browser tests (Playwright + Debian Chromium) =="
if [ -x "$CHROMIUM" ]; then
  LEADLOOP_CHROMIUM="$CHROMIUM" DJANGO_ALLOW_ASYNC_UNSAFE=true $BIN/pytest -m browser -q -p no:xdist || status=$?
elif [ "${CI:-}" = "true" ]; then
  echo "Chromium ($CHROMIUM) is missing, and CI must run the browser tests."; exit 1
else
  echo "SKIPPED: no Chromium at $CHROMIUM (apt-get install chromium, or set LEADLOOP_CHROMIUM)."
fi
exit "$status"
