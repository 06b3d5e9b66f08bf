"""Auto-disable (SPEC section 10): every attempt failed for WEBHOOKS_DISABLE_AFTER_HOURS, at least 20 of them.

The clock is moved, not slept: attempts and the channel are dated back, with a window of half an hour.
"""

import logging

import pytest
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.core.exceptions import PermissionDenied

from channels.services import update_channel
from deliveries.alerting.reenable import reenable_channel
from deliveries.alerting.watch import run_checks
from deliveries.models import Delivery, DeliveryStatus
from events.catalogue.operations import CHANNEL_DISABLED, CHANNEL_RECOVERED
from events.models import Event
from events.services import emit
from tests.alerting.conftest import age_attempts, move_back
from tests.engine.helpers import deliver_now
from tests.support.factories import postback_channel, subscribe, user_with
from tests.support.receiver import Reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def window(settings, one_attempt_each):
    settings.WEBHOOKS_DISABLE_AFTER_HOURS = 0.5  # 30 minutes
    return 30


@pytest.fixture
def dead(receiver):
    receiver.reply("/dead", Reply(503))
    channel = postback_channel(receiver.url("/dead"), name="ERP")
    subscribe(channel, "contact.created")
    # It would like to hear about itself too: it never does.
    subscribe(channel, CHANNEL_DISABLED)
    subscribe(channel, CHANNEL_RECOVERED)
    move_back(type(channel).objects.filter(pk=channel.pk), "created_at", minutes=24 * 60)
    return channel


@pytest.fixture
def ops(receiver):
    channel = postback_channel(receiver.url("/ops"), name="Ops")
    subscribe(channel, CHANNEL_DISABLED)
    subscribe(channel, CHANNEL_RECOVERED)
    return channel


@pytest.fixture
def staff(db):
    may_change = user_with("channels.view_channel", "channels.change_channel", username="may")
    may_change.email = "may@example.net"
    may_change.save()
    cannot = user_with("channels.view_channel", username="cannot")
    cannot.email = "cannot@example.net"
    cannot.save()
    return may_change


def fail_attempts(n: int) -> None:
    for i in range(n):
        emit("contact.created", source="shop", payload={"contact": {"id": i}})
    deliver_now()


def test_a_channel_failing_for_the_whole_window_with_20_attempts_is_disabled_announced_and_mailed(
    window, dead, ops, staff, receiver, django_capture_on_commit_callbacks
):
    # Given 21 failed attempts: the first before the window, 20 inside it
    fail_attempts(21)
    age_attempts(dead, first_minutes_ago=window + 10, rest_minutes_ago=window - 10)

    # When the watch job runs
    with django_capture_on_commit_callbacks(execute=True):
        done = run_checks()

    # Then the channel is off, with the reason and the time
    dead.refresh_from_db()
    assert done["disabled"] == 1
    assert not dead.active and dead.is_auto_disabled
    assert dead.disabled_at is not None
    assert "Every attempt in the last 0.5 h failed" in dead.disabled_reason and "HTTP 503" in dead.disabled_reason
    # and the staff who may change channels, only they, got an e-mail
    [message] = mail.outbox
    assert message.to == ["may@example.net"]
    assert "ERP" in message.subject and dead.disabled_reason in message.body
    # and the ops channel hears of it, the channel itself does not
    deliver_now()
    [announcement] = receiver.on("/ops")
    assert announcement.json["eventType"] == CHANNEL_DISABLED
    assert announcement.json["payload"]["channel"]["id"] == dead.pk
    assert len(receiver.on("/dead")) == 21

    # When the job runs again, nothing more happens
    with django_capture_on_commit_callbacks(execute=True):
        assert run_checks()["disabled"] == 0
    assert len(mail.outbox) == 1 and Event.objects.filter(type=CHANNEL_DISABLED).count() == 1


@pytest.mark.parametrize(
    ("attempts", "first_minutes_ago", "rest_minutes_ago"),
    [
        (20, 40, 20),  # one attempt too few in the window (the first is before it)
        (21, 20, 10),  # failing for less than the window: the streak began inside it
    ],
)
def test_a_channel_is_kept_with_too_few_attempts_or_a_streak_shorter_than_the_window(
    window, dead, attempts, first_minutes_ago, rest_minutes_ago
):
    fail_attempts(attempts)
    age_attempts(dead, first_minutes_ago=first_minutes_ago, rest_minutes_ago=rest_minutes_ago)

    assert run_checks()["disabled"] == 0

    dead.refresh_from_db()
    assert dead.active and dead.disabled_at is None


def test_a_success_inside_the_window_keeps_the_channel(window, dead, receiver):
    # Given a failing streak long enough, but one success ten minutes ago
    fail_attempts(21)
    age_attempts(dead, first_minutes_ago=window + 10, rest_minutes_ago=window - 10)
    receiver.reply("/dead", Reply(200))
    fail_attempts(1)
    assert Delivery.objects.filter(channel=dead, status=DeliveryStatus.SUCCEEDED).count() == 1

    assert run_checks()["disabled"] == 0
    dead.refresh_from_db()
    assert dead.active


def test_a_failing_email_backend_is_logged_and_breaks_nothing_else(
    window, dead, ops, staff, receiver, settings, caplog, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.alerting.conftest.FailingEmailBackend"
    fail_attempts(21)
    age_attempts(dead, first_minutes_ago=window + 10, rest_minutes_ago=window - 10)

    with (
        caplog.at_level(logging.ERROR, logger="deliveries.alerting.mail"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        done = run_checks()

    dead.refresh_from_db()
    assert done["disabled"] == 1 and not dead.active
    assert "Could not e-mail 1 staff" in caplog.text
    deliver_now()
    assert [r.json["eventType"] for r in receiver.on("/ops")] == [CHANNEL_DISABLED]


def test_reenabling_needs_the_change_permission_and_is_audited_and_announced_not_to_the_channel(
    window, dead, ops, staff, receiver
):
    # Given a channel the job disabled
    fail_attempts(21)
    age_attempts(dead, first_minutes_ago=window + 10, rest_minutes_ago=window - 10)
    run_checks()
    dead.refresh_from_db()
    viewer = user_with("channels.view_channel", username="viewer")

    # When someone who may only view tries, it is refused
    with pytest.raises(PermissionDenied):
        reenable_channel(actor=viewer, channel=dead)

    # When staff who may change channels re-enable it
    assert reenable_channel(actor=staff, channel=dead) is True

    # Then it is on again, the banner's condition is gone, the audit trail says who
    dead.refresh_from_db()
    assert dead.active and not dead.is_auto_disabled and dead.reenabled_at >= dead.disabled_at
    entry = LogEntry.objects.get(object_id=str(dead.pk), user=staff)
    assert entry.change_message.startswith("Re-enabled (disabled automatically at ")
    # and the ops channel hears it recovered; the channel itself hears neither event
    deliver_now()
    assert sorted(r.json["eventType"] for r in receiver.on("/ops")) == [CHANNEL_DISABLED, CHANNEL_RECOVERED]
    assert all(r.json["eventType"] == "contact.created" for r in receiver.on("/dead"))
    # and a second click does nothing, nor does the next run disable it again at once
    assert reenable_channel(actor=staff, channel=dead) is False
    assert run_checks()["disabled"] == 0
    assert Event.objects.filter(type=CHANNEL_RECOVERED).count() == 1


def test_switched_on_through_the_form_it_is_announced_recovered_once_by_the_job(window, dead, ops, staff, receiver):
    fail_attempts(21)
    age_attempts(dead, first_minutes_ago=window + 10, rest_minutes_ago=window - 10)
    run_checks()
    dead.refresh_from_db()

    update_channel(channel=dead, changes={"active": True}, user=staff)
    done = run_checks()
    assert done["recovered"] == 1
    # and it is not disabled again before it has failed for another whole window
    assert done["disabled"] == 0
    assert run_checks() == {**done, "recovered": 0}
    dead.refresh_from_db()
    assert dead.active and dead.reenabled_at is not None

    deliver_now()
    assert sorted(r.json["eventType"] for r in receiver.on("/ops")) == [CHANNEL_DISABLED, CHANNEL_RECOVERED]
