"""The admin index shows operations at a glance: workers, sweeper, backlog, channels cooling or inactive."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from deliveries.models import BreakerState, ChannelBreaker, DeliveryStatus, WorkerHeartbeat

pytestmark = pytest.mark.django_db


def glance(client) -> str:
    response = client.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('id="operations-glance"')
    return html[start : html.index("</table>", start)]


def test_staff_see_workers_backlog_and_channels_cooling_or_inactive(make_staff, beat, make_channel, make_delivery):
    # given a live engine and sweeper, two due deliveries, a channel cooling off and one inactive
    beat(age_s=3, in_flight=4)
    beat(WorkerHeartbeat.Kind.SWEEPER, age_s=20)
    shop = make_channel("Shop")
    make_delivery(channel=shop, status=DeliveryStatus.PENDING, next_attempt_at=timezone.now() - timedelta(seconds=75))
    make_delivery(channel=shop, status=DeliveryStatus.PENDING, next_attempt_at=timezone.now())
    ChannelBreaker.objects.create(channel=make_channel("Flaky ERP"), state=BreakerState.OPEN, opened_at=timezone.now())
    make_channel("Old CRM", active=False)

    html = glance(make_staff("deliveries.view_delivery"))

    # (ages are rounded to the second and grow while the test runs: a second of slack)
    assert re.search(r'class="glance-ok">1 · last seen [34] s ago, 4 in flight', html)
    assert re.search(r"ran 2[01] s ago", html)
    assert re.search(r"2 due, the oldest waiting 7[56] s", html)
    assert "1 active · 1 cooling off · 1 inactive" in html
    assert "Flaky ERP</a>" in html and "Old CRM</a>" in html


def test_a_stopped_worker_is_shown_in_red(make_staff, beat, settings):
    beat(age_s=settings.WEBHOOKS_WORKER_MAX_AGE_S + 30)

    html = glance(make_staff("deliveries.view_delivery"))

    assert re.search(r'class="glance-bad">0 · none seen for 15[01] s', html)
    assert "never ran" in html


def test_staff_who_may_not_view_deliveries_do_not_see_it(make_staff):
    response = make_staff().get("/admin/")

    assert response.status_code == 200
    assert b"operations-glance" not in response.content
