"""Creatives: check an uploaded picture really is an image we accept, and compare a plan's creatives.

The upload is opened with Pillow (not trusted by its name or content type), must be JPEG, PNG or
WebP, at most MAX_BYTES and MAX_SIDE pixels a side; it is stored under MEDIA with a random name, re-encoded
without its metadata and with a thumbnail beside it (opsdesk.images.clean_image).
The comparison puts each creative's CTR and CVR against the plan's other creatives pooled, with a
chi-square test on the 2×2 table (clicked / not clicked, or ordered / not ordered).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from opsdesk.images import CleanImage, check_image, clean_image
from opsdesk.money import to_money
from opsdesk.stored_pictures import BATCH_SIZE, CleaningTally, StoredPicture, clean_stored_picture

from .models import AdCreative, AdPlan, DerivedMetrics, ratio

MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 4096
MIN_SIDE = 50
FORMATS = ("JPEG", "PNG", "WEBP")
SIGNIFICANCE = 0.05


def validate_creative_image(upload) -> str:
    """Raise ValidationError unless `upload` is an acceptable creative; returns the file extension to use."""
    return check_image(upload, formats=FORMATS, max_bytes=MAX_BYTES, max_side=MAX_SIDE, min_side=MIN_SIDE,
                       unreadable="The file is not a readable image (JPEG, PNG or WebP).")


def clean_creative_image(upload) -> CleanImage:
    """Check `upload` like validate_creative_image and return it re-encoded, with its thumbnail."""
    return clean_image(upload, formats=FORMATS, max_bytes=MAX_BYTES, max_side=MAX_SIDE, min_side=MIN_SIDE,
                       unreadable="The file is not a readable image (JPEG, PNG or WebP).")


def clean_stored_creatives(*, dry_run: bool = False, batch_size: int = BATCH_SIZE) -> CleaningTally:
    """Re-encode every stored creative picture that predates re-encoding, as an upload is now
    (opsdesk.stored_pictures), and set its width and height from the upright picture."""
    tally = CleaningTally()
    storage = AdCreative._meta.get_field("image").storage
    after = 0
    while rows := list(AdCreative.objects.filter(pk__gt=after).exclude(image="").order_by("pk")
                       .values_list("pk", "image")[:batch_size]):
        for pk, name in rows:
            picture = StoredPicture(name=name, label=f"creative {pk}", repoint=_repoint_creative(pk, name),
                                    still_used=AdCreative.picture_in_use)
            clean_stored_picture(storage, picture, clean_creative_image, tally, dry_run=dry_run)
        after = rows[-1][0]
    return tally


def _repoint_creative(pk: int, old: str):
    def repoint(new: str, picture: CleanImage) -> bool:
        # only if the creative still shows the old picture: a replacement made meanwhile wins
        return AdCreative.objects.filter(pk=pk, image=old).update(
            image=new, width=picture.width, height=picture.height) > 0
    return repoint


@dataclass
class CreativeComparison(DerivedMetrics):
    """One creative's totals (so CTR, CVR … come from DerivedMetrics) against its plan's other creatives."""

    creative: AdCreative
    impressions: int
    clicks: int
    orders: int
    spend: Decimal
    sales: Decimal
    others_ctr: Decimal | None
    others_cvr: Decimal | None
    ctr_p: float | None
    cvr_p: float | None

    @property
    def ctr_p_text(self) -> str:
        return _p_text(self.ctr_p)

    @property
    def cvr_p_text(self) -> str:
        return _p_text(self.cvr_p)

    @property
    def ctr_verdict(self) -> str:
        return _verdict(self.ctr, self.others_ctr, self.ctr_p)

    @property
    def cvr_verdict(self) -> str:
        return _verdict(self.cvr, self.others_cvr, self.cvr_p)


def _p_text(p: float | None) -> str:
    if p is None:
        return ""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _verdict(mine, others, p) -> str:
    if p is None or mine is None or others is None:
        return "not enough data"
    if p >= SIGNIFICANCE:
        return "no clear difference"
    return "better" if mine > others else "worse"


def _p_value(success: int, trials: int, other_success: int, other_trials: int) -> float | None:
    from scipy.stats import chi2_contingency  # scipy.stats takes seconds to import: only when a test is computed

    table = [[success, trials - success], [other_success, other_trials - other_success]]
    if trials <= 0 or other_trials <= 0 or any(sum(row) == 0 for row in table) or \
            success + other_success == 0 or (trials - success) + (other_trials - other_success) == 0:
        return None
    return float(chi2_contingency(table)[1])


def compare_creatives(plan: AdPlan, start=None, end=None) -> list[CreativeComparison]:
    """Each creative of `plan` against the plan's other creatives pooled (dates start..end inclusive)."""
    creatives = list(plan.creatives.all())
    rows = AdCreative.objects.filter(plan=plan)
    filters = {}
    if start:
        filters["daily__date__gte"] = start
    if end:
        filters["daily__date__lte"] = end
    totals = {
        r["pk"]: r
        for r in rows.filter(**filters).values("pk").annotate(
            impressions=Sum("daily__impressions"), clicks=Sum("daily__clicks"), orders=Sum("daily__orders"),
            spend=Sum("daily__spend"), sales=Sum("daily__sales"),
        )
    }
    zero = {"impressions": 0, "clicks": 0, "orders": 0, "spend": Decimal(0), "sales": Decimal(0)}
    stats = {c.pk: {k: (totals.get(c.pk, {}).get(k) or v) for k, v in zero.items()} for c in creatives}
    for s in stats.values():  # SQLite sums decimals without their scale
        s["spend"], s["sales"] = to_money(s["spend"]), to_money(s["sales"])
    all_impr = sum(s["impressions"] for s in stats.values())
    all_clicks = sum(s["clicks"] for s in stats.values())
    all_orders = sum(s["orders"] for s in stats.values())
    result = []
    for c in creatives:
        s = stats[c.pk]
        o_impr, o_clicks, o_orders = all_impr - s["impressions"], all_clicks - s["clicks"], all_orders - s["orders"]
        result.append(CreativeComparison(
            creative=c, impressions=s["impressions"], clicks=s["clicks"], orders=s["orders"], spend=s["spend"],
            sales=s["sales"], others_ctr=ratio(o_clicks, o_impr), others_cvr=ratio(o_orders, o_clicks),
            ctr_p=_p_value(s["clicks"], s["impressions"], o_clicks, o_impr),
            cvr_p=_p_value(s["orders"], s["clicks"], o_orders, o_clicks),
        ))
    return result
