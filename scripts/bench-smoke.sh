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
