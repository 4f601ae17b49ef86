"""Campaign models: activities and plans (activities.py), paid promotion (ads.py), launches (launches.py)."""

from .activities import *  # noqa: F403
from .ads import *  # noqa: F403
from .launches import *  # noqa: F403
