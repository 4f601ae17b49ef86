"""The nightly upkeep of stored pictures (opsdesk.tasks.upkeep_pictures, 04:20 UTC): pictures stored before
uploads were re-encoded are cleaned (as `manage.py clean_pictures` does), then the files no row points at are
swept (as `manage.py sweep_pictures` does). Both are safe to run twice: a clean picture is skipped, a swept file
is gone."""

from __future__ import annotations

import logging
from datetime import datetime

from campaigns.ads_creatives import clean_stored_creatives
from stores.listing import clean_stored_pictures

from .stored_pictures import BATCH_SIZE, CleaningTally, sweep_orphan_pictures

log = logging.getLogger(__name__)


def clean_legacy_pictures(*, dry_run: bool = False, batch_size: int = BATCH_SIZE) -> list[tuple[str, CleaningTally]]:
    """Every kind of stored picture that predates re-encoding cleaned (opsdesk.stored_pictures), by kind."""
    return [("Listing pictures", clean_stored_pictures(dry_run=dry_run, batch_size=batch_size)),
            ("Creatives", clean_stored_creatives(dry_run=dry_run, batch_size=batch_size))]


def upkeep_pictures(now: datetime | None = None) -> str:
    """Clean the legacy pictures, then sweep the orphans; logs and returns a one-line summary. A picture that
    cannot be cleaned is logged (by row and path) and left as it is, as the command leaves it."""
    cleaned = clean_legacy_pictures()
    swept = sweep_orphan_pictures(now=now)
    summary = "Picture upkeep: " + ", ".join(
        f"{kind.lower()} {t.cleaned} cleaned ({t.already_clean} already clean, {len(t.unreadable)} unreadable)"
        for kind, t in cleaned) + "; orphans: " + ", ".join(t.line() for t in swept) + "."
    log.info(summary)
    for _, tally in cleaned:
        for entry in tally.unreadable:
            log.warning("Picture left as it is, unreadable: %s", entry)
    return summary
