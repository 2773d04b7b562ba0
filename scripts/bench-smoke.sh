#!/usr/bin/env bash
# Run every benchmark in a smoke mode (tiny N, a few seconds each) so that none can rot unnoticed.
# Checks that each one finishes and prints its JSON report with no errors; the figures themselves
# are meaningless at this size (full runs are manual, see the README).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
PG_URL="${KITAS_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/test}"

echo "== bench/engine.py (smoke)"
"$VENV/bin/python" bench/engine.py --cases 2 --pg-url "$PG_URL" >"$out/engine.json" 2>"$out/engine.log" || {
  cat "$out/engine.log" >&2
  exit 1
}
"$VENV/bin/python" - "$out/engine.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
measured = {name: r for name, r in report["databases"].items() if "service" in r}
assert measured, f"no database was measured: {report['databases']}"
for name, result in measured.items():
    assert result["service"]["complete_task"]["n"] > 0, name
    assert result["sql_statements"]["per_complete_task"]["median"] > 0, name
print("   ok:", ", ".join(f"{n} {r['ratio_service_over_bare']['median']}x bare" for n, r in measured.items()))
PY

echo "== bench/http.py (smoke)"
"$VENV/bin/python" bench/http.py --cases 120 --applicants 12 --seconds 1 --rounds 1 --warmup 0.2 --clients 2 \
  >"$out/http.json" 2>"$out/http.log" || {
  cat "$out/http.log" >&2
  exit 1
}
"$VENV/bin/python" - "$out/http.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
assert not report["pages_with_errors"], report["pages_with_errors"]
assert report["audit_chain"].startswith("intact"), report["audit_chain"]
assert all(page["requests"] > 0 and page["renders_expected_content"] for page in report["pages"].values())
print("   ok:", ", ".join(f"{n} {p['requests_per_second']} req/s" for n, p in report["pages"].items()))
PY

echo "== bench/inbox.py (smoke, SQLite)"
"$VENV/bin/python" bench/inbox.py --smoke >"$out/inbox.json" 2>"$out/inbox.log" || {
  cat "$out/inbox.log" >&2
  exit 1
}
"$VENV/bin/python" - "$out/inbox.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
for name, result in report["databases"].items():
    assert result["errors"] == 0, (name, result)
    views = result["views"]
    assert views["all"]["rows_on_page"] == 25 and views["search_register_number"]["total"] >= 1, views["all"]
    assert all(v["requests"] > 0 for v in views.values()), name
print("   ok:", ", ".join(f"{n} max {r['max_db_ms']['ms']} ms at the database" for n, r in report["databases"].items()))
PY

# The multi-process benchmarks need PostgreSQL; without it (and without KITAS_REQUIRE_POSTGRES=1) they are skipped.
if ! "$VENV/bin/python" -c "import psycopg, sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$PG_URL" 2>/dev/null; then
  if [ "${KITAS_REQUIRE_POSTGRES:-0}" = "1" ]; then
    echo "PostgreSQL at $PG_URL not reachable" >&2
    exit 1
  fi
  echo "== bench/inbox.py (PostgreSQL), bench/timers.py, bench/soak.py: PostgreSQL at $PG_URL not reachable: skipped"
  exit 0
fi

echo "== bench/inbox.py (smoke, PostgreSQL)"
"$VENV/bin/python" bench/inbox.py --smoke --no-sqlite --pg-url "$PG_URL" >"$out/inbox-pg.json" 2>"$out/inbox-pg.log" || {
  cat "$out/inbox-pg.log" >&2
  exit 1
}
"$VENV/bin/python" - "$out/inbox-pg.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
result = report["databases"]["postgresql"]
assert result["errors"] == 0, result
assert all("indexes" in s for v in result["views"].values() for s in v["statements"]), "EXPLAIN ANALYZE missing"
print(f"   ok: max {result['max_db_ms']['ms']} ms at the database (EXPLAIN ANALYZE)")
PY

echo "== bench/timers.py (smoke)"
"$VENV/bin/python" bench/timers.py --smoke --pg-url "$PG_URL" >"$out/timers.json" 2>"$out/timers.log" || {
  cat "$out/timers.log" >&2
  exit 1
}
"$VENV/bin/python" - "$out/timers.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
assert report["fired"] == report["timers"] > 0, report
assert report["lost"] == 0 and report["duplicated"] == 0, report
assert len(report["fired_per_scheduler"]) >= 1, report
print(f"   ok: {report['fired']} timers, p95 lateness {report['lateness_s']['p95']} s, none lost or duplicated")
PY

echo "== bench/soak.py (smoke: a scheduler killed, no PostgreSQL restart)"
"$VENV/bin/python" bench/soak.py --smoke --pg-url "$PG_URL" >"$out/soak.json" 2>"$out/soak.log" || {
  cat "$out/soak.log" "$out/soak.json" >&2
  exit 1
}
"$VENV/bin/python" - "$out/soak.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
assert report["ok"], report["problems"]
assert report["cases"]["started"] > 0 and report["requests"]["total"] > 0, report
assert report["timers"]["fired"] == report["timers"]["scheduled"] > 0, report["timers"]
assert report["emails"]["received"] > 0 and report["audit_chain_intact"], report
assert "scheduler_killed_at_s" in report["faults"], report["faults"]
print(f"   ok: {report['cases']['started']} cases, {report['requests']['total']} requests, chain {report['audit_chain']}")
PY
