"""Daily tables: one row per (store, store-local day, metric, dimension, dimension value), the
anomalies found in them with their response plan and action items, and the morning-email log.

A rollup of a day replaces that day's rows exactly, so re-running it is harmless. Overall numbers
have dimension "" and value ""; breakdowns use dimension traffic_source / product / payment_type.
"""

import re
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, models
from django.db.models import Case, Exists, ExpressionWrapper, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Abs, Coalesce
from django.utils import timezone

__all__ = [
    "ActionItem",
    "Anomaly",
    "AnomalyStatus",
    "DailyMetric",
    "Dimension",
    "Direction",
    "MorningEmail",
    "StaleDay",
    "read_runs",
    "WithdrawnAnomaly",
]


# The detector's sentence on the source an overall move was flagged for, in any release's words.
FLAGGED_NOTE = re.compile(r" \([^()]*flagged because [^()]*\)")


class Dimension(models.TextChoices):
    OVERALL = "", "Overall"
    TRAFFIC_SOURCE = "traffic_source", "Traffic source"
    PRODUCT = "product", "Product"
    PAYMENT_TYPE = "payment_type", "Payment type"


class DailyMetric(models.Model):
    """One number of one store-local day; money in the store's currency, ratios as fractions."""

    # No index of its own: the unique cell's index starts with the store, and every nightly row paid for a
    # second one nothing read (bench/RESULTS.md "## nightly").
    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="daily_metrics", db_index=False)
    day = models.DateField(help_text="The store's local calendar day.")
    metric = models.CharField(max_length=40)
    dimension = models.CharField(max_length=20, choices=Dimension.choices, blank=True, default="")
    dimension_value = models.CharField(max_length=120, blank=True, default="")
    value = models.DecimalField(max_digits=20, decimal_places=6)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "day", "metric", "dimension", "dimension_value"], name="dailymetric_unique_cell"
            ),
        ]
        indexes = [models.Index(fields=["store", "metric", "dimension", "day"], name="dailymetric_series")]

    def __str__(self) -> str:
        where = f" {self.dimension}={self.dimension_value}" if self.dimension else ""
        return f"{self.store_id} {self.day} {self.metric}{where} = {self.value}"


class AnomalyStatus(models.TextChoices):
    NEW = "new", "New"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    PLAN = "plan", "Plan in place"
    RESOLVED = "resolved", "Resolved"


class Direction(models.TextChoices):
    UP = "up", "Up"
    DOWN = "down", "Down"


# The earlier days the daily tables compare with: the day before and the same weekday a week before.
EARLIER_DAYS = {"day_before_value": 1, "week_before_value": 7}


class AnomalyQuerySet(models.QuerySet):
    def with_value_now(self):
        """Each anomaly with `rolled_value`: its day's number as rolled up now (see `Anomaly.value_now`),
        one subquery on the daily table's unique cell, not a query per row."""
        cell = DailyMetric.objects.filter(store=OuterRef("store"), day=OuterRef("day"), metric=OuterRef("metric"),
                                          dimension=OuterRef("dimension"), dimension_value=OuterRef("dimension_value"))
        return self.annotate(rolled_value=Subquery(cell.values("value")[:1]))

    def with_earlier_values(self):
        """Each anomaly with `day_before_value` and `week_before_value` as the daily tables read them (see
        `Anomaly.comparison`): two subqueries per day, not a query per row."""
        from metrics.rollup import METRICS

        additive = [m for m, info in METRICS.items() if info.additive]
        annotations = {}
        for name, days in EARLIER_DAYS.items():
            day = ExpressionWrapper(OuterRef("day") - timedelta(days=days), output_field=models.DateField())
            cells = DailyMetric.objects.filter(store=OuterRef("store"), day=day)
            cell = cells.filter(metric=OuterRef("metric"), dimension=OuterRef("dimension"),
                                dimension_value=OuterRef("dimension_value"))
            # A rolled-up day (its overall orders are there) without the cell of an additive metric had
            # none of it: 0, as compare.fill_rolled_zeros reads it; a day not rolled up stays unknown.
            rolled = Exists(cells.filter(metric="orders", dimension=""))
            annotations[name] = Coalesce(Subquery(cell.values("value")[:1]),
                                         Case(When(rolled & Q(metric__in=additive), then=Value(Decimal(0)))),
                                         output_field=models.DecimalField())
        return self.annotate(**annotations)


class Anomaly(models.Model):
    """A metric of a store-local day that left its seasonal baseline, with its explanation and plan.

    Unique per (store, day, metric, dimension, value): detecting again updates the numbers and
    the explanation but keeps the status, plan and action items people already wrote.
    """

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="anomalies")
    day = models.DateField()
    metric = models.CharField(max_length=40)
    dimension = models.CharField(max_length=20, choices=Dimension.choices, blank=True, default="")
    dimension_value = models.CharField(max_length=120, blank=True, default="")
    value = models.DecimalField(max_digits=20, decimal_places=6)
    baseline = models.DecimalField(max_digits=20, decimal_places=6)
    band_low = models.DecimalField(max_digits=20, decimal_places=6)
    band_high = models.DecimalField(max_digits=20, decimal_places=6)
    change = models.FloatField(null=True, help_text="(value − baseline) / baseline; null when baseline is 0.")
    change_dod = models.FloatField(null=True, help_text="Change against the day before.")
    change_wow = models.FloatField(null=True, help_text="Change against the same weekday a week before.")
    score = models.FloatField(help_text="Robust z-score of the log change (see metrics.anomaly).")
    direction = models.CharField(max_length=4, choices=Direction.choices)
    holiday = models.CharField(max_length=120, blank=True, help_text="Public holiday that day (downgraded).")
    explained_by = models.ForeignKey(
        "campaigns.Activity", null=True, blank=True, on_delete=models.SET_NULL, related_name="anomalies",
        help_text="An activity running that day that explains the change.",
    )
    explanation = models.TextField(blank=True, help_text="Plain-words root cause.")
    root_cause = models.JSONField(default=dict, blank=True, help_text="Attribution and metric-tree details.")
    part_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="related",
        help_text="The lead anomaly of the same incident (same store-day and cause); see metrics.incidents.",
    )
    continues = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="continued_by",
        help_text="A lead's incident of the day before that this day continues (same series, or same cause, and "
                  "direction, still open when judged): one incident over several days; see "
                  "metrics.incidents.link_days.",
    )
    status = models.CharField(max_length=20, choices=AnomalyStatus.choices, default=AnomalyStatus.NEW)
    plan = models.TextField(blank=True, help_text="The response plan.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    detected_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AnomalyQuerySet.as_manager()

    class Meta:
        # The day's GMV first, then its other overall metrics, then the breakdowns that explain them; the
        # most abnormal first within each, drops and spikes alike. A reader meets the headline before
        # its details: "GMV −38 %: paid-search …" above "Paid-search GMV −87 %".
        ordering = ["-day", Case(When(dimension="", metric="gmv", then=0), When(dimension="", then=1),
                                 When(dimension="traffic_source", then=2), default=3), Abs("score").desc()]
        verbose_name_plural = "anomalies"
        constraints = [
            models.UniqueConstraint(
                fields=["store", "day", "metric", "dimension", "dimension_value"], name="anomaly_unique_cell"
            ),
        ]
        indexes = [models.Index(fields=["store", "status", "day"], name="anomaly_store_status_day")]

    def __str__(self) -> str:
        return f"{self.metric} {self.direction} on {self.day}"

    @property
    def info(self):
        """What the metric is: label, kind (money / count / ratio), which direction is good."""
        from metrics.rollup import METRICS

        return METRICS[self.metric]

    @property
    def title(self) -> str:
        """'Paid orders', or 'GMV (main payments) · Paid search / through train' for a breakdown's anomaly."""
        if not self.dimension:
            return self.info.label
        value = getattr(self, "value_label", None)  # set for a whole page by metrics.anomaly.label_values
        if value is None:
            from metrics.anomaly import dimension_labels

            value = dimension_labels(self.store, self.dimension, [self.dimension_value])[self.dimension_value]
        return f"{self.info.label} · {value}"

    @property
    def value_now(self) -> Decimal | None:
        """The day's number as rolled up now where facts recorded late changed it since it was flagged; None
        while it is the flagged value.

        A judgement that still flags the day refreshes the anomaly's numbers; one that no longer does keeps
        an anomaly somebody works on as it was flagged (metrics.anomaly._save), so its "GMV 25,979, −42 %"
        would stand beside the daily page's 45,979 unexplained. Read from `rolled_value`
        (`Anomaly.objects.with_value_now()`), else with one query.
        """
        if not hasattr(self, "rolled_value"):
            self.rolled_value = (DailyMetric.objects.filter(
                store_id=self.store_id, day=self.day, metric=self.metric, dimension=self.dimension,
                dimension_value=self.dimension_value).values_list("value", flat=True).first())
        now = self.rolled_value
        if now is None:
            # Without its cell the day had none of an additive metric (a source that sold nothing); a ratio
            # without one is undefined: nothing to set against the flagged value.
            if not self.info.additive:
                return None
            now = Decimal(0)
        return now if abs(now - self.value) > Decimal("0.000001") * max(1, abs(self.value)) else None

    @property
    def comparison(self) -> dict:
        """The flagged value against the day before and a week before, as a row of the daily tables
        (`metrics.compare.comparison_row`): the `row_change` filter then says "from 0" where the earlier day
        had none, as the daily page does, rather than the "–" of a change that has no percentage. Read from
        `Anomaly.objects.with_earlier_values()`, else with one query."""
        if not all(hasattr(self, name) for name in EARLIER_DAYS):
            earlier = Anomaly.objects.filter(pk=self.pk).with_earlier_values().values(*EARLIER_DAYS).first() or {}
            for name in EARLIER_DAYS:
                setattr(self, name, earlier.get(name))

        def number(value):
            return None if value is None else float(value)

        return {"metric": self.metric, "kind": self.info.kind, "value": float(self.value),
                "day_before": number(self.day_before_value), "week_before": number(self.week_before_value),
                "dod": self.change_dod, "wow": self.change_wow, "good_when_up": self.info.higher_is_better}

    def continued_incident(self, days: int = 7) -> "Anomaly | None":
        """The latest open incident of the week before with the same cause: day 2 of an outage is the
        incident somebody already works on, not news (metrics.incidents.driver). For a day that continues its
        incident (`continues`), the earlier day of it with the plan, else its first."""
        from metrics.incidents import driver

        if self.run:
            # Its own earlier days: the one with the plan (the latest written), else the first, where it began.
            earlier = {a.pk: a for a in Anomaly.objects.filter(pk__in=[pk for pk, _ in self.run])
                       .select_related("store", "owner")}
            days = [earlier[pk] for pk, _ in self.run if pk in earlier]
            return next((a for a in reversed(days) if a.plan), days[0] if days else None)
        cause = driver(self)
        if cause is None:
            return None
        earlier = Anomaly.objects.filter(
            store_id=self.store_id, part_of__isnull=True, day__lt=self.day, day__gte=self.day - timedelta(days=days),
        ).exclude(status=AnomalyStatus.RESOLVED).select_related("store", "owner")
        return next((a for a in earlier if driver(a) == cause), None)

    def share_status(self) -> None:
        """The anomalies of its incident follow the lead's status: one plan, one state. So do the other days
        of an incident that runs over several (`continues`): acknowledged or resolved once is for all of them."""
        run = {self.pk}
        edge = {self.pk}
        while edge:  # a run is as many days as the change lasted: a query a day, both ways
            edge = set(Anomaly.objects.filter(Q(continues__in=edge) | Q(continued_by__in=edge))
                       .values_list("pk", flat=True)) - run
            run |= edge
        Anomaly.objects.filter(Q(pk__in=run) | Q(part_of__in=run)).exclude(status=self.status).update(
            status=self.status, updated_at=timezone.now())

    @property
    def run(self) -> list[tuple[int, date]]:
        """The earlier days of its incident, oldest first, as (anomaly id, day): [] on its first day. Read for a
        whole page by `read_runs`, else with one query."""
        if not hasattr(self, "_run"):
            read_runs([self])
        return self._run

    @property
    def run_since(self):
        """The incident's first day when it runs over several, else None."""
        return self.run[0][1] if self.run else None

    @property
    def run_day(self) -> int:
        """Which day of its incident this is: 1 on its first, 3 on the third (the days are consecutive)."""
        return (self.day - self.run[0][1]).days + 1 if self.run else 1

    @property
    def run_note(self) -> str:
        """'since Wed 25 Nov, 3rd day' for an incident that runs over days, as the pages and the email say it."""
        if not self.run:
            return ""
        from django.contrib.humanize.templatetags.humanize import ordinal

        from metrics.figures import day_words

        return f"since {day_words(self.run_since)}, {ordinal(self.run_day)} day"

    @property
    def flagged_for(self) -> str:
        """'Paid search / through train (−92 %)': the abnormal source an overall move was flagged for (its own
        score and band may show an ordinary day), with its move; '' for an anomaly flagged on its own."""
        via = (self.root_cause or {}).get("flagged_because")
        if not via:
            return ""
        from metrics.anomaly import dimension_labels
        from metrics.figures import pct

        label = dimension_labels(self.store, via["dimension"], [via["value"]])[via["value"]]
        return f"{label} ({pct(via.get('change'))})"

    @property
    def flagged_because(self) -> str:
        """'flagged because of Paid search / through train (−92 %)' (`flagged_for` in the email's words); ''."""
        source = self.flagged_for
        return f"flagged because of {source}" if source else ""

    @property
    def root_cause_summary(self) -> str:
        """The explanation without the sentences the detector adds to it (the source an overall move was
        flagged for, the holiday, the running activity), which each page and the email say in their own
        way: the root cause's own summary, stored apart since the first release.

        An anomaly without one (written by hand in the admin) has those sentences cut out of its words."""
        summary = (self.root_cause or {}).get("summary")
        if summary:
            return summary
        from metrics.anomaly import ACTIVITY_NOTE, holiday_note

        text = self.explanation
        if self.explained_by_id:  # at the note itself, not the name: the activity may be renamed since
            head, found, _ = text.rpartition(ACTIVITY_NOTE)
            text = head if found else text
        if self.holiday:
            text = text.replace(holiday_note(self.holiday), "", 1)
        # Worded differently by older releases; each wording is one parenthesis saying "flagged because".
        return FLAGGED_NOTE.sub("", text, count=1) if (self.root_cause or {}).get("flagged_because") else text

    def explanation_from_parts(self, *, flagged: bool = True, holiday: bool = True) -> str:
        """The root cause's summary with the detector's sentences asked for, in today's words (never the
        activity's: every page and the email name it beside the text, by its name now)."""
        from metrics.anomaly import corroboration_note, holiday_note

        text = self.root_cause_summary
        via = (self.root_cause or {}).get("flagged_because")
        if flagged and via:
            text += corroboration_note(self.store, via["value"])
        if holiday and self.holiday:
            text += holiday_note(self.holiday)
        return text

    @property
    def is_explained(self) -> bool:
        return bool(self.explained_by_id or self.holiday)

    @property
    def change_pct(self) -> float | None:
        return None if self.change is None else self.change * 100


# Each linked anomaly's earlier days, up the `continues` links (Postgres and SQLite alike).
RUN_SQL = """
    WITH RECURSIVE run(start_id, id, continues_id, day) AS (
        SELECT id, id, continues_id, day FROM {table} WHERE id IN ({ids})
        UNION ALL
        SELECT run.start_id, a.id, a.continues_id, a.day FROM {table} a JOIN run ON a.id = run.continues_id
    )
    SELECT start_id, id, day FROM run WHERE id <> start_id"""


def read_runs(anomalies) -> None:
    """Set each anomaly's `run` (its incident's earlier days) with one recursive query up the `continues` links."""
    anomalies = [a for a in anomalies if not hasattr(a, "_run")]
    for a in anomalies:
        a._run = []
    linked = [a.pk for a in anomalies if a.continues_id]
    if not linked:
        return
    # The table's name is the model's; the ids go as parameters.
    sql = RUN_SQL.format(table=connection.ops.quote_name(Anomaly._meta.db_table),
                         ids=", ".join(["%s"] * len(linked)))
    with connection.cursor() as cursor:
        cursor.execute(sql, linked)
        rows = cursor.fetchall()
    runs = {}
    for start, pk, day in rows:
        runs.setdefault(start, []).append((pk, day if isinstance(day, date) else date.fromisoformat(day)))
    for a in anomalies:
        a._run = sorted(runs.get(a.pk, []), key=lambda step: step[1])


class WithdrawnAnomaly(models.Model):
    """An anomaly that a later judgement of its day removed before anybody worked on it (late data made
    the day ordinary: the false alarm disappears). Its id is kept so that a link to it in a morning email
    already sent says what happened instead of a 404. Written by metrics.anomaly._save."""

    id = models.BigIntegerField(primary_key=True, help_text="The removed anomaly's id.")
    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    metric = models.CharField(max_length=40)
    dimension = models.CharField(max_length=20, choices=Dimension.choices, blank=True, default="")
    dimension_value = models.CharField(max_length=120, blank=True, default="")
    withdrawn_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"withdrawn anomaly {self.pk}: {self.metric} on {self.day}"

    @property
    def title(self) -> str:
        """The title the anomaly had: 'GMV (main payments)', 'Paid orders · Credit card'."""
        return Anomaly(store=self.store, metric=self.metric, dimension=self.dimension,
                       dimension_value=self.dimension_value).title

    def current(self) -> "Anomaly | None":
        """The anomaly of the same store, day and metric if a still later judgement flagged it again."""
        return Anomaly.objects.filter(store_id=self.store_id, day=self.day, metric=self.metric,
                                      dimension=self.dimension, dimension_value=self.dimension_value).first()


class ActionItemQuerySet(models.QuerySet):
    def overdue(self, stores):
        """Items not done past their due date (each store's own today) on anomalies not resolved: what
        nobody is reminded of once the anomaly left "new"."""
        late = Q()
        for store in stores:
            late |= Q(anomaly__store=store, due_date__lt=store.today())
        if not late:
            return self.none()
        return self.filter(late, done=False).exclude(anomaly__status=AnomalyStatus.RESOLVED)


class ActionItem(models.Model):
    """One step of an anomaly's response plan: who does what by when."""

    anomaly = models.ForeignKey(Anomaly, on_delete=models.CASCADE, related_name="action_items")
    text = models.CharField(max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_date = models.DateField(null=True, blank=True)
    done = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ActionItemQuerySet.as_manager()

    class Meta:
        ordering = ["done", "due_date", "pk"]

    def __str__(self) -> str:
        return self.text


class MorningEmail(models.Model):
    """The morning email of one manager membership for one of the manager's local days and one store day.

    The row is written before the email is sent; its unique constraint is what stops a second
    beat run (or a second worker) from sending the same morning email again.
    """

    membership = models.ForeignKey("stores.StoreMembership", on_delete=models.CASCADE, related_name="+")
    day = models.DateField(help_text="The manager's local date the email was sent on.")
    report_day = models.DateField(help_text="The store-local day the email reports on.")
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # One email a morning, and each store day reported once: where the manager's 08:00 moves
            # against the store's day (a clock change, a new zone) a day is not sent again.
            models.UniqueConstraint(fields=["membership", "day"], name="morningemail_unique_membership_day"),
            models.UniqueConstraint(fields=["membership", "report_day"], name="morningemail_unique_report_day"),
            models.CheckConstraint(condition=Q(report_day__lte=models.F("day")), name="morningemail_reports_past"),
        ]

    def __str__(self) -> str:
        return f"morning email {self.membership_id} {self.day}"


class StaleDay(models.Model):
    """A rolled-up store-local day that late facts (an order, a refund, traffic events) changed: the
    outbox of `metrics.stale_days`, written in the same transaction as the facts, so the day is rebuilt
    even when the worker that was told about it is down or loses the task.

    `marks` counts the requests that marked the day; the rebuild deletes the row only if the count is
    the one it read, so a mark that arrives during the rebuild is kept for the next run.
    """

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    day = models.DateField(help_text="The store's local calendar day.")
    marks = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "day"], name="staleday_unique_store_day")]

    def __str__(self) -> str:
        return f"{self.store_id} {self.day} stale ({self.marks} marks)"

    @classmethod
    def mark(cls, store_id: int, days) -> None:
        """Add one mark to each of the store's `days`, creating the rows that are missing, in one statement.

        Raw SQL because the ORM's upsert can only overwrite, not count up; ON CONFLICT … DO UPDATE is
        the same on Postgres and SQLite (the demo). Days in order, so two requests cannot deadlock.
        """
        days = sorted(set(days))
        if not days:
            return
        ops = connection.ops
        table = ops.quote_name(cls._meta.db_table)
        now = ops.adapt_datetimefield_value(timezone.now())
        values = ", ".join(["(%s, %s, 1, %s, %s)"] * len(days))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (store_id, day, marks, created_at, updated_at) VALUES {values} "  # noqa: S608
                f"ON CONFLICT (store_id, day) DO UPDATE SET marks = {table}.marks + 1, "
                f"updated_at = excluded.updated_at",
                [v for day in days for v in (store_id, ops.adapt_datefield_value(day), now, now)],
            )
