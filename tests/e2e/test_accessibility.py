"""Every page the layout sweep visits is usable with a keyboard and a screen reader, as axe-core judges it.

axe-core (bundled by axe-playwright-python) runs on each page of tests/e2e/test_layouts.py's sweep once,
at 1366×768; a violation of impact "serious" or "critical" fails the test, listed by rule, page and element.
A finding that is a false positive or not worth fixing is excluded below by rule *and* selector, with its
reason — never a whole rule.

The sweep sees pages as a manager, logged in, at laptop width. The operator's daily pages are checked again as an
operator at laptop and phone width (a wide table scrolls sideways on a phone, which the laptop never shows), and the
log-in and password pages logged out, both against the WCAG 2 A and AA rules only.
"""

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from django.urls import reverse

from stores.models import Role
from tests.e2e.test_layouts import VIEWPORTS, page_urls
from tests.world import objects, seed_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FAILING_IMPACTS = {"serious", "critical"}
WCAG_2_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# (rule id, CSS selector, why): a violation of that rule on an element matching the selector, or inside one, is not
# reported. One line each, saying why.
EXCLUDED: list[tuple[str, str, str]] = []

# The violating elements of one axe result that no exclusion covers, as "selector: summary" lines.
UNEXCLUDED = """([nodes, exclusions]) => nodes.filter(node => {
    const el = document.querySelector(node.target[0]);
    return !el || !exclusions.some(selector => el.closest(selector));
}).map(node => node.target.join(' ') + ': ' + (node.failureSummary || '').split('\\n').slice(1, 2).join('').trim())"""


def serious_violations(page, tags: list[str] | None = None) -> list[tuple[str, str, list[str]]]:
    """(rule id, impact, unexcluded elements) for each serious or critical violation on the page; axe's rules of
    those tags only if tags are given, all its rules otherwise."""
    found = []
    options = {"resultTypes": ["violations"], **({"runOnly": {"type": "tag", "values": tags}} if tags else {})}
    for violation in page.evaluate("options => axe.run(options)", options)["violations"]:
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


def wcag_violations(page, live_server, urls: list[str]) -> list[str]:
    """"page rule (impact): first element" for each WCAG 2 A/AA violation of impact serious or critical."""
    lines = []
    for url in urls:
        response = page.goto(live_server.url + url)
        assert response.status < 400, f"{url}: {response.status}"
        lines += [f"{url} {rule} ({impact}): {elements[0]}" for rule, impact, elements in
                  serious_violations(page, WCAG_2_A_AA)]
    return lines


def operator_pages(store, world) -> list[str]:
    """The pages an operator works through each day, one of each kind."""
    slug = {"slug": store.slug}
    return ["/", reverse("metrics:store_live", kwargs=slug), reverse("metrics:daily"),
            reverse("metrics:store_daily", kwargs=slug), reverse("metrics:anomaly", kwargs={"pk": world["anomaly"].pk}),
            reverse("campaigns:ads"), reverse("campaigns:ad_detail", kwargs={"pk": world["ad_plan"].pk}),
            reverse("reviews:store", kwargs=slug), reverse("reviews:case", kwargs={**slug, "pk": world["case"].pk}),
            reverse("stores:list"), reverse("stores:detail", kwargs=slug),
            reverse("stores:order", kwargs={**slug, "pk": world["order"].pk}), reverse("stores:my_settings")]


@pytest.mark.parametrize("size", sorted(VIEWPORTS))
def test_operator_pages_pass_wcag_a_and_aa_at_laptop_and_phone_width(page, live_server, login, size):
    store_a, _, operator = seed_world(role=Role.OPERATOR)
    operator.set_password("pw-for-tests-123")
    operator.save()
    login(operator.username)
    page.set_viewport_size(VIEWPORTS[size])
    page.add_init_script(AXE_SCRIPT)
    found = wcag_violations(page, live_server, operator_pages(store_a, objects(store_a)))
    assert not found, f"WCAG 2 A/AA violations of impact serious or critical at {size} width:\n" + "\n".join(found)


def test_log_in_and_password_pages_pass_wcag_a_and_aa_logged_out(page, live_server):
    page.add_init_script(AXE_SCRIPT)
    urls = [reverse("login"), reverse("password_reset"), reverse("password_reset_done"),
            reverse("password_reset_complete"), reverse("password_reset_confirm", args=["MQ", "broken-link"])]
    found = wcag_violations(page, live_server, urls)
    page.goto(live_server.url + reverse("login"))
    page.fill("#id_username", "nobody")
    page.fill("#id_password", "wrong password")
    page.click("button[type=submit]")
    page.wait_for_selector(".errorlist")  # the form again, with its error
    found += [f"failed log-in {rule} ({impact}): {elements[0]}"
              for rule, impact, elements in serious_violations(page, WCAG_2_A_AA)]
    assert not found, "WCAG 2 A/AA violations of impact serious or critical:\n" + "\n".join(found)
