"""/metrics: Prometheus text for a bearer token or staff, figures read from the database."""

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from deliveries.models import BreakerState, ChannelBreaker, DeliveryStatus, WorkerHeartbeat

pytestmark = pytest.mark.django_db

TOKEN = "s3cret-metrics-token"


@pytest.fixture(autouse=True)
def token(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client) -> dict:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples[(name, tuple(sorted(labels.items())))]


def test_without_credentials_the_answer_is_401_with_a_bearer_challenge(client):
    response = client.get("/metrics")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"postbacks_" not in response.content


@pytest.mark.parametrize("header", [f"Bearer {TOKEN}x", "Bearer ", f"Token {TOKEN}", f"Basic {TOKEN}"])
def test_a_wrong_token_or_scheme_is_403(client, header):
    response = client.get("/metrics", headers={"Authorization": header})

    assert response.status_code == 403
    assert TOKEN not in response.content.decode()


def test_with_no_token_configured_no_bearer_is_accepted(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 403


def test_staff_who_may_view_deliveries_read_it_in_their_session(make_staff):
    staff = make_staff("deliveries.view_delivery")

    assert staff.get("/metrics").status_code == 200


def test_staff_without_the_view_permission_and_non_staff_users_get_403(make_staff):
    assert make_staff().get("/metrics").status_code == 403
    assert make_staff("deliveries.view_delivery", is_staff=False).get("/metrics").status_code == 403


def test_deliveries_backlog_channels_and_workers_are_counted(client, channel, make_channel, make_delivery, beat):
    # given deliveries in each status, two of the pending ones due, the oldest for 100 s
    now = timezone.now()
    make_delivery(channel=channel, status=DeliveryStatus.SUCCEEDED)
    make_delivery(channel=channel, status=DeliveryStatus.SUCCEEDED)
    make_delivery(channel=channel, status=DeliveryStatus.FAILED)
    make_delivery(channel=channel, status=DeliveryStatus.PENDING, next_attempt_at=now - timedelta(seconds=100))
    make_delivery(channel=channel, status=DeliveryStatus.PENDING, next_attempt_at=now - timedelta(seconds=10))
    make_delivery(channel=channel, status=DeliveryStatus.PENDING, next_attempt_at=now + timedelta(minutes=5))
    # and a channel cooling off, one inactive, one whose breaker closed again
    cooling = make_channel()
    ChannelBreaker.objects.create(channel=cooling, state=BreakerState.OPEN, opened_at=now)
    make_channel(active=False)
    ChannelBreaker.objects.create(channel=make_channel(), state=BreakerState.CLOSED)
    # and two live engines (3 requests in flight), one dead one, and the sweeper
    beat(age_s=2, in_flight=1)
    beat(age_s=4, in_flight=2)
    beat(age_s=600, in_flight=7)
    beat(WorkerHeartbeat.Kind.SWEEPER, age_s=30)

    samples = scrape(client)

    assert value(samples, "postbacks_deliveries_in_progress", status="pending") == 3
    assert value(samples, "postbacks_deliveries_in_progress", status="sending") == 0
    assert value(samples, "postbacks_deliveries_recent", status="succeeded") == 2
    assert value(samples, "postbacks_deliveries_recent", status="failed") == 1
    assert value(samples, "postbacks_deliveries_recent", status="pending") == 3
    assert value(samples, "postbacks_due_backlog") == 2
    assert 100 <= value(samples, "postbacks_oldest_due_age_seconds") < 130
    assert value(samples, "postbacks_channels", state="active") == 2
    assert value(samples, "postbacks_channels", state="cooling") == 1
    assert value(samples, "postbacks_channels", state="inactive") == 1
    assert value(samples, "postbacks_workers_alive") == 2
    assert value(samples, "postbacks_workers_in_flight") == 3
    assert 2 <= value(samples, "postbacks_heartbeat_age_seconds", kind="engine") < 30
    assert 30 <= value(samples, "postbacks_heartbeat_age_seconds", kind="sweeper") < 60


def test_attempt_durations_form_a_histogram_by_channel_and_outcome(client, channel, make_delivery):
    # given 3 successful attempts (40 ms, 300 ms, 2 s) and a timeout after 5 s
    make_delivery(channel=channel, attempts=[(40, ""), (300, "")])
    make_delivery(channel=channel, attempts=[(2000, "")])
    make_delivery(channel=channel, status=DeliveryStatus.FAILED, attempts=[(5000, "timeout")])

    samples = scrape(client)

    ok = {"channel": str(channel.pk), "channel_name": channel.name, "outcome": "success"}
    assert value(samples, "postbacks_attempt_duration_seconds_count", **ok) == 3
    assert value(samples, "postbacks_attempt_duration_seconds_sum", **ok) == pytest.approx(2.34)
    assert value(samples, "postbacks_attempt_duration_seconds_bucket", le="0.05", **ok) == 1
    assert value(samples, "postbacks_attempt_duration_seconds_bucket", le="0.5", **ok) == 2
    assert value(samples, "postbacks_attempt_duration_seconds_bucket", le="2.5", **ok) == 3
    assert value(samples, "postbacks_attempt_duration_seconds_bucket", le="+Inf", **ok) == 3
    timeout = {**ok, "outcome": "timeout"}
    assert value(samples, "postbacks_attempt_duration_seconds_bucket", le="2.5", **timeout) == 0
    assert value(samples, "postbacks_attempt_duration_seconds_bucket", le="5", **timeout) == 1


def test_attempts_older_than_the_window_are_left_out(client, channel, make_delivery, settings):
    delivery = make_delivery(channel=channel, attempts=[(40, "")])
    delivery.attempts.update(started_at=timezone.now() - timedelta(seconds=settings.METRICS_ATTEMPT_WINDOW_S + 5))

    samples = scrape(client)

    assert not [key for key in samples if key[0].startswith("postbacks_attempt_duration_seconds")]


def test_channels_beyond_the_busiest_few_are_summed_as_other(client, make_channel, make_delivery, settings):
    # given a cap of 2 channels and 4 channels with 4, 3, 2 and 1 attempts
    settings.METRICS_MAX_CHANNELS = 2
    channels = [make_channel() for _ in range(4)]
    for n, ch in zip((4, 3, 2, 1), channels, strict=True):
        make_delivery(channel=ch, attempts=[(10, "")] * n)

    samples = scrape(client)

    counts = {
        dict(labels)["channel"]: v
        for (name, labels), v in samples.items()
        if name == "postbacks_attempt_duration_seconds_count"
    }
    assert counts == {str(channels[0].pk): 4, str(channels[1].pk): 3, "other": 3}


def test_recover_jobs_and_alerts_are_absent_while_their_models_do_not_exist(client, monkeypatch):
    # given neither deliveries.RecoverJob nor deliveries.Alert installed (built in parallel, issue 11)
    def lookup(app_label, name):
        raise LookupError(name)

    monkeypatch.setattr("webhooks_project.metrics.apps.get_model", lookup)

    names = {name for name, _labels in scrape(client)}

    assert "postbacks_recover_jobs" not in names and "postbacks_alerts_open" not in names
    assert "postbacks_due_backlog" in names  # the rest is still there


def test_recover_jobs_by_status_and_open_alerts_once_the_models_exist(client, channel, make_delivery, monkeypatch):
    # given stand-ins with the fields the collector reads: a status (deliveries play recover jobs)
    # and a cleared_at (channels' breakers play alerts, opened_at for cleared_at)
    from deliveries.models import Delivery

    make_delivery(channel=channel, status=DeliveryStatus.SUCCEEDED)
    make_delivery(channel=channel, status=DeliveryStatus.SUCCEEDED)
    make_delivery(channel=channel, status=DeliveryStatus.PENDING)

    class Alerts:
        class objects:  # named as a manager is
            @staticmethod
            def filter(condition):
                assert condition.children == [("cleared_at__isnull", True)]
                return ChannelBreaker.objects.filter(opened_at__isnull=True)

    ChannelBreaker.objects.create(channel=channel)
    models = {"RecoverJob": Delivery, "Alert": Alerts}
    monkeypatch.setattr("webhooks_project.metrics.apps.get_model", lambda app_label, name: models[name])

    samples = scrape(client)

    assert value(samples, "postbacks_recover_jobs", status="succeeded") == 2
    assert value(samples, "postbacks_recover_jobs", status="pending") == 1
    assert value(samples, "postbacks_alerts_open") == 1


def test_a_scrape_runs_a_fixed_number_of_queries_whatever_the_rows(
    client, make_channel, make_delivery, beat, django_assert_max_num_queries
):
    for _ in range(5):
        make_delivery(channel=make_channel(), status=DeliveryStatus.FAILED, attempts=[(10, "http_status")] * 2)
    beat()

    # the reads of deliveries, attempts, backlog, channels and heartbeats, recover jobs and open
    # alerts (both models now exist), and the session: a fixed number whatever the rows
    with django_assert_max_num_queries(9):
        scrape(client)


def test_recent_deliveries_leave_out_those_created_before_the_window(client, channel, make_delivery, settings):
    # given a failed delivery created two days ago and a pending one from then too
    old = make_delivery(channel=channel, status=DeliveryStatus.FAILED)
    stuck = make_delivery(channel=channel, status=DeliveryStatus.PENDING)
    two_days_ago = timezone.now() - timedelta(days=2)
    type(old).objects.filter(pk__in=[old.pk, stuck.pk]).update(created_at=two_days_ago)

    samples = scrape(client)

    # then the recent counts (24 h) leave both out, while in progress still counts the pending one
    assert value(samples, "postbacks_deliveries_recent", status="failed") == 0
    assert value(samples, "postbacks_deliveries_recent", status="pending") == 0
    assert value(samples, "postbacks_deliveries_in_progress", status="pending") == 1


def test_the_alerting_rules_in_the_operations_guide_name_only_metrics_that_exist(client, channel, make_delivery, beat):
    # given a scrape with every family present (an attempt, both heartbeats)
    import re
    from pathlib import Path

    import yaml

    make_delivery(channel=channel, attempts=[(10, "")])
    beat()
    beat(WorkerHeartbeat.Kind.SWEEPER)
    exported = {name for name, _labels in scrape(client)}
    optional = {"postbacks_recover_jobs", "postbacks_alerts_open"}  # once those models exist

    guide = (Path(__file__).resolve().parents[2] / "docs" / "OPERATIONS.md").read_text()
    rules = yaml.safe_load(re.search(r"```yaml\n(groups:.*?)```", guide, re.S).group(1))
    named = {name for rule in rules["groups"][0]["rules"] for name in re.findall(r"postbacks_[a-z_]+", rule["expr"])}

    assert named and named <= exported | optional, named - exported - optional
