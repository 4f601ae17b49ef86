"""Beat schedules for paid promotion (the lead adds them to campaigns/schedules.py's SCHEDULES)."""

from opsdesk.schedules import Schedule

SCHEDULES = [
    # Hourly, so each store's plans end soon after its own local midnight.
    Schedule("campaigns: end finished ad plans", "campaigns.ads_tasks.end_finished_plans", crontab={"minute": "5"}),
]
