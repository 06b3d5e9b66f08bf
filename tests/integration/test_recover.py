"""Recover through a real qcluster (SPEC section 10): an endpoint down for a window, then back.

The receiver answers 503 while "down"; every delivery ends failed after its (shortened)
retries. Once it is back, one recover sends exactly the failed ones, once each, and a
second recover finds nothing. Receiver requests are counted against attempt rows.
"""

import time
from collections import Counter

import pytest
from django.db import transaction
from django.utils import timezone

from deliveries.exceptions import NothingToResend, RecoverRefused
from deliveries.models import Attempt, Delivery, DeliveryStatus, RecoverJob, Trigger
from deliveries.recovery import start_recover
from events.services import emit
from tests.support.factories import failed_deliveries, postback_channel, subscribe, user_with
from tests.support.receiver import Reply, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

RECOVERER = ("channels.view_channel", "deliveries.view_delivery", "deliveries.recover")
FAST_RETRIES = {"WEBHOOKS_RETRY_DELAYS": "0,1", "WEBHOOKS_MAX_RETRIES": "2"}


def test_an_outage_recovered_sends_the_failed_ones_once_and_a_second_recover_nothing(catalogue, receiver, clusters):
    # given an endpoint down (503) for a window in which 30 events fail after all their retries
    channel = postback_channel(receiver.url("/hook"))
    subscribe(channel, "contact.created")
    receiver.reply("/hook", Reply(status=503))
    clusters(env=FAST_RETRIES).start()
    since = timezone.now()
    with transaction.atomic():
        ids = {str(emit("contact.created", source="shop", payload={"n": n}).pk) for n in range(30)}
    wait_until(
        lambda: Delivery.objects.filter(status=DeliveryStatus.FAILED).count() == 30,
        timeout=60,
        message="30 deliveries failed after their retries",
    )
    assert Attempt.objects.count() == 90 and len(receiver.on("/hook")) == 90

    # when the endpoint is back and staff recover the window
    receiver.reply("/hook", Reply(status=200))
    down = len(receiver.on("/hook"))
    user = user_with(*RECOVERER)
    job = start_recover(actor=user, channel=channel, since=since)
    with pytest.raises(RecoverRefused):
        start_recover(actor=user, channel=channel, since=since)
    wait_until(lambda: RecoverJob.objects.get(pk=job.pk).status == "done", timeout=60, message="the job done")
    wait_until(
        lambda: Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 30,
        timeout=60,
        message="30 resent deliveries succeeded",
    )

    # then each failed event arrived once more, answered 200, and nothing else was sent
    job.refresh_from_db()
    assert (job.total, job.done, job.resent, job.skipped) == (30, 30, 30, 0), job.summary
    delivered = Counter(r.json["eventId"] for r in receiver.on("/hook")[down:])
    assert set(delivered) == ids and set(delivered.values()) == {1}
    assert len(receiver.on("/hook")) == Attempt.objects.count() == 120
    assert set(Attempt.objects.filter(number=1, delivery__recovered_by=None).values_list("trigger", flat=True)) == {
        Trigger.RESEND
    }
    # and a second recover has nothing to resend
    with pytest.raises(NothingToResend):
        start_recover(actor=user, channel=channel, since=since)
    time.sleep(2)
    assert len(receiver.on("/hook")) == 120


def test_thousands_of_failed_rows_in_tiny_batches_progress_and_are_sent_once(catalogue, receiver, clusters):
    # given 2,000 failed deliveries to one channel (written directly, as an outage would leave them)
    channel = postback_channel(receiver.url("/hook"))
    subscription = subscribe(channel, "contact.created")
    since = timezone.now()
    failed_deliveries(subscription, 2000, occurred_at=since)
    clusters(env={"WEBHOOKS_RECOVER_BATCH": "50", "WEBHOOKS_RECOVER_BUDGET_S": "0.3"}).start()

    # when a recover runs in batches of 50, re-enqueueing itself every 0.3 s
    job = start_recover(actor=user_with(*RECOVERER), channel=channel, since=since)
    progress = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        current = RecoverJob.objects.get(pk=job.pk)
        progress.append(current.done)
        if current.status == "done":
            break
        time.sleep(0.1)
    wait_until(lambda: len(receiver.on("/hook")) >= 2000, timeout=120, message="2,000 postbacks")
    time.sleep(2)

    # then progress was seen moving, every event arrived exactly once, and each request has its attempt row
    job.refresh_from_db()
    assert job.status == "done" and job.resent == 2000, job.summary
    assert progress == sorted(progress) and len({p for p in progress if 0 < p < 2000}) >= 3, progress
    counts = Counter(r.json["eventId"] for r in receiver.on("/hook"))
    assert len(counts) == 2000 and set(counts.values()) == {1}
    assert Attempt.objects.count() == len(receiver.on("/hook")) == 2000
    assert Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 2000
    assert Delivery.objects.filter(recovered_by=job).count() == 2000
    print(f"\nrecover of 2,000 in batches of 50: {len(progress)} samples, job {job.summary}")
