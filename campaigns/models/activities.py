"""Store activities: promotions, platform events, gifts, bundles and content posts.

An activity runs over store-local days start_date..end_date (both inclusive). Its kind-specific
details (discount %, event name, prize count, channel ...) live in `details`, validated by the
kind's form in `campaigns.activity_kinds`. Status moves idea → planned → running → done → reviewed;
`Activity.move_to` and `save()` refuse any other move.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from opsdesk.money import MoneyField
from stores.models import Product, Store

__all__ = [
    "Activity",
    "ActivitySeries",
    "ActivityKind",
    "ActivityStatus",
    "TRANSITIONS",
    "ActivityTemplate",
    "TemplateStep",
    "ChecklistItem",
    "LotteryDraw",
    "EntrantSource",
    "ActivityReview",
    "ActivityChange",
    "SeriesChange",
]


class ActivityKind(models.TextChoices):
    STORE_PROMOTION = "store_promotion", "Store promotion"
    PLATFORM_EVENT = "platform_event", "Official platform event"
    GIFT = "gift", "Gift / lottery"
    RELATED_SALES = "related_sales", "Related sales / bundle"
    CONTENT = "content", "Content post"


class ActivityStatus(models.TextChoices):
    IDEA = "idea", "Idea"
    PLANNED = "planned", "Planned"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    REVIEWED = "reviewed", "Reviewed"


# The only moves allowed; an idea may be planned, a plan may be dropped back to an idea.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    ActivityStatus.IDEA: (ActivityStatus.PLANNED,),
    ActivityStatus.PLANNED: (ActivityStatus.RUNNING, ActivityStatus.IDEA),
    ActivityStatus.RUNNING: (ActivityStatus.DONE,),
    ActivityStatus.DONE: (ActivityStatus.REVIEWED,),
    ActivityStatus.REVIEWED: (),
}


# Over: the days it ran on are what its results were measured on.
FINISHED = (ActivityStatus.DONE, ActivityStatus.REVIEWED)


def _label(status: str) -> str:
    return dict(ActivityStatus.choices).get(status, repr(status))


class ActivitySeries(models.Model):
    """A repeat rule an activity was created with ("every Wednesday", "monthly on the 18th", until a day).

    Its occurrences are ordinary activities linked to it: each is edited on its own; the series is only
    how they were made and how its future ones are changed (rule, first day) or deleted together."""

    class Repeat(models.TextChoices):
        WEEKLY = "weekly", "Weekly, on the first day's weekday"
        MONTHLY = "monthly", "Monthly, on the first day's day of the month"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    repeat = models.CharField(max_length=10, choices=Repeat.choices)
    first_day = models.DateField(help_text="The day its rule counts from, its weekday or day of the month: the first "
                                           "occurrence's first day, or the new first day the rule was moved to.")
    until = models.DateField(help_text="Last day an occurrence may start on (store's zone).")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "activity series"

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        """In words: "every Wednesday until 2027-01-27", "monthly on day 18 until 2027-06-18"."""
        if self.repeat == self.Repeat.WEEKLY:
            return f"every {self.first_day:%A} until {self.until:%Y-%m-%d}"
        return f"monthly on day {self.first_day.day} until {self.until:%Y-%m-%d}"


class Activity(models.Model):
    """An activity runs over store-local days start_date..end_date (both inclusive)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="activities")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=ActivityKind.choices)
    status = models.CharField(max_length=20, choices=ActivityStatus.choices, default=ActivityStatus.IDEA)
    start_date = models.DateField(help_text="First day, in the store's time zone.")
    end_date = models.DateField(help_text="Last day (inclusive), in the store's time zone.")
    products = models.ManyToManyField(Product, blank=True, related_name="activities")
    budget = MoneyField(default=0)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notes = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True, help_text="Kind-specific details (see activity_kinds).")
    signup_deadline = models.DateField(
        null=True, blank=True, help_text="Platform events: last day to sign up (store's zone)."
    )
    goal_gmv = MoneyField(null=True, blank=True, help_text="Goal: GMV over the activity's days.")
    goal_orders = models.PositiveIntegerField(null=True, blank=True, help_text="Goal: paid orders.")
    goal_new_members = models.PositiveIntegerField(null=True, blank=True, help_text="Goal: new members.")
    template = models.ForeignKey(
        "ActivityTemplate", null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    series = models.ForeignKey(ActivitySeries, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="activities", help_text="The repeat rule it was created with.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_date"]
        verbose_name_plural = "activities"
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="activity_dates_in_order",
                                   violation_error_message="The last day cannot be before the first day."),
            models.CheckConstraint(condition=Q(budget__gte=0), name="activity_budget_not_negative",
                                   violation_error_message="The budget cannot be negative."),
            models.CheckConstraint(
                condition=Q(signup_deadline__isnull=True) | Q(kind="platform_event"),
                name="activity_deadline_only_for_platform_events",
                violation_error_message="Only official platform events have a sign-up deadline.",
            ),
            models.CheckConstraint(
                condition=Q(goal_gmv__isnull=True) | Q(goal_gmv__gte=0), name="activity_goal_gmv_not_negative",
                violation_error_message="Goal GMV cannot be negative.",
            ),
        ]
        indexes = [models.Index(fields=["store", "start_date", "end_date"], name="activity_store_dates")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        saved = getattr(self, "_saved_status", None)
        if self.pk and saved and saved != self.status and self.status not in TRANSITIONS[saved]:
            raise ValidationError(
                f"An activity cannot go from {_label(saved)} to {_label(self.status)}."
            )
        super().save(*args, **kwargs)
        self._saved_status = self.status
        self._saved_days = (self.start_date, self.end_date)

    def get_absolute_url(self) -> str:
        return reverse("campaigns:activity_detail", args=[self.pk])

    @classmethod
    def from_db(cls, db, field_names, values):
        obj = super().from_db(db, field_names, values)
        obj._saved_status = obj.__dict__.get("status")
        obj._saved_days = (obj.__dict__.get("start_date"), obj.__dict__.get("end_date"))
        return obj

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1

    def clean(self):
        super().clean()
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "The last day cannot be before the first day."})
        saved_days = getattr(self, "_saved_days", None)
        if self.status in FINISHED and saved_days and saved_days != (self.start_date, self.end_date):
            # Its results and review were measured over those days; other days would belie them.
            raise ValidationError(f"A finished ({_label(self.status).lower()}) activity keeps its days: "
                                  f"{saved_days[0]:%Y-%m-%d} to {saved_days[1]:%Y-%m-%d}.")
        if self.signup_deadline and self.kind != ActivityKind.PLATFORM_EVENT:
            raise ValidationError({"signup_deadline": "Only official platform events have a sign-up deadline."})
        if self.signup_deadline and self.start_date and self.signup_deadline > self.start_date:
            raise ValidationError({"signup_deadline": "The sign-up deadline must be on or before the first day."})
        from campaigns.activity_kinds import validate_details

        self.details = validate_details(self.kind, self.details)
        publish_at = self.details.get("publish_at") if self.kind == ActivityKind.CONTENT else None
        if publish_at and self.start_date and self.end_date \
                and not self.start_date.isoformat() <= publish_at[:10] <= self.end_date.isoformat():
            raise ValidationError("The post's publish time must fall on one of the activity's days.")

    def follow_days(self, days: int) -> int:
        """The checklist follows the activity's new days (its first day moved by `days`, its sign-up deadline
        perhaps changed); returns how many steps moved with the first day.

        Each step not done with a due day moves by `days`: "book the banner 5 days before" stays 5 days before.
        The sign-up step follows the sign-up deadline instead, and the steps before it stay due no later than
        that (as when the checklist was made). Done steps keep their day: they record when it was done against."""
        waiting = self.checklist.filter(done_at__isnull=True, due_date__isnull=False)
        moved = 0
        if days:
            with_first_day = waiting.exclude(due_on_signup_deadline=True) if self.signup_deadline else waiting
            moved = with_first_day.update(due_date=F("due_date") + timedelta(days=days))
        self.follow_signup_deadline()
        signup = self.checklist.filter(due_on_signup_deadline=True).order_by("position").first()
        if self.signup_deadline and signup:
            waiting.filter(position__lt=signup.position, due_date__gt=self.signup_deadline).update(
                due_date=self.signup_deadline)
        return moved

    def follow_signup_deadline(self) -> int:
        """A moved sign-up deadline moves the checklist's sign-up step that is not done yet; returns how many."""
        if not self.signup_deadline:
            return 0
        return self.checklist.filter(due_on_signup_deadline=True, done_at__isnull=True).update(
            due_date=self.signup_deadline)

    @transaction.atomic
    def add_step(self, item: ChecklistItem, *, user=None) -> bool:
        """Put `item` at the end of the checklist, recorded in the history by `user`; False, and nothing added,
        when the same step (title, link, resource, data, due day) is already on it and not done: a
        double-clicked Add is one step."""
        from campaigns import activity_history

        Activity.objects.select_for_update().filter(pk=self.pk).first()  # one addition at a time
        if self.checklist.filter(done_at__isnull=True, title=item.title, link=item.link, resource=item.resource,
                                 data_to_watch=item.data_to_watch, due_date=item.due_date).exists():
            return False
        item.activity = self
        item.position = (self.checklist.aggregate(m=models.Max("position"))["m"] or 0) + 1
        item.save()
        activity_history.record_event(self, "checklist",
                                      f"Checklist step added: {activity_history.step_words(self, item)}",
                                      new=item.title, user=user)
        return True

    @transaction.atomic
    def tick_step(self, item: ChecklistItem, done: bool, *, user=None) -> bool:
        """Mark a step done (by `user`, now) or not done, recorded in the history; False, and nothing recorded,
        when it already was: Done is said, not toggled, so a second Done keeps who ticked it first and when."""
        from campaigns import activity_history

        steps = self.checklist.filter(pk=item.pk)
        if done:
            changed = steps.filter(done_at__isnull=True).update(done_at=timezone.now(), done_by=user)
        else:
            changed = steps.filter(done_at__isnull=False).update(done_at=None, done_by=None)
        if changed:
            activity_history.record_event(
                self, "checklist", f"Checklist step {'done' if done else 'undone'}: "
                f"{activity_history.step_words(self, item)}", old="not done" if done else "done",
                new="done" if done else "not done", user=user)
        return bool(changed)

    @transaction.atomic
    def remove_step(self, item: ChecklistItem, *, user=None) -> bool:
        """Take a step that is not done off the checklist, recorded in the history (its title and due day stay
        there); False, and nothing removed, for a done step (who did it and when would be lost) or one gone
        already."""
        from campaigns import activity_history

        if not self.checklist.filter(pk=item.pk, done_at__isnull=True).delete()[0]:
            return False
        activity_history.record_event(self, "checklist",
                                      f"Checklist step removed: {activity_history.step_words(self, item)}",
                                      old=item.title, user=user)
        return True

    def allowed_moves(self) -> tuple[str, ...]:
        return TRANSITIONS[self.status]

    @transaction.atomic
    def move_to(self, status: str, *, user=None, events: list[dict] = ()) -> None:
        """Change status if the move is allowed (checked against the row, locked, not a stale copy); the move
        is recorded in the activity's history, by `user`, after the `events` of the action that made it."""
        from campaigns import activity_history

        current = Activity.objects.select_for_update().values_list("status", flat=True).get(pk=self.pk)
        if status not in TRANSITIONS[current]:
            raise ValidationError(
                f"An activity cannot go from {_label(current)} to {_label(status)}."
            )
        Activity.objects.filter(pk=self.pk).update(status=status)
        self.status = self._saved_status = status
        activity_history.record(self, {"status": current}, after={"status": status}, user=user, events=events)

    @property
    def progress(self) -> int | None:
        """Checklist progress in whole percent, or None without a checklist."""
        items = list(self.checklist.all())
        if not items:
            return None
        return round(100 * sum(1 for i in items if i.done_at) / len(items))


class ActivityTemplate(models.Model):
    """A reusable activity recipe: its kind, default details and the steps of its checklist.

    Templates without a store are shared by every store; a store's own templates only it sees.
    """

    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=ActivityKind.choices)
    description = models.TextField(blank=True)
    duration_days = models.PositiveIntegerField(default=3)
    default_details = models.JSONField(default=dict, blank=True)
    playbook = models.ForeignKey(
        "campaigns.Playbook", null=True, blank=True, on_delete=models.SET_NULL, related_name="templates"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(duration_days__gte=1), name="template_duration_positive",
                                   violation_error_message="A template lasts at least one day."),
            # Operators pick a template by its name, so two of one store's may not share it (in any case).
            models.UniqueConstraint(Lower("name"), "store", condition=Q(store__isnull=False),
                                    name="template_name_unique_per_store",
                                    violation_error_message="The store already has a template of this name."),
        ]

    def __str__(self) -> str:
        return self.name


class TemplateStep(models.Model):
    """One step of a template: what to do, where (link), with what (resource), what data to watch."""

    template = models.ForeignKey(ActivityTemplate, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    link = models.CharField(max_length=500, blank=True, help_text="Where the step is done (URL or page).")
    resource = models.CharField(max_length=300, blank=True, help_text="What it needs: banner, budget, stock ...")
    data_to_watch = models.CharField(max_length=300, blank=True, help_text="The numbers to check.")
    days_before_start = models.IntegerField(default=0, help_text="Due this many days before the first day.")
    due_on_signup_deadline = models.BooleanField(
        default=False, help_text="The sign-up step: due on the activity's sign-up deadline when it has one.")

    class Meta:
        ordering = ["template", "position"]
        constraints = [models.UniqueConstraint(fields=["template", "position"], name="step_unique_position")]

    def __str__(self) -> str:
        return self.title

    @property
    def due_when(self) -> str:
        """When the step is due, in words: "3 days before start", "on the first day", "4 days after start"."""
        if self.due_on_signup_deadline:
            return "on the sign-up deadline"
        n = self.days_before_start
        if n == 0:
            return "on the first day"
        return f"{abs(n)} day{'s' if abs(n) != 1 else ''} {'before' if n > 0 else 'after'} start"

    @property
    def link_is_url(self) -> bool:
        return self.link.startswith(("http://", "https://", "/"))


class ChecklistItem(models.Model):
    """A step of one activity's checklist, copied from its template (or added by hand)."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="checklist")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    link = models.CharField(max_length=500, blank=True)
    resource = models.CharField(max_length=300, blank=True)
    data_to_watch = models.CharField(max_length=300, blank=True)
    due_date = models.DateField(null=True, blank=True)
    due_on_signup_deadline = models.BooleanField(
        default=False, help_text="The sign-up step: its due date follows the activity's sign-up deadline.")
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["activity", "position"]
        constraints = [models.UniqueConstraint(fields=["activity", "position"], name="checklist_unique_position")]

    def __str__(self) -> str:
        return self.title

    @property
    def link_is_url(self) -> bool:
        return self.link.startswith(("http://", "https://", "/"))


class EntrantSource(models.TextChoices):
    ORDERS = "orders", "Buyers with a paid order in the window"
    MEMBERS = "members", "Members who joined in the window"


class LotteryDraw(models.Model):
    """The one draw of a lottery activity, with everything needed to re-check it.

    One-to-one with the activity, so the database refuses a second draw. Winners are
    `random.Random(seed).sample(sorted entrant keys, winner_count)`; the SHA-256 of the sorted
    keys (joined by newlines) proves which entrant list was used.
    """

    activity = models.OneToOneField(Activity, on_delete=models.CASCADE, related_name="lottery_draw")
    source = models.CharField(max_length=20, choices=EntrantSource.choices)
    window_start = models.DateField()
    window_end = models.DateField()
    entrant_count = models.PositiveIntegerField()
    entrants_sha256 = models.CharField(max_length=64)
    seed = models.CharField(max_length=64)
    winner_count = models.PositiveIntegerField()
    winners = models.JSONField(help_text="Winning entrant keys, in draw order.")
    drawn_at = models.DateTimeField(auto_now_add=True)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(window_end__gte=F("window_start")), name="lottery_window_in_order",
                                   violation_error_message="The window ends before it starts."),
            models.CheckConstraint(
                condition=Q(winner_count__lte=F("entrant_count")), name="lottery_winners_le_entrants",
                violation_error_message="There cannot be more winners than entrants.",
            ),
        ]

    def __str__(self) -> str:
        return f"Draw for {self.activity}"


class ActivityReview(models.Model):
    """The operator's summing-up after an activity: what happened, why, and which playbook applies."""

    activity = models.OneToOneField(Activity, on_delete=models.CASCADE, related_name="review")
    summary = models.TextField()
    root_cause = models.CharField(max_length=300, blank=True, help_text="Why it went as it did, in a line.")
    playbook = models.ForeignKey(
        "campaigns.Playbook", null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews"
    )
    figures = models.JSONField(default=dict, blank=True, help_text="The review numbers when it was written.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"Review of {self.activity}"


class HistoryEntry(models.Model):
    """One entry of a history (an activity's, a series'): who changed what, when.

    `changes` keeps each change's old and new value in words ({"field", "old", "new"}); `summary` is the
    entry as its page shows it. Kept when the user is deleted (then shown as "deleted user")."""

    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+")
    by_app = models.BooleanField(default=False, help_text="Made by the app (demo seed, a shell), not a user.")
    summary = models.TextField()
    changes = models.JSONField(default=list, blank=True)

    class Meta:
        abstract = True
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return self.summary

    @property
    def by_name(self) -> str:
        if self.by_app:
            return "opsdesk"
        if self.by is None:
            return "deleted user"
        return self.by.get_full_name() or self.by.get_username()


class ActivityChange(HistoryEntry):
    """One entry of an activity's history (`activity_history.record`)."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="history")

    class Meta(HistoryEntry.Meta):
        indexes = [models.Index(fields=["activity", "-at"], name="activity_change_newest")]


class SeriesChange(HistoryEntry):
    """One entry of a series' own history: its creation (`activity_history.record_series_created`), or a new rule
    or first day and what it did to the occurrences (`activity_history.record_series`); each occurrence keeps its
    own entry for its own move."""

    series = models.ForeignKey(ActivitySeries, on_delete=models.CASCADE, related_name="history")

    class Meta(HistoryEntry.Meta):
        verbose_name_plural = "series changes"
        indexes = [models.Index(fields=["series", "-at"], name="series_change_newest")]

    @property
    def records_creation(self) -> bool:
        """The series' first entry, written when it was created (a series made before has none)."""
        return bool(self.changes) and self.changes[0].get("field") == "created"
