"""Member pages: scoped to the user's stores, phones masked for operators, filters, preview, dry run."""

import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote_plus

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from members import flows, sending
from members.models import Coupon, Festival, InboundReply, Member, MemberOrder, Message, SmsTemplate
from members.replies import receive
from members.sms import locmem
from tests.factories import MembershipFactory, OrderFactory, UserFactory
from tests.members.conftest import LA_MORNING, make_member

pytestmark = pytest.mark.django_db


def test_operators_see_masked_phones_managers_see_them_whole(client, operator_b, manager_b, member_b):
    client.force_login(operator_b)
    page = client.get(reverse("members:index")).content.decode()
    assert "+14*****0100" in page and "+14155550100" not in page
    detail = client.get(reverse("members:detail", args=[member_b.pk])).content.decode()
    assert "+14155550100" not in detail
    client.force_login(manager_b)
    assert "+14155550100" in client.get(reverse("members:index")).content.decode()


def test_the_list_pages_keep_its_filters_and_one_page_number(client, operator_b, store_b):
    for _ in range(250):
        make_member(store_b, tier="gold")
    client.force_login(operator_b)
    second = client.get(reverse("members:index"), {"tier": "gold", "page": 2}).content.decode()
    found = re.findall(r'href="([^"]+)" rel="(prev|next)"', second)
    links = {rel: href.replace("&amp;", "&") for href, rel in found}
    # Page 3's address, not "?tier=gold&page=2&page=3", growing a page number at every click.
    assert links == {"prev": "?tier=gold&page=1", "next": "?tier=gold&page=3"}


def test_the_members_list_counts_with_thousands_separated(client, operator_b, store_b):
    Member.objects.bulk_create(Member(store=store_b, phone=f"+1415555{n:04d}", name=f"Buyer {n}", segment="lost",
                                      joined_at=timezone.now()) for n in range(1001))
    client.force_login(operator_b)
    page = client.get(reverse("members:index")).content.decode()
    assert "1,001 members · page 1 of 11" in page
    assert ">Lost (1,001)</option>" in page  # the segment filter's counts too


@pytest.mark.parametrize("typed", ["158 9766 0856", "+86 158-9766-0856", "8615897660856", "0086 15897660856",
                                   "１５８９７６６０８５６"])
def test_an_operator_finds_a_caller_by_the_number_typed_any_way(client, store_a, typed):
    operator = MembershipFactory(store=store_a, user=UserFactory(username="op-a"), role="operator").user
    make_member(store_a, name="Wang Fang", phone="+8615897660856")
    make_member(store_a, name="Li Lei", phone="+8613800138000")
    client.force_login(operator)
    page = client.get(reverse("members:index"), {"q": typed}).content.decode()
    assert "Wang Fang" in page and "Li Lei" not in page
    # Still masked: the number shows only as typed (the search box, and the CSV link's query string).
    assert "+86*******0856" in page and "15897660856" not in page.replace(typed, "").replace(quote_plus(typed), "")


def test_a_few_digits_find_no_member_whose_hidden_digits_they_match(client, operator_b, member_b):
    client.force_login(operator_b)
    assert "Grace" not in client.get(reverse("members:index"), {"q": "5550"}).content.decode()
    assert "Grace" in client.get(reverse("members:index"), {"q": "grace"}).content.decode()
    assert "Grace" in client.get(reverse("members:index"), {"q": "(415) 555-0100"}).content.decode()


def test_a_member_of_another_store_is_a_404(client_a, member_b):
    assert client_a.get(reverse("members:detail", args=[member_b.pk])).status_code == 404
    assert "Grace" not in client_a.get(reverse("members:index")).content.decode()


def test_list_filters_by_tier_and_segment(client, operator_b, store_b):
    make_member(store_b, name="Gold Champion", tier="gold", segment="champions")
    make_member(store_b, name="Lost Soul", segment="lost")
    client.force_login(operator_b)
    page = client.get(reverse("members:index"), {"segment": "champions"}).content.decode()
    assert "Gold Champion" in page and "Lost Soul" not in page
    page = client.get(reverse("members:index"), {"tier": "standard"}).content.decode()
    assert "Lost Soul" in page and "Gold Champion" not in page


@time_machine.travel(datetime(2026, 11, 27, 12, tzinfo=UTC), tick=False)  # this year is 2026: no year in dates
def test_member_page_shows_texts(client, operator_b, member_b):
    Message.objects.create(store=member_b.store, member=member_b, flow="holiday", occasion="holiday:2026-12-25",
                           body="Merry Christmas Grace", scheduled_for="2026-12-25T17:00Z")
    client.force_login(operator_b)
    page = client.get(reverse("members:detail", args=[member_b.pk])).content.decode()
    assert "Merry Christmas Grace" in page and "Holiday · Fri 25 Dec" in page and "2026-12-25" not in page
    assert Message.objects.get().occasion == "holiday:2026-12-25"  # the exactly-once key stays ISO


def test_the_member_page_writes_money_as_the_members_list_does(client, operator_b, store_b, member_b):
    member_b.total_spent = 3120.09
    member_b.save()
    MemberOrder.objects.create(member=member_b, order=OrderFactory(store=store_b, total=1234.5))
    client.force_login(operator_b)
    page = client.get(reverse("members:detail", args=[member_b.pk])).content.decode()
    assert "3,120.09 USD" in page  # the list's "3,120.09 USD", not "3120.09 USD"
    assert ">1,234.50</td>" in page and "Total (USD)" in page


def test_the_member_and_texts_pages_say_why_a_holiday_greeting_was_not_sent(client, operator_b, store_b, member_b):
    SmsTemplate.objects.create(store=store_b, name="Holiday", flow="holiday", body="Happy {holiday}, {first_name}!")
    Festival.objects.create(store=store_b, name="Store birthday", date=date(2020, 12, 23))
    flows.holiday_care(datetime(2026, 12, 23, 10, 0, tzinfo=store_b.zone))
    flows.holiday_care(datetime(2026, 12, 25, 10, 0, tzinfo=store_b.zone))  # Christmas, two days later
    with time_machine.travel(datetime(2026, 12, 28, 12, tzinfo=UTC), tick=False):  # read the same year
        client.force_login(operator_b)
        page = client.get(reverse("members:detail", args=[member_b.pk])).content.decode()
        texts = client.get(reverse("members:texts"), {"status": "skipped"}).content.decode()
    assert "Holiday · Fri 25 Dec" in page and "Skipped (holiday period: greeted for Wed 23 Dec)" in page
    assert "Holiday · Fri 25 Dec" in texts and "holiday period: greeted for Wed 23 Dec" in texts
    assert "2026-12-2" not in page + texts
    with time_machine.travel(datetime(2027, 1, 4, 12, tzinfo=UTC), tick=False):  # read next year: with the year
        client.force_login(operator_b)
        texts = client.get(reverse("members:texts"), {"status": "skipped"}).content.decode()
    assert "Holiday · Fri 25 Dec 2026" in texts and "holiday period: greeted for Wed 23 Dec 2026" in texts


def test_template_preview_shows_segments(client, manager_b, store_b):
    client.force_login(manager_b)
    response = client.post(reverse("members:template_new", args=[store_b.slug]), {
        "name": "Xmas", "flow": "holiday", "body": "Merry Christmas {first_name} 🎄", "delay_days": 3,
        "coupon_valid_days": 30, "preview": "1"})
    page = response.content.decode()
    assert "Merry Christmas Mei 🎄" in page and "1 SMS segment" in page and "UCS-2" in page
    assert not SmsTemplate.objects.exists()


def test_a_new_template_is_previewed_from_its_text_alone_before_it_has_a_name(client, manager_b, store_b):
    client.force_login(manager_b)
    url = reverse("members:template_new", args=[store_b.slug])
    page = client.post(url, {"body": "Hi {first_name}, see you at {store}.", "preview": "1"}).content.decode()
    assert f"Hi Mei, see you at {store_b.name}." in page and "1 SMS segment" in page
    page = client.post(url, {"body": "Hi {member.phone}", "preview": "1"}).content.decode()
    assert 'data-testid="preview-error">Unknown placeholder' in page
    assert not SmsTemplate.objects.exists()


def test_template_with_an_unknown_placeholder_is_not_saved(client, manager_b, store_b):
    client.force_login(manager_b)
    response = client.post(reverse("members:template_new", args=[store_b.slug]), {
        "name": "Bad", "flow": "holiday", "body": "Hi {member.phone}", "delay_days": 3, "coupon_valid_days": 30})
    assert "Unknown placeholder" in response.content.decode()
    assert not SmsTemplate.objects.exists()


def test_a_benefit_template_without_a_coupon_code_is_refused(client, manager_b, store_b):
    client.force_login(manager_b)
    fields = {"name": "Monthly", "flow": "benefit", "coupon_value": "$10 off", "delay_days": 3,
              "coupon_valid_days": 30, "is_active": "on"}
    url = reverse("members:template_new", args=[store_b.slug])
    page = client.post(url, {**fields, "body": "{first_name}, your {coupon_value} perk is waiting at {store}."})
    assert page.status_code == 200 and not SmsTemplate.objects.exists()
    assert "put {coupon} where the code goes" in page.content.decode()
    assert client.post(url, {**fields, "body": "{first_name}, {coupon_value} with code {coupon}."}).status_code == 302


def test_a_text_describing_a_coupon_it_does_not_carry_is_refused(client, manager_b, store_b):
    client.force_login(manager_b)
    page = client.post(reverse("members:template_new", args=[store_b.slug]), {
        "name": "Xmas", "flow": "holiday", "body": "Merry {holiday}! {coupon_value} off until {valid_until}.",
        "coupon_value": "$5", "delay_days": 3, "coupon_valid_days": 30})
    assert not SmsTemplate.objects.exists()
    assert "{coupon_value} and {valid_until} describe a coupon, but the text carries no code" in page.content.decode()


def test_a_second_template_with_a_taken_name_is_refused_not_a_server_error(client, manager_b, store_b,
                                                                           campaign_template):
    client.force_login(manager_b)
    response = client.post(reverse("members:template_new", args=[store_b.slug]), {
        "name": "Thanks", "flow": "campaign", "body": "Another text", "delay_days": 3, "coupon_valid_days": 30})
    assert response.status_code == 200
    assert "Store B already has a template named “Thanks”." in response.content.decode()
    assert list(SmsTemplate.objects.values_list("body", flat=True)) == [campaign_template.body]
    edit = client.post(reverse("members:template_edit", args=[store_b.slug, campaign_template.pk]), {
        "name": "Thanks", "flow": "campaign", "body": "Thanks again", "delay_days": 3, "coupon_valid_days": 30})
    assert edit.status_code == 302  # keeping its own name is fine


def test_an_audience_naming_no_real_tier_or_segment_is_refused_with_the_choices(client, manager_b, store_b):
    client.force_login(manager_b)
    url = reverse("members:template_new", args=[store_b.slug])
    fields = {"name": "VIP", "flow": "campaign", "body": "Hi {first_name}", "delay_days": 3, "coupon_valid_days": 30}
    page = client.post(url, {**fields, "audience_tiers": "gold, platinum", "audience_segments": "champs"})
    assert page.status_code == 200 and not SmsTemplate.objects.exists()
    text = page.content.decode()
    assert "Unknown tier: platinum. Choose from: standard, silver, gold" in text
    assert "Unknown segment: champs. Choose from: champions, loyal," in text


def test_an_audience_in_another_case_or_by_label_is_saved_as_the_real_choices(client, manager_b, store_b):
    gold = make_member(store_b, tier="gold", segment="potential")
    client.force_login(manager_b)
    assert client.post(reverse("members:template_new", args=[store_b.slug]), {
        "name": "VIP", "flow": "campaign", "body": "Hi {first_name}", "delay_days": 3, "coupon_valid_days": 30,
        "audience_tiers": "Gold", "audience_segments": " Potential loyalist ,"}).status_code == 302
    template = SmsTemplate.objects.get()
    assert (template.audience_tiers, template.audience_segments) == ("gold", "potential")
    page = client.get(reverse("members:campaign", args=[template.pk])).content.decode()
    assert 'data-testid="audience">1<' in page and gold.first_name in page


def test_operators_cannot_edit_templates(client, operator_b, store_b):
    client.force_login(operator_b)
    assert client.get(reverse("members:template_new", args=[store_b.slug])).status_code == 403


def test_dry_run_page_and_start_by_a_manager_only(client, operator_b, manager_b, campaign_template, member_b,
                                                   monkeypatch):
    from members import sending

    monkeypatch.setattr(sending, "dispatch_due", lambda *a, **k: 0)
    client.force_login(operator_b)
    page = client.get(reverse("members:campaign", args=[campaign_template.pk])).content.decode()
    assert 'data-testid="audience">1<' in page
    assert client.post(reverse("members:campaign", args=[campaign_template.pk])).status_code == 403
    assert not Message.objects.exists()
    client.force_login(manager_b)
    client.post(reverse("members:campaign", args=[campaign_template.pk]))
    assert Message.objects.count() == 1


def test_the_dry_run_says_where_its_price_comes_from_in_words(client, operator_b, campaign_template, member_b):
    client.force_login(operator_b)
    page = client.get(reverse("members:campaign", args=[campaign_template.pk])).content.decode()
    assert "per segment: the SMS provider's price, as an administrator set it in the server's settings" in page
    assert "SMS_PRICE_PER_SEGMENT" not in page  # an operator is not told a setting's name
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    page = client.get(reverse("members:campaign", args=[campaign_template.pk])).content.decode()
    assert "SMS_PRICE_PER_SEGMENT and SMS_PRICE_CURRENCY" in page  # an administrator is told which to change


@time_machine.travel(datetime(2026, 11, 27, 12, tzinfo=UTC), tick=False)
def test_texts_page_lists_messages(client, operator_b, member_b):
    Message.objects.create(store=member_b.store, member=member_b, flow="benefit", occasion="benefit:2026-12",
                           body="x", status="failed", error_code="21610", scheduled_for="2026-12-01T17:00Z")
    client.force_login(operator_b)
    page = client.get(reverse("members:texts"), {"status": "failed"}).content.decode()
    assert "Benefit · Dec 2026" in page and "21610" in page and "2026-12" not in page


def test_the_texts_page_counts_and_numbers_its_pages_with_thousands_separated(client, operator_b, member_b):
    Message.objects.bulk_create(Message(store=member_b.store, member=member_b, flow="benefit", body="x",
                                        occasion=f"benefit:{n}", scheduled_for=timezone.now()) for n in range(1001))
    client.force_login(operator_b)
    assert "1,001 texts · page 1 of 11" in client.get(reverse("members:texts")).content.decode()


def test_the_texts_pages_count_of_replies_waiting_is_written_with_thousands_separated(client, operator_b, member_b):
    InboundReply.objects.bulk_create(InboundReply(store=member_b.store, member=member_b, kind="message", body="hi",
                                                  received_at=timezone.now()) for _ in range(1001))
    client.force_login(operator_b)
    page = client.get(reverse("members:texts")).content.decode()
    assert "1,001 replies waiting for an answer" in page and "1,001 waiting for an answer." in page


@time_machine.travel(LA_MORNING, tick=False)
def test_the_dry_runs_counts_are_written_with_thousands_separated(client, manager_b, store_b, campaign_template):
    members = Member.objects.bulk_create(
        Member(store=store_b, phone=f"+1415556{i:04d}", name=f"Ada Lovelace {i}", sms_consent=True,
               consent_source="test", joined_at=timezone.now()) for i in range(1001))
    # Each number already had a text today: the campaign's would wait a day.
    Message.objects.bulk_create(
        Message(store=store_b, member=m, flow="campaign", occasion="campaign:earlier", body="x", status="sent",
                scheduled_for=timezone.now(), sent_at=timezone.now()) for m in members)
    client.force_login(manager_b)
    page = client.get(reverse("members:campaign", args=[campaign_template.pk])).content.decode()
    assert 'data-testid="audience">1,001<' in page and 'data-testid="segments">1,001<' in page
    assert 'data-testid="waiting">1,001<' in page and "Start campaign (1,001 texts)" in page


def test_a_members_order_count_is_written_with_thousands_separated(client, operator_b, store_b):
    member = make_member(store_b, orders_count=1234)
    client.force_login(operator_b)
    page = client.get(member.get_absolute_url()).content.decode()
    assert '<div class="label">Orders</div><div class="value">1,234</div>' in page


def test_a_failed_texts_twilio_error_reads_in_words_with_its_code_beside(client, operator_b, member_b):
    for n, code in enumerate(["30006", "21211", "99999"]):
        Message.objects.create(store=member_b.store, member=member_b, flow="holiday", occasion=f"holiday:2026-12-0{n}",
                               body="x", status="undelivered", error_code=code, scheduled_for="2026-12-01T17:00Z")
    client.force_login(operator_b)
    for url in (reverse("members:texts"), member_b.get_absolute_url()):
        page = client.get(url).content.decode()
        assert "landline or unreachable carrier (30006)" in page and "invalid number (21211)" in page
        assert "error 99999" in page  # a code without words still says it is an error


def test_texts_name_their_occasion_in_words_not_machine_keys(client, operator_b, member_b, campaign_template):
    Message.objects.create(store=member_b.store, member=member_b, flow="after_sales",
                           occasion="after_sales:order 107056", body="How is your tea?",
                           scheduled_for="2026-12-01T17:00Z")
    Message.objects.create(store=member_b.store, member=member_b, flow="campaign",
                           occasion=f"campaign:{campaign_template.pk}", template=campaign_template, body="Thanks!",
                           scheduled_for="2026-12-02T17:00Z")
    client.force_login(operator_b)
    for url in (reverse("members:texts"), reverse("members:detail", args=[member_b.pk])):
        page = client.get(url).content.decode()
        assert "After-sales · order 107056" in page and "Campaign: Thanks" in page
        assert "after_sales:" not in page and "campaign:" not in page


def test_a_members_campaign_coupon_names_the_campaign(client, operator_b, member_b, campaign_template):
    Coupon.objects.create(store=member_b.store, member=member_b, occasion=f"campaign:{campaign_template.pk}",
                          code="B-ABCD-EFGH", value="10 off")
    client.force_login(operator_b)
    page = client.get(reverse("members:detail", args=[member_b.pk])).content.decode()
    assert "B-ABCD-EFGH · 10 off · Campaign: Thanks" in page


def test_the_desks_failed_or_undelivered_link_lists_both(client, operator_b, member_b):
    from members.desk import open_items

    for status in ["failed", "undelivered", "delivered"]:
        Message.objects.create(store=member_b.store, member=member_b, flow="holiday", occasion=f"holiday:{status}",
                               body="x", status=status, scheduled_for="2026-12-01T17:00Z",
                               status_updated_at=timezone.now())
    item = next(i for i in open_items(member_b.store, operator_b) if "failed" in i.label)
    client.force_login(operator_b)
    page = client.get(item.url).content.decode()
    assert item.count == 2
    assert "Holiday · failed" in page and "Holiday · undelivered" in page and "Holiday · delivered" not in page


def test_the_desks_waiting_link_lists_the_texts_it_counts(client, operator_b, member_b):
    from members.desk import open_items

    now = timezone.now()
    for occasion, due in [("holiday:later", now + timedelta(hours=3)), ("holiday:due", now - timedelta(minutes=1))]:
        Message.objects.create(store=member_b.store, member=member_b, flow="holiday", occasion=occasion, body="x",
                               status="queued", scheduled_for=due)
    item = next(i for i in open_items(member_b.store, operator_b) if "quiet hours" in i.label)
    client.force_login(operator_b)
    page = client.get(item.url).content.decode()
    assert item.count == 1 and "Holiday · later" in page and "Holiday · due" not in page


def test_a_stores_desk_item_opens_that_stores_texts_only(client, operator_b, member_b, store_a):
    from members.desk import open_items
    from tests.factories import MembershipFactory

    MembershipFactory(store=store_a, user=operator_b)  # the operator works for both stores
    member_a = make_member(store_a, name="Li Wei")
    for member in (member_a, member_b):
        Message.objects.create(store=member.store, member=member, flow="holiday", occasion="holiday:2026-12-25",
                               body="x", status="failed", scheduled_for="2026-12-01T17:00Z",
                               status_updated_at=timezone.now())
    item = next(i for i in open_items(member_b.store, operator_b) if "failed" in i.label)
    client.force_login(operator_b)
    page = client.get(item.url).content.decode()
    assert item.count == 1 and "Grace Hopper" in page and "Li Wei" not in page
    assert '<option value="store-b" selected>Store B</option>' in page
    assert "1 text · " in page


@time_machine.travel(datetime(2026, 11, 27, 12, tzinfo=UTC), tick=False)  # this year is 2026: no year in dates
def test_member_page_shows_times_in_the_stores_zone(client_a, store_a):
    member = make_member(store_a, name="Li Wei")
    Message.objects.create(store=store_a, member=member, flow="holiday", occasion="holiday:2026-10-31",
                           body="Happy Halloween", scheduled_for="2026-10-31T12:47Z")
    page = client_a.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert "Sat 31 Oct 20:47" in page and "12:47" not in page
    assert "Asia/Shanghai time" in page


@time_machine.travel(datetime(2026, 11, 27, 12, tzinfo=UTC), tick=False)  # this year is 2026: no year in dates
def test_member_dates_read_like_the_texts_page(client_a, store_a):
    # The members list and page wrote "Aug. 2, 2026" and "Nov. 27, 2026, 4:09 p.m." beside the texts
    # page's own style, now "Fri 27 Nov 16:09".
    member = make_member(store_a, name="Li Wei", joined_at=datetime(2026, 8, 1, 17, 0, tzinfo=UTC))  # 2 Aug local
    order = OrderFactory(store=store_a, external_id="9001", paid_at=datetime(2026, 11, 27, 8, 9, tzinfo=UTC))
    MemberOrder.objects.create(member=member, order=order)
    listing = client_a.get(reverse("members:index")).content.decode()
    assert "Sun 2 Aug" in listing and "Aug. 2, 2026" not in listing
    page = client_a.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert "joined Sun 2 Aug" in page and "Fri 27 Nov 16:09" in page
    assert "Nov. 27, 2026" not in page


@time_machine.travel(datetime(2026, 11, 27, 12, tzinfo=UTC), tick=False)  # this year is 2026: no year in dates
def test_texts_across_stores_show_each_row_on_its_own_stores_clock(client, store_a, store_b):
    user = UserFactory(username="op-both")
    MembershipFactory(store=store_a, user=user)
    MembershipFactory(store=store_b, user=user)
    for store, name in ((store_a, "Li Wei"), (store_b, "Grace Hopper")):
        Message.objects.create(store=store, member=make_member(store, name=name), flow="holiday",
                               occasion="holiday:2026-10-31", body="Hello", scheduled_for="2026-10-31T12:47Z")
    client.force_login(user)
    page = client.get(reverse("members:texts")).content.decode()
    assert "Sat 31 Oct 20:47" in page  # Shanghai, UTC+8
    assert "Sat 31 Oct 05:47" in page  # Los Angeles, UTC-7 (daylight time)
    assert "12:47" not in page
    assert page.count("Asia/Shanghai") == 1 and page.count("America/Los_Angeles") == 1


def test_a_template_naming_an_opt_out_word_we_ignore_is_refused(client, manager_a, store_a):
    client.force_login(manager_a)
    response = client.post(reverse("members:template_new", args=[store_a.slug]), {
        "name": "Holiday", "flow": "holiday", "body": "{first_name}您好，祝您{holiday}快乐！回复R退订",
        "is_active": "on", "delay_days": 3, "coupon_valid_days": 30})
    assert response.status_code == 200
    assert "reply R to unsubscribe" in str(response.context["form"].errors)
    assert not SmsTemplate.objects.exists()


@pytest.mark.parametrize("body", ["{first_name}您好，{store}祝您{holiday}快乐！回复T退订", "Reply STOP to opt out",
                                  "退订回TD", "Text END to stop. {store}"])
def test_a_template_naming_an_opt_out_word_we_honour_is_accepted(store_a, body):
    SmsTemplate(store=store_a, name="t", flow="holiday", body=body).full_clean()


def test_members_of_stores_in_different_currencies_are_ranked_within_their_store(client, store_a, store_b):
    from decimal import Decimal

    user = UserFactory(username="both")
    for store in (store_a, store_b):
        MembershipFactory(store=store, user=user, role="operator")
    make_member(store_a, name="Yuan Buyer", total_spent=Decimal("7600.00"))  # CNY: about 1,050 USD
    make_member(store_b, name="Dollar Buyer", total_spent=Decimal("7636.64"))
    make_member(store_b, name="Small Dollar Buyer", total_spent=Decimal("120.00"))
    client.force_login(user)
    page = client.get(reverse("members:index")).content.decode()
    assert page.index("Yuan Buyer") < page.index("Dollar Buyer") < page.index("Small Dollar Buyer")
    assert "7,636.64 USD" in page and "by store, then most spent" in page
    one = client.get(reverse("members:index"), {"store": store_b.slug}).content.decode()
    assert "most spent first" in one


def test_an_operator_is_not_offered_template_links_that_only_managers_may_open(client, operator_b, store_b):
    template = SmsTemplate.objects.create(store=store_b, name="Xmas", flow="holiday", body="Merry Christmas")
    client.force_login(operator_b)
    page = client.get(reverse("members:templates")).content.decode()
    assert reverse("members:template_new", args=[store_b.slug]) not in page
    assert reverse("members:template_edit", args=[store_b.slug, template.pk]) not in page
    assert "Managers write and edit templates" in page and "Xmas" in page
    assert reverse("members:campaign", args=[template.pk]) in page  # the dry run is for everyone


def test_a_manager_gets_the_links_for_the_stores_they_manage(client, manager_b, store_b):
    template = SmsTemplate.objects.create(store=store_b, name="Xmas", flow="holiday", body="Merry Christmas")
    client.force_login(manager_b)
    page = client.get(reverse("members:templates")).content.decode()
    assert reverse("members:template_new", args=[store_b.slug]) in page
    assert reverse("members:template_edit", args=[store_b.slug, template.pk]) in page


def test_the_dry_run_cost_names_the_currency_the_sms_provider_bills_in(client, operator_b, campaign_template):
    client.force_login(operator_b)
    page = client.get(reverse("members:campaign", args=[campaign_template.pk])).content.decode()
    assert re.search(r'data-testid="cost">[0-9.]+ USD<', page)


def test_an_operator_opts_out_a_caller_who_asked_and_no_queued_text_reaches_them(client, operator_b, member_b,
                                                                               store_a):
    elsewhere = make_member(store_a, phone=member_b.phone)  # one sending number texts for every store
    text = Message.objects.create(store=member_b.store, member=member_b, flow="campaign", occasion="campaign:1",
                                  body="Sale!", scheduled_for=timezone.now())
    client.force_login(operator_b)
    response = client.post(reverse("members:opt_out", args=[member_b.pk]), follow=True)
    page = response.content.decode()
    assert "Grace Hopper is opted out: no more texts" in page
    assert "membership" not in page  # the number's other store is not operator_b's: not even counted
    assert "the customer asked op-b" in page and "the customer asked us to stop texting</button>" not in page
    assert "+14155550100" not in page  # still masked for an operator
    elsewhere.refresh_from_db()
    assert elsewhere.opted_out_at is not None and elsewhere.opted_out_by == operator_b
    assert sending.send_message(text.pk).status == "skipped" and locmem.outbox == []
    text.refresh_from_db()
    assert text.skip_reason == "opted out"


def test_a_start_reply_after_an_opt_out_taken_by_phone_clears_who_took_it(client, operator_b, member_b):
    client.force_login(operator_b)
    client.post(reverse("members:opt_out", args=[member_b.pk]))
    receive(member_b.phone, "START")
    member_b.refresh_from_db()
    assert (member_b.opted_out_at, member_b.opted_out_by) == (None, None)


def test_opting_out_another_stores_member_is_a_404_and_a_get_changes_nothing(client_a, client, operator_b, member_b):
    assert client_a.post(reverse("members:opt_out", args=[member_b.pk])).status_code == 404
    client.force_login(operator_b)
    assert client.get(reverse("members:opt_out", args=[member_b.pk])).status_code == 405
    member_b.refresh_from_db()
    assert member_b.opted_out_at is None


def test_the_member_page_shows_a_coupon_whose_text_was_undelivered_as_withdrawn(client, operator_b, member_b):
    template = SmsTemplate.objects.create(store=member_b.store, name="Perk", flow="campaign", coupon_value="$10 off",
                                          body="{first_name}, {coupon_value} with code {coupon}")
    flows.start_campaign(member_b.store, template, LA_MORNING)
    message = Message.objects.get(member=member_b)
    sending.send_message(message.pk, LA_MORNING)
    sending.apply_status_callback(Message.objects.get(pk=message.pk).provider_sid, "undelivered", "30003",
                                  str(message.pk))
    client.force_login(operator_b)
    page = client.get(reverse("members:detail", args=[member_b.pk])).content.decode()
    code = Coupon.objects.get(member=member_b).code
    assert f"<s>{code}</s>" in page and "its text did not reach the member" in page


def test_a_dry_run_in_quiet_hours_says_when_the_deferred_texts_go_out(client, operator_b, campaign_template,
                                                                     member_b):
    import time_machine

    client.force_login(operator_b)
    with time_machine.travel(datetime(2026, 11, 25, 6, 0, tzinfo=UTC), tick=False):  # 22:00 in Los Angeles
        page = client.get(reverse("members:campaign", args=[campaign_template.pk])).content.decode()
    assert "Deferred to 09:00 (quiet hours)" in page
    assert "quiet hours (21:00–09:00 in the member's time zone) go out at 09:00 their time" in page
