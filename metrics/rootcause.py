"""Root cause of an anomaly: Adtributor-style attribution over dimensions and the GMV metric tree.

Adtributor (Bhagwan et al., NSDI 2014): for each dimension, compare the expected share p of every
value with its actual share q; the Jensen-Shannon term of (p, q) is the value's *surprise*, and
(actual − expected) / (total actual − total expected) its *explanatory power*. The dimension whose
few most surprising values explain most of the change is the root cause.

Metric tree: GMV = visitors × conversion × AOV, so ln(GMV change) is the sum of the factors' log
changes; each factor's share of that sum says which one moved.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from opsdesk.lazy import lazy_module

pd = lazy_module("pandas")
stats = lazy_module("scipy.stats")


# Which breakdown of which metric sums to an overall metric (None: no such breakdown).
DIMENSION_METRIC: dict[str, dict[str, str]] = {
    "gmv": {"traffic_source": "gmv", "product": "sub_payments", "payment_type": "payments"},
    "orders": {"traffic_source": "orders", "payment_type": "orders"},
    "buyers": {"traffic_source": "buyers"},
    "sub_payments": {"product": "sub_payments"},
    "units": {"product": "units"},
    "payments": {"payment_type": "payments"},
    "visitors": {"traffic_source": "visitors"},
    "sessions": {"traffic_source": "sessions"},
    "pv": {"traffic_source": "pv", "product": "pv"},
    "ad_spend": {"traffic_source": "ad_spend"},
    "ad_sales": {"traffic_source": "ad_sales"},
    "ad_clicks": {"traffic_source": "ad_clicks"},
}
# Ratio metrics are attributed through the additive metric behind them.
ATTRIBUTE_VIA = {"conversion": "orders", "aov": "gmv", "roas": "ad_sales"}

T_EEP = 0.1  # a value must explain at least 10 % of the change to be a candidate
T_EP = 0.67  # a candidate set must explain at least two thirds of it
# And the set must have moved the dimension's mix: when every payment type falls alike (the shares
# stay, surprise ≈ 0.0001), the biggest one "explains" most of the fall but is no cause of it.
T_SURPRISE = 0.002
# And the move must be more than chance at the day's volume: at 56 orders a payment type's share swings
# from 61 % to 46 % on an ordinary day. Some named value's count (its orders, or the metric itself when
# it counts things) must have left its usual share of the day's count: exact binomial test, p below 1 %
# (split over the named values). Without counts the dimension is not tested.
T_SIGNIFICANCE = 0.01
# The counts behind a money breakdown: each order moves its share, not each unit of money.
COUNTED_BY = {"gmv": "orders", "payments": "orders", "sub_payments": "orders"}


@dataclass
class Candidate:
    value: str
    expected: float
    actual: float
    surprise: float
    explanatory_power: float

    @property
    def change(self) -> float | None:
        return None if not self.expected else self.actual / self.expected - 1


@dataclass
class DimensionExplanation:
    dimension: str
    metric: str
    surprise: float
    explanatory_power: float
    candidates: list[Candidate] = field(default_factory=list)


def _js_term(p: float, q: float) -> float:
    total = 0.0
    m = (p + q) / 2
    if p > 0:
        total += p * math.log(p / m)
    if q > 0:
        total += q * math.log(q / m)
    return 0.5 * total


def beyond_chance(values: list[str], counts: tuple[pd.Series, pd.Series]) -> bool:
    """Whether some of `values` took a share of the day's count that its usual share makes unlikely.

    `counts`: (usual, actual) count of every value of the dimension, e.g. its orders.
    """
    index = counts[0].index.union(counts[1].index)
    usual = counts[0].reindex(index).fillna(0.0).clip(lower=0.0)
    actual = counts[1].reindex(index).fillna(0.0).clip(lower=0.0)
    n, usual_total = round(float(actual.sum())), float(usual.sum())
    if n <= 0 or usual_total <= 0:
        return True  # no count to weigh the shares by: nothing to test
    level = T_SIGNIFICANCE / len(values)
    for value in values:
        p = float(usual.get(value, 0.0)) / usual_total
        k = min(round(float(actual.get(value, 0.0))), n)
        if p <= 0.0:
            if k > 0:
                return True  # a value that usually brings nothing
            continue
        if p < 1.0 and stats.binomtest(k, n, p).pvalue < level:
            return True
    return False


def adtributor(expected: pd.Series, actual: pd.Series, dimension: str = "", metric: str = "",
               t_eep: float = T_EEP, t_ep: float = T_EP, totals: tuple[float, float] | None = None,
               counts: tuple[pd.Series, pd.Series] | None = None) -> DimensionExplanation | None:
    """Attribute the change of one dimension's total; None when no small set of values explains it.

    `totals` (actual, expected) of the overall metric, when known: each value's share of the change is
    then of the overall change, the same share the value's own anomaly quotes (the values' usual levels
    need not add up to the total's exactly). `counts` (usual, actual) of what the metric counts per
    value (`COUNTED_BY`), when known: the chosen values' move must beat chance at that volume.
    """
    index = expected.index.union(actual.index)
    f = expected.reindex(index).fillna(0.0).astype(float)
    a = actual.reindex(index).fillna(0.0).astype(float)
    f_total, a_total = float(f.sum()), float(a.sum())
    delta = totals[0] - totals[1] if totals else a_total - f_total
    if f_total <= 0 or a_total < 0 or abs(delta) < 1e-9:
        return None
    p = f / f_total
    q = a / a_total if a_total > 0 else a * 0.0
    surprise = pd.Series([_js_term(pi, qi) for pi, qi in zip(p, q, strict=True)], index=index)
    ep = (a - f) / delta
    chosen: list[Candidate] = []
    cumulative = 0.0
    for value in surprise.sort_values(ascending=False).index:
        if ep[value] <= t_eep:
            continue
        chosen.append(Candidate(str(value), float(f[value]), float(a[value]), float(surprise[value]),
                                float(ep[value])))
        cumulative += float(ep[value])
        if cumulative > t_ep:
            break
    if cumulative <= t_ep or not chosen or max(c.surprise for c in chosen) < T_SURPRISE:
        return None
    if counts is not None and not beyond_chance([c.value for c in chosen], counts):
        return None
    return DimensionExplanation(dimension, metric, sum(c.surprise for c in chosen), cumulative, chosen)


def rank_dimensions(breakdowns: dict[str, tuple[pd.Series, pd.Series]], metric: str = "",
                    metric_for: dict[str, str] | None = None,
                    totals: dict[str, tuple[float, float]] | None = None,
                    counts: dict[str, tuple[pd.Series, pd.Series]] | None = None) -> list[DimensionExplanation]:
    """Run Adtributor per dimension ({dimension: (expected, actual)}); most surprising first.

    Among equally explanatory sets, a smaller set is the better explanation (succinctness). `totals`:
    {dimension: (actual, expected)} of the overall metric each dimension splits; `counts`: {dimension:
    (usual, actual) counts per value} for the significance test.
    """
    found = []
    for dimension, (expected, actual) in breakdowns.items():
        result = adtributor(expected, actual, dimension, (metric_for or {}).get(dimension, metric),
                            totals=(totals or {}).get(dimension), counts=(counts or {}).get(dimension))
        if result:
            found.append(result)
    return sorted(found, key=lambda r: (r.surprise / len(r.candidates)), reverse=True)


def metric_tree(actual: dict[str, float], expected: dict[str, float]) -> dict | None:
    """Split GMV's log change into visitors, conversion and AOV (orders × AOV when no traffic data).

    Returns {factor: {"change": fraction, "share": fraction of GMV's log change}} and the top factor.
    """
    def ok(d, k):
        return d.get(k) is not None and d.get(k) > 0

    factors = ["visitors", "conversion", "aov"] if ok(actual, "visitors") and ok(expected, "visitors") \
        and ok(actual, "conversion") and ok(expected, "conversion") else ["orders", "aov"]
    if not all(ok(actual, k) and ok(expected, k) for k in factors):
        return None
    logs = {k: math.log(actual[k] / expected[k]) for k in factors}
    total = sum(logs.values())
    out = {k: {"change": math.exp(v) - 1, "share": (v / total) if abs(total) > 1e-12 else 0.0}
           for k, v in logs.items()}
    top = max(logs, key=lambda k: abs(logs[k]))
    return {"factors": out, "top": top, "log_change": total}


def as_json(explanations: list[DimensionExplanation]) -> list[dict]:
    return [asdict(e) for e in explanations]
