#!/usr/bin/env bash
# Install the front-end packages from package-lock.json and copy the files the pages use
# into kitas/static/vendor/ (git-ignored). Sourced by scripts/venv.sh; safe to run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=kitas/static/vendor
stamp="$out/.installed"
if [ -f "$stamp" ] && [ ! package-lock.json -nt "$stamp" ]; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "npm is needed to install the front-end packages (Bootstrap, htmx, bpmn-js, axe-core); install Node.js" >&2
  exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
rm -rf "$out"
mkdir -p "$out/bpmn-js"
cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/js/bootstrap.bundle.min.js "$out/"
cp node_modules/htmx.org/dist/htmx.min.js "$out/"
cp node_modules/bpmn-js/dist/bpmn-modeler.production.min.js node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js "$out/bpmn-js/"
cp -r node_modules/bpmn-js/dist/assets "$out/bpmn-js/"
# axe-core: only the browser tests use it (injected into each page to check accessibility).
cp node_modules/axe-core/axe.min.js "$out/"
touch "$stamp"

# dmn-js (the studio's decision table editor, issue 12 §4): the modeler's UMD build and its styles.
mkdir -p "$out/dmn-js"
cp node_modules/dmn-js/dist/dmn-modeler.production.min.js "$out/dmn-js/"
cp -r node_modules/dmn-js/dist/assets "$out/dmn-js/"
