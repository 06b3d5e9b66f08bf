"""Resend and recover (SPEC section 10): services, against a real HTTP receiver."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from channels.kinds import ChannelKind
from channels.models import Channel, Subscription
from deliveries import recovery
from deliveries.exceptions import NothingToResend, RecoverRefused
from deliveries.models import Delivery, DeliveryStatus, RecoverJob, Trigger
from deliveries.recovery import count_recoverable, resend_event, run_recover, start_recover
from events.models import EventType
from tests.engine.helpers import deliver_now, emit_and_deliver
from tests.support.factories import postback_channel, subscribe, user_with
from tests.support.receiver import Reply

pytestmark = pytest.mark.django_db

RESENDER = ("deliveries.view_delivery", "deliveries.resend")
RECOVERER = ("channels.view_channel", "deliveries.view_delivery", "deliveries.recover")


@pytest.fixture
def outage(receiver, settings):
    """Three contact.created deliveries that failed while the endpoint answered 503, then it came back."""
    settings.WEBHOOKS_MAX_RETRIES = 0
    channel = postback_channel(receiver.url("/hook"))
    subscribe(channel, "contact.created")
    receiver.reply("/hook", Reply(status=503))
    since = timezone.now() - dt.timedelta(seconds=1)
    for n in range(3):
        emit_and_deliver(payload={"contact": {"id": n}})
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.FAILED}
    receiver.reply("/hook", Reply(status=200))
    return channel, since


def test_resend_sends_the_event_again_as_a_new_resend_delivery(outage, receiver):
    channel, _ = outage
    failed = Delivery.objects.first()
    user = user_with(*RESENDER)

    delivery = resend_event(actor=user, event=failed.event, channel=channel)
    deliver_now()

    delivery.refresh_from_db()
    assert delivery.pk != failed.pk and delivery.pending_trigger == Trigger.AUTOMATIC
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts.get().trigger == Trigger.RESEND
    assert receiver.requests[-1].json["payload"]["contact"]["id"] == failed.event.payload["contact"]["id"]


def test_resend_replays_an_event_to_a_channel_attached_after_it(outage, receiver):
    channel, _ = outage
    event = Delivery.objects.first().event
    later = postback_channel(receiver.url("/later"), name="Later")
    subscribe(later, "contact.created")

    resend_event(actor=user_with(*RESENDER), event=event, channel=later)
    deliver_now()

    assert len(receiver.on("/later")) == 1


def test_resend_to_a_channel_not_attached_to_the_type_names_the_channel(outage, receiver):
    event = Delivery.objects.first().event
    other = postback_channel(receiver.url("/other"), name="Other")

    with pytest.raises(ValidationError) as refused:
        resend_event(actor=user_with(*RESENDER), event=event, channel=other)
    assert "channel" in refused.value.message_dict and Delivery.objects.count() == 3


def test_resend_of_a_postback_only_type_to_a_slack_channel_is_refused(outage):
    event = Delivery.objects.first().event
    EventType.objects.filter(pk=event.type_id).update(postback_only=True)
    event.type.refresh_from_db()
    slack = Channel.objects.create(name="Slack", kind=ChannelKind.SLACK, url="https://hooks.slack.com/services/x")
    Subscription.objects.create(event_type_id=event.type_id, channel=slack)

    with pytest.raises(ValidationError) as refused:
        resend_event(actor=user_with(*RESENDER), event=event, channel=slack)
    assert "postback" in refused.value.message_dict["channel"][0]


def test_resend_needs_the_resend_permission(outage):
    channel, _ = outage
    with pytest.raises(PermissionDenied):
        resend_event(actor=user_with("deliveries.view_delivery"), event=Delivery.objects.first().event, channel=channel)


def test_recover_sends_exactly_the_failed_ones_once_and_a_second_recover_nothing(outage, receiver):
    channel, since = outage
    user = user_with(*RECOVERER)
    assert count_recoverable(actor=user, channel=channel, since=since) == 3

    job = start_recover(actor=user, channel=channel, since=since)
    run_recover(job_id=job.pk)
    deliver_now()

    job.refresh_from_db()
    assert (job.status, job.total, job.done, job.resent, job.skipped) == ("done", 3, 3, 3, 0)
    ok = [r.json["payload"]["contact"]["id"] for r in receiver.requests if r.json and len(receiver.requests)]
    assert sorted(ok[-3:]) == [0, 1, 2] and len(receiver.requests) == 6
    assert Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 3
    with pytest.raises(NothingToResend):
        start_recover(actor=user, channel=channel, since=since)
    assert count_recoverable(actor=user, channel=channel, since=since) == 0


def test_a_second_recover_while_the_first_is_queued_is_refused(outage):
    channel, since = outage
    user = user_with(*RECOVERER)
    start_recover(actor=user, channel=channel, since=since)

    with pytest.raises(RecoverRefused):
        start_recover(actor=user, channel=channel, since=since)
    assert RecoverJob.objects.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"since": timezone.now() + dt.timedelta(days=1)}, "since"),
        ({"since": timezone.now() - dt.timedelta(hours=1), "until": timezone.now() - dt.timedelta(hours=2)}, "until"),
        ({"since": timezone.now() - dt.timedelta(hours=1), "event_types": ["no.such.type"]}, "event_types"),
    ],
)
def test_bad_windows_are_refused_naming_the_field(outage, kwargs, field):
    channel, _ = outage
    with pytest.raises(ValidationError) as refused:
        start_recover(actor=user_with(*RECOVERER), channel=channel, **kwargs)
    assert field in refused.value.message_dict and not RecoverJob.objects.exists()


def test_a_window_of_other_types_has_nothing_to_resend(outage):
    channel, since = outage
    with pytest.raises(NothingToResend):
        start_recover(actor=user_with(*RECOVERER), channel=channel, since=since, event_types=["order.completed"])
    assert not RecoverJob.objects.exists()


def test_a_disabled_channel_is_recovered_only_when_asked_to_reenable_it(outage):
    channel, since = outage
    Channel.objects.filter(pk=channel.pk).update(active=False)
    channel.refresh_from_db()
    user = user_with(*RECOVERER, "channels.change_channel")

    with pytest.raises(ValidationError) as refused:
        start_recover(actor=user, channel=channel, since=since)
    assert "reenable" in refused.value.message_dict
    start_recover(actor=user, channel=channel, since=since, reenable=True)
    channel.refresh_from_db()
    assert channel.active


def test_recover_needs_the_recover_permission(outage):
    channel, since = outage
    with pytest.raises(PermissionDenied):
        start_recover(
            actor=user_with("channels.view_channel", "deliveries.view_delivery"), channel=channel, since=since
        )


def test_a_few_thousand_failed_rows_in_tiny_batches_progress_and_are_resent_once(outage, monkeypatch):
    channel, since = outage
    template = Delivery.objects.first()
    Delivery.objects.bulk_create(
        Delivery(
            event_id=template.event_id,
            subscription_id=template.subscription_id,
            channel=channel,
            event_type_id=template.event_type_id,
            source=template.source,
            status=DeliveryStatus.FAILED,
        )
        for _ in range(3000)
    )
    enqueued = []
    monkeypatch.setattr(recovery, "enqueue", enqueued.append)
    job = start_recover(actor=user_with(*RECOVERER), channel=channel, since=since)
    progress = []

    while RecoverJob.objects.get(pk=job.pk).status != "done":
        run_recover(job_id=job.pk, size=100, budget=0.05)
        progress.append(RecoverJob.objects.get(pk=job.pk).done)

    job.refresh_from_db()
    assert job.total == 3003 and job.resent == 3003 and len(progress) > 3 and progress == sorted(progress)
    assert len(enqueued) == len(progress) - 1
    originals = Delivery.objects.exclude(pending_trigger=Trigger.RESEND)
    assert originals.filter(recovered_by=job).count() == 3003
    assert Delivery.objects.filter(pending_trigger=Trigger.RESEND).count() == 3003
    assert run_recover(job_id=job.pk) is None
