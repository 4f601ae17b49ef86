"""opsdesk: the operations desk of one or many online stores."""

from .celery import app as celery_app

__all__ = ("celery_app",)
