"""Real-browser tests: Debian's Chromium driven by Playwright (Python) against live_server.

Skipped cleanly when /usr/bin/chromium is not installed (CI installs it in .ci/run).
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
# Every run takes the screenshots (they render each page); only UPDATE_SCREENSHOTS=1 replaces the README's.
SCREENSHOTS = (
    ROOT / "docs" / "screenshots" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else ROOT / "var" / "screenshots"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


# Module scope: Playwright's event loop stops when this module's tests are done, so it never
# runs under other (transactional) tests that pytest-django orders next to these.
@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an asyncio loop in this thread; Django's ORM refuses to run in a
    # thread with a running loop unless told it is safe (it is: the loop only drives the browser).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def staff(django_user_model):
    """A superuser to log in with (the permission matrix is covered by tests/admin)."""
    from tests.support.factories import ensure_catalogue

    # Browser tests are transactional: an earlier one's flush emptied the catalogue.
    ensure_catalogue()
    return django_user_model.objects.create_superuser("staffer", "staffer@example.com", "correct horse battery")


@pytest.fixture
def logged_in(page, live_server, staff):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "staffer")
    page.fill("#id_password", "correct horse battery")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    return page


@pytest.fixture
def screenshot():
    """Save a screenshot as <name>.png (docs/screenshots with UPDATE_SCREENSHOTS=1, else var/screenshots)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name, *, full_page=True):
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)

    return take
