"""Beat schedules for paid promotion (the lead adds them to campaigns/schedules.py's SCHEDULES)."""

from opsdesk.schedules import Schedule

SCHEDULES = [
    # Hourly, so each store's plans end soon after its own local midnight.
    Schedule("campaigns: end finished ad plans", "campaigns.ads_tasks.end_finished_plans", crontab={"minute": "5"}),
    # After :05, so a plan ended this hour is not alerted on; snapshots come in hourly.
    Schedule("campaigns: email new ad pacing alerts", "campaigns.ads_tasks.send_pacing_alerts",
             crontab={"minute": "15"}),
]
