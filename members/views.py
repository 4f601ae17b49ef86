"""Member pages: the member list (phones masked for operators), a member's orders and texts, the
texts sent, SMS templates with a length preview, and a campaign's dry run before it starts."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Value, When
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST, require_safe

from opsdesk.models import DataExport
from opsdesk.tenancy import MANAGER, get_scoped_object, get_store, has_role, parse_pk, scope, stores_for

from . import compliance, flows
from .conversation import answer_bodies_seen, thread
from .exports import members_csv, redeeming_orders_csv
from .forms import AnswerForm, SavedAnswerForm, SmsTemplateForm, TierRuleForm
from .member_list import member_list
from .models import (
    ANSWER,
    NEEDS_ANSWER,
    Coupon,
    Flow,
    InboundReply,
    Member,
    Message,
    MessageStatus,
    SavedAnswer,
    Segment,
    SmsTemplate,
    Tier,
    TierRule,
    describe_occasion,
)
from .replies import Refused, offer_saved_answers, preview_saved_answers, text_back
from .sending import opt_out_number
from .services import change_tier_rule
from .texts import LONG_ORDER, PLACEHOLDERS, TemplateError, preview


def index(request):
    """The member list: the user's members the filters keep, 100 a page, and a link to all of them as CSV."""
    listed = member_list(request.user, request.GET)
    counts = dict(listed.members.order_by().values_list("segment").annotate(n=Count("pk")))
    page = Paginator(listed.members.select_related("store"), 100).get_page(request.GET.get("page"))
    rows = [(m, listed.phone(m)) for m in page]
    return render(request, "members/index.html", {
        "manages": bool(listed.managed),
        "rows": rows, "page": page, "stores": stores_for(request.user), "tiers": Tier.choices,
        "segments": [(value, label, counts.get(value, 0)) for value, label in Segment.choices],
        "filters": listed.filters, "by_store": listed.by_store,
        "csv_query": urlencode({name: value for name, value in listed.filters.items() if value}),
    })


@require_safe
def index_csv(request):
    """The member list as the filters in force keep it, every page, as CSV, streamed; a store the user is not in
    is a 404 (no file naming it)."""
    listed = member_list(request.user, request.GET)
    store = listed.shown.first() if listed.filters["store"] else None
    if listed.filters["store"] and store is None:
        raise Http404("No such store.")
    name = f"members-{store.slug}-{store.today()}" if store else f"members-all-stores-{timezone.localdate()}"
    # Counted before the file streams (one COUNT on the list's indexes): a download cut short is still recorded.
    DataExport.record(request.user, DataExport.Kind.MEMBERS, listed.shown, listed.filters,
                      rows=listed.members.count(), whole_phones=listed.whole_phones)
    response = StreamingHttpResponse(members_csv(listed), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


def detail(request, pk):
    member = get_scoped_object(Member.objects.select_related("store"), request.user, pk=pk)
    phone = member.phone if has_role(request.user, member.store, MANAGER) else member.masked_phone
    links = member.member_orders.select_related("order__store").order_by("-order__paid_at")[:100]
    orders = [link.order for link in links]
    coupons = list(member.coupons.select_related("redeemed_order")[:50])
    campaigns = dict(SmsTemplate.objects.filter(store=member.store, flow=Flow.CAMPAIGN).values_list("pk", "name"))
    for coupon in coupons:
        campaign = parse_pk(coupon.occasion.partition(":")[2].partition(":")[0])
        coupon.occasion_label = describe_occasion(coupon.occasion, campaigns.get(campaign, ""))
    texts = list(member.messages.select_related("template")[:100])
    if any(text.flow == ANSWER for text in texts):
        answer_bodies_seen(texts, set(stores_for(request.user).values_list("pk", flat=True)))
    return render(request, "members/detail.html", {
        "member": member, "phone": phone, "orders": orders, "texts": texts,
        "coupons": coupons, "replies": member.replies.select_related("answered_by")[:100],
    })


@require_POST
def opt_out(request, pk):
    """The customer asked us (a call, an email) to stop texting them; recorded with who took the request."""
    member = get_scoped_object(Member.objects.select_related("store"), request.user, pk=pk)
    # The count includes the number's memberships in stores this user may not see: not said.
    if opt_out_number(member.pk, timezone.now(), by=request.user):
        messages.success(request, f"{member} is opted out: no more texts, including those already queued. "
                                  "Only a START reply undoes it.")
    else:
        messages.info(request, f"{member} was already opted out.")
    return redirect(member)


def conversation(request, pk):
    """Everything between us and this member's number, in time order: texts from every store of the user
    that knows the number and the customer's replies. Nothing of a store the user cannot see is shown.

    POST text_back=<reply id>, attempt, body: text the customer back under that reply (`_text_back`)."""
    member = get_scoped_object(Member.objects.select_related("store"), request.user, pk=pk)
    memberships = list(scope(Member.objects.filter(phone=member.phone).select_related("store"), request.user)
                       .order_by("store__name"))
    ids, store_ids = [m.pk for m in memberships], [m.store_id for m in memberships]
    replies = InboundReply.objects.filter(member__in=ids, store__in=store_ids)
    refused = {}
    if request.method == "POST":
        refused = _text_back(request, replies)
        if refused is None:
            return redirect("members:conversation", member.pk)
    shown = thread(Message.objects.filter(member__in=ids, store__in=store_ids), replies.with_next_text_back())
    offer_saved_answers(copy for entry in shown.entries if entry.is_reply for copy in entry.copies)
    # Whole for a manager of a store holding the number (they see it whole on that member page), else masked.
    managed = set(stores_for(request.user, MANAGER).values_list("pk", flat=True))
    whole = any(m.store_id in managed for m in memberships)
    return render(request, "members/conversation.html", {
        "member": member, "memberships": memberships, "thread": shown,
        "phone": member.phone if whole else member.masked_phone, **refused,
    }, status=400 if refused else 200)


def _text_back(request, replies) -> dict | None:
    """The operator's text back to one of `replies` (already scoped: another store's is 404): None when it was
    queued (or already was: a double POST), else the page's context saying why nothing was sent: the form with
    its error (empty, longer than one SMS) or a refusal (opted out, a stale form)."""
    pk = parse_pk(request.POST.get("text_back"))
    reply = replies.filter(pk=pk).first() if pk else None
    if reply is None:
        raise Http404("No such reply.")
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return {"answer_form": form, "answer_reply": reply.pk}
    try:
        text, created = text_back(reply, request.user, form.cleaned_data["body"],
                                  parse_pk(request.POST.get("attempt")) or 0)
    except Refused as exc:
        messages.error(request, f"Refused: {exc} Nothing was sent.")
        return {"answer_reply": reply.pk}
    if created:
        messages.success(request, f"Text back queued: {text.when_it_goes(timezone.now())}. Its delivery shows in "
                                  "the conversation.")
    else:
        messages.info(request, "That text back was already sent; nothing more was sent.")
    return None


# The desk's "failed or undelivered" count links here with both statuses.
PROBLEMS = f"{MessageStatus.FAILED},{MessageStatus.UNDELIVERED}"
# Its "waiting" count links here: queued texts not due yet (a queued text already due is being sent).
WAITING = "waiting"


def _waiting_first(replies):
    waiting = Case(When(kind__in=NEEDS_ANSWER, answered_at__isnull=True, then=Value(0)), default=Value(1),
                   output_field=IntegerField())
    return replies.order_by(waiting, "-received_at")


def texts(request):
    """Members' replies (those waiting for an answer first) and every text, scoped to the user's stores.

    POST answered=<reply id> marks a reply answered (then back to the member page with back=member);
    POST text_back=<reply id>, attempt, body texts the customer back under it (`_text_back`)."""
    replies = scope(InboundReply.objects.select_related("member", "store", "answered_by"), request.user)
    refused = {}
    if request.method == "POST" and "text_back" in request.POST:
        refused = _text_back(request, replies)
        if refused is None:
            return redirect(request.get_full_path())  # the same filter (?store=…)
    elif request.method == "POST":
        pk = parse_pk(request.POST.get("answered"))
        reply = replies.filter(pk=pk).first() if pk else None  # `replies` is already scoped
        if reply is None:
            raise Http404("No such reply.")
        replies.filter(pk=reply.pk, answered_at__isnull=True).update(answered_at=timezone.now(),
                                                                     answered_by=request.user)
        messages.success(request, f"Marked the reply from {reply.member} answered.")
        back = request.POST.get("back")
        if back == "conversation":
            return redirect("members:conversation", reply.member_id)
        return redirect(reply.member if back == "member" else "members:texts")
    rows = scope(Message.objects.select_related("member", "store", "template"), request.user)
    # ?store=<slug>: one store's texts and replies (the desk's items are per store).
    stores = stores_for(request.user)
    store_slug = request.GET.get("store", "")
    if store_slug:
        rows, replies = rows.filter(store__slug=store_slug), replies.filter(store__slug=store_slug)
    status = request.GET.get("status", "")
    wanted = [s for s in status.split(",") if s in MessageStatus.values]
    if status == WAITING:
        rows = rows.waiting()
    elif wanted:
        rows = rows.filter(status__in=wanted)
    page = Paginator(rows.order_by("-created_at"), 100).get_page(request.GET.get("page"))
    # Each row is shown in its own store's zone; name each zone on the page once.
    zones = sorted({(t.store.name, t.store.timezone) for t in page})
    return render(request, "members/texts.html", {
        "page": page, "status": status, "zones": zones, "stores": stores, "store_slug": store_slug,
        "statuses": [*MessageStatus.choices, (PROBLEMS, "Failed or undelivered"),
                     (WAITING, "Waiting for 09:00 (quiet hours) or a retry")],
        "replies": offer_saved_answers(_waiting_first(replies.with_next_text_back())[:50]),
        "replies_waiting": replies.awaiting_answer().count(), **refused}, status=400 if refused else 200)


def templates(request):
    """Every template of the user's stores; editing and creating them is for the stores they manage."""
    rows = scope(SmsTemplate.objects.select_related("store"), request.user)
    managed = stores_for(request.user, MANAGER)
    return render(request, "members/templates.html", {
        "rows": rows, "managed": managed, "managed_ids": {s.pk for s in managed}})


def template_edit(request, slug, pk=None):
    """Create or edit a template; 'Preview' (and the page's script, as one types) shows the text with sample
    values and its SMS length. The preview needs only the text: a new template shows it before it has a name."""
    store = get_store(request.user, slug, role=MANAGER)
    template = get_object_or_404(SmsTemplate, store=store, pk=pk) if pk else SmsTemplate(store=store)
    form = SmsTemplateForm(request.POST or None, instance=template)
    previewing = request.method == "POST" and "preview" in request.POST
    body = request.POST.get("body", "") if previewing else template.body
    if request.method == "POST" and not previewing and form.is_valid():
        form.save()
        messages.success(request, f"Saved template “{form.instance.name}”.")
        return redirect("members:templates")
    shown, error = None, ""
    if body:
        try:
            shown = preview(body, {"store": store.name})
        except TemplateError as exc:
            error = str(exc)
    return render(request, "members/template_form.html", {
        "store": store, "form": form, "template": template, "preview": shown, "preview_error": error,
        "placeholders": PLACEHOLDERS,
    })


def campaign(request, pk):
    """A campaign's dry run (audience, segments, cost); a manager may then start it."""
    template = get_scoped_object(SmsTemplate.objects.select_related("store"), request.user, pk=pk)
    store = template.store
    if request.method == "POST":
        if not has_role(request.user, store, MANAGER):
            return render(request, "members/campaign.html", {"template": template, "error": "Managers only."},
                          status=403)
        if template.flow == Flow.REVIEW_CARE:
            return render(request, "members/campaign.html", {
                "template": template, "error": "A bad-review text goes to one customer, from their case's page; it is "
                                               "not started as a campaign. Nothing was sent."}, status=400)
        result = flows.start_campaign(store, template)
        messages.success(request, f"Campaign started: {result.created} texts queued ({result.waiting} of them wait "
                                  f"for a day the member has no other text), {result.capped} over the frequency cap, "
                                  f"{result.already} already planned.")
        return redirect("members:texts")
    coupons = Coupon.objects.redemption_of(template)
    redeeming = Coupon.objects.redeeming_orders(template)
    return render(request, "members/campaign.html", {
        "template": template, "store": store, "run": flows.dry_run(store, template),
        "price_currency": settings.SMS_PRICE_CURRENCY,
        "quiet_start": compliance.QUIET_START, "quiet_end": compliance.QUIET_END,
        "can_start": has_role(request.user, store, MANAGER) and template.flow != Flow.REVIEW_CARE,
        "coupons": coupons, "redeeming": redeeming, "more_redeeming": max(coupons.redeemed - len(redeeming), 0),
    })


@require_safe
def campaign_orders_csv(request, pk):
    """Every order that redeemed the template's coupons as CSV (the campaign page lists the newest 50), streamed so
    a big campaign's file is never held in memory whole; 404 for another store's template."""
    template = get_scoped_object(SmsTemplate.objects.select_related("store"), request.user, pk=pk)
    DataExport.record(request.user, DataExport.Kind.REDEEMING_ORDERS, [template.store],
                      {"template": template.pk, "template_name": template.name},
                      rows=Coupon.objects.count_redeeming_orders(template), whole_phones=False)  # always masked
    response = StreamingHttpResponse(redeeming_orders_csv(template), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (f'attachment; filename="{template.store.slug}-template-{template.pk}'
                                       f'-redeeming-orders.csv"')
    return response


def tiers(request, slug):
    """A store's tier thresholds with its members per tier: everyone of the store reads them, its managers change
    them, which re-tiers the store's members at once (the page then says how many moved)."""
    store = get_store(request.user, slug, role=MANAGER if request.method == "POST" else None)
    rule = TierRule.for_store(store)
    limits = rule.limits()  # before the form writes the posted values into `rule`
    form = TierRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        moved = change_tier_rule(store, form.cleaned_data["silver_from"], form.cleaned_data["gold_from"],
                                 by=request.user)
        messages.success(request, f"Saved. {moved.moved} member{pluralize(moved.moved)} moved tier "
                                  f"({moved.up} up, {moved.down} down). No texts were sent for the change.")
        return redirect("members:tiers", slug)
    counts = dict(Member.objects.filter(store=store).values_list("tier").annotate(n=Count("pk")).order_by())
    rows = [(label, limits.get(value), counts.get(value, 0)) for value, label in reversed(Tier.choices)]
    return render(request, "members/tiers.html", {
        "store": store, "form": form, "rows": rows, "own": rule.pk is not None and (
            rule.silver_from is not None or rule.gold_from is not None),
        "may_change": has_role(request.user, store, MANAGER)})


def saved_answers(request, slug):
    """A store's saved answers: everyone of the store reads them (and picks them in Text back forms); its managers
    add them here (a POST), edit and delete them (an operator's POST is 403, another store's page 404)."""
    store = get_store(request.user, slug, role=MANAGER if request.method == "POST" else None)
    form = SavedAnswerForm(request.POST or None, instance=SavedAnswer(store=store))
    if request.method == "POST" and form.is_valid():
        answer = form.save_by(request.user)
        messages.success(request, f"Saved answer “{answer.title}” added.")
        return redirect("members:saved_answers", slug)
    return render(request, "members/saved_answers.html", {
        "store": store, "form": form, "answers": preview_saved_answers(store), "long_order": LONG_ORDER,
        "may_change": has_role(request.user, store, MANAGER)}, status=400 if form.errors else 200)


def saved_answer_edit(request, slug, pk):
    """Edit one of the store's saved answers (managers); a refused body or title keeps what was typed."""
    store = get_store(request.user, slug, role=MANAGER)
    answer = get_object_or_404(SavedAnswer, store=store, pk=pk)
    title = answer.title  # the page's heading, before the form writes what was typed into `answer`
    form = SavedAnswerForm(request.POST or None, instance=answer)
    if request.method == "POST" and form.is_valid():
        form.save_by(request.user)
        messages.success(request, f"Saved answer “{answer.title}” changed.")
        return redirect("members:saved_answers", slug)
    return render(request, "members/saved_answer_form.html", {"store": store, "form": form, "title": title},
                  status=400 if form.errors else 200)


@require_POST
def saved_answer_delete(request, slug, pk):
    """Delete one of the store's saved answers (managers); texts already sent with it keep their words."""
    store = get_store(request.user, slug, role=MANAGER)
    answer = get_object_or_404(SavedAnswer, store=store, pk=pk)
    answer.delete()
    messages.success(request, f"Saved answer “{answer.title}” deleted.")
    return redirect("members:saved_answers", slug)
