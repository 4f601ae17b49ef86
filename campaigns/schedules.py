"""Periodic tasks of the campaigns app (collected by opsdesk.schedules)."""

from .ads_schedules import SCHEDULES as ADS_SCHEDULES

SCHEDULES = [*ADS_SCHEDULES]
