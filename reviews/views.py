"""Bad-review pages: the case lists, the case page (calls, findings, workflow, adjustments), the
product's review history, the upload page and the report. Every page is scoped to the user's stores."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from members.forms import AnswerForm
from members.models import InboundReply
from members.replies import offer_saved_answers
from opsdesk.http import redirect_to_next
from opsdesk.models import DataExport
from opsdesk.privacy import mask_phone
from opsdesk.spreadsheet import csv_writer
from opsdesk.tenancy import MANAGER, assignable_users, get_store, has_role, parse_pk, scope, stores_for
from stores import import_jobs

from . import reports, services
from .forms import (
    ContactForm,
    FindingsForm,
    ImportForm,
    ListingFixForm,
    PolicyForm,
    ProductTaskForm,
    TransitionForm,
)
from .models import OPEN_STATUSES, CaseStatus, IllegalTransition, ProductTask, Review, ReviewCase, ReviewPolicy

# A page at a time: an Olist import opens hundreds of cases, and a list cut off at a fixed length hid the least
# urgent of them (the desk counted 888, the list showed 300 and no way to the rest).
CASES_PER_PAGE = 100
# The store page shows the latest reviews; the review list pages through all of them.
LATEST_REVIEWS = 30
REVIEWS_PER_PAGE = 100


def _case_page(request, cases):
    return Paginator(services.by_urgency(cases), CASES_PER_PAGE).get_page(request.GET.get("page"))


# The lists' "Assigned" filter: its values and the words of the list's count ("3 open cases assigned to you").
ASSIGNED_FILTERS = {"me": "assigned to you", "none": "unassigned"}


def _assigned(request, cases):
    """The cases of the list's "Assigned" filter (?assigned=me or none; anything else: everyone's)."""
    wanted = request.GET.get("assigned", "")
    cases = cases.select_related("assigned_to")  # the lists name each case's owner
    if wanted == "me":
        return cases.filter(assigned_to=request.user), wanted
    if wanted == "none":
        return cases.filter(assigned_to__isnull=True), wanted
    return cases, ""


def index(request):
    """Open cases of all the user's stores, overdue first, a page at a time."""
    now = timezone.now()
    cases, assigned = _assigned(request, scope(
        ReviewCase.objects.select_related("store", "review", "review__product"), request.user
    ).filter(status__in=OPEN_STATUSES))
    page = _case_page(request, cases)
    # Each due time is shown in its own store's zone; name each zone on the page once.
    zones = sorted({(c.store.name, c.store.timezone) for c in page.object_list})
    return render(request, "reviews/index.html", {
        "cases": page.object_list, "page": page, "listed": "open case", "stores": stores_for(request.user),
        "now": now, "zones": zones, "assigned": assigned, "assigned_words": ASSIGNED_FILTERS.get(assigned, ""),
    })


def store_cases(request, slug):
    store = get_store(request.user, slug)
    now = timezone.now()
    status = request.GET.get("status", "open")
    cases = ReviewCase.objects.filter(store=store).select_related("store", "review", "review__product")
    listed = "case"
    if request.GET.get("overdue"):
        cases, listed = services.overdue_cases(store, now), "overdue case"
    elif status == "open":
        cases, listed = cases.filter(status__in=OPEN_STATUSES), "open case"
    elif status in CaseStatus.values:
        cases, listed = cases.filter(status=status), f"{CaseStatus(status).label.lower()} case"
    cases, assigned = _assigned(request, cases)
    page = _case_page(request, cases)  # overdue ones are all waiting for a call: by urgency is by due time
    recent = store.reviews.select_related("product", "case__store").order_by("-created_at")[:LATEST_REVIEWS]
    return render(
        request,
        "reviews/store.html",
        {
            "store": store,
            "cases": page.object_list,
            "page": page,
            "listed": listed,
            "status": status,
            "statuses": CaseStatus.choices,
            "overdue": bool(request.GET.get("overdue")),
            "assigned": assigned,
            "assigned_words": ASSIGNED_FILTERS.get(assigned, ""),
            "recent": recent,
            "now": now,
            "overdue_count": services.overdue_cases(store, now).count(),
            "review_count": store.reviews.count(),
            "without_case": services.bad_without_case(store).count(),
            "first_contact_hours": ReviewPolicy.for_store(store).first_contact_hours,
        },
    )


@require_POST
def open_missing_cases(request, slug):
    """Open the cases of the store's bad reviews that have none, optionally only those written since a day."""
    store = get_store(request.user, slug)
    raw = request.POST.get("since", "").strip()
    try:
        since = date.fromisoformat(raw) if raw else None
        opened = services.open_missing_cases(store, since)
    except (ValueError, OverflowError):  # no date, or a day so near year 1 it falls off the calendar in UTC
        messages.error(request, f"“{raw}” is not a day (YYYY-MM-DD); no case was opened.")
        return redirect("reviews:store", slug)
    (messages.success if opened else messages.info)(request, services.opened_sentence(opened, since))
    return redirect("reviews:store", slug)


def review_list(request, slug):
    """All the store's reviews, newest first, a page at a time (the store page shows only the latest)."""
    store = get_store(request.user, slug)
    reviews = store.reviews.select_related("product", "case__store").order_by("-created_at", "-pk")
    page = Paginator(reviews, REVIEWS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "reviews/review_list.html", {"store": store, "reviews": page.object_list, "page": page})


def _case_context(request, store, case, **forms):
    is_manager = has_role(request.user, store, MANAGER)
    phone = case.phone
    users = assignable_users([store])
    contacts, replies_left_out = services.contact_log(case)
    # Their Text back forms offer the store's saved answers, an {order} filled with the case's order.
    offer_saved_answers((reply for contact in contacts for reply in contact.replies), order=services.order_name(case))
    context = {
        "store": store,
        "case": case,
        "review": case.review,
        "now": timezone.now(),
        # Operators must be able to call, so the tel: link carries the number; the text shows it
        # whole to managers only (see docs/reviews.md).
        "phone": phone,
        "phone_shown": phone if is_manager else mask_phone(phone),
        "events": case.events.select_related("by"),
        "contacts": contacts,
        "replies_left_out": replies_left_out,
        "care": services.care_text(case),
        "tasks": case.tasks.select_related("owner"),
        "transition_form": TransitionForm(),
        "contact_form": ContactForm(),
        "findings_form": FindingsForm(initial={f: getattr(case, f) for f in FindingsForm.base_fields},
                                      read_only=case.status == CaseStatus.CLOSED),
        "listing_form": ListingFixForm(
            initial={"title": (case.product.current_listing() or case.product).title} if case.product else None
        ),
        "task_form": ProductTaskForm(owners=users, store=store),
        "assignees": users,
        "next_statuses": [(s, CaseStatus(s).label) for s in case.allowed_next()],
    }
    context.update(forms)
    return context


def case_detail(request, slug, pk):
    store = get_store(request.user, slug)
    case = get_object_or_404(
        ReviewCase.objects.select_related("review__product", "review__order", "review__member", "listing_version"),
        store=store,
        pk=pk,
    )
    if request.method != "POST":
        return render(request, "reviews/case.html", _case_context(request, store, case))
    action = request.POST.get("action", "")
    handler = CASE_ACTIONS.get(action)
    if handler is None:
        known = ", ".join(CASE_ACTIONS)
        return _refused(
            request,
            store,
            case,
            f"“{action}” is not something the case page does (it does: {known})."
            if action
            else f"The form said nothing to do (action: one of {known}).",
        )
    try:
        with transaction.atomic():
            bad_form = handler(request, store, case)
    except IllegalTransition as exc:
        return _refused(request, store, case, " ".join(exc.messages))
    except ValueError as exc:
        return _refused(request, store, case, str(exc))
    if bad_form:
        case.refresh_from_db()
        return render(request, "reviews/case.html", _case_context(request, store, case, **bad_form), status=400)
    return redirect(case)


def _refused(request, store, case, reason: str):
    """The case page again, answering 400, with why the request was refused and that nothing changed."""
    messages.error(request, f"Refused: {reason} Nothing was changed.")
    case.refresh_from_db()
    return render(request, "reviews/case.html", _case_context(request, store, case), status=400)


def _transition(request, store, case):
    form = TransitionForm(request.POST)
    if not form.is_valid():
        return {"transition_form": form}
    case.transition(form.cleaned_data["to_status"], request.user, note=form.cleaned_data["note"])
    messages.success(request, f"Case moved to {case.get_status_display()}.")
    return None


def _contact(request, store, case):
    form = ContactForm(request.POST)
    if not form.is_valid():
        return {"contact_form": form}
    try:
        services.log_contact(case, request.user, form.cleaned_data["outcome"], form.cleaned_data["notes"])
    except ValidationError as exc:
        form.add_error(None, exc)
        return {"contact_form": form}
    messages.success(request, "Call logged.")
    return None


def _text(request, store, case):
    """Text the customer the store's bad-review text (once per `attempt`, the number the page's form carries)."""
    attempt = parse_pk(request.POST.get("attempt", ""))
    if attempt is None:
        raise ValueError("The form did not say which text of the case this is; reload the page.")
    contact, created = services.text_customer(case, request.user, attempt)
    _say_queued(request, "Text", contact.message, created)
    return None


def _say_queued(request, what: str, text, created: bool) -> None:
    """Tell the operator when their text goes (now, or 09:00 the customer's time), or that it already went."""
    if not created:
        messages.info(request, f"That {what.lower()} was already sent; nothing more was sent.")
    elif text.scheduled_for > timezone.now():
        messages.success(request, f"{what} queued: {text.when_it_goes(timezone.now())}.")
    else:
        messages.success(request, f"{what} queued: it goes out now. Its delivery shows in the contact log.")


def _answer(request, store, case):
    """Text the customer back under one of their replies (once per `attempt`, the number the reply's form carries).
    Another store's reply is 404, as on the members' texts page."""
    pk = parse_pk(request.POST.get("reply", ""))
    reply = get_object_or_404(InboundReply.objects.select_related("member__store"), store=store, pk=pk or 0)
    attempt = parse_pk(request.POST.get("attempt", ""))
    if attempt is None:
        raise ValueError("The form did not say which answer to the reply this is; reload the page.")
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return {"answer_form": form, "answer_reply": reply.pk}
    contact, created = services.answer_reply(case, reply, request.user, form.cleaned_data["body"], attempt)
    _say_queued(request, "Answer", contact.message, created)
    return None


def _findings(request, store, case):
    form = FindingsForm(request.POST)
    if not form.is_valid():
        return {"findings_form": form}
    try:
        services.save_findings(case, form.cleaned_data)
    except IllegalTransition:
        raise  # a ValidationError too, but a refusal of the whole request (case_detail answers it), not a form error
    except ValidationError as exc:
        form.add_error(None, exc)
        return {"findings_form": form}
    messages.success(request, "Findings saved.")
    return None


def _listing_fix(request, store, case):
    form = ListingFixForm(request.POST)
    if not form.is_valid():
        return {"listing_form": form}
    version = services.create_listing_fix(case, request.user, **form.cleaned_data)
    live = timezone.localtime(version.started_at, store.zone)
    messages.success(request, f"New listing version live from {live:%Y-%m-%d %H:%M}.")
    return None


def _task(request, store, case):
    users = assignable_users([store])
    form = ProductTaskForm(request.POST, owners=users, store=store)
    if not form.is_valid():
        return {"task_form": form}
    if case.product is None:
        raise ValueError("This review is not linked to a product, so a product task cannot be made.")
    services.create_product_task(case, case.product, **form.cleaned_data)
    messages.success(request, "Product task created.")
    return None


def _assign(request, store, case):
    """Give the case to a member of the store (the select), or to the user ("Take this case"), or to nobody."""
    raw = request.POST.get("assignee", "").strip()
    assignee_id = parse_pk(raw) if raw else None
    if raw and assignee_id is None:
        raise ValueError(f"“{raw}” is not a user of this store.")
    if services.assign_case(case, request.user, assignee_id) is None:
        messages.info(request, "The case already was " + (f"assigned to {case.assigned_to}." if case.assigned_to
                                                          else "unassigned."))
    else:
        messages.success(request, f"Case assigned to {case.assigned_to}." if case.assigned_to else "Case unassigned.")
    return None


CASE_ACTIONS = {
    "transition": _transition,
    "contact": _contact,
    "text": _text,
    "answer": _answer,
    "findings": _findings,
    "listing_fix": _listing_fix,
    "task": _task,
    "assign": _assign,
}


def review_detail(request, slug, pk):
    store = get_store(request.user, slug)
    review = get_object_or_404(Review.objects.select_related("product", "order"), store=store, pk=pk)
    case = ReviewCase.objects.filter(review=review).first()
    # A bad review may have no case: imported without opening cases, or before the rules named its word.
    bad_reason = services.case_reason(review) if case is None else None
    return render(request, "reviews/review.html",
                  {"store": store, "review": review, "case": case, "bad_reason": bad_reason})


def product_reviews(request, slug, pk):
    """A product's reviews, with average rating and bad-review rate before and after each listing change."""
    store = get_store(request.user, slug)
    product = get_object_or_404(store.products, pk=pk)
    reviews = product.reviews.select_related("store", "case__store").order_by("-created_at")
    return render(
        request,
        "reviews/product.html",
        {
            "store": store,
            "product": product,
            "summary": reports.product_summary(store, product.reviews.all()),
            "periods": reports.rating_periods(product),
            "reviews": reviews[:100],
            "tasks": product.review_tasks.select_related("owner", "case__store"),
        },
    )


@require_POST
def task_done(request, slug, pk):
    store = get_store(request.user, slug)
    task = get_object_or_404(ProductTask, store=store, pk=pk)
    services.complete_task(task)
    messages.success(request, "Task done.")
    return redirect_to_next(request, "reviews:product", slug, task.product_id)


def upload(request, slug):
    """Upload a review file into the store. The file is stored and imported by a worker (`stores.import_jobs`, kind
    "reviews"): the page answers at once with the job's status page, which shows the summary (and the rows whose
    order or product matched nothing), or every bad row (nothing is imported unless every row is good). A file too
    large is refused here, before it is stored."""
    store = get_store(request.user, slug)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        file = form.cleaned_data["file"]
        if refused := import_jobs.refusal("reviews", file):
            form.add_error("file", refused)
        else:
            job = import_jobs.start(store, request.user, "reviews", file, options={
                "format": form.cleaned_data["format"] or None, "open_cases": form.cleaned_data["open_cases"]})
            return redirect(job)
    jobs = store.import_jobs.filter(kind="reviews").select_related("created_by")[:10]
    return render(request, "reviews/import.html", {"store": store, "form": form, "jobs": jobs},
                  status=400 if request.method == "POST" else 200)


def policy(request, slug):
    """The store's first-call SLA and the words that make a 3-star review bad: everyone of the store reads them
    (an operator calls by them), its managers change them."""
    store = get_store(request.user, slug, role=MANAGER if request.method == "POST" else None)
    current = ReviewPolicy.for_store(store)
    uses_default = not current.negative_words.strip()
    if uses_default:
        current.negative_words = "\n".join(current.word_list())  # shown to edit; saved unchanged it stays blank
    form = PolicyForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Saved. New cases use these rules; open cases keep their due time.")
        return redirect("reviews:policy", slug)
    return render(request, "reviews/policy.html", {"store": store, "form": form, "uses_default": uses_default,
                                                   "may_change": has_role(request.user, store, MANAGER)})


def _window(request, store) -> tuple[date, date, datetime, datetime]:
    """The report's first and last store-local day (default the last 12 weeks) and their UTC bounds. A date
    that is no date, or so near year 1 or 9999 that its day falls off the calendar in UTC, gives the default."""
    today = store.today()
    try:
        end = date.fromisoformat(request.GET["end"]) if request.GET.get("end") else today
        start = date.fromisoformat(request.GET["start"]) if request.GET.get("start") else end - timedelta(weeks=12)
        start, end = min(start, end), max(start, end)
        return start, end, store.day_bounds(start)[0], store.day_bounds(end)[1]
    except (ValueError, OverflowError):
        start = today - timedelta(weeks=12)
        return start, today, store.day_bounds(start)[0], store.day_bounds(today)[1]


def report(request, slug):
    store = get_store(request.user, slug)
    start, end, lo, hi = _window(request, store)
    data = reports.build_report(store, lo, hi)
    return render(
        request,
        "reviews/report.html",
        {
            "store": store,
            "start": start,
            "end": end,
            "report": data,
            "figures": reports.report_figures(data),
        },
    )


CSV_FIELDS = [
    "case_id",
    "review_id",
    "rating",
    "product_sku",
    "product",
    "status",
    "reason",
    "opened_at",
    "first_contact_due_at",
    "first_contact_at",
    "hours_to_first_contact",
    "root_cause",
    "check_finding",
    "resolution",
    "customer_updated_review",
    "updated_rating",
    "resolved_at",
    "closed_at",
]


def cases_csv(request, slug):
    """Every case of reviews written in the report's window (no phone numbers). Imported text (review ids,
    SKUs, product titles) is written so a spreadsheet shows it and never runs it as a formula."""
    store = get_store(request.user, slug)
    start, end, lo, hi = _window(request, store)
    cases = (
        ReviewCase.objects.filter(store=store)
        .filter(Q(review__created_at__gte=lo, review__created_at__lt=hi))
        .select_related("review", "review__product")
        .order_by("opened_at", "pk")
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{store.slug}-review-cases-{start}-{end}.csv"'
    writer = csv_writer(response)
    writer.writerow(CSV_FIELDS)
    for c in cases:
        product = c.review.product
        wait = (c.first_contact_at - c.opened_at).total_seconds() / 3600 if c.first_contact_at else None
        writer.writerow(
            [
                c.pk,
                c.review.external_id,
                c.review.rating,
                product.sku if product else "",
                product.title if product else "",
                c.status,
                c.reason,
                c.opened_at.isoformat(),
                c.first_contact_due_at.isoformat(),
                c.first_contact_at.isoformat() if c.first_contact_at else "",
                Decimal(f"{wait:.2f}") if wait is not None else "",
                c.root_cause,
                c.check_finding,
                c.resolution,
                "yes" if c.customer_updated_review else "no",
                c.updated_rating or "",
                c.resolved_at.isoformat() if c.resolved_at else "",
                c.closed_at.isoformat() if c.closed_at else "",
            ]
        )
    # Sent whole once the view returns, so recorded here; len() reads the queryset's cache, no second query.
    DataExport.record(request.user, DataExport.Kind.REVIEW_CASES, [store],
                      {"store": store.slug, "start": start.isoformat(), "end": end.isoformat()},
                      rows=len(cases), whole_phones=False)
    return response
