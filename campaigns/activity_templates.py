"""The shared activity templates and playbooks every store starts with.

Double 11 sign-up, a full-reduction weekend, a members' lottery, a bundle on the hero product and
a content post, each with its checklist steps (link, resource, data to watch) and its playbook; and a
store's own templates, saved from one of its activities and edited by its managers.
"""

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

PLAYBOOKS = [
    ("platform-event-signup", "Signing up for an official platform event", "gmv_drop",
     """Use this when a platform event (Double 11, 618, Black Friday) opens sign-up.

1. Read the **entry rules**: minimum discount depth, stock, store rating, shipping promise.
2. Pick the products: best sellers with stock for 3× a normal week; check margins after the discount.
3. Submit before the **sign-up deadline** (the desk warns 7 days ahead). Note the submission id.
4. When approved, prepare banners and the landing page; set the price in the platform back office.
5. During the event watch **GMV, conversion and stock** hourly; pause products about to sell out.
6. After the event write the review: actual vs goal vs baseline, and what to change next time.
"""),
    ("full-reduction", "Running a full-reduction promotion", "conversion_drop,aov_drop",
     """Spend X, save Y lifts the **average order value** when X sits just above today's AOV.

1. Look up the AOV of the last 28 days; set the threshold 10–20 % above it.
2. Keep the reduction under your margin on the cheapest qualifying basket.
3. Show the rule on the product pages and in the cart.
4. Watch **AOV, orders and GMV** against the same weekdays before.
"""),
    ("member-lottery", "Lottery for members", "",
     """A lottery rewards buyers or members of a period and brings them back.

1. Announce the rules first: who can enter (buyers or new members), the window, the prizes.
2. Draw **once** on the activity page after the window closes: the seed, the entrant count and the
   hash of the entrant list are stored, so anybody can re-check the result.
3. Contact the winners; note deliveries in the checklist.
"""),
    ("bundle-hero-product", "Bundle on a hero product", "traffic_drop",
     """Put the product with the most visits together with what its buyers also buy.

1. Open **Related sales** and pick a pair with lift above 1 and enough orders (support).
2. Price the bundle below the sum of both, above your margin floor.
3. Add the bundle to the hero product's detail page.
4. Watch the hero product's **conversion** and the bundle's share of its orders.
"""),
    ("content-post", "Publishing a content post", "",
     """1. Write the post around one product or one use; one clear link to the store.
2. Publish at the channel's busy hour (evening 20:00–22:00 works for most).
3. Tag the link with the `social` source so its visits show in the live view.
4. Next day, compare **sessions from social** with the same weekday before.
"""),
    ("traffic-drop", "When traffic drops", "traffic_drop,sessions_drop",
     """1. Split the drop by source in the daily view: which source fell?
2. Paid search down: check the ad plan's budget, bids and whether it was paused.
3. Organic down: check listing changes (title, main picture) and violations that limit exposure.
4. Note the cause in the anomaly and, if it repeats, add a step to this playbook.
"""),
]

# The step that is due on the activity's sign-up deadline (its days before start stand in without one).
SIGNUP_STEP = "Submit the sign-up"

TEMPLATES = [
    ("Double 11 sign-up", "platform_event", 3, {"event": "double_11", "signup_status": "not_started"},
     "platform-event-signup",
     "Join the platform's Double 11 event: sign up in time, prepare stock and pages, watch the day live.",
     [("Read the event's entry rules", "Platform seller centre › Events", "Rules PDF", "", 30),
      ("Choose products and check margins after the event discount", "/stores/", "Product list, cost sheet",
       "Last 30 days orders per product", 25),
      (SIGNUP_STEP, "Platform seller centre › Events › Sign up", "Product ids, prices", "", 21),
      ("Prepare banners and the landing page", "", "Designer, banner sizes", "", 7),
      ("Check stock for 3× a normal week", "", "Warehouse stock report", "Stock vs forecast", 3),
      ("Watch the event live", "/metrics/live/", "", "GMV, conversion, stock per hour", 0),
      ("Write the review", "", "", "Actual vs goal vs baseline", -4)]),
    ("Full-reduction weekend", "store_promotion", 2, {"mechanism": "threshold"}, "full-reduction",
     "Spend X, save Y over a weekend to lift the average order value.",
     [("Set the threshold from the last 28 days' AOV", "/metrics/daily/", "", "AOV, last 28 days", 5),
      ("Configure the promotion in the platform", "Platform back office › Promotions", "", "", 2),
      ("Announce it on the product pages", "", "Banner", "", 1),
      ("Watch orders and AOV", "/metrics/live/", "", "AOV, orders, GMV", 0)]),
    ("Lottery for members", "gift", 7, {"gift_type": "lottery", "prize_count": 3}, "member-lottery",
     "Buyers or new members of a window enter a lottery; winners drawn once from a recorded seed.",
     [("Publish the rules (who enters, window, prizes)", "", "Rules text", "", 3),
      ("Buy or reserve the prizes", "", "Prize budget", "", 3),
      ("Draw the winners on the activity page", "", "", "Entrant count", -1),
      ("Contact the winners and ship the prizes", "/members/", "", "", -3)]),
    ("Bundle on hero product", "related_sales", 14, {"mode": "bundle"}, "bundle-hero-product",
     "Offer the most-visited product with the product its buyers most often add.",
     [("Pick the pair in Related sales", "/campaigns/activities/related-sales/", "", "Support, confidence, lift", 3),
      ("Price the bundle and set it up", "Platform back office › Bundles", "", "Margin", 1),
      ("Add it to the hero product's page", "", "Bundle picture", "", 0),
      ("Watch the hero product's conversion", "/metrics/daily/", "", "Conversion, bundle orders", -7)]),
    ("Content post", "content", 1, {"channel": "xiaohongshu"}, "content-post",
     "A self-media post that sends visitors to one product.",
     [("Write the post and pick pictures", "", "Photos, copy", "", 2),
      ("Tag the link with the social source", "", "", "", 1),
      ("Publish at the evening peak", "", "", "", 0),
      ("Compare next-day social sessions", "/metrics/daily/", "", "Sessions from social", -1)]),
]


def install_defaults(Playbook=None, ActivityTemplate=None, TemplateStep=None) -> None:  # noqa: N803
    """Create the shared playbooks and templates that are missing (safe to run again).

    Called by the 0002 migration (with its historical models) and by the demo seed.
    """
    if Playbook is None:
        from .models import ActivityTemplate, Playbook, TemplateStep
    books = {}
    for slug, title, anomaly_types, body in PLAYBOOKS:
        books[slug], _ = Playbook.objects.get_or_create(
            slug=slug, defaults={"title": title, "body": body, "anomaly_types": anomaly_types})
    # The 0002 migration's TemplateStep predates the sign-up flag; migration 0006 sets it on those rows.
    has_flag = any(f.name == "due_on_signup_deadline" for f in TemplateStep._meta.get_fields())
    for name, kind, days, details, book, description, steps in TEMPLATES:
        if ActivityTemplate.objects.filter(store=None, name=name).exists():
            continue
        template = ActivityTemplate.objects.create(name=name, kind=kind, duration_days=days, default_details=details,
                                                   playbook=books[book], description=description)
        TemplateStep.objects.bulk_create(
            TemplateStep(template=template, position=i, title=t, link=link, resource=res, data_to_watch=watch,
                         days_before_start=before,
                         **({"due_on_signup_deadline": t == SIGNUP_STEP and kind == "platform_event"}
                            if has_flag else {}))
            for i, (t, link, res, watch, before) in enumerate(steps, start=1))


def checklist_due_date(activity, step, today: date, signup_position: int | None = None) -> date:
    """When `step` of `activity` is due, for a checklist made on the store's day `today`.

    The sign-up step is due on the sign-up deadline when the activity has one, and the steps before
    it (at positions below `signup_position`) no later than that; the others their days before the
    first day.
    """
    deadline = activity.signup_deadline
    if step.due_on_signup_deadline and deadline:
        return deadline
    due = activity.start_date - timedelta(days=step.days_before_start)
    # A step whose lead time has already gone by when the activity is planned in time is due today,
    # not born overdue: the operator can still do it, and "overdue" would be noise from the template.
    if today <= activity.start_date:
        due = max(due, today)
    if deadline and signup_position is not None and step.position < signup_position:
        due = min(due, deadline)
    return due


def copy_checklist(activity, template, today: date | None = None) -> None:
    """The template's steps become the activity's checklist (see `checklist_due_date` for when each is due)."""
    from .models import ChecklistItem

    today = today or activity.store.today()
    steps = list(template.steps.all())
    signup_position = min((s.position for s in steps if s.due_on_signup_deadline), default=None)
    ChecklistItem.objects.bulk_create(
        ChecklistItem(activity=activity, position=step.position, title=step.title, link=step.link,
                      resource=step.resource, data_to_watch=step.data_to_watch,
                      due_date=checklist_due_date(activity, step, today, signup_position),
                      due_on_signup_deadline=step.due_on_signup_deadline and bool(activity.signup_deadline))
        for step in steps)


# Details that belong to one run and are not reused: a post's publish time, why these products were bundled,
# how far this event's sign-up got.
ONE_RUN_DETAILS = ("publish_at", "source", "signup_status")


def reusable_details(activity) -> dict:
    return {k: v for k, v in activity.details.items() if k not in ONE_RUN_DETAILS}


def lead_days(activity, item) -> int:
    """The inverse of `checklist_due_date`: how many days before the activity's first day `item` is due
    (negative after it); a step without a due day counts as due on the first day."""
    return (activity.start_date - item.due_date).days if item.due_date else 0


def name_taken(store, name: str, keep=None) -> bool:
    """Whether `store` already sees a template called `name` (its own or a shared one, in any case); `keep`
    is the template being renamed, which may keep its own name."""
    from .models import ActivityTemplate

    taken = ActivityTemplate.objects.filter(Q(store=store) | Q(store=None), name__iexact=name.strip())
    return taken.exclude(pk=keep.pk if keep else None).exists()


@transaction.atomic
def template_from_activity(activity, name: str):
    """A template of the activity's store made from `activity`: its kind, reusable details, days, notes (else
    its template's description), playbook and its checklist as the steps, each due as many days from the first
    day as it was. A name the store already sees is refused (ValidationError)."""
    from .models import ActivityTemplate, TemplateStep

    name = name.strip()
    taken = ValidationError(f"{activity.store.name} already has a template called “{name}”; pick another name.",
                            code="name_taken")
    if name_taken(activity.store, name):
        raise taken
    source = activity.template
    try:  # a colleague saving the same name meanwhile: the database's constraint decides
        template = ActivityTemplate.objects.create(
            store=activity.store, name=name, kind=activity.kind, duration_days=activity.days,
            default_details=reusable_details(activity),
            description=activity.notes.strip() or (source.description if source else ""),
            playbook=source.playbook if source else None)
    except IntegrityError:
        raise taken from None
    steps = steps_from_activity(activity)
    for step in steps:
        step.template = template
    TemplateStep.objects.bulk_create(steps)
    return template


def steps_from_activity(activity) -> list:
    """The activity's checklist as template steps (not saved), numbered from 1, each due as many days from the
    first day as it is on the activity."""
    from .models import TemplateStep

    return [TemplateStep(position=i, title=item.title, link=item.link, resource=item.resource,
                         data_to_watch=item.data_to_watch, days_before_start=lead_days(activity, item),
                         due_on_signup_deadline=item.due_on_signup_deadline)
            for i, item in enumerate(activity.checklist.order_by("position"), start=1)]


def save_template(form, steps: list[dict]):
    """Save a store template's edit form and its steps (`replace_steps`) together, or neither; a name a
    colleague took meanwhile is refused (ValidationError) by the database's constraint."""
    try:
        with transaction.atomic():
            template = form.save()
            replace_steps(template, steps)
    except IntegrityError:
        raise ValidationError(f"{form.instance.store.name} already has a template called "
                              f"“{form.instance.name}”; pick another name.", code="name_taken") from None
    return template


@transaction.atomic
def replace_steps(template, steps: list[dict]) -> None:
    """The template's steps become `steps` (field values, in their new order), numbered from 1. Rewritten
    whole: nothing points at a step (checklists are copies), and renumbering in place would trip the unique
    position on the way."""
    from .models import TemplateStep

    template.steps.all().delete()
    TemplateStep.objects.bulk_create(TemplateStep(template=template, position=i, **values)
                                     for i, values in enumerate(steps, start=1))
