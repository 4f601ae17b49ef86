"""The campaigns admin for staff of one store: playbooks and templates only for their own stores.

A staff operator of store A must not create or move a playbook or template into store B, link one to
B's playbook, nor change a shared one (shared rows are what every store sees)."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from campaigns.models import ActivityTemplate, Playbook
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_a(store_a):
    staff = UserFactory(username="staff-a", is_staff=True)
    MembershipFactory(user=staff, store=store_a)
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="campaigns", codename__in=[
        f"{action}_{model}" for action in ("view", "add", "change", "delete")
        for model in ("playbook", "activitytemplate", "templatestep")]))
    return staff


def playbook_form(store, slug="restock", **change):
    return {"store": store.pk if store else "", "slug": slug, "title": "Restock fast", "body": "Order more.",
            "anomaly_types": "", **change}


def template_form(store, **change):
    return {"name": "Flash sale", "kind": "store_promotion", "store": store.pk if store else "", "duration_days": 3,
            "default_details": "{}", "description": "", "playbook": "",
            "steps-TOTAL_FORMS": 0, "steps-INITIAL_FORMS": 0, **change}


def test_staff_of_store_a_cannot_create_a_playbook_for_store_b(client, staff_a, store_b):
    client.force_login(staff_a)

    response = client.post(reverse("admin:campaigns_playbook_add"), playbook_form(store_b))

    assert response.status_code == 200  # the form again, with the error on the store
    assert "Select a valid choice" in response.content.decode()
    assert not Playbook.objects.filter(slug="restock").exists()


def test_staff_of_store_a_cannot_create_a_shared_playbook_every_store_would_see(client, staff_a):
    client.force_login(staff_a)

    response = client.post(reverse("admin:campaigns_playbook_add"), playbook_form(None))

    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not Playbook.objects.filter(slug="restock").exists()


def test_staff_of_store_a_can_create_a_playbook_for_store_a(client, staff_a, store_a):
    client.force_login(staff_a)

    response = client.post(reverse("admin:campaigns_playbook_add"), playbook_form(store_a))

    assert response.status_code == 302
    assert Playbook.objects.get(slug="restock").store == store_a


def test_staff_of_store_a_cannot_change_a_shared_playbook(client, staff_a):
    shared = Playbook.objects.create(slug="shared-one", title="Shared", body="For all stores.")
    client.force_login(staff_a)

    response = client.post(reverse("admin:campaigns_playbook_change", args=[shared.pk]),
                           playbook_form(None, slug="shared-one", body="Hijacked."))

    assert response.status_code == 403
    shared.refresh_from_db()
    assert shared.body == "For all stores."


def test_staff_of_store_a_cannot_give_store_b_a_template_nor_link_b_s_playbook(client, staff_a, store_a, store_b):
    b_playbook = Playbook.objects.create(store=store_b, slug="b-secret", title="B secret", body="B only.")
    client.force_login(staff_a)

    for_b = client.post(reverse("admin:campaigns_activitytemplate_add"), template_form(store_b))
    with_b_playbook = client.post(reverse("admin:campaigns_activitytemplate_add"),
                                  template_form(store_a, playbook=b_playbook.pk))

    assert for_b.status_code == with_b_playbook.status_code == 200
    assert "Select a valid choice" in for_b.content.decode()
    assert "Select a valid choice" in with_b_playbook.content.decode()
    assert "B secret" not in with_b_playbook.content.decode()  # not offered in the select either
    assert not ActivityTemplate.objects.filter(name="Flash sale").exists()
