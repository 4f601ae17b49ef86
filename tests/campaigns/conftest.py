"""Small builders for the campaigns tests."""

from datetime import date

import pytest

from campaigns.activity_templates import install_defaults
from campaigns.models import Activity


@pytest.fixture
def make_activity(store_a):
    def make(**kw):
        values = dict(store=store_a, name="Weekend 10% off", kind="store_promotion", start_date=date(2026, 11, 20),
                      end_date=date(2026, 11, 22), details={"mechanism": "discount", "discount_percent": "10"})
        values.update(kw)
        activity = Activity(**values)
        activity.full_clean()
        activity.save()
        return activity

    return make


@pytest.fixture
def default_templates(db):
    """The shared templates (re-created: a transactional test elsewhere may have flushed the migration's rows)."""
    install_defaults()
