"""Listing optimisation: per-version numbers, the significance verdict, and creating a version."""

import io
import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from metrics.models import TrafficEvent
from opsdesk.images import reencode
from stores import listing
from stores.models import ListingVersion, OrderLine
from tests.factories import OrderFactory, ProductFactory
from tests.pictures import phone_jpeg

pytestmark = pytest.mark.django_db
_ids = itertools.count()
T0 = datetime(2026, 10, 1, tzinfo=UTC)
SWITCH = T0 + timedelta(days=7)
NOW = T0 + timedelta(days=14)


def views(product, n, start, source="organic_search", kind="product_view"):
    TrafficEvent.objects.bulk_create([
        TrafficEvent(store=product.store, event_id=f"lv{next(_ids)}", type=kind, ts=start + timedelta(minutes=i),
                     session_id=f"s{next(_ids)}", source=source, product=product) for i in range(n)])


def orders(product, n, start, source="organic_search"):
    for i in range(n):
        order = OrderFactory(store=product.store, placed_at=start + timedelta(minutes=i),
                             paid_at=start + timedelta(minutes=i), traffic_source=source)
        OrderLine.objects.create(order=order, line_no=1, product=product, unit_price=Decimal("50"),
                                 amount=Decimal("50"))


@pytest.fixture
def product(store_a):
    product = ProductFactory(store=store_a, title="Longjing 250g")
    ListingVersion.objects.create(product=product, title="Longjing 250g", started_at=T0)
    ListingVersion.objects.create(product=product, title="Longjing 2026 spring harvest 250g", started_at=SWITCH)
    return product


class TestVerdict:
    def test_clear_difference_is_called_significant_in_plain_words(self, product):
        views(product, 1000, T0 + timedelta(hours=1))
        orders(product, 20, T0 + timedelta(hours=2))
        views(product, 1000, SWITCH + timedelta(hours=1))
        orders(product, 50, SWITCH + timedelta(hours=2))
        result = listing.report(product, now=NOW)
        assert result.conversion.significant
        assert result.conversion.p_value < 0.001
        assert result.conversion.verdict == "new title converts 3.0 pts better (5.0 % vs 2.0 %), p<0.001"
        current, previous = result.versions
        assert (current.total.views, current.total.orders) == (1000, 50)
        assert (previous.total.views, previous.total.orders) == (1000, 20)

    def test_small_difference_is_not_enough_evidence(self, product):
        views(product, 200, T0 + timedelta(hours=1))
        orders(product, 6, T0 + timedelta(hours=2))
        views(product, 200, SWITCH + timedelta(hours=1))
        orders(product, 8, SWITCH + timedelta(hours=2))
        result = listing.report(product, now=NOW)
        assert not result.conversion.significant
        assert result.conversion.verdict.startswith("not enough evidence yet (4.0 % vs 3.0 %, p=0.")
        assert result.conversion.p_value == pytest.approx(0.5864, abs=1e-3)  # z = 0.01 / 0.01838 = 0.544

    def test_too_few_views_are_not_tested(self):
        verdict = listing.compare(listing.Counts(views=10, orders=5), listing.Counts(views=500, orders=5),
                                  "conversion", "new title")
        assert verdict.p_value is None
        assert verdict.verdict.startswith("not enough data yet (10 views")

    def test_worse_cart_rate_is_said_so(self):
        verdict = listing.compare(listing.Counts(views=400, carts=20), listing.Counts(views=400, carts=60),
                                  "cart_rate", "new main picture")
        assert verdict.verdict.startswith("new main picture gets added to cart 10.0 pts worse (5.0 % vs 15.0 %)")

    def test_z_test_matches_the_textbook_value(self):
        # 45/500 vs 25/500: z = 2.48, two-sided p = 0.0131
        assert listing.two_proportion_test(25, 500, 45, 500) == pytest.approx(0.0131, abs=5e-4)


def test_counts_are_per_version_period_and_source(product, store_a):
    views(product, 3, T0 + timedelta(hours=1), source="paid_search")
    views(product, 1, T0 + timedelta(hours=1), source="paid_search", kind="add_to_cart")
    views(product, 2, SWITCH + timedelta(hours=1), source="social")
    # a view that carries no source takes its session's
    TrafficEvent.objects.create(store=store_a, event_id="ss", type="session_start", ts=SWITCH, session_id="sx",
                                source="direct")
    TrafficEvent.objects.create(store=store_a, event_id="sv", type="product_view", ts=SWITCH, session_id="sx",
                                product=product)
    orders(product, 1, SWITCH + timedelta(hours=3), source="social")
    current, previous = listing.performance(product, now=NOW)
    assert {s: (c.views, c.carts, c.orders) for s, c in previous.by_source.items()} == {"paid_search": (3, 1, 0)}
    assert {s: (c.views, c.orders) for s, c in current.by_source.items()} == {"social": (2, 1), "direct": (1, 0)}
    assert current.changed == "new title"
    assert current.is_current and not previous.is_current


def png_bytes(size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, format="PNG")
    return buffer.getvalue()


class TestNewVersion:
    @pytest.fixture(autouse=True)
    def media(self, settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path
        return tmp_path

    def url(self, product):
        return f"/stores/{product.store.slug}/products/{product.pk}/"

    def test_creating_a_version_updates_the_title_and_stores_the_picture_safely(self, client_a, store_a, media):
        product = ProductFactory(store=store_a, title="Old title")
        picture = SimpleUploadedFile("../../etc/evil name.png", png_bytes(), content_type="image/png")
        response = client_a.post(self.url(product), {"title": "New title", "main_picture": picture,
                                                     "detail_page": "Now with brewing guide", "note": "A/B"})
        assert response.status_code == 302
        product.refresh_from_db()
        assert product.title == "New title"
        baseline, new = product.listing_versions.order_by("started_at")
        assert baseline.title == "Old title"
        assert new.main_image.startswith(f"listings/{store_a.pk}/{product.pk}/")
        assert new.main_image.endswith(".png") and "evil" not in new.main_image
        with Image.open(media / new.main_image) as stored:
            assert (stored.format, stored.size, stored.getpixel((0, 0))) == ("PNG", (40, 30), (0, 128, 128))
        assert new.created_by.username == "op-a"
        picture_response = client_a.get(f"{self.url(product)}versions/{new.pk}/picture")
        assert picture_response.status_code == 200
        assert picture_response["Content-Type"] == "image/png"

    def test_a_phone_photo_is_stored_without_its_gps_position_camera_serial_or_comment(self, client_a, store_a, media):
        product = ProductFactory(store=store_a)
        response = client_a.post(self.url(product), {"title": "New title", "main_picture": phone_jpeg()})
        assert response.status_code == 302
        stored = media / product.listing_versions.latest("started_at").main_image
        with Image.open(stored) as image:
            assert image.format == "JPEG"
            assert not image.getexif() and not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
            assert "comment" not in image.info and "xmp" not in image.info
        assert b"SN-4471" not in stored.read_bytes()

    def test_a_sideways_phone_photo_is_stored_upright(self, client_a, store_a, media):
        product = ProductFactory(store=store_a)
        client_a.post(self.url(product), {"title": "New title", "main_picture": phone_jpeg((400, 300))})
        with Image.open(media / product.listing_versions.latest("started_at").main_image) as image:
            assert image.size == (300, 400)  # orientation 6: the camera was turned a quarter clockwise
            assert image.getpixel((150, 50))[2] > 200  # the photo's left (blue) half is now on top

    def test_bytes_hidden_after_the_picture_are_not_stored(self, client_a, store_a, media):
        product = ProductFactory(store=store_a)
        polyglot = SimpleUploadedFile("p.png", png_bytes() + b"PK\x03\x04<script>alert(1)</script>")
        client_a.post(self.url(product), {"title": "New title", "main_picture": polyglot})
        stored = (media / product.listing_versions.latest("started_at").main_image).read_bytes()
        assert b"<script>" not in stored and b"PK\x03\x04" not in stored

    def test_the_versions_table_shows_a_thumbnail_that_links_to_the_whole_picture(self, client_a, store_a):
        product = ProductFactory(store=store_a)
        big = io.BytesIO()
        Image.new("RGB", (2000, 1500), "teal").save(big, format="JPEG")
        client_a.post(self.url(product), {"title": "New title", "main_picture": SimpleUploadedFile("b.jpg",
                                                                                                   big.getvalue())})
        version = product.listing_versions.latest("started_at")
        picture, thumbnail = (f"{self.url(product)}versions/{version.pk}/{end}" for end in ("picture", "thumbnail"))
        page = client_a.get(self.url(product)).content.decode()
        assert f'<a href="{picture}"><img src="{thumbnail}"' in page
        with Image.open(io.BytesIO(b"".join(client_a.get(thumbnail).streaming_content))) as image:
            assert (image.format, image.size) == ("JPEG", (480, 360))
        with Image.open(io.BytesIO(b"".join(client_a.get(picture).streaming_content))) as image:
            assert image.size == (2000, 1500)

    def test_a_picture_stored_before_thumbnails_were_made_is_shown_whole(self, client_a, store_a, media):
        product = ProductFactory(store=store_a)
        (media / "listings").mkdir()
        (media / "listings" / "old.png").write_bytes(png_bytes())
        version = ListingVersion.objects.create(product=product, title="x", main_image="listings/old.png",
                                                started_at=T0)
        response = client_a.get(f"{self.url(product)}versions/{version.pk}/thumbnail")
        assert response.status_code == 200 and b"".join(response.streaming_content) == png_bytes()

    def test_a_file_that_is_not_a_picture_is_rejected(self, client_a, store_a, media):
        product = ProductFactory(store=store_a, title="Old title")
        fake = SimpleUploadedFile("photo.png", b"<?php echo 'not an image'; ?>", content_type="image/png")
        response = client_a.post(self.url(product), {"title": "New title", "main_picture": fake})
        assert response.status_code == 200
        assert "not a picture we can read" in response.content.decode()
        product.refresh_from_db()
        assert product.title == "Old title"
        assert not product.listing_versions.exists()
        assert not list(media.rglob("*.*"))

    def test_a_half_uploaded_jpeg_is_rejected_and_nothing_changes(self, client_a, store_a, media):
        product = ProductFactory(store=store_a, title="Old title")
        buffer = io.BytesIO()
        Image.effect_noise((300, 200), 40).convert("RGB").save(buffer, format="JPEG")
        half = SimpleUploadedFile("half.jpg", buffer.getvalue()[: len(buffer.getvalue()) // 2])
        response = client_a.post(self.url(product), {"title": "New title", "main_picture": half})
        assert response.status_code == 200
        assert "not a picture we can read" in response.content.decode()
        assert not product.listing_versions.exists() and not any(media.rglob("*.jpg"))

    def test_an_oversized_picture_is_rejected(self, client_a, store_a, monkeypatch):
        from stores.forms import ListingVersionForm

        monkeypatch.setattr(ListingVersionForm, "MAX_PICTURE_BYTES", 100)
        product = ProductFactory(store=store_a)
        big = SimpleUploadedFile("big.png", png_bytes((200, 200)), content_type="image/png")
        response = client_a.post(self.url(product), {"title": "New title", "main_picture": big})
        assert "the limit is" in response.content.decode()
        assert not product.listing_versions.exists()

    def test_page_shows_the_verdict(self, client_a, product):
        views(product, 1000, T0 + timedelta(hours=1))
        orders(product, 20, T0 + timedelta(hours=2))
        views(product, 1000, SWITCH + timedelta(hours=1))
        orders(product, 50, SWITCH + timedelta(hours=2))
        page = client_a.get(self.url(product)).content.decode()
        assert "new title converts" in page
        assert "pts better" in page  # a move of a rate in points, as the daily pages say it (not "pp")


    def test_the_versions_table_writes_counts_with_thousands_separators(self, client_a, product):
        views(product, 1200, SWITCH + timedelta(hours=1))
        page = client_a.get(self.url(product)).content.decode()
        row = page.split('<table id="versions">')[1].split("</tr>")[1]
        assert '<td class="num">1,200</td>' in row and ">1200<" not in row


class TestTenancy:
    def test_another_stores_product_is_not_found(self, client_a, store_b):
        product = ProductFactory(store=store_b, title="Theirs")
        url = f"/stores/{store_b.slug}/products/{product.pk}/"
        assert client_a.get(url).status_code == 404
        assert client_a.post(url, {"title": "Hijacked"}).status_code == 404
        product.refresh_from_db()
        assert product.title == "Theirs"

    def test_product_of_another_store_under_own_slug_is_not_found(self, client_a, store_a, store_b):
        product = ProductFactory(store=store_b)
        assert client_a.get(f"/stores/{store_a.slug}/products/{product.pk}/").status_code == 404

    def test_another_stores_picture_is_not_found(self, client_a, store_b):
        product = ProductFactory(store=store_b)
        version = ListingVersion.objects.create(product=product, title="x", main_image="listings/1/1/a.png")
        url = f"/stores/{store_b.slug}/products/{product.pk}/versions/{version.pk}/picture"
        assert client_a.get(url).status_code == 404

    def test_another_stores_thumbnail_is_not_found(self, client_a, store_b, settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path
        (tmp_path / "p.png").write_bytes(png_bytes())
        (tmp_path / "p.thumb.png").write_bytes(png_bytes())
        product = ProductFactory(store=store_b)
        version = ListingVersion.objects.create(product=product, title="x", main_image="p.png")
        url = f"/stores/{store_b.slug}/products/{product.pk}/versions/{version.pk}/thumbnail"
        assert client_a.get(url).status_code == 404


class TestSameListingTwice:
    @pytest.fixture(autouse=True)
    def media(self, settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path
        return tmp_path

    def test_submitting_the_same_listing_twice_starts_one_version(self, client_a, store_a):
        product = ProductFactory(store=store_a, title="Old title")
        url = f"/stores/{store_a.slug}/products/{product.pk}/"
        form = {"title": "New title", "detail_page": "Brewing guide", "note": ""}
        client_a.post(url, form)
        response = client_a.post(url, form, follow=True)
        assert "Nothing changed: this title, detail page and main picture are already the live listing" in (
            response.content.decode())
        assert [v.title for v in product.listing_versions.order_by("started_at")] == ["Old title", "New title"]

    def test_the_same_picture_sent_twice_starts_one_version(self, store_a, media):
        product = ProductFactory(store=store_a, title="Mug")
        listing.create_version(product, title="Mug", picture=reencode(SimpleUploadedFile("mug.png", png_bytes())))
        with pytest.raises(listing.NothingChanged):
            listing.create_version(product, title="Mug", picture=reencode(SimpleUploadedFile("mug.png", png_bytes())))
        assert product.listing_versions.count() == 2  # the listing before, and the one with the picture
        assert len([p for p in media.rglob("*.png") if ".thumb." not in p.name]) == 1

    def test_a_picture_stored_before_uploads_were_re_encoded_is_recognised_when_sent_again(self, store_a, media):
        product = ProductFactory(store=store_a, title="Mug")
        (media / "listings").mkdir()
        (media / "listings" / "old.png").write_bytes(png_bytes())
        ListingVersion.objects.create(product=product, title="Mug", main_image="listings/old.png", started_at=T0)
        with pytest.raises(listing.NothingChanged):
            listing.create_version(product, title="Mug", picture=reencode(SimpleUploadedFile("mug.png", png_bytes())))

    def test_an_unchanged_listing_is_refused_before_any_version_exists(self, store_a):
        product = ProductFactory(store=store_a, title="Mug", detail_url="")
        with pytest.raises(listing.NothingChanged):
            listing.create_version(product, title="Mug", detail_page="")
        assert not product.listing_versions.exists()


def test_the_listing_before_versions_covers_the_traffic_the_product_had_before_it_was_created(store_a):
    with time_machine.travel(NOW, tick=False):
        product = ProductFactory(store=store_a, title="Longjing 250g")  # created after its traffic was loaded
    views(product, 54, NOW - timedelta(days=6))
    orders(product, 3, NOW - timedelta(days=5))
    listing.create_version(product, title="Longjing spring harvest", now=NOW)
    baseline = product.listing_versions.get(note=listing.BASELINE_NOTE)
    assert baseline.started_at == NOW - timedelta(days=6)
    previous = listing.performance(product, now=NOW + timedelta(hours=1))[1]
    assert (previous.total.views, previous.total.orders) == (54, 3)


def test_a_clear_change_against_the_listing_before_versions_gets_a_verdict(store_a):
    with time_machine.travel(NOW, tick=False):
        product = ProductFactory(store=store_a, title="Longjing 250g")
    views(product, 1000, NOW - timedelta(days=7))
    orders(product, 20, NOW - timedelta(days=6))
    listing.create_version(product, title="Longjing spring harvest", now=NOW)
    views(product, 1000, NOW + timedelta(hours=1))
    orders(product, 60, NOW + timedelta(hours=2))
    result = listing.report(product, now=NOW + timedelta(days=2))
    assert result.conversion.significant
    assert result.conversion.verdict.startswith("new title converts 4.0 pts better (6.0 % vs 2.0 %)")


class TestReplacedPictures:
    """Versions share pictures (a new title keeps the live one): a picture goes only when no version shows it."""

    @pytest.fixture(autouse=True)
    def media(self, settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path
        return tmp_path

    @pytest.fixture
    def versions(self, store_a, django_capture_on_commit_callbacks):
        product = ProductFactory(store=store_a, title="Mug")
        with django_capture_on_commit_callbacks(execute=True):
            listing.create_version(product, title="Mug", picture=reencode(SimpleUploadedFile("m.png", png_bytes())),
                                   now=T0)
            listing.create_version(product, title="Big mug", now=SWITCH)  # keeps the picture
        return list(product.listing_versions.order_by("started_at"))[1:]

    def files(self, media):
        return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())

    def test_a_picture_changed_in_one_version_stays_while_another_shows_it(self, versions, media,
                                                                           django_capture_on_commit_callbacks):
        first, second = versions
        before = self.files(media)
        with django_capture_on_commit_callbacks(execute=True):
            first.main_image = "https://cdn.example.com/mug.jpg"  # as the admin's change form saves it
            first.save()
        assert self.files(media) == before
        with django_capture_on_commit_callbacks(execute=True):
            second.main_image = "https://cdn.example.com/mug.jpg"
            second.save()
        assert self.files(media) == []

    def test_deleting_the_product_removes_its_pictures(self, versions, media, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            versions[0].product.delete()
        assert self.files(media) == []
