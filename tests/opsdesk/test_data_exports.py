"""Who downloaded customer data: every CSV download writes one record (who, which file, stores, filters with a
searched phone masked, rows, whether phones were whole), seen by the stores' managers and in a read-only admin."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse

from members.models import SmsTemplate
from opsdesk.models import DataExport
from opsdesk.privacy import mask_typed_phone
from tests.factories import MembershipFactory, UserFactory
from tests.members.conftest import make_member
from tests.opsdesk.test_query_counts import benefit_redeemed_by
from tests.reviews.conftest import make_case

pytestmark = pytest.mark.django_db


def the_record() -> DataExport:
    """The one record written (fails if there are none or several)."""
    return DataExport.objects.get()


def stores_of(export: DataExport) -> set[str]:
    return set(export.stores.values_list("slug", flat=True))


def test_a_managers_members_download_records_the_filters_with_the_searched_phone_masked(client, manager_a, store_a):
    make_member(store_a, name="Wang Fang", phone="+8613800138000", tier="gold")
    make_member(store_a, name="Li Lei", tier="gold")
    client.force_login(manager_a)

    response = client.get(reverse("members:index_csv"),
                          {"store": store_a.slug, "tier": "gold", "segment": "", "q": "138 0013 8000"})
    b"".join(response.streaming_content)

    export = the_record()
    assert (export.user, export.username, export.kind) == (manager_a, "mgr-a", DataExport.Kind.MEMBERS)
    assert stores_of(export) == {store_a.slug}
    assert export.filters == {"store": store_a.slug, "tier": "gold", "q": "*********8000"}
    assert export.rows == 1 and export.whole_phones is True


def test_an_operators_members_download_records_masked_phones_and_every_row(client_a, store_a):
    for _ in range(3):
        make_member(store_a)

    b"".join(client_a.get(reverse("members:index_csv")).streaming_content)

    export = the_record()
    assert export.kind == DataExport.Kind.MEMBERS and export.filters == {}
    assert stores_of(export) == {store_a.slug}
    assert export.rows == 3 and export.whole_phones is False


def test_a_download_cut_short_is_still_recorded_with_the_rows_it_would_hold(client_a, store_a):
    for _ in range(2):
        make_member(store_a)

    response = client_a.get(reverse("members:index_csv"))
    next(iter(response.streaming_content))  # the browser read the first lines, then went away

    assert the_record().rows == 2


def test_a_campaigns_redeeming_orders_download_is_recorded_with_masked_phones(client, manager_a, store_a):
    template, add = benefit_redeemed_by(store_a)
    add(2)
    client.force_login(manager_a)

    b"".join(client.get(reverse("members:campaign_orders_csv", args=[template.pk])).streaming_content)

    export = the_record()
    assert (export.user, export.kind) == (manager_a, DataExport.Kind.REDEEMING_ORDERS)
    assert stores_of(export) == {store_a.slug}
    assert export.filters == {"template": template.pk, "template_name": "Benefit"}
    assert export.rows == 2 and export.whole_phones is False  # the file masks phones for managers too


@time_machine.travel(datetime(2026, 11, 25, 6, tzinfo=UTC), tick=False)
def test_a_review_cases_download_is_recorded_with_its_window(client_a, operator_a, store_a):
    make_case(store_a, rating=1, body="broken")

    response = client_a.get(reverse("reviews:cases_csv", args=[store_a.slug]), {"start": "2026-11-01"})

    assert response.status_code == 200
    export = the_record()
    assert (export.user, export.kind) == (operator_a, DataExport.Kind.REVIEW_CASES)
    assert export.filters == {"store": store_a.slug, "start": "2026-11-01", "end": date(2026, 11, 25).isoformat()}
    assert export.rows == 1 and export.whole_phones is False


def test_a_refused_download_of_another_store_records_nothing(client_a, store_b):
    template = SmsTemplate.objects.create(store=store_b, name="B's", flow="benefit", body="Hi")

    refused = [client_a.get(reverse("members:index_csv"), {"store": store_b.slug}),
               client_a.get(reverse("members:campaign_orders_csv", args=[template.pk])),
               client_a.get(reverse("reviews:cases_csv", args=[store_b.slug]))]

    assert [response.status_code for response in refused] == [404, 404, 404]
    assert not DataExport.objects.exists()


def test_managers_see_their_stores_downloads_and_not_another_stores(client, manager_a, manager_b, store_a,
                                                                     store_b):
    both = UserFactory(username="op-both")
    MembershipFactory(store=store_a, user=both)
    MembershipFactory(store=store_b, user=both)
    DataExport.record(both, DataExport.Kind.MEMBERS, [store_a, store_b], {}, rows=7, whole_phones=False)
    DataExport.record(both, DataExport.Kind.MEMBERS, [store_b], {"q": "Grace"}, rows=1, whole_phones=False)
    client.force_login(manager_a)

    page = client.get(reverse("downloads")).content.decode()

    assert "op-both" in page and '<td class="num" data-label="Rows">7</td>' in page
    assert "q: Grace" not in page  # store B's own download
    assert "Store B" not in page  # the download of both stores names only the manager's own


def test_another_stores_manager_sees_none_of_its_downloads(client, manager_a, manager_b, store_a):
    DataExport.record(manager_a, DataExport.Kind.MEMBERS, [store_a], {}, rows=5, whole_phones=True)
    client.force_login(manager_b)

    page = client.get(reverse("downloads")).content.decode()

    assert "mgr-a" not in page and "No downloads yet." in page


def test_the_downloads_page_is_for_managers_and_linked_for_them_only(client, client_a, manager_a):
    assert client_a.get(reverse("downloads")).status_code == 403
    assert reverse("downloads") not in client_a.get(reverse("members:index")).content.decode()
    client.force_login(manager_a)
    assert reverse("downloads") in client.get(reverse("members:index")).content.decode()


@pytest.fixture
def staff_a(store_a):
    staff = UserFactory(username="staff-a", is_staff=True)
    MembershipFactory(user=staff, store=store_a)
    staff.user_permissions.add(*Permission.objects.filter(
        codename__in=["view_dataexport", "add_dataexport", "change_dataexport", "delete_dataexport"]))
    return staff


def test_the_admin_lists_the_staff_users_stores_downloads_only(client, staff_a, store_a, store_b, manager_b):
    DataExport.record(staff_a, DataExport.Kind.MEMBERS, [store_a], {}, rows=3, whole_phones=False)
    DataExport.record(manager_b, DataExport.Kind.MEMBERS, [store_b], {}, rows=4, whole_phones=True)
    client.force_login(staff_a)

    page = client.get(reverse("admin:opsdesk_dataexport_changelist")).content.decode()

    assert "staff-a" in page and "mgr-b" not in page
    assert "Store B" not in page  # not in a store or user filter either


def test_the_admin_never_adds_changes_or_deletes_a_download(client, staff_a, store_a):
    export = DataExport.record(staff_a, DataExport.Kind.MEMBERS, [store_a], {}, rows=3, whole_phones=False)
    client.force_login(staff_a)

    assert client.get(reverse("admin:opsdesk_dataexport_add")).status_code == 403
    assert client.post(reverse("admin:opsdesk_dataexport_change", args=[export.pk]), {"rows": 0}).status_code == 403
    assert client.post(reverse("admin:opsdesk_dataexport_delete", args=[export.pk]), {"post": "yes"}).status_code == 403
    export.refresh_from_db()
    assert export.rows == 3


def test_a_searched_phone_is_masked_however_typed_and_a_name_is_kept():
    assert mask_typed_phone("(415) 555-0100") == "**********0100"
    assert mask_typed_phone("+86 138-0013-8000") == "+86**********8000"
    assert mask_typed_phone("１３８００１３８０００") == "*******8000"  # full-width digits
    assert mask_typed_phone("Grace 42") == "Grace 42"
