"""CSV files of the members' pages: every order that redeemed a template's coupons, streamed a row at a time."""

from __future__ import annotations

from collections.abc import Iterator

from opsdesk.spreadsheet import csv_writer

from .models import Coupon, SmsTemplate

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
