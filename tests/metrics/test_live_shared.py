"""Operators watching one store share its live snapshot for the poll interval (metrics.live_cache)."""

import json
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import redis
import time_machine
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.ads_importers import import_ad_report
from campaigns.models import AdChannel
from metrics import live, live_cache
from metrics.ingest import ingest_events
from metrics.models import EventType, TrafficEvent
from stores.importers import import_orders
from stores.models import ApiKey, Order
from stores.webhooks import shopify_signature
from tests.ads.conftest import AdPlanFactory
from tests.factories import MembershipFactory, ProductFactory, StoreFactory, UserFactory

T = datetime(2026, 1, 1, 4, tzinfo=UTC)  # 12:00 in Shanghai


def start_session(store, sid, ts=T - timedelta(hours=1)):
    TrafficEvent.objects.create(
        store=store, event_id=sid, type="session_start", ts=ts, session_id=sid, visitor_id=f"v-{sid}", source="direct"
    )


def member_client(store):
    client = Client()
    client.force_login(MembershipFactory(store=store, user=UserFactory()).user)
    return client


def poll(client, store, at):
    url = f"/metrics/{store.slug}/live.json"
    with time_machine.travel(at, tick=False), CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    reads = [q["sql"] for q in ctx if "metrics_trafficevent" in q["sql"] or "stores_order" in q["sql"]]
    return response.json(), reads


@pytest.fixture
def store(db):
    return StoreFactory(timezone="Asia/Shanghai")


def test_two_operators_of_a_store_get_the_same_figures_from_one_computation(store):
    start_session(store, "s1")
    first, first_reads = poll(member_client(store), store, T)
    second, second_reads = poll(member_client(store), store, T + timedelta(seconds=2))
    assert first_reads  # the first one computed the snapshot...
    assert second_reads == []  # ...the second read no event and no order: it got that one
    assert second == first
    assert second["kpis"]["today"]["sessions"] == 1


def test_a_user_of_another_store_never_gets_this_stores_figures(store):
    start_session(store, "s1")
    poll(member_client(store), store, T)  # store's snapshot now shared
    other = StoreFactory(timezone="Asia/Shanghai")
    outsider = member_client(other)
    theirs, reads = poll(outsider, other, T + timedelta(seconds=1))
    assert reads  # computed for their own store
    assert theirs["store"] == other.slug
    assert theirs["kpis"]["today"]["sessions"] == 0
    with time_machine.travel(T + timedelta(seconds=1), tick=False):
        assert outsider.get(f"/metrics/{store.slug}/live.json").status_code == 404


def test_new_events_show_after_the_interval_and_as_of_says_when_the_figures_were_computed(store, settings):
    settings.LIVE_SHARED_SECONDS = 5
    client = member_client(store)
    start_session(store, "s1")
    first, _ = poll(client, store, T)
    start_session(store, "s2")
    shared, _ = poll(client, store, T + timedelta(seconds=4))
    assert shared["kpis"]["today"]["sessions"] == 1  # within the interval: the shared snapshot...
    assert shared["as_of"] == "2026-01-01T12:00:00+08:00"  # ...saying it is from 12:00:00, not 12:00:04
    fresh, reads = poll(client, store, T + timedelta(seconds=5))
    assert reads
    assert fresh["kpis"]["today"]["sessions"] == 2
    assert fresh["as_of"] == "2026-01-01T12:00:05+08:00"


def test_while_one_request_computes_the_others_get_the_last_snapshot_at_most_one_interval_older(store):
    client = member_client(store)
    start_session(store, "s1")
    poll(client, store, T)
    start_session(store, "s2")
    caches["live"].add(f"{live_cache.snapshot_key(store)}:computing", 1, 10)  # another process is at it
    meanwhile, reads = poll(client, store, T + timedelta(seconds=9))
    assert reads == []
    assert meanwhile["as_of"] == "2026-01-01T12:00:00+08:00"
    assert meanwhile["kpis"]["today"]["sessions"] == 1


def test_a_snapshot_two_intervals_old_is_not_served_even_while_another_computes(store, monkeypatch):
    monkeypatch.setattr(live_cache, "WAIT_STEPS", 2)  # the other computation never finishes: wait 0.1 s, not 2 s
    client = member_client(store)
    start_session(store, "s1")
    poll(client, store, T)
    start_session(store, "s2")
    caches["live"].add(f"{live_cache.snapshot_key(store)}:computing", 1, 10)
    late, reads = poll(client, store, T + timedelta(seconds=10))
    assert reads  # computed its own rather than show figures 10 s old
    assert late["kpis"]["today"]["sessions"] == 2
    assert late["as_of"] == "2026-01-01T12:00:10+08:00"


def test_with_sharing_off_every_request_computes(store, settings):
    settings.LIVE_SHARED_SECONDS = 0
    client = member_client(store)
    poll(client, store, T)
    start_session(store, "s1")
    again, reads = poll(client, store, T + timedelta(seconds=1))
    assert reads and again["kpis"]["today"]["sessions"] == 1


def test_without_its_cache_the_live_view_still_answers(store, settings):
    # Redis down (nothing listens on port 1): every request computes its own snapshot, as before the cache.
    settings.CACHES = {
        **settings.CACHES,
        "live": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_timeout": 0.2, "socket_connect_timeout": 0.2},
        },
    }
    start_session(store, "s1")
    answer, reads = poll(member_client(store), store, T)
    assert reads and answer["kpis"]["today"]["sessions"] == 1


@pytest.mark.django_db(transaction=True)
def test_many_requests_at_once_compute_the_snapshot_once(monkeypatch):
    store = StoreFactory(timezone="Asia/Shanghai")
    start_session(store, "s1", timezone.now() - timedelta(seconds=1))
    computed = []
    real = live.snapshot

    def counted(*args, **kwargs):
        computed.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(live, "snapshot", counted)
    start = threading.Barrier(8)
    answers = []

    def viewer():
        try:
            start.wait()
            answers.append(live_cache.shared_snapshot(store))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=viewer, name=f"viewer-{n}") for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(computed) == 1
    assert len(answers) == 8 and all(answer == answers[0] for answer in answers)
    assert answers[0]["kpis"]["today"]["sessions"] == 1


# New facts end the shared snapshot at once (metrics.live_cache.facts_arrived), whichever channel brings them.
NOW = datetime(2026, 11, 25, 2, 50, tzinfo=UTC)  # 18:50 on 24 Nov in Los Angeles
SHOPIFY_ORDER = json.loads(
    (Path(__file__).parents[1] / "stores" / "fixtures" / "shopify_order_create.json").read_text()
)
ORDER_CSV = """\
order_id,placed_at,paid_at,total,traffic_source,buyer_name,buyer_phone,sku,title,quantity,unit_price,payment_type
T-1,2026-11-24 18:44:00,2026-11-24 18:45:00,25.00,direct,,,MUG-1,Mug,1,25.00,credit_card
"""


def order_paid(n=1):
    return {
        "id": f"o-{n}",
        "type": "order_paid",
        "ts": "2026-11-24T18:45:00-08:00",
        "order_id": f"A{n}",
        "total": "25.00",
        "buyer": {"ref": f"c-{n}"},
        "lines": [{"sku": "MUG-1", "quantity": 1, "unit_price": "25.00"}],
        "payments": [{"type": "credit_card", "amount": "25.00"}],
    }


def through_the_api(store):
    response = Client().post(
        "/api/v1/events",
        json.dumps({"events": [order_paid()]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {ApiKey.issue(store)[1]}",
    )
    assert response.status_code == 202


def through_the_shopify_webhook(store):
    body = json.dumps(SHOPIFY_ORDER).encode()
    response = Client().post(
        f"/webhooks/shopify/{store.slug}/orders",
        body,
        content_type="application/json",
        HTTP_X_SHOPIFY_HMAC_SHA256=shopify_signature(body, store.webhook_secret),
        HTTP_X_SHOPIFY_TOPIC="orders/create",
    )
    assert response.status_code in (200, 201)  # 200: delivered before


def through_a_file_import(store):
    import_orders(store, ORDER_CSV.encode())


def through_the_demo_storefront_path(store):
    ingest_events(store, [order_paid()])  # metrics.demo_live sends its minutes this way


@pytest.fixture
def shop(db):
    store = StoreFactory(timezone="America/Los_Angeles", currency="USD")
    ProductFactory(store=store, sku="MUG-1", title="Mug", price=Decimal("25.00"))
    return store


@pytest.mark.parametrize(
    "arrives", [through_the_api, through_the_shopify_webhook, through_a_file_import, through_the_demo_storefront_path]
)
def test_a_poll_right_after_an_order_arrives_shows_it_within_the_interval(
    shop, arrives, django_capture_on_commit_callbacks
):
    client = member_client(shop)
    before, _ = poll(client, shop, NOW)
    assert before["kpis"]["today"]["orders"] == 0
    with time_machine.travel(NOW + timedelta(seconds=1), tick=False), django_capture_on_commit_callbacks(execute=True):
        arrives(shop)
    after, reads = poll(client, shop, NOW + timedelta(seconds=2))  # the interval (5 s) has not passed
    assert reads
    assert after["kpis"]["today"]["orders"] == 1
    assert after["as_of"] == "2026-11-24T18:50:02-08:00"


def generation(store):
    return caches["live"].get(live_cache.generation_key(store))


def session_started(n):
    return {"id": f"s{n}", "type": "session_start", "ts": "2026-11-24T18:45:00-08:00", "session_id": f"s{n}",
            "visitor_id": f"v{n}", "source": "direct"}


@pytest.mark.parametrize(
    "arrives", [through_the_api, through_the_shopify_webhook, through_a_file_import, through_the_demo_storefront_path]
)
def test_the_same_order_delivered_again_leaves_the_shared_snapshot_as_it_is(
    shop, arrives, django_capture_on_commit_callbacks
):
    client = member_client(shop)
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        arrives(shop)
    first, _ = poll(client, shop, NOW + timedelta(seconds=1))
    ended = generation(shop)
    with time_machine.travel(NOW + timedelta(seconds=2), tick=False), django_capture_on_commit_callbacks(execute=True):
        arrives(shop)  # a retried request, a webhook delivered twice, the same file again: nothing new stored
    assert generation(shop) == ended
    again, reads = poll(client, shop, NOW + timedelta(seconds=3))
    assert reads == []  # still the snapshot of the first delivery: not computed again for nothing
    assert again == first and again["kpis"]["today"]["orders"] == 1


def test_a_retried_batch_with_one_new_event_ends_the_shared_snapshot(shop, django_capture_on_commit_callbacks):
    client = member_client(shop)
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        ingest_events(shop, [session_started(1)])
    poll(client, shop, NOW + timedelta(seconds=1))
    ended = generation(shop)
    with time_machine.travel(NOW + timedelta(seconds=2), tick=False), django_capture_on_commit_callbacks(execute=True):
        result = ingest_events(shop, [session_started(1), session_started(2)])
    assert (result.accepted, result.duplicates) == (1, 1)
    assert generation(shop) == ended + 1
    after, reads = poll(client, shop, NOW + timedelta(seconds=3))
    assert reads
    assert after["kpis"]["today"]["sessions"] == 2


# Ad spend: the cost column of the funnel, by the ads API (an intraday snapshot) or an ad report file.
def spend_through_the_ads_api(store):
    body = {"snapshots": [{"plan": "Mug search", "ts": "2026-11-24T18:40:00-08:00", "spend_today": "12.50"}]}
    response = Client().post("/api/v1/ads/performance", json.dumps(body), content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {ApiKey.issue(store)[1]}")
    assert response.status_code == 200, response.content


def spend_through_a_report_import(store):
    report = "Date,Plan,Impressions,Clicks,Spend,Orders,Sales\n2026-11-24,Mug search,400,20,12.50,0,0\n"
    assert import_ad_report(store, report.encode()).created == 1


def paid_search_cost(answer):
    return next(row["shown"]["cost"] for row in answer["funnel"] if row["source"] == "paid_search")


@pytest.mark.parametrize("arrives", [spend_through_the_ads_api, spend_through_a_report_import])
def test_a_poll_right_after_ad_spend_arrives_shows_the_new_cost(shop, arrives, django_capture_on_commit_callbacks):
    AdPlanFactory(store=shop, name="Mug search", channel=AdChannel.SEARCH)
    client = member_client(shop)
    before, _ = poll(client, shop, NOW)
    assert paid_search_cost(before) == "0.00"
    with time_machine.travel(NOW + timedelta(seconds=1), tick=False), django_capture_on_commit_callbacks(execute=True):
        arrives(shop)
    after, reads = poll(client, shop, NOW + timedelta(seconds=2))  # the interval (5 s) has not passed
    assert reads
    assert paid_search_cost(after) == "12.50"


def test_a_poll_right_after_a_listing_change_shows_the_new_title(shop, django_capture_on_commit_callbacks):
    mug = shop.products.get(sku="MUG-1")
    TrafficEvent.objects.create(store=shop, event_id="pv1", type=EventType.PRODUCT_VIEW, ts=NOW - timedelta(minutes=5),
                                session_id="s1", visitor_id="v1", source="direct", product=mug)
    client = member_client(shop)
    before, _ = poll(client, shop, NOW)
    assert before["top_products"][0]["title"] == "Mug"
    with time_machine.travel(NOW + timedelta(seconds=1), tick=False), django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/stores/{shop.slug}/products/{mug.pk}/", {"title": "Hand-thrown mug"})
    assert response.status_code == 302
    after, reads = poll(client, shop, NOW + timedelta(seconds=2))
    assert reads
    assert after["top_products"][0]["title"] == "Hand-thrown mug"


def test_a_snapshot_an_order_landed_in_while_it_was_computed_is_not_served_after_it(
    shop, monkeypatch, django_capture_on_commit_callbacks
):
    real = live.snapshot

    def order_lands_meanwhile(*args, **kwargs):
        figures = real(*args, **kwargs)  # read before the order was committed...
        monkeypatch.setattr(live, "snapshot", real)
        with django_capture_on_commit_callbacks(execute=True):
            ingest_events(shop, [order_paid()])  # ...which lands before the snapshot is stored
        return figures

    monkeypatch.setattr(live, "snapshot", order_lands_meanwhile)
    with time_machine.travel(NOW, tick=False):
        assert live_cache.shared_snapshot(shop)["kpis"]["today"]["orders"] == 0
    with time_machine.travel(NOW + timedelta(seconds=1), tick=False):
        assert live_cache.shared_snapshot(shop)["kpis"]["today"]["orders"] == 1


def test_a_batch_of_500_events_costs_the_live_cache_one_incr(shop, monkeypatch, django_capture_on_commit_callbacks):
    if not isinstance(caches["live"], RedisCache):
        pytest.skip("counts the live cache's Redis commands: set REDIS_URL=redis://127.0.0.1:6379/0")
    sent = []
    real = redis.Redis.execute_command

    def counted(self, *args, **options):
        sent.append(args)
        return real(self, *args, **options)

    events = [
        {
            "id": f"s{n}",
            "type": "session_start",
            "ts": "2026-11-24T18:45:00-08:00",
            "session_id": f"s{n}",
            "visitor_id": f"v{n}",
            "source": "direct",
        }
        for n in range(499)
    ] + [order_paid()]
    monkeypatch.setattr(redis.Redis, "execute_command", counted)
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert ingest_events(shop, events).accepted == 500
    monkeypatch.undo()
    generation = caches["live"].make_and_validate_key(live_cache.generation_key(shop))
    assert sent == [("INCRBY", generation, 1)]  # redis-py sends INCR as INCRBY 1


def test_ingest_still_works_with_the_live_cache_down(shop, settings, django_capture_on_commit_callbacks):
    # Redis down for the live cache (nothing listens on port 1): the batch is stored and answered as before.
    settings.CACHES = {
        **settings.CACHES,
        "live": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_timeout": 0.2, "socket_connect_timeout": 0.2},
        },
    }
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        through_the_api(shop)
    assert Order.objects.filter(store=shop, external_id="A1").exists()
    answer, _ = poll(member_client(shop), shop, NOW + timedelta(seconds=1))
    assert answer["kpis"]["today"]["orders"] == 1
