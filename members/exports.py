"""CSV files of the members' pages, streamed a row at a time: the member list as filtered, and every order that
redeemed a template's coupons."""

from __future__ import annotations

from collections.abc import Iterator

from opsdesk.spreadsheet import csv_writer

from .member_list import MemberList
from .models import Coupon, Segment, SmsTemplate, Tier

MEMBER_COLUMNS = ["name", "store", "phone", "tier", "segment", "orders", "spent", "currency", "texts", "joined"]
MEMBERS_CHUNK = 2000  # rows read at a time: a server-side cursor on Postgres
LINES_PER_WRITE = 500  # lines handed to the server at once (about 40 KB), not a socket write a line
# What a row needs; the store comes from the list's own stores, not a join per row.
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
    words. Read in chunks, so 100,000 members are never held in memory; two queries however many. Text cells
    cannot run as formulas (a masked phone is quoted, `'+14*****0100`; a whole one is not, `+14155550100`)."""
    writer = csv_writer(_Line())
    stores = {store.pk: store for store in members.shown}
    lines = [writer.writerow(MEMBER_COLUMNS)]
    for member in members.members.only(*MEMBER_FIELDS).iterator(chunk_size=MEMBERS_CHUNK):
        store = stores[member.store_id]
        lines.append(writer.writerow([
            member.name, store.name, members.phone(member), TIERS.get(member.tier, member.tier),
            SEGMENTS.get(member.segment, ""), member.orders_count, member.total_spent, store.currency,
            member.texts_state, store.today(member.joined_at).isoformat()]))
        if len(lines) == LINES_PER_WRITE:
            yield "".join(lines)
            lines = []
    yield "".join(lines)
