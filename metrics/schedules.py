"""Beat schedules of daily tracking: both hourly, because every store and manager has its own zone."""

from opsdesk.schedules import Schedule

SCHEDULES = [
    Schedule("metrics: nightly rollup (per store-local day)", "metrics.tasks.nightly_rollup",
             crontab={"minute": "35"}),
    Schedule("metrics: morning email (08:00 manager-local)", "metrics.tasks.send_morning_emails",
             crontab={"minute": "2"}),
    Schedule("metrics: prune the live view's change notes", "metrics.tasks.prune_event_changes",
             crontab={"minute": "50", "hour": "3"}),
]
