"""Campaign models: activities and plans (activities.py), paid promotion (ads.py)."""

from .activities import *  # noqa: F403
from .ads import *  # noqa: F403
