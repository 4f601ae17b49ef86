"""Peer benchmarks: the platform's peer figures pasted or uploaded per store, shown beside the daily numbers."""

import re
from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from metrics.models import DailyMetric, PeerBenchmark
from metrics.peers import PeerImportError, import_peer_benchmarks
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

ENGLISH = """date,metric,level,value
2026-05-08,Conversion rate,average,3.2%
2026-05-08,conversion,top,0.05
2026-05-08,Average order value,Average,¥120.50
2026-05-08,Payment amount,top,"12,500.00"
2026-05-08,visitors,average,"1,234"
"""
# As copied from Business Advisor into a spreadsheet and pasted: Chinese names, tab-separated.
CHINESE = ("日期\t指标\t层级\t数值\n"
           "2026-05-07\t访客数\t同行同层平均\t856\n"
           "2026-05-07\t支付转化率\t同行同层优秀\t4.75%\n"
           "2026-05-07\t客单价\t同行同层平均\t98.60\n"
           "2026-05-07\t支付金额\t同行同层优秀\t30,210.00\n")


def figures(store):
    return {(f.day, f.metric, f.level): f.value for f in PeerBenchmark.objects.filter(store=store)}


def test_english_and_chinese_names_are_read_rates_as_fractions_money_and_counts_as_written(store_a):
    result = import_peer_benchmarks(store_a, ENGLISH, source="Business Advisor")
    assert (result.figures, result.days, result.replaced) == (5, [date(2026, 5, 8)], 0)
    import_peer_benchmarks(store_a, CHINESE)
    day, before = date(2026, 5, 8), date(2026, 5, 7)
    assert figures(store_a) == {
        (day, "conversion", "average"): Decimal("0.032"), (day, "conversion", "top"): Decimal("0.05"),
        (day, "aov", "average"): Decimal("120.50"), (day, "gmv", "top"): Decimal("12500"),
        (day, "visitors", "average"): Decimal("1234"),
        (before, "visitors", "average"): Decimal("856"), (before, "conversion", "top"): Decimal("0.0475"),
        (before, "aov", "average"): Decimal("98.6"), (before, "gmv", "top"): Decimal("30210"),
    }
    assert set(PeerBenchmark.objects.filter(day=day).values_list("source", flat=True)) == {"Business Advisor"}


def test_every_bad_row_is_named_by_row_column_and_reason_and_nothing_is_stored(store_a):
    import_peer_benchmarks(store_a, ENGLISH)
    bad = """date,metric,level,value
2026-05-09,访客数,同行同层平均,900
31.11.2026,conversion,average,3%
2026-05-09,退款率,average,1.2%
2026-05-09,bounce rate,average,40%
2026-05-09,conversion,median,2%
2026-05-09,conversion,top,3.2
2026-05-09,gmv,average,$500.00
2026-05-09,visitors,top,12%
2026-05-09,visitors,平均,901
2026-05-09,aov,top,
2026-06-01,gmv,top,1.00
"""
    with (time_machine.travel(datetime(2026, 5, 10, 9, tzinfo=store_a.zone), tick=False),
          pytest.raises(PeerImportError) as caught):
        import_peer_benchmarks(store_a, bad)
    assert [str(e) for e in caught.value.errors] == [
        "row 3, date: '31.11.2026' is not a date (YYYY-MM-DD)",
        "row 4, metric: “退款率” is not compared with peers: opsdesk has no figure of its own to compare it with; "
        "leave the row out",
        "row 5, metric: “bounce rate” is not compared with peers: use visitors (访客数), conversion (支付转化率), "
        "aov (客单价) or gmv (支付金额)",
        "row 6, level: “median” is no level: use average (同行同层平均) or top (同行同层优秀)",
        "row 7, value: 3.2 is no rate: write it as a percentage (3.2%) or a fraction (0.032)",
        "row 8, value: $500.00 is marked $, but the store keeps its money in CNY: convert it first",
        "row 9, value: 12% is a percentage, but visitors is no rate",
        "row 10, metric: visitors average of 2026-05-09 repeats row 2",
        "row 11, value: is empty",
        "row 12, date: 2026-06-01 is after today (2026-05-10 in Asia/Shanghai)",
    ]
    # Nothing of the file, and the day stored before is whole.
    assert len(figures(store_a)) == 5
    assert not PeerBenchmark.objects.filter(day=date(2026, 5, 9)).exists()


def test_a_file_without_the_columns_is_refused_by_its_header(store_a):
    with pytest.raises(PeerImportError) as caught:
        import_peer_benchmarks(store_a, "date,metric,amount\n2026-05-08,gmv,1\n")
    assert [str(e) for e in caught.value.errors] == [
        "row 1, level: column missing from the header (date, metric, level, value)",
        "row 1, value: column missing from the header (date, metric, level, value)"]


def test_a_row_without_a_metric_says_so_and_a_pasted_path_is_read_as_text(store_a, tmp_path):
    with pytest.raises(PeerImportError) as caught:
        import_peer_benchmarks(store_a, "date,metric,level,value\n2026-05-08,,average,3%\n")
    assert [str(e) for e in caught.value.errors] == ["row 2, metric: is empty"]
    secret = tmp_path / "peers.csv"
    secret.write_text(ENGLISH)
    with pytest.raises(PeerImportError) as caught:  # one line, no break: still the text pasted, never a file
        import_peer_benchmarks(store_a, str(secret))
    assert "column missing from the header" in str(caught.value)
    assert not PeerBenchmark.objects.exists()


def test_importing_a_day_again_replaces_it_and_leaves_other_days(store_a):
    import_peer_benchmarks(store_a, CHINESE)
    import_peer_benchmarks(store_a, ENGLISH)
    once = figures(store_a)
    again = import_peer_benchmarks(store_a, ENGLISH)
    assert (again.figures, again.replaced) == (5, 5)
    assert figures(store_a) == once
    # A corrected export of the day is the day: a figure it no longer has is gone, the 7th untouched.
    import_peer_benchmarks(store_a, "date,metric,level,value\n2026-05-08,conversion,average,3.4%\n")
    day = {k: v for k, v in figures(store_a).items() if k[0] == date(2026, 5, 8)}
    assert day == {(date(2026, 5, 8), "conversion", "average"): Decimal("0.034")}
    assert sum(k[0] == date(2026, 5, 7) for k in figures(store_a)) == 4


def test_operator_pastes_or_uploads_on_the_page_and_sees_the_figures(client_a, store_a):
    url = reverse("metrics:peer_benchmarks", args=[store_a.slug])
    with time_machine.travel(datetime(2026, 5, 9, 9, tzinfo=store_a.zone), tick=False):
        response = client_a.post(url, {"text": CHINESE, "source": "生意参谋"})
        assert response.status_code == 302
        response = client_a.post(url, {"file": SimpleUploadedFile("peers.csv", ENGLISH.encode()), "source": ""},
                                 follow=True)
    page = response.content.decode()
    assert "Saved 5 peer figures of Fri 8 May." in page
    assert '<td data-label="Day">Fri 8 May</td>' in page  # the recent figures, in the house style
    assert "3.20 %" in page and "12,500.00\u00a0CNY" in page and "生意参谋" in page
    assert len(figures(store_a)) == 9


def test_the_page_names_each_bad_row_and_saves_nothing(client, store_a):
    manager = MembershipFactory(store=store_a, role="manager").user
    client.force_login(manager)
    url = reverse("metrics:peer_benchmarks", args=[store_a.slug])
    page = client.post(url, {"text": "date,metric,level,value\n2026-05-08,conversion,average,abc\n"
                                     "2026-05-08,uv,top,12\n"}).content.decode()
    assert "Nothing was saved" in page
    assert "row 2, value: &#x27;abc&#x27; is not a number" in page
    assert not PeerBenchmark.objects.exists()
    page = client.post(url, {"text": ""}).content.decode()
    assert "Paste the rows or choose a file." in page


def test_another_stores_page_is_a_404_and_takes_nothing(client_a, store_b):
    url = reverse("metrics:peer_benchmarks", args=[store_b.slug])
    assert client_a.get(url).status_code == 404
    assert client_a.post(url, {"text": ENGLISH}).status_code == 404
    assert not PeerBenchmark.objects.exists()


def own_day(store, day, **values):
    for metric, value in values.items():
        DailyMetric.objects.create(store=store, day=day, metric=metric, value=Decimal(value))


def panel(page: str, slug: str) -> str:
    return re.search(rf'<section class="card"[^>]*id="store-{slug}">(.*?)</section>', page, re.S).group(1)


def peer_notes(html: str) -> list[str]:
    """The peers' notes under the metric names of a daily table, spaces as spaces."""
    notes = re.findall(r"<small[^>]*>(peers.*?)</small>", html, re.S)
    return [n.replace("\u00a0", " ").replace("&nbsp;", " ") for n in notes]


def test_daily_page_shows_the_peers_of_its_day_and_store_with_the_gap_to_the_average(client_a, operator_a, store_a,
                                                                                     store_b):
    MembershipFactory(store=store_b, user=operator_a, role="operator")
    own_day(store_a, date(2026, 5, 8), gmv="11000", orders="100", visitors="2000", conversion="0.05", aov="110")
    own_day(store_b, date(2026, 5, 8), gmv="500", orders="5", visitors="100", conversion="0.05", aov="100")
    import_peer_benchmarks(store_a, "date,metric,level,value\n"
                                    "2026-05-08,conversion,average,3.1%\n2026-05-08,conversion,top,5%\n"
                                    "2026-05-08,gmv,average,10000\n2026-05-08,aov,top,150\n"
                                    "2026-05-07,visitors,average,1500\n")
    import_peer_benchmarks(store_b, "date,metric,level,value\n2026-05-08,visitors,average,77\n")
    with time_machine.travel(datetime(2026, 5, 9, 9, tzinfo=store_a.zone), tick=False):
        # A user of two stores: each store's panel is on its own page.
        mine, theirs = (panel(client_a.get(reverse("metrics:store_daily", args=[s.slug]) + "?day=2026-05-08")
                              .content.decode(), s.slug) for s in (store_a, store_b))
    assert peer_notes(mine) == [
        'peers 10,000.00 CNY avg · <span class="up">+10 %</span> vs avg',  # GMV
        'peers 3.10 % avg · 5.00 % top · <span class="up">+1.9 pts</span> vs avg',  # conversion: a gap in points
        "peers 150.00 CNY top",  # AOV: no average, no gap
    ]  # and no visitors: the 7th's figure is no figure of the 8th
    assert peer_notes(theirs) == ['peers 77 avg · <span class="up">+30 %</span> vs avg']  # 100 visitors
    assert reverse("metrics:peer_benchmarks", args=[store_a.slug]) in mine

