"""manage.py clean_pictures: pictures stored before uploads were re-encoded (a phone's GPS position in their EXIF,
no thumbnail) are re-encoded as an upload is now, and nothing is lost on the way."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from PIL import ExifTags, Image

from campaigns.models import AdCreative
from opsdesk.images import thumbnail_path
from stores.models import ListingVersion
from tests.ads.conftest import AdPlanFactory
from tests.factories import ProductFactory
from tests.pictures import phone_jpeg

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_before_re_encoding(media, name, data=None):
    """A picture as uploads were stored before: the uploaded bytes as they came, no thumbnail."""
    path = media / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(phone_jpeg().read() if data is None else data)
    return name


@pytest.fixture
def clean_pictures(django_capture_on_commit_callbacks):
    """Run the command; what it leaves for after the commit (deleting the old files) runs as it would."""
    def run(*args):
        out = io.StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("clean_pictures", *args, stdout=out)
        return out.getvalue()
    return run


def files(media):
    return {str(p.relative_to(media)): p.read_bytes() for p in media.rglob("*") if p.is_file()}


def has_gps(path):
    with Image.open(path) as image:
        return bool(image.getexif().get_ifd(ExifTags.IFD.GPSInfo))


@pytest.fixture
def old_listing(store_a, media):
    """A product whose listing history has two versions sharing an old phone picture (a title change kept it)."""
    product = ProductFactory(store=store_a)
    name = stored_before_re_encoding(media, f"listings/{store_a.pk}/{product.pk}/old.jpg")
    for day in (1, 2):
        ListingVersion.objects.create(product=product, title=f"Title {day}", main_image=name,
                                      started_at=f"2026-10-0{day}T00:00Z")
    return product


@pytest.fixture
def old_creative(store_a, media):
    plan = AdPlanFactory(store=store_a)
    name = stored_before_re_encoding(media, f"ads/creatives/{store_a.pk}/old.jpg")
    return AdCreative.objects.create(plan=plan, name="Hero", headline="Fresh", image=name, width=400, height=300)


def test_an_old_listing_picture_with_gps_loses_it_gets_a_thumbnail_and_is_still_shown(client_a, old_listing, media,
                                                                                     clean_pictures):
    assert has_gps(media / old_listing.listing_versions.first().main_image)
    out = clean_pictures()
    assert "Listing pictures: 1 cleaned, 0 already clean, 0 unreadable." in out
    first, second = old_listing.listing_versions.order_by("started_at")
    assert first.main_image == second.main_image != f"listings/{old_listing.store_id}/{old_listing.pk}/old.jpg"
    assert not has_gps(media / first.main_image)
    assert b"SN-4471" not in (media / first.main_image).read_bytes()
    assert (media / thumbnail_path(first.main_image)).is_file()
    assert not (media / f"listings/{old_listing.store_id}/{old_listing.pk}/old.jpg").exists()
    page = f"/stores/{old_listing.store.slug}/products/{old_listing.pk}/versions/{second.pk}/"
    for end in ("picture", "thumbnail"):
        response = client_a.get(page + end)
        assert response.status_code == 200
        with Image.open(io.BytesIO(b"".join(response.streaming_content))) as image:
            assert image.size == (300, 400)  # turned upright as an upload is


def test_an_old_creative_with_gps_loses_it_is_turned_upright_and_still_shown(client_a, old_creative, media,
                                                                            clean_pictures):
    out = clean_pictures()
    assert "Creatives: 1 cleaned, 0 already clean, 0 unreadable." in out
    old_creative.refresh_from_db()
    assert old_creative.image.name.startswith(f"ads/creatives/{old_creative.plan.store_id}/")
    assert not has_gps(media / old_creative.image.name)
    assert (old_creative.width, old_creative.height) == (300, 400)
    assert not (media / f"ads/creatives/{old_creative.plan.store_id}/old.jpg").exists()
    response = client_a.get(reverse("campaigns:ad_creative_thumbnail", args=[old_creative.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert (media / thumbnail_path(old_creative.image.name)).is_file()


def test_the_counts_and_bytes_are_printed(old_listing, old_creative, media, clean_pictures):
    before = sum(len(data) for data in files(media).values())
    out = clean_pictures()
    after = sum(len(data) for name, data in files(media).items() if ".thumb." not in name)
    assert f"Bytes of the pictures cleaned: {before:,} before, {after:,} after" in out


def test_every_version_of_every_product_is_cleaned_however_small_the_batches(store_a, media, clean_pictures):
    products = [ProductFactory(store=store_a) for _ in range(3)]
    for product in products:
        for n in (1, 2):
            name = stored_before_re_encoding(media, f"listings/{store_a.pk}/{product.pk}/v{n}.jpg")
            ListingVersion.objects.create(product=product, title=f"v{n}", main_image=name,
                                          started_at=f"2026-10-0{n}T00:00Z")
    out = clean_pictures("--batch-size", "1")
    assert "Listing pictures: 6 cleaned, 0 already clean, 0 unreadable." in out
    assert not any(has_gps(media / v.main_image) for v in ListingVersion.objects.all())


def test_a_second_run_changes_nothing_and_says_so(old_listing, old_creative, media, clean_pictures):
    clean_pictures()
    rows = list(ListingVersion.objects.values_list("main_image", flat=True)) + [AdCreative.objects.get().image.name]
    stored = files(media)
    out = clean_pictures()
    assert "Listing pictures: 0 cleaned, 1 already clean, 0 unreadable." in out
    assert "Creatives: 0 cleaned, 1 already clean, 0 unreadable." in out
    assert "Nothing to clean: nothing was changed." in out
    assert files(media) == stored
    assert list(ListingVersion.objects.values_list("main_image", flat=True)) + [
        AdCreative.objects.get().image.name] == rows


def test_an_unreadable_picture_is_reported_by_id_and_kept(store_a, old_creative, media, clean_pictures):
    product = ProductFactory(store=store_a)
    broken = stored_before_re_encoding(media, f"listings/{store_a.pk}/{product.pk}/broken.jpg", b"not a picture")
    version = ListingVersion.objects.create(product=product, title="t", main_image=broken)
    gone = ListingVersion.objects.create(product=ProductFactory(store=store_a), title="t",
                                         main_image="listings/gone.png")
    out = clean_pictures()
    assert "Listing pictures: 0 cleaned, 0 already clean, 2 unreadable." in out
    assert f"listing version {version.pk} ({broken}): This file is not a picture we can read" in out
    assert f"listing version {gone.pk} (listings/gone.png): the file is missing" in out
    assert (media / broken).read_bytes() == b"not a picture"
    version.refresh_from_db()
    assert version.main_image == broken
    assert "Creatives: 1 cleaned" in out  # the others are cleaned all the same


def test_urls_are_not_stored_pictures_and_are_left_alone(store_a, media, clean_pictures):
    ListingVersion.objects.create(product=ProductFactory(store=store_a), title="t", main_image="https://x.test/a.jpg")
    assert "Listing pictures: 0 cleaned, 0 already clean, 0 unreadable." in clean_pictures()


def test_a_dry_run_reports_what_it_would_do_and_changes_nothing(old_listing, old_creative, media, clean_pictures):
    stored = files(media)
    out = clean_pictures("--dry-run")
    assert "Listing pictures: 1 would clean, 0 already clean, 0 unreadable." in out
    assert "Creatives: 1 would clean" in out
    assert "Bytes of the pictures to clean: " in out
    assert "Dry run: nothing was written or deleted." in out
    assert files(media) == stored
    assert set(ListingVersion.objects.values_list("main_image", flat=True)) == {
        f"listings/{old_listing.store_id}/{old_listing.pk}/old.jpg"}


def test_when_the_row_cannot_be_saved_the_old_picture_stays_and_the_new_copy_goes(old_creative, media, monkeypatch,
                                                                                  clean_pictures):
    stored = files(media)

    def fail(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("django.db.models.query.QuerySet.update", fail)
    with pytest.raises(RuntimeError):
        clean_pictures()
    assert files(media) == stored
