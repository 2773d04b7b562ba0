"""Accepted JPEG and PNG images are stored as a fresh encoding of their pixels, nothing else.

Decoding and encoding again drops whatever rode along with the picture: bytes after its end (a ZIP or
a script appended to make a polyglot), EXIF with the GPS position and the camera's serial number, XMP,
comments, text chunks, thumbnails and the second picture of a multi-picture JPEG. The EXIF orientation is
applied to the pixels first, so a phone photo still stands upright; an embedded colour profile is applied
too (the pixels are converted to sRGB), so colours stay as they were without keeping the profile's bytes.
"""

from __future__ import annotations

import io
import logging

from PIL import Image, ImageCms, ImageOps, JpegImagePlugin

log = logging.getLogger(__name__)

# High enough that text on a scanned document stays sharp, well below the size of a lossless copy.
JPEG_QUALITY = 90
_JPEG_MODES = {"L", "RGB"}
_PNG_MODES = {"1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"}
# Chroma subsampling as Pillow's get_sampling() reports it -> the value save() takes.
_SAMPLING = {0: "4:4:4", 1: "4:2:2", 2: "4:2:0"}


def reencode(image: Image.Image, image_format: str) -> bytes:
    """The pixels of a decoded ``image`` encoded again as ``JPEG`` or ``PNG``, upright, without metadata."""
    sampling = _sampling(image) if image_format == "JPEG" else -1
    upright = _upright(image)
    keep = {key: upright.info[key] for key in ("dpi", "transparency") if key in upright.info}
    clean = _in_srgb(upright)
    clean.info = {}  # Pillow's encoders copy a profile, a comment or text from here
    options: dict[str, object] = {}
    if "dpi" in keep:
        options["dpi"] = keep["dpi"]
    buffer = io.BytesIO()
    if image_format == "JPEG":
        if clean.mode not in _JPEG_MODES:
            clean = clean.convert("RGB")
        if sampling in _SAMPLING:
            options["subsampling"] = _SAMPLING[sampling]
        clean.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True, **options)
    else:
        if clean.mode not in _PNG_MODES:
            clean = clean.convert("RGBA")
        elif "transparency" in keep and clean.mode == upright.mode:
            options["transparency"] = keep["transparency"]
        clean.save(buffer, format="PNG", **options)
    return buffer.getvalue()


def _sampling(image: Image.Image) -> int:
    """The source JPEG's chroma subsampling (-1 when unknown), kept so text edges stay as sharp."""
    try:
        return int(JpegImagePlugin.get_sampling(image))
    except Exception:
        return -1


def _upright(image: Image.Image) -> Image.Image:
    """A copy of ``image`` turned as its EXIF orientation says (a broken EXIF block is ignored)."""
    try:
        turned = ImageOps.exif_transpose(image)
    except Exception:  # a malformed EXIF block: keep the pixels as stored rather than refuse the photo
        log.info("ignoring an unreadable EXIF orientation")
        return image.copy()
    return turned if turned is not None else image.copy()


def _in_srgb(image: Image.Image) -> Image.Image:
    """``image`` converted from its embedded colour profile to sRGB; without a usable profile, as it is."""
    profile = image.info.get("icc_profile")
    if not profile or image.mode not in ("RGB", "CMYK"):
        return image.convert("RGB") if image.mode == "CMYK" else image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
    except Exception:  # a broken or unusual profile: the colours may shift a little, the document stays
        log.info("ignoring an unusable colour profile")
        return image.convert("RGB") if image.mode == "CMYK" else image
    return converted if converted is not None else image
