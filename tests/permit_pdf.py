"""Reading an e-permit PDF the way a checker's phone does: render the page, find the QR code, decode it."""

from __future__ import annotations

from typing import Any


def pdf_text(data: bytes) -> str:
    """Every text of the PDF's pages (pypdfium2's text layer)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def qr_codes(data: bytes, scale: float = 2.0) -> list[str]:
    """The texts of every QR code on the PDF's first page, rendered at ``scale`` (72 dpi x scale)."""
    import pypdfium2 as pdfium
    import zxingcpp

    document = pdfium.PdfDocument(data)
    try:
        image: Any = document[0].render(scale=scale).to_pil()
    finally:
        document.close()
    return [found.text for found in zxingcpp.read_barcodes(image) if found.format == zxingcpp.BarcodeFormat.QRCode]
