"""The audit trail (SPEC section 6): configuration changes from the admin or the API are recorded
with who, when and what changed, shown on the object's page and on one filterable page, and
never hold a secret or a header value.
"""

import json

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from channels.models import Channel, Subscription
from events.models import EventType
from tests.security.conftest import PASSWORD, VIEW_PERMS, _grant, make_user
from tests.security.helpers import token_client

pytestmark = pytest.mark.django_db

HEADER_VALUE = "audit-header-credential-31337"


@pytest.fixture
def root():
    return make_user("superuser")


@pytest.fixture
def api(root):
    return token_client(root)


@pytest.fixture
def browser(root):
    client = Client()
    assert client.login(username="root", password=PASSWORD)
    return client


def _entries(obj):
    return list(
        LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)).order_by(
            "action_time", "id"
        )
    )


def _all_messages() -> str:
    return "\n".join(f"{e.object_repr} {e.change_message}" for e in LogEntry.objects.all())


def test_api_changes_to_a_channel_are_recorded_with_who_and_what_but_no_secret(api, root):
    # when a channel is created, changed, rotated and deleted over the API
    created = api.post(
        "/api/v1/channels/",
        {
            "name": "audited",
            "url": "http://127.0.0.1:9/hook?token=url-token-55",
            "headers": {"X-Api-Key": HEADER_VALUE},
        },
        format="json",
    )
    channel = Channel.objects.get(pk=created.json()["id"])
    first_secret = created.json()["secret"]
    api.patch(
        f"/api/v1/channels/{channel.pk}/",
        {"name": "audited-2", "timeout": 7, "headers": {"X-Api-Key": "changed-credential-77", "X-New": "n-value-88"}},
        format="json",
    )
    second_secret = api.post(f"/api/v1/channels/{channel.pk}/rotate-secret/").json()["secret"]

    # then each change is an entry by that user, saying what changed
    entries = _entries(channel)
    assert [e.action_flag for e in entries] == [ADDITION, CHANGE, CHANGE]
    assert all(e.user_id == root.pk for e in entries)
    assert "postback" in entries[0].change_message and "X-Api-Key" in entries[0].change_message
    change = entries[1].change_message
    assert "name from 'audited' to 'audited-2'" in change and "timeout from 30 to 7" in change
    assert "headers: added X-New; value changed X-Api-Key" in change
    assert "Rotated the signing secret" in entries[2].change_message

    delete = api.delete(f"/api/v1/channels/{channel.pk}/")
    assert delete.status_code == 204
    assert LogEntry.objects.filter(action_flag=DELETION, object_id=str(channel.pk)).exists()

    # and no secret, header value or URL token is in any entry
    text = _all_messages()
    for secret in (first_secret, second_secret):
        assert secret not in text and secret.removeprefix("whsec_") not in text
    for value in (HEADER_VALUE, "changed-credential-77", "n-value-88", "url-token-55"):
        assert value not in text, value


def test_api_toggles_and_subscription_changes_are_recorded(api, root, world):
    event_type = EventType.objects.get(key="refund.applied")
    api.patch("/api/v1/event-types/refund.applied/", {"enabled": True}, format="json")
    api.patch("/api/v1/event-types/refund.applied/", {"enabled": True}, format="json")  # no change: no entry
    created = api.post(
        "/api/v1/subscriptions/",
        {"event_type": "refund.applied", "channel": world.channel.pk, "sources": ["shop"]},
        format="json",
    )
    subscription = Subscription.objects.get(pk=created.json()["id"])
    api.patch(f"/api/v1/subscriptions/{subscription.pk}/", {"sources": ["shop", "admin"]}, format="json")
    api.delete(f"/api/v1/subscriptions/{subscription.pk}/")

    assert [e.change_message for e in _entries(event_type)] == ["Switched on."]
    messages = [e.change_message for e in _entries(subscription)]
    assert messages[0] == f"Attached channel {world.channel} to refund.applied for shop."
    assert messages[1] == "Changed sources from shop to admin, shop."
    assert messages[2] == f"Detached channel {world.channel} from refund.applied."
    assert all(e.user_id == root.pk for e in _entries(subscription))


def test_a_retry_and_a_test_send_are_recorded_from_the_api(api, world):
    assert api.post(f"/api/v1/deliveries/{world.delivery.pk}/retry/").status_code == 202
    assert api.post(f"/api/v1/channels/{world.channel.pk}/test/").status_code == 200
    assert [e.change_message for e in _entries(world.delivery)] == ["Manual retry requested."]
    assert _entries(world.channel)[-1].change_message.startswith("Sent a test event: failed")


def test_the_admin_and_the_api_record_the_same_entry_once(browser, api, world):
    browser.post(f"/admin/events/eventtype/{world.event_type.pk}/toggle/", {"enabled": "off"})
    api.patch(f"/api/v1/event-types/{world.event_type.pk}/", {"enabled": True}, format="json")
    browser.post(f"/admin/channels/channel/{world.channel.pk}/rotate-secret/")
    api.post(f"/api/v1/channels/{world.channel.pk}/rotate-secret/")

    assert [e.change_message for e in _entries(world.event_type)] == ["Switched off.", "Switched on."]
    rotations = [e for e in _entries(world.channel) if e.change_message.startswith("Rotated")]
    assert len(rotations) == 2


def test_revealing_the_secret_in_the_admin_is_recorded_without_the_secret(browser, world):
    secret = world.channel.secret
    page = browser.post(f"/admin/channels/channel/{world.channel.pk}/reveal-secret/")
    assert secret in page.content.decode()
    assert [e.change_message for e in _entries(world.channel)] == ["Revealed the signing secret."]
    assert secret not in _all_messages()


def test_admin_channel_edits_are_recorded_by_the_service_once_with_header_names_only(browser, world):
    response = browser.post(
        f"/admin/channels/channel/{world.channel.pk}/change/",
        {
            "name": "renamed in admin",
            "url": world.channel.url,
            "timeout": "2",
            "headers": json.dumps({"X-Api-Key": HEADER_VALUE}),
            "active": "on",
        },
    )
    assert response.status_code == 302
    entries = _entries(world.channel)
    assert len(entries) == 1
    assert "name from 'shop hook' to 'renamed in admin'" in entries[0].change_message
    assert "headers: added X-Api-Key" in entries[0].change_message
    assert HEADER_VALUE not in _all_messages()


def test_the_channel_page_and_the_event_type_page_show_their_changes(browser, api, world):
    api.patch(f"/api/v1/channels/{world.channel.pk}/", {"name": "shown on its page"}, format="json")
    api.patch(f"/api/v1/event-types/{world.event_type.pk}/", {"enabled": False}, format="json")
    api.patch(f"/api/v1/subscriptions/{world.subscription.pk}/", {"sources": ["admin"]}, format="json")

    channel_page = browser.get(f"/admin/channels/channel/{world.channel.pk}/change/").content.decode()
    type_page = browser.get(f"/admin/events/eventtype/{world.event_type.pk}/change/").content.decode()
    history = browser.get(f"/admin/channels/channel/{world.channel.pk}/history/").content.decode()

    assert 'id="audit-trail"' in channel_page and "to &#x27;shown on its page&#x27;" in channel_page
    assert "Switched off." in type_page and "sources from" in type_page
    assert "shown on its page" in history  # Django's own History page lists the same entries


def test_the_audit_page_is_filterable_and_for_superusers_only(browser, api, world):
    api.patch(f"/api/v1/channels/{world.channel.pk}/", {"name": "filter me"}, format="json")
    api.patch(f"/api/v1/event-types/{world.event_type.pk}/", {"enabled": False}, format="json")
    channel_type = ContentType.objects.get_for_model(Channel)

    everything = browser.get("/admin/admin/logentry/")
    channels_only = browser.get(f"/admin/admin/logentry/?content_type__id__exact={channel_type.pk}")
    searched = browser.get("/admin/admin/logentry/?q=order.completed")

    assert everything.status_code == 200 and "filter me" in everything.content.decode()
    assert "filter me" in channels_only.content.decode() and "Switched off." not in channels_only.content.decode()
    assert "Switched off." in searched.content.decode()

    from django.contrib.auth import get_user_model

    viewer = get_user_model().objects.create_user(username="viewer2", password=PASSWORD, is_staff=True)
    _grant(viewer, VIEW_PERMS)
    client = Client()
    client.login(username="viewer2", password=PASSWORD)
    assert client.get("/admin/admin/logentry/").status_code == 403


def test_an_edit_in_the_subscription_admin_is_recorded_with_what_changed(browser, world):
    response = browser.post(
        f"/admin/channels/subscription/{world.subscription.pk}/change/",
        {"source_shop": "on", "active": "on"},
    )
    assert response.status_code == 302, response.content[:2000]
    assert [e.change_message for e in _entries(world.subscription)] == [
        "Changed sources from admin, shop, funnel to shop."
    ]
