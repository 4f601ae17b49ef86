"""An id in an address or a form that only Python calls digits ("²", "①": str.isdigit() takes them, int() does
not) names no object: it is read like any other mangled id (a 404, or ignored), not a 500."""

import pytest
from django.urls import reverse

from metrics.models import Anomaly
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db
SUPERSCRIPT_TWO = "²"


def test_a_new_plan_under_a_superscript_parent_opens_without_one(client_a):
    response = client_a.get(reverse("campaigns:plan_new") + "?parent=%C2%B2")
    assert response.status_code == 200 and response.context["form"].initial == {}


def test_a_new_activity_from_a_superscript_template_is_not_found(client_a):
    assert client_a.get(reverse("campaigns:activity_new") + "?template=%C2%B2").status_code == 404


def test_a_bundle_with_a_superscript_product_id_is_not_found(client_a, store_a):
    anchor = ProductFactory(store=store_a)
    response = client_a.post(reverse("campaigns:related_sales_bundle"),
                             {"store": store_a.slug, "anchor": anchor.pk, "partner": SUPERSCRIPT_TWO})
    assert response.status_code == 404


def test_ticking_an_action_item_with_a_superscript_id_is_not_found(client_a, store_a):
    anomaly = Anomaly.objects.create(store=store_a, day=store_a.today(), metric="gmv", value=1, baseline=2,
                                     band_low=1.5, band_high=2.5, change=-0.5, score=-5, direction="down")
    response = client_a.post(reverse("metrics:anomaly", args=[anomaly.pk]), {"toggle_item": f"{SUPERSCRIPT_TWO}:done"})
    assert response.status_code == 404
