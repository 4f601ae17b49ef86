"""Metrics models: live traffic facts (events.py), the nightly daily tables (daily.py) and peers' figures (peers.py)."""

from .daily import *  # noqa: F403
from .events import *  # noqa: F403
from .peers import *  # noqa: F403
