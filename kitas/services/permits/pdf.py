"""The permit as a one-page PDF (reportlab): photo, number, type and index, holder, validity, office and a
QR code (segno) of the public verification address, every text in the language the caller chose."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import segno
from PIL import Image
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from forms.texts import Message

from ..notifications import localized, shown

# Bitstream Vera ships with reportlab and covers the Latin letters of names the standard fonts lack.
FONT, BOLD = "KitasVera", "KitasVeraBold"
_registered = False


def _fonts() -> None:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(TTFont(FONT, "Vera.ttf"))
        pdfmetrics.registerFont(TTFont(BOLD, "VeraBd.ttf"))
        _registered = True


@dataclass(frozen=True)
class PermitSheet:
    """What the PDF prints, already in the reader's language (names) or as values (dates)."""

    number: str
    type_name: str
    index_code: str
    holder: str
    nationality: str
    date_of_birth: date | None
    sponsor: str | None
    valid_from: date
    valid_until: date
    office: str
    issued_on: date
    verify_url: str
    photo: bytes | None
    revoked: bool = False


def _qr_png(url: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()


def _photo_reader(data: bytes) -> ImageReader:
    with Image.open(io.BytesIO(data)) as image:
        picture = image.convert("RGB")
    picture.thumbnail((600, 800))
    return ImageReader(picture)


def render(sheet: PermitSheet) -> bytes:
    """The PDF of one permit; call it inside the reader's language (``notifications.in_language_of``)."""
    _fonts()
    buffer = io.BytesIO()
    width, height = A4
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"KITAS {sheet.number}")
    pdf.setAuthor("KITAS Online")
    left, top = 20 * mm, height - 20 * mm
    pdf.setFillColor(HexColor("#0b3d91"))
    pdf.rect(0, height - 38 * mm, width, 38 * mm, stroke=0, fill=1)
    pdf.setFillColor(HexColor("#ffffff"))
    pdf.setFont(BOLD, 18)
    pdf.drawString(left, top - 4 * mm, localized(Message("Limited stay permit (e-KITAS)")))
    pdf.setFont(FONT, 11)
    pdf.drawString(
        left, top - 11 * mm, localized(Message("Republic of Indonesia · Directorate General of Immigration"))
    )
    pdf.setFillColor(HexColor("#000000"))

    photo_top = height - 50 * mm
    photo_w, photo_h = 40 * mm, 52 * mm
    if sheet.photo:
        pdf.drawImage(_photo_reader(sheet.photo), left, photo_top - photo_h, photo_w, photo_h, preserveAspectRatio=True)
    else:
        pdf.setFillColor(HexColor("#e9ecef"))
        pdf.rect(left, photo_top - photo_h, photo_w, photo_h, stroke=1, fill=1)
        pdf.setFillColor(HexColor("#495057"))
        pdf.setFont(FONT, 9)
        pdf.drawCentredString(left + photo_w / 2, photo_top - photo_h / 2, localized(Message("No photo on file")))
        pdf.setFillColor(HexColor("#000000"))

    rows = [
        (Message("Permit number"), sheet.number),
        (Message("Type"), f"{sheet.type_name} ({sheet.index_code})"),
        (Message("Holder"), sheet.holder),
        (Message("Nationality"), sheet.nationality),
        (Message("Date of birth"), shown(sheet.date_of_birth) if sheet.date_of_birth else "—"),
        (Message("Sponsor"), sheet.sponsor or localized(Message("No sponsor"))),
        (Message("Valid from"), shown(sheet.valid_from)),
        (Message("Valid until"), shown(sheet.valid_until)),
        (Message("Issuing office"), sheet.office),
        (Message("Issued on"), shown(sheet.issued_on)),
    ]
    x, y = left + photo_w + 10 * mm, photo_top - 4 * mm
    for label, value in rows:
        pdf.setFont(FONT, 8)
        pdf.setFillColor(HexColor("#495057"))
        pdf.drawString(x, y, localized(label))
        pdf.setFont(BOLD, 12)
        pdf.setFillColor(HexColor("#000000"))
        pdf.drawString(x, y - 5 * mm, str(value)[:70])
        y -= 12 * mm

    qr_size = 45 * mm
    qr_y = y - qr_size - 6 * mm
    pdf.drawImage(ImageReader(io.BytesIO(_qr_png(sheet.verify_url))), left, qr_y, qr_size, qr_size)
    pdf.setFont(FONT, 10)
    text = pdf.beginText(left + qr_size + 8 * mm, qr_y + qr_size - 8 * mm)
    text.textLine(localized(Message("Anyone can check this permit:")))
    text.textLine(localized(Message("scan the code or open the address below.")))
    pdf.drawText(text)
    pdf.setFont(FONT, 7)
    for line, start in enumerate(range(0, min(len(sheet.verify_url), 180), 60)):
        pdf.drawString(
            left + qr_size + 8 * mm, qr_y + qr_size - (22 + 4 * line) * mm, sheet.verify_url[start : start + 60]
        )
    if sheet.revoked:
        pdf.setFillColor(HexColor("#b02a37"))
        pdf.setFont(BOLD, 28)
        pdf.drawCentredString(width / 2, 40 * mm, localized(Message("REVOKED")))
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
