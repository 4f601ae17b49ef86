"""Demo data for the stores app: two stores in different zones with 120 days of orders.

History has weekly seasonality (weekends busier), an evening peak, a promotion spike, and one
injected anomaly in the first store: its through-train plan pauses at 03:00 three days ago (GMV falls to
70 % of the weekday's usual or less) and nobody restarts it, so paid-search buyers stay away the days
after, and the nightly detector judges the three days one continuing incident. The Shopify store's orders
carry Shopify's names (#1001 …); shipped and delivered orders have the time they left the warehouse, but for a
few of the first store's that the warehouse missed: two are past the 48 h shipping promise and one is due within
6 hours, so the desk warns of them (the demo storefront ships them late, `HELD_ORDERS`).
Everything is drawn from seeded RNGs, so the demo is the same every time.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from statistics import median

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from opsdesk.money import to_money

from .models import (
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentType,
    Product,
    Role,
    Store,
    StoreMembership,
    TrafficSource,
    Violation,
    ViolationStatus,
)

DEMO_PASSWORD = "opsdesk-demo-2026"  # noqa: S105 - printed for the demo, never used in production
DEMO_USERS = ("olivia", "marco")  # made by `seed`, removed by `remove_demo`

STORES = [
    dict(name="Jade Tea House", slug="jade-tea", platform="tmall", country="CN", timezone="Asia/Shanghai",
         currency="CNY", orders_per_day=90, price_range=(39, 399),
         # Tmall stores lean on through-train (paid search) more than on anything else.
         sources=[(TrafficSource.ORGANIC_SEARCH, 0.25), (TrafficSource.PAID_SEARCH, 0.40),
                  (TrafficSource.RECOMMENDATION, 0.17), (TrafficSource.SOCIAL, 0.07), (TrafficSource.DIRECT, 0.07),
                  (TrafficSource.CAMPAIGN, 0.03), (TrafficSource.OTHER, 0.01)],
         # (title, category): the category is the kind of product the daily and product pages group by.
         catalogue=[("Longjing green tea 250g", "Green tea"), ("Tieguanyin oolong 200g", "Oolong tea"),
                    ("Pu'er cake 357g", "Pu'er tea"), ("Jasmine pearls 100g", "Scented tea"),
                    ("Dian hong black tea 200g", "Black tea"), ("Celadon gaiwan set", "Teaware"),
                    ("Yixing clay teapot", "Teaware"), ("Bamboo tea tray", "Teaware"),
                    ("White peony tea 150g", "White tea"), ("Travel tea tumbler", "Teaware"),
                    ("Tea sampler gift box", "Gift sets"), ("Glass kettle 1L", "Teaware")],
         payments=[(PaymentType.ALIPAY, 0.62), (PaymentType.WECHAT, 0.28), (PaymentType.CREDIT_CARD, 0.07),
                   (PaymentType.VOUCHER, 0.03)]),
    dict(name="Pacific Outfitters", slug="pacific-outfitters", platform="shopify", country="US",
         timezone="America/Los_Angeles", currency="USD", orders_per_day=55, price_range=(18, 240),
         sources=[(TrafficSource.ORGANIC_SEARCH, 0.30), (TrafficSource.PAID_SEARCH, 0.28),
                  (TrafficSource.RECOMMENDATION, 0.17), (TrafficSource.SOCIAL, 0.10), (TrafficSource.DIRECT, 0.10),
                  (TrafficSource.CAMPAIGN, 0.03), (TrafficSource.OTHER, 0.02)],
         catalogue=[("Trail running shoes", "Footwear"), ("Merino base layer", "Clothing"),
                    ("Packable rain shell", "Clothing"), ("Insulated bottle 32oz", "Drinkware"),
                    ("Hiking socks 3-pack", "Clothing"), ("Daypack 22L", "Packs & bags"),
                    ("Fleece quarter-zip", "Clothing"), ("Sun hoodie", "Clothing"), ("Camp mug", "Drinkware"),
                    ("Headlamp 400lm", "Camping gear"), ("Trekking poles", "Camping gear"),
                    ("Dry bag 10L", "Packs & bags")],
         payments=[(PaymentType.CREDIT_CARD, 0.68), (PaymentType.PAYPAL, 0.2), (PaymentType.DEBIT_CARD, 0.09),
                   (PaymentType.VOUCHER, 0.03)]),
]

ANOMALY_HOUR = 3  # store-local hour the first store's through-train plan pauses on the anomaly day
PAUSED_DAYS = 3  # the anomaly day is this many days before the seeding day: yesterday is the run's 3rd day
FIRST_ORDER_NUMBER = 1001  # a Shopify store's first order is #1001
SHIP_HOURS = (9, 18)  # the warehouse's local working hours: parcels leave then
# Orders of the first store the warehouse missed, by id, and how long before seeding each was paid (about: the
# nearest seeded order is taken): two past its 48 h shipping promise, one due within 6 hours. They ship
# HELD_DELAY later than the others (`fulfilment_times`), so the demo storefront ships them late.
HELD_ORDERS = {"900001": timedelta(hours=61), "900002": timedelta(hours=53), "900003": timedelta(hours=44)}
HELD_DELAY = timedelta(hours=72)
DELIVERY_HOURS = (9, 20)  # the carrier's local delivery hours
ANOMALY_GMV_SHARE = Decimal("0.7")  # the anomaly day's GMV at most this share of the weekday's usual
PROMO_FACTOR = 2.6  # the promotion's days sell this many times the usual
WEEKDAY_FACTOR = [0.92, 0.9, 0.95, 1.0, 1.08, 1.22, 1.18]  # Monday .. Sunday
HOUR_WEIGHTS = [0.4, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 0.9, 1.2, 1.4, 1.5, 1.6, 1.7, 1.5, 1.4, 1.4, 1.5, 1.6, 1.8,
                2.1, 2.5, 2.6, 2.0, 1.0]
VIOLATION_KINDS = [("Late shipment", 2, "0"), ("Misleading product description", 6, "200"),
                   ("Out-of-stock after sale", 4, "50"), ("Slow reply to buyer", 1, "0")]


@dataclass
class DemoContext:
    """What other apps' demo seeders build on: the stores, the people and the story's dates."""

    stores: list[Store]
    operator: object
    manager: object
    days: int
    rng: random.Random
    seed_value: int
    promo: dict[str, tuple[date, date]] = field(default_factory=dict)  # store slug -> promotion days
    anomaly_day: dict[str, date] = field(default_factory=dict)  # store slug -> first day of the injected drop
    api_keys: dict[str, str] = field(default_factory=dict)


def _pick(rng: random.Random, weighted):
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def _phone(rng: random.Random, country: str) -> str:
    # Prefixes that phonenumbers accepts as mobile numbers, so every demo buyer can be enrolled.
    if country == "CN":
        return "+86" + rng.choice(CN_MOBILE_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(8))
    return "+1415555" + "".join(rng.choice("0123456789") for _ in range(4))


CN_MOBILE_PREFIXES = ("135", "138", "139", "150", "158", "186", "188", "199")

# Buyers' names, of many origins as a store's customers are. First names are one word of plain letters: texts greet
# them ({first_name} is the name's first word) and an accent outside GSM-7 would make a text UCS-2.
FIRST_NAMES = (
    "Olivia", "Liam", "Amara", "Mateo", "Sofia", "Kenji", "Priya", "Noah", "Fatima", "Lucas", "Mei", "Diego",
    "Aisha", "Ethan", "Yuki", "Omar", "Chloe", "Arjun", "Ingrid", "Kwame", "Isabella", "Wei", "Nadia", "Samuel",
    "Hana", "Rafael", "Leila", "Daniel", "Zanele", "Tomasz", "Grace", "Hiroshi", "Elena", "Jamal", "Ana", "Minjun",
    "Freya", "Carlos", "Ayesha", "Jonas", "Lucia", "Tariq", "Emma", "Chen", "Nia", "Mikhail", "Rosa", "Ravi",
    "Astrid", "Kofi", "Julia", "Haruto", "Camila", "Yusuf", "Maya", "Andrei", "Lin", "Pedro", "Zara", "Oscar",
)
LAST_NAMES = (
    "Smith", "Garcia", "Chen", "Okafor", "Nguyen", "Patel", "Kowalski", "Tanaka", "Rossi", "Haddad", "Johansson",
    "Kim", "Silva", "Mensah", "Ivanova", "Murphy", "Hernandez", "Wang", "Dubois", "Yilmaz", "Schmidt", "Sato",
    "Ali", "Novak", "Costa", "Lee", "Fischer", "Mbeki", "Lopez", "Zhang", "Cohen", "Sharma", "Andersen", "Park",
    "Moreau", "Ortiz", "Nakamura", "Rahman", "Bianchi", "Walker", "Liu", "Petrov", "Adeyemi", "Jensen", "Reyes",
    "Huang", "Khan", "O'Brien", "Santos", "Yamamoto", "Nowak", "Mahlaba", "Larsen", "Torres", "Zhou", "Gupta",
    "Kelly", "Horvat", "Alvarez", "Takahashi",
)


# A Chinese store's buyers have Chinese names, surname then given name, written without a space ("王芳"): the
# whole name is the greeting's {first_name} ("王芳您好"), as a Chinese text greets. One-character surnames and
# given names of one or two characters keep a name at most three characters, no longer than a Latin first name.
CN_SURNAMES = tuple("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余")
CN_GIVEN_NAMES = tuple("伟芳娜敏静丽强磊军洋勇艳杰涛明超霞平刚颖") + (
    "秀英", "桂英", "浩然", "子涵", "欣怡", "梓萱", "宇轩", "雨桐", "思远", "嘉怡", "俊杰", "晓东",
    "志强", "文博", "佳琪", "建华", "海燕", "丽华", "玉兰", "晨曦", "一鸣", "梦琪", "天宇", "雅婷",
    "子轩", "诗涵", "博文", "欣然", "明轩", "若曦", "国栋", "春梅", "晓燕", "家豪", "婉清", "志明",
    "慧敏", "思琪", "昊天", "美玲",
)


def buyer_name(buyer_ref: str, country: str = "") -> str:
    """A demo buyer's name, one that fits the store's country: "王芳" in a Chinese store, else one of many origins
    ("Amara Okafor"). Drawn from their ref alone: the same in every run, and the same on the orders the demo
    storefront adds for the buyer later (`metrics.demo_live`), without moving the history's draws."""
    rng = random.Random(f"name-{buyer_ref}")
    if country == "CN":
        return rng.choice(CN_SURNAMES) + rng.choice(CN_GIVEN_NAMES)
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def demo_exists() -> bool:
    return Store.objects.filter(slug__in=[s["slug"] for s in STORES]).exists()


def demo_stores() -> list[Store]:
    """The demo's stores that exist, in the order of STORES (the first is the one with the anomaly)."""
    found = Store.objects.in_bulk([s["slug"] for s in STORES], field_name="slug")
    return [found[s["slug"]] for s in STORES if s["slug"] in found]


def story_days(today: date) -> tuple[tuple[date, date], date]:
    """The story's days around the store-local day the demo was seeded: the promotion and the anomaly's first
    day (the paid-search plan stays paused from then on, so the nightly judging of the last days links them)."""
    return (today - timedelta(days=40), today - timedelta(days=38)), today - timedelta(days=PAUSED_DAYS)


def demo_context(seed_value: int = 2026, days: int = 120) -> DemoContext | None:
    """The context of the demo already in the database (None without one), rebuilt from the day each
    store was created (seeded): what the demo storefront (`metrics.demo_live`) keeps following."""
    stores = demo_stores()
    if not stores:
        return None
    users = get_user_model().objects
    ctx = DemoContext(stores=stores, operator=users.filter(username="olivia").first(),
                      manager=users.filter(username="marco").first(), days=days,
                      rng=random.Random(seed_value), seed_value=seed_value)
    for store in stores:
        ctx.promo[store.slug], ctx.anomaly_day[store.slug] = story_days(store.today(store.created_at))
    return ctx


def remove_demo() -> None:
    """The demo's stores (and with them everything of theirs) and its two users, as before `seed`."""
    Store.objects.filter(slug__in=[s["slug"] for s in STORES]).delete()
    get_user_model().objects.filter(username__in=DEMO_USERS).delete()


@transaction.atomic
def seed(days: int = 120, now: datetime | None = None, seed_value: int = 2026) -> DemoContext:
    """Create the demo stores, users and order history; returns the context for other apps."""
    now = now or timezone.now()
    rng = random.Random(seed_value)
    users = get_user_model().objects
    operator = users.filter(username="olivia").first() or users.create_user(
        "olivia", "olivia@example.com", DEMO_PASSWORD, first_name="Olivia")
    manager = users.filter(username="marco").first() or users.create_user(
        "marco", "marco@example.com", DEMO_PASSWORD, first_name="Marco")
    stores = []
    ctx = DemoContext(stores=stores, operator=operator, manager=manager, days=days, rng=rng,
                      seed_value=seed_value)
    for spec in STORES:
        store = Store.objects.create(**{k: spec[k] for k in ("name", "slug", "platform", "country", "timezone",
                                                             "currency")}, webhook_secret="demo-" + spec["slug"])
        stores.append(store)
        StoreMembership.objects.create(user=operator, store=store, role=Role.OPERATOR)
        StoreMembership.objects.create(user=manager, store=store, role=Role.MANAGER,
                                       email_timezone="Europe/London" if spec["country"] == "CN" else "")
        today = store.today(now)
        ctx.promo[store.slug], ctx.anomaly_day[store.slug] = story_days(today)
        products = _seed_products(store, spec, rng)
        _seed_orders(store, spec, products, ctx, today, now)
        _seed_violations(store, rng, today)
    return ctx


def _seed_products(store: Store, spec: dict, rng: random.Random) -> list[Product]:
    low, high = spec["price_range"]
    products = [Product(store=store, sku=f"{store.slug[:3].upper()}-{i + 1:03d}", title=title, category=category,
                        price=to_money(rng.uniform(low, high)))
                for i, (title, category) in enumerate(spec["catalogue"])]
    return Product.objects.bulk_create(products)


def _seed_orders(store: Store, spec: dict, products: list[Product], ctx: DemoContext, today: date,
                 now: datetime) -> None:
    rng = ctx.rng
    anomaly_day = ctx.anomaly_day[store.slug] if store is ctx_first(ctx) else None
    popularity = [rng.paretovariate(1.5) for _ in products]
    buyers = [(f"{store.slug}-c{n}", _phone(rng, store.country)) for n in range(spec["orders_per_day"] * 25)]
    drawn, gmv_by_day = [], {}
    for offset in range(ctx.days, -1, -1):
        day = today - timedelta(days=offset)
        expected = expected_orders(store, ctx, day, today)
        draw = partial(_day_orders, store, spec, products, popularity, buyers, day, expected, now,
                       paused_from=paid_search_paused_from(store, ctx, day))
        day_orders = _anomaly_day_orders(draw, gmv_by_day, day, ctx) if day == anomaly_day else draw(rng)
        gmv_by_day[day] = sum(order.total for order, _, _ in day_orders)
        drawn.extend(day_orders)
    orders = [order for order, _, _ in drawn]
    for seq, order in enumerate(orders, start=1):
        order.external_id = f"{100000 + seq}"
    if store is ctx_first(ctx):
        _hold_back(orders, now)
    _name_and_ship(store, ctx, orders, now)
    Order.objects.bulk_create(orders, batch_size=2000)
    for order, order_lines, order_payments in drawn:
        for item in order_lines:
            item.order = order
        for p in order_payments:
            p.order = order
    OrderLine.objects.bulk_create([x for _, group, _ in drawn for x in group], batch_size=5000)
    Payment.objects.bulk_create([x for _, _, group in drawn for x in group], batch_size=5000)


def _hold_back(orders: list[Order], now: datetime) -> None:
    """The HELD_ORDERS: the seeded orders paid nearest their ages, left paid (not shipped) and given their ids.
    Orders of the history, so the daily figures and the anomaly stay as drawn."""
    for external_id, age in HELD_ORDERS.items():
        order = min((o for o in orders if o.delivered_at is None and o.external_id not in HELD_ORDERS),
                    key=lambda o: abs(now - age - o.paid_at), default=None)
        if order is not None:
            order.external_id, order.status = external_id, OrderStatus.PAID


def _name_and_ship(store: Store, ctx: DemoContext, orders: list[Order], now: datetime) -> None:
    """A Shopify store's orders get Shopify's names, numbered in the order they were placed; every order
    that left the warehouse gets its shipping time (`fulfilment_times`, from its own seeded RNG, so the
    history's other draws stay as they were)."""
    if store.platform == "shopify":
        for number, order in enumerate(sorted(orders, key=lambda o: (o.placed_at, o.external_id)),
                                       start=FIRST_ORDER_NUMBER):
            order.name = f"#{number}"
    for order in orders:
        if order.status == OrderStatus.PAID:
            continue
        shipped, _ = fulfilment_times(store, ctx.seed_value, order.external_id, order.paid_at)
        # A parcel leaves before it arrives; an order seeded as shipped has left by now.
        order.shipped_at = min(shipped, order.delivered_at or now, now)


def fulfilment_times(store: Store, seed_value: int, order_id: str, paid_at: datetime) -> tuple[datetime, datetime]:
    """When the order is shipped and when delivered: shipped 2 to 20 hours after payment, put off to the next
    working hours (SHIP_HOURS, store-local) if that falls outside them; delivered one or two days after the
    day it was shipped, within DELIVERY_HOURS. Drawn from the order id, so always the same for an order. The
    HELD_ORDERS ship HELD_DELAY later: past the shipping promise."""
    rng = random.Random(f"{seed_value}-{store.slug}-fulfil-{order_id}")
    zone = store.zone
    held = HELD_DELAY if order_id in HELD_ORDERS else timedelta(0)
    ready = (paid_at + held + timedelta(hours=rng.uniform(2, 20))).astimezone(zone)
    opens, closes = SHIP_HOURS
    if not opens <= ready.hour < closes:
        day = ready.date() + timedelta(days=1 if ready.hour >= closes else 0)
        ready = datetime.combine(day, time(opens), tzinfo=zone) + timedelta(minutes=rng.randrange(120))
    shipped = ready.astimezone(UTC)
    day = ready.date() + timedelta(days=rng.choice([1, 1, 2]))
    start, end = DELIVERY_HOURS
    delivered = datetime.combine(day, time(start), tzinfo=zone) + timedelta(seconds=rng.randrange((end - start) * 3600))
    return shipped, delivered.astimezone(UTC)


def spec_for(store: Store) -> dict:
    """The demo store's specification in STORES (its daily volume, traffic-source mix, catalogue …)."""
    return next(spec for spec in STORES if spec["slug"] == store.slug)


def expected_orders(store: Store, ctx: DemoContext, day: date, today: date) -> float:
    """Paid orders the demo expects on the store-local `day`, before the day's own noise.

    The weekday's rhythm, slow growth over the history and the promotion; not the injected anomaly.
    Other apps' demo data (traffic) follows the same rhythm through it.
    """
    offset = (today - day).days
    trend = 1 + 0.15 * (ctx.days - offset) / ctx.days
    expected = spec_for(store)["orders_per_day"] * WEEKDAY_FACTOR[day.weekday()] * trend
    promo_start, promo_end = ctx.promo[store.slug]
    if promo_start <= day <= promo_end:
        expected *= PROMO_FACTOR
    return expected


def _anomaly_day_orders(draw, gmv_by_day: dict[date, Decimal], day: date, ctx: DemoContext) -> list:
    """The injected day: the through-train plan pauses at 03:00 and its buyers vanish.

    Day-to-day noise in order value is large at demo volumes, so the day is re-drawn (from its own
    seeded RNG, so the demo stays reproducible) until GMV is clearly below the usual for the weekday:
    the story then holds whichever day a newcomer runs the demo.
    """
    same_weekdays = [gmv_by_day[d] for d in (day - timedelta(weeks=k) for k in range(1, 5)) if d in gmv_by_day]
    usual = median(same_weekdays) if same_weekdays else None
    for attempt in range(50):
        day_orders = draw(random.Random(f"{ctx.seed_value}-anomaly-{attempt}"))
        if usual is None or sum(order.total for order, _, _ in day_orders) <= usual * ANOMALY_GMV_SHARE:
            break
    return day_orders


def paid_search_paused_from(store: Store, ctx: DemoContext, day: date) -> int | None:
    """The store-local hour from which the first store's paused through-train plan brings no buyers on
    `day`: 03:00 on the anomaly day, and all of today, since nobody has restarted it yet (the ads page
    says it has not spent since). None: the plan runs."""
    anomaly_day = ctx.anomaly_day.get(store.slug) if store is ctx_first(ctx) else None
    if anomaly_day is None or day < anomaly_day:
        return None
    return ANOMALY_HOUR if day == anomaly_day else 0


def _day_orders(store, spec, products, popularity, buyers, day, expected, now, rng, paused_from=None):
    start, end = store.day_bounds(day)
    day_orders = []
    for _ in range(max(0, int(rng.gauss(expected, math.sqrt(expected))))):
        source = _pick(rng, spec["sources"])
        hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
        if paused_from is not None and source == TrafficSource.PAID_SEARCH and hour >= paused_from:
            continue
        local = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=store.zone)
        placed = max(start, min(local, end - timedelta(seconds=1)))
        if placed > now:
            continue
        day_orders.append(_order(store, spec, products, popularity, buyers, rng, placed, source, now))
    return day_orders


def ctx_first(ctx: DemoContext) -> Store:
    return ctx.stores[0]


def _order(store, spec, products, popularity, buyers, rng, placed, source, now, paid_at=None):
    """One paid order placed at `placed` (paid minutes later, or at `paid_at`), aged as of `now`:
    (Order, its lines, its payments), unsaved."""
    buyer_ref, phone = rng.choice(buyers)
    order_lines = []
    for line_no, product in enumerate(rng.choices(products, weights=popularity, k=rng.choice([1, 1, 1, 2, 2, 3])),
                                      start=1):
        qty = rng.choice([1, 1, 1, 2])
        order_lines.append(OrderLine(line_no=line_no, product=product, sku=product.sku, title=product.title,
                                     quantity=qty, unit_price=product.price, amount=product.price * qty))
    total = sum((item.amount for item in order_lines), Decimal("0"))
    paid_after = timedelta(minutes=rng.randrange(1, 20))
    paid_at = paid_at or min(placed + paid_after, now)
    age = now - placed
    status = OrderStatus.PAID
    delivered_at = None
    if age > timedelta(days=5):
        status, delivered_at = OrderStatus.DELIVERED, placed + timedelta(days=rng.randrange(2, 5))
    elif age > timedelta(days=1):
        status = OrderStatus.SHIPPED
    refunded = status == OrderStatus.DELIVERED and rng.random() < 0.03
    order = Order(store=store, placed_at=placed, paid_at=paid_at,
                  delivered_at=delivered_at, status=OrderStatus.REFUNDED if refunded else status,
                  refunded_at=delivered_at + timedelta(days=2) if refunded else None,
                  refund_amount=total if refunded else Decimal("0"), total=total, traffic_source=source,
                  buyer_ref=buyer_ref, buyer_name=buyer_name(buyer_ref, store.country), buyer_phone=phone,
                  marketing_consent=rng.random() < 0.7)
    kind = _pick(rng, spec["payments"])
    if kind != PaymentType.VOUCHER and rng.random() < 0.12 and total > 20:
        voucher = to_money(min(total / 4, Decimal(rng.choice([5, 10, 20]))))
        order_payments = [Payment(sequence=1, type=kind, amount=total - voucher),
                          Payment(sequence=2, type=PaymentType.VOUCHER, amount=voucher)]
    else:
        installments = rng.choice([1, 1, 1, 3, 6]) if kind == PaymentType.CREDIT_CARD else 1
        order_payments = [Payment(sequence=1, type=kind, amount=total, installments=installments)]
    return order, order_lines, order_payments


def _seed_violations(store: Store, rng: random.Random, today: date) -> None:
    records = []
    for n in range(8):
        kind, points, amount = rng.choice(VIOLATION_KINDS)
        day = today - timedelta(days=rng.randrange(1, 90) if n else 1)
        occurred = datetime.combine(day, time(rng.randrange(8, 20)), tzinfo=store.zone)
        status = ViolationStatus.OPEN if n < 3 else rng.choice([ViolationStatus.RESOLVED, ViolationStatus.APPEALED])
        records.append(Violation(store=store, external_id=f"V{store.pk}-{n + 1:04d}", kind=kind, points=points,
                                 amount=Decimal(amount), occurred_at=occurred, status=status,
                                 description=f"Platform notice about {kind.lower()}."))
    Violation.objects.bulk_create(records)
