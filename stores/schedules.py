"""Beat schedules of stores: the sweep that queues again an import job whose task was lost, and the nightly
prune of finished import jobs past their retention."""

from opsdesk.schedules import Schedule

SCHEDULES = [
    Schedule("stores: queue import jobs again whose task was lost", "stores.tasks.requeue_import_jobs",
             every_seconds=60),
    Schedule("stores: prune finished import jobs", "stores.tasks.prune_import_jobs",
             crontab={"minute": "20", "hour": "3"}),
]
