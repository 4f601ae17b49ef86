"""Metrics models: live traffic facts (events.py) and the nightly daily tables (daily.py)."""

from .daily import *  # noqa: F403
from .events import *  # noqa: F403
