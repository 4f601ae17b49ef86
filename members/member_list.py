"""The member list as its filters pick it: the page shows 100 of it at a time, the CSV download all of it, so both
read the same members in the same order and show phones by the same rule."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet

from opsdesk.privacy import mask_phone
from opsdesk.tenancy import MANAGER, scope, stores_for

from .models import Member, Segment, Tier


@dataclass
class MemberList:
    """The user's members the filters keep (`members`, in the list's order), the stores they may come from
    (`shown`) and the filters as given."""

    members: QuerySet
    shown: QuerySet
    filters: dict[str, str]
    by_store: bool
    managed: set[int] = field(default_factory=set)

    def phone(self, member: Member) -> str:
        """The member's number as the list shows it to this user (`shown_phone`)."""
        return self.shown_phone(member.store_id, member.phone)

    def shown_phone(self, store_id: int, phone: str) -> str:
        """A number of a member of store `store_id`: whole for a manager of that store, masked for everyone else
        (the detail page's rule). The one rule of the list's page and of its CSV, which reads values, not members."""
        return phone if store_id in self.managed else mask_phone(phone)

    @property
    def whole_phones(self) -> bool:
        """Whether the user gets whole numbers for any store the list may show (a manager of one of them)."""
        return bool(self.managed.intersection(store.pk for store in self.shown))


def member_list(user, params) -> MemberList:
    """The members of `user`'s stores that `params` (the list's query string: store, tier, segment, q) keep; a store
    the user is not in keeps nothing, an unknown tier or segment keeps everyone."""
    members = scope(Member.objects.all(), user)
    get = params.get
    filters = {"store": get("store", ""), "tier": get("tier", ""), "segment": get("segment", ""), "q": get("q", "")}
    shown = stores_for(user)
    if filters["store"]:
        members = members.filter(store__slug=filters["store"])
        shown = shown.filter(slug=filters["store"])
    if filters["tier"] in Tier.values:
        members = members.filter(tier=filters["tier"])
    if filters["segment"] in Segment.values:
        members = members.filter(segment=filters["segment"])
    if filters["q"]:
        members = members.search(filters["q"], set(shown.values_list("country", flat=True)))
    # Amounts in different currencies do not rank against each other: by store first when they differ.
    by_store = shown.values("currency").distinct().count() > 1
    order = ("store__name", "-total_spent", "pk") if by_store else ("-total_spent", "pk")
    managed = set(stores_for(user, MANAGER).values_list("pk", flat=True))
    return MemberList(members.order_by(*order), shown, filters, by_store, managed)
