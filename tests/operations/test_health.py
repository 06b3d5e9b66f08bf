"""/healthz and /readyz: JSON, 200 or 503, no authentication, nothing about the infrastructure."""

from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.utils import timezone

from deliveries.models import DeliveryStatus, WorkerHeartbeat

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_200_with_a_live_worker_and_sweeper_in_two_sql_statements(
    client, beat, django_assert_num_queries, settings
):
    # given an engine that beat 3 s ago and a sweeper that ran 50 s ago
    beat(age_s=3)
    beat(WorkerHeartbeat.Kind.SWEEPER, age_s=50)

    # when the probe asks
    with django_assert_num_queries(2):
        response = client.get("/readyz")

    # then every check passes
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "broker": True,
        "workers": True,
        "sweeper": True,
        "oldest_due": True,
    }
    assert body["checks"]["workers"]["alive"] == 1
    # the ORM broker is the database; Redis (the PostgreSQL run) is PINGed
    assert body["checks"]["broker"]["kind"] == ("redis" if settings.REDIS_URL else "orm")


def test_readyz_is_503_when_no_worker_has_ever_beaten(client, beat):
    beat(WorkerHeartbeat.Kind.SWEEPER)

    response = client.get("/readyz")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["workers"] == {"ok": False, "alive": 0, "last_seen_s": None, "max_age_s": 120.0}
    assert checks["sweeper"]["ok"] is True


def test_readyz_is_503_when_the_last_heartbeat_is_older_than_the_window(client, beat, settings):
    settings.WEBHOOKS_WORKER_MAX_AGE_S = 10
    beat(age_s=11)
    beat(WorkerHeartbeat.Kind.SWEEPER)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["workers"]["ok"] is False
    assert response.json()["checks"]["workers"]["last_seen_s"] >= 11


def test_readyz_is_503_when_the_sweeper_has_not_run_for_two_minutes(client, beat):
    beat(age_s=1)
    beat(WorkerHeartbeat.Kind.SWEEPER, age_s=121)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["sweeper"]["ok"] is False
    assert response.json()["checks"]["workers"]["ok"] is True


def test_readyz_reports_the_oldest_due_delivery_and_fails_on_it_only_when_asked(
    client, beat, channel, make_delivery, settings
):
    # given two due pending deliveries, the oldest due 90 s ago, and one due in the future
    beat()
    beat(WorkerHeartbeat.Kind.SWEEPER)
    now = timezone.now()
    make_delivery(channel=channel, status=DeliveryStatus.PENDING, next_attempt_at=now - timedelta(seconds=90))
    make_delivery(channel=channel, status=DeliveryStatus.PENDING, next_attempt_at=now - timedelta(seconds=5))
    make_delivery(channel=channel, status=DeliveryStatus.PENDING, next_attempt_at=now + timedelta(hours=1))

    response = client.get("/readyz")

    assert response.status_code == 200  # reported, not a failure, by default
    due = response.json()["checks"]["oldest_due"]
    assert due["due"] == 2
    assert 90 <= due["age_s"] < 120

    settings.WEBHOOKS_READY_MAX_DUE_AGE_S = 60
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["oldest_due"]["ok"] is False


def test_readyz_is_503_naming_the_database_when_it_fails(client, monkeypatch):
    def broken(**_kwargs):
        raise DatabaseError("connection to server at 10.1.2.3 failed")

    monkeypatch.setattr("webhooks_project.health.heartbeats", broken)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False}
    assert "10.1.2.3" not in response.content.decode()


def test_readyz_with_an_unreachable_redis_says_broker_down_without_its_address(client, beat, settings):
    # given Redis configured on a port where nothing listens
    beat()
    beat(WorkerHeartbeat.Kind.SWEEPER)
    settings.REDIS_URL = "redis://127.0.0.1:9/5"

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == {"ok": False, "kind": "redis"}
    assert "127.0.0.1" not in response.content.decode()


def test_readyz_refuses_post(client):
    assert client.post("/readyz").status_code == 405
