"""Content-Security-Policy (SPEC section 6): every page sends one that allows no inline script,
and the admin, the dashboards and /api/docs/ work under it in a real Chromium, which reports
no violation."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.security.conftest import PASSWORD, make_user
from tests.security.helpers import token_client
from tests.support.factories import ensure_catalogue

CHROMIUM = Path("/usr/bin/chromium")


def _policy(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in filter(None, (p.strip() for p in header.split(";"))):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/login/", "/admin/", "/api/docs/", "/api/v1/event-types/"])
def test_every_kind_of_page_sends_a_policy_without_inline_script(client, path, world):
    make_user("superuser")
    if path != "/admin/login/":
        client.login(username="root", password=PASSWORD)
    response = client.get(path) if not path.startswith("/api/v1") else _api_get(path)

    policy = _policy(response)
    assert response.status_code == 200
    assert policy.get("script-src") == ["'self'"], policy
    assert policy.get("object-src") == ["'none'"] and policy.get("frame-ancestors") == ["'none'"]
    assert "'unsafe-inline'" not in policy.get("style-src", []) and "'unsafe-eval'" not in policy["script-src"]


def _api_get(path):
    return token_client(make_user("viewer")).get(path)


@pytest.mark.django_db
def test_no_template_of_ours_has_an_inline_script_or_style():
    root = Path(__file__).resolve().parents[2] / "templates"
    offenders = []
    for template in root.rglob("*.html"):
        text = template.read_text()
        for needle in (
            "<script>",
            "<script type",
            "<style",
            " style=",
            " onclick=",
            " onchange=",
            " onsubmit=",
            "javascript:",
        ):
            if needle in text:
                offenders.append(f"{template.relative_to(root)}: {needle.strip()}")
    assert not offenders, offenders


# --- In a real browser ---------------------------------------------------------------

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def browser_page(live_server, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.set_default_timeout(15_000)
        context.add_init_script(RECORD_VIOLATIONS)
        page = context.new_page()
        page.console_violations = []
        page.on(
            "console",
            lambda message: (
                page.console_violations.append(message.text)
                if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text
                else None
            ),
        )
        yield page
        browser.close()


@pytest.fixture
def catalogue(transactional_db):
    ensure_catalogue()  # transactional tests start from an empty database


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (apt-get install -y chromium)")
def test_the_staff_pages_and_the_api_docs_work_under_the_policy_with_no_violation(
    catalogue, world, browser_page, live_server
):
    from events.models import Order

    page = browser_page
    make_user("superuser")
    seen = []

    def visit(path, ready_selector):
        page.goto(f"{live_server.url}{path}")
        page.locator(ready_selector).first.wait_for()
        seen.append((path, page.evaluate("window.__csp.slice()")))

    # the login form, and the dashboard behind it
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "root")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    page.locator("#delivery-dashboard").wait_for()
    seen.append(("/admin/", page.evaluate("window.__csp.slice()")))

    # System notifications: the switch works through staff.js (fetch, no reload)
    visit("/admin/events/eventtype/", "form.switch-form")
    row = page.locator(f'tr[data-event-type="{world.event_type.pk}"]')
    switch = row.get_by_role("switch")
    before = switch.get_attribute("aria-checked")
    switch.click()
    # a locator assertion: Playwright's wait_for_function would eval() in the page, which the policy forbids
    expect(switch).not_to_have_attribute("aria-checked", before)
    seen.append(("switch", page.evaluate("window.__csp.slice()")))

    visit(f"/admin/events/eventtype/{world.event_type.pk}/change/", "#subscriptions")
    visit(f"/admin/channels/channel/{world.channel.pk}/change/", "#channel-tools")
    visit("/admin/channels/channel/add/?kind=postback", "#id_name")
    visit("/admin/deliveries/delivery/", "#result_list")
    visit(f"/admin/deliveries/delivery/{world.delivery.pk}/change/", "#retry-form button")
    visit(f"/admin/events/order/{Order.objects.get(ref='A-1001').pk}/change/", "h1")
    visit("/admin/admin/logentry/", "#changelist")
    visit("/api/docs/", "text=Ingest an event")

    violations = [(path, v) for path, vs in seen for v in vs] + [("console", m) for m in page.console_violations]
    assert not violations, violations
