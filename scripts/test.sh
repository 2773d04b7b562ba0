#!/usr/bin/env bash
# Run every check: lint, types, the test suite on SQLite and on PostgreSQL, and the benchmarks in smoke mode.
# PostgreSQL: KITAS_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test);
# set KITAS_REQUIRE_POSTGRES=1 to fail when it cannot be reached (CI does), otherwise it is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
KITAS_INSTALL_EXTRAS=test
. scripts/venv.sh

echo "== ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
echo "== mypy"
"$VENV/bin/mypy" engine forms workflows kitas bench

echo "== tests on SQLite"
env -u KITAS_TEST_POSTGRES_URL "$VENV/bin/pytest" -q "$@"

PG_URL="${KITAS_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/test}"
if "$VENV/bin/python" -c "import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=5).close()" "$PG_URL" 2>/dev/null; then
  echo "== tests on PostgreSQL"
  KITAS_TEST_POSTGRES_URL="$PG_URL" "$VENV/bin/pytest" -q "$@"
elif [ "${KITAS_REQUIRE_POSTGRES:-0}" = "1" ]; then
  echo "PostgreSQL at $PG_URL cannot be reached, and KITAS_REQUIRE_POSTGRES=1" >&2
  exit 1
else
  echo "== PostgreSQL at $PG_URL not reachable: skipped (set KITAS_REQUIRE_POSTGRES=1 to make this an error)"
fi

# Every benchmark once in a smoke mode, so none can break unnoticed (full runs are manual).
bash scripts/bench-smoke.sh
