"""Pictures stored before uploads were re-encoded: re-encode each one as its upload would be now
(opsdesk.images.clean_image, with the page's limits), store it with its thumbnail and point its rows at it,
losing nothing.

A stored picture counts as clean when its thumbnail is beside it (opsdesk.images.thumbnail_path): every upload
since re-encoding writes both, none before did, and one `exists()` tells without reading the picture.
"""

from __future__ import annotations

import posixpath
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction

from .images import CleanImage, delete_picture, discard_when_unused, save_image, thumbnail_path

BATCH_SIZE = 200  # rows read at a time; pictures are decoded one by one


@dataclass
class CleaningTally:
    """What a run did (or, in a dry run, would do) to one kind of stored picture."""

    cleaned: int = 0
    already_clean: int = 0
    unreadable: list[str] = field(default_factory=list)  # "creative 7 (ads/…/x.png): why", left as they are
    moved_on: int = 0  # rows that changed picture while this one was re-encoded: the clean copy is dropped
    bytes_before: int = 0  # of the pictures cleaned, as they were stored
    bytes_after: int = 0  # of their clean copies
    thumbnail_bytes: int = 0


@dataclass(frozen=True)
class StoredPicture:
    """One stored picture and how to point its rows at a clean copy."""

    name: str
    label: str  # the rows that show it, for the report: "creative 7", "listing versions 3, 4"
    # Points the rows still showing `name` at the new name (one transaction); False when none does any more.
    repoint: Callable[[str, CleanImage], bool]
    still_used: Callable[[str], bool]  # whether any row points at a name


def clean_stored_picture(storage, picture: StoredPicture, clean: Callable[[File], CleanImage],
                         tally: CleaningTally, *, dry_run: bool = False) -> None:
    """Re-encode `picture` with `clean` unless it is clean already. The clean copy and its thumbnail are written
    first, the rows are pointed at it next, and the old file goes only once that is committed and no row
    points at it. A picture that cannot be read or is out of the upload limits is noted and left as it is."""
    if storage.exists(thumbnail_path(picture.name)):
        tally.already_clean += 1
        return
    try:
        with storage.open(picture.name, "rb") as handle:
            before = handle.size
            image = clean(File(handle, name=picture.name))
    except FileNotFoundError:
        tally.unreadable.append(f"{picture.label} ({picture.name}): the file is missing")
        return
    except (ValidationError, OSError) as exc:
        reason = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        tally.unreadable.append(f"{picture.label} ({picture.name}): {reason}")
        return
    if not dry_run:
        directory = posixpath.dirname(picture.name)
        new = save_image(storage, posixpath.join(directory, f"{uuid.uuid4().hex}.{image.extension}"), image)
        try:
            with transaction.atomic():
                moved = picture.repoint(new, image)
                if moved:
                    discard_when_unused(storage, picture.name, picture.still_used)
        except BaseException:
            delete_picture(storage, new)
            raise
        if not moved:
            delete_picture(storage, new)
            tally.moved_on += 1
            return
    tally.cleaned += 1
    tally.bytes_before += before
    tally.bytes_after += len(image.content)
    tally.thumbnail_bytes += len(image.thumbnail)
