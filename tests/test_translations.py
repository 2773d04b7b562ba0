"""Every text a person reads exists in both languages.

* a template with text outside ``_()``/``{% trans %}`` fails (HTML text and the attributes people
  read: aria-label, title, placeholder, alt), and so does an e-mail template;
* the Indonesian catalog has every marked text of the code and the templates, none untranslated,
  none fuzzy, none left over from texts that are gone;
* a translation keeps the placeholders of its English text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from jinja2 import Environment

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "kitas" / "templates"
CATALOG = ROOT / "kitas" / "translations" / "id" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "Message": None, "_n": (1, 2)}
# Words that read the same in both languages: names, codes and abbreviations.
SAME_IN_BOTH = frozenset(
    "KITAS ITAS Online RPTKA NIB NPWP WIB WITA WIT PDF JPEG PNG QR TOTP SMS SLA PNBP E23 Rp OK ID true false".split()
)
_WORD = re.compile(r"[^\W\d_][^\W\d_]+")
_MARK = "0"  # stands for every Jinja expression or tag: no word, and harmless inside an HTML tag


def _environment() -> Environment:
    return Environment(extensions=["jinja2.ext.i18n", "jinja2.ext.do"])


def _untranslated_pieces(source: str) -> str:
    """The template with every expression, tag and trans block replaced by a mark: what is left is
    literal text (and HTML) written in one language."""
    pieces: list[str] = []
    depth = 0
    block: list[str] = []
    for _line, kind, value in _environment().lex(source):
        if kind == "block_begin":
            block = []
            continue
        if kind == "name" and block == [] and kind != "data":
            block.append(value)
        if kind == "block_end" and block:
            name = block[0]
            if name == "trans":
                depth += 1
            elif name == "endtrans":
                depth -= 1
            block = []
            pieces.append(_MARK)
            continue
        if kind == "data":
            pieces.append(_MARK if depth else value)
        elif kind in ("variable_begin", "comment_begin"):
            pieces.append(_MARK)
    return "".join(pieces)


_READ = re.compile(r'(?<![\w-])(?:aria-label|title|placeholder|alt)="([^"]*)"')
_HIDDEN = re.compile(r"<!--.*?-->|<(script|style)\b.*?</\1>", re.S | re.I)
_TAG = re.compile(r"<[^>]*>")
# An attribute a macro writes outside any tag (`` aria-invalid="true"``): markup, not text.
_ATTRIBUTE = re.compile(r'[\w:-]+="[^"]*"')


def _html_texts(literal: str) -> list[str]:
    """The attributes people read, and the text between the tags."""
    visible = _HIDDEN.sub(" ", literal)
    read = _READ.findall(visible)
    between = _ATTRIBUTE.sub(" ", _TAG.sub("\n", visible))
    return read + between.split("\n")


def _one_language_words(text: str) -> list[str]:
    return [word for word in _WORD.findall(text) if word not in SAME_IN_BOTH]


def untranslated_texts(source: str, html: bool = True) -> list[str]:
    """Each literal text of a template that has a word in it (so exists in one language only)."""
    literal = _untranslated_pieces(source)
    texts = _html_texts(literal) if html else literal.split(_MARK)
    return [" ".join(text.split()) for text in texts if _one_language_words(text)]


PAGE_TEMPLATES = sorted(TEMPLATES.rglob("*.html"))
MAIL_TEMPLATES = sorted(TEMPLATES.rglob("*.txt"))


@pytest.mark.parametrize("path", PAGE_TEMPLATES + MAIL_TEMPLATES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_every_template_text_is_translatable(path: Path) -> None:
    found = untranslated_texts(path.read_text(encoding="utf-8"), html=path.suffix == ".html")
    assert not found, f"{path.relative_to(ROOT)} has text in one language only: {found[:8]}"


def test_the_template_check_finds_a_text_in_one_language() -> None:
    assert untranslated_texts('<p title="Open it">{{ _("Hello") }} <b>world</b></p>') == ["Open it", "world"]
    assert untranslated_texts('<input{% if e %} aria-invalid="true"{% endif %} placeholder="{{ _("Name") }}">') == []
    assert untranslated_texts('{% trans %}Your case{% endtrans %} <a href="{{ url }}">{{ name }}</a> · KITAS') == []
    assert untranslated_texts("{% if x %}Dear {{ name }},{% endif %}", html=False) == ["Dear"]


def _catalog() -> dict[str, tuple[str, bool]]:
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, locale="id")
    entries = {}
    for message in catalog:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        string = message.string[0] if isinstance(message.string, tuple) else message.string
        entries[key] = (string or "", message.fuzzy)
    return entries


def _marked_texts() -> set[str]:
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    marked: set[str] = set()
    for directory in ("kitas", "forms"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT / directory), method_map, options_map, keywords=KEYWORDS
        ):
            marked.add(message[0] if isinstance(message, tuple) else message)
    return marked


def test_the_indonesian_catalog_has_every_marked_text_translated() -> None:
    entries = _catalog()
    marked = _marked_texts()
    assert marked, "no marked text found: is babel.cfg right?"
    missing = sorted(marked - entries.keys())
    assert not missing, f"not in the catalog (run scripts/translations.sh update): {missing[:10]}"
    untranslated = sorted(msgid for msgid, (string, _fuzzy) in entries.items() if not string.strip())
    assert not untranslated, f"untranslated in {CATALOG.relative_to(ROOT)}: {untranslated[:10]}"
    fuzzy = sorted(msgid for msgid, (_string, is_fuzzy) in entries.items() if is_fuzzy)
    assert not fuzzy, f"fuzzy (check and clear the flag): {fuzzy[:10]}"
    stale = sorted(entries.keys() - marked)
    assert not stale, f"in the catalog but no longer marked anywhere (run scripts/translations.sh update): {stale[:10]}"


_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


def test_every_translation_keeps_the_placeholders_of_its_english_text() -> None:
    broken = []
    for msgid, (string, _fuzzy) in _catalog().items():
        if string and set(_PLACEHOLDER.findall(msgid)) != set(_PLACEHOLDER.findall(string)):
            broken.append((msgid, string))
    assert not broken, f"placeholders differ: {broken[:5]}"
