"""An activity's history: one entry per change (who, when, what: each field's old and new value in words).

Every path that changes an activity records through `record`, inside its own transaction, so a refused
change records nothing and a saved one is never without its entry: creation (`record_created`), a calendar
move and the Edit form (`activity_moves`), a status move (`Activity.move_to`) and a series' new rule or
first day (`activity_series.change_rule`: a moved occurrence's move and the rule in one entry; the series
itself records the change once in its own history, `record_series`, as it records its creation,
`record_series_created`). What happens
to an activity besides its fields is said by `record_event`:
a checklist step ticked, unticked, added or removed (`Activity.tick_step`, `add_step`, `remove_step`), the
lottery draw (`activity_lottery.draw`) and the written review (`activity_review.save_review`). A save that
changes nothing records nothing.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from metrics import figures

from .activity_kinds import wall_time_words
from .models import Activity, ActivityChange, ActivitySeries, ActivityStatus, SeriesChange

# What is watched, with the words each field is named by; days and the series are said apart.
LABELS = {
    "name": "Title", "status": "Status", "budget": "Budget", "goal_gmv": "Goal GMV", "goal_orders": "Goal orders",
    "goal_new_members": "Goal new members", "signup_deadline": "Sign-up deadline", "owner": "Owner",
    "products": "Products", "notes": "Notes",
}
DETAIL_LABELS = {"signup_status": "Sign-up", "publish_at": "Publish time", "discount_percent": "Discount %"}


def _user_name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def snapshot(activity: Activity) -> dict:
    """What the history compares, as JSON-able values (days as ISO strings, money as strings)."""
    def text(value):
        return None if value is None else str(value)

    def money(value):  # 0 and 0.00 are the same budget
        return None if value is None else f"{Decimal(value):.2f}"

    return {
        "name": activity.name, "status": activity.status,
        "start_date": activity.start_date.isoformat(), "end_date": activity.end_date.isoformat(),
        "budget": money(activity.budget), "goal_gmv": money(activity.goal_gmv),
        "goal_orders": text(activity.goal_orders), "goal_new_members": text(activity.goal_new_members),
        "signup_deadline": text(activity.signup_deadline and activity.signup_deadline.isoformat()),
        "owner": _user_name(activity.owner) or None, "notes": activity.notes,
        "products": sorted(p.title for p in activity.products.all()) if activity.pk else [],
        "details": {k: text(v) for k, v in (activity.details or {}).items()},
    }


def _days(first: str, last: str, this_year: int) -> str:
    """"Wed 11 Nov–Fri 13 Nov", or one day once."""
    words = [figures.day_words(date.fromisoformat(d), this_year) for d in (first, last)]
    return words[0] if first == last else "–".join(words)


def _value(field: str, value, activity: Activity, this_year: int) -> str:
    if value in (None, "", []):
        return "none"
    if field == "status":
        return ActivityStatus(value).label
    if field in ("budget", "goal_gmv"):
        return f"{Decimal(value):,.2f} {activity.store.currency}"
    if field == "signup_deadline":
        return figures.day_words(date.fromisoformat(value), this_year)
    if field == "products":
        return ", ".join(value)
    if field == "name":
        return f"“{value}”"
    if field == "publish_at":
        return wall_time_words(value, this_year)
    if field == "signup_status":
        return value.replace("_", " ")
    return str(value)


def describe(before: dict, after: dict, activity: Activity, steps_moved: int = 0) -> list[dict]:
    """The changes from `before` to `after` (dicts as `snapshot` makes them, or a part of one), each
    {"field", "old", "new", "words"}, the days first."""
    this_year = activity.store.today().year
    changes = []
    if "start_date" in before and (before["start_date"], before["end_date"]) != (after["start_date"],
                                                                                 after["end_date"]):
        old, new = (_days(d["start_date"], d["end_date"], this_year) for d in (before, after))
        words = f"Moved from {old} to {new}"
        if steps_moved:
            words += f"; {steps_moved} checklist step{'s' if steps_moved != 1 else ''} moved with it"
        changes.append({"field": "days", "old": old, "new": new, "words": words})
    for field, label in LABELS.items():
        if field in before and before[field] != after.get(field):
            if field == "notes":
                changes.append({"field": "notes", "old": before[field], "new": after.get(field),
                                "words": "Notes changed"})
                continue
            old, new = (_value(field, d.get(field), activity, this_year) for d in (before, after))
            changes.append({"field": field, "old": old, "new": new, "words": f"{label}: {old} → {new}"})
    old_details, new_details = before.get("details", {}), after.get("details", {})
    for key in sorted(set(old_details) | set(new_details)) if "details" in before else ():
        if old_details.get(key) != new_details.get(key):
            label = DETAIL_LABELS.get(key, key.replace("_", " ").capitalize())
            old, new = (_value(key, d.get(key), activity, this_year) for d in (old_details, new_details))
            changes.append({"field": f"details.{key}", "old": old, "new": new, "words": f"{label}: {old} → {new}"})
    if "series" in before and before["series"] != after.get("series"):
        old, new = before["series"], after.get("series")
        changes.append({"field": "series", "old": old, "new": new,
                        "words": f"Series rule changed from {old} to {new}"})
    return changes


def record(activity: Activity, before: dict | None, *, user=None, after: dict | None = None, steps_moved: int = 0,
           note: str = "", events: list[dict] = ()) -> ActivityChange | None:
    """Write one history entry for what changed on `activity` since `before` (None: it was just created),
    by `user` (None: the app itself); None, and nothing written, when nothing changed. `events` are changes
    the caller says itself (`event`), put first: one user action that also moves the status is one entry.
    Call it inside the transaction that saves the change."""
    after = snapshot(activity) if after is None else after
    if before is None:
        days = _days(after["start_date"], after["end_date"], activity.store.today().year)
        changes = [{"field": "created", "old": None, "new": after,
                    "words": f"Created as {ActivityStatus(after['status']).label.lower()}, {days}"}]
    else:
        changes = list(events) + describe(before, after, activity, steps_moved)
        if not changes:
            return None
    summary = "; ".join(c["words"] for c in changes) + (f" ({note})" if note else "") + "."
    return ActivityChange.objects.create(activity=activity, by=user, by_app=user is None, summary=summary,
                                         changes=changes)


def record_created(activity: Activity, *, user=None, note: str = "") -> ActivityChange:
    """The first entry of a new activity's history."""
    return record(activity, None, user=user, note=note)


def event(field: str, words: str, *, old=None, new=None) -> dict:
    """One change said in words by the code that made it (a step ticked, the draw), as `record` keeps it."""
    return {"field": field, "old": old, "new": new, "words": words}


def record_event(activity: Activity, field: str, words: str, *, user=None, old=None, new=None) -> ActivityChange:
    """One entry for something done to `activity` beyond its own fields (checklist, draw, review)."""
    return record(activity, {}, after={}, user=user, events=[event(field, words, old=old, new=new)])


def step_words(activity: Activity, item) -> str:
    """“Book the banner” (due Fri 13 Nov): a checklist step of `activity` as its entries name it."""
    if item.due_date is None:
        return f"“{item.title}”"
    return f"“{item.title}” (due {figures.day_words(item.due_date, activity.store.today().year)})"


def quoted(text: str, limit: int = 80) -> str:
    """A long text (a review) shown in an entry: its first words, the whole kept in `changes`."""
    text = " ".join(text.split())
    return f"“{text if len(text) <= limit else text[:limit - 1].rstrip() + '…'}”"


def record_series_created(series: ActivitySeries, occurrences: list[Activity], *, user=None) -> SeriesChange:
    """The first entry of a new series' history: its rule, its first day and the occurrences it made (their first
    days kept in `changes`). Call it inside the creation's transaction."""
    this_year = series.store.today().year
    starts = [a.start_date for a in occurrences]
    made = f"{len(starts)} activit{'y' if len(starts) == 1 else 'ies'}"
    if len(starts) > 1:
        made += f", {figures.day_words(starts[0], this_year)} to {figures.day_words(starts[-1], this_year)}"
    first_day = figures.day_words(series.first_day, this_year)
    words = f"Series created: {series.describe()}, first day {first_day}; created {made}"
    change = event("created", words, new={"rule": series.describe(), "first_day": series.first_day.isoformat(),
                                          "occurrences": [d.isoformat() for d in starts]})
    return SeriesChange.objects.create(series=series, by=user, by_app=user is None, summary=words + ".",
                                       changes=[change])


def record_series(series: ActivitySeries, old_rule: str, old_first_day: date, *, done: str = "",
                  user=None) -> SeriesChange | None:
    """One entry on `series` (saved with its new rule) for a rule change: the rule and first day old → new in
    words, and `done`, what it did to the occurrences still to come ("moved 4, created 0, …"); None, and nothing
    written, when neither the rule nor an occurrence changed. Call it inside the change's transaction."""
    this_year = series.store.today().year
    changes = []
    if (new_rule := series.describe()) != old_rule:
        changes.append(event("rule", f"Rule changed from {old_rule} to {new_rule}", old=old_rule, new=new_rule))
    if series.first_day != old_first_day:
        old, new = (figures.day_words(d, this_year) for d in (old_first_day, series.first_day))
        changes.append(event("first_day", f"first day moved from {old} to {new}", old=old_first_day.isoformat(),
                             new=series.first_day.isoformat()))
    if done:
        changes.append(event("occurrences", done, new=done))
    if not changes:
        return None
    summary = "; ".join(c["words"] for c in changes)
    return SeriesChange.objects.create(series=series, by=user, by_app=user is None,
                                       summary=summary[0].upper() + summary[1:] + ".", changes=changes)
