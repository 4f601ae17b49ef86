"""Celery finds the campaigns app's tasks here."""

from .ads_tasks import end_finished_plans_task

__all__ = ["end_finished_plans_task"]
