"""Every page at laptop width, each loaded once with every check on that load: tests/e2e/sweep.py."""

import pytest

from tests.e2e.sweep import sweep

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_every_page_fits_the_laptop_and_passes_axe_once_loaded(page, new_context, live_server, login, screenshot):
    sweep("laptop", page, new_context, live_server, login, screenshot)
