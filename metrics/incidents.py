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

Plain functions over objects with the anomaly's fields, so the migration that groups existing
anomalies uses the same rule as the nightly run.
"""

from __future__ import annotations

from collections import defaultdict

NEW = "new"
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
