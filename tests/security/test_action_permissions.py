"""Every user action is refused or allowed alike in the admin and the API (SPEC section 6).

Roles beyond the five of the matrix tests: staff holding one action permission alone, without
the view permission of its object, and the same permission with it. The verdict comes from one
service-level check (``common.permissions.Action``), so the admin and the API must agree, and a
refused action changes nothing.
"""

from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.security.conftest import PASSWORD, _grant
from tests.security.helpers import token_client
from tests.security.test_api_permissions import _snapshot

pytestmark = pytest.mark.django_db


@dataclass
class ActionCase:
    name: str
    permission: str  # the action's own permission
    view: list[str]  # what else it needs, for the positive control
    admin: tuple  # (method, path, data)
    api: tuple  # (method, path, data)
    extra: list[str] = field(default_factory=list)


ACTIONS = [
    ActionCase(
        "retry",
        "deliveries.retry_delivery",
        ["deliveries.view_delivery"],
        ("post", "/admin/deliveries/delivery/{delivery}/retry/", {}),
        ("post", "/api/v1/deliveries/{delivery}/retry/", None),
    ),
    ActionCase(
        "send test event",
        "channels.send_test_event",
        ["channels.view_channel"],
        ("post", "/admin/channels/channel/{channel}/send-test/", {}),
        ("post", "/api/v1/channels/{channel}/test/", None),
    ),
    ActionCase(
        "rotate secret",
        "channels.rotate_secret",
        ["channels.view_channel"],
        ("post", "/admin/channels/channel/{channel}/rotate-secret/", {}),
        ("post", "/api/v1/channels/{channel}/rotate-secret/", None),
    ),
    ActionCase(
        "reveal (secret in the admin, header values in the API)",
        "channels.reveal_secret",
        ["channels.view_channel"],
        ("post", "/admin/channels/channel/{channel}/reveal-secret/", {}),
        ("get", "/api/v1/channels/{channel}/", None),
    ),
    ActionCase(
        "toggle",
        "events.change_eventtype",
        [],  # Django's change permission includes viewing, in the admin as in the API
        ("post", "/admin/events/eventtype/{event_type}/toggle/", {"enabled": "off"}),
        ("patch", "/api/v1/event-types/{event_type}/", {"enabled": False}),
    ),
    ActionCase(
        "enable on-demand",
        "events.enable_on_demand",
        ["events.change_eventtype"],
        ("post", "/admin/events/eventtype/{on_demand}/toggle/", {"enabled": "on"}),
        ("patch", "/api/v1/event-types/{on_demand}/", {"enabled": True}),
    ),
]


def _ids(world):
    from events.models import Availability, EventType

    on_demand = EventType.objects.filter(availability=Availability.ON_DEMAND, enabled=False).first()
    assert on_demand is not None, "the catalogue has no disabled on-demand type"
    world.channel.headers = {"X-Api-Key": "hdr-value-1234"}
    world.channel.save(update_fields=["headers"])
    return {
        "delivery": world.delivery.pk,
        "channel": world.channel.pk,
        "event_type": world.event_type.pk,
        "on_demand": on_demand.pk,
    }


def _staff(perms):
    user = get_user_model().objects.create_user(username="actor", password=PASSWORD, is_staff=True)
    _grant(user, perms)
    return get_user_model().objects.get(pk=user.pk)


def _admin_verdict(user, request, ids) -> bool:
    method, path, data = request
    client = Client()
    assert client.login(username=user.get_username(), password=PASSWORD)
    response = getattr(client, method)(path.format(**ids), data)
    assert response.status_code in (200, 302, 403), (path, response.status_code)
    if response.status_code == 302:
        assert not response["Location"].startswith("/admin/login/")
    return response.status_code != 403


def _api_verdict(user, request, ids, case) -> bool:
    method, path, data = request
    response = getattr(token_client(user), method)(path.format(**ids), data, format="json")
    assert response.status_code < 500, response.content[:300]
    if response.status_code in (401, 403):
        return False
    if case.name.startswith("reveal"):
        return response.json()["headers"] == {"X-Api-Key": "hdr-value-1234"}  # shown in clear, or masked
    return True


@pytest.mark.parametrize("case", ACTIONS, ids=[c.name for c in ACTIONS])
def test_an_action_permission_alone_without_view_is_refused_alike_by_admin_and_api(world, case):
    ids = _ids(world)
    user = _staff([case.permission])
    before = _snapshot(world)

    admin_allowed = _admin_verdict(user, case.admin, ids)
    api_allowed = _api_verdict(user, case.api, ids, case)

    expected = not case.view  # only an action that needs nothing more may go through
    assert (admin_allowed, api_allowed) == (expected, expected), case.name
    if not expected:
        assert _snapshot(world) == before, f"a refused {case.name} changed something"


@pytest.mark.parametrize("case", ACTIONS, ids=[c.name for c in ACTIONS])
def test_the_same_action_with_its_view_permission_is_allowed_alike_by_admin_and_api(world, case):
    ids = _ids(world)
    user = _staff([case.permission, *case.view])
    assert _admin_verdict(user, case.admin, ids) is True, case.name
    # the admin's retry / toggle changed the state; put it back so the API acts on the same thing
    from deliveries.models import Delivery, DeliveryStatus
    from events.models import EventType

    Delivery.objects.filter(pk=world.delivery.pk).update(status=DeliveryStatus.FAILED)
    EventType.objects.filter(pk=ids["on_demand"]).update(enabled=False)
    EventType.objects.filter(pk=ids["event_type"]).update(enabled=True)
    assert _api_verdict(user, case.api, ids, case) is True, case.name


# Toggle is left out: its permission is Django's change permission, which includes viewing.
NEEDING_MORE = [c for c in ACTIONS if c.view]


@pytest.mark.parametrize("case", NEEDING_MORE, ids=[c.name for c in NEEDING_MORE])
def test_the_view_permission_alone_does_not_allow_the_action(world, case):
    ids = _ids(world)
    user = _staff(case.view)
    before = _snapshot(world)
    assert (_admin_verdict(user, case.admin, ids), _api_verdict(user, case.api, ids, case)) == (False, False)
    assert _snapshot(world) == before
