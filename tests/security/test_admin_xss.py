"""``<script>`` in every field the staff UI shows is escaped on every page (SPEC sections 6 and 7).

Hostile text comes in by the real roads where one exists: the event payload and order
reference through ``emit``, the response body and headers from a real receiver that
answers with markup, channel names and header values through the model. Then a crawler
signed in as superuser follows every admin link (and searches every list with markup),
and no page may contain the markup unescaped, or a 500.
"""

import re
from collections import deque
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.test import Client

from channels.models import Channel, ChannelKind
from deliveries.engine.dispatcher import Dispatcher
from deliveries.models import Attempt
from events.models import EventType
from events.services import emit
from tests.security.conftest import PASSWORD, make_user
from tests.support.factories import subscribe
from tests.support.receiver import Receiver, Reply

pytestmark = pytest.mark.django_db

MAX_PAGES = 400
SKIP = (
    "/admin/logout/",
    "/admin/password_change/",
    "/admin/r/",
    "/admin/jsi18n/",
    "/admin/autocomplete/",
    "/admin/auth/",
    "/admin/django_q/",
    "/admin/authtoken/",
)
RAW = re.compile(r"<script>xss\(\d+\)|<img src=x onerror=xss\(\d+\)>")
HREF_JS = re.compile(r"""href\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


def xss(n: int) -> str:
    return f'"><script>xss({n})</script><img src=x onerror=xss({n})>'


FIELDS = {
    1: "channel name",
    2: "custom header value",
    3: "payload key",
    4: "payload value",
    5: "order reference",
    6: "response body",
    7: "response header",
    8: "email channel name",
    9: "event type description",
    10: "search term",
}


@pytest.fixture
def hostile_world(db, settings):
    with Receiver(default=Reply(status=410, body=xss(6).encode(), headers={"X-Evil": xss(7)})) as receiver:
        channel = Channel.objects.create(
            name=xss(1), kind=ChannelKind.POSTBACK, url=receiver.url("/hook"), headers={"X-Note": xss(2)}, timeout=5
        )
        subscribe(channel, "order.completed")
        email = Channel.objects.create(name=xss(8), kind=ChannelKind.EMAIL, email_to="ops@example.com")
        subscribe(email, "contact.created")
        order_type = EventType.objects.get(pk="order.completed")
        order_type.description = xss(9)
        order_type.save(update_fields=["description"])
        payload = {**order_type.example_payload, xss(3): xss(4)}
        emit("order.completed", source="shop", payload=payload, order_ref=xss(5)[:100])
        emit("contact.created", source="admin", payload={"contact": {"id": xss(4)}}, order_ref=xss(5)[:100])
        Dispatcher(threads=2).run(budget_s=10)
        assert Attempt.objects.filter(response_status=410).exists(), "the hostile receiver was not reached"
        yield channel


def _links(html: str) -> list[str]:
    found = []
    for href in re.findall(r'href="([^"]+)"', html):
        href = unescape(href)
        parts = urlsplit(href)
        if parts.netloc or not parts.path.startswith("/admin/"):
            continue
        if any(parts.path.startswith(s) for s in SKIP):
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def test_markup_in_every_displayed_field_is_escaped_on_every_admin_page(hostile_world):
    make_user("superuser")
    browser = Client()
    assert browser.login(username="root", password=PASSWORD)

    queue = deque(["/admin/"])
    seen: set[str] = set()
    shown: set[int] = set()
    problems = []
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        # Same page with another filter or sort is the same template: visit a few, not all.
        if url in seen or (url.count("?") and sum(1 for s in seen if s.startswith(url.split("?")[0] + "?")) >= 6):
            continue
        seen.add(url)
        response = browser.get(url)
        if response.status_code >= 500:
            problems.append((url, response.status_code))
            continue
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode(errors="replace")
        problems += [(url, m) for m in RAW.findall(html)]
        if HREF_JS.search(html):
            problems.append((url, "javascript: link"))
        shown |= {int(n) for n in re.findall(r"&lt;script&gt;xss\((\d+)\)", html)}
        for link in _links(html):
            if link not in seen:
                queue.append(link)
        if url.endswith("/") and url.count("/") == 4 and "?" not in url:  # a changelist: search it with markup
            queue.append(url + "?q=" + xss(10).replace("&", "%26").replace("#", "%23"))

    # POST pages that render what they are given: the test send's message, reveal and rotate pages.
    for path in (
        f"/admin/channels/channel/{hostile_world.pk}/send-test/",
        f"/admin/channels/channel/{hostile_world.pk}/reveal-secret/",
    ):
        response = browser.post(path, follow=True)
        html = response.content.decode(errors="replace")
        assert response.status_code == 200, path
        problems += [(path, m) for m in RAW.findall(html)]
        shown |= {int(n) for n in re.findall(r"&lt;script&gt;xss\((\d+)\)", html)}

    print(
        f"XSS crawl: {len(seen)} admin pages, markup shown escaped for: " + ", ".join(FIELDS[n] for n in sorted(shown))
    )
    assert not problems, problems[:20]
    assert len(seen) >= 20, f"the crawler reached only {len(seen)} pages: {sorted(seen)}"
    # The markup was really displayed (escaped) for the fields staff look at most.
    assert {1, 4, 5, 6} <= shown, f"shown escaped: {sorted(shown)}"
