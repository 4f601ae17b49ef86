"""A whole desk to sweep: the demo's two stores with an object of every kind, and how to address each page.

`seed_world()` loads the demo (short history) and adds an operator who belongs to store A only.
`objects(store)` returns one object of every kind of that store; `KWARGS` says, for every URL
pattern that takes parameters, how to fill them from those objects. The sweep and the layout
test use it, so a new page is checked as soon as it is named here (and fails until it is).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from campaigns.activity_series import create_series
from campaigns.models import (
    Activity,
    ActivityTemplate,
    AdCreative,
    AdPlan,
    ChecklistItem,
    LaunchChecklistItem,
    LaunchPlan,
    Plan,
    PlanTask,
    Playbook,
)
from members.models import Member, SavedAnswer, SmsTemplate
from metrics.models import ActionItem, Anomaly
from reviews.models import ProductTask, Review, ReviewCase
from stores.models import ImportJob, ListingVersion, Order, Product, Role, Store, StoreMembership, Violation
from tests.factories import UserFactory

STORE_A, STORE_B = "jade-tea", "pacific-outfitters"


def seed_world(days: int = 21, role: str = Role.OPERATOR):
    """(store A, store B, a user of store A only with `role`), on top of the demo data."""
    call_command("seed_demo", "--days", str(days), stdout=io.StringIO())
    store_a, store_b = Store.objects.get(slug=STORE_A), Store.objects.get(slug=STORE_B)
    for store in (store_a, store_b):
        _fill_gaps(store)
    user = UserFactory(username=f"sweep-{role}")
    StoreMembership.objects.get_or_create(user=user, store=store_a, defaults={"role": role})
    return store_a, store_b, user


def _fill_gaps(store) -> None:
    """Kinds a short demo history may lack, made by hand so every page has an object to show."""
    product = store.products.first()
    if not Playbook.objects.filter(store=store).exists():
        Playbook.objects.create(store=store, slug=f"{store.slug}-own", title="Store's own procedure", body="Steps.")
    if not Anomaly.objects.filter(store=store).exists():
        day = store.today()
        Anomaly.objects.create(store=store, day=day, metric="gmv", value=1, baseline=2, band_low=1.5, band_high=2.5,
                               change=-0.5, score=-5, direction="down", explanation="GMV −50 %")
    anomaly = Anomaly.objects.filter(store=store).first()
    if not ActionItem.objects.filter(anomaly=anomaly).exists():
        ActionItem.objects.create(anomaly=anomaly, text="Check the ad plan")
    if not ImportJob.objects.filter(store=store).exists():  # a finished one: its file is gone, its errors kept
        ImportJob.objects.create(store=store, kind="orders", name="orders.csv", status=ImportJob.Status.FAILED,
                                 errors=[[2, "placed_at: is required"]], error_count=1)
    if not Activity.objects.filter(store=store, series__isnull=False).exists():
        start = store.today() + timedelta(days=14)
        create_series(Activity(store=store, name="Member day", kind="store_promotion", start_date=start,
                               end_date=start, details={"mechanism": "discount", "discount_percent": "10"}),
                      "weekly", start + timedelta(days=21))
    if not ProductTask.objects.filter(store=store).exists():
        ProductTask.objects.create(store=store, product=product, text="Check the size chart")
    if not ActivityTemplate.objects.filter(store=store).exists():
        own = ActivityTemplate.objects.create(store=store, name="Our weekend sale", kind="store_promotion")
        own.steps.create(position=1, title="Book the banner", days_before_start=3)
    if not SavedAnswer.objects.filter(store=store).exists():
        SavedAnswer.objects.create(store=store, title="Parcel on its way", body="Your parcel left us today.")


def first(model, **lookup):
    obj = model.objects.filter(**lookup).order_by("pk").first()
    assert obj is not None, f"the sweep's world has no {model.__name__} for {lookup}"
    return obj


def objects(store) -> dict:
    activity = first(Activity, store=store, checklist__isnull=False)
    plan = first(Plan, store=store, tasks__isnull=False)
    ad_plan = first(AdPlan, store=store, creatives__isnull=False)
    launch = first(LaunchPlan, store=store)
    anomaly = first(Anomaly, store=store, action_items__isnull=False)
    return {
        "store": store,
        "product": first(Product, store=store),
        "order": first(Order, store=store),
        "violation": first(Violation, store=store),
        "activity": activity,
        "series_occurrence": first(Activity, store=store, series__isnull=False),
        "checklist_item": first(ChecklistItem, activity=activity),
        "activity_template": first(ActivityTemplate, store=store),
        "plan": plan,
        "plan_task": first(PlanTask, plan=plan),
        "playbook": first(Playbook, store=store),
        "ad_plan": ad_plan,
        "creative": first(AdCreative, plan=ad_plan),
        "launch": launch,
        "launch_item": first(LaunchChecklistItem, launch=launch),
        "member": first(Member, store=store),
        "sms_template": first(SmsTemplate, store=store),
        "saved_answer": first(SavedAnswer, store=store),
        "anomaly": anomaly,
        "action_item": first(ActionItem, anomaly=anomaly),
        "review": first(Review, store=store),
        "case": first(ReviewCase, store=store),
        "product_task": first(ProductTask, store=store),
        "listing_version": listing_version_with_picture(store),
        "import_job": first(ImportJob, store=store),
    }


def listing_version_with_picture(store) -> ListingVersion:
    """A listing version whose main picture is an uploaded file, so its picture URL answers."""
    found = ListingVersion.objects.filter(product__store=store, main_image__startswith="listings/sweep/").first()
    if found:
        return found
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "teal").save(buffer, format="PNG")
    path = default_storage.save(f"listings/sweep/{store.pk}.png", ContentFile(buffer.getvalue()))
    return ListingVersion.objects.create(product=first(Product, store=store), title="Sweep", main_image=path,
                                         started_at=timezone.now() - timedelta(days=400))


def slug(o):
    return {"slug": o["store"].slug}


def pk(key: str) -> Callable[[dict], dict]:
    return lambda o: {"pk": o[key].pk}


def slug_pk(key: str) -> Callable[[dict], dict]:
    return lambda o: {"slug": o["store"].slug, "pk": o[key].pk}


# URL name -> kwargs addressing one store's object, from objects(store).
KWARGS: dict[str, Callable[[dict], dict]] = {
    "shopify-orders": slug,
    "stores:detail": slug,
    "stores:product": slug_pk("product"),
    "stores:orders": slug,
    "stores:order": slug_pk("order"),
    "stores:violations": slug,
    "stores:violation_status": slug_pk("violation"),
    "stores:import": slug,
    "stores:import_job": slug_pk("import_job"),
    "metrics:store_live": slug,
    "metrics:store_live_json": slug,
    "stores:listing_picture": lambda o: {"slug": o["store"].slug, "pk": o["listing_version"].product_id,
                                         "version_pk": o["listing_version"].pk},
    "stores:listing_thumbnail": lambda o: {"slug": o["store"].slug, "pk": o["listing_version"].product_id,
                                           "version_pk": o["listing_version"].pk},
    "metrics:anomaly": pk("anomaly"),
    "metrics:violation_entry": slug,
    "metrics:store_daily": slug,
    "metrics:peer_benchmarks": slug,
    "metrics:morning_email": slug,
    "campaigns:activity_detail": pk("activity"),
    "campaigns:activity_edit": pk("activity"),
    "campaigns:activity_save_template": pk("activity"),
    "campaigns:activity_template_edit": pk("activity_template"),
    "campaigns:activity_template_delete": pk("activity_template"),
    "campaigns:activity_status": pk("activity"),
    "campaigns:activity_move": pk("activity"),
    "campaigns:series_delete_future": pk("activity"),
    "campaigns:series_change": pk("series_occurrence"),
    "campaigns:activity_review": pk("activity"),
    "campaigns:checklist_new": pk("activity"),
    "campaigns:checklist_toggle": lambda o: {"pk": o["activity"].pk, "item_pk": o["checklist_item"].pk},
    "campaigns:checklist_remove": lambda o: {"pk": o["activity"].pk, "item_pk": o["checklist_item"].pk},
    "campaigns:lottery_draw": pk("activity"),
    "campaigns:plan_detail": pk("plan"),
    "campaigns:plan_task_toggle": lambda o: {"pk": o["plan"].pk, "task_pk": o["plan_task"].pk},
    "campaigns:playbook": lambda o: {"slug": o["playbook"].slug},
    "campaigns:ad_detail": pk("ad_plan"),
    "campaigns:ad_edit": pk("ad_plan"),
    "campaigns:ad_creative_new": pk("ad_plan"),
    "campaigns:ad_creative_edit": pk("creative"),
    "campaigns:ad_creative_image": pk("creative"),
    "campaigns:ad_creative_thumbnail": pk("creative"),
    "campaigns:ad_launch_detail": pk("launch"),
    "campaigns:ad_launch_edit": pk("launch"),
    "campaigns:ad_launch_check": lambda o: {"pk": o["launch"].pk, "item": o["launch_item"].pk},
    "members:detail": pk("member"),
    "members:opt_out": pk("member"),
    "members:conversation": pk("member"),
    "members:template_new": slug,
    "members:template_edit": slug_pk("sms_template"),
    "members:campaign": pk("sms_template"),
    "members:campaign_orders_csv": pk("sms_template"),
    "members:tiers": slug,
    "members:saved_answers": slug,
    "members:saved_answer_edit": slug_pk("saved_answer"),
    "members:saved_answer_delete": slug_pk("saved_answer"),
    "reviews:store": slug,
    "reviews:import": slug,
    "reviews:report": slug,
    "reviews:policy": slug,
    "reviews:cases_csv": slug,
    "reviews:case": slug_pk("case"),
    "reviews:review": slug_pk("review"),
    "reviews:review_list": slug,
    "reviews:open_missing_cases": slug,
    "reviews:product": slug_pk("product"),
    "reviews:task_done": slug_pk("product_task"),
}
# Routes whose "slug" is not a store's (so there is no store-A slug to smuggle B's object under).
NOT_STORE_SLUG = {"campaigns:playbook"}
