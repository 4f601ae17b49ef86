"""Daily rollups, comparisons and anomalies (built by the daily-tracking work)."""

__all__: list[str] = []
