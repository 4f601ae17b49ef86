"""Upkeep of stored pictures (listing pictures, creatives).

Pictures stored before uploads were re-encoded: re-encode each one as its upload would be now
(opsdesk.images.clean_image, with the page's limits), store it with its thumbnail and point its rows at it,
losing nothing. A stored picture counts as clean when its thumbnail is beside it (opsdesk.images.thumbnail_path):
every upload since re-encoding writes both, none before did, and one `exists()` tells without reading the picture.

Orphans: files in the picture folders that no row points at (a picture written by a request whose transaction
then failed), swept once they are older than any upload's transaction can be.
"""

from __future__ import annotations

import posixpath
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from .images import (
    CleanImage,
    OwnsPictureFile,
    delete_picture,
    discard_when_unused,
    pictures_of_thumbnail,
    save_image,
    thumbnail_path,
)

BATCH_SIZE = 200  # rows (or, sweeping, files) read at a time; pictures are decoded one by one
# A file younger than this may be an upload whose transaction is still open: the sweep leaves it alone.
ORPHAN_GRACE = timedelta(days=1)


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


@dataclass
class SweepTally:
    """What an orphan sweep did (or, in a dry run, would do) in one picture folder."""

    folder: str
    orphans: int = 0  # deleted (in a dry run: found)
    orphan_bytes: int = 0
    in_use: int = 0  # old enough, but a row points at them (a thumbnail: at its picture)
    recent: int = 0  # younger than the grace period: not looked at

    def line(self, *, dry_run: bool = False) -> str:
        verb = "to delete" if dry_run else "deleted"
        return (f"{self.folder}/: {self.orphans} orphan file{'' if self.orphans == 1 else 's'} {verb} "
                f"({self.orphan_bytes:,} bytes), {self.in_use} in use, {self.recent} too recent to judge")


def picture_owners() -> list[type[OwnsPictureFile]]:
    """Every model whose rows point at stored pictures (listing versions, creatives)."""
    return [model for model in apps.get_models() if issubclass(model, OwnsPictureFile)]


def sweep_orphan_pictures(*, now: datetime | None = None, grace: timedelta = ORPHAN_GRACE, dry_run: bool = False,
                          batch_size: int = BATCH_SIZE) -> list[SweepTally]:
    """Delete the files under every picture folder (each owner's `picture_folder`) that no row of any picture
    owner points at, neither the file nor, for a thumbnail, its picture, and that were last modified `grace` or
    more before `now` (the storage's modified time): an upload whose transaction is still open is never taken.

    Files are handled `batch_size` at a time, and a batch's rows are looked up right before it is deleted, so
    a row committed while the folders were listed keeps its file. Safe to run twice or at once: a file already
    gone is skipped. With `dry_run` nothing is deleted; the tallies say what would be."""
    now = now or timezone.now()
    owners = picture_owners()

    def in_use(names: list[str]) -> set[str]:  # every owner is asked about every file: keeping is the safe error
        return set().union(*(owner.pictures_in_use(names) for owner in owners))

    tallies = []
    for storage, folder in dict.fromkeys((owner.picture_storage(), owner.picture_folder) for owner in owners):
        tally = SweepTally(folder)
        batch: list[str] = []
        for name in _stored_files(storage, folder):
            batch.append(name)
            if len(batch) == batch_size:
                _sweep_batch(storage, batch, now - grace, in_use, tally, dry_run)
                batch = []
        _sweep_batch(storage, batch, now - grace, in_use, tally, dry_run)
        tallies.append(tally)
    return tallies


def _stored_files(storage, folder: str) -> Iterator[str]:
    """The names of every file under `folder`, through the storage API (so not only on a local disk)."""
    try:
        directories, files = storage.listdir(folder)
    except FileNotFoundError:  # nothing was ever uploaded there, or the folder went meanwhile
        return
    for name in sorted(files):
        yield posixpath.join(folder, name)
    for directory in sorted(directories):
        yield from _stored_files(storage, posixpath.join(folder, directory))


def _sweep_batch(storage, names: list[str], before: datetime, in_use: Callable[[list[str]], set[str]],
                 tally: SweepTally, dry_run: bool) -> None:
    old: dict[str, int] = {}
    for name in names:
        try:
            if storage.get_modified_time(name) >= before:
                tally.recent += 1
                continue
            old[name] = storage.size(name)
        except FileNotFoundError:  # deleted meanwhile (a replaced picture, another sweep)
            continue
    if not old:
        return
    # Asked now, right before deleting: not from a list made while the folders were read.
    held = in_use([*old, *(picture for name in old for picture in pictures_of_thumbnail(name))])
    for name, size in old.items():
        if name in held or any(picture in held for picture in pictures_of_thumbnail(name)):
            tally.in_use += 1
            continue
        if not dry_run:
            storage.delete(name)
        tally.orphans += 1
        tally.orphan_bytes += size
