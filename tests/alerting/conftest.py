import datetime as dt

import pytest
from django.utils import timezone

from deliveries.models import Attempt, Delivery


@pytest.fixture(autouse=True)
def _no_kicks(monkeypatch):
    """These tests drive the dispatcher themselves (``tests.engine.helpers.deliver_now``)."""
    monkeypatch.setattr("deliveries.engine.kick.queue_dispatch", lambda: None)


@pytest.fixture
def one_attempt_each(settings):
    """No automatic retry: each failed delivery is one failed attempt."""
    settings.WEBHOOKS_MAX_RETRIES = 0


class FailingEmailBackend:
    """An e-mail backend whose server is down."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP server down")


def move_back(queryset, field: str, *, minutes: float) -> None:
    """Move the clock: make ``field`` of every row ``minutes`` older than now."""
    queryset.update(**{field: timezone.now() - dt.timedelta(minutes=minutes)})


def age_attempts(channel, *, first_minutes_ago: float, rest_minutes_ago: float) -> None:
    """The channel's first attempt happened ``first_minutes_ago``, every later one ``rest_minutes_ago``."""
    attempts = Attempt.objects.filter(delivery__channel=channel).order_by("pk")
    first = attempts.first()
    move_back(attempts.exclude(pk=first.pk), "started_at", minutes=rest_minutes_ago)
    move_back(attempts.filter(pk=first.pk), "started_at", minutes=first_minutes_ago)
    move_back(Delivery.objects.filter(channel=channel), "created_at", minutes=first_minutes_ago)
