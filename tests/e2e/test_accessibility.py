"""Every page is usable with a keyboard and a screen reader, as axe-core judges it: the rules and exclusions.

axe-core (bundled by axe-playwright-python) runs in tests/e2e/sweep.py on the load of each page the sweep
opens as a manager at 1366×768 (the layout checks run on the same load); a violation of impact "serious" or
"critical" fails it, listed by rule, page and element. A finding that is a false positive or not worth fixing is
excluded below by rule *and* selector, with its reason — never a whole rule.

The operator's daily pages (operator_pages) are checked again there as an operator at laptop and phone width (a wide
table scrolls sideways on a phone, which the laptop never shows), and the log-in and password pages logged out
here, both against the WCAG 2 A and AA rules only.
"""

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from django.urls import reverse

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
