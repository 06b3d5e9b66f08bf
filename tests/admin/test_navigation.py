"""One navigation: Postbacks first, Administration for superusers only, one current entry,
page titles for people, one breadcrumb scheme; `/`, "View site" and the favicon."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

STAFF_PERMS = [
    "events.view_eventtype",
    "channels.view_channel",
    "events.view_order",
    "deliveries.view_delivery",
    "django_q.view_schedule",
    "auth.view_user",
    "authtoken.view_tokenproxy",
]


def sidebar(html: str) -> str:
    return html.split('id="nav-sidebar"')[1].split("</nav>")[0]


def entries(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="[^"]*"[^>]*>([^<]+)</a>', sidebar(html))


def sections(html: str) -> list[str]:
    return re.findall(r'<caption><span class="section">([^<]+)</span></caption>', sidebar(html))


def test_staff_see_the_postbacks_section_first_and_no_internals(make_staff):
    client = make_staff(*STAFF_PERMS)
    html = client.get(reverse("admin:events_eventtype_changelist")).content.decode()
    assert sections(html) == ["Postbacks"]
    assert entries(html) == ["Dashboard", "System notifications", "Channels", "Orders", "Deliveries"]
    assert "Scheduled tasks" not in html and "Users" not in sidebar(html)


def test_superusers_also_get_records_and_administration_without_duplicates(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert sections(html) == ["Postbacks", "Records", "Administration"]
    names = entries(html)
    assert names[:5] == ["Dashboard", "System notifications", "Channels", "Orders", "Deliveries"]
    assert len(names) == len(set(names))
    assert "Audit trail" in names and "Users (Authentication and Authorization)" in names
    assert not any("Event types" in name or name.startswith("Orders (") for name in names)


@pytest.mark.parametrize(
    ("url", "current"),
    [
        (reverse("admin:index"), "Dashboard"),
        (reverse("admin:events_eventtype_changelist"), "System notifications"),
        (reverse("admin:events_eventtype_change", args=["order.completed"]), "System notifications"),
        (reverse("admin:events_event_changelist"), "Events"),
        (reverse("admin:deliveries_delivery_changelist"), "Deliveries"),
    ],
)
def test_exactly_one_entry_is_highlighted(admin_client, url, current):
    html = sidebar(admin_client.get(url).content.decode())
    highlighted = re.findall(r'<tr class="current-model"><th scope="row"><a [^>]*>([^<]+)</a>', html)
    assert highlighted == [current]


def h1(html: str) -> str:
    return re.search(r"<h1>([^<]*)</h1>", html).group(1)


def test_page_titles_are_written_for_people(admin_client, postback_channel, make_delivery):
    delivery = make_delivery(channel=postback_channel)
    delivery_title = f"Delivery #{delivery.pk}: Order completed to Shop backend"
    pages = {
        reverse("admin:deliveries_delivery_changelist"): "Deliveries",
        reverse("admin:channels_channel_changelist"): "Channels",
        reverse("admin:events_order_changelist"): "Orders",
        reverse("admin:channels_channel_add") + "?kind=postback": "New postback channel",
        reverse("admin:channels_channel_add") + "?kind=email": "New e-mail channel",
        reverse("admin:channels_channel_change", args=[postback_channel.pk]): "Postback channel: Shop backend",
        reverse("admin:deliveries_delivery_change", args=[delivery.pk]): delivery_title,
    }
    for url, title in pages.items():
        html = admin_client.get(url).content.decode()
        assert h1(html) == title, url
        assert f"<title>{title} | " in html
        assert "Select " not in h1(html) and "Change " not in h1(html)


def crumbs(html: str) -> list[str]:
    block = html.split('<div class="breadcrumbs">')[1].split("</div>")[0]
    return [re.sub(r"<[^>]+>", "", part).strip() for part in block.split("&rsaquo;")]


def test_one_breadcrumb_scheme(admin_client, postback_channel, make_delivery):
    make_delivery(channel=postback_channel, order_ref="A-9")
    from events.models import Order

    order = Order.objects.get(ref="A-9")
    assert crumbs(admin_client.get(reverse("admin:events_order_changelist")).content.decode()) == [
        "Dashboard",
        "Orders",
    ]
    assert crumbs(admin_client.get(reverse("admin:events_order_change", args=[order.pk])).content.decode()) == [
        "Dashboard",
        "Orders",
        "A-9",
    ]
    attach = reverse("admin:events_eventtype_attach", args=["order.completed"])
    assert crumbs(admin_client.get(attach).content.decode()) == [
        "Dashboard",
        "System notifications",
        "Order completed",
        "Attach channel",
    ]
    channel = reverse("admin:channels_channel_change", args=[postback_channel.pk])
    assert crumbs(admin_client.get(channel).content.decode()) == ["Dashboard", "Channels", "Shop backend"]


def test_root_leads_to_the_admin_and_there_is_no_view_site_link(admin_client):
    root = admin_client.get("/")
    assert root.status_code == 302 and root["Location"] == reverse("admin:index")
    assert "View site" not in admin_client.get(reverse("admin:index")).content.decode()


def test_a_favicon_on_every_page(client, admin_client):
    assert 'rel="icon"' in admin_client.get(reverse("admin:index")).content.decode()
    assert 'rel="icon"' in client.get(reverse("admin:login")).content.decode()
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 301 and favicon["Location"].endswith("staff/favicon.svg")


def test_an_order_timelines_attempts_say_each_thing_once(admin_client, postback_channel, email_channel, make_delivery):
    from events.models import Order

    make_delivery(channel=postback_channel, order_ref="T-1", response_status=404)
    make_delivery(channel=email_channel, order_ref="T-1", attempts=0)
    from deliveries.models import Attempt, Delivery

    emailed = Delivery.objects.get(channel=email_channel)
    Attempt.objects.create(delivery=emailed, number=1, started_at=emailed.created_at, duration_ms=3, error="")
    order = Order.objects.get(ref="T-1")

    html = admin_client.get(reverse("admin:events_order_change", args=[order.pk])).content.decode()

    attempts = " ".join(re.sub(r"\s+", " ", li) for li in re.findall(r"<li data-attempt=.*?</li>", html, flags=re.S))
    assert "HTTP 404" in attempts and "HTTP status" not in attempts
    assert "· ·" not in attempts
