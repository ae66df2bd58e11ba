#!/usr/bin/env bash
# The whole suite: SQLite, then PostgreSQL when reachable with the browser journeys beside it.
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

# The browser journeys run beside the PostgreSQL run: they spend half their time waiting for
# the browser and the server (3.5 min of wall clock for 1.8 min of CPU), which the PostgreSQL
# run's two workers use. Their output follows the PostgreSQL run's.
browser_out="$LEADLOOP_VAR_DIR/browser.log"
browser_pid=""
if [ -x "$CHROMIUM" ]; then
  mkdir -p "$LEADLOOP_VAR_DIR/browser"
  (
    LEADLOOP_VAR_DIR="$LEADLOOP_VAR_DIR/browser" LEADLOOP_CHROMIUM="$CHROMIUM" \
      DJANGO_ALLOW_ASYNC_UNSAFE=true $BIN/pytest -m browser -q -p no:xdist -p no:cacheprovider
  ) > "$browser_out" 2>&1 &
  browser_pid=$!
fi

echo "== tests on PostgreSQL =="
if $BIN/python - "$PG_URL" <<'PY' 2>/dev/null
import sys, psycopg
psycopg.connect(sys.argv[1].replace("postgres://", "postgresql://"), connect_timeout=3).close()
PY
then
  DATABASE_URL="$PG_URL" $BIN/pytest -n "$WORKERS" -m "not browser" -q || status=$?
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL at $PG_URL is not reachable, and CI must test on it."; status=1
else
  echo "SKIPPED: PostgreSQL at $PG_URL is not reachable (set LEADLOOP_TEST_POSTGRES_URL)."
fi

echo "== browser tests (Playwright + Debian Chromium, run beside PostgreSQL's) =="
if [ -n "$browser_pid" ]; then
  browser_status=0
  wait "$browser_pid" || browser_status=$?
  cat "$browser_out"
  [ "$browser_status" -eq 0 ] || status=$browser_status
elif [ "${CI:-}" = "true" ]; then
  echo "Chromium ($CHROMIUM) is missing, and CI must run the browser tests."; exit 1
else
  echo "SKIPPED: no Chromium at $CHROMIUM (apt-get install chromium, or set LEADLOOP_CHROMIUM)."
fi
exit "$status"
