"""Campaign models: activities (activities.py), plans (plans.py), playbooks (playbooks.py), ads (ads.py),
product launches (launches.py)."""

from .activities import *  # noqa: F403
from .ads import *  # noqa: F403
from .launches import *  # noqa: F403
from .plans import *  # noqa: F403
from .playbooks import *  # noqa: F403
