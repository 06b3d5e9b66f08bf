"""The Recover form on the channel page (SPEC section 10): preview count, start, progress, permissions, CSRF."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from channels.models import Subscription
from deliveries.models import Delivery, DeliveryStatus, RecoverJob
from deliveries.recovery import run_recover

pytestmark = pytest.mark.django_db

RECOVERER = ("channels.view_channel", "channels.change_channel", "deliveries.view_delivery", "deliveries.recover")


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr("deliveries.recovery.enqueue", lambda job_id: None)
    monkeypatch.setattr("deliveries.engine.kick.queue_dispatch", lambda: None)


@pytest.fixture
def failed_channel(postback_channel, make_delivery):
    Subscription.objects.create(event_type_id="order.completed", channel=postback_channel)
    for _ in range(3):
        make_delivery(channel=postback_channel, status=DeliveryStatus.FAILED)
    make_delivery(channel=postback_channel, status=DeliveryStatus.SUCCEEDED)
    return postback_channel


def url(channel):
    return reverse("admin:channels_channel_recover", args=[channel.pk])


def window():
    return {"since": (timezone.localtime() - dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")}


def test_the_form_is_prefilled_from_since(make_staff, failed_channel):
    page = make_staff(*RECOVERER).get(url(failed_channel) + "?since=2026-12-01T10:00:00Z")
    assert page.status_code == 200 and "2026-12-01" in page.content.decode()


def test_the_preview_counts_what_it_will_resend_and_starts_nothing(make_staff, failed_channel):
    page = make_staff(*RECOVERER).post(url(failed_channel), {**window(), "preview": "1"})
    assert page.status_code == 200 and page.context["count"] == 3
    assert "Resend 3" in page.content.decode() and not RecoverJob.objects.exists()


def test_start_creates_the_job_and_the_channel_page_shows_its_progress(make_staff, failed_channel):
    client = make_staff(*RECOVERER)
    answer = client.post(url(failed_channel), {**window(), "start": "1"})
    assert answer.status_code == 302
    job = RecoverJob.objects.get()
    page = client.get(reverse("admin:channels_channel_change", args=[failed_channel.pk]))
    assert b"data-recover-status-url" in page.content and b"0 / 3" in page.content

    run_recover(job_id=job.pk)
    status = client.get(reverse("admin:channels_channel_recover_status", args=[failed_channel.pk])).json()
    page = client.get(reverse("admin:channels_channel_change", args=[failed_channel.pk]))
    assert status["status"] == "done" and status["percent"] == 100 and status["resent"] == 3
    assert b"Resent 3 of 3" in page.content and b"data-recover-status-url" not in page.content


def test_since_in_the_future_is_a_form_error_on_since(make_staff, failed_channel):
    since = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    page = make_staff(*RECOVERER).post(url(failed_channel), {"since": since, "start": "1"})
    assert page.status_code == 200 and "since" in page.context["form"].errors
    assert not RecoverJob.objects.exists()


def test_a_bad_date_is_a_form_error_on_since(make_staff, failed_channel):
    page = make_staff(*RECOVERER).post(url(failed_channel), {"since": "not a date", "preview": "1"})
    assert page.status_code == 200 and "since" in page.context["form"].errors


def test_nothing_to_resend_is_said_and_no_job_is_made(make_staff, failed_channel):
    Delivery.objects.update(status=DeliveryStatus.SUCCEEDED)
    page = make_staff(*RECOVERER).post(url(failed_channel), {**window(), "start": "1"})
    assert "Nothing to resend" in page.content.decode() and not RecoverJob.objects.exists()


def test_a_second_start_while_one_runs_is_a_form_error(make_staff, failed_channel):
    client = make_staff(*RECOVERER)
    client.post(url(failed_channel), {**window(), "start": "1"})
    page = client.post(url(failed_channel), {**window(), "start": "1"})
    assert page.status_code == 200 and "already" in page.content.decode() and RecoverJob.objects.count() == 1


def test_staff_without_the_recover_permission_get_403(make_staff, failed_channel):
    client = make_staff("channels.view_channel", "deliveries.view_delivery")
    assert client.get(url(failed_channel)).status_code == 403
    assert client.post(url(failed_channel), {**window(), "start": "1"}).status_code == 403
    page = client.get(reverse("admin:channels_channel_change", args=[failed_channel.pk]))
    assert b"recover-link" not in page.content and not RecoverJob.objects.exists()


def test_the_form_is_csrf_protected(make_staff, failed_channel):
    client = make_staff(*RECOVERER, enforce_csrf_checks=True)
    assert client.post(url(failed_channel), {**window(), "start": "1"}).status_code == 403
    assert not RecoverJob.objects.exists()
