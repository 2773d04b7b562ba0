#!/usr/bin/env bash
# The gettext catalogs. English texts are the message ids; kitas/translations/id/.../messages.po
# holds Bahasa Indonesia (committed); the .mo files are compiled from it and never committed.
#   scripts/translations.sh update    extract every marked text and update the .po (new ones empty)
#   scripts/translations.sh compile   compile the .mo files (the setup command runs this)
#   scripts/translations.sh fill F    set translations from a JSON file {"English": "Indonesian"}
# Marked texts: _()/gettext()/ngettext()/lazy_gettext() in Python and templates, {% trans %} blocks,
# and Message("...") in services and forms (forms.texts.Message: a message id with parameters).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${KITAS_VENV:-.venv}"
DIR=kitas/translations
case "${1:-}" in
update)
  pot=$(mktemp --suffix=.pot)
  trap 'rm -f "$pot"' EXIT
  "$VENV/bin/pybabel" -q extract -F babel.cfg -k _l -k lazy_gettext -k Message -k _n:1,2 \
    --no-location --sort-output --project "KITAS Online" -o "$pot" kitas forms
  "$VENV/bin/pybabel" -q update -i "$pot" -d "$DIR" --no-fuzzy-matching --ignore-obsolete
  # Dates that change on every run would make every branch's catalog conflict.
  sed -i '/^"POT-Creation-Date: /d; /^"Generated-By: /d' "$DIR"/*/LC_MESSAGES/messages.po
  ;;
compile)
  "$VENV/bin/pybabel" -q compile -d "$DIR"
  ;;
fill)
  "$VENV/bin/python" scripts/po_fill.py "$2"
  ;;
*)
  echo "usage: $0 update|compile|fill FILE.json" >&2
  exit 2
  ;;
esac
