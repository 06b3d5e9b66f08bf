"""channels/ v1.1: description, metadata, a custom secret, rotation state, several secrets in overlap, header checks."""

import base64
import datetime as dt
import json
import os

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from channels.models import Channel, ChannelKind
from channels.secrets import MAX_SIGNING_SECRETS, signing_secrets
from channels.services import rotate_secret, update_channel

pytestmark = pytest.mark.django_db


def own_secret(size=32) -> str:
    return "whsec_" + base64.b64encode(os.urandom(size)).decode()


def create(client, **fields):
    return client.post("/api/v1/channels/", {"name": "shop hook", "url": "http://127.0.0.1:9/hook", **fields})


def test_description_and_metadata_are_stored_shown_and_changed(admin_api):
    response = create(admin_api, description="Orders for the ERP", metadata={"tenant": "acme", "tier": 2})

    assert response.status_code == 201
    body = response.json()
    assert body["description"] == "Orders for the ERP" and body["metadata"] == {"tenant": "acme", "tier": 2}

    changed = admin_api.patch(f"/api/v1/channels/{body['id']}/", {"metadata": {"tenant": "globex"}})

    assert changed.status_code == 200 and changed.json()["metadata"] == {"tenant": "globex"}
    assert Channel.objects.get(pk=body["id"]).metadata == {"tenant": "globex"}


@pytest.mark.parametrize(
    "metadata",
    [
        None,
        ["a"],
        "text",
        {"nested": {"a": 1}},
        {"list": [1]},
        {f"k{i}": "v" for i in range(21)},
        {"k" * 41: "v"},
        {"k": "v" * 501},
    ],
)
def test_metadata_that_is_not_a_small_flat_object_is_a_400_naming_it(admin_api, metadata):
    response = create(admin_api, metadata=metadata)

    assert response.status_code == 400 and "metadata" in response.json()["errors"]
    assert not Channel.objects.exists()


def test_a_custom_secret_signs_the_postbacks_and_is_never_echoed(admin_api, receiver):
    secret = own_secret()

    response = create(admin_api, url=receiver.url("/hook"), secret=secret)

    assert response.status_code == 201
    assert response.json()["secret"] is None and secret not in response.content.decode()
    channel_id = response.json()["id"]
    assert Channel.objects.get(pk=channel_id).secret == secret
    assert admin_api.post(f"/api/v1/channels/{channel_id}/test/").status_code == 200
    request = receiver.requests[-1]
    assert Webhook(secret).verify(request.body, request.headers)["eventType"] == "test"


@pytest.mark.parametrize(
    "secret",
    [
        "not-a-secret",
        "whsec_",
        "whsec_!!!notbase64!!!",
        "whsec_" + base64.b64encode(b"short").decode(),  # 5 bytes
        # fixed bytes, not random ones: parameters must be the same in every pytest-xdist worker
        "whsec_" + base64.b64encode(bytes(range(65))).decode(),  # 65 bytes
        " whsec_" + base64.b64encode(bytes(range(32))).decode(),
    ],
    ids=["no-prefix", "empty", "not-base64", "too-short", "too-long", "leading-space"],
)
def test_an_invalid_custom_secret_is_a_400_naming_it(admin_api, secret):
    response = create(admin_api, secret=secret)

    assert response.status_code == 400 and "secret" in response.json()["errors"]
    assert secret not in response.content.decode()
    assert not Channel.objects.exists()


def test_an_email_channel_takes_no_secret(admin_api):
    response = create(admin_api, kind="email", url="", email_to="ops@example.com", secret=own_secret())

    assert response.status_code == 400 and "secret" in response.json()["errors"]


def test_patch_refuses_a_secret_and_points_at_rotation(admin_api, postback_channel):
    before = postback_channel.secret

    response = admin_api.patch(f"/api/v1/channels/{postback_channel.pk}/", {"secret": own_secret()})

    assert response.status_code == 400 and "rotate-secret" in response.json()["errors"]["secret"][0]
    assert Channel.objects.get(pk=postback_channel.pk).secret == before


def test_rotation_state_is_shown_and_a_custom_secret_can_be_rotated_in(admin_api, postback_channel):
    detail = admin_api.get(f"/api/v1/channels/{postback_channel.pk}/").json()
    assert detail["secret_rotated_at"] is None and detail["previous_secret_expires_at"] is None
    secret = own_secret()

    response = admin_api.post(f"/api/v1/channels/{postback_channel.pk}/rotate-secret/", {"secret": secret})

    assert response.status_code == 200
    body = response.json()
    assert body["secret"] is None and body["secret_rotated_at"] and body["previous_secret_expires_at"]
    assert Channel.objects.get(pk=postback_channel.pk).secret == secret
    detail = admin_api.get(f"/api/v1/channels/{postback_channel.pk}/").json()
    assert detail["secret_rotated_at"] == body["secret_rotated_at"]
    assert detail["previous_secret_expires_at"] == body["previous_secret_expires_at"]
    # The same secret again is not a rotation.
    again = admin_api.post(f"/api/v1/channels/{postback_channel.pk}/rotate-secret/", {"secret": secret})
    assert again.status_code == 400 and "secret" in again.json()["errors"]


def test_a_second_rotation_keeps_the_first_replaced_secret_signing_until_its_own_expiry(postback_channel):
    first = postback_channel.secret
    start = timezone.now()

    rotate_secret(channel=postback_channel, grace=dt.timedelta(hours=24))
    postback_channel.refresh_from_db()
    second = postback_channel.secret
    rotate_secret(channel=postback_channel, grace=dt.timedelta(hours=1))
    postback_channel.refresh_from_db()
    third = postback_channel.secret

    assert signing_secrets(postback_channel) == [third, second, first]
    # The second overlap is shorter, but the first replaced secret keeps its own 24 hours.
    assert signing_secrets(postback_channel, now=start + dt.timedelta(hours=2)) == [third, first]
    assert first in signing_secrets(postback_channel, now=start + dt.timedelta(hours=23, minutes=59))
    assert signing_secrets(postback_channel, now=start + dt.timedelta(hours=24, minutes=1)) == [third]


def test_every_secret_in_its_overlap_signs_a_postback(admin_api, receiver):
    created = create(admin_api, url=receiver.url("/hook")).json()
    url = f"/api/v1/channels/{created['id']}/"
    second = admin_api.post(url + "rotate-secret/").json()["secret"]
    third = admin_api.post(url + "rotate-secret/").json()["secret"]

    assert admin_api.post(url + "test/").status_code == 200

    request = receiver.requests[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 3
    for secret in (created["secret"], second, third):
        assert Webhook(secret).verify(request.body, request.headers)["eventType"] == "test"


def test_rotation_is_refused_when_too_many_secrets_would_sign_at_once(postback_channel):
    for _ in range(MAX_SIGNING_SECRETS - 1):
        rotate_secret(channel=postback_channel)
        postback_channel.refresh_from_db()
    assert len(signing_secrets(postback_channel)) == MAX_SIGNING_SECRETS

    with pytest.raises(ValidationError) as refused:
        rotate_secret(channel=postback_channel)

    assert "secret" in refused.value.message_dict


@pytest.mark.parametrize(
    "headers",
    [
        {"X-A": "ünï☃"},  # not Latin-1: the example
        {"X-A": "a\rb"},
        {"X-A": "a\nb"},
        {"X-A": "a\x01b"},
        {"X-A": "a\x7fb"},
        {"X A": "v"},
        {"X-Ä": "v"},
        {"X-A": "v" * 2001},
        {f"X-{i}": "v" * 1000 for i in range(9)},  # over 8 KiB together
    ],
)
def test_headers_http_cannot_carry_are_refused_at_save_naming_the_field(admin_api, postback_channel, headers):
    created = create(admin_api, headers=headers)
    changed = admin_api.patch(f"/api/v1/channels/{postback_channel.pk}/", {"headers": headers}, format="json")

    assert created.status_code == 400 and "headers" in created.json()["errors"]
    assert changed.status_code == 400 and "headers" in changed.json()["errors"]
    with pytest.raises(ValidationError) as refused:
        update_channel(channel=postback_channel, changes={"headers": headers})
    assert "headers" in refused.value.message_dict


def test_latin1_and_tab_in_header_values_are_accepted(admin_api):
    response = create(admin_api, headers={"X-Name": "Müller\tGmbH"})

    assert response.status_code == 201
    assert Channel.objects.get(pk=response.json()["id"]).headers == {"X-Name": "Müller\tGmbH"}


def test_the_admin_form_refuses_a_header_that_is_not_latin1(admin_client):
    response = admin_client.post(
        "/admin/channels/channel/add/?kind=postback",
        {
            "name": "erp",
            "kind": ChannelKind.POSTBACK,
            "url": "https://hooks.example.com/x",
            "format": "standard",
            "headers": json.dumps({"X-A": "☃"}),
            "timeout": 10,
            "active": "on",
        },
    )

    assert response.status_code == 200  # the form again, with the error
    assert "headers" in response.context["adminform"].form.errors
    assert not Channel.objects.exists()


def test_the_admin_form_saves_description_and_metadata_and_refuses_nested_metadata(admin_client):
    form = {
        "name": "erp",
        "kind": ChannelKind.POSTBACK,
        "url": "https://hooks.example.com/x",
        "format": "standard",
        "headers": "{}",
        "timeout": 10,
        "active": "on",
        "description": "Orders for the ERP",
    }

    nested = admin_client.post("/admin/channels/channel/add/?kind=postback", {**form, "metadata": '{"a": {"b": 1}}'})
    saved = admin_client.post("/admin/channels/channel/add/?kind=postback", {**form, "metadata": '{"tenant": "acme"}'})

    assert nested.status_code == 200 and "metadata" in nested.context["adminform"].form.errors
    assert saved.status_code == 302
    channel = Channel.objects.get()
    assert channel.description == "Orders for the ERP" and channel.metadata == {"tenant": "acme"}
