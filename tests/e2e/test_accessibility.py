"""Every page the layout sweep visits is usable with a keyboard and a screen reader, as axe-core judges it.

axe-core (bundled by axe-playwright-python) runs on each page of tests/e2e/test_layouts.py's sweep once,
at 1366×768; a violation of impact "serious" or "critical" fails the test, listed by rule, page and element.
A finding that is a false positive or not worth fixing is excluded below by rule *and* selector, with its
reason — never a whole rule.
"""

import pytest
from axe_playwright_python.base import AXE_SCRIPT

from stores.models import Role
from tests.e2e.test_layouts import VIEWPORTS, page_urls
from tests.world import seed_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FAILING_IMPACTS = {"serious", "critical"}

# (rule id, CSS selector, why): a violation of that rule on an element matching the selector, or inside one, is not
# reported. One line each, saying why.
EXCLUDED: list[tuple[str, str, str]] = []

# The violating elements of one axe result that no exclusion covers, as "selector: summary" lines.
UNEXCLUDED = """([nodes, exclusions]) => nodes.filter(node => {
    const el = document.querySelector(node.target[0]);
    return !el || !exclusions.some(selector => el.closest(selector));
}).map(node => node.target.join(' ') + ': ' + (node.failureSummary || '').split('\\n').slice(1, 2).join('').trim())"""


def serious_violations(page) -> list[tuple[str, str, list[str]]]:
    """(rule id, impact, unexcluded elements) for each serious or critical violation on the page."""
    found = []
    for violation in page.evaluate("axe.run({resultTypes: ['violations']})")["violations"]:
        if violation["impact"] not in FAILING_IMPACTS:
            continue
        exclusions = [selector for rule, selector, _ in EXCLUDED if rule == violation["id"]]
        if elements := page.evaluate(UNEXCLUDED, [violation["nodes"], exclusions]):
            found.append((violation["id"], violation["impact"], elements))
    return found


def test_every_page_passes_axe_serious_and_critical_rules(page, live_server, login):
    store_a, _, operator = seed_world(role=Role.MANAGER)  # a manager sees every page
    operator.set_password("pw-for-tests-123")
    operator.save()
    login(operator.username)
    page.set_viewport_size(VIEWPORTS["laptop"])
    page.add_init_script(AXE_SCRIPT)  # in every page before its own scripts: not sent over again for each one
    found: dict[tuple[str, str], list[str]] = {}  # (rule, impact) -> "page: element" lines
    checked = 0
    for url in page_urls(store_a):
        response = page.request.get(live_server.url + url)
        if response.status == 405 or "text/html" not in response.headers.get("content-type", ""):
            continue  # an action (POST only) or a download, not a page
        response = page.goto(live_server.url + url)
        assert response.status < 400, f"{url}: {response.status}"
        checked += 1
        for rule, impact, elements in serious_violations(page):
            found.setdefault((rule, impact), []).extend(f"  {url} {element}" for element in elements)
    report = [f"{rule} ({impact}): {len(lines)} elements on {len({line.split()[0] for line in lines})} pages\n"
              + "\n".join(lines[:20]) for (rule, impact), lines in sorted(found.items())]
    assert checked > 50, f"only {checked} pages checked"  # the sweep's ~60 pages, not a login page over and over
    assert not found, "axe violations of impact serious or critical:\n" + "\n".join(report)
