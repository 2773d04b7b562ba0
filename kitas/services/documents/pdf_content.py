"""Active content in a PDF: JavaScript, actions that run by themselves, launch actions, embedded files.

Two independent lines, so that a trick that hides an object from one is seen by the other:

1. the parsed document (pypdf): every object reachable from the trailer (the catalog, its name trees,
   pages, annotations, form fields ...) and then every object of the cross-reference tables that was
   not reached, including objects packed in object streams and the objects of incremental updates;
2. the raw bytes: every PDF name outside stream data (``#xx`` escapes decoded), plus the decompressed
   content of every object stream, found by its own dictionary, so also the streams of older revisions.

A plain destination as the opening action ("open at page 1, fit the width", which many producers write)
is not an action and is accepted; any other opening action is refused.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, PdfObject, TextStringObject

JAVASCRIPT = "javascript"
AUTOMATIC_ACTION = "automatic_action"
LAUNCH = "launch"
EMBEDDED_FILE = "embedded_file"
XFA_FORM = "xfa_form"
TOO_COMPLEX = "too_complex"
# The order in which the reasons are told.
REASONS = (JAVASCRIPT, XFA_FORM, AUTOMATIC_ACTION, LAUNCH, EMBEDDED_FILE, TOO_COMPLEX)

# Far beyond a scan or a letter (a few hundred objects); a file of more tiny objects is refused, not walked.
MAX_OBJECTS = 200_000
# Decompressed object streams read by the raw scan, in total.
MAX_OBJECT_STREAM_BYTES = 64 * 1024 * 1024

# A name in the raw bytes: a solidus and regular characters up to the next delimiter or white space.
_NAME = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]*)")
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# The keyword that opens stream data, right after its dictionary.
_STREAM_START = re.compile(rb">>\s*stream(?:\r\n|\n|\r)")
_OBJ = re.compile(rb"\d+\s+\d+\s+obj\b")
# Names that are active content wherever they stand (OpenAction is judged separately, see below).
_RAW_NAMES = {
    b"JS": JAVASCRIPT,
    b"JavaScript": JAVASCRIPT,
    b"XFA": XFA_FORM,
    b"AA": AUTOMATIC_ACTION,
    b"Launch": LAUNCH,
    b"EmbeddedFiles": EMBEDDED_FILE,
    b"EmbeddedFile": EMBEDDED_FILE,
    b"FileAttachment": EMBEDDED_FILE,
}


def active_content(reader: PdfReader, data: bytes) -> set[str]:
    """The kinds of active content (``REASONS``) found in a PDF, by its parsed objects and its raw bytes."""
    found, harmless_open_action = in_parsed_objects(reader)
    found |= in_raw_bytes(data, open_action_explained=harmless_open_action)
    return found


def in_parsed_objects(reader: PdfReader) -> tuple[set[str], bool]:
    """What the parsed objects hold, and whether the catalog's opening action is a plain destination."""
    found: set[str] = set()
    harmless_open_action = False
    visited: set[tuple[int, int]] = set()
    pending: list[PdfObject | None] = [reader.trailer]
    pending.extend(_every_object_reference(reader))
    while pending:
        item = pending.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in visited:
                continue
            visited.add(key)
            if len(visited) > MAX_OBJECTS:
                found.add(TOO_COMPLEX)
                break
            try:
                item = item.get_object()
            except Exception:  # an object pypdf cannot read; the raw scan still sees its bytes
                continue
        if isinstance(item, DictionaryObject):
            if _inspect(item, found):
                harmless_open_action = True
            pending.extend(item.values())
        elif isinstance(item, ArrayObject):
            pending.extend(item)
    return found, harmless_open_action


def _every_object_reference(reader: PdfReader) -> Iterator[IndirectObject]:
    """Every object the cross-reference tables name (all revisions pypdf merged, and object streams)."""
    for generation, entries in reader.xref.items():
        for idnum in entries:
            yield IndirectObject(idnum, generation, reader)
    for idnum in reader.xref_objStm:
        yield IndirectObject(idnum, 0, reader)


def _raw(item: DictionaryObject, key: str) -> PdfObject | None:
    """The entry under ``key`` as written (a reference stays a reference), or None."""
    return dict.get(item, key)


def _name(value: PdfObject | None) -> str | None:
    """The value as a name (resolving a reference), or None."""
    try:
        value = value.get_object() if isinstance(value, IndirectObject) else value
    except Exception:
        return None
    return str(value) if isinstance(value, NameObject) else None


def _inspect(item: DictionaryObject, found: set[str]) -> bool:
    """Add what one dictionary holds to ``found``; True when it has a harmless opening action."""
    keys = set(item.keys())
    kind = _name(_raw(item, "/S"))
    if "/JS" in keys or "/JavaScript" in keys or kind == "/JavaScript":
        found.add(JAVASCRIPT)
    if kind == "/Launch":
        found.add(LAUNCH)
    if "/AA" in keys:
        found.add(AUTOMATIC_ACTION)
    if "/XFA" in keys:
        found.add(XFA_FORM)
    if (
        "/EmbeddedFiles" in keys
        or "/EF" in keys
        or _name(_raw(item, "/Type")) == "/EmbeddedFile"
        or _name(_raw(item, "/Subtype")) == "/FileAttachment"
    ):
        found.add(EMBEDDED_FILE)
    if "/OpenAction" in keys:
        if _is_destination(_raw(item, "/OpenAction")):
            return True
        found.add(AUTOMATIC_ACTION)
    return False


def _is_destination(value: PdfObject | None) -> bool:
    """True for an opening "action" that only says where to open: a destination, or a plain GoTo to one."""
    try:
        value = value.get_object() if isinstance(value, IndirectObject) else value
        if isinstance(value, (ArrayObject, NameObject, TextStringObject)):
            return True
        if isinstance(value, DictionaryObject):
            return _name(_raw(value, "/S")) == "/GoTo" and "/Next" not in value
    except Exception:
        return False
    return False


def in_raw_bytes(data: bytes, *, open_action_explained: bool) -> set[str]:
    """Active content named in the raw bytes outside stream data, and inside every object stream."""
    found: set[str] = set()
    open_action = False
    for text in _raw_texts(data):
        for match in _NAME.finditer(text):
            name = _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), match.group(1))
            if name in _RAW_NAMES:
                found.add(_RAW_NAMES[name])
            elif name == b"OpenAction":
                open_action = True
    if open_action and not open_action_explained:
        # An opening action the parsed document does not show as a plain destination: hidden, so refused.
        found.add(AUTOMATIC_ACTION)
    return found


def _raw_texts(data: bytes) -> Iterator[bytes]:
    """The parts of the file that are PDF syntax: between stream data, and each object stream unpacked."""
    position = 0
    unpacked = 0
    for start in _STREAM_START.finditer(data):
        if start.start() < position:  # this "stream" keyword lies inside the data of the previous stream
            continue
        dictionary_start = max((m.end() for m in _OBJ.finditer(data, position, start.start())), default=position)
        yield data[position : start.end()]
        end = data.find(b"endstream", start.end())
        end = len(data) if end < 0 else end
        dictionary = data[dictionary_start : start.start() + 2]
        if b"ObjStm" in _decoded_names(dictionary) and unpacked < MAX_OBJECT_STREAM_BYTES:
            content = _inflate(data[start.end() : end], MAX_OBJECT_STREAM_BYTES - unpacked)
            unpacked += len(content)
            yield content
        position = end
    yield data[position:]


def _decoded_names(text: bytes) -> set[bytes]:
    return {_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), m.group(1)) for m in _NAME.finditer(text)}


def _inflate(stream: bytes, limit: int) -> bytes:
    """Flate-decoded stream data, at most ``limit`` bytes; what cannot be decoded yields nothing."""
    try:
        return zlib.decompressobj().decompress(stream, max(limit, 1))
    except zlib.error:
        return b""
