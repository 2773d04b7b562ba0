#!/usr/bin/env bash
# Install the front-end packages from package-lock.json and copy the files the pages use
# into kitas/static/vendor/ (git-ignored). Sourced by scripts/venv.sh; safe to run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=kitas/static/vendor
stamp="$out/.installed"
studio_stamp="$out/studio/.built"
# The studio's modeler bundle: esbuild (an npm devDependency) builds frontend/studio/modeler.js with
# bpmn-js and its properties panel into $out/studio/, with the properties panel's CSS beside it.
# Rebuilt when a frontend/ source or the lock file is newer than its stamp.
build_studio() {
  if [ -f "$studio_stamp" ] && [ ! package-lock.json -nt "$studio_stamp" ] \
    && [ -z "$(find frontend -type f -newer "$studio_stamp" -print -quit)" ]; then
    return 0
  fi
  rm -rf "$out/studio"
  mkdir -p "$out/studio"
  node frontend/studio/build.mjs frontend/studio/modeler.js "$out/studio/modeler.js"
  cp node_modules/@bpmn-io/properties-panel/dist/assets/properties-panel.css "$out/studio/"
  cp frontend/studio/properties/properties.css "$out/studio/kitas-properties.css"
  touch "$studio_stamp"
}
if [ -f "$stamp" ] && [ ! package-lock.json -nt "$stamp" ]; then
  build_studio
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "npm is needed to install the front-end packages (Bootstrap, htmx, bpmn-js, axe-core, esbuild); install Node.js" >&2
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
# dmn-js (the studio's decision table editor, issue 12 §4): the modeler's UMD build and its styles.
mkdir -p "$out/dmn-js"
cp node_modules/dmn-js/dist/dmn-modeler.production.min.js "$out/dmn-js/"
cp -r node_modules/dmn-js/dist/assets "$out/dmn-js/"
touch "$stamp"
build_studio
