"""Sample upload files built in code: good PDF, JPEG and PNG files, and each kind of bad one."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from collections.abc import Callable

from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, PdfObject, TextStringObject


def pdf_bytes(pages: int = 1) -> bytes:
    """A real PDF with blank A4 pages."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _image(fmt: str, size: tuple[int, int] = (64, 48)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    for x in range(size[0]):
        image.putpixel((x, x % size[1]), (255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def jpeg_bytes(size: tuple[int, int] = (320, 400)) -> bytes:
    """A real JPEG photo that meets the worker checklist's photo rules (JPEG, over 10 kB, 300 x 400 pixels)."""
    photo = Image.effect_noise(size, 60).convert("RGB")
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def photo_bytes(size: tuple[int, int] = (420, 520), margin: int = 40, quality: int = 90) -> bytes:
    """A passport-style JPEG: a noisy "face" on a plain white background (the student checklist's photo:
    100 to 200 kB at the default size)."""
    photo = Image.new("RGB", size, (255, 255, 255))
    face = Image.effect_noise((size[0] - 2 * margin, size[1] - 2 * margin), 60).convert("RGB")
    photo.paste(face, (margin, margin))
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def png_bytes() -> bytes:
    """A real small PNG image."""
    return _image("PNG")


def encrypted_pdf() -> bytes:
    """A PDF that needs a password to open."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt("secret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def pdf_without_pages() -> bytes:
    """A well-formed PDF whose page tree is empty."""
    buffer = io.BytesIO()
    PdfWriter().write(buffer)
    return buffer.getvalue()


def truncated_pdf() -> bytes:
    """A PDF cut off half way, as an interrupted download leaves it."""
    data = pdf_bytes(3)
    return data[: len(data) // 2]


def pdf_with_broken_body() -> bytes:
    """A PDF header and trailer around garbage: no object, no readable cross-reference table."""
    return b"%PDF-1.7\n" + b"\x00garbage " * 50 + b"\nxref\nnot a table\nstartxref\n999999\n%%EOF\n"


def truncated_png() -> bytes:
    """A PNG missing the second half of its data."""
    data = _image("PNG", (200, 200))
    return data[: len(data) // 2]


def truncated_jpeg() -> bytes:
    """A JPEG missing the second half of its data."""
    data = _image("JPEG", (200, 200))
    return data[: len(data) // 2]


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A small PNG that claims 400 megapixels of zeros (a decompression bomb)."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")


def zip_bytes() -> bytes:
    """A ZIP archive (of one highly compressible file), as a zip bomb would be."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.txt", b"0" * 1_000_000)
    return buffer.getvalue()


def exe_bytes() -> bytes:
    """The start of a Windows executable (an MZ header and its DOS stub text)."""
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 50 + b"This program cannot be run in DOS mode.\r\n" * 4


def html_bytes() -> bytes:
    """A web page with a script."""
    return b"<!DOCTYPE html>\n<html><body><script>alert(document.cookie)</script></body></html>\n"


def noisy_png(side: int = 250) -> bytes:
    """A valid PNG of random pixels (it does not compress: about 3 * side * side bytes)."""
    image = Image.frombytes("RGB", (side, side), os.urandom(3 * side * side))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def pdf_of_size(kilobytes: int) -> bytes:
    """A real one-page PDF of at least ``kilobytes`` KB (an uncompressed page content stream)."""
    from pypdf.generic import DecodedStreamObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    stream = DecodedStreamObject()
    stream.set_data(b"q 1 0 0 1 0 0 cm Q\n" * (kilobytes * 1024 // 19 + 1))
    page[NameObject("/Contents")] = writer._add_object(stream)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def pdf_content_bomb(pages: int = 3, megabytes_per_page: int = 20) -> bytes:
    """A small PDF whose compressed page contents unpack to many megabytes of zeros."""
    from pypdf.generic import DecodedStreamObject, NameObject

    writer = PdfWriter()
    for _ in range(pages):
        page = writer.add_blank_page(width=595, height=842)
        stream = DecodedStreamObject()
        stream.set_data(b"0" * (megabytes_per_page * 1024 * 1024))
        page[NameObject("/Contents")] = writer._add_object(stream.flate_encode())
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


# --- PDFs with active content (each kind the upload checks refuse), and harmless look-alikes -----------


def _pdf_with(change: Callable[[PdfWriter], object]) -> bytes:
    """A one-page PDF written by pypdf after ``change`` edited it."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    change(writer)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _action(kind: str, **entries: PdfObject) -> DictionaryObject:
    action = DictionaryObject({NameObject("/S"): NameObject(kind)})
    action.update({NameObject(f"/{key}"): value for key, value in entries.items()})
    return action


def _annotation(writer: PdfWriter, subtype: str, **entries: PdfObject) -> None:
    annotation = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject(subtype),
            NameObject("/Rect"): ArrayObject([NumberObject(n) for n in (50, 50, 200, 80)]),
        }
    )
    annotation.update({NameObject(f"/{key}"): value for key, value in entries.items()})
    writer.add_annotation(0, annotation)


def _add_document_javascript(writer: PdfWriter, code: str) -> None:
    """Document-level JavaScript: an entry of the catalog's /Names /JavaScript name tree."""
    script = writer._add_object(_action("/JavaScript", JS=TextStringObject(code)))
    tree = DictionaryObject({NameObject("/Names"): ArrayObject([TextStringObject("greeting"), script])})
    names = DictionaryObject({NameObject("/JavaScript"): writer._add_object(tree)})
    writer.root_object[NameObject("/Names")] = writer._add_object(names)


def pdf_with_javascript() -> bytes:
    """A PDF whose document-level JavaScript (the /JavaScript name tree) runs when it opens."""
    return _pdf_with(lambda writer: _add_document_javascript(writer, "app.alert('hello');"))


def pdf_with_open_action_javascript() -> bytes:
    """A PDF whose opening action is JavaScript."""

    def change(writer: PdfWriter) -> None:
        writer.root_object[NameObject("/OpenAction")] = _action("/JavaScript", JS=TextStringObject("app.alert(1)"))

    return _pdf_with(change)


def pdf_with_open_action_uri() -> bytes:
    """A PDF that opens a web site by itself when it is opened (an automatic action, no script)."""

    def change(writer: PdfWriter) -> None:
        writer.root_object[NameObject("/OpenAction")] = _action("/URI", URI=TextStringObject("http://example.org/"))

    return _pdf_with(change)


def pdf_with_page_additional_action() -> bytes:
    """A PDF whose page runs an action when it is shown (/AA with /O)."""

    def change(writer: PdfWriter) -> None:
        action = _action("/URI", URI=TextStringObject("http://example.org/"))
        writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): action})

    return _pdf_with(change)


def pdf_with_launch_action() -> bytes:
    """A PDF with a link that starts a program (a launch action)."""
    return _pdf_with(lambda writer: _annotation(writer, "/Link", A=_action("/Launch", F=TextStringObject("calc.exe"))))


def pdf_with_embedded_file() -> bytes:
    """A PDF with a file attached to the document (the /EmbeddedFiles name tree)."""
    return _pdf_with(lambda writer: writer.add_attachment("notes.txt", b"hello"))


def pdf_with_file_attachment_annotation() -> bytes:
    """A PDF with a file-attachment annotation on its page."""
    filespec = DictionaryObject(
        {NameObject("/Type"): NameObject("/Filespec"), NameObject("/F"): TextStringObject("a.txt")}
    )
    return _pdf_with(lambda writer: _annotation(writer, "/FileAttachment", FS=filespec))


def pdf_with_xfa_form() -> bytes:
    """A PDF carrying an XFA form (XML forms that run their own scripts)."""

    def change(writer: PdfWriter) -> None:
        writer.root_object[NameObject("/AcroForm")] = DictionaryObject(
            {NameObject("/Fields"): ArrayObject(), NameObject("/XFA"): TextStringObject("<xdp:xdp/>")}
        )

    return _pdf_with(change)


def pdf_with_javascript_and_attachment() -> bytes:
    """A PDF with both document JavaScript and an attached file."""

    def change(writer: PdfWriter) -> None:
        writer.add_attachment("a.exe", b"MZ")
        writer.root_object[NameObject("/OpenAction")] = _action("/JavaScript", JS=TextStringObject("app.alert(1)"))

    return _pdf_with(change)


def pdf_opening_at_a_destination() -> bytes:
    """A PDF whose opening "action" is only where to open (page 1, fit), as many producers write."""

    def change(writer: PdfWriter) -> None:
        page = writer.pages[0].indirect_reference
        writer.root_object[NameObject("/OpenAction")] = ArrayObject([page, NameObject("/Fit")])

    return _pdf_with(change)


def pdf_with_web_link() -> bytes:
    """A PDF with a link to a web site that the reader may click (no automatic action)."""
    return _pdf_with(
        lambda writer: _annotation(writer, "/Link", A=_action("/URI", URI=TextStringObject("https://example.org/")))
    )


def pdf_with_incremental_javascript() -> bytes:
    """A clean PDF with an incremental update appended that adds document JavaScript."""
    clean = pdf_bytes()
    writer = PdfWriter(io.BytesIO(clean), incremental=True)
    _add_document_javascript(writer, "app.alert('added later');")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def pdf_in_object_stream(catalog_extra: bytes = b"", *, hex_encoded: bool = False) -> bytes:
    """A PDF 1.5 whose catalog, pages and page sit in a compressed object stream, found through an
    xref stream; ``catalog_extra`` is added to the catalog dictionary (for example an opening action).
    ``hex_encoded``: the object stream is ASCII-hex encoded instead of deflated."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    offsets, body = [], b""
    for item in objects:
        offsets.append(len(body))
        body += item + b"\n"
    header = b" ".join(f"{number} {offset}".encode() for number, offset in zip((1, 2, 3), offsets, strict=True)) + b"\n"
    packed = (header + body).hex().encode() + b">" if hex_encoded else zlib.compress(header + body)
    encoding = "/ASCIIHexDecode" if hex_encoded else "/FlateDecode"
    out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    stream_offset = len(out)
    out += (
        (
            f"4 0 obj\n<< /Type /ObjStm /N 3 /First {len(header)} /Filter {encoding} /Length {len(packed)} >>\nstream\n"
        ).encode()
        + packed
        + b"\nendstream\nendobj\n"
    )
    xref_offset = len(out)
    rows = [b"\x00" + (0).to_bytes(4, "big") + (0xFFFF).to_bytes(2, "big")]
    rows += [b"\x02" + (4).to_bytes(4, "big") + index.to_bytes(2, "big") for index in range(3)]
    rows += [b"\x01" + stream_offset.to_bytes(4, "big") + (0).to_bytes(2, "big")]
    rows += [b"\x01" + xref_offset.to_bytes(4, "big") + (0).to_bytes(2, "big")]
    table = b"".join(rows)
    out += (
        (f"5 0 obj\n<< /Type /XRef /Size 6 /W [1 4 2] /Root 1 0 R /Length {len(table)} >>\nstream\n").encode()
        + table
        + b"\nendstream\nendobj\n"
    )
    return out + f"startxref\n{xref_offset}\n%%EOF\n".encode()


def pdf_with_object_outside_the_xref(entry: bytes = b"/S /Launch /F (cmd.exe)") -> bytes:
    """A clean PDF with one more object, before its cross-reference table but not named in it: pypdf never
    reads it, a lenient viewer that rebuilds the table would."""
    data = pdf_bytes()
    table = data.rindex(b"\nxref\n") + 1
    hidden = b"99 0 obj\n<< " + entry + b" >>\nendobj\n"
    head, _, tail = data.rpartition(b"startxref\n")
    pointer = int(tail.split(b"\n", 1)[0]) + len(hidden)
    return data[:table] + hidden + head[table:] + b"startxref\n" + str(pointer).encode() + b"\n%%EOF\n"


# --- images carrying more than their pixels ---------------------------------------------------------

# What a phone writes: where the photo was taken (Jakarta) and the camera.
GPS_LATITUDE = (6.0, 10.0, 30.0)
PAYLOAD = b"PK\x03\x04 a hidden archive appended after the image data"


def _exif(orientation: int | None = None) -> Image.Exif:
    from PIL import ExifTags

    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Phone 12"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "S"
    gps[ExifTags.GPS.GPSLatitude] = GPS_LATITUDE
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (106.0, 49.0, 0.0)
    return exif


def photo(size: tuple[int, int] = (120, 80)) -> Image.Image:
    """A picture whose top-left quarter is white and the rest red (so a rotation shows)."""
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((255, 255, 255), (0, 0, size[0] // 2, size[1] // 2))
    return image


def jpeg_with_gps_and_payload(orientation: int | None = 6) -> bytes:
    """A JPEG with EXIF (camera, GPS position, orientation "turn 90 degrees clockwise"), a comment, and a
    ZIP-like payload after its end-of-image marker."""
    buffer = io.BytesIO()
    photo().save(buffer, format="JPEG", quality=95, exif=_exif(orientation), comment=b"taken at home")
    return buffer.getvalue() + PAYLOAD


def png_with_metadata_and_payload() -> bytes:
    """A PNG with an eXIf chunk (GPS), a text chunk and a payload after its IEND chunk."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "home address: Jl. Sudirman 1")
    buffer = io.BytesIO()
    photo().save(buffer, format="PNG", pnginfo=info, exif=_exif())
    return buffer.getvalue() + PAYLOAD


def jpeg_with_colour_profile() -> bytes:
    """A JPEG carrying an embedded colour profile (sRGB's own, so the colours must not move)."""
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    photo().save(buffer, format="JPEG", quality=95, icc_profile=profile)
    return buffer.getvalue()
