"""The sweep of every page, once per width: each page is loaded once and every check that applies runs on that load.

At each width (1366×768 laptop, 390 px phone) a manager opens every page found from the URL conf
(test_layouts.page_urls) and an operator, in a second browser context, opens the pages of their day. The world is
seeded once per width (a transactional test's data is flushed after it). On each load:

- every page, as a manager, at both widths: the layout checks of test_layouts.py (no horizontal scroll bar, no
  number broken over lines, no stacked list cell off the screen, no button split over two lines, nothing fetched
  after the load event, no console error or uncaught exception) and a screenshot;
- every page, as a manager, at laptop width: axe-core with all its default rules, failing on impact "serious" or
  "critical" (exclusions, each with its reason: test_accessibility.EXCLUDED);
- the operator's daily pages (test_accessibility.operator_pages), as an operator, at both widths: axe's WCAG 2 A and
  AA rules only, impact serious or critical (an operator's page differs from a manager's: masked phone numbers,
  no morning-email setting);
- the lists an operator works through on a phone (test_layouts.PHONE_LISTS), as an operator, at phone width: each
  shows rows, none of its cells scrolled off to the right.

Failures are collected per page and per check and reported together: the message names the width, the check, the
page and what was found (axe: rule, impact and element).
"""

from axe_playwright_python.base import AXE_SCRIPT
from django.urls import reverse

from stores.models import Role, StoreMembership
from tests.e2e.test_accessibility import WCAG_2_A_AA, operator_pages, serious_violations
from tests.e2e.test_layouts import (
    BROKEN_NUMBERS,
    LOADED_LATE,
    OFF_SCREEN_CELLS,
    OFF_SCREEN_LIST_CELLS,
    PHONE_LISTS,
    SPLIT_BUTTONS,
    VIEWPORTS,
)
from tests.e2e.test_layouts import page_urls as every_page
from tests.factories import UserFactory
from tests.world import KWARGS, objects, seed_world

LAYOUT = "layout and scripts (every page, as a manager)"
AXE = "axe, impact serious or critical (every page, as a manager)"
WCAG = "axe's WCAG 2 A/AA rules, impact serious or critical (the operator's daily pages, as an operator)"
LISTS = "lists on a phone (as an operator)"
STATUS = "answer"


def visit(page, url: str) -> int | None:
    """Open url (its load event fired, as page.goto waits for); its status, or None for what is not a page: an action
    (POST only: 405), a download, JSON or a picture (asked first: chromium does not draw them as pages)."""
    response = page.request.get(url)
    if response.status == 405 or "text/html" not in response.headers.get("content-type", ""):
        return None
    return page.goto(url).status


def layout_problems(page, size: str) -> list[str]:
    """What test_layouts.py's sweep finds wrong on the page as loaded."""
    problems = []
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 2:
        problems.append(f"{overflow}px wider than the {size} screen")
    if broken := page.evaluate(BROKEN_NUMBERS):
        problems.append(f"numbers broken over lines at {size} width: {broken}")
    if hidden := page.evaluate(OFF_SCREEN_CELLS):
        problems.append(f"list cells off the {size} screen: {hidden}")
    if split := page.evaluate(SPLIT_BUTTONS):
        problems.append(f"buttons split over two lines at {size} width: {split}")
    return problems


def axe_lines(violations) -> list[str]:
    return [f"{rule} ({impact}): {element}" for rule, impact, elements in violations for element in elements]


def report(size: str, found: dict[str, list[str]]) -> str:
    """The failures at one width, check by check; an axe rule's elements grouped under it, as many pages as it
    spoils (up to 20 lines a rule)."""
    out = [f"the page sweep at {size} width:"]
    for check, lines in found.items():
        out.append(f"{check}: {len(lines)} problems on {len({line.split()[0] for line in lines})} pages")
        if check == AXE:  # rule by rule: one missing label in the base template spoils every page
            by_rule: dict[str, list[str]] = {}
            for line in lines:
                url, rule, impact, element = line.split(" ", 3)
                by_rule.setdefault(f"{rule} {impact}", []).append(f"    {url} {element}")
            for rule, elements in sorted(by_rule.items()):
                out += [f"  {rule} {len(elements)} elements", *elements[:20]]
        else:
            out += [f"  {line}" for line in lines]
    return "\n".join(out)


def sweep(size: str, page, new_context, live_server, login, screenshot) -> None:
    """The sweep at one width (test_sweep_laptop.py, test_sweep_phone.py: a file a width, so that the two run on two
    test processes at once; `make test` runs each file whole on one)."""
    found: dict[str, list[str]] = {}

    def fail(check: str, url: str, what: str):
        found.setdefault(check, []).append(f"{url} {what}")

    store_a, _, manager = seed_world(role=Role.MANAGER)  # a manager sees every page
    operator = UserFactory(username="sweep-operator")
    StoreMembership.objects.create(user=operator, store=store_a, role=Role.OPERATOR)
    world = objects(store_a)
    base = live_server.url
    laptop = size == "laptop"

    # As a manager: every page, the layout checks, and at laptop width axe's default rules.
    scripts: list[tuple[str, str]] = []  # (page address, console error or exception), as they come
    page.on("console", lambda msg: msg.type == "error" and scripts.append((page.url, f"console: {msg.text}")))
    page.on("pageerror", lambda exc: scripts.append((page.url, f"exception: {exc}")))
    login(manager.username)
    page.set_viewport_size(VIEWPORTS[size])
    if laptop:
        page.add_init_script(AXE_SCRIPT)  # in every page before its own scripts: axe is sent to the browser once
    checked = 0
    for url in every_page(store_a):
        status = visit(page, base + url)
        if status is None:
            continue
        checked += 1
        if status >= 400:
            fail(STATUS, url, f"answered {status}")
            continue
        for problem in layout_problems(page, size):
            fail(LAYOUT, url, problem)
        if laptop:
            for line in axe_lines(serious_violations(page)):
                fail(AXE, url, line)
        screenshot(f"{size}{url.replace('/', '_')}")
        # The checks ran on what the load event had in: a page that fetches more after it (data drawn by a
        # script) would have been checked half drawn, and must teach this test what to wait for.
        if late := page.evaluate(LOADED_LATE):
            fail(LAYOUT, url, f"fetched after its load event, not waited for: {late}")
        for at, what in scripts:
            fail(LAYOUT, at.removeprefix(base), what)
        scripts.clear()
    assert checked > 50, f"only {checked} pages checked"  # the sweep's ~60 pages, not a login page over and over

    # As an operator (a second browser context): the daily pages against WCAG A/AA, on a phone the lists too.
    tab = new_context().new_page()
    tab.set_viewport_size(VIEWPORTS[size])
    tab.add_init_script(AXE_SCRIPT)
    login(operator.username, on=tab)
    daily = operator_pages(store_a, world)
    lists = [reverse(name, kwargs=KWARGS[name](world) if name in KWARGS else None) for name in PHONE_LISTS]
    for url in dict.fromkeys(daily + (lists if not laptop else [])):  # a page on both lists opened once
        response = tab.goto(base + url)
        if response.status >= 400:
            fail(STATUS, url, f"answered {response.status} to an operator")
            continue
        if url in daily:
            for line in axe_lines(serious_violations(tab, WCAG_2_A_AA)):
                fail(WCAG, url, line)
        if url in lists and not laptop:
            if tab.locator(".table-wrap td").count() <= 1:
                fail(LISTS, url, "shows no rows: an empty list proves nothing")
            elif hidden := tab.evaluate(OFF_SCREEN_LIST_CELLS):
                fail(LISTS, url, f"cells off the phone's screen: {hidden}")
    assert not found, report(size, found)
