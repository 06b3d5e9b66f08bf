"""An integrator's whole journey over the API, delivered by a real ``manage.py qcluster`` subprocess.

Only the API is used to set things up and to watch the outcome: create a channel (keep the
secret), attach it, switch the type on, ingest, see the delivery succeed and the postback
verify; then a failing endpoint, a failed delivery, a manual retry over the API, and its one
manual attempt.
"""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook

from tests.api.conftest import all_api_perms, grant
from tests.support.factories import ensure_catalogue
from tests.support.qcluster import QCluster
from tests.support.receiver import Reply, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def integrator(django_user_model):
    ensure_catalogue()  # a transactional test's flush empties the catalogue's rows too
    user = django_user_model.objects.create_user("integrator", is_staff=True)
    grant(user, *all_api_perms())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def cluster():
    cluster = QCluster(env={"WEBHOOKS_TIMEOUT_S": "5"})
    try:
        yield cluster.start()
    finally:
        cluster.stop()  # SIGTERM first, so its database sessions close before the test database is dropped


def delivery_of(api, event_id):
    results = api.get("/api/v1/deliveries/", {"event": event_id}).json()["results"]
    return results[0] if results else None


def test_an_integrator_sets_up_ingests_and_retries_over_the_api(integrator, receiver, cluster):
    api = integrator
    # Set up: a channel (its secret is in this answer only), attached to order.completed, switched on
    channel = api.post("/api/v1/channels/", {"name": "shop backend", "url": receiver.url("/hook"), "timeout": 5}).json()
    assert (
        api.post(
            "/api/v1/subscriptions/",
            {"event_type": "order.completed", "channel": channel["id"], "sources": ["shop"]},
        ).status_code
        == 201
    )
    assert api.patch("/api/v1/event-types/order.completed/", {"enabled": True}).status_code == 200

    # Ingest: delivered, signed with the channel's secret
    event = api.post(
        "/api/v1/events/",
        {"type": "order.completed", "source": "shop", "order_ref": "A-1001", "payload": {"order": {"id": "A-1001"}}},
    ).json()
    delivered = wait_until(
        lambda: (d := delivery_of(api, event["id"])) and d["status"] == "succeeded" and d,
        timeout=60,
        message="the delivery to succeed",
    )
    assert delivered["attempt_count"] == 1
    request = receiver.on("/hook")[0]
    assert Webhook(channel["secret"]).verify(request.body, request.headers)["eventId"] == event["id"]

    # A failing endpoint: the delivery fails (404 is not retried automatically)
    receiver.reply("/hook", Reply(status=404))
    failing = api.post(
        "/api/v1/events/", {"type": "order.completed", "source": "shop", "payload": {"order": {"id": "A-1002"}}}
    ).json()
    failed = wait_until(
        lambda: (d := delivery_of(api, failing["id"])) and d["status"] == "failed" and d,
        timeout=60,
        message="the delivery to fail",
    )

    # The endpoint is fixed; a manual retry over the API makes exactly one more attempt
    receiver.reply("/hook", Reply(status=200))
    retry = api.post(f"/api/v1/deliveries/{failed['id']}/retry/")
    assert retry.status_code == 202 and retry.json()["pending_trigger"] == "manual"
    wait_until(
        lambda: api.get(f"/api/v1/deliveries/{failed['id']}/").json()["status"] == "succeeded",
        timeout=60,
        message="the manual retry to succeed",
    )
    attempts = api.get(f"/api/v1/deliveries/{failed['id']}/").json()["attempts"]
    assert [(a["number"], a["trigger"], a["response_status"]) for a in attempts] == [
        (1, "automatic", 404),
        (2, "manual", 200),
    ]
    # And it is not retried again: a second retry of a succeeded delivery is refused
    assert api.post(f"/api/v1/deliveries/{failed['id']}/retry/").status_code == 409
