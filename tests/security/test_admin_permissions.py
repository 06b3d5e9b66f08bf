"""Permission matrix of the staff UI (SPEC sections 6 and 7), and CSRF on every admin POST.

Roles: anonymous, an active user who is not staff, staff who may only view, staff who
may view and retry, superuser. Pages and actions are driven with Django's test client;
a refused POST changes nothing; a POST without the CSRF token is refused even for the
superuser (a forged Retry from another site).
"""

import re

import pytest
from django.test import Client

from tests.security.conftest import PASSWORD, RETRY_PERMS, ROLES, VIEW_PERMS, make_user
from tests.security.test_api_permissions import _snapshot

pytestmark = pytest.mark.django_db

ROLE_PERMS = {"anonymous": None, "no_perms": None, "viewer": VIEW_PERMS, "retrier": RETRY_PERMS, "superuser": "all"}

# (name, path template, permissions needed to see it)
PAGES = [
    ("admin index", "/admin/", []),
    ("system notifications", "/admin/events/eventtype/", ["events.view_eventtype"]),
    ("event type page", "/admin/events/eventtype/{event_type}/change/", ["events.view_eventtype"]),
    ("attach form", "/admin/events/eventtype/refund.applied/attach/", ["channels.add_subscription"]),
    (
        "edit subscription form",
        "/admin/events/eventtype/{event_type}/subscriptions/{subscription}/edit/",
        ["channels.change_subscription"],
    ),
    ("events", "/admin/events/event/", ["events.view_event"]),
    ("event page", "/admin/events/event/{event}/change/", ["events.view_event"]),
    ("orders", "/admin/events/order/", ["events.view_order"]),
    ("order page", "/admin/events/order/{order}/change/", ["events.view_order"]),
    ("channels", "/admin/channels/channel/", ["channels.view_channel"]),
    ("channel page", "/admin/channels/channel/{channel}/change/", ["channels.view_channel"]),
    ("add channel", "/admin/channels/channel/add/", ["channels.add_channel"]),
    ("rotate secret confirm", "/admin/channels/channel/{channel}/rotate-secret/", ["channels.rotate_secret"]),
    ("subscriptions", "/admin/channels/subscription/", ["channels.view_subscription"]),
    ("subscription page", "/admin/channels/subscription/{subscription}/change/", ["channels.view_subscription"]),
    ("deliveries", "/admin/deliveries/delivery/", ["deliveries.view_delivery"]),
    ("delivery page", "/admin/deliveries/delivery/{delivery}/change/", ["deliveries.view_delivery"]),
]

# (name, path template, form data, permissions needed)
POSTS = [
    (
        "toggle event type",
        "/admin/events/eventtype/{event_type}/toggle/",
        {"enabled": "off"},
        ["events.change_eventtype"],
    ),
    (
        "attach channel",
        "/admin/events/eventtype/refund.applied/attach/",
        {"channel": "{channel}", "sources": ["shop"]},
        ["channels.add_subscription"],
    ),
    (
        "edit subscription",
        "/admin/events/eventtype/{event_type}/subscriptions/{subscription}/edit/",
        {"sources": ["admin"], "active": "on"},
        ["channels.change_subscription"],
    ),
    (
        "delete subscription",
        "/admin/events/eventtype/{event_type}/subscriptions/{subscription}/delete/",
        {},
        ["channels.delete_subscription"],
    ),
    ("retry failed of order", "/admin/events/order/{order}/retry-failed/", {}, ["deliveries.retry_delivery"]),
    ("send test event", "/admin/channels/channel/{channel}/send-test/", {}, ["channels.send_test_event"]),
    ("reveal secret", "/admin/channels/channel/{channel}/reveal-secret/", {}, ["channels.reveal_secret"]),
    ("rotate secret", "/admin/channels/channel/{channel}/rotate-secret/", {}, ["channels.rotate_secret"]),
    ("retry one delivery", "/admin/deliveries/delivery/{delivery}/retry/", {}, ["deliveries.retry_delivery"]),
    (
        "retry selected (action)",
        "/admin/deliveries/delivery/",
        {"action": "retry_selected", "_selected_action": ["{delivery}"]},
        ["deliveries.retry_delivery"],
    ),
    (
        "add channel",
        "/admin/channels/channel/add/?kind=postback",
        {
            "name": "new",
            "kind": "postback",
            "url": "http://127.0.0.1:9/new",
            "timeout": "5",
            "headers": "{}",
            "active": "on",
        },
        ["channels.add_channel"],
    ),
    (
        "change channel",
        "/admin/channels/channel/{channel}/change/",
        {"name": "renamed", "url": "http://127.0.0.1:9/renamed", "timeout": "5", "headers": "{}", "active": "on"},
        ["channels.change_channel"],
    ),
    ("delete channel", "/admin/channels/channel/{spare_channel}/delete/", {"post": "yes"}, ["channels.delete_channel"]),
]


def _ids(world):
    from channels.models import Channel
    from events.models import Order

    # A channel with no history to delete: the delivery log is read-only, so a channel with
    # deliveries cannot be deleted from the admin by anyone (Django's cascade check).
    spare = Channel.objects.get_or_create(name="spare", kind="postback", url="http://127.0.0.1:9/spare")[0]
    return {
        "event_type": world.event_type.pk,
        "channel": world.channel.pk,
        "subscription": world.subscription.pk,
        "event": world.event.pk,
        "delivery": world.delivery.pk,
        "order": Order.objects.get(ref="A-1001").pk,
        "spare_channel": spare.pk,
    }


def _fill(value, ids):
    if isinstance(value, str):
        return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]) if m.group(1) in ids else m.group(0), value)
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def _browser(role, *, csrf=False):
    client = Client(enforce_csrf_checks=csrf)
    user = make_user(role)
    if user is not None:
        assert client.login(username=user.get_username(), password=PASSWORD)
    return client


def _allowed(role, needed):
    perms = ROLE_PERMS[role]
    return perms == "all" or (perms is not None and set(needed) <= set(perms))


def _sent_to_login(response):
    return response.status_code == 302 and response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name,path,needed", PAGES, ids=[p[0] for p in PAGES])
def test_every_admin_page_answers_each_role_by_its_permissions(world, role, name, path, needed):
    browser = _browser(role)
    response = browser.get(_fill(path, _ids(world)))
    assert response.status_code < 500
    if role in ("anonymous", "no_perms"):
        assert _sent_to_login(response), (role, name, response.status_code)
    elif _allowed(role, needed):
        assert response.status_code == 200, (role, name, response.status_code)
    else:
        assert response.status_code == 403, (role, name, response.status_code)
    assert world.channel.secret not in response.content.decode(errors="replace"), f"{name} shows the secret"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name,path,data,needed", POSTS, ids=[p[0] for p in POSTS])
def test_every_admin_action_is_refused_without_its_permission_and_changes_nothing(
    world, role, name, path, data, needed
):
    ids = _ids(world)
    browser = _browser(role)
    before = _snapshot(world)

    response = browser.post(_fill(path, ids), _fill(data, ids))

    assert response.status_code < 500, (role, name, response.status_code)
    if _allowed(role, needed):
        assert response.status_code in (200, 302), (role, name, response.status_code)
        assert not _sent_to_login(response)
        return
    if role in ("anonymous", "no_perms"):
        assert _sent_to_login(response), (role, name, response.status_code)
    elif name == "retry selected (action)":
        # An action the user may not run is not offered; Django answers the list again.
        assert response.status_code in (200, 302, 403), (role, name, response.status_code)
    else:
        assert response.status_code == 403, (role, name, response.status_code)
    assert _snapshot(world) == before, f"a refused {name} by {role} changed something"
    assert world.channel.secret not in response.content.decode(errors="replace")


@pytest.mark.parametrize("name,path,data,needed", POSTS, ids=[p[0] for p in POSTS])
def test_every_admin_post_without_the_csrf_token_is_refused_even_for_the_superuser(world, name, path, data, needed):
    ids = _ids(world)
    browser = _browser("superuser", csrf=True)
    browser.get("/admin/")  # the CSRF cookie is set, as in a real session; the forged form lacks the token
    before = _snapshot(world)

    response = browser.post(_fill(path, ids), _fill(data, ids))

    assert response.status_code == 403, (name, response.status_code)
    assert b"CSRF" in response.content
    assert _snapshot(world) == before, f"a forged {name} changed something"


def test_a_forged_retry_is_refused_and_the_same_retry_with_the_token_is_queued(world):
    """The positive control for the CSRF tests: the token is what makes the difference."""
    from deliveries.models import DeliveryStatus, Trigger

    browser = _browser("retrier", csrf=True)
    page = browser.get(f"/admin/events/order/{_ids(world)['order']}/change/")
    assert page.status_code == 200
    path = f"/admin/deliveries/delivery/{world.delivery.pk}/retry/"

    forged = browser.post(path, {})
    world.delivery.refresh_from_db()
    assert forged.status_code == 403 and world.delivery.status == DeliveryStatus.FAILED

    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content)
    assert token, "the order page has no CSRF-protected form"
    genuine = browser.post(path, {"csrfmiddlewaretoken": token.group(1).decode()})
    world.delivery.refresh_from_db()
    assert genuine.status_code == 302
    assert world.delivery.status == DeliveryStatus.PENDING and world.delivery.pending_trigger == Trigger.MANUAL


def test_the_secret_is_never_shown_in_answer_to_a_get(world):
    """Reveal answers a POST only, so a link, a prefetch or an image tag cannot fetch the secret."""
    browser = _browser("superuser")
    response = browser.get(f"/admin/channels/channel/{world.channel.pk}/reveal-secret/")
    assert response.status_code == 405
    assert world.channel.secret not in response.content.decode(errors="replace")
    revealed = browser.post(f"/admin/channels/channel/{world.channel.pk}/reveal-secret/")
    assert revealed.status_code == 200 and world.channel.secret in revealed.content.decode()
    assert "no-store" in revealed["Cache-Control"]
