"""Fill the Indonesian catalog from a JSON file {msgid: msgstr}: scripts/translations.sh fill FILE.json.

Prints what it filled, the message ids the catalog does not have (run ``update`` first) and every
text still untranslated.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOG = Path("kitas/translations/id/LC_MESSAGES/messages.po")


def main(pairs_file: str) -> None:
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, locale="id")
    pairs = json.loads(Path(pairs_file).read_text(encoding="utf-8"))
    missing = []
    for msgid, text in pairs.items():
        message = catalog.get(msgid)
        if message is None:
            missing.append(msgid)
            continue
        message.string = text
        message.flags.discard("fuzzy")
    with CATALOG.open("wb") as handle:
        write_po(handle, catalog, width=76, no_location=True, sort_output=True)
    # The same header lines scripts/translations.sh drops: dates would make every branch conflict.
    text = CATALOG.read_text(encoding="utf-8")
    CATALOG.write_text(re.sub(r'^"(POT-Creation-Date|Generated-By): .*\n', "", text, flags=re.M), encoding="utf-8")
    left = [message.id for message in catalog if message.id and not message.string]
    print(f"filled {len(pairs) - len(missing)}; not in the catalog: {missing}; still untranslated: {len(left)}")
    for msgid in left:
        print("  ", repr(msgid))


if __name__ == "__main__":
    main(sys.argv[1])
