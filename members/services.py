"""Member services other apps call: enrol the buyers of paid orders, keep tiers and RFM segments.

`enrol_from_order(order)` is the explicit call every paid-order path makes (ingest API, Shopify
webhook, CSV import); `enrol_orders(queryset)` is the same rule in bulk for backfills
(`manage.py enrol_members`). Both are idempotent: an order is linked to a member once
(MemberOrder.order is unique) and a member exists once per (store, phone).

`redeem_coupons(store, orders)` is the paid-order paths' other call: a member's coupon whose code a paid
order carries is marked redeemed by that order, once; `release_coupons(orders)` gives it back when the order is
cancelled or deleted, passing it on to another order already recorded with its code (a deletion by any other
path gives it back by `Coupon.redeemed_order`'s on_delete, without passing it on).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import phonenumbers
from django.db import connection, transaction
from django.db.models import Case, DateTimeField, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from opsdesk.lazy import lazy_module
from opsdesk.privacy import mask_phone
from stores.models import Order, OrderStatus, Store

from .models import Coupon, Member, MemberOrder, Segment, Tier, TierRule, normalise_code

np = lazy_module("numpy")
pd = lazy_module("pandas")

log = logging.getLogger(__name__)


def normalise_phone(raw: str, country: str) -> str | None:
    """E.164 form of `raw` (read as a number of `country` when it has no +prefix), or None if invalid."""
    try:
        number = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def tier_thresholds(store: Store) -> list[tuple[str, Decimal]]:
    """The spend from which a member of `store` reaches each tier, highest first: the store's own thresholds
    (TierRule), else the default for its currency."""
    return sorted(TierRule.for_store(store).limits().items(), key=lambda r: r[1], reverse=True)


def tier_for(spent: Decimal, store: Store) -> str:
    """The tier a member of `store` who has spent `spent` reaches."""
    for tier, limit in tier_thresholds(store):
        if spent >= limit:
            return tier
    return Tier.STANDARD


def _tier_case(thresholds: list[tuple[str, Decimal]]) -> Case:
    """SQL for the tier a member's spend reaches under `thresholds` (highest first)."""
    return Case(*[When(total_spent__gte=limit, then=Value(tier)) for tier, limit in thresholds],
                default=Value(Tier.STANDARD))


@dataclass
class Retiered:
    """How many members a re-tier moved to a higher and to a lower tier."""

    up: int = 0
    down: int = 0

    @property
    def moved(self) -> int:
        return self.up + self.down


def retier(store: Store) -> Retiered:
    """Put every member of `store` in the tier their spend reaches under the store's thresholds now.

    Set-based: one UPDATE … SET tier = CASE … for the members moving up and one for those moving down; a
    member already in the right tier is not written, so a second run moves nobody. Sends and plans nothing.
    """
    thresholds = tier_thresholds(store)
    # Rank of each tier, lowest first; a tier the thresholds do not name (settings without Silver) ranks lowest.
    ranked = [Tier.STANDARD] + [tier for tier, _ in reversed(thresholds)]
    rank = {tier: ranked.index(tier) if tier in ranked else -1 for tier in Tier.values}
    up, down, above = Q(pk__in=[]), Q(pk__in=[]), None
    for tier, limit in [*thresholds, (Tier.STANDARD, None)]:
        band = Q() if limit is None else Q(total_spent__gte=limit)
        if above is not None:
            band &= Q(total_spent__lt=above)
        up |= band & Q(tier__in=[t for t in Tier.values if rank[t] < rank[tier]])
        down |= band & Q(tier__in=[t for t in Tier.values if rank[t] > rank[tier]])
        above = limit
    members, new_tier = Member.objects.filter(store=store), _tier_case(thresholds)
    with transaction.atomic():
        return Retiered(up=members.filter(up).update(tier=new_tier), down=members.filter(down).update(tier=new_tier))


def change_tier_rule(store: Store, silver_from: Decimal | None, gold_from: Decimal | None, by=None) -> Retiered:
    """Save the store's own Silver and Gold thresholds (None: the currency's default) and re-tier its members
    at once, in one transaction; returns how many moved. Texts nobody: see docs/members.md ("Tiers")."""
    with transaction.atomic():
        # The rule's row lock queues a second manager's save behind this one (and its re-tier).
        rule, _ = TierRule.objects.select_for_update().get_or_create(store=store)
        rule.silver_from, rule.gold_from, rule.changed_by = silver_from, gold_from, by
        rule.save()
        store.tier_rule = rule
        return retier(store)


@dataclass
class EnrolResult:
    members_created: int = 0
    orders_linked: int = 0
    invalid_phones: int = 0


def enrol_from_order(order: Order) -> Member | None:
    """Make the buyer of a paid order a member of its store (once per store and phone).

    Returns None for an unpaid order or one without a valid phone number for the store's country.
    """
    if order.paid_at is None or not order.buyer_phone:
        return None
    phone = normalise_phone(order.buyer_phone, order.store.country)
    if phone is None:
        log.info("order %s: phone %s is not valid for %s, not enrolled", order, mask_phone(order.buyer_phone),
                 order.store.country)
        return None
    if not enrol_orders(Order.objects.filter(pk=order.pk)).orders_linked:
        # Linked before: the order moved on (refunded, cancelled), so the member's figures follow it.
        refresh_stats(list(MemberOrder.objects.filter(order=order).values_list("member_id", flat=True)))
    return Member.objects.get(store_id=order.store_id, phone=phone)


@transaction.atomic
def enrol_orders(orders: QuerySet, batch_size: int = 5000) -> EnrolResult:
    """Enrol the buyers of every paid order in `orders` that is not linked yet (bulk, idempotent)."""
    result = EnrolResult()
    rows = list(
        orders.paid().exclude(buyer_phone="").filter(member_link__isnull=True)
        .order_by("paid_at").values("pk", "store_id", "store__country", "external_id", "buyer_phone", "buyer_name",
                                    "buyer_email", "marketing_consent", "paid_at")
    )
    if not rows:
        return result
    phones: dict[tuple[str, str], str | None] = {}
    buyers: dict[tuple[int, str], dict] = {}
    links: list[tuple[int, tuple[int, str]]] = []
    for row in rows:
        raw_key = (row["buyer_phone"], row["store__country"])
        if raw_key not in phones:
            phones[raw_key] = normalise_phone(*raw_key)
        phone = phones[raw_key]
        if phone is None:
            result.invalid_phones += 1
            continue
        key = (row["store_id"], phone)
        buyer = buyers.setdefault(key, {"name": row["buyer_name"], "email": row["buyer_email"],
                                        "joined_at": row["paid_at"], "consent": None})
        buyer["name"] = buyer["name"] or row["buyer_name"]
        buyer["email"] = buyer["email"] or row["buyer_email"]
        if row["marketing_consent"] and buyer["consent"] is None:
            buyer["consent"] = (row["paid_at"], f"order {row['external_id']}")
        links.append((row["pk"], key))
    if result.invalid_phones:
        log.info("%d paid orders have no valid phone number; their buyers were not enrolled", result.invalid_phones)

    existing = _members_by_key(buyers)
    joining = {phone for store_id, phone in buyers if (store_id, phone) not in existing}
    stopped, invalid = _numbers_marked(joining, "opted_out_at"), _numbers_marked(joining, "phone_invalid_at")
    new = [Member(store_id=store_id, phone=phone, name=b["name"][:200], email=b["email"], joined_at=b["joined_at"],
                  sms_consent=b["consent"] is not None, consent_at=b["consent"][0] if b["consent"] else None,
                  consent_source=b["consent"][1] if b["consent"] else "", opted_out_at=stopped.get(phone),
                  phone_invalid_at=invalid.get(phone))
           for (store_id, phone), b in buyers.items() if (store_id, phone) not in existing]
    Member.objects.bulk_create(new, batch_size=batch_size, ignore_conflicts=True)
    result.members_created = len(new)
    members = _members_by_key(buyers)

    # Consent given on a later order counts; an opt-out (STOP) stands until the member texts START.
    consenting = [m for key, m in existing.items()
                  if not m.sms_consent and m.opted_out_at is None and buyers[key]["consent"]]
    for m in consenting:
        m.sms_consent, (m.consent_at, m.consent_source) = True, buyers[(m.store_id, m.phone)]["consent"]
    Member.objects.bulk_update(consenting, ["sms_consent", "consent_at", "consent_source"], batch_size=batch_size)

    linked = MemberOrder.objects.bulk_create(
        [MemberOrder(order_id=order_id, member=members[key]) for order_id, key in links],
        batch_size=batch_size, ignore_conflicts=True)
    result.orders_linked = len(linked)
    ids = sorted(m.pk for m in members.values())
    for start in range(0, len(ids), batch_size):
        refresh_stats(ids[start:start + batch_size])
    return result


def _numbers_marked(phones: set[str], field: str, chunk: int = 2000) -> dict[str, datetime]:
    """When each of `phones` was first marked `field` (opted_out_at, phone_invalid_at) in any store. One
    sending number texts for every store, so a STOP (or 退订, which only we know) holds in a store the
    number joins later, until it texts START; and a number Twilio called invalid is not tried there again."""
    found: dict[str, datetime] = {}
    phones = sorted(phones)
    for start in range(0, len(phones), chunk):
        for phone, at in (Member.objects.filter(phone__in=phones[start:start + chunk], **{f"{field}__isnull": False})
                          .values_list("phone", field)):
            found[phone] = min(at, found.get(phone, at))
    return found


def _members_by_key(keys, chunk: int = 2000) -> dict[tuple[int, str], Member]:
    """Existing members for (store id, phone) keys, looked up in chunks (SQLite limits query parameters)."""
    found: dict[tuple[int, str], Member] = {}
    by_store: dict[int, list[str]] = {}
    for store_id, phone in keys:
        by_store.setdefault(store_id, []).append(phone)
    for store_id, phones in by_store.items():
        for start in range(0, len(phones), chunk):
            for m in Member.objects.filter(store_id=store_id, phone__in=phones[start:start + chunk]):
                found[(m.store_id, m.phone)] = m
    return found


REDEEM_CHUNK = 500  # codes per UPDATE: each is named three times, and SQLite limits query parameters


def redeem_coupons(store: Store, orders: Iterable[Order], codes: Collection[str] | None = None) -> int:
    """Mark redeemed the store's coupons that the paid `orders` used: a coupon whose code (trimmed, in any case)
    is one of an order's discount codes, not withdrawn, not redeemed yet and valid on the order's paid day (the
    store's local day; `valid_until` is the last valid day) gets `redeemed_at` = the order's paid time and the
    order. A code two orders used goes to the one paid first; a coupon already redeemed keeps its order, so a
    redelivery or a re-import changes nothing. Only `codes` (normalised) when given. One UPDATE for up to
    REDEEM_CHUNK codes, whatever the number of orders (none when no order carries a code); call it inside the
    writer's transaction. A cancelled order redeems nothing (`release_coupons`). Returns how many."""
    first: dict[str, Order] = {}
    for order in sorted((o for o in orders if o.paid_at is not None and o.discount_codes
                         and o.status != OrderStatus.CANCELLED),
                        key=lambda o: (o.paid_at, o.pk)):
        for code in order.discount_codes:
            if codes is None or normalise_code(code) in codes:
                first.setdefault(normalise_code(code), order)
    codes = sorted(first)
    redeemed = 0
    for start in range(0, len(codes), REDEEM_CHUNK):
        chunk = codes[start:start + REDEEM_CHUNK]
        by_day: dict = {}
        for code in chunk:
            by_day.setdefault(store.today(first[code].paid_at), []).append(code)
        valid = Q()
        for day, day_codes in by_day.items():
            valid |= Q(code__in=day_codes) & (Q(valid_until__isnull=True) | Q(valid_until__gte=day))
        # WHERE redeemed_at IS NULL is evaluated again on a row another transaction redeemed meanwhile
        # (Postgres re-reads it after that commit), so two writers never link one coupon twice.
        redeemed += Coupon.objects.filter(
            valid, store=store, redeemed_at__isnull=True, withdrawn_at__isnull=True,
        ).update(
            redeemed_at=Case(*[When(code=code, then=Value(first[code].paid_at)) for code in chunk],
                             output_field=DateTimeField()),
            redeemed_order=Case(*[When(code=code, then=Value(first[code].pk)) for code in chunk],
                                output_field=IntegerField()),
        )
    return redeemed


def release_coupons(orders: Iterable[Order]) -> int:
    """Give back the coupons these orders redeemed, as they are cancelled or (just before) deleted, and pass each on
    to the earliest other paid, not cancelled order of its store already recorded with its code, exactly as if that
    order had redeemed it when it was paid (`redeem_coupons`: valid on its paid day, `redeemed_at` its paid time).
    A coupon no other order carries is left released (redeemed_at and the order emptied): the member may use it on
    a later order while it is valid. A cancellation or deletion delivered again finds nothing to release, and a
    coupon passed on keeps its new order. Call it inside the transaction that cancels or deletes them. One SELECT
    when nothing is released; else the release's UPDATE, the stores, and per store the orders carrying the codes and
    the UPDATE redeeming them. Returns how many were released."""
    order_ids = [order.pk for order in orders]
    redeemed = Coupon.objects.filter(redeemed_order__in=order_ids)
    released = list(redeemed.values_list("store_id", "code"))
    if not released:
        return 0
    redeemed.update(redeemed_at=None, redeemed_order=None)
    by_store: dict[int, set[str]] = {}
    for store_id, code in released:
        by_store.setdefault(store_id, set()).add(code)
    for store in Store.objects.filter(pk__in=by_store):
        _pass_on(store, sorted(by_store[store.pk]), order_ids)
    return len(released)


def _pass_on(store: Store, codes: list[str], released_by: list[int]) -> None:
    """Redeem these just released codes by the store's other orders that carry them (the first paid wins)."""
    for start in range(0, len(codes), REDEEM_CHUNK):
        chunk = codes[start:start + REDEEM_CHUNK]
        # A substring of the codes' JSON text, in any case: narrows the orders read to those likely to carry one;
        # redeem_coupons then matches each order's codes exactly.
        carries = Q()
        for code in chunk:
            carries |= Q(discount_codes__icontains=code)
        carriers = (Order.objects.filter(carries, store=store, paid_at__isnull=False)
                    .exclude(status=OrderStatus.CANCELLED).exclude(pk__in=released_by)
                    .only("pk", "paid_at", "status", "discount_codes"))
        redeem_coupons(store, carriers, codes=set(chunk))


def forget_order(order: Order) -> None:
    """Unlink an order that is being deleted from its member and recount the member's figures without it."""
    links = MemberOrder.objects.filter(order=order)
    member_ids = list(links.values_list("member_id", flat=True))
    links.delete()
    refresh_stats(member_ids)


def refresh_stats(member_ids: list[int]) -> None:
    """Recount orders, spend (less refunds), first/last order and tier of these members from their orders.

    An order counts while the buyer keeps it: a cancelled order or one refunded in full is neither an
    order nor spend (a member left with none has no orders, spend or order dates).
    Set-based: one UPDATE ... FROM an aggregate (Postgres, SQLite ≥ 3.33), then one UPDATE per store
    for the tier, so a backfill of thousands of members stays a handful of statements.
    """
    if not member_ids:
        return
    member, link, order = Member._meta.db_table, MemberOrder._meta.db_table, Order._meta.db_table
    marks = ", ".join(["%s"] * len(member_ids))
    kept = "o.status NOT IN (%s, %s) AND NOT (o.total > 0 AND o.refund_amount >= o.total)"
    sql = f"""
        UPDATE {member} SET orders_count = s.n, total_spent = s.spent, first_order_at = s.first,
               last_order_at = s.last
        FROM (SELECT m.id AS member_id, COUNT(CASE WHEN {kept} THEN 1 END) AS n,
                     COALESCE(SUM(CASE WHEN {kept} THEN o.total - o.refund_amount END), 0) AS spent,
                     MIN(CASE WHEN {kept} THEN o.paid_at END) AS first,
                     MAX(CASE WHEN {kept} THEN o.paid_at END) AS last
              FROM {member} m LEFT JOIN {link} l ON l.member_id = m.id LEFT JOIN {order} o ON o.id = l.order_id
              WHERE m.id IN ({marks}) GROUP BY m.id) AS s
        WHERE {member}.id = s.member_id"""  # noqa: S608 - table names from models, values as parameters
    gone = [OrderStatus.CANCELLED, OrderStatus.REFUNDED]
    with connection.cursor() as cursor:
        cursor.execute(sql, gone * 4 + member_ids)
    members = Member.objects.filter(pk__in=member_ids)
    for store in Store.objects.filter(members__in=members).distinct().select_related("tier_rule"):
        members.filter(store=store).update(tier=_tier_case(tier_thresholds(store)))


def rfm_scores(frame: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """Add r, f, m scores (1-5, quintiles by pandas qcut) and a named segment to `frame`.

    `frame` has columns last_order_at, orders_count and total_spent. Ranks break ties first, so
    quintiles exist even when many members share a value (most buyers order once).
    """
    out = frame.copy()
    if out.empty:
        return out.assign(r=[], f=[], m=[], segment=[])
    recency_days = (pd.Timestamp(now) - pd.to_datetime(out["last_order_at"], utc=True)).dt.days
    bins = min(5, len(out))

    def score(values: pd.Series, higher_is_better: bool) -> pd.Series:
        ranked = values.rank(method="first", ascending=higher_is_better)
        labels = pd.qcut(ranked, q=bins, labels=False) + 1
        return (np.ceil(labels * 5 / bins)).astype(int)  # spread 1..bins over 1..5 for tiny stores

    out["r"] = score(recency_days, higher_is_better=False)
    out["f"] = score(out["orders_count"].astype(float), higher_is_better=True)
    out["m"] = score(out["total_spent"].astype(float), higher_is_better=True)
    r, f, m = out["r"], out["f"], out["m"]
    out["segment"] = np.select(
        [(r >= 4) & (f >= 4) & (m >= 4),
         (r >= 3) & (f >= 4),
         (r >= 4) & (f == 1),
         (r >= 4) & (f >= 2),
         (r <= 2) & (f >= 3),
         r == 1,
         r == 2],
        [Segment.CHAMPIONS, Segment.LOYAL, Segment.NEW, Segment.POTENTIAL, Segment.AT_RISK, Segment.LOST,
         Segment.HIBERNATING],
        default=Segment.NEED_ATTENTION,
    )
    return out


def refresh_segments(store: Store, now: datetime | None = None, batch_size: int = 5000) -> dict[str, int]:
    """Score every member of `store` who has bought and save their segment; returns counts per segment."""
    now = now or timezone.now()
    # Figures first: a refund or cancellation may have reached an order since it was enrolled.
    ids = list(Member.objects.filter(store=store).values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        refresh_stats(ids[start:start + batch_size])
    Member.objects.filter(store=store, orders_count=0).exclude(segment="", rfm="").update(segment="", rfm="")
    rows = list(Member.objects.filter(store=store, orders_count__gt=0)
                .values("pk", "last_order_at", "orders_count", "total_spent"))
    frame = rfm_scores(pd.DataFrame(rows, columns=["pk", "last_order_at", "orders_count", "total_spent"]), now)
    if frame.empty:
        return {}
    frame["rfm"] = frame["r"].astype(str) + frame["f"].astype(str) + frame["m"].astype(str)
    # One UPDATE per (segment, scores) group rather than a CASE per row: at most 125 groups. Each commits on
    # its own, not all in one transaction: that held every member row of the store until the last group was
    # saved, and a STOP or a 21610 delivery report for any of them (which opt the number out) waited for it.
    for (segment, rfm), group in frame.groupby(["segment", "rfm"]):
        ids = group["pk"].astype(int).tolist()
        for start in range(0, len(ids), batch_size):
            Member.objects.filter(pk__in=ids[start:start + batch_size]).update(segment=segment, rfm=rfm)
    return frame["segment"].value_counts().to_dict()
