"""POST channels/{id}/test/ against a real receiver on 127.0.0.1, and what the receiver can verify."""

import json
import socket

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from channels.models import Channel
from channels.secrets import generate_secret
from deliveries.models import Attempt, Delivery
from tests.support.factories import enable, subscribe
from tests.support.receiver import Reply

pytestmark = pytest.mark.django_db


def create_channel(client, url):
    response = client.post("/api/v1/channels/", {"name": "receiver", "url": url, "timeout": 5})
    assert response.status_code == 201
    return response.json()


def received(receiver):
    request = receiver.requests[-1]
    assert request.path == "/hook"
    return request.body, request.headers


def test_a_test_send_answers_with_the_attempt_and_reaches_the_receiver(admin_api, receiver):
    channel = create_channel(admin_api, receiver.url("/hook"))

    response = admin_api.post(f"/api/v1/channels/{channel['id']}/test/")

    assert response.status_code == 200
    outcome = response.json()
    assert outcome["succeeded"] is True and outcome["response_status"] == 200 and outcome["error"] == ""
    assert outcome["trigger"] == "test" and outcome["number"] == 1
    body, headers = received(receiver)
    envelope = json.loads(body)
    assert envelope["eventType"] == "test" and envelope["eventId"] == outcome["event"]
    assert Webhook(channel["secret"]).verify(body, headers)["eventId"] == outcome["event"]
    # Recorded like any delivery, outside any subscription
    delivery = Delivery.objects.get(pk=outcome["delivery"])
    assert delivery.subscription_id is None and Attempt.objects.filter(delivery=delivery).count() == 1


def test_a_failing_endpoint_is_reported_not_raised(admin_api, receiver):
    receiver.reply("/broken", Reply(status=500, body=b"nope"))
    channel = create_channel(admin_api, receiver.url("/broken"))

    outcome = admin_api.post(f"/api/v1/channels/{channel['id']}/test/").json()

    assert outcome["succeeded"] is False and outcome["response_status"] == 500


def test_an_unreachable_endpoint_is_reported_as_a_connection_error(admin_api):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    channel = create_channel(admin_api, f"http://127.0.0.1:{port}/hook")

    response = admin_api.post(f"/api/v1/channels/{channel['id']}/test/")

    assert response.status_code == 200
    assert response.json()["succeeded"] is False
    assert response.json()["response_status"] is None and response.json()["error"] == "connection"


def test_after_rotation_postbacks_carry_both_signatures(admin_api, receiver):
    channel = create_channel(admin_api, receiver.url("/hook"))
    old_secret = channel["secret"]

    new_secret = admin_api.post(f"/api/v1/channels/{channel['id']}/rotate-secret/").json()["secret"]
    admin_api.post(f"/api/v1/channels/{channel['id']}/test/")

    body, headers = received(receiver)
    assert len(headers["webhook-signature"].split(" ")) == 2
    # Receivers still on the old secret and those already on the new one both accept it
    assert Webhook(old_secret).verify(body, headers)["eventType"] == "test"
    assert Webhook(new_secret).verify(body, headers)["eventType"] == "test"
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(body, headers)


def test_the_test_send_needs_its_permission_and_a_real_channel(make_client, postback_channel):
    viewer = make_client("channels.view_channel")
    sender = make_client("channels.view_channel", "channels.send_test_event")

    assert viewer.post(f"/api/v1/channels/{postback_channel.pk}/test/").status_code == 403
    assert sender.post("/api/v1/channels/424242/test/").status_code == 404
    assert not Delivery.objects.exists()


# --- a choice of event type (issue 13) ----------------------------------------------------


def test_a_test_send_of_a_chosen_type_sends_its_example_payload(admin_api, receiver):
    order_completed = enable("order.completed")
    channel = create_channel(admin_api, receiver.url("/hook"))

    response = admin_api.post(
        f"/api/v1/channels/{channel['id']}/test/", {"event_type": "order.completed"}, format="json"
    )

    assert response.status_code == 200
    outcome = response.json()
    assert outcome["event_type"] == "order.completed" and outcome["succeeded"] is True
    envelope = json.loads(received(receiver)[0])
    assert envelope["eventType"] == "order.completed" and envelope["payload"] == order_completed.example_payload
    delivery = admin_api.get(f"/api/v1/deliveries/{outcome['delivery']}/").json()
    assert delivery["is_test"] is True and delivery["event_type"] == "order.completed"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event_type": "no.such.type"}, "event_type"),
        ({"event_type": "order.completed"}, "event_type"),  # switched off
        ({"event_type": "x" * 101}, "event_type"),
        ({"event_type": 7}, "event_type"),
        ({"eventType": "test"}, "eventType"),
    ],
    ids=["unknown", "switched-off", "too-long", "not-a-string", "unknown-field"],
)
def test_an_unsendable_type_is_a_400_naming_the_field_and_nothing_is_sent(admin_api, receiver, body, field):
    channel = create_channel(admin_api, receiver.url("/hook"))

    response = admin_api.post(f"/api/v1/channels/{channel['id']}/test/", body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert receiver.requests == [] and not Delivery.objects.exists()


def test_a_failed_test_send_is_not_retried_or_resent_over_the_api(admin_api, receiver):
    enable("order.completed")
    receiver.reply("/hook", Reply(status=404))
    channel = create_channel(admin_api, receiver.url("/hook"))
    subscribe(Channel.objects.get(pk=channel["id"]), "order.completed")
    outcome = admin_api.post(
        f"/api/v1/channels/{channel['id']}/test/", {"event_type": "order.completed"}, format="json"
    ).json()
    assert outcome["succeeded"] is False

    retry = admin_api.post(f"/api/v1/deliveries/{outcome['delivery']}/retry/")
    resend = admin_api.post(f"/api/v1/events/{outcome['event']}/resend/", {"channel": channel["id"]}, format="json")

    assert retry.status_code == 409 and "test send" in retry.json()["detail"]
    assert resend.status_code == 400 and "test send" in resend.json()["errors"]["event"][0]
    assert len(receiver.requests) == 1 and Delivery.objects.count() == 1
