"""The texting flows beat runs: holiday care, after-sales care, monthly benefits; and campaigns
with their dry run (audience, SMS segments, cost) before they start.

Every flow only plans Message rows (members.sending.plan); occasions make them exactly-once:
"holiday:2026-12-25", "after_sales:order 100123", "benefit:2026-11", "campaign:<template>" (a campaign is
one text per member however often it is started; the recurring flows have one per day, order or month).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

import holidays as holiday_calendars
from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from stores.models import Order, Store

from . import compliance
from .models import Flow, Member, Message, SmsTemplate, new_coupon_code
from .sending import Planned, PlanResult, member_context, plan
from .texts import placeholders_in, render, sms_length

log = logging.getLogger(__name__)


def active_template(store: Store, flow: str) -> SmsTemplate | None:
    return store.sms_templates.filter(flow=flow, is_active=True).order_by("-created_at").first()


def audience(store: Store, template: SmsTemplate | None = None) -> QuerySet:
    """The store's textable members, narrowed to the template's segments and tiers if it names any."""
    members = Member.objects.filter(store=store).textable().select_related("store")
    if template is not None:
        if template.segment_list():
            members = members.filter(segment__in=template.segment_list())
        if template.tier_list():
            members = members.filter(tier__in=template.tier_list())
    return members


def _members_by_zone(members: QuerySet) -> dict[str, list[Member]]:
    """Members grouped by the zone their 09:00-21:00 is in (Member.zone)."""
    by_zone: dict[str, list[Member]] = defaultdict(list)
    for member in members:
        by_zone[member.zone.key].append(member)
    return by_zone


# Holidays this close together are one holiday period (除夕 and 春节, Christmas and Boxing Day, Maundy
# Thursday to Easter Monday): a number greeted in the last HOLIDAY_PERIOD_DAYS days, by any store, gets no
# public-holiday greeting. A store's own festival is greeted all the same: the store set that day up on purpose.
HOLIDAY_PERIOD_DAYS = 4


class Greeting(NamedTuple):
    name: str
    template: SmsTemplate | None  # None: the store's holiday template
    festival: bool  # the store's own festival, not a public holiday


def holidays_on(store: Store, day: date) -> list[Greeting]:
    """The festivals, else the public holidays, on `day` worth a greeting."""
    found = [Greeting(f.name, f.own_template(), True) for f in store.festivals.select_related("template")
             if f.falls_on(day)]
    if found:
        return found  # a store's own festival speaks for the day
    names = public_holidays_starting(store.country, day)
    return [Greeting(" / ".join(names), None, False)] if names else []


class RecentGreeting(NamedTuple):
    day: str  # the ISO day it was for, as in its occasion
    elsewhere: bool  # another store's greeting


def greeted_recently(store: Store, day: date) -> dict[str, RecentGreeting]:
    """Numbers of `store`'s members with a holiday greeting from any store (one sending number texts for
    every store) sent or on its way for one of the HOLIDAY_PERIOD_DAYS days before `day`, and the latest such
    greeting (occasions "holiday:<ISO day>" sort as their days do)."""
    since = day - timedelta(days=HOLIDAY_PERIOD_DAYS)
    greetings = (Message.objects.filter(member__phone__in=compliance.numbers_of(store), flow=Flow.HOLIDAY,
                                        status__in=compliance.COUNTED, occasion__gte=f"holiday:{since.isoformat()}",
                                        occasion__lt=f"holiday:{day.isoformat()}")
                 .order_by("occasion", "pk").values_list("member__phone", "occasion", "store_id"))
    return {phone: RecentGreeting(occasion.partition(":")[2], store_id != store.pk)
            for phone, occasion, store_id in greetings}


def holiday_period_reason(greeted: RecentGreeting) -> str:
    """The skip reason of a greeting in a holiday period; another store's greeting is mentioned, never named
    (a user of this store may not know the other). The day stays ISO: the pages word it when shown."""
    if greeted.elsewhere:
        return f"holiday period: the number has another store's greeting for {greeted.day}"
    return f"holiday period: greeted for {greeted.day}"


def holiday_period(store: Store, day: date) -> Callable[[], dict[str, str]]:
    """The holiday period as `plan`'s number rule: numbers greeted in the period, each with its skip reason
    (kept as skipped rows, so the member and texts pages say why no greeting went). `plan` reads it once the
    numbers are locked: read before, another store's greeting planned meanwhile would go unseen."""
    return lambda: {phone: holiday_period_reason(greeted) for phone, greeted in greeted_recently(store, day).items()}


def public_holidays_starting(country: str, day: date) -> list[str]:
    """The public holidays of `country` worth a greeting on `day`: named in the calendar's own language
    (国庆节 for CN; left alone, the holidays package follows the server's locale), and only on a holiday's
    first day: no "(observed)" or substitute days off ("Day off (substituted from …)", 休息日（由 … 调休）),
    and one greeting for a holiday several days long (春节, 国庆节)."""
    try:
        language = holiday_calendars.country_holidays(country).default_language
    except NotImplementedError:
        log.info("no public holiday calendar for %s", country)
        return []
    calendar = holiday_calendars.country_holidays(country, years={day.year - 1, day.year}, observed=False,
                                                  language=language)
    substitute = ""
    if getattr(calendar, "has_substituted_holidays", False):
        substitute = calendar.tr(calendar.substituted_label).split("%s")[0]
    day_before = set(calendar.get_list(day - timedelta(days=1)))
    return [name for name in calendar.get_list(day)
            if name not in day_before and not (substitute and name.startswith(substitute))]


def holiday_care(now: datetime | None = None) -> PlanResult:
    """Plan today's holiday texts for members whose local day is a holiday (before 21:00 local)."""
    now = now or timezone.now()
    total = PlanResult()
    for store in Store.objects.all():
        default_template = active_template(store, Flow.HOLIDAY)
        for zone_name, members in _members_by_zone(audience(store)).items():
            local = now.astimezone(ZoneInfo(zone_name))
            if local.time() >= compliance.QUIET_START:
                continue  # too late to greet today; tomorrow's 09:00 would be the wrong day
            day = local.date()
            for name, template, festival in holidays_on(store, day):
                template = template or default_template
                if template is None:
                    continue
                occasion = f"holiday:{day.isoformat()}"
                items = [Planned(m, occasion, {"holiday": name}) for m in members]
                total += plan(store, Flow.HOLIDAY, template, items, now,
                              number_rule=None if festival else holiday_period(store, day))
                break
    return total


def after_sales_care(now: datetime | None = None, catch_up_days: int = 7) -> PlanResult:
    """Plan the after-sales text for orders delivered `delay_days` ago (looking back `catch_up_days` more),
    except refunded orders and orders with a complaint (`compliance.orders_to_care_for`); the send step
    checks the order again."""
    now = now or timezone.now()
    total = PlanResult()
    for template in SmsTemplate.objects.filter(flow=Flow.AFTER_SALES, is_active=True).select_related("store"):
        store = template.store
        if template != active_template(store, Flow.AFTER_SALES):
            continue
        due_before = now - timedelta(days=template.delay_days)
        delivered = Order.objects.filter(store=store, delivered_at__lte=due_before,
                                         delivered_at__gt=due_before - timedelta(days=catch_up_days),
                                         member_link__member__in=audience(store))
        orders = (compliance.orders_to_care_for(delivered).select_related("member_link__member__store")
                  .order_by("delivered_at", "pk"))
        items = [Planned(o.member_link.member, f"after_sales:order {o.external_id}", {"order": o.number},
                         order=o) for o in orders]
        total += plan(store, Flow.AFTER_SALES, template, items, now)
    return total


def benefits(now: datetime | None = None, window_days: int = 7) -> PlanResult:
    """Plan this month's benefit text with a coupon per member, in the first `window_days` of the store's month."""
    now = now or timezone.now()
    total = PlanResult()
    for store in Store.objects.all():
        template = active_template(store, Flow.BENEFIT)
        today = store.today(now)
        if template is None or today.day > window_days:
            continue
        occasion = f"benefit:{today:%Y-%m}"
        items = [Planned(m, occasion) for m in audience(store, template)]
        total += plan(store, Flow.BENEFIT, template, items, now)
    return total


@dataclass
class DryRun:
    audience: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    segments: int = 0
    by_segments: dict[int, int] = field(default_factory=dict)  # SMS segments per text -> texts
    encodings: dict[str, int] = field(default_factory=dict)
    cost: Decimal = Decimal("0")
    price_per_segment: Decimal = Decimal("0")
    deferred_by_quiet_hours: int = 0
    # Texts that would wait for the number's next free day (one text a number a day), by reason as the pages
    # word it: compliance.wait_reason.
    waiting: dict[str, int] = field(default_factory=dict)
    sample: str = ""

    @property
    def waiting_total(self) -> int:
        return sum(self.waiting.values())


def dry_run(store: Store, template: SmsTemplate, now: datetime | None = None) -> DryRun:
    """Who a campaign with `template` would reach now, how many SMS segments, what it would cost, and how many
    of its texts would wait a day for the number's next free day (and why)."""
    now = now or timezone.now()
    everyone = Member.objects.filter(store=store)
    if template.segment_list():
        everyone = everyone.filter(segment__in=template.segment_list())
    if template.tier_list():
        everyone = everyone.filter(tier__in=template.tier_list())
    counts = everyone.aggregate(
        no_consent=Count("pk", filter=Q(sms_consent=False, opted_out_at__isnull=True)),
        opted_out=Count("pk", filter=Q(opted_out_at__isnull=False)),
        invalid=Count("pk", filter=Q(phone_invalid_at__isnull=False, opted_out_at__isnull=True, sms_consent=True)))
    excluded = {"no consent": counts["no_consent"], "opted out": counts["opted_out"],
                "invalid number": counts["invalid"]}
    capped = compliance.capped_numbers(store, now)
    taken = compliance.texted_days(store, now)
    planned = campaign_planned(store, template)
    result = DryRun(price_per_segment=Decimal(str(settings.SMS_PRICE_PER_SEGMENT)))
    sizes, encodings = Counter(), Counter()
    sample_context = {"coupon": new_coupon_code(store), "coupon_value": template.coupon_value,
                      "valid_until": (store.today(now) + timedelta(days=template.coupon_valid_days)).isoformat(),
                      "holiday": "Holiday", "order": "100123"}
    # Tens of thousands of members: read as plain values into one unsaved Member, and render each distinct
    # text and judge each zone once (a text differs only by the member fields its placeholders use).
    used = set(placeholders_in(template.body))
    probe, texts, quiet, waiting = Member(store=store), {}, {}, Counter()
    for pk, probe.name, probe.tier, probe.phone, probe.timezone in audience(store, template).values_list(
            "pk", "name", "tier", "phone", "timezone"):
        if pk in planned:
            excluded[ALREADY_PLANNED] = excluded.get(ALREADY_PLANNED, 0) + 1
            continue
        if probe.phone in capped:
            excluded["frequency cap"] = excluded.get("frequency cap", 0) + 1
            continue
        key = (probe.first_name if "first_name" in used else None, probe.name if "name" in used else None,
               probe.tier if "tier" in used else None)
        if key not in texts:
            text = render(template.body, {**sample_context, **member_context(probe)})
            texts[key] = text, sms_length(text)
        text, length = texts[key]
        sizes[length.segments] += 1
        encodings[length.encoding] += 1
        result.audience += 1
        result.sample = result.sample or text
        zone = probe.zone
        if zone.key not in quiet:
            quiet[zone.key] = compliance.in_quiet_hours(now, zone)
        if quiet[zone.key]:
            result.deferred_by_quiet_hours += 1
        if probe.phone in taken:  # as plan judges it: the day the text would go, in the member's zone
            day = compliance.send_day(compliance.next_send_time(now, zone), zone)
            if day_texts := compliance.by_day(taken[probe.phone], zone).get(day):
                waiting[compliance.wait_reason(any(t.store_id != store.pk for t in day_texts))] += 1
    result.excluded = excluded
    result.waiting = dict(waiting)
    result.by_segments = dict(sorted(sizes.items()))
    result.encodings = dict(encodings)
    result.segments = sum(k * v for k, v in sizes.items())
    result.cost = (result.price_per_segment * result.segments).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return result


def campaign_occasion(template: SmsTemplate) -> str:
    return f"campaign:{template.pk}"


ALREADY_PLANNED = "already texted (or planned) this campaign"


def campaign_planned(store: Store, template: SmsTemplate) -> set[int]:
    """Members who already have a text of this campaign, whatever its status. Occasions used to be per
    day ("campaign:<id>:<day>"), so a campaign started again the next day texted everyone twice; those
    rows count too."""
    key = campaign_occasion(template)
    return set(Message.objects.filter(store=store, flow=Flow.CAMPAIGN)
               .filter(Q(occasion=key) | Q(occasion__startswith=f"{key}:")).values_list("member_id", flat=True))


def start_campaign(store: Store, template: SmsTemplate, now: datetime | None = None) -> PlanResult:
    """Plan a one-off campaign to the template's audience: one text per member however often it is started
    (a member it skipped, e.g. over the frequency cap, is not tried again)."""
    now = now or timezone.now()
    occasion = campaign_occasion(template)
    everyone = list(audience(store, template))
    planned = campaign_planned(store, template)
    items = [Planned(m, occasion) for m in everyone if m.pk not in planned]
    result = plan(store, Flow.CAMPAIGN, template, items, now)
    result.already += sum(1 for m in everyone if m.pk in planned)
    return result
