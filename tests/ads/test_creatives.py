"""Creative uploads are real, bounded images; creatives are compared with a significance test."""

import io
from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from PIL import Image

from campaigns import ads_creatives
from campaigns.ads_creatives import compare_creatives, validate_creative_image
from campaigns.models import AdCreative, AdCreativePerformance
from opsdesk.images import thumbnail_path
from tests.factories import MembershipFactory, UserFactory
from tests.pictures import phone_jpeg

from .conftest import png_bytes

pytestmark = pytest.mark.django_db


def upload(data, name="pic.png"):
    return SimpleUploadedFile(name, data, content_type="image/png")


def test_accepts_jpeg_png_webp():
    for fmt, ext in (("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")):
        assert validate_creative_image(upload(png_bytes(fmt=fmt))) == ext


def test_rejects_a_text_file_named_png():
    with pytest.raises(ValidationError, match="not a readable image"):
        validate_creative_image(upload(b"<?php echo 'hi'; ?>" * 50))


def test_rejects_a_truncated_image():
    with pytest.raises(ValidationError, match="not a readable image"):
        validate_creative_image(upload(png_bytes()[:200]))


def test_rejects_gif_oversized_and_huge_images(monkeypatch):
    with pytest.raises(ValidationError, match="GIF images are not accepted"):
        validate_creative_image(upload(png_bytes(fmt="GIF")))
    with pytest.raises(ValidationError, match="limit is 4096 px"):
        validate_creative_image(upload(png_bytes(size=(5000, 60))))
    monkeypatch.setattr(ads_creatives, "MAX_BYTES", 1000)
    with pytest.raises(ValidationError, match="the limit is"):
        validate_creative_image(upload(b"x" * 2000))


def test_upload_page_rejects_non_image_and_saves_nothing(client_a, search_plan, media):
    response = client_a.post(reverse("campaigns:ad_creative_new", args=[search_plan.pk]), {
        "name": "Fake", "headline": "h", "image": upload(b"not an image at all" * 10)})
    assert response.status_code == 400
    assert not AdCreative.objects.exists()
    assert not any(media.rglob("*.*")) if media.exists() else True


def test_upload_page_rejects_oversized_file(client_a, search_plan, media, monkeypatch):
    monkeypatch.setattr(ads_creatives, "MAX_BYTES", 100)
    response = client_a.post(reverse("campaigns:ad_creative_new", args=[search_plan.pk]), {
        "name": "Big", "headline": "h", "image": upload(png_bytes(size=(400, 400)))})
    assert response.status_code == 400
    assert "the limit is" in response.content.decode()
    assert not AdCreative.objects.exists()


def test_comparison_flags_a_clearly_better_ctr(search_plan, make_creative):
    good, plain = make_creative(search_plan, "Good"), make_creative(search_plan, "Plain")
    day = date(2026, 11, 1)
    AdCreativePerformance.objects.create(creative=good, date=day, impressions=10000, clicks=400, orders=20)
    AdCreativePerformance.objects.create(creative=plain, date=day, impressions=10000, clicks=200, orders=10)
    result = {c.creative.name: c for c in compare_creatives(search_plan)}
    assert result["Good"].ctr_verdict == "better" and result["Good"].ctr_p < 0.001
    assert result["Plain"].ctr_verdict == "worse"
    # same conversion rate (5 %) on both: no clear difference
    assert result["Good"].cvr_verdict == "no clear difference"


def test_comparison_without_data_says_so(search_plan, make_creative):
    make_creative(search_plan, "Only")
    (only,) = compare_creatives(search_plan)
    assert only.ctr_p is None and only.ctr_verdict == "not enough data"


def new_creative(client, plan, image):
    return client.post(reverse("campaigns:ad_creative_new", args=[plan.pk]), {
        "name": "Hero", "headline": "Fresh Longjing", "text": "", "image": image, "is_active": "on"})


def test_an_uploaded_phone_photo_is_stored_upright_without_gps_or_camera_serial(client_a, search_plan, media):
    assert new_creative(client_a, search_plan, phone_jpeg()).status_code == 302
    creative = AdCreative.objects.get()
    with Image.open(media / creative.image.name) as image:
        assert image.format == "JPEG" and image.size == (300, 400)
        assert not image.getexif() and "comment" not in image.info
    assert (creative.width, creative.height) == (300, 400)
    assert creative.original_filename == "IMG_0001.JPG"


def test_the_plan_page_shows_a_thumbnail_that_links_to_the_whole_creative(client_a, search_plan, media):
    new_creative(client_a, search_plan, upload(png_bytes((1200, 800))))
    creative = AdCreative.objects.get()
    whole = reverse("campaigns:ad_creative_image", args=[creative.pk])
    thumbnail = reverse("campaigns:ad_creative_thumbnail", args=[creative.pk])
    assert f'<a href="{whole}"><img src="{thumbnail}"' in client_a.get(search_plan.get_absolute_url()).content.decode()
    response = client_a.get(thumbnail)
    assert response["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(b"".join(response.streaming_content))) as image:
        assert image.size == (480, 320)


def test_a_creative_stored_before_thumbnails_were_made_is_shown_whole(client_a, search_plan, make_creative):
    creative = make_creative(search_plan, "Old")
    response = client_a.get(reverse("campaigns:ad_creative_thumbnail", args=[creative.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == png_bytes()


def test_a_creative_uploaded_in_the_admin_is_re_encoded_too(client, search_plan, store_a, media):
    staff = UserFactory(username="staff-a", is_staff=True)
    MembershipFactory(user=staff, store=store_a)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["add_adcreative", "view_adcreative"]))
    client.force_login(staff)
    response = client.post(reverse("admin:campaigns_adcreative_add"), {
        "plan": search_plan.pk, "name": "Hero", "headline": "Fresh", "text": "", "image": phone_jpeg(),
        "original_filename": "", "is_active": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    creative = AdCreative.objects.get()
    with Image.open(media / creative.image.name) as image:
        assert not image.getexif() and image.size == (300, 400)
    assert (media / thumbnail_path(creative.image.name)).is_file()


class TestReplacedPictures:
    """A creative's picture that was replaced or deleted leaves no file behind, once the change is committed."""

    @pytest.fixture
    def creative(self, client_a, search_plan, media, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            new_creative(client_a, search_plan, phone_jpeg())
        return AdCreative.objects.get()

    def edit(self, client, creative, image):
        return client.post(reverse("campaigns:ad_creative_edit", args=[creative.pk]), {
            "name": creative.name, "headline": creative.headline, "text": "", "image": image, "is_active": "on"})

    def files(self, media):
        return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())

    def test_replacing_the_image_on_its_page_removes_the_old_picture_and_thumbnail(
            self, client_a, creative, media, django_capture_on_commit_callbacks):
        old = creative.image.name
        with django_capture_on_commit_callbacks(execute=True):
            assert self.edit(client_a, creative, upload(png_bytes((200, 100)))).status_code == 302
        creative.refresh_from_db()
        assert self.files(media) == sorted([creative.image.name, thumbnail_path(creative.image.name)])
        assert creative.image.name != old

    def test_replacing_the_image_in_the_admin_removes_the_old_files(
            self, client, creative, store_a, media, django_capture_on_commit_callbacks):
        staff = UserFactory(username="staff-a", is_staff=True)
        MembershipFactory(user=staff, store=store_a)
        staff.user_permissions.add(*Permission.objects.filter(codename__in=["change_adcreative", "view_adcreative"]))
        client.force_login(staff)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("admin:campaigns_adcreative_change", args=[creative.pk]), {
                "plan": creative.plan_id, "name": "Hero", "headline": "Fresh", "text": "",
                "image": upload(png_bytes((200, 100))), "original_filename": "", "is_active": "on"})
        assert response.status_code == 302, response.content.decode()[:2000]
        creative.refresh_from_db()
        assert self.files(media) == sorted([creative.image.name, thumbnail_path(creative.image.name)])

    def test_editing_only_the_headline_keeps_the_picture(self, client_a, creative, media,
                                                         django_capture_on_commit_callbacks):
        before = self.files(media)
        with django_capture_on_commit_callbacks(execute=True):
            self.edit(client_a, creative, "")
        assert self.files(media) == before and len(before) == 2

    def test_deleting_a_creative_or_its_plan_removes_its_files(self, creative, media,
                                                               django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            creative.plan.delete()  # the creative goes by cascade, which calls no Model.delete
        assert self.files(media) == []

    def test_a_rolled_back_replacement_or_delete_keeps_the_files(self, client_a, creative, media,
                                                                django_capture_on_commit_callbacks):
        old, before = creative.image.name, self.files(media)
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
            creative.image.save("new.png", upload(png_bytes()))
            creative.delete()
            raise RuntimeError("rolled back")
        assert AdCreative.objects.get().image.name == old
        assert [name for name in self.files(media) if name in before] == before  # the new upload aside

    def test_a_picture_another_creative_shows_is_kept(self, creative, search_plan, media,
                                                       django_capture_on_commit_callbacks):
        twin = AdCreative.objects.create(plan=search_plan, name="Twin", headline="Fresh", image=creative.image.name)
        with django_capture_on_commit_callbacks(execute=True):
            creative.delete()
        assert (media / twin.image.name).is_file() and (media / thumbnail_path(twin.image.name)).is_file()
