"""Fixtures for the REST API tests: users with exactly the permissions a test names, and their tokens."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from channels.models import Channel, ChannelKind


def grant(user, *perms: str) -> None:
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def all_api_perms() -> list[str]:
    perms = []
    for app_label in ("events", "channels", "deliveries"):
        perms += [
            f"{app_label}.{codename}"
            for codename in Permission.objects.filter(content_type__app_label=app_label).values_list(
                "codename", flat=True
            )
        ]
    return perms


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    # Throttle history lives in the cache; each test starts with a clean slate.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_client(db, django_user_model):
    """``make_client("channels.view_channel", ...)``: an APIClient authenticated by a token of a new user."""
    counter = iter(range(1, 10_000))

    def make(*perms: str, is_staff: bool = True, username: str | None = None) -> APIClient:
        user = django_user_model.objects.create_user(
            username=username or f"api-user-{next(counter)}", password="x", is_staff=is_staff
        )
        grant(user, *perms)
        token = Token.objects.create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        client.user = user
        client.token = token.key
        return client

    return make


@pytest.fixture
def admin_api(make_client):
    """A client whose user holds every permission of the three apps (not a superuser)."""
    return make_client(*all_api_perms(), username="integrator")


@pytest.fixture
def anonymous():
    return APIClient()


@pytest.fixture
def postback_channel(db, receiver):
    return Channel.objects.create(name="receiver", kind=ChannelKind.POSTBACK, url=receiver.url("/hook"))
