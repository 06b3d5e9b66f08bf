"""German on the staff pages: every main page rendered with `Accept-Language: de` has none of the
English sentences known to be on them, and the header's switch changes the language."""

import pytest
from django.urls import reverse

from channels.models import Subscription
from deliveries.models import DeliveryStatus, DemoReceipt
from events.models import Order

pytestmark = pytest.mark.django_db

# Sentences the pages showed in English before they were translated (page chrome, headings,
# help texts, table headers, buttons, Django's generic titles). None may be left in German.
KNOWN_ENGLISH = [
    "Home",
    "Integrations",
    "View site",
    "Log out",
    "Welcome,",
    "Select delivery to",
    "Select channel to",
    "Select order to",
    "Change channel",
    "View delivery",
    "Start typing to filter",
    "Dashboard",
    "System notifications",
    "Deliveries, last 24 hours",
    "Success rate per channel",
    "Failed deliveries waiting for a human",
    "Operations at a glance",
    "Workers alive",
    "Open alerts",
    "Switch an event on to send it",
    "Name, key or description",
    "Only enabled",
    "Jump to",
    "On / off",
    "Order completed",
    "A successful order is closed",
    "Transactions",
    "Needs the permission to switch on-demand events on",
    "Manual retry",
    "Channels notified of this event",
    "Attach channel",
    "Mark not critical",
    "Changes (audit trail)",
    "Choose a channel",
    "Notify only for events that happened on these sources.",
    "Create a new channel",
    "Stop notifying",
    "Yes, remove it",
    "No, take me back",
    "Order reference, or its beginning.",
    "First event",
    "all its deliveries in the log",
    "No manual retry for this event",
    "Retry all failed",
    "Failed",
    "Succeeded",
    # A channel's page and a delivery's page.
    "Postback channel:",
    "Send test event",
    "Reveal signing secret",
    "Rotate signing secret",
    "Recover failed deliveries",
    "Success rate and latency",
    "Attached event types",
    "Recent attempts",
    "Custom headers",
    "Technical detail",
    "Retry selected failed deliveries",
    "the endpoint answered",
    "Example body in this format",
    "This service's envelope",
    # Every changelist and change page of the project's models: column headers, filter titles, form labels
    # and help texts, from the models' verbose names (issue 13).
    "Event type",
    "Active",
    "Description:",
    "Metadata:",
    "Kind:",
    "Timeout:",
    "Payload format",
    "What this channel is for",
    "The integrator's own keys",
    "Postback or Slack incoming-webhook URL",
    "Occurred",
    "Triggered by",
    "Payload:",
    "Signature valid",
    "Received",
    "By source",
    "Delivery id, event id",
    "Test send",
]

# The project's own models (Django's, the token's, axes' and the task queue's come with their own catalogues).
PROJECT_APPS = ("admin", "channels", "deliveries", "events")


def every_project_admin_page() -> list[str]:
    """Each changelist of the project's models, and the change page of each one's first row."""
    from django.contrib import admin
    from django.contrib.admin.utils import quote

    pages = []
    for model in sorted(admin.site._registry, key=lambda m: m._meta.label):
        opts = model._meta
        if opts.app_label not in PROJECT_APPS:
            continue
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(first.pk)]))
    return pages


@pytest.fixture
def german_pages(admin_client, make_delivery, postback_channel):
    subscription = Subscription.objects.create(event_type_id="order.completed", channel=postback_channel)
    make_delivery(channel=postback_channel, key="order.completed", order_ref="A-1")
    make_delivery(channel=postback_channel, key="contact.created", order_ref="A-1", status=DeliveryStatus.FAILED)
    make_delivery(channel=postback_channel, status=DeliveryStatus.SUCCEEDED, response_status=200, order_ref="A-2")
    failed = make_delivery(
        channel=postback_channel, key="order.completed", status=DeliveryStatus.FAILED, response_status=500
    )
    order = Order.objects.get(ref="A-1")
    # A switch through the page: an audit entry for the type's page.
    admin_client.post(
        reverse("admin:events_eventtype_toggle", args=["order.completed"]),
        {"enabled": "on"},
        headers={"accept-language": "de"},
    )
    DemoReceipt.objects.create(webhook_id="f47ac10b", event_type="order.completed", headers={}, body="{}")
    listed = [
        reverse("admin:index"),
        reverse("admin:events_eventtype_changelist"),
        reverse("admin:events_eventtype_change", args=["order.completed"]),
        reverse("admin:events_eventtype_attach", args=["order.completed"]),
        reverse("admin:events_eventtype_edit_subscription", args=["order.completed", subscription.pk]),
        reverse("admin:events_eventtype_delete_subscription", args=["order.completed", subscription.pk]),
        reverse("admin:events_order_changelist"),
        reverse("admin:events_order_change", args=[order.pk]),
        reverse("admin:deliveries_delivery_changelist"),
        reverse("admin:channels_channel_changelist"),
        reverse("admin:channels_channel_change", args=[postback_channel.pk]),
        reverse("admin:deliveries_delivery_change", args=[failed.pk]),
        reverse("admin:admin_logentry_changelist"),
    ]
    return listed + [url for url in every_project_admin_page() if url not in listed]


def visible_text(html: str) -> str:
    """The page without its scripts and the language switch (which names "English" on purpose)."""
    import re

    html = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    html = re.sub(r'<form action="[^"]*" method="post" id="language-switch".*?</form>', "", html, flags=re.S)
    return html


def test_every_main_page_in_german_has_none_of_the_known_english_sentences(admin_client, german_pages):
    assert len(german_pages) > 20  # the main pages and every changelist and change page of the project
    found = {}
    for url in german_pages:
        response = admin_client.get(url, headers={"accept-language": "de"})
        assert response.status_code == 200, url
        assert '<html lang="de"' in response.content.decode()
        text = visible_text(response.content.decode())
        left = [sentence for sentence in KNOWN_ENGLISH if sentence in text]
        if left:
            found[url] = left
    assert found == {}


def test_the_same_pages_in_english_still_say_them(admin_client, german_pages):
    """The list above is not vacuous: in English the pages do show these sentences."""
    shown = set()
    for url in german_pages:
        text = visible_text(admin_client.get(url, headers={"accept-language": "en"}).content.decode())
        shown.update(sentence for sentence in KNOWN_ENGLISH if sentence in text)
    retired = {"Home", "Integrations", "View site", "Select delivery to", "Select channel to", "Select order to"}
    retired |= {"Change channel", "View delivery"}
    assert set(KNOWN_ENGLISH) - retired - shown == set()


def test_the_catalogue_shows_seed_001s_german_names(admin_client):
    html = admin_client.get(reverse("admin:events_eventtype_changelist"), headers={"accept-language": "de"}).content
    html = html.decode()
    for german in ("Kunde angelegt", "Vertrag gekündigt", "Rechnung: Zahlungseingang erhalten", "Mahnung verschickt"):
        assert german in html
    assert "Systembenachrichtigungen" in html and "Bestellung abgeschlossen" in html


def test_the_header_switch_changes_the_language_with_a_csrf_checked_post(make_staff):
    client = make_staff("events.view_eventtype", enforce_csrf_checks=True)
    page = reverse("admin:events_eventtype_changelist")
    html = client.get(page).content.decode()
    assert 'id="language-switch"' in html and 'name="language" value="de"' in html

    refused = client.post(reverse("set_language"), {"language": "de", "next": page})
    assert refused.status_code == 403  # no CSRF token

    token = client.cookies["csrftoken"].value
    answer = client.post(reverse("set_language"), {"language": "de", "next": page}, headers={"x-csrftoken": token})
    assert answer.status_code == 302 and answer["Location"] == page
    german = client.get(page).content.decode()
    assert "Systembenachrichtigungen" in german and 'name="language" value="en"' in german


# Column headers, filter titles and form labels that are the same word in German.
SAME_IN_GERMAN = {"ID", "Status", "URL", "Name", "Admin", "Shop", "Funnel", "Position", "Header", "Body", "Format"}


def headings_of(html: str) -> list[str]:
    """A changelist's or change form's column headers, filter titles (without "By" / "Nach") and field labels."""
    import re

    html = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    found = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', html, re.S)
    found += re.findall(r"<summary>\s*(.*?)\s*</summary>", html, re.S) + re.findall(r"<h3>(.*?)</h3>", html, re.S)
    found += re.findall(r"<label[^>]*>(.*?)</label>", html, re.S)
    texts = [" ".join(re.sub(r"<[^>]+>", " ", text).split()).rstrip(":") for text in found]
    return [re.sub(r"^(By|Nach) ", "", text) for text in texts]


def test_every_changelist_and_change_page_of_the_project_names_its_columns_filters_and_fields_in_german(
    admin_client, german_pages
):
    english_left = {}
    for url in every_project_admin_page():
        german = headings_of(admin_client.get(url, headers={"accept-language": "de"}).content.decode())
        english = headings_of(admin_client.get(url, headers={"accept-language": "en"}).content.decode())
        assert len(german) == len(english), url
        same = {g for g, e in zip(german, english, strict=True) if g == e and any(c.islower() for c in g)}
        if same - SAME_IN_GERMAN:
            english_left[url] = sorted(same - SAME_IN_GERMAN)
    assert english_left == {}
