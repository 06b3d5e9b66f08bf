"""Operational events through a real ``manage.py qcluster``: the watch job runs in the cluster.

A Slack-kind channel (a real receiver standing in for Slack) gets every operational event;
the failing channel they are about never does; and a second ops channel that fails too shows
they never loop: its exhausted deliveries of operational events announce nothing.
"""

import pytest
from django.utils import timezone
from django_q.models import Schedule

from channels.models import Channel, ChannelKind
from deliveries.alerting.reenable import reenable_channel
from deliveries.models import Delivery, DeliveryStatus
from deliveries.schedules import WATCH
from events.catalogue.operations import (
    ALERT_UNDELIVERED,
    CHANNEL_DISABLED,
    CHANNEL_RECOVERED,
    DELIVERY_EXHAUSTED,
    KEYS,
)
from events.models import Event
from events.services import emit
from tests.alerting.conftest import age_attempts, move_back
from tests.support.factories import postback_channel, subscribe, user_with
from tests.support.receiver import Reply, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CLUSTER_ENV = {"WEBHOOKS_MAX_RETRIES": "1", "WEBHOOKS_RETRY_DELAYS": "0", "WEBHOOKS_DISABLE_AFTER_HOURS": "0.5"}
UNSETTLED = [DeliveryStatus.PENDING, DeliveryStatus.SENDING]


def slack_channel(url: str, name: str) -> Channel:
    channel = Channel(name=name, kind=ChannelKind.SLACK, url=url, timeout=5)
    channel.clean()
    channel.save()
    for key in KEYS:
        subscribe(channel, key)
    return channel


def run_watch(cluster) -> None:
    Schedule.objects.filter(name=WATCH).update(next_run=timezone.now())
    assert WATCH in cluster.run_schedules_now()


def settled(n: int | None = None) -> bool:
    return not Delivery.objects.filter(status__in=UNSETTLED).exists() and (n is None or Delivery.objects.count() >= n)


def slack_types(receiver, path: str) -> list[str]:
    """The operational event key each Slack message names (the text starts "*Name* (`key`)")."""
    return sorted(next(k for k in KEYS if f"(`{k}`)" in r.json["text"]) for r in receiver.on(path))


def test_operational_events_reach_a_slack_channel_never_the_channel_they_are_about_and_never_loop(
    catalogue, receiver, clusters
):
    # Given a failing ERP endpoint that also asked for every operational event (it never gets them),
    receiver.reply("/erp", Reply(503))
    erp = postback_channel(receiver.url("/erp"), name="ERP")
    for key in ("contact.created", "order.completed", *KEYS):
        subscribe(erp, key)
    move_back(Channel.objects.filter(pk=erp.pk), "created_at", minutes=24 * 60)
    # a Slack channel for the ops team, and a second one that is broken
    slack = slack_channel(receiver.url("/slack"), "Ops Slack")
    receiver.reply("/slack-down", Reply(500))
    slack_channel(receiver.url("/slack-down"), "Ops Slack (broken)")
    # and 21 contact events and one order to the ERP, all failing after their one retry
    for i in range(21):
        emit("contact.created", source="shop", payload={"contact": {"id": i}})
    order = emit("order.completed", source="shop", payload={"order": {"id": "A-1"}})
    cluster = clusters(env=CLUSTER_ENV).start()
    wait_until(lambda: settled(22), timeout=60, message="the ERP deliveries to fail")
    assert Delivery.objects.filter(channel=erp, status=DeliveryStatus.FAILED, attempt_count=2).count() == 22

    # When the clock has moved (failing for the whole 30-minute window; the order 20 minutes old)
    age_attempts(erp, first_minutes_ago=40, rest_minutes_ago=20)
    move_back(Delivery.objects.filter(event=order), "created_at", minutes=20)
    # and the cluster runs the watch job
    run_watch(cluster)

    # Then the Slack channel hears: the ERP disabled, 22 deliveries exhausted, one undelivered alert
    expected = sorted([CHANNEL_DISABLED, ALERT_UNDELIVERED] + [DELIVERY_EXHAUSTED] * 22)
    wait_until(lambda: len(receiver.on("/slack")) >= 24, timeout=60, message="24 operational events on Slack")
    erp.refresh_from_db()
    assert not erp.active and erp.is_auto_disabled
    # and once the broken ops channel's deliveries of them have failed after their retries too,
    wait_until(lambda: settled(22 + 2 * 24), timeout=60, message="the operational deliveries to settle")
    broken = Delivery.objects.filter(channel__name="Ops Slack (broken)")
    assert broken.filter(status=DeliveryStatus.FAILED, attempt_count=2).count() == 24
    # the next watch runs announce none of those: nothing loops
    for _ in range(2):
        run_watch(cluster)
        wait_until(
            lambda: not Delivery.objects.filter(status=DeliveryStatus.FAILED, failure_reviewed_at=None).exists(),
            timeout=60,
            message="the watch job to look at every failure",
        )
    assert settled()
    assert Event.objects.filter(type__in=KEYS).count() == 24
    assert slack_types(receiver, "/slack") == expected
    assert Delivery.objects.filter(channel=slack, status=DeliveryStatus.SUCCEEDED).count() == 24
    assert len(receiver.on("/slack-down")) == 48
    # and the ERP never received an operational event (before or after it was disabled)
    assert {r.json["eventType"] for r in receiver.on("/erp")} == {"contact.created", "order.completed"}

    # When staff re-enable the ERP, the Slack channel hears it recovered; the ERP does not
    reenable_channel(actor=user_with("channels.view_channel", "channels.change_channel"), channel=erp)
    wait_until(lambda: len(receiver.on("/slack")) == 25, timeout=60, message="the recovered event on Slack")
    assert slack_types(receiver, "/slack") == sorted([*expected, CHANNEL_RECOVERED])
    assert {r.json["eventType"] for r in receiver.on("/erp")} == {"contact.created", "order.completed"}
    assert not Delivery.objects.filter(channel=erp, event_type_id__in=KEYS).exists()
    cluster.stop()
