# Sourced by the scripts: create .venv if needed and install the project, quietly (the pip log is
# shown only when the install fails). KITAS_INSTALL_EXTRAS chooses the extras: "test" (the default,
# scripts/test.sh: pytest, ruff, mypy, Playwright, ...) or "" (scripts/start.sh: no test tools).
VENV="${KITAS_VENV:-.venv}"
extras="${KITAS_INSTALL_EXTRAS-test}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
spec="."
[ -n "$extras" ] && spec=".[$extras]"
stamp="$VENV/.kitas-installed${extras:+-$extras}"
fresh() { [ -f "$1" ] && [ ! setup.cfg -nt "$1" ] && [ ! pyproject.toml -nt "$1" ]; }
# An install with the test tools also serves the start command.
if ! fresh "$stamp" && ! { [ -z "$extras" ] && fresh "$VENV/.kitas-installed-test"; }; then
  echo "installing KITAS Online${extras:+ with its $extras tools} into $VENV (a minute or two the first time)"
  log="$VENV/install.log"
  if ! { "$VENV/bin/python" -m pip install --quiet --upgrade pip &&
    "$VENV/bin/python" -m pip install --quiet -e "$spec"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "installing the Python packages failed; the pip output above is kept in $log" >&2
    exit 1
  fi
  touch "$stamp"
fi
bash scripts/vendor.sh
# The Indonesian catalog, compiled from the committed .po (the .mo files are never committed).
bash scripts/translations.sh compile
