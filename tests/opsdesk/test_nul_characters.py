"""A NUL character (U+0000) in an address or a form: Postgres text cannot hold one, so it is refused by name."""

import pytest
from django.urls import reverse

from campaigns.models import Activity
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", [reverse("members:index") + "?q=Li%00", reverse("campaigns:plans") + "?store=a%00",
                                 reverse("campaigns:activities") + "?store=store-a%00&kind=gift",
                                 reverse("metrics:anomalies") + "?store=%00"])
def test_a_filter_with_a_nul_character_is_refused_by_name_not_a_server_error(client_a, url):
    response = client_a.get(url)
    assert response.status_code == 400
    assert "contains a NUL character" in response.content.decode()


def test_a_form_field_with_a_nul_character_is_refused_and_nothing_is_created(client_a, store_a):
    anchor, partner = ProductFactory(store=store_a), ProductFactory(store=store_a)
    response = client_a.post(reverse("campaigns:related_sales_bundle"), {
        "store": store_a.slug, "anchor": anchor.pk, "partner": partner.pk, "note": "Buy\x00 both"})
    assert response.status_code == 400
    assert response.content.decode().startswith("note: contains a NUL character")
    assert not Activity.objects.exists()


def test_text_without_nul_characters_passes(client_a):
    assert client_a.get(reverse("members:index") + "?q=Li").status_code == 200
