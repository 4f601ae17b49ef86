"""Browser tests: Playwright drives Debian's chromium (Playwright cannot download its own here)."""

import os
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"],
    }


@pytest.fixture(scope="session")
def playwright(playwright):
    """pytest-playwright's, closing on the way out the database sessions opened while it ran: Playwright's sync
    API runs the code after its start in a context of its own, where Django keeps other connections than the
    session's (every later test's, even outside tests/e2e); left open, they stop the test database's drop."""
    yield playwright
    connections.close_all()


@pytest.fixture
def screenshot(page, request):
    """Save a full-page screenshot under test-artifacts/ (kept by CI as evidence of each page)."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str):
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{name}.png"), full_page=True)

    return take


@pytest.fixture
def login(page, live_server):
    """Log in on the test's page, or on another one (`on`: a page of a second browser context, a second user)."""
    def do(username: str, password: str = "pw-for-tests-123", on=None):
        tab = on or page
        tab.goto(f"{live_server.url}/accounts/login/")
        tab.fill("#id_username", username)
        tab.fill("#id_password", password)
        tab.click("button[type=submit]")
        tab.wait_for_url(f"{live_server.url}/")

    return do
