"""The dashboard on the admin index: 24 h by outcome per hour, channel success, failures awaiting a human."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from deliveries.models import DeliveryStatus
from deliveries.selectors import hourly_outcomes

pytestmark = pytest.mark.django_db

INDEX_URL = reverse("admin:index")


def test_hourly_outcomes_buckets_the_last_24_hours(make_delivery, postback_channel):
    now = timezone.now()
    make_delivery(channel=postback_channel, status=DeliveryStatus.SUCCEEDED, response_status=200)
    make_delivery(channel=postback_channel, status=DeliveryStatus.FAILED)
    make_delivery(
        channel=postback_channel,
        status=DeliveryStatus.SUCCEEDED,
        response_status=200,
        created_at=now - timedelta(hours=5),
    )
    make_delivery(
        channel=postback_channel, status=DeliveryStatus.PENDING, attempts=0, created_at=now - timedelta(hours=5)
    )
    make_delivery(
        channel=postback_channel,
        status=DeliveryStatus.SUCCEEDED,
        response_status=200,
        created_at=now - timedelta(hours=30),
    )  # outside the window

    hours = hourly_outcomes(now=now)

    assert len(hours) == 24
    assert (hours[-1].succeeded, hours[-1].failed, hours[-1].in_progress) == (1, 1, 0)
    assert (hours[-6].succeeded, hours[-6].failed, hours[-6].in_progress) == (1, 0, 1)
    assert sum(h.total for h in hours) == 4


def test_index_shows_chart_channel_success_and_failures_awaiting_a_human(admin_client, make_delivery, postback_channel):
    make_delivery(channel=postback_channel, status=DeliveryStatus.SUCCEEDED, response_status=200)
    waiting = make_delivery(channel=postback_channel, key="refund.applied", order_ref="A-77")
    not_retryable = make_delivery(channel=postback_channel, key="contact.created")

    html = admin_client.get(INDEX_URL).content.decode()

    assert 'id="deliveries-chart"' in html
    assert html.count('class="segment-succeeded"') == 1 and html.count('class="segment-failed"') == 1
    assert "1 succeeded, 2 failed" in html
    success = html.split('id="channel-success"')[1].split("</table>")[0]
    assert "Shop backend" in success and "33% of 3" in success
    awaiting = html.split('id="awaiting-human"')[1].split("</table>")[0]
    assert reverse("admin:deliveries_delivery_change", args=[waiting.pk]) in awaiting
    assert "A-77" in awaiting
    assert reverse("admin:deliveries_delivery_change", args=[not_retryable.pk]) not in awaiting
    assert 'id="nav-postbacks"' in html and reverse("admin:events_eventtype_changelist") in html


def test_index_query_count_does_not_grow_with_deliveries(
    admin_client, make_delivery, postback_channel, django_assert_max_num_queries
):
    make_delivery(channel=postback_channel, order_ref="A-0")
    # session and user, the dashboard's tables and chart, the operations glance (heartbeats,
    # backlog, channel states), the disabled-channel banner and the open alerts
    with django_assert_max_num_queries(15) as few:
        admin_client.get(INDEX_URL)
    for _ in range(20):
        make_delivery(channel=postback_channel, order_ref="A-1")
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(INDEX_URL)


def test_dashboard_is_hidden_from_staff_who_may_not_see_deliveries(make_staff, make_delivery, postback_channel):
    make_delivery(channel=postback_channel)
    client = make_staff("channels.view_channel")
    html = client.get(INDEX_URL).content.decode()
    assert "deliveries-chart" not in html
