"""The date order and decimal mark an upload states: a tampered form value (one the page never offers) is a
form error, nothing stored and no job queued; the commands refuse what their kind cannot take."""

from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from stores.models import ImportJob, Violation

pytestmark = pytest.mark.django_db

ORDERS = "order_id,placed_at,total,sku,quantity,unit_price\nM-1,2026-11-03 14:05,7.50,MUG-1,1,7.50\n"


def csv(text=ORDERS):
    return SimpleUploadedFile("f.csv", text.encode(), "text/csv")


@pytest.mark.parametrize("mark", [";", "comma", "x" * 500])
def test_the_import_page_refuses_a_decimal_mark_it_does_not_offer(client_a, store_a, mark):
    response = client_a.post(reverse("stores:import", args=[store_a.slug]), {"kind": "orders", "mark": mark,
                                                                              "file": csv()})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("field, value", [("dates", "sideways"), ("dates", "day-first"), ("mark", ";")])
def test_the_ad_import_page_refuses_a_choice_it_does_not_offer(client_a, store_a, field, value):
    response = client_a.post(reverse("campaigns:ad_import"), {"store": store_a.pk, "format": "", field: value,
                                                              "file": csv("日期,计划名称,花费\n")})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_the_violation_entry_page_refuses_a_decimal_mark_it_does_not_offer(client_a, store_a):
    text = "external_id,kind,occurred_at,points,amount\nV-1,fake,2026-11-03T10:00:00,2,\"1,250\"\n"
    response = client_a.post(reverse("metrics:violation_entry", args=[store_a.slug]),
                             {"upload": "1", "mark": "'", "file": csv(text)})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not Violation.objects.exists()


def test_the_import_command_refuses_a_decimal_mark_for_a_kind_that_has_none(store_a, tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("review_id,rating,created_at\nR-1,5,2026-11-03 10:00\n")
    with pytest.raises(CommandError, match="--decimal-mark"):
        call_command("import_csv", "reviews", str(path), "--store", store_a.slug, "--decimal-mark", "comma",
                     stdout=StringIO(), stderr=StringIO())
