"""Signing secrets (SPEC section 6) never appear in logs, error pages, list endpoints or attempt records.

Only the API answers that create or rotate a secret carry it. Each test also checks that
the secret was really in play (a signature made with it verifies), so "not found" means
"not leaked", not "never used".
"""

import json
import logging

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook

from channels.models import Channel
from deliveries.engine.dispatcher import Dispatcher
from deliveries.models import Attempt, Delivery
from events.services import emit
from tests.security.conftest import PASSWORD, make_user
from tests.support.factories import subscribe

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=make_user('superuser')).key}")
    return client


def _leaks(secret: str, text) -> bool:
    text = text if isinstance(text, str) else json.dumps(text, default=str)
    # The whole value, and its key material without the prefix.
    return secret in text or secret.removeprefix("whsec_") in text


def _verified_by(secret: str, request) -> bool:
    try:
        Webhook(secret).verify(request.body, {k: v for k, v in request.headers.items()})
        return True
    except Exception:
        return False


def test_the_api_shows_a_secret_only_when_it_is_created_or_rotated(api, receiver):
    created = api.post("/api/v1/channels/", {"name": "hook", "kind": "postback", "url": receiver.url()}, format="json")
    assert created.status_code == 201
    first = created.json()["secret"]
    channel_id = created.json()["id"]
    assert first.startswith("whsec_")

    rotated = api.post(f"/api/v1/channels/{channel_id}/rotate-secret/")
    assert rotated.status_code == 200
    second = rotated.json()["secret"]
    assert second != first and Channel.objects.get(pk=channel_id).secret == second

    for path in [
        "/api/v1/channels/",
        f"/api/v1/channels/{channel_id}/",
        f"/api/v1/channels/?name={'hook'}",
        "/api/v1/subscriptions/",
        "/api/v1/deliveries/",
        "/api/v1/events/",
    ]:
        body = api.get(path).content.decode()
        assert not _leaks(first, body) and not _leaks(second, body), path
    patched = api.patch(f"/api/v1/channels/{channel_id}/", {"name": "renamed"}, format="json").content.decode()
    assert not _leaks(second, patched) and not _leaks(first, patched)


def test_attempt_records_and_the_api_delivery_detail_hold_no_secret_yet_the_postback_was_signed_with_it(
    api, receiver, caplog
):
    caplog.set_level(logging.DEBUG)
    channel = Channel.objects.create(
        name="hook",
        kind="postback",
        url=receiver.url(),
        headers={"Authorization": "Bearer custom-credential-123", "X-Plain": "visible"},
    )
    secret = channel.secret
    subscribe(channel, "contact.created")
    event = emit("contact.created", source="shop", payload={"contact": {"id": "C-1"}})

    Dispatcher(threads=2).run(budget_s=10)

    delivery = Delivery.objects.get(event=event)
    attempt = Attempt.objects.get(delivery=delivery)
    assert attempt.response_status == 200
    assert _verified_by(secret, receiver.requests[0]), "the postback was not signed with the channel's secret"
    assert receiver.requests[0].headers["authorization"] == "Bearer custom-credential-123"
    record = {f.name: getattr(attempt, f.name) for f in Attempt._meta.fields}
    assert not _leaks(secret, record)
    assert "custom-credential-123" not in json.dumps(record, default=str), "a credential header was stored in clear"
    assert attempt.request_headers.get("X-Plain") == "***"  # every custom header value is masked, whatever its name
    detail = api.get(f"/api/v1/deliveries/{delivery.pk}/").content.decode()
    assert not _leaks(secret, detail) and "custom-credential-123" not in detail
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert not _leaks(secret, logged)


def test_failed_sends_and_test_events_log_no_secret(api, caplog, settings):
    caplog.set_level(logging.DEBUG)
    channel = Channel.objects.create(name="dead", kind="postback", url="http://127.0.0.1:9/hook", timeout=2)
    secret = channel.secret

    response = api.post(f"/api/v1/channels/{channel.pk}/test/")

    assert response.status_code == 200
    assert response.json()["error"] == "connection"
    assert not _leaks(secret, response.content.decode())
    attempt = Attempt.objects.get(delivery__channel=channel)
    assert not _leaks(secret, {f.name: getattr(attempt, f.name) for f in Attempt._meta.fields})
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert not _leaks(secret, logged)


def test_a_crash_inside_the_sender_is_recorded_without_the_secret(api, monkeypatch, receiver, caplog):
    caplog.set_level(logging.DEBUG)
    channel = Channel.objects.create(name="crash", kind="postback", url=receiver.url())
    secret = channel.secret

    def broken_sign(*, secrets, **kwargs):
        raise RuntimeError(f"signing backend exploded with {len(secrets)} keys")

    monkeypatch.setattr("deliveries.engine.envelope.sign", broken_sign)
    response = api.post(f"/api/v1/channels/{channel.pk}/test/")

    assert response.status_code == 200 and response.json()["error"], response.content
    attempt = Attempt.objects.get(delivery__channel=channel)
    assert not _leaks(secret, {f.name: getattr(attempt, f.name) for f in Attempt._meta.fields})
    assert not _leaks(secret, response.content.decode())
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "signing backend exploded" in logged or "signing backend exploded" in attempt.error_detail
    assert not _leaks(secret, logged)


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
def test_an_error_page_from_a_crash_after_sending_shows_no_secret(settings, monkeypatch, debug, receiver):
    """A 500 in the middle of a test send, with the channel and its job in the frames.

    With DEBUG off the page is generic; with DEBUG on (``make run``) Django's technical
    page lists every frame's local variables, which must not include the secret.
    """
    settings.DEBUG = debug
    channel = Channel.objects.create(name="crash", kind="postback", url=receiver.url())
    secret = channel.secret

    def broken_record(finished):
        raise RuntimeError("database exploded while recording")

    monkeypatch.setattr("deliveries.services.record", broken_record)
    make_user("superuser")
    browser = Client(raise_request_exception=False)
    browser.login(username="root", password=PASSWORD)

    response = browser.post(f"/api/v1/channels/{channel.pk}/test/", content_type="application/json")

    assert response.status_code == 500
    page = response.content.decode(errors="replace")
    if debug:
        assert "database exploded while recording" in page  # the technical page was rendered
    assert _verified_by(secret, receiver.requests[0])  # the secret was in play in this request
    assert not _leaks(secret, page)
