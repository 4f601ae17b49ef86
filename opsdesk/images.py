"""Uploaded pictures: opened with Pillow (never trusted by name or content type) before they are stored."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from PIL import Image, UnidentifiedImageError

EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}


def check_image(upload, *, formats: tuple[str, ...], max_bytes: int, max_side: int, min_side: int = 1,
                unreadable: str) -> str:
    """Raise ValidationError unless `upload` is a whole, readable image within the limits; returns its extension.

    `unreadable` is the message for a file that is not an image at all (each page words it for its users).
    """
    if upload.size > max_bytes:
        raise ValidationError(f"The image is {upload.size / 1024 / 1024:.1f} MB; the limit is {max_bytes // 2**20} MB.")
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            kind, (width, height) = image.format, image.size
            image.verify()  # reads the whole file: truncated or corrupt data fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValidationError(unreadable) from exc
    finally:
        upload.seek(0)
    if kind not in formats:
        raise ValidationError(f"{kind} images are not accepted; use {', '.join(formats)}.")
    if max(width, height) > max_side:
        raise ValidationError(f"The image is {width}×{height} px; the limit is {max_side} px a side.")
    if min(width, height) < min_side:
        raise ValidationError(f"The image is {width}×{height} px; it must be at least {min_side} px a side.")
    return EXTENSIONS[kind]
