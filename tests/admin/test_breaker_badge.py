"""A channel's circuit breaker is visible to staff (SPEC section 5): changelist badge, channel page and API."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from deliveries.models import BreakerState, ChannelBreaker
from tests.support.factories import postback_channel

pytestmark = pytest.mark.django_db


def _cool_off(channel, *, state=BreakerState.OPEN, failures=5):
    return ChannelBreaker.objects.create(
        channel=channel,
        state=state,
        consecutive_failures=failures,
        opened_at=timezone.now(),
        open_until=timezone.now() + dt.timedelta(seconds=30),
    )


def test_the_changelist_and_the_channel_page_show_a_cooling_channel_apart_from_a_sending_one(admin_client):
    # Given one channel cooling off after 5 timeouts in a row and one that never failed
    cooling = postback_channel("https://cooling.example/hook", name="Cooling")
    postback_channel("https://fine.example/hook", name="Fine")
    _cool_off(cooling)

    # When staff open the channel list and the cooling channel's page
    listing = admin_client.get(reverse("admin:channels_channel_changelist")).content.decode()
    page = admin_client.get(reverse("admin:channels_channel_change", args=[cooling.pk])).content.decode()

    # Then the list shows one "Cooling off until ..." badge and one "Sending"
    assert listing.count("badge-warn") == 1 and "Cooling off until" in listing
    assert "badge-ok" in listing
    # and the channel page says so with the failure count
    breaker_line = page.split('id="channel-breaker"')[1].split("</p>")[0]
    assert "Cooling off until" in breaker_line and "5 timeouts or refused connections" in breaker_line


def test_the_api_shows_each_channels_breaker(admin_client):
    # Given a channel probing after cooling off, and one that never failed
    probing = postback_channel("https://probing.example/hook", name="Probing")
    fine = postback_channel("https://fine.example/hook", name="Fine")
    _cool_off(probing, state=BreakerState.HALF_OPEN, failures=6)

    # When an integrator reads the channels
    body = admin_client.get("/api/v1/channels/").json()
    by_id = {c["id"]: c["breaker"] for c in body["results"]}

    # Then each carries its breaker state
    assert by_id[probing.pk]["state"] == "half_open" and by_id[probing.pk]["consecutive_failures"] == 6
    assert by_id[probing.pk]["open_until"].endswith("Z")
    assert by_id[fine.pk] == {"state": "closed", "consecutive_failures": 0, "open_until": None}
