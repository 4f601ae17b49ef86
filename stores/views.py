"""Store pages: overview, products, orders, violations, and the user's own store settings."""

import mimetypes

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from opsdesk.http import redirect_to_next
from opsdesk.images import thumbnail_path
from opsdesk.localtime import hours_words
from opsdesk.privacy import mask_phone
from opsdesk.tenancy import MANAGER, get_store, has_role, stores_for

from . import import_jobs, listing, shipping
from .back_links import back_from_order
from .forms import ImportForm, ListingVersionForm, MembershipSettingsForm
from .importers import IMPORTERS
from .models import ImportJob, ListingVersion, Order, StoreMembership, Violation, ViolationStatus

# What each email a signed "stop these emails" link can turn off is called on its broken-link page.
OPT_OUT_EMAILS = {"morning_email": "morning email", "ad_alert_email": "ad pacing alert emails"}


def store_list(request):
    return render(request, "stores/store_list.html", {"stores": stores_for(request.user)})


def store_detail(request, slug):
    store = get_store(request.user, slug)
    context = {
        "store": store,
        "products": store.products.all()[:50],
        "orders": store.orders.all()[:20],
        "open_violations": store.violations.open()[:20],
    }
    return render(request, "stores/store_detail.html", context)


def product_detail(request, slug, pk):
    """The product with its listing versions, how each performed, and a form for a new version."""
    store = get_store(request.user, slug)
    product = get_object_or_404(store.products, pk=pk)
    if request.method == "POST":
        form = ListingVersionForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                listing.create_version(
                    product,
                    title=data["title"],
                    detail_page=data["detail_page"],
                    note=data["note"],
                    picture=data["main_picture"],
                    user=request.user,
                )
            except listing.NothingChanged as exc:
                messages.info(request, str(exc))
            else:
                messages.success(request, "New listing version is live; its numbers start now.")
            return redirect(product.get_absolute_url())
    else:
        current = product.current_listing()
        form = ListingVersionForm(
            initial={"title": product.title, "detail_page": current.detail_page if current else product.detail_url}
        )
    return render(
        request,
        "stores/product_detail.html",
        {
            "store": store,
            "product": product,
            "report": listing.report(product),
            "form": form,
        },
    )


def listing_picture(request, slug, pk, version_pk):
    """A version's uploaded main picture, served only to members of the product's store."""
    return _serve_listing_picture(request, slug, pk, version_pk, thumbnail=False)


def listing_thumbnail(request, slug, pk, version_pk):
    """The picture's thumbnail (at most 480 px a side) for the versions table; a picture stored before
    thumbnails were made has none, and is served whole instead."""
    return _serve_listing_picture(request, slug, pk, version_pk, thumbnail=True)


def _serve_listing_picture(request, slug, pk, version_pk, *, thumbnail: bool):
    store = get_store(request.user, slug)
    version = get_object_or_404(ListingVersion, product__store=store, product_id=pk, pk=version_pk)
    path = version.main_image
    try:
        if not path or "://" in path or not default_storage.exists(path):
            raise Http404("No uploaded picture.")
        if thumbnail and default_storage.exists(thumbnail_path(path)):
            path = thumbnail_path(path)
    except SuspiciousFileOperation as exc:
        raise Http404("No uploaded picture.") from exc
    content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    response = FileResponse(default_storage.open(path, "rb"), content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response


ORDERS_PER_PAGE = 100


def order_list(request, slug):
    """A store's orders, newest placed first, a page at a time; `?shipping=waiting`: those waiting to ship that
    are past the store's shipping promise (late, the longest late first) or due within `shipping.DUE_SOON`."""
    store = get_store(request.user, slug)
    waiting = request.GET.get("shipping") == "waiting"
    orders = shipping.waiting_to_ship(store) if waiting else store.orders.order_by("-placed_at", "-pk")
    page = Paginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    if waiting:
        page.object_list = shipping.with_deadlines(page.object_list, store)
    return render(request, "stores/order_list.html", {
        "store": store, "page": page, "orders": page.object_list, "waiting": waiting,
        "due_soon": hours_words(shipping.DUE_SOON), "lookback_days": shipping.LOOKBACK.days})


def order_detail(request, slug, pk):
    store = get_store(request.user, slug)
    order = get_object_or_404(Order.objects.prefetch_related("lines", "payments"), store=store, pk=pk)
    phone = order.buyer_phone if has_role(request.user, store, MANAGER) else mask_phone(order.buyer_phone)
    back, back_label = back_from_order(request, order) or (None, "")  # None: back to the store
    return render(request, "stores/order_detail.html", {"store": store, "order": order, "phone": phone,
                                                        "back": back, "back_label": back_label})


VIOLATIONS_PER_PAGE = 100


def violation_list(request, slug):
    """A store's penalty records, newest first, a page at a time, optionally only those of one status."""
    store = get_store(request.user, slug)
    violations = (
        Violation.objects.filter(store=store).select_related("status_changed_by").order_by("-occurred_at", "-pk")
    )  # pk: pages never overlap
    status = request.GET.get("status")
    if status in ViolationStatus.values:
        violations = violations.filter(status=status)
    else:
        status = ""
    page = Paginator(violations, VIOLATIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "stores/violation_list.html",
        {
            "store": store,
            "page": page,
            "violations": page.object_list,
            "status": status,
            "statuses": ViolationStatus.choices,
        },
    )


@require_POST
def violation_status(request, slug, pk):
    """Mark one of the store's penalties open, appealed or resolved: any member of the store may, as any member
    may record one. Another store's record is a 404."""
    store = get_store(request.user, slug)
    violation = get_object_or_404(store.violations, pk=pk)
    status = request.POST.get("status", "")
    if status not in ViolationStatus.values:
        messages.error(
            request,
            f"Choose one of {', '.join(ViolationStatus.values)}; {violation.external_id} is still {violation.status}.",
        )
    elif violation.set_status(status, by=request.user):
        messages.success(request, f"{violation.external_id} ({violation.kind}) is now {status}.")
    else:
        messages.info(request, f"{violation.external_id} was already {status}.")
    return redirect_to_next(request, "stores:violations", slug=store.slug)


def my_settings(request):
    """Each membership's own settings: the morning email's time zone and opt-out."""
    memberships = StoreMembership.objects.filter(user=request.user).select_related("store", "user")
    several = len(memberships) > 1
    bound = None
    if request.method == "POST":
        chosen = request.POST.get("membership", "")
        # A tampered or stale form may name no membership at all: that is a 404 like another user's, not a 500.
        membership = get_object_or_404(memberships, pk=int(chosen) if chosen.isdecimal() else None)
        bound = MembershipSettingsForm(request.POST, instance=membership, prefix=str(membership.pk), several=several)
        if bound.is_valid():
            bound.save()
            everywhere = ""
            if bound.cleaned_data.get("all_stores"):
                everywhere = (
                    f" All your stores' emails now arrive at 08:00 {membership.email_timezone}."
                    if membership.email_timezone
                    else " Each of your stores' emails now arrives at 08:00 in that store's own zone."
                )
            messages.success(request, f"Saved your settings for {membership.store}.{everywhere}")
            return redirect("stores:my_settings")
    forms = [
        (
            m,
            bound
            if bound is not None and bound.instance.pk == m.pk
            else MembershipSettingsForm(instance=m, prefix=str(m.pk), several=several),
        )
        for m in memberships
    ]
    return render(request, "stores/my_settings.html", {"forms": forms})


def import_csv(request, slug):
    """Upload a CSV (orders: opsdesk's columns or Shopify's export) into one of the user's stores. The file is
    stored and imported by a worker (`stores.import_jobs`): the page answers at once with the job's status
    page. A file too large for its kind is refused here, before it is stored."""
    store = get_store(request.user, slug)
    # The store's own kinds, orders first: ad reports and review files have their own upload pages, which ask
    # for their format (and a review file whether to open cases).
    form = ImportForm(request.POST or None, request.FILES or None, kinds=list(IMPORTERS))
    errors, status = [], 200
    if request.method == "POST" and form.is_valid():
        kind, upload = form.cleaned_data["kind"], form.cleaned_data["file"]
        if refused := import_jobs.refusal(kind, upload):
            errors, status = [(1, refused)], 400
        else:
            job = import_jobs.start(store, request.user, kind, upload, options=form.options())
            return redirect(job)
    return render(
        request,
        "stores/import.html",
        {
            "store": store,
            "form": form,
            "errors": errors,
            "error_count": len(errors),
            "jobs": store.import_jobs.select_related("created_by")[:10],
        },
        status=status,
    )


def import_job(request, slug, pk):
    """An upload's import: waiting, running with its progress (the page reloads itself), done with its summary,
    or failed with every bad row (the first IMPORT_ERRORS_SHOWN) or the reason. A job the store does not have
    (pruned IMPORT_JOB_RETENTION_DAYS after it finished, or never its) is a 404 that says so."""
    store = get_store(request.user, slug)
    job = ImportJob.objects.select_related("created_by", "store").filter(store=store, pk=pk).first()
    if job is None:
        return render(request, "stores/import_job_gone.html",
                      {"store": store, "days": settings.IMPORT_JOB_RETENTION_DAYS}, status=404)
    return render(request, "stores/import_job.html", {
        "store": store, "job": job, "progress": import_jobs.progress(job),
        "errors": job.errors[: settings.IMPORT_ERRORS_SHOWN], "error_count": job.error_count})


def opt_out_link_broken(request, email: str):
    """The one answer of every email's "stop these emails" link that is broken (cut by a mail app, changed) or old
    (another email's, or its membership gone): a 400 that changes nothing and says how to opt out from the desk."""
    return render(request, "stores/opt_out_link_broken.html",
                  {"email": OPT_OUT_EMAILS[email], "setting": MembershipSettingsForm.Meta.labels[email]}, status=400)
