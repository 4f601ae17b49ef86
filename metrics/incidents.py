"""One incident, one entry: a store-day's anomalies with the same cause are grouped under one lead.

A paused paid-search plan moves GMV, visitors, sessions, paid orders and ad spend overall, and the
source's own GMV, orders, sessions and visitors: nine anomalies, one thing to act on. Anomalies of a
store-day whose root cause names the same driver (a traffic source, product or payment type, or the
breakdown value itself) form one incident, sub-order payments join GMV's (`RESTATES`), and a breakdown value
that is (nearly) all of its total that day and usually joins the total's (`is_whole`): a store whose every
order is paid one way flags "paid orders" and "paid orders by that way" for one change. Its lead
is the one a reader should meet first (GMV before other overall metrics before breakdowns, then the
most abnormal); the others point to it (`Anomaly.part_of`), are listed under it, and follow its
status: the plan is written once. One that later splits off (its cause changed) starts again as new.

Across days (`link_days`): a day's lead continues the lead of the day before with the same series, or the same
cause (driver), and direction while that one is not resolved (`Anomaly.continues`): a source down three days is
one incident, "since Wed 25 Nov, 3rd day", with one status, whichever metric leads each day. A resolved incident
that comes back the next day is a new one. Late data that flags a day before one already judged links that later
day to it in the same run (metrics.anomaly._continue_incidents).

Plain functions over objects with the anomaly's fields, so the migration that groups existing
anomalies uses the same rule as the nightly run.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

NEW = "new"
RESOLVED = "resolved"
# An overall metric that restates another one's money joins its incident when both move the same way
# that day: sub-order payments are GMV counted by line (they differ only by shipping and order-level
# discounts), and their root cause can only name products where GMV's may name a traffic source.
RESTATES = {"sub_payments": "gmv"}


def is_whole(part, total) -> bool:
    """A breakdown value's anomaly restates its total's: the value holds at least 95 % of the total both that day
    and usually (same metric, same direction), so it moved because the total did, not the other way round."""
    return (total is not None and total.value > 0 and total.baseline > 0
            and 20 * part.value >= 19 * total.value and 20 * part.baseline >= 19 * total.baseline)


def reading_order(anomaly) -> tuple:
    """The anomaly list's order within a day (Anomaly.Meta.ordering): the headline before its details."""
    if not anomaly.dimension:
        rank = 0 if anomaly.metric == "gmv" else 1
    else:
        rank = 2 if anomaly.dimension == "traffic_source" else 3
    return rank, -abs(anomaly.score)


def driver(anomaly) -> tuple[str, str] | None:
    """What moved it: the root cause's top dimension value (a breakdown's anomaly is its own value)."""
    cause = anomaly.root_cause or {}
    if cause.get("top_dimension") and cause.get("top_value") is not None:
        return cause["top_dimension"], str(cause["top_value"])
    if anomaly.dimension:
        return anomaly.dimension, anomaly.dimension_value
    return None


def worked_on(anomaly, items: int) -> bool:
    """Somebody acted on it as its own incident: a plan, action items, or a status set while it led."""
    return bool(anomaly.plan or items or (anomaly.status != NEW and anomaly.part_of_id is None))


def group(anomalies, items: dict[int, int]) -> list:
    """Set `part_of_id` (and the lead's status) on each anomaly; return those that changed.

    `anomalies` are all of some store-days; `items` counts action items by anomaly id. A lead somebody
    already works on stays the lead, so a re-run that adds a bigger anomaly to the incident does not
    move the plan out of sight.
    """
    keys = {a.pk: (a.store_id, a.day, driver(a) or ("", a.pk)) for a in anomalies}
    overall = {(a.store_id, a.day, a.metric, a.direction): a for a in anomalies if not a.dimension}
    incidents: dict[tuple, list] = defaultdict(list)
    for a in anomalies:
        if a.dimension:
            total = overall.get((a.store_id, a.day, a.metric, a.direction))
            restated = total if is_whole(a, total) else None
        else:
            restated = overall.get((a.store_id, a.day, RESTATES.get(a.metric), a.direction))
        incidents[keys[restated.pk if restated else a.pk]].append(a)
    changed = []
    for members in incidents.values():
        members.sort(key=reading_order)
        worked = [a for a in members if worked_on(a, items.get(a.pk, 0))]
        lead = worked[0] if worked else members[0]
        for a in members:
            # Another anomaly with its own plan stays its own entry: merging would hide that work.
            own = a is lead or a in worked
            part_of, status = (None, a.status) if own else (lead.pk, lead.status)
            if own and a.part_of_id is not None and a not in worked:
                # A related anomaly split off into an incident of its own: the status it had was its old
                # lead's, with that lead's plan; nobody has looked at this incident yet.
                status = NEW
            if (a.part_of_id, a.status) != (part_of, status):
                a.part_of_id, a.status = part_of, status
                changed.append(a)
    return changed


def series(anomaly) -> tuple:
    """The change an incident is about: the same store, metric, breakdown value and direction."""
    return anomaly.store_id, anomaly.metric, anomaly.dimension, anomaly.dimension_value, anomaly.direction


def _continuing(a, previous) -> int | None:
    """How well `a` continues `previous` (a lead of the day before), best first; None when it does not.

    The same series and direction, or the same cause (driver) and direction: an outage led by GMV on day 1
    and by visitors on day 2 is one paid-search outage. A link made before comes first, so judging again
    keeps it even when a better match appeared or its incident was resolved since."""
    if a.direction != previous.direction:
        return None
    same = series(a) == series(previous)
    if not same:
        cause = driver(a)
        same = cause is not None and cause == driver(previous)
    if not same:
        return None
    if a.continues_id == previous.pk:
        return 0
    if previous.status == RESOLVED:
        return None
    return 1 if series(a) == series(previous) else 2


def link_days(leads, day_before) -> list:
    """Set `continues_id` (and the status carried over) on each lead; return those that changed.

    `leads` are the incident leads of some store-days, `day_before` the leads of the day before each.
    A lead continues the one of the day before with its series or its cause, in the same direction, while that
    one is not resolved; each earlier lead is continued by one lead at most (the leads are matched in reading
    order, the same series before the same cause). A link made before stays when that incident was resolved
    since (its status is the run's: resolving the run resolved both), so judging a day again links it as the
    first time. A lead that starts continuing an incident nobody looked at today takes that incident's status:
    acknowledged once is acknowledged.
    """
    before: dict[tuple, list] = defaultdict(list)
    for p in day_before:
        before[(p.store_id, p.day)].append(p)
    taken: set = set()
    changed = []
    for a in sorted(leads, key=lambda a: (a.day, reading_order(a))):
        ranked = sorted((rank, reading_order(p), p.pk, p) for p in before[(a.store_id, a.day - timedelta(days=1))]
                        if p.pk not in taken and (rank := _continuing(a, p)) is not None)
        previous = ranked[0][-1] if ranked else None
        if previous is not None:
            taken.add(previous.pk)
        continues = previous.pk if previous is not None else None
        status = previous.status if previous is not None and a.continues_id != continues and a.status == NEW \
            else a.status
        if (a.continues_id, a.status) != (continues, status):
            a.continues_id, a.status = continues, status
            changed.append(a)
    return changed
