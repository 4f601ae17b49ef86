"""Peer benchmarks: the platform's figures of peer stores for a store's day (Business Advisor's
"同行同层平均 / 同行同层优秀", a category benchmark), entered by an operator beside the store's own numbers."""

from django.db import models

__all__ = ["PeerBenchmark", "PeerLevel", "PeerMetric"]


class PeerMetric(models.TextChoices):
    """The daily metrics a platform gives peers' figures for, with the keys of `metrics.rollup.METRICS`.
    Refund rate is left out: opsdesk has no refund rate of its own to set beside it."""

    VISITORS = "visitors", "Visitors"
    CONVERSION = "conversion", "Conversion"
    AOV = "aov", "Average order value"
    GMV = "gmv", "GMV"


class PeerLevel(models.TextChoices):
    AVERAGE = "average", "Peer average"
    TOP = "top", "Top peers"


class PeerBenchmark(models.Model):
    """One peer figure of one store-local day: money in the store's currency, rates as fractions (as DailyMetric)."""

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="peer_benchmarks")
    day = models.DateField(help_text="The store's local calendar day the platform's figure is for.")
    metric = models.CharField(max_length=20, choices=PeerMetric.choices)
    level = models.CharField(max_length=10, choices=PeerLevel.choices)
    value = models.DecimalField(max_digits=20, decimal_places=6)
    source = models.CharField(max_length=120, blank=True,
                              help_text="Where the figure came from, e.g. Business Advisor.")
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "day", "metric", "level"], name="peerbenchmark_unique_figure"),
            models.CheckConstraint(condition=models.Q(value__gte=0), name="peerbenchmark_value_not_negative"),
            models.CheckConstraint(condition=models.Q(metric__in=PeerMetric.values), name="peerbenchmark_metric_known"),
            models.CheckConstraint(condition=models.Q(level__in=PeerLevel.values), name="peerbenchmark_level_known"),
        ]
        ordering = ["-day", "metric", "level"]

    def __str__(self) -> str:
        return f"{self.store_id} {self.day} {self.metric} {self.level} = {self.value}"
