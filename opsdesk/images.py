"""Uploaded pictures: opened with Pillow (never trusted by name or content type), then stored re-encoded
without their metadata, with a thumbnail for the pages that show them small."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

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
            image.verify()  # a PNG's CRCs are read here; a JPEG's pixels only decode in clean_image
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


JPEG_QUALITY = 85
THUMBNAIL_SIDE = 480
# What survives re-encoding: how the pixels look (colour profile, transparency, animation timing),
# never who took the picture, with what camera or where (EXIF, XMP, comments, text chunks).
KEPT_INFO = ("icc_profile", "transparency", "duration", "loop", "background")
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif"}


@dataclass(frozen=True)
class CleanImage:
    """A checked upload re-encoded by Pillow: the full picture and its thumbnail, both without metadata."""

    content: bytes
    extension: str
    thumbnail: bytes
    width: int
    height: int
    source_sha256: bytes  # of the uploaded bytes: a picture stored before re-encoding is still recognised


def clean_image(upload, *, unreadable: str, **limits) -> CleanImage:
    """Check `upload` (check_image, with the same limits) and re-encode it; see `reencode`."""
    check_image(upload, unreadable=unreadable, **limits)
    try:
        return reencode(upload)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:  # verify() passed but the pixels don't decode
        raise ValidationError(unreadable) from exc
    finally:
        upload.seek(0)


def reencode(upload) -> CleanImage:
    """Decode `upload` and encode its pixels again in the same format, turned upright by its EXIF orientation.

    Only the pixels and KEPT_INFO are written, so GPS position, camera serials and any bytes after the image
    (a file that is also a zip or a script) are not stored. An animated GIF (or PNG, WebP) keeps every frame and
    its timing; its thumbnail is the first frame, a GIF's as PNG (a GIF thumbnail would lose colours).
    """
    upload.seek(0)
    source_sha256 = hashlib.sha256(upload.read()).digest()
    upload.seek(0)
    with Image.open(upload) as source:
        kind = source.format
        if getattr(source, "is_animated", False):
            content = _encode_frames(source, kind)
            source.seek(0)
            first = _stripped(source.convert("RGBA"))
        else:
            first = _stripped(ImageOps.exif_transpose(source))
            content = _encode(first, kind)
        width, height = first.size
        small = first.convert("RGBA") if first.mode == "P" else first.copy()  # resizing a palette is blocky
        small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
        thumbnail = _encode(small, "PNG" if kind == "GIF" else kind)
    return CleanImage(content=content, extension=EXTENSIONS[kind], thumbnail=thumbnail, width=width, height=height,
                      source_sha256=source_sha256)


def thumbnail_path(path: str) -> str:
    """Where the thumbnail of the stored picture at `path` is kept: beside it (a GIF's is a PNG)."""
    stem, _, extension = path.rpartition(".")
    return f"{stem}.thumb.{'png' if extension == 'gif' else extension}"


def pictures_of_thumbnail(path: str) -> list[str]:
    """The stored pictures whose thumbnail `path` could be (thumbnail_path undone); none if it is no thumbnail."""
    stem, marker, extension = path.rpartition(".thumb.")
    if not marker or "/" in extension:
        return []
    return [f"{stem}.{extension}"] + ([f"{stem}.gif"] if extension == "png" else [])


def save_image(storage, path: str, image: CleanImage) -> str:
    """Store `image` at `path` (the storage may change the name) and its thumbnail beside it; returns the name."""
    name = storage.save(path, ContentFile(image.content))
    storage.save(thumbnail_path(name), ContentFile(image.thumbnail))
    return name


def delete_picture(storage, name: str) -> None:
    """Delete the stored picture `name` and its thumbnail (either may be missing already)."""
    for path in (name, thumbnail_path(name)):
        if storage.exists(path):
            storage.delete(path)


def discard_when_unused(storage, name: str, still_used: Callable[[str], bool]) -> None:
    """Once the current transaction commits, delete the picture `name` and its thumbnail unless `still_used(name)`
    says a row points at it. A rolled-back change deletes nothing: its callback is dropped with it."""
    if not name or "://" in name:  # a web address is no file of ours
        return

    def discard() -> None:
        if not still_used(name):
            delete_picture(storage, name)

    transaction.on_commit(discard)


def _stripped(image: Image.Image) -> Image.Image:
    image = image.copy()  # loads the pixels; the copy's info is ours to trim
    image.info = {key: value for key, value in image.info.items() if key in KEPT_INFO}
    return image


def _encode(image: Image.Image, kind: str) -> bytes:
    buffer = io.BytesIO()
    options = {"icc_profile": image.info.get("icc_profile")}
    if kind == "JPEG":
        options.update(quality=JPEG_QUALITY, optimize=True)
        if image.mode not in ("L", "RGB", "CMYK"):
            image = image.convert("RGB")
    elif kind == "WEBP":
        options.update(quality=JPEG_QUALITY)
    elif kind == "PNG":
        options.update(optimize=True)
    image.save(buffer, format=kind, **{k: v for k, v in options.items() if v is not None})
    return buffer.getvalue()


def _encode_frames(source: Image.Image, kind: str) -> bytes:
    frames, durations = [], []
    for frame in ImageSequence.Iterator(source):
        durations.append(frame.info.get("duration") or 100)
        frames.append(_stripped(frame.convert("RGBA")))
    buffer = io.BytesIO()
    # Pillow hands out whole composited frames, so each replaces the last (disposal 2 for GIF)
    extra = {"disposal": 2} if kind == "GIF" else {}
    frames[0].save(buffer, format=kind, save_all=True, append_images=frames[1:], duration=durations,
                   loop=source.info.get("loop", 0), **extra)
    return buffer.getvalue()


class OwnsPictureFile:
    """Model mixin for a row that points at a stored picture in `picture_field` (a FileField or a media path):
    the picture a save replaced, or a deleted row's picture (connect `discard_deleted_picture` to post_delete,
    which cascades send too; Model.delete is not called for them), is deleted with its thumbnail once the change
    commits, unless another row of the model still points at it."""

    picture_field: str
    picture_folder: str  # the storage folder its uploads are written under (the orphan sweep looks there)

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._stored_picture = instance.picture_name()
        return instance

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        self._stored_picture = self.picture_name()

    def picture_name(self) -> str:
        value = self.__dict__.get(self.picture_field)  # not loaded (a deferred field): ""
        return getattr(value, "name", value) or ""

    @classmethod
    def picture_storage(cls):
        return getattr(cls._meta.get_field(cls.picture_field), "storage", None) or default_storage

    @classmethod
    def picture_in_use(cls, name: str) -> bool:
        return cls._default_manager.filter(**{cls.picture_field: name}).exists()

    @classmethod
    def pictures_in_use(cls, names: list[str]) -> set[str]:
        """Those of `names` that a row of the model points at (one query)."""
        return set(cls._default_manager.filter(**{f"{cls.picture_field}__in": names}).order_by()
                   .values_list(cls.picture_field, flat=True).distinct())

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        fields = kwargs.get("update_fields")
        if fields is not None and self.picture_field not in fields:
            return
        replaced, self._stored_picture = getattr(self, "_stored_picture", ""), self.picture_name()
        if replaced and replaced != self._stored_picture:
            discard_when_unused(self.picture_storage(), replaced, self.picture_in_use)


def discard_deleted_picture(sender, instance: OwnsPictureFile, **kwargs) -> None:
    """post_delete receiver for an OwnsPictureFile model: its picture goes once the delete commits."""
    discard_when_unused(instance.picture_storage(), instance.picture_name(), instance.picture_in_use)
