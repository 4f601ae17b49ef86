"""Beat schedules for member texts (times in UTC; each flow works out members' local days itself)."""

from opsdesk.schedules import Schedule

SCHEDULES = [
    Schedule("members: dispatch due texts", "members.tasks.dispatch_due_messages", every_seconds=60),
    Schedule("members: holiday greetings", "members.tasks.send_holiday_greetings", crontab={"minute": "5"}),
    Schedule("members: after-sales care", "members.tasks.send_after_sales_care", crontab={"minute": "15"}),
    Schedule("members: monthly benefits", "members.tasks.send_monthly_benefits", crontab={"minute": "25"}),
    Schedule("members: refresh RFM segments", "members.tasks.refresh_member_segments",
             crontab={"minute": "40", "hour": "19"}),
]
