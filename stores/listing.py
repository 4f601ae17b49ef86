"""Listing optimisation: how each version of a product's listing performed, and whether the change helped.

A version is live from its started_at until the next version starts (the current one until now).
For each version and traffic source we count product views and add-to-carts (metrics TrafficEvent;
an event without its own source takes its session's), and paid orders containing the product
(Order.traffic_source). The current version is compared with the previous one by a two-proportion
z-test, and the result is said in plain words.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Min
from django.utils import timezone

from opsdesk.images import CleanImage, clean_image, save_image
from opsdesk.stored_pictures import BATCH_SIZE, CleaningTally, StoredPicture, clean_stored_picture

from .forms import ListingVersionForm
from .models import ListingVersion, OrderLine, Product, TrafficSource

BASELINE_NOTE = "Listing before versions were recorded"


class NothingChanged(ValueError):
    """The submitted listing is the live one (same title, detail page and main picture): no version starts."""

    def __init__(self, live: ListingVersion | None):
        self.live = live
        super().__init__("Nothing changed: this title, detail page and main picture are already the live listing, "
                         "so no new version was started.")

SIGNIFICANCE = 0.05
MIN_VIEWS = 30  # below this many views in either version, we do not test at all
SESSION_LOOKBACK = timedelta(days=1)  # a view's session may have started this long before the period


@dataclass
class Counts:
    views: int = 0
    carts: int = 0
    orders: int = 0

    @property
    def cart_rate(self) -> float | None:
        return self.carts / self.views if self.views else None

    @property
    def conversion(self) -> float | None:
        return self.orders / self.views if self.views else None

    def add(self, other: Counts) -> None:
        self.views += other.views
        self.carts += other.carts
        self.orders += other.orders


@dataclass
class VersionPerformance:
    version: ListingVersion
    start: datetime
    end: datetime
    is_current: bool
    by_source: dict[str, Counts] = field(default_factory=dict)
    total: Counts = field(default_factory=Counts)
    changed: str = ""  # what differs from the version before, in words

    def source_rows(self) -> list[tuple[str, Counts]]:
        labels = dict(TrafficSource.choices)
        return [(labels[s], self.by_source[s]) for s in TrafficSource.values if s in self.by_source]


@dataclass(frozen=True)
class Comparison:
    """Current against previous version on one rate (conversion or add-to-cart rate)."""

    metric: str
    current: float | None
    previous: float | None
    p_value: float | None
    verdict: str

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < SIGNIFICANCE


def two_proportion_test(successes_a: int, trials_a: int, successes_b: int, trials_b: int) -> float:
    """Two-sided p-value of a pooled two-proportion z-test (b against a)."""
    from scipy.stats import norm  # scipy.stats takes seconds to import: only when a test is computed

    successes_a, successes_b = min(successes_a, trials_a), min(successes_b, trials_b)
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / trials_a + 1 / trials_b))
    if se == 0:
        return 1.0
    z = (successes_b / trials_b - successes_a / trials_a) / se
    return float(2 * norm.sf(abs(z)))


def format_p(p: float) -> str:
    if p < 0.001:
        return "p<0.001"
    return f"p={p:.3f}" if p < 0.01 else f"p={p:.2f}"


def _pct(rate: float) -> str:
    return f"{rate * 100:.1f} %"


def compare(current: Counts, previous: Counts, metric: str, what: str) -> Comparison:
    """The plain-words verdict on `metric` ("conversion" or "cart_rate") for a change described by `what`."""
    if metric == "conversion":
        verb, trials = "converts", ("views", "orders")
    else:
        verb, trials = "gets added to cart", ("views", "carts")
    n_cur, x_cur = getattr(current, trials[0]), getattr(current, trials[1])
    n_prev, x_prev = getattr(previous, trials[0]), getattr(previous, trials[1])
    rate_cur = min(x_cur, n_cur) / n_cur if n_cur else None
    rate_prev = min(x_prev, n_prev) / n_prev if n_prev else None
    if n_cur < MIN_VIEWS or n_prev < MIN_VIEWS:
        return Comparison(metric, rate_cur, rate_prev, None,
                          f"not enough data yet ({n_cur} views on the {what} version, {n_prev} before; "
                          f"need {MIN_VIEWS} each)")
    p = two_proportion_test(x_prev, n_prev, x_cur, n_cur)
    if p >= SIGNIFICANCE:
        return Comparison(metric, rate_cur, rate_prev, p,
                          f"not enough evidence yet ({_pct(rate_cur)} vs {_pct(rate_prev)}, {format_p(p)})")
    diff = (rate_cur - rate_prev) * 100
    direction = "better" if diff > 0 else "worse"
    return Comparison(metric, rate_cur, rate_prev, p,
                      f"{what} {verb} {abs(diff):.1f} pts {direction} "
                      f"({_pct(rate_cur)} vs {_pct(rate_prev)}), {format_p(p)}")


def describe_change(new: ListingVersion, old: ListingVersion | None) -> str:
    """"new title", "new main picture and detail page", ...; "new listing" when nothing tells them apart."""
    if old is None:
        return "first version"
    parts = [name for name, attr in (("title", "title"), ("main picture", "main_image"),
                                     ("detail page", "detail_page"))
             if getattr(new, attr) != getattr(old, attr)]
    if not parts:
        return "new listing"
    return "new " + (parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1])


def _session_sources(store_id: int, session_ids: set[str], start: datetime, end: datetime) -> dict[str, str]:
    """The source each of these sessions arrived by (its session_start), looked up in chunks."""
    from metrics.models import EventType, TrafficEvent

    found: dict[str, str] = {}
    ids = sorted(session_ids)
    for i in range(0, len(ids), 500):
        found.update(TrafficEvent.objects.filter(
            store_id=store_id, type=EventType.SESSION_START, ts__gte=start - SESSION_LOOKBACK, ts__lt=end,
            session_id__in=ids[i:i + 500]).values_list("session_id", "source"))
    return found


def _counts_by_source(product: Product, start: datetime, end: datetime) -> dict[str, Counts]:
    from metrics.models import EventType, TrafficEvent

    result: dict[str, Counts] = {}

    def add(source: str, kind: str, n: int) -> None:
        counts = result.setdefault(source if source in TrafficSource.values else TrafficSource.OTHER.value, Counts())
        if kind == EventType.PRODUCT_VIEW:
            counts.views += n
        else:
            counts.carts += n

    events = TrafficEvent.objects.filter(store_id=product.store_id, product=product, ts__gte=start, ts__lt=end,
                                         type__in=[EventType.PRODUCT_VIEW, EventType.ADD_TO_CART])
    for row in events.exclude(source="").values("source", "type").annotate(n=Count("id")):
        add(row["source"], row["type"], row["n"])
    # Events sent without a source take the source of the session they belong to.
    unsourced = list(events.filter(source="").values("session_id", "type").annotate(n=Count("id")))
    sources = _session_sources(product.store_id, {r["session_id"] for r in unsourced if r["session_id"]}, start, end)
    for row in unsourced:
        add(sources.get(row["session_id"], ""), row["type"], row["n"])
    orders = (OrderLine.objects
              .filter(product=product, order__store_id=product.store_id,
                      order__paid_at__gte=start, order__paid_at__lt=end)
              .values("order__traffic_source").annotate(n=Count("order_id", distinct=True)))
    for row in orders:
        source = row["order__traffic_source"]
        source = source if source in TrafficSource.values else TrafficSource.OTHER.value
        result.setdefault(source, Counts()).orders += row["n"]
    return result


def performance(product: Product, now: datetime | None = None) -> list[VersionPerformance]:
    """Every listing version of `product`, newest first, with its counts per traffic source."""
    now = now or timezone.now()
    versions = list(product.listing_versions.order_by("started_at"))
    result = []
    for i, version in enumerate(versions):
        end = versions[i + 1].started_at if i + 1 < len(versions) else max(now, version.started_at)
        perf = VersionPerformance(version=version, start=version.started_at, end=end,
                                  is_current=i == len(versions) - 1,
                                  changed=describe_change(version, versions[i - 1] if i else None))
        perf.by_source = _counts_by_source(product, version.started_at, end)
        for counts in perf.by_source.values():
            perf.total.add(counts)
        result.append(perf)
    return result[::-1]


@dataclass
class ListingReport:
    versions: list[VersionPerformance]
    conversion: Comparison | None = None
    cart_rate: Comparison | None = None
    by_source: list[tuple[str, Comparison]] = field(default_factory=list)


def report(product: Product, now: datetime | None = None) -> ListingReport:
    """Version history with the current-vs-previous verdicts, overall and per traffic source."""
    versions = performance(product, now)
    result = ListingReport(versions=versions)
    if len(versions) < 2:
        return result
    current, previous = versions[0], versions[1]
    what = current.changed
    result.conversion = compare(current.total, previous.total, "conversion", what)
    result.cart_rate = compare(current.total, previous.total, "cart_rate", what)
    labels = dict(TrafficSource.choices)
    for source in TrafficSource.values:
        if source in current.by_source or source in previous.by_source:
            result.by_source.append((labels[source], compare(
                current.by_source.get(source, Counts()), previous.by_source.get(source, Counts()),
                "conversion", what)))
    return result


def picture_path(product: Product, extension: str) -> str:
    """A safe media path for an uploaded main picture: nothing of the uploader's file name is kept."""
    return f"{ListingVersion.picture_folder}/{product.store_id}/{product.pk}/{uuid.uuid4().hex}.{extension}"


def _same_picture(stored: str, picture: CleanImage) -> bool:
    """Whether the stored picture at path `stored` has the bytes of `picture`, re-encoded or (a picture stored
    before uploads were re-encoded) as uploaded."""
    if not stored or "://" in stored or not default_storage.exists(stored):
        return False
    digest = hashlib.sha256()
    with default_storage.open(stored, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            digest.update(chunk)
    return digest.digest() in (hashlib.sha256(picture.content).digest(), picture.source_sha256)


def first_seen(product: Product, now: datetime) -> datetime:
    """When the product's listing was first live as far as the data knows: its creation, or earlier its
    first traffic event or paid order (a catalogue loaded after the shop had been selling)."""
    from metrics.models import TrafficEvent

    times = [product.created_at, now - timedelta(microseconds=1),
             TrafficEvent.objects.filter(store_id=product.store_id, product=product).aggregate(t=Min("ts"))["t"],
             OrderLine.objects.filter(product=product, order__store_id=product.store_id)
             .aggregate(t=Min("order__paid_at"))["t"]]
    return min(t for t in times if t is not None)


@transaction.atomic
def create_version(product: Product, *, title: str, detail_page: str = "", note: str = "",
                   picture: CleanImage | None = None, main_image: str | None = None, user=None,
                   now: datetime | None = None) -> ListingVersion:
    """Start a new listing version now and make its title the product's title.

    The main picture is an uploaded `picture` (checked and re-encoded, opsdesk.images.clean_image), stored
    with its thumbnail, or `main_image`, a web address the caller has checked
    (a review case's listing fix); with neither the live picture is kept.

    If the product has no recorded version yet, its listing so far is recorded first, from when the
    product was first seen in the data (`first_seen`), so the new version is compared with the traffic
    the product really had. A listing identical to the live one (a double submit, a form sent back
    unchanged) raises NothingChanged and records nothing: a zero-length version would become the one
    the next change is compared against.
    """
    now = now or timezone.now()
    product = Product.objects.select_for_update().get(pk=product.pk)  # two submits queue here
    previous = product.current_listing()
    live = (previous.title, previous.detail_page, previous.main_image) if previous else (
        product.title, product.detail_url, product.main_image_url)
    if main_image is not None:
        same_picture = main_image == live[2]
    else:
        same_picture = picture is None or _same_picture(live[2], picture)
    if (title, detail_page) == live[:2] and same_picture:
        raise NothingChanged(previous)
    if previous is None:
        previous = ListingVersion.objects.create(
            product=product, title=product.title, main_image=product.main_image_url,
            detail_page=product.detail_url, note=BASELINE_NOTE, started_at=first_seen(product, now))
    if main_image is None:
        main_image = previous.main_image
        if picture is not None and not same_picture:
            main_image = save_image(default_storage, picture_path(product, picture.extension), picture)
    version = ListingVersion.objects.create(
        product=product, title=title, main_image=main_image, detail_page=detail_page, note=note,
        started_at=now, created_by=user if getattr(user, "is_authenticated", False) else None)
    product.title = title
    product.save(update_fields=["title"])
    from metrics.live_cache import facts_arrived  # metrics builds on stores, not the other way round

    facts_arrived(product.store)  # the live view's top products show the title: its shared snapshot ends
    return version


def clean_listing_picture(upload) -> CleanImage:
    """`upload` checked and re-encoded as the listing form does it (its formats and limits)."""
    form = ListingVersionForm
    return clean_image(upload, formats=form.FORMATS, max_bytes=form.MAX_PICTURE_BYTES, max_side=form.MAX_PICTURE_SIDE,
                       unreadable="This file is not a picture we can read (JPEG, PNG, WebP or GIF).")


def clean_stored_pictures(*, dry_run: bool = False, batch_size: int = BATCH_SIZE) -> CleaningTally:
    """Re-encode every stored main picture of every listing version, history included, that predates re-encoding
    (opsdesk.stored_pictures); versions sharing a picture are pointed at its clean copy together.

    Products are read `batch_size` at a time: a picture's clean copy is written beside it in its product's
    folder, so a product's pictures are all handled in its batch and none is counted twice."""
    tally = CleaningTally()
    stored = ListingVersion.objects.exclude(main_image="").exclude(main_image__contains="://")
    after = 0
    while product_ids := list(stored.filter(product_id__gt=after).order_by("product_id")
                              .values_list("product_id", flat=True).distinct()[:batch_size]):
        versions: dict[str, list[int]] = {}
        for name, pk in (stored.filter(product_id__in=product_ids).order_by("main_image", "pk")
                         .values_list("main_image", "pk")):
            versions.setdefault(name, []).append(pk)
        for name, pks in versions.items():
            label = f"listing version{'s' if len(pks) > 1 else ''} {', '.join(map(str, pks))}"
            picture = StoredPicture(name=name, label=label, repoint=_repoint_versions(name),
                                    still_used=ListingVersion.picture_in_use)
            clean_stored_picture(default_storage, picture, clean_listing_picture, tally, dry_run=dry_run)
        after = product_ids[-1]
    return tally


def _repoint_versions(old: str):
    def repoint(new: str, picture: CleanImage) -> bool:
        return ListingVersion.objects.filter(main_image=old).update(main_image=new) > 0
    return repoint
