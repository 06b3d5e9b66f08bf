"""subscriptions/: attach a channel to an event type for some sources; change or detach it."""

import pytest

from channels.models import Channel, ChannelKind, Subscription

pytestmark = pytest.mark.django_db


def attach(client, channel, event_type="order.completed", sources=("shop",), **extra):
    return client.post(
        "/api/v1/subscriptions/",
        {"event_type": event_type, "channel": channel.pk, "sources": list(sources), **extra},
    )


def test_attaching_answers_with_the_subscription(admin_api, postback_channel):
    response = attach(admin_api, postback_channel, sources=["funnel", "shop"])

    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": body["id"],
        "event_type": "order.completed",
        "channel": postback_channel.pk,
        "sources": ["shop", "funnel"],
        "active": True,
        "created_at": body["created_at"],
    }
    assert Subscription.objects.get(pk=body["id"]).sources == ["shop", "funnel"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"sources": []}, "sources"),
        ({"sources": ["shop", "warehouse"]}, "sources"),
        ({"sources": "shop"}, "sources"),
        ({"event_type": "no.such.type"}, "event_type"),
        ({"channel": 999999}, "channel"),
        ({"channel": "one"}, "channel"),
    ],
)
def test_invalid_attachments_are_a_400_naming_the_field(admin_api, postback_channel, change, field):
    body = {"event_type": "order.completed", "channel": postback_channel.pk, "sources": ["shop"], **change}

    response = admin_api.post("/api/v1/subscriptions/", body)

    assert response.status_code == 400
    assert any(key == field or key.startswith(f"{field}.") for key in response.json()["errors"])
    assert not Subscription.objects.exists()


def test_a_channel_is_attached_to_an_event_type_once(admin_api, postback_channel):
    assert attach(admin_api, postback_channel).status_code == 201

    again = attach(admin_api, postback_channel, sources=["admin"])

    assert again.status_code == 409 and again.json()["code"] == "duplicate" and again.json()["detail"]
    assert Subscription.objects.count() == 1


def test_postback_only_types_refuse_other_channels(admin_api):
    email = Channel.objects.create(name="mail", kind=ChannelKind.EMAIL, email_to="ops@example.com")

    response = attach(admin_api, email, event_type="customer.created")

    assert response.status_code == 400 and "channel" in response.json()["errors"]


def test_patch_changes_sources_and_active_only(admin_api, postback_channel):
    sub_id = attach(admin_api, postback_channel).json()["id"]
    url = f"/api/v1/subscriptions/{sub_id}/"

    changed = admin_api.patch(url, {"sources": ["admin"], "active": False})
    emptied = admin_api.patch(url, {"sources": []})
    moved = admin_api.patch(url, {"event_type": "contact.created"})

    assert changed.status_code == 200
    assert changed.json()["sources"] == ["admin"] and changed.json()["active"] is False
    assert emptied.status_code == 400 and "sources" in emptied.json()["errors"]
    assert moved.status_code == 400 and "event_type" in moved.json()["errors"]
    stored = Subscription.objects.get(pk=sub_id)
    assert stored.sources == ["admin"] and not stored.active and stored.event_type_id == "order.completed"


def test_detaching_deletes_the_subscription(admin_api, postback_channel):
    sub_id = attach(admin_api, postback_channel).json()["id"]

    assert admin_api.delete(f"/api/v1/subscriptions/{sub_id}/").status_code == 204
    assert not Subscription.objects.exists()
    assert Channel.objects.filter(pk=postback_channel.pk).exists()


def test_the_list_filters_by_event_type_channel_and_source(admin_api, postback_channel):
    other = Channel.objects.create(name="other", url="http://127.0.0.1:9/other")
    attach(admin_api, postback_channel, event_type="order.completed", sources=["shop"])
    attach(admin_api, postback_channel, event_type="refund.applied", sources=["admin"])
    attach(admin_api, other, event_type="order.completed", sources=["shop", "admin"])

    def ids(**params):
        return sorted(
            (s["event_type"], s["channel"]) for s in admin_api.get("/api/v1/subscriptions/", params).json()["results"]
        )

    assert ids(event_type="order.completed") == [
        ("order.completed", postback_channel.pk),
        ("order.completed", other.pk),
    ]
    assert ids(channel=postback_channel.pk) == [
        ("order.completed", postback_channel.pk),
        ("refund.applied", postback_channel.pk),
    ]
    assert ids(source="admin") == [("order.completed", other.pk), ("refund.applied", postback_channel.pk)]
    assert admin_api.get("/api/v1/subscriptions/", {"channel": "x"}).status_code == 400
