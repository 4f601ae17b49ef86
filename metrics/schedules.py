"""Beat schedules of daily tracking: the nightly rollup and the morning email hourly, because every
store and manager has its own zone; the sweep of days late facts marked every 5 minutes; in the demo
only, its storefront every minute."""

from opsdesk.schedules import Schedule

SCHEDULES = [
    Schedule("metrics: nightly rollup (per store-local day)", "metrics.tasks.nightly_rollup",
             crontab={"minute": "35"}),
    Schedule("metrics: morning email (08:00 manager-local)", "metrics.tasks.send_morning_emails",
             crontab={"minute": "2"}),
    # The after-commit task normally rebuilds a marked day at once; this catches what a lost task left.
    Schedule("metrics: rebuild days late facts changed", "metrics.tasks.refresh_stale_days", every_seconds=300),
    Schedule("metrics: prune the live view's change notes", "metrics.tasks.prune_event_changes",
             crontab={"minute": "50", "hour": "3"}),
    # Only in the demo (`make demo` sets OPSDESK_DEMO_TRAFFIC=1): its stores' shoppers keep coming.
    Schedule("metrics: demo storefront traffic and orders", "metrics.tasks.demo_traffic", every_seconds=60,
             setting="DEMO_TRAFFIC"),
]
