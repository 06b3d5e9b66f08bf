"""The built-in demo receiver of ``make run``, and the retention purge."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from deliveries.models import Attempt, Delivery, DemoReceipt
from deliveries.schedules import PURGE, SWEEPER, WATCH, register_schedules
from deliveries.services import send_test_event
from events.models import Event
from events.services import emit
from tests.support.factories import postback_channel, subscribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_channel(live_server):
    return postback_channel(live_server.url + "/demo/receiver/", name="Demo receiver")


@pytest.mark.django_db(transaction=True)
def test_demo_receiver_verifies_the_signature_and_stores_the_postback(catalogue, demo_channel):
    attempt = send_test_event(channel=demo_channel)

    assert attempt.response_status == 200, attempt.response_body
    receipt = DemoReceipt.objects.get()
    assert receipt.signature_valid is True and receipt.event_type == "test"
    assert receipt.webhook_id == str(attempt.delivery.event_id)
    assert demo_channel.secret not in str(receipt.headers)


@pytest.mark.django_db(transaction=True)
def test_demo_receiver_refuses_a_bad_signature_and_records_it(catalogue, demo_channel, client):
    response = client.post(
        "/demo/receiver/",
        data=b'{"eventType":"test"}',
        content_type="application/json",
        headers={
            "webhook-id": "msg_1",
            "webhook-timestamp": str(int(timezone.now().timestamp())),
            "webhook-signature": "v1,AAAA",
        },
    )

    assert response.status_code == 401
    assert DemoReceipt.objects.get().signature_valid is False


def test_demo_endpoints_take_post_only(client):
    assert client.get("/demo/receiver/").status_code == 405
    assert client.get("/demo/slack/").status_code == 405


def test_fake_slack_stores_the_text(client):
    response = client.post("/demo/slack/", data=b'{"text":"hello"}', content_type="application/json")

    assert response.status_code == 200 and DemoReceipt.objects.get().body == "hello"


def test_schedules_are_registered_once_however_often_registration_runs():
    from django_q.models import Schedule

    register_schedules()
    register_schedules()
    call_command("register_schedules")

    assert sorted(Schedule.objects.values_list("name", flat=True)) == sorted([PURGE, SWEEPER, WATCH])
    sweeper = Schedule.objects.get(name=SWEEPER)
    assert sweeper.func == "deliveries.tasks.sweep" and sweeper.repeats == -1


def test_purge_deletes_events_and_attempts_past_retention_and_keeps_recent_and_unfinished(settings):
    settings.WEBHOOKS_RETENTION_DAYS = 30
    channel = postback_channel("http://127.0.0.1:9/hook")
    subscribe(channel, "contact.created")
    old, recent, old_pending = (emit("contact.created", source="shop", payload={"n": i}) for i in range(3))
    long_ago = timezone.now() - dt.timedelta(days=31)
    Event.objects.filter(pk__in=[old.pk, old_pending.pk]).update(created_at=long_ago)
    Delivery.objects.exclude(event=old_pending).update(status="succeeded")
    for delivery in Delivery.objects.all():
        Attempt.objects.create(
            delivery=delivery, number=1, started_at=long_ago if delivery.event_id == old.pk else timezone.now()
        )

    call_command("purge_old_records", "--batch-size", "1")

    assert set(Event.objects.values_list("pk", flat=True)) == {recent.pk, old_pending.pk}
    assert not Delivery.objects.filter(event_id=old.pk).exists()
    assert Attempt.objects.count() == 2
