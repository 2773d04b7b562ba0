#!/usr/bin/env bash
# Install KITAS Online and start it on the embedded default: SQLite, scheduler inside the process.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
"$VENV/bin/kitas" init
"$VENV/bin/kitas" demo
exec "$VENV/bin/kitas" serve --host "${KITAS_HOST:-127.0.0.1}" --port "${KITAS_PORT:-5000}"
