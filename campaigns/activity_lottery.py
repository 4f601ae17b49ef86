"""Lottery draws: entrants from a window's buyers or new members, winners from a recorded seed.

A draw is made once its entry window is over in the store's zone, so every entrant is in the list.
A draw is reproducible and auditable: entrants are sorted by a stable key, the seed comes from
`secrets` and is stored with the entrant count, the SHA-256 of the entrant list and the winners,
so `verify_draw` can redo it. The database holds at most one draw per activity.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from members.models import Member
from metrics import figures
from opsdesk.privacy import mask_phone
from stores.models import Order

from . import activity_history
from .activity_kinds import is_lottery
from .models import Activity, EntrantSource, LotteryDraw


class AlreadyDrawn(Exception):
    """The activity's lottery was drawn before; its result stands."""


@dataclass(frozen=True)
class Entrant:
    key: str  # stable and unique: "buyer:<platform buyer id>" or "member:<id>"
    label: str  # what the operator sees (phone masked)


def entrants(activity: Activity, source: str, first: date, last: date) -> list[Entrant]:
    """Everybody who may win, sorted by key: distinct buyers of paid orders, or members who joined,
    in the store-local days first..last."""
    store = activity.store
    start, _ = store.day_bounds(first)
    _, end = store.day_bounds(last)
    found: dict[str, Entrant] = {}
    if source == EntrantSource.ORDERS:
        rows = (Order.objects.filter(store=store).paid_between(start, end)
                .values_list("buyer_ref", "external_id", "buyer_name", "buyer_phone").order_by("paid_at", "id"))
        for buyer_ref, external_id, name, phone in rows:
            key = f"buyer:{buyer_ref}" if buyer_ref else f"order:{external_id}"
            found.setdefault(key, Entrant(key, " ".join(p for p in (name, mask_phone(phone) if phone else "") if p)
                                          or key))
    elif source == EntrantSource.MEMBERS:
        rows = Member.objects.filter(store=store, joined_at__gte=start, joined_at__lt=end).values_list(
            "pk", "name", "phone")
        for pk, name, phone in rows:
            key = f"member:{pk}"
            found[key] = Entrant(key, " ".join(p for p in (name, mask_phone(phone)) if p))
    else:
        raise ValidationError(f"Unknown entrant source {source!r}.")
    return sorted(found.values(), key=lambda e: e.key)


def entrants_hash(keys: list[str]) -> str:
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()


def pick_winners(keys: list[str], seed: str, count: int) -> list[str]:
    """The winners for a sorted entrant list and seed: the same inputs always give the same winners."""
    return random.Random(seed).sample(keys, min(count, len(keys)))


def draw(activity: Activity, source: str, first: date, last: date, winner_count: int, user=None,
         seed: str | None = None) -> LotteryDraw:
    """Draw the lottery once. Raises AlreadyDrawn on a second attempt, ValidationError on bad input."""
    if not is_lottery(activity):
        raise ValidationError("Only a gift activity of type lottery can be drawn.")
    if last < first:
        raise ValidationError("The entry window's last day is before its first day.")
    if winner_count < 1:
        raise ValidationError("Draw at least one winner.")
    today = activity.store.today()
    if last >= today:
        # Drawn now, the rest of the window's entrants could never win (a draw is final), and the
        # stored window would claim days whose entries were not in the list.
        after = last + timedelta(days=1)
        raise ValidationError(f"The entry window runs until {last:%Y-%m-%d}, which is not over yet in the store's "
                              f"time (today is {today:%Y-%m-%d}); draw from {after:%Y-%m-%d}, when every entry is in.")
    if LotteryDraw.objects.filter(activity=activity).exists():
        raise AlreadyDrawn("This lottery was already drawn; the stored result stands and cannot be redrawn.")
    people = entrants(activity, source, first, last)
    if not people:
        raise ValidationError("Nobody entered in that window, so there is nothing to draw.")
    keys = [e.key for e in people]
    seed = seed or secrets.token_hex(16)
    winners = pick_winners(keys, seed, winner_count)
    labels = {e.key: e.label for e in people}
    try:
        with transaction.atomic():
            result = LotteryDraw.objects.create(
                activity=activity, source=source, window_start=first, window_end=last, entrant_count=len(keys),
                entrants_sha256=entrants_hash(keys), seed=seed, winner_count=len(winners),
                winners=[{"key": k, "label": labels[k]} for k in winners], drawn_by=user)
            this_year = activity.store.today().year
            window = "–".join(figures.day_words(d, this_year) for d in dict.fromkeys((first, last)))
            # Counts as the page writes the draw's: '3 winners from 12,309 entrants'.
            won, entered = (figures.metric_value(n, "count") for n in (len(winners), len(keys)))
            activity_history.record_event(
                activity, "lottery", f"Lottery drawn: {won} winner{'s' if len(winners) != 1 else ''} from "
                f"{entered} entrants ({EntrantSource(source).label.lower()}, {window})",
                new={"winners": len(winners), "entrants": len(keys), "seed": seed}, user=user)
            return result
    except IntegrityError as exc:  # a draw committed between our check and our insert
        raise AlreadyDrawn("This lottery was already drawn; the stored result stands and cannot be redrawn.") from exc


def verify_draw(lottery: LotteryDraw) -> dict:
    """Redo a draw from today's data: does the entrant list still hash the same, and do the winners match?"""
    keys = [e.key for e in entrants(lottery.activity, lottery.source, lottery.window_start, lottery.window_end)]
    same_entrants = entrants_hash(keys) == lottery.entrants_sha256
    winners = pick_winners(keys, lottery.seed, lottery.winner_count)
    return {"same_entrants": same_entrants, "entrant_count": len(keys),
            "same_winners": winners == [w["key"] for w in lottery.winners]}
