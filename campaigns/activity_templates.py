"""The shared activity templates and playbooks every store starts with.

Double 11 sign-up, a full-reduction weekend, a members' lottery, a bundle on the hero product and
a content post, each with its checklist steps (link, resource, data to watch) and its playbook.
"""

from datetime import date, timedelta

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
