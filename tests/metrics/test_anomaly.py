"""The detector finds injected anomalies, ignores weekly rhythm, knows holidays and activities, and
root cause names the dimension that drove the change."""

import re
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from django.db.models import F

from metrics.anomaly import DEFAULT, detect_anomalies, flag, naive_flag, seasonal_baseline
from metrics.figures import pct
from metrics.models import ActionItem, Anomaly, DailyMetric
from metrics.rootcause import adtributor, metric_tree, rank_dimensions

WEEKDAY = np.array([0.9, 0.9, 0.95, 1.0, 1.1, 1.3, 1.25])


def weekly_series(days=120, level=1000.0, seed=3, start="2026-01-05", noise=0.05):
    rng = np.random.default_rng(seed)
    index = pd.date_range(start, periods=days, freq="D")
    return pd.Series(level * WEEKDAY[index.day_of_week] * rng.lognormal(0, noise, days), index=index)


def test_weekly_rhythm_is_not_an_anomaly_but_the_naive_rule_thinks_so():
    s = weekly_series()
    judged = seasonal_baseline(s)
    assert not flag(judged).iloc[60:].any()
    assert naive_flag(s, 0.15).iloc[60:].any()  # every Saturday jumps ~20 % over Friday


def test_injected_drop_is_found_with_its_size_and_direction():
    s = weekly_series()
    day = s.index[100]
    s[day] *= 0.55
    judged = seasonal_baseline(s)
    flagged = flag(judged)
    assert list(flagged[flagged].index) == [day]
    assert judged.at[day, "score"] < -3.5
    assert judged.at[day, "change"] == pytest.approx(-0.45, abs=0.08)
    assert judged.at[day, "low"] < judged.at[day, "baseline"] < judged.at[day, "high"]


def test_too_little_history_gives_no_verdict():
    s = weekly_series(days=20)
    s.iloc[-1] *= 0.2
    assert not flag(seasonal_baseline(s)).any()


def test_holidays_stay_out_of_the_baseline_and_need_a_bigger_move():
    s = weekly_series()
    holidays = [s.index[d] for d in (79, 86, 93)]  # three same-weekday holidays, each 2.5× a normal day
    for h in holidays:
        s[h] *= 2.5
    with_calendar = seasonal_baseline(s, holidays)
    without = seasonal_baseline(s)
    later = s.index[100]
    assert with_calendar.at[later, "baseline"] < without.at[later, "baseline"]
    small = weekly_series()
    small[small.index[100]] *= 1.3
    day = small.index[100]
    assert flag(seasonal_baseline(small)).at[day]
    assert not flag(seasonal_baseline(small, [day]), [day]).at[day]


COUNT_WEEKDAY = np.array([1.05, 1.0, 1.05, 1.0, 1.0, 0.9, 0.95])


def daily_counts(rate=6.0, days=140, seed=3, growth=0.0, start="2026-01-05"):
    """Orders a day drawn as Poisson counts around `rate` with a mild weekly rhythm (and optional growth)."""
    rng = np.random.default_rng(seed)
    index = pd.date_range(start, periods=days, freq="D")
    mean = rate * COUNT_WEEKDAY[index.day_of_week] * np.linspace(1, 1 + growth, days)
    return pd.Series(rng.poisson(mean).astype(float), index=index)


def test_the_charts_normal_band_exists_only_where_there_is_a_verdict():
    s = daily_counts()
    judged = seasonal_baseline(s, counts=True)
    unknown = judged["score"].isna()
    assert judged["baseline"].isna().iloc[:14].all() and not unknown.iloc[-7:].any()
    # No band drawn from 0 under the first weeks: both edges are missing together.
    assert judged.loc[unknown, ["low", "high"]].isna().all().all()
    assert (judged.loc[~unknown, "low"] < judged.loc[~unknown, "high"]).all()


@pytest.mark.parametrize("counts", [False, True])
def test_a_new_series_gets_no_verdict_until_its_day_to_day_noise_is_known(counts):
    # A new product selling with ±15 % day noise: its first weeks with a baseline must not flood the
    # list, which a default spread in place of the unknown one did (4–5 of its 13 days flagged).
    s = weekly_series(days=34, level=400, noise=0.15, seed=8).round()
    judged = seasonal_baseline(s, counts=counts)
    assert judged["baseline"].notna().iloc[-13:].all()
    assert judged["score"].isna().all() and not flag(judged).any()


def test_a_150_percent_spike_on_six_orders_a_day_is_flagged():
    s = daily_counts()
    day = s.index[-1]
    s[day] = 15.0  # 6 expected: a Poisson tail of about 1 in 700
    judged = seasonal_baseline(s, counts=True)
    assert flag(judged).at[day]
    assert judged.at[day, "score"] > 2.75 and judged.at[day, "baseline"] == pytest.approx(6, abs=1)


def test_ordinary_poisson_days_of_a_small_shop_are_not_flagged():
    for seed in range(5):
        judged = seasonal_baseline(daily_counts(seed=seed), counts=True)
        assert not flag(judged).any()


def test_growth_alone_is_not_flagged_for_counts_or_money():
    counts = daily_counts(rate=200, growth=0.6)  # +60 % over 20 weeks
    assert not flag(seasonal_baseline(counts, counts=True)).any()
    money = weekly_series(days=140) * np.linspace(1, 1.6, 140)
    assert not flag(seasonal_baseline(money)).any()


def test_a_count_spike_on_a_public_holiday_is_downgraded():
    s = daily_counts(rate=50)
    day = s.index[-1]
    s[day] = 85.0  # +70 %: abnormal on an ordinary day, within what a holiday may bring
    assert flag(seasonal_baseline(s, counts=True)).at[day]
    assert not flag(seasonal_baseline(s, [day], counts=True), [day]).at[day]


def test_a_series_that_just_started_has_no_verdict():
    s = daily_counts(rate=1000)
    s.iloc[:-10] = 0.0  # traffic tracking installed ten days ago: the zeros before are not history
    assert not flag(seasonal_baseline(s, counts=True)).any()


def test_adtributor_names_the_collapsed_source_not_the_products():
    expected_src = pd.Series({"organic": 300.0, "paid_search": 280.0, "social": 100.0, "direct": 120.0})
    actual_src = expected_src.copy()
    actual_src["paid_search"] = 40.0
    expected_prod = pd.Series({"a": 400.0, "b": 250.0, "c": 150.0})
    actual_prod = expected_prod * (actual_src.sum() / expected_src.sum())
    ranked = rank_dimensions({"traffic_source": (expected_src, actual_src), "product": (expected_prod, actual_prod)})
    assert ranked[0].dimension == "traffic_source"
    assert ranked[0].candidates[0].value == "paid_search"
    assert ranked[0].candidates[0].explanatory_power == pytest.approx(1.0)


def test_adtributor_finds_nothing_when_nothing_changed():
    s = pd.Series({"a": 1.0, "b": 2.0})
    assert adtributor(s, s) is None


def test_metric_tree_says_which_factor_moved():
    tree = metric_tree({"visitors": 700, "conversion": 0.02, "aov": 50},
                       {"visitors": 1000, "conversion": 0.02, "aov": 50})
    assert tree["top"] == "visitors"
    assert tree["factors"]["visitors"]["change"] == pytest.approx(-0.3)
    assert tree["factors"]["visitors"]["share"] == pytest.approx(1.0)
    assert metric_tree({"orders": 10, "aov": 60}, {"orders": 10, "aov": 50})["top"] == "aov"


def test_pct_uses_a_real_minus_sign():
    assert pct(-0.32) == "−32 %" and pct(0.051) == "+5 %" and pct(None) == "–"


# --- against the database --------------------------------------------------------------------------------

def seed_daily(store, end: date, days: int, drop_source: str | None = None, factor: float = 0.1,
               order_value: float = 50):
    """A rolled-up history: GMV split over sources with weekly rhythm (about 10,000 a day, orders of
    `order_value`); on `end` one source collapses (or jumps, with a `factor` above 1)."""
    rng = np.random.default_rng(11)
    rows = []
    shares = {"organic_search": 0.4, "paid_search": 0.35, "direct": 0.25}
    for k in range(days):
        day = end - timedelta(days=days - 1 - k)
        total = 10000 * WEEKDAY[day.weekday()] * rng.lognormal(0, 0.04)
        parts = {s: total * w * rng.lognormal(0, 0.03) for s, w in shares.items()}
        if day == end and drop_source:
            parts[drop_source] *= factor
        orders = {s: round(v / order_value) for s, v in parts.items()}
        rows.append(DailyMetric(store=store, day=day, metric="gmv", value=Decimal(f"{sum(parts.values()):.2f}")))
        rows.append(DailyMetric(store=store, day=day, metric="orders", value=sum(orders.values())))
        for s in shares:
            rows.append(DailyMetric(store=store, day=day, metric="gmv", dimension="traffic_source",
                                    dimension_value=s, value=Decimal(f"{parts[s]:.2f}")))
            rows.append(DailyMetric(store=store, day=day, metric="orders", dimension="traffic_source",
                                    dimension_value=s, value=orders[s]))
    DailyMetric.objects.bulk_create(rows)


def seed_breakdowns(store, end: date, days: int, products: dict, drop_source_share: float = 1.0,
                    stop_product=None, stop_payment=None, units_per_day: int = 200):
    """Units and sales by product (with its product views) and orders by payment type, around a store
    that sells ~200 orders a day; `products` maps each product to its share of the `units_per_day`.
    `drop_source_share` scales the last day's whole business (a source stopped: every product and
    payment type sells less alike); `stop_product` / `stop_payment` stops one alone."""
    rng = np.random.default_rng(5)
    payments = {"credit_card": 0.6, "voucher": 0.4}
    rows = []
    for k in range(days):
        day = end - timedelta(days=days - 1 - k)
        scale = WEEKDAY[day.weekday()] * (drop_source_share if day == end else 1.0)
        units = {pk: int(rng.poisson(units_per_day * w * scale)) for pk, w in products.items()}
        views = {pk: round(n * 10 * rng.lognormal(0, 0.05)) for pk, n in units.items()}
        orders = {t: int(rng.poisson(200 * w * scale)) for t, w in payments.items()}
        if day == end and stop_product:
            units[stop_product], views[stop_product] = 0, round(views[stop_product] * 0.05)
        if day == end and stop_payment:
            orders[stop_payment] = 2
        rows.append(DailyMetric(store=store, day=day, metric="units", value=sum(units.values())))
        rows.append(DailyMetric(store=store, day=day, metric="sub_payments", value=50 * sum(units.values())))
        rows.append(DailyMetric(store=store, day=day, metric="orders", value=sum(orders.values())))
        for pk in products:
            if units[pk]:
                rows.append(DailyMetric(store=store, day=day, metric="units", dimension="product",
                                        dimension_value=str(pk), value=units[pk]))
                rows.append(DailyMetric(store=store, day=day, metric="sub_payments", dimension="product",
                                        dimension_value=str(pk), value=50 * units[pk]))
            rows.append(DailyMetric(store=store, day=day, metric="pv", dimension="product", dimension_value=str(pk),
                                    value=views[pk]))
        for t, n in orders.items():
            rows.append(DailyMetric(store=store, day=day, metric="orders", dimension="payment_type",
                                    dimension_value=t, value=n))
    DailyMetric.objects.bulk_create(rows)


@pytest.mark.django_db
def test_a_bestseller_that_stops_selling_alone_is_an_anomaly_of_its_own(client_a, store_a, teas):
    from django.urls import reverse

    day = date(2026, 5, 6)
    seed_breakdowns(store_a, day, 90, {teas[0].pk: 0.5, teas[1].pk: 0.3, teas[2].pk: 0.2}, stop_product=teas[1].pk)
    found = {(a.dimension, a.dimension_value): a for a in detect_anomalies(store_a, day)}
    green = found[("product", str(teas[1].pk))]
    assert (green.metric, green.direction, float(green.value)) == ("units", "down", 0.0)
    assert re.fullmatch(r"“Green tea 100 g” units sold −100 % vs usual Wednesday: 0, usually \d\d "
                        r"\(product views −9\d %\); all products' units sold −\d\d %\.", green.explanation)
    assert green.title == "Units sold · Green tea 100 g"
    assert ("product", str(teas[0].pk)) not in found and ("product", str(teas[2].pk)) not in found
    page = client_a.get(reverse("metrics:anomaly", args=[green.pk])).content.decode()
    assert "Green tea 100 g" in page and "anomaly-chart" in page  # the product's own history, charted


@pytest.mark.django_db
def test_a_slow_sellers_empty_day_is_not_news(store_a, teas):
    day = date(2026, 5, 6)
    # 40 units a day, 3 of them the green tea: a day without one happens about once in twenty.
    seed_breakdowns(store_a, day, 90, {teas[0].pk: 0.925, teas[1].pk: 0.075}, stop_product=teas[1].pk,
                    units_per_day=40)
    assert not [a for a in detect_anomalies(store_a, day) if a.dimension == "product"]


@pytest.mark.django_db
def test_when_a_source_stops_products_and_payment_types_are_not_flagged_one_by_one(store_a, teas):
    day = date(2026, 5, 6)
    seed_breakdowns(store_a, day, 90, {teas[0].pk: 0.5, teas[1].pk: 0.3, teas[2].pk: 0.2}, drop_source_share=0.5)
    found = detect_anomalies(store_a, day)
    assert {(a.metric, a.dimension) for a in found} >= {("sub_payments", ""), ("orders", "")}  # the store halved
    assert ("units", "") not in {(a.metric, a.dimension) for a in found}  # the same news, not told a third time
    assert not [a for a in found if a.dimension in ("product", "payment_type")]


@pytest.mark.django_db
def test_a_payment_method_that_stops_working_is_flagged(store_a, teas):
    day = date(2026, 5, 6)
    seed_breakdowns(store_a, day, 90, {teas[0].pk: 1.0}, stop_payment="credit_card")
    found = {(a.dimension, a.dimension_value): a for a in detect_anomalies(store_a, day)}
    card = found[("payment_type", "credit_card")]
    assert card.metric == "orders" and card.direction == "down" and card.value == 2
    assert card.baseline == pytest.approx(Decimal(120), rel=0.25)
    assert re.fullmatch(r"Credit card paid orders −98 % vs usual Wednesday: 2, usually \d+; all paid orders −\d\d %\.",
                        card.explanation)
    assert ("payment_type", "voucher") not in found  # the other method took its usual orders


@pytest.mark.django_db
def test_detector_finds_injected_drop_and_root_cause_names_the_source(store_a):
    day = date(2026, 5, 6)
    seed_daily(store_a, day, 90, drop_source="paid_search")
    found = {(a.metric, a.dimension_value): a for a in detect_anomalies(store_a, day)}
    gmv = found[("gmv", "")]
    assert gmv.direction == "down" and gmv.change == pytest.approx(-0.29, abs=0.06)  # expected 9,500: −25 %…−31 %
    assert gmv.root_cause["top_dimension"] == "traffic_source"
    assert gmv.root_cause["top_value"] == "paid_search"
    assert gmv.explanation.startswith(f"GMV {pct(gmv.change)} vs usual Wednesday: paid-search GMV −")
    assert ("gmv", "paid_search") in found


def seed_payment_mix(store, end: date, days: int, orders_per_day: int):
    """Payments and orders by payment type, Alipay usually 61 % of both (100 an order); on `end` WeChat
    Pay takes its usual orders and Alipay only 46 % of the day's, the move the reviewer saw at 56 orders."""
    rng = np.random.default_rng(3)
    rows = []
    for k in range(days):
        day = end - timedelta(days=days - 1 - k)
        orders = {"alipay": int(rng.poisson(0.61 * orders_per_day)), "wechat": int(rng.poisson(0.39 * orders_per_day))}
        if day == end:
            orders["wechat"] = round(0.39 * orders_per_day)
            orders["alipay"] = round(orders["wechat"] * 46 / 54)
        paid = {t: Decimal(f"{n * 100 * rng.lognormal(0, 0.02):.2f}") for t, n in orders.items()}
        for metric in ("gmv", "payments"):
            rows.append(DailyMetric(store=store, day=day, metric=metric, value=sum(paid.values())))
        rows.append(DailyMetric(store=store, day=day, metric="orders", value=sum(orders.values())))
        for t in orders:
            rows.append(DailyMetric(store=store, day=day, metric="payments", dimension="payment_type",
                                    dimension_value=t, value=paid[t]))
            rows.append(DailyMetric(store=store, day=day, metric="orders", dimension="payment_type",
                                    dimension_value=t, value=orders[t]))
    DailyMetric.objects.bulk_create(rows)


@pytest.mark.django_db
def test_a_payment_types_share_swing_at_56_orders_a_day_is_named_as_no_cause(store_a):
    from metrics.anomaly import explain

    day = date(2026, 5, 6)
    seed_payment_mix(store_a, day, 90, orders_per_day=56)
    cause = explain(store_a, day, "gmv")
    assert cause["top_dimension"] is None and cause["dimensions"] == []
    assert re.fullmatch(r"GMV −\d+ % vs usual Wednesday: no single payment type explains it\.", cause["summary"])


@pytest.mark.django_db
def test_the_same_share_move_at_2000_orders_a_day_is_named(store_a):
    from metrics.anomaly import explain

    day = date(2026, 5, 6)
    seed_payment_mix(store_a, day, 90, orders_per_day=2000)
    cause = explain(store_a, day, "gmv")
    assert (cause["top_dimension"], cause["top_value"]) == ("payment_type", "alipay")
    assert re.fullmatch(r"GMV −\d+ % vs usual Wednesday: Alipay payments received −4\d %\.", cause["summary"])


@pytest.mark.django_db
def test_a_paid_search_collapse_at_40_orders_a_day_is_still_named(store_a):
    from metrics.anomaly import explain

    day = date(2026, 5, 6)
    seed_daily(store_a, day, 90, drop_source="paid_search", order_value=250)  # ~14 paid-search orders → ~1
    cause = explain(store_a, day, "gmv")
    assert (cause["top_dimension"], cause["top_value"]) == ("traffic_source", "paid_search")


@pytest.mark.django_db
def test_a_sources_usual_level_reads_the_same_in_the_root_cause_and_in_its_own_anomaly(store_a):
    day = date(2026, 5, 6)
    seed_daily(store_a, day, 90, drop_source="paid_search")
    found = {(a.metric, a.dimension_value): a for a in detect_anomalies(store_a, day)}
    gmv, source = found[("gmv", "")], found[("gmv", "paid_search")]
    by_source = next(d for d in gmv.root_cause["dimensions"] if d["dimension"] == "traffic_source")
    paid = next(c for c in by_source["candidates"] if c["value"] == "paid_search")
    assert paid["expected"] == pytest.approx(float(source.baseline), rel=1e-5)
    # …and so does its share of the change ("explains 78 %" on one page, "78 % of that change" on the other).
    share = (source.value - source.baseline) / (gmv.value - gmv.baseline)
    assert paid["explanatory_power"] == pytest.approx(float(share), rel=1e-4)
    assert f"{min(float(share), 1) * 100:.0f} % of that change" in source.explanation


@pytest.mark.django_db
def test_a_new_source_that_doubles_gmv_is_named_with_its_amount_not_a_dash(store_a):
    # An affiliate campaign starts on the day: its source has no history, so no percentage of its usual.
    day = date(2026, 5, 6)
    seed_daily(store_a, day, 90)
    for metric, extra in (("gmv", 9000), ("orders", 180)):
        DailyMetric.objects.filter(store=store_a, day=day, metric=metric, dimension="").update(value=F("value") + extra)
        DailyMetric.objects.create(store=store_a, day=day, metric=metric, dimension="traffic_source",
                                   dimension_value="campaign", value=extra)
    found = {a.metric: a for a in detect_anomalies(store_a, day) if not a.dimension}
    assert found["gmv"].explanation == "GMV +103 % vs usual Wednesday: Campaign GMV from 0 to 9,000.00 CNY."
    assert "Campaign paid orders from 0 to 180" in found["orders"].explanation


@pytest.mark.django_db
def test_no_share_is_quoted_of_a_change_the_total_barely_made(store_a):
    day = date(2026, 5, 6)
    seed_daily(store_a, day, 90, drop_source="paid_search")
    # Direct made up for the paid-search loss: the store's GMV is as usual.
    cell = DailyMetric.objects.filter(store=store_a, day=day, metric="gmv")
    week_before = cell.model.objects.get(store=store_a, day=day - timedelta(days=7), metric="gmv", dimension="")
    lost = week_before.value - cell.get(dimension="").value
    cell.filter(dimension="").update(value=week_before.value)
    direct = cell.get(dimension_value="direct")
    cell.filter(pk=direct.pk).update(value=direct.value + lost)
    paid = {(a.metric, a.dimension_value): a for a in detect_anomalies(store_a, day)}[("gmv", "paid_search")]
    assert re.search(r"overall GMV [−+±]\d %\.$", paid.explanation), paid.explanation
    assert "of that change" not in paid.explanation


@pytest.mark.django_db
def test_a_breakdown_that_fell_alike_everywhere_is_not_named_as_the_cause(store_a, teas):
    day = date(2026, 5, 6)
    seed_breakdowns(store_a, day, 90, {teas[0].pk: 1.0}, drop_source_share=0.5)
    orders = {(a.metric, a.dimension): a for a in detect_anomalies(store_a, day)}[("orders", "")]
    # Card and voucher orders both halved: the bigger one "explains" most of the fall, but is no cause.
    assert [d["dimension"] for d in orders.root_cause["dimensions"]] == []


def test_redetection_updates_in_place_and_keeps_the_plan(store_a):
    day = date(2026, 5, 6)
    seed_daily(store_a, day, 90, drop_source="paid_search")
    first = {a.metric: a for a in detect_anomalies(store_a, day) if not a.dimension}["gmv"]
    first.status, first.plan = "plan", "Resume the ads."
    first.save()
    ActionItem.objects.create(anomaly=first, text="Call the agency")
    again = {a.metric: a for a in detect_anomalies(store_a, day) if not a.dimension}["gmv"]
    assert again.pk == first.pk
    again.refresh_from_db()
    assert (again.status, again.plan) == ("plan", "Resume the ads.")
    assert Anomaly.objects.filter(store=store_a, day=day, metric="gmv", dimension="").count() == 1


@pytest.mark.django_db
def test_untouched_anomaly_disappears_when_corrected_data_is_normal(store_a):
    day = date(2026, 5, 6)
    seed_daily(store_a, day, 90, drop_source="paid_search")
    detect_anomalies(store_a, day)
    DailyMetric.objects.filter(store=store_a).delete()
    seed_daily(store_a, day, 90)
    assert detect_anomalies(store_a, day) == []
    assert not Anomaly.objects.filter(store=store_a, day=day).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("factor", "explained"), [(3.0, True), (0.1, False)])
def test_a_running_activity_explains_a_jump_but_not_a_drop(store_a, factor, explained):
    from campaigns.models import Activity

    day = date(2026, 5, 6)
    seed_daily(store_a, day, 90, drop_source="paid_search", factor=factor)
    Activity.objects.create(store=store_a, name="May clearance", kind="store_promotion", status="running",
                            start_date=day - timedelta(days=1), end_date=day + timedelta(days=1))
    gmv = {a.metric: a for a in detect_anomalies(store_a, day) if not a.dimension}["gmv"]
    # A clearance sells more: it explains a jump. Paid search stopping is not explained by it.
    assert gmv.is_explained is explained and ("May clearance" in gmv.explanation) is explained
    assert (gmv.explained_by.name if gmv.explained_by else None) == ("May clearance" if explained else None)


@pytest.mark.django_db
def test_public_holiday_is_named_and_downgraded(store_a):
    day = date(2026, 10, 1)  # National Day in China (store A is CN)
    seed_daily(store_a, day, 90, drop_source="paid_search")
    gmv = {a.metric: a for a in detect_anomalies(store_a, day) if not a.dimension}.get("gmv")
    assert gmv is not None and "National Day" in gmv.holiday and gmv.is_explained


def test_holiday_names_are_english_whatever_the_servers_locale(monkeypatch):
    from metrics.public_holidays import _holidays_of_year, holiday_calendar

    monkeypatch.setenv("LANGUAGE", "zh_CN")  # a server set up in Chinese: the library would answer 国庆节
    _holidays_of_year.cache_clear()
    try:
        assert holiday_calendar("CN", {2026})[date(2026, 10, 1)] == "National Day"
    finally:
        _holidays_of_year.cache_clear()


def test_fewer_refunds_is_not_an_anomaly_but_more_is(store_a):
    from metrics.anomaly import judge_day

    index = pd.date_range("2026-01-05", periods=120, freq="D")
    rng = np.random.default_rng(5)
    refunds = pd.Series(500 * rng.lognormal(0, 0.05, 120), index=index)
    low, high = refunds.copy(), refunds.copy()
    low.iloc[-1], high.iloc[-1] = 0.0, 2000.0
    day = index[-1].date()
    assert judge_day(pd.DataFrame({"refunds": low}), None, day) == []
    assert [v["metric"] for v in judge_day(pd.DataFrame({"refunds": high}), None, day)] == ["refunds"]


@pytest.mark.django_db
def test_detail_page_shows_root_cause_with_readable_names_and_chart(client_a, store_a):
    from django.urls import reverse

    day = date(2026, 5, 6)
    seed_daily(store_a, day, 90, drop_source="paid_search")
    gmv = {a.metric: a for a in detect_anomalies(store_a, day) if not a.dimension}["gmv"]
    page = client_a.get(reverse("metrics:anomaly", args=[gmv.pk])).content.decode()
    assert "Paid search / through train" in page
    assert "normal band" in page and "anomaly-chart" in page
    assert "By traffic source: GMV <" in page
    # Plain words: the table's first column is named for what it lists, no "surprise 0.046" in the text,
    # and the score's minus is the one every other number uses.
    assert "<th>Traffic source</th>" in page and "(surprise" not in page
    assert f"{gmv.score:.1f}".replace("-", "\u2212") in page
    # A share of the change reads as words a manager trusts: never "explains 100.31 %".
    shares = re.findall(r"explains (.+?) of the change", page)
    assert shares and all(re.fullmatch(r"all|\d{1,2} %", s) for s in shares)


@pytest.mark.django_db
def test_an_overall_move_flagged_for_its_abnormal_source_says_why_without_contradicting_itself(store_a):
    day = date(2026, 5, 6)
    seed_daily(store_a, day, 90, drop_source="paid_search", factor=0.4)  # GMV −14 %: within its own noise
    found = {(a.metric, a.dimension_value): a for a in detect_anomalies(store_a, day)}
    gmv = found[("gmv", "")]
    assert abs(gmv.score) < DEFAULT.threshold  # not abnormal on its own…
    assert gmv.explanation.endswith("(A move this size happens on some ordinary days too; flagged because "
                                    "paid-search, which drove it, is abnormal.)")  # …and the words say so plainly


@pytest.mark.django_db
def test_a_gmv_flagged_for_its_source_is_labelled_with_the_source_and_its_move_on_its_page(client_a, store_a):
    from django.urls import reverse

    day = date(2026, 5, 6)
    seed_daily(store_a, day, 90, drop_source="paid_search", factor=0.4)
    found = {(a.metric, a.dimension_value): a for a in detect_anomalies(store_a, day)}
    gmv, source = found[("gmv", "")], found[("gmv", "paid_search")]
    flagged_for = f"Paid search / through train ({pct(source.change)})"
    assert gmv.flagged_because == f"flagged because of {flagged_for}" and source.flagged_because == ""
    page = client_a.get(reverse("metrics:anomaly", args=[gmv.pk])).content.decode().replace("\u00a0%", " %")
    # Beside a score and chart that may show an ordinary day, the reason it is here at all.
    assert f'Flagged for its source</span> {flagged_for} drove it' in page and "inside the normal band" in page
    page = client_a.get(reverse("metrics:anomaly", args=[source.pk])).content.decode()
    assert "Flagged for its source" not in page


@pytest.mark.django_db
def test_the_ad_spend_beside_a_source_reads_as_money_in_the_stores_currency(store_a):
    # Paid search collapses because its spend stopped: the explanation writes the spend as every page
    # writes money ("588.00 CNY, usually 4,243.00 CNY"), not as a bare count ("588, usually 4,243").
    day = date(2026, 5, 6)
    seed_daily(store_a, day, 90, drop_source="paid_search")
    DailyMetric.objects.bulk_create([
        DailyMetric(store=store_a, day=day - timedelta(days=k), metric="ad_spend", dimension="traffic_source",
                    dimension_value="paid_search", value=Decimal("588.40") if k == 0 else Decimal("4243.25"))
        for k in range(90)])
    gmv = next(a for a in detect_anomalies(store_a, day) if a.metric == "gmv" and not a.dimension)
    assert "ad spend 588.40 CNY, usually 4,243.25 CNY" in gmv.explanation, gmv.explanation


def test_a_shown_explanation_keeps_each_amount_beside_its_currency():
    from metrics.templatetags.daily import keep_pct
    shown = keep_pct("GMV −40 % vs usual Wednesday: paid-search GMV −91 % (ad spend 588.40 CNY, usually 4,243.25 CNY)")
    assert "588.40\u00a0CNY, usually 4,243.25\u00a0CNY" in shown and "−40\u00a0%" in shown
