"""API v1.1 (issue 12): Idempotency-Key, X-Request-Id, rate-limit headers, failed-auth throttling, the root, static files."""

import datetime as dt
import logging

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from deliveries.services import purge_old_records
from events.models import Event, IdempotencyRecord

ORDER = {"type": "order.completed", "source": "shop", "payload": {"order": {"id": "A-1"}}}


def post(client, body, key=None, **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/api/v1/events/", body, format="json", **headers, **extra)


def test_the_same_key_and_body_replays_the_first_answer(admin_api):
    first = post(admin_api, ORDER, key="k-1")

    again = post(admin_api, ORDER, key="k-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Event.objects.count() == 1


def test_the_same_key_with_another_body_is_a_409(admin_api):
    post(admin_api, ORDER, key="k-1")

    other = post(admin_api, {**ORDER, "order_ref": "B-2"}, key="k-1")

    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    assert Event.objects.count() == 1


def test_without_a_key_each_post_is_its_own(admin_api):
    assert post(admin_api, ORDER).status_code == 201
    assert post(admin_api, ORDER).status_code == 201
    assert Event.objects.count() == 2


def test_keys_are_per_user(admin_api, make_client):
    from tests.api.conftest import all_api_perms

    other_user = make_client(*all_api_perms())
    post(admin_api, ORDER, key="shared")

    theirs = post(other_user, ORDER, key="shared")

    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs
    assert Event.objects.count() == 2


def test_a_refused_request_is_replayed_too_but_a_forbidden_one_is_not(admin_api, make_client):
    bad = post(admin_api, {**ORDER, "type": "no.such.type"}, key="k-bad")
    assert (
        bad.status_code == 400
        and post(admin_api, {**ORDER, "type": "no.such.type"}, key="k-bad")["Idempotent-Replayed"]
    )

    forbidden = make_client()
    assert post(forbidden, ORDER, key="k-403").status_code == 403
    assert not IdempotencyRecord.objects.filter(key="k-403").exists()


def test_a_key_older_than_24_hours_is_new_again_and_purged(admin_api):
    post(admin_api, ORDER, key="k-old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))

    assert post(admin_api, {**ORDER, "order_ref": "B-2"}, key="k-old").status_code == 201
    IdempotencyRecord.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    purged = purge_old_records(days=30)

    assert purged["idempotency_keys"] == 1 and not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("key", ["with space", "x" * 256, "ünï"])
def test_an_unusable_key_is_a_400(admin_api, key):
    response = admin_api.post("/api/v1/events/", ORDER, format="json", headers={"Idempotency-Key": key})

    assert response.status_code == 400 and response.json()["code"] == "invalid_idempotency_key"


def test_every_answer_has_a_request_id_and_a_sane_one_is_kept(admin_api, anonymous):
    generated = anonymous.get("/api/v1/events/")
    kept = admin_api.get("/api/v1/events/", HTTP_X_REQUEST_ID="client-42.a")
    replaced = admin_api.get("/api/v1/events/", HTTP_X_REQUEST_ID="bad id\twith spaces")
    page = anonymous.get("/healthz")

    assert len(generated["X-Request-Id"]) == 32
    assert kept["X-Request-Id"] == "client-42.a"
    assert replaced["X-Request-Id"] != "bad id\twith spaces" and len(replaced["X-Request-Id"]) == 32
    assert page["X-Request-Id"]


def test_the_request_id_is_in_the_logs(admin_api, caplog):
    from common.request_id import RequestIdLogFilter

    logging.getLogger("django.request").addFilter(RequestIdLogFilter())
    with caplog.at_level(logging.WARNING, logger="django.request"):
        admin_api.get(f"/api/v1/events/{'0' * 8}/", HTTP_X_REQUEST_ID="find-me-1")

    assert any(getattr(r, "request_id", None) == "find-me-1" for r in caplog.records)


def test_rate_limit_headers_count_down(admin_api, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "3/min"}}

    answers = [admin_api.get("/api/v1/event-types/") for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert all(a["X-RateLimit-Limit"] == "3" for a in answers)
    assert 0 < int(answers[-1]["X-RateLimit-Reset"]) <= 60
    assert answers[-1].json()["code"] == "throttled" and answers[-1]["Retry-After"]


def test_failed_authentication_is_throttled_per_address(admin_api, anonymous, settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth_failure": "3/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    anonymous.credentials(HTTP_AUTHORIZATION="Token wrong")

    answers = [anonymous.get("/api/v1/events/").status_code for _ in range(4)]
    elsewhere = admin_api.get("/api/v1/events/", REMOTE_ADDR="10.0.0.9")

    assert answers == [401, 401, 401, 429]
    assert elsewhere.status_code == 200


def test_the_api_root_lists_the_resources(anonymous):
    response = anonymous.get("/api/v1/")

    assert response.status_code == 200
    body = response.json()
    assert {"event-types", "channels", "subscriptions", "events", "deliveries"} <= set(body["resources"])
    assert body["docs"].endswith("/api/docs/") and body["schema"].endswith("/api/schema/")


@override_settings(DEBUG=False)
def test_static_files_are_served_with_debug_off(client):
    docs = client.get("/api/docs/")
    assert docs.status_code == 200

    for path in ("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js", "/static/admin/css/base.css"):
        response = client.get(path)
        assert response.status_code == 200, path


def test_a_key_whose_first_request_is_still_being_answered_is_a_409(admin_api):
    post(admin_api, ORDER, key="k-busy")
    IdempotencyRecord.objects.filter(key="k-busy").update(status_code=None)  # as while the first runs

    again = post(admin_api, ORDER, key="k-busy")

    assert again.status_code == 409 and again.json()["code"] == "idempotency_key_in_use"


def test_a_key_on_another_endpoint_is_another_request(admin_api, postback_channel):
    post(admin_api, ORDER, key="k-path")

    elsewhere = admin_api.post(
        "/api/v1/subscriptions/",
        {"event_type": "order.completed", "channel": postback_channel.pk, "sources": ["shop"]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-path",
    )

    assert elsewhere.status_code == 409 and elsewhere.json()["code"] == "idempotency_key_reused"


def test_the_same_body_in_another_key_order_is_the_same_request(admin_api):
    first = admin_api.generic(
        "POST",
        "/api/v1/events/",
        b'{"type": "order.completed", "source": "shop", "payload": {"order": {"id": "A-1"}}}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-order",
    )
    again = admin_api.generic(
        "POST",
        "/api/v1/events/",
        b'{"payload":{"order":{"id":"A-1"}},"source":"shop","type":"order.completed"}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-order",
    )

    assert first.status_code == again.status_code == 201 and again["Idempotent-Replayed"] == "true"


def test_a_kept_answer_with_a_new_secret_is_encrypted_at_rest(admin_api):
    # given a channel created with an Idempotency-Key (its answer carries the new signing secret)
    created = admin_api.post(
        "/api/v1/channels/",
        {"name": "keyed", "kind": "postback", "url": "https://hooks.example.com/in"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="create-1",
    )
    assert created.status_code == 201, created.content
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")

    # when the stored answer is read from the table as it is on disk
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT body FROM {IdempotencyRecord._meta.db_table}")
        (raw,) = cursor.fetchone()

    # then the secret is not in it, and a replay still answers it
    assert secret not in raw and secret.removeprefix("whsec_") not in raw
    again = admin_api.post(
        "/api/v1/channels/",
        {"name": "keyed", "kind": "postback", "url": "https://hooks.example.com/in"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="create-1",
    )
    assert again.status_code == 201 and again.json()["secret"] == secret
