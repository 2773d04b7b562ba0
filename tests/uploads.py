"""Sample upload files built in code: good PDF, JPEG and PNG files, and each kind of bad one."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib

from PIL import Image
from pypdf import PdfWriter


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


def jpeg_bytes() -> bytes:
    """A real small JPEG photo."""
    return _image("JPEG")


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
