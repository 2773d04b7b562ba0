#!/usr/bin/env bash
# Install KITAS Online and start it on the embedded default: SQLite, scheduler inside the process.
# KITAS_HOST / KITAS_PORT choose the address (127.0.0.1:5000); Ctrl+C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
host="${KITAS_HOST:-127.0.0.1}"
port="${KITAS_PORT:-5000}"
# Before anything changes (packages, database, demo passwords): is the address free?
if ! python3 -c "import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((sys.argv[1], int(sys.argv[2]))); s.close()" "$host" "$port" 2>/dev/null; then
  echo "Port $port on $host is already in use: is KITAS Online already running? Stop it (Ctrl+C in its terminal)," >&2
  echo "or start this one elsewhere, for example: KITAS_PORT=5001 bash scripts/start.sh" >&2
  exit 1
fi
KITAS_INSTALL_EXTRAS=""  # serving needs no test tools
. scripts/venv.sh
"$VENV/bin/kitas" init
# One account per role; the officers also get an authenticator-app key, and `kitas demo-code EMAIL` prints their code.
"$VENV/bin/kitas" demo
exec "$VENV/bin/kitas" serve --host "$host" --port "$port"
