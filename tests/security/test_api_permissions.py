"""Permission matrix of the REST API (SPEC sections 6 and 8): every endpoint, every role.

A refused call answers 401 (anonymous) or 403 and changes nothing; an allowed one is
never refused for permissions and never a 500.
"""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.security.conftest import RETRY_PERMS, ROLES, VIEW_PERMS, make_user

pytestmark = pytest.mark.django_db

# (name, method, path template, body, permissions needed)
ENDPOINTS = [
    ("event-types list", "get", "/api/v1/event-types/", None, ["events.view_eventtype"]),
    ("event-type detail", "get", "/api/v1/event-types/{event_type}/", None, ["events.view_eventtype"]),
    (
        "event-type toggle",
        "patch",
        "/api/v1/event-types/{event_type}/",
        {"enabled": False},
        ["events.change_eventtype"],
    ),
    ("channels list", "get", "/api/v1/channels/", None, ["channels.view_channel"]),
    ("channel detail", "get", "/api/v1/channels/{channel}/", None, ["channels.view_channel"]),
    (
        "channel create",
        "post",
        "/api/v1/channels/",
        {"name": "new", "kind": "postback", "url": "http://127.0.0.1:9/new"},
        ["channels.add_channel"],
    ),
    ("channel update", "patch", "/api/v1/channels/{channel}/", {"name": "renamed"}, ["channels.change_channel"]),
    ("channel delete", "delete", "/api/v1/channels/{channel}/", None, ["channels.delete_channel"]),
    ("channel test send", "post", "/api/v1/channels/{channel}/test/", None, ["channels.send_test_event"]),
    ("channel rotate secret", "post", "/api/v1/channels/{channel}/rotate-secret/", None, ["channels.rotate_secret"]),
    ("subscriptions list", "get", "/api/v1/subscriptions/", None, ["channels.view_subscription"]),
    ("subscription detail", "get", "/api/v1/subscriptions/{subscription}/", None, ["channels.view_subscription"]),
    (
        "subscription create",
        "post",
        "/api/v1/subscriptions/",
        {"event_type": "refund.applied", "channel": "{channel}", "sources": ["shop"]},
        ["channels.add_subscription"],
    ),
    (
        "subscription update",
        "patch",
        "/api/v1/subscriptions/{subscription}/",
        {"sources": ["admin"]},
        ["channels.change_subscription"],
    ),
    ("subscription delete", "delete", "/api/v1/subscriptions/{subscription}/", None, ["channels.delete_subscription"]),
    ("events list", "get", "/api/v1/events/", None, ["events.view_event"]),
    ("event detail", "get", "/api/v1/events/{event}/", None, ["events.view_event"]),
    (
        "event ingest",
        "post",
        "/api/v1/events/",
        {"type": "contact.created", "source": "shop", "payload": {"contact": {"id": "C-1"}}},
        ["events.add_event"],
    ),
    ("deliveries list", "get", "/api/v1/deliveries/", None, ["deliveries.view_delivery"]),
    ("delivery detail", "get", "/api/v1/deliveries/{delivery}/", None, ["deliveries.view_delivery"]),
    ("delivery retry", "post", "/api/v1/deliveries/{delivery}/retry/", None, ["deliveries.retry_delivery"]),
]

ROLE_PERMS = {"anonymous": None, "no_perms": [], "viewer": VIEW_PERMS, "retrier": RETRY_PERMS, "superuser": "all"}


def _allowed(role, needed):
    perms = ROLE_PERMS[role]
    return perms == "all" or (perms is not None and set(needed) <= set(perms))


def _fill(value, world):
    ids = {
        "event_type": world.event_type.pk,
        "channel": world.channel.pk,
        "subscription": world.subscription.pk,
        "event": world.event.pk,
        "delivery": world.delivery.pk,
    }
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value[1:-1] in ids:
            return ids[value[1:-1]]
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


def _snapshot(world):
    from channels.models import Channel, Subscription
    from deliveries.models import Attempt, Delivery
    from events.models import Event, EventType

    world.delivery.refresh_from_db()
    world.channel.refresh_from_db()
    return {
        "channels": list(Channel.objects.values_list("pk", "name", "secret", "url")),
        "subscriptions": list(Subscription.objects.values_list("pk", "source_admin", "source_shop", "source_funnel")),
        "events": Event.objects.count(),
        "enabled": list(EventType.objects.filter(enabled=True).values_list("pk", flat=True)),
        "deliveries": list(Delivery.objects.values_list("pk", "status", "pending_trigger")),
        "attempts": Attempt.objects.count(),
    }


def _client(role):
    client = APIClient()
    user = make_user(role)
    if user is not None:
        token = Token.objects.create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name,method,path,body,needed", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_every_api_endpoint_answers_each_role_by_its_permissions(world, role, name, method, path, body, needed):
    client = _client(role)
    before = _snapshot(world)

    response = getattr(client, method)(_fill(path, world), _fill(body, world), format="json")

    assert response.status_code < 500, response.content[:500]
    if role == "anonymous":
        assert response.status_code == 401
        assert response.headers.get("WWW-Authenticate", "").startswith("Token")
    elif not _allowed(role, needed):
        assert response.status_code == 403, (role, name, response.status_code, response.content[:300])
    else:
        assert response.status_code not in (401, 403), (role, name, response.content[:300])
    if role == "anonymous" or not _allowed(role, needed):
        assert _snapshot(world) == before, f"a refused {name} changed something"


def test_a_logged_in_session_cannot_call_the_api_without_the_csrf_token(world):
    """Session auth (the admin's cookie) must not let another site POST to the API."""
    from django.test import Client

    make_user("superuser")
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(username="root", password="correct horse battery staple 42")
    before = _snapshot(world)

    response = browser.post(f"/api/v1/deliveries/{world.delivery.pk}/retry/", content_type="application/json")

    assert response.status_code == 403
    assert b"CSRF" in response.content
    assert _snapshot(world) == before


def test_an_invalid_or_revoked_token_is_refused(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    assert client.get("/api/v1/channels/").status_code == 401
    user = make_user("superuser")
    token = Token.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/channels/").status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert client.get("/api/v1/channels/").status_code == 401


def test_the_api_throttles_a_token_that_calls_too_often(world, settings):
    from django.core.cache import cache

    cache.clear()
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "3/min"}}
    client = _client("superuser")
    statuses = [client.get("/api/v1/event-types/").status_code for _ in range(5)]
    cache.clear()
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3:] == [429, 429], statuses
