"""API: POST events/{id}/resend/, POST channels/{id}/recover/, GET recover-jobs/{id}/ (SPEC section 10)."""

import datetime as dt

import pytest
from django.utils import timezone

from deliveries.models import Delivery, DeliveryStatus, RecoverJob, Trigger
from events.services import emit
from tests.support.factories import subscribe

RESEND = ("deliveries.view_delivery", "deliveries.resend", "events.view_event")
RECOVER = ("channels.view_channel", "deliveries.view_delivery", "deliveries.recover")


@pytest.fixture
def failed(postback_channel, event_type, django_capture_on_commit_callbacks, monkeypatch):
    """Two deliveries of contact.created to the receiver's channel, marked failed."""
    monkeypatch.setattr("deliveries.engine.kick.queue_dispatch", lambda: None)
    monkeypatch.setattr("deliveries.recovery.enqueue", lambda job_id: None)
    subscribe(postback_channel, event_type.key)
    events = [emit(event_type.key, source="shop", payload={"contact": {"id": n}}) for n in range(2)]
    Delivery.objects.update(status=DeliveryStatus.FAILED)
    return postback_channel, events


def since():
    return (timezone.now() - dt.timedelta(hours=1)).isoformat()


def test_resend_answers_201_with_the_new_delivery(make_client, failed):
    channel, events = failed
    client = make_client(*RESEND)

    answer = client.post(f"/api/v1/events/{events[0].pk}/resend/", {"channel": channel.pk}, format="json")

    assert answer.status_code == 201
    delivery = Delivery.objects.get(pk=answer.json()["id"])
    assert delivery.pending_trigger == Trigger.RESEND and delivery.status == DeliveryStatus.PENDING


def test_resend_without_the_permission_is_403(make_client, failed):
    channel, events = failed
    client = make_client("deliveries.view_delivery", "events.view_event")

    answer = client.post(f"/api/v1/events/{events[0].pk}/resend/", {"channel": channel.pk}, format="json")

    assert answer.status_code == 403 and Delivery.objects.count() == 2


@pytest.mark.parametrize("body", [{}, {"channel": "x"}, {"channel": 999999}])
def test_resend_with_a_bad_or_unknown_channel_is_400_naming_channel(make_client, failed, body):
    _, events = failed
    answer = make_client(*RESEND).post(f"/api/v1/events/{events[0].pk}/resend/", body, format="json")
    assert answer.status_code == 400 and "channel" in answer.json()["errors"]


def test_resend_to_a_channel_not_attached_is_400_naming_channel(make_client, failed, receiver):
    from channels.models import Channel, ChannelKind

    _, events = failed
    other = Channel.objects.create(name="other", kind=ChannelKind.POSTBACK, url=receiver.url("/other"))
    answer = make_client(*RESEND).post(f"/api/v1/events/{events[0].pk}/resend/", {"channel": other.pk}, format="json")
    assert answer.status_code == 400 and "not attached" in answer.json()["errors"]["channel"][0]


def test_recover_answers_202_with_the_job_and_its_location(make_client, failed):
    channel, _ = failed
    client = make_client(*RECOVER)

    answer = client.post(f"/api/v1/channels/{channel.pk}/recover/", {"since": since()}, format="json")

    assert answer.status_code == 202
    body = answer.json()
    assert body["status"] == "queued" and body["total"] == 2 and body["done"] == 0
    assert answer["Location"].endswith(f"/api/v1/recover-jobs/{body['id']}/")
    job = client.get(answer["Location"])
    assert job.status_code == 200 and job.json()["id"] == body["id"]


def test_a_second_recover_while_one_is_queued_is_409(make_client, failed):
    channel, _ = failed
    client = make_client(*RECOVER)
    client.post(f"/api/v1/channels/{channel.pk}/recover/", {"since": since()}, format="json")

    answer = client.post(f"/api/v1/channels/{channel.pk}/recover/", {"since": since()}, format="json")

    assert answer.status_code == 409 and RecoverJob.objects.count() == 1


def test_recover_without_the_permission_is_403(make_client, failed):
    channel, _ = failed
    client = make_client("channels.view_channel", "deliveries.view_delivery")
    answer = client.post(f"/api/v1/channels/{channel.pk}/recover/", {"since": since()}, format="json")
    assert answer.status_code == 403 and not RecoverJob.objects.exists()


def test_reading_a_job_needs_the_view_permissions(make_client, failed):
    channel, _ = failed
    job = make_client(*RECOVER).post(f"/api/v1/channels/{channel.pk}/recover/", {"since": since()}, format="json")
    assert make_client().get(f"/api/v1/recover-jobs/{job.json()['id']}/").status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "since"),
        ({"since": "yesterday"}, "since"),
        ({"since": (timezone.now() + dt.timedelta(days=1)).isoformat()}, "since"),
        ({"since": since(), "until": (timezone.now() - dt.timedelta(hours=2)).isoformat()}, "until"),
        ({"since": since(), "event_types": ["no.such.type"]}, "event_types"),
        ({"since": since(), "event_types": "contact.created"}, "event_types"),
        ({"since": since(), "reenable": "perhaps"}, "reenable"),
    ],
)
def test_bad_recover_input_is_400_naming_the_field(make_client, failed, body, field):
    channel, _ = failed
    answer = make_client(*RECOVER).post(f"/api/v1/channels/{channel.pk}/recover/", body, format="json")
    assert answer.status_code == 400 and field in answer.json()["errors"], answer.json()["errors"]
    assert not RecoverJob.objects.exists()


def test_a_disabled_channel_needs_reenable(make_client, failed):
    channel, _ = failed
    channel.active = False
    channel.save(update_fields=["active"])
    client = make_client(*RECOVER, "channels.change_channel")
    url = f"/api/v1/channels/{channel.pk}/recover/"

    refused = client.post(url, {"since": since()}, format="json")
    accepted = client.post(url, {"since": since(), "reenable": True}, format="json")

    assert refused.status_code == 400 and "reenable" in refused.json()["errors"]
    assert accepted.status_code == 202
    channel.refresh_from_db()
    assert channel.active


def test_nothing_to_resend_is_400_and_creates_no_job(make_client, failed):
    channel, _ = failed
    Delivery.objects.update(status=DeliveryStatus.SUCCEEDED)
    answer = make_client(*RECOVER).post(f"/api/v1/channels/{channel.pk}/recover/", {"since": since()}, format="json")
    assert answer.status_code == 400 and "Nothing to resend" in answer.json()["detail"]
    assert not RecoverJob.objects.exists()


def test_the_schema_describes_resend_and_recover(client):
    schema = client.get("/api/schema/?format=json").json()
    assert "post" in schema["paths"]["/api/v1/events/{id}/resend/"]
    assert "202" in schema["paths"]["/api/v1/channels/{id}/recover/"]["post"]["responses"]
    assert "get" in schema["paths"]["/api/v1/recover-jobs/{id}/"]
