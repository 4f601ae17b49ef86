"""Beat schedules of stores: the sweep that queues again an import job whose task was lost."""

from opsdesk.schedules import Schedule

SCHEDULES = [
    Schedule("stores: queue import jobs again whose task was lost", "stores.tasks.requeue_import_jobs",
             every_seconds=60),
]
