"""The docs page in a real Chromium: it works offline, and an integrator can call the API from it.

Every request the page makes to another host is aborted and recorded, so a page that
needed a CDN would both fail to render and be caught here.
"""

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from rest_framework.authtoken.models import Token

from tests.api.conftest import grant
from tests.support.factories import ensure_catalogue

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (apt-get install -y chromium)"),
]


@pytest.fixture
def page(live_server, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls made here
    # (creating the user) are safe, the loop only drives the browser.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.foreign_requests = []
        own_host = urlsplit(live_server.url).netloc

        def only_this_server(route):
            if urlsplit(route.request.url).netloc == own_host or route.request.url.startswith("data:"):
                return route.continue_()
            page.foreign_requests.append(route.request.url)
            return route.abort()

        page.route("**/*", only_this_server)
        yield page
        browser.close()


def test_the_docs_page_renders_offline_and_calls_the_api_with_a_token(page, live_server, django_user_model):
    ensure_catalogue()  # transactional tests start from an empty database
    user = django_user_model.objects.create_user("integrator", is_staff=True)
    grant(user, "events.view_eventtype")
    token = Token.objects.create(user=user).key

    page.goto(f"{live_server.url}/api/docs/")
    page.get_by_text("Ingest an event").first.wait_for()

    # Authorize with the token, as the description says
    page.locator("button.authorize").first.click()
    token_form = page.locator(".modal-ux form", has_text="tokenAuth")
    token_form.locator("input[type=text]").fill(f"Token {token}")
    token_form.locator("button.authorize").click()
    page.locator(".modal-ux button.btn-done").first.click()

    # Try a call
    page.get_by_text("List the event catalogue").first.click()
    page.get_by_role("button", name="Try it out").first.click()
    page.get_by_role("button", name="Execute").first.click()
    status = page.locator(".live-responses-table .response .response-col_status").first
    status.wait_for()

    assert status.inner_text().strip().startswith("200")
    assert "order.completed" in page.locator(".live-responses-table").first.inner_text()
    assert page.foreign_requests == []
