"""CSV files of the members' pages, streamed a row at a time: the member list as filtered, and every order that
redeemed a template's coupons."""

from __future__ import annotations

from collections.abc import Iterator

from opsdesk.localtime import local_today
from opsdesk.spreadsheet import csv_writer

from .member_list import MemberList
from .models import Coupon, Segment, SmsTemplate, Tier, consent_words

MEMBER_COLUMNS = ["name", "store", "phone", "tier", "segment", "orders", "spent", "currency", "texts", "joined"]
MEMBERS_CHUNK = 2000  # rows read at a time: a server-side cursor on Postgres
LINES_PER_WRITE = 500  # lines handed to the server at once (about 40 KB), not a socket write a line
# What a row needs, in the order `members_csv` reads it ("store": its id); the store comes from the list's own
# stores, not a join per row.
MEMBER_FIELDS = ["name", "phone", "store", "tier", "segment", "orders_count", "total_spent", "opted_out_at",
                 "phone_invalid_at", "sms_consent", "joined_at"]
# Labels as the list shows them (get_FOO_display rebuilds its choices' dict on every call: slow for 100k rows).
TIERS, SEGMENTS = dict(Tier.choices), dict(Segment.choices)
REDEEMING_ORDERS_COLUMNS = ["order", "order_id", "member", "phone", "code", "paid_day", "currency", "total",
                            "refunded", "net"]


class _Line:
    """A file-like object whose write returns the line: the csv writer then hands each row back to stream."""

    def write(self, value: str) -> str:
        return value


def redeeming_orders_csv(template: SmsTemplate) -> Iterator[str]:
    """The lines of the CSV of every order that redeemed `template`'s coupons, newest paid first, as the campaign
    page lists them. Phones are masked for everyone, managers too (`+14*****0142`): a file leaves the app, where
    the pages' rule (whole for a store's managers) no longer holds. Text cells cannot run as formulas."""
    writer = csv_writer(_Line())
    currency = template.store.currency
    yield writer.writerow(REDEEMING_ORDERS_COLUMNS)
    for row in Coupon.objects.all_redeeming_orders(template):
        order, member = row.order, row.member
        yield writer.writerow([order.display_name, order.external_id, member.name, member.masked_phone, row.code,
                               row.paid_day.isoformat(), currency, order.total, order.refund_amount, row.net])


def members_csv(members: MemberList) -> Iterator[str]:
    """The CSV of every member the list's filters keep, in its order (all pages), a few hundred lines at a time:
    phones as the list shows them to this user, `joined` the store's local day (ISO), `texts` the list's consent
    words. Read in chunks, so 100,000 members are never held in memory; two queries however many. Each member is
    read as a tuple of the fields a row needs, not built as a model instance (2.4–3.2× faster, bench/RESULTS.md),
    through the list's own rules for the phone (`MemberList.shown_phone`) and the consent words (`consent_words`),
    which the list's page uses too. Text cells
    cannot run as formulas (a masked phone is quoted, `'+14*****0100`; a whole one is not, `+14155550100`)."""
    writer = csv_writer(_Line())
    # Each store's name, currency and zone (its local day: `Store.today`), once, not a store per row.
    stores = {store.pk: (store.name, store.currency, store.zone) for store in members.shown}
    shown_phone, lines = members.shown_phone, [writer.writerow(MEMBER_COLUMNS)]
    rows = members.members.values_list(*MEMBER_FIELDS).iterator(chunk_size=MEMBERS_CHUNK)
    for name, phone, store_id, tier, segment, orders, spent, opted_out_at, phone_invalid_at, consent, joined in rows:
        store_name, currency, zone = stores[store_id]
        lines.append(writer.writerow([
            name, store_name, shown_phone(store_id, phone), TIERS.get(tier, tier), SEGMENTS.get(segment, ""), orders,
            spent, currency, consent_words(opted_out_at, phone_invalid_at, consent),
            local_today(zone, joined).isoformat()]))
        if len(lines) == LINES_PER_WRITE:
            yield "".join(lines)
            lines = []
    yield "".join(lines)
