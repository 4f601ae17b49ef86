"""Orphan picture files (written by a request whose transaction then failed, so no row points at them) are swept
once they are older than the grace period; a picture any row shows, history included, stays with its thumbnail.
The nightly task runs the legacy clean and the sweep, and a second run changes nothing."""

import io
import logging
import os
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from campaigns.models import AdCreative
from opsdesk.images import thumbnail_path
from opsdesk.schedules import SCHEDULES
from opsdesk.tasks import upkeep_pictures
from stores.models import ListingVersion
from tests.ads.conftest import AdPlanFactory
from tests.factories import ProductFactory
from tests.pictures import phone_jpeg

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 4, 20, tzinfo=UTC)
OLD = NOW - timedelta(days=2)
FRESH = NOW - timedelta(hours=2)  # an upload whose transaction may still be open


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def store_file(media):
    """Write `name` under MEDIA_ROOT, last modified at `when`; with `thumbnail`, its thumbnail beside it too."""
    def write(name, when=OLD, data=b"picture bytes", thumbnail=True):
        for path in [name, thumbnail_path(name)] if thumbnail else [name]:
            file = media / path
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(data)
            os.utime(file, (when.timestamp(), when.timestamp()))
        return name
    return write


@pytest.fixture
def sweep():
    def run(*args):
        out = io.StringIO()
        call_command("sweep_pictures", *args, stdout=out)
        return out.getvalue()
    return run


def files(media):
    return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())


def test_an_old_orphan_goes_with_its_thumbnail_and_a_fresh_one_stays(store_a, media, store_file, sweep):
    orphan = store_file(f"listings/{store_a.pk}/1/failed-save.jpg")
    creative_orphan = store_file(f"ads/creatives/{store_a.pk}/failed-save.png", thumbnail=False)
    fresh = store_file(f"listings/{store_a.pk}/1/saving-now.jpg", when=FRESH)
    elsewhere = store_file("exports/report.png")  # not a picture folder: not ours to sweep
    out = sweep()
    assert files(media) == sorted([fresh, thumbnail_path(fresh), elsewhere, thumbnail_path(elsewhere)])
    assert not (media / orphan).exists() and not (media / creative_orphan).exists()
    assert "listings/: 2 orphan files deleted (26 bytes), 0 in use, 2 too recent to judge." in out
    assert "ads/creatives/: 1 orphan file deleted (13 bytes)" in out


def test_pictures_rows_show_stay_with_their_thumbnails_history_included(store_a, media, store_file, sweep):
    product = ProductFactory(store=store_a)
    earlier = store_file(f"listings/{store_a.pk}/{product.pk}/v1.jpg")
    live = store_file(f"listings/{store_a.pk}/{product.pk}/v2.gif")  # a GIF's thumbnail is a PNG
    legacy = store_file(f"listings/{store_a.pk}/{product.pk}/legacy.jpg", thumbnail=False)
    for day, name in enumerate([earlier, legacy, live], start=1):
        ListingVersion.objects.create(product=product, title=f"v{day}", main_image=name,
                                      started_at=NOW - timedelta(days=10 - day))
    creative = store_file(f"ads/creatives/{store_a.pk}/hero.jpg")
    AdCreative.objects.create(plan=AdPlanFactory(store=store_a), name="Hero", headline="h", image=creative,
                              width=400, height=300)
    stored = files(media)
    assert thumbnail_path(live).endswith("v2.thumb.png") and len(stored) == 7
    out = sweep("--batch-size", "2")
    assert files(media) == stored
    assert "listings/: 0 orphan files deleted (0 bytes), 5 in use" in out
    assert "ads/creatives/: 0 orphan files deleted (0 bytes), 2 in use" in out


def test_a_dry_run_counts_the_orphans_and_their_bytes_and_deletes_nothing(store_a, media, store_file, sweep):
    store_file(f"listings/{store_a.pk}/1/a.jpg", data=b"x" * 1000)
    store_file(f"ads/creatives/{store_a.pk}/b.png", data=b"y" * 500, thumbnail=False)
    stored = files(media)
    out = sweep("--dry-run")
    assert files(media) == stored
    assert "listings/: 2 orphan files to delete (2,000 bytes)" in out
    assert "In all: 3 orphan files to delete, 2,500 bytes." in out
    assert "Dry run: nothing was deleted." in out


def test_a_second_sweep_finds_nothing_more(store_a, media, store_file, sweep):
    store_file(f"listings/{store_a.pk}/1/a.jpg")
    sweep()
    assert "In all: 0 orphan files deleted, 0 bytes." in sweep()


def test_a_row_committed_while_the_sweep_runs_keeps_its_file(store_a, media, store_file, monkeypatch, sweep):
    """The rows are looked up for each batch right before it is deleted, not once before the folders are read:
    here the version showing the picture is saved while the sweep reads the file's age."""
    product = ProductFactory(store=store_a)
    name = store_file(f"listings/{store_a.pk}/{product.pk}/just-saved.jpg", thumbnail=False)
    read_age = default_storage.get_modified_time

    def save_version_meanwhile(path):
        if path == name and not ListingVersion.objects.exists():
            ListingVersion.objects.create(product=product, title="t", main_image=name)
        return read_age(path)

    monkeypatch.setattr(default_storage, "get_modified_time", save_version_meanwhile)
    sweep()
    assert (media / name).exists()


def test_a_grace_period_under_an_hour_is_refused(sweep):
    with pytest.raises(CommandError, match="at least 1: a younger file may be an upload still saving"):
        sweep("--grace-hours", "0")


def test_the_nightly_task_cleans_legacy_pictures_and_sweeps_orphans_and_is_safe_twice(
        store_a, media, store_file, caplog, django_capture_on_commit_callbacks):
    product = ProductFactory(store=store_a)
    legacy = store_file(f"listings/{store_a.pk}/{product.pk}/old.jpg", data=phone_jpeg().read(), thumbnail=False)
    ListingVersion.objects.create(product=product, title="t", main_image=legacy)
    orphan = store_file(f"ads/creatives/{store_a.pk}/failed-save.jpg")
    with caplog.at_level(logging.INFO, logger="opsdesk.picture_upkeep"), \
            django_capture_on_commit_callbacks(execute=True):
        first = upkeep_pictures()
    version = ListingVersion.objects.get()
    assert version.main_image != legacy and (media / thumbnail_path(version.main_image)).exists()
    assert not (media / legacy).exists() and not (media / orphan).exists()
    assert "listing pictures 1 cleaned" in first
    assert "ads/creatives/: 2 orphan files deleted" in first
    assert first in caplog.messages
    stored = files(media)
    with django_capture_on_commit_callbacks(execute=True):
        second = upkeep_pictures()
    assert files(media) == stored
    assert "listing pictures 0 cleaned (1 already clean, 0 unreadable)" in second
    assert "listings/: 0 orphan files deleted" in second and "ads/creatives/: 0 orphan files deleted" in second


def test_the_nightly_task_is_scheduled_at_04_20_utc():
    [schedule] = [s for s in SCHEDULES if s.task == upkeep_pictures.name]
    assert schedule.crontab == {"minute": "20", "hour": "4"}
