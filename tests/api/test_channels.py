"""channels/: CRUD, the secret shown only on creation and rotation, and every refusal a 400 naming the field."""

import pytest

from channels.models import Channel, ChannelKind

pytestmark = pytest.mark.django_db

CHANNEL_FIELDS = {"id", "name", "kind", "url", "headers", "timeout", "active"}


def create(client, **fields):
    body = {"name": "shop hook", "url": "http://127.0.0.1:9/hook", **fields}
    return client.post("/api/v1/channels/", body)


def test_creating_a_postback_channel_answers_with_its_secret_once(admin_api):
    response = create(admin_api, headers={"X-Shop": "one"}, timeout=5)

    assert response.status_code == 201
    body = response.json()
    assert set(body) >= CHANNEL_FIELDS
    assert body["kind"] == "postback" and body["timeout"] == 5 and body["headers"] == {"X-Shop": "one"}
    assert body["secret"].startswith("whsec_")
    assert Channel.objects.get(pk=body["id"]).secret == body["secret"]

    # Never again: not in the list, the detail or a change's answer.
    for response in (
        admin_api.get("/api/v1/channels/"),
        admin_api.get(f"/api/v1/channels/{body['id']}/"),
        admin_api.patch(f"/api/v1/channels/{body['id']}/", {"name": "renamed"}),
    ):
        assert response.status_code == 200
        assert '"secret":' not in response.content.decode()  # only the rotation state fields name it
        assert body["secret"] not in response.content.decode()


def test_email_and_slack_channels(admin_api):
    email = create(admin_api, kind="email", url="", email_to="ops@example.com, billing@example.com")
    slack = create(admin_api, kind="slack", url="http://127.0.0.1:9/slack")

    assert email.status_code == 201 and email.json()["secret"] == ""
    assert slack.status_code == 201
    assert admin_api.get("/api/v1/channels/", {"kind": "email"}).json()["count"] == 1


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"url": "ftp://127.0.0.1/x"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": ""}, "url"),
        ({"url": "http://user:pw@127.0.0.1/x"}, "url"),
        ({"headers": {"X-Evil": "a\r\nSet-Cookie: x=1"}}, "headers"),
        ({"headers": {"X-Evil\n": "a"}}, "headers"),
        ({"headers": {"webhook-signature": "v1,forged"}}, "headers"),
        ({"headers": ["X-A", "b"]}, "headers"),
        ({"headers": {"X-A": 1}}, "headers"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": 31}, "timeout"),
        ({"timeout": "soon"}, "timeout"),
        ({"kind": "pigeon"}, "kind"),
        ({"name": ""}, "name"),
        ({"kind": "email", "url": "", "email_to": "not-an-address"}, "email_to"),
    ],
)
def test_invalid_channels_are_a_400_naming_the_field(admin_api, fields, field):
    response = create(admin_api, **fields)

    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not Channel.objects.exists()


def test_internal_targets_are_refused_unless_allowed(admin_api, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False

    for url in ("http://127.0.0.1/hook", "http://10.1.2.3/hook", "http://169.254.169.254/latest", "http://[::1]/"):
        response = create(admin_api, url=url)
        assert response.status_code == 400, url
        assert "url" in response.json()["errors"]
    assert not Channel.objects.exists()

    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    assert create(admin_api, url="http://127.0.0.1/hook").status_code == 201


def test_timeout_is_bounded_by_the_setting(admin_api, settings):
    settings.WEBHOOKS_TIMEOUT_S = 10

    response = create(admin_api, timeout=11)

    assert response.status_code == 400 and "timeout" in response.json()["errors"]


def test_patch_changes_the_given_fields_and_validates_them(admin_api, postback_channel):
    url = f"/api/v1/channels/{postback_channel.pk}/"

    ok = admin_api.patch(url, {"active": False, "headers": {"X-Tenant": "7"}})
    bad = admin_api.patch(url, {"url": "gopher://127.0.0.1/"})

    assert ok.status_code == 200 and ok.json()["active"] is False and ok.json()["headers"] == {"X-Tenant": "7"}
    assert bad.status_code == 400 and "url" in bad.json()["errors"]
    postback_channel.refresh_from_db()
    assert postback_channel.url.startswith("http://127.0.0.1") and not postback_channel.active


def test_the_kind_of_a_channel_is_fixed(admin_api, postback_channel):
    response = admin_api.patch(
        f"/api/v1/channels/{postback_channel.pk}/", {"kind": "email", "email_to": "ops@example.com"}
    )

    assert response.status_code == 400 and "kind" in response.json()["errors"]
    assert Channel.objects.get(pk=postback_channel.pk).kind == ChannelKind.POSTBACK


def test_patch_cannot_set_the_secret(admin_api, postback_channel):
    before = postback_channel.secret

    admin_api.patch(f"/api/v1/channels/{postback_channel.pk}/", {"secret": "whsec_chosen", "name": "n"})

    assert Channel.objects.get(pk=postback_channel.pk).secret == before


def test_delete_removes_the_channel(admin_api, postback_channel):
    assert admin_api.delete(f"/api/v1/channels/{postback_channel.pk}/").status_code == 204
    assert not Channel.objects.exists()
    assert admin_api.get(f"/api/v1/channels/{postback_channel.pk}/").status_code == 404


def test_a_channel_with_deliveries_is_not_deleted_but_the_answer_says_how_to_deactivate_it(admin_api, postback_channel):
    """As in the admin: deleting would erase the channel's delivery log."""
    url = f"/api/v1/channels/{postback_channel.pk}/"
    assert admin_api.post(url + "test/").status_code == 200  # the test send leaves a delivery in the log

    response = admin_api.delete(url)

    assert response.status_code == 409
    assert "cannot be deleted" in response.json()["detail"] and "active: false" in response.json()["detail"]
    assert Channel.objects.filter(pk=postback_channel.pk).exists()
    assert postback_channel.deliveries.count() == 1


@pytest.mark.parametrize("channel_id", ["999999", "abc", "99999999999999999999999999"])
def test_unknown_channel_ids_are_404(admin_api, channel_id):
    assert admin_api.get(f"/api/v1/channels/{channel_id}/").status_code == 404
    assert admin_api.post(f"/api/v1/channels/{channel_id}/rotate-secret/").status_code == 404


def test_rotating_answers_with_the_new_secret_and_keeps_the_old_one_for_a_grace_period(admin_api, postback_channel):
    old = postback_channel.secret

    response = admin_api.post(f"/api/v1/channels/{postback_channel.pk}/rotate-secret/")

    assert response.status_code == 200
    body = response.json()
    assert body["secret"].startswith("whsec_") and body["secret"] != old
    assert body["previous_secret_expires_at"]
    postback_channel.refresh_from_db()
    assert postback_channel.secret == body["secret"] and postback_channel.previous_secret == old
    assert body["secret"] not in admin_api.get(f"/api/v1/channels/{postback_channel.pk}/").content.decode()


def test_an_email_channel_has_no_secret_to_rotate(admin_api):
    channel = Channel.objects.create(name="mail", kind=ChannelKind.EMAIL, email_to="ops@example.com")

    response = admin_api.post(f"/api/v1/channels/{channel.pk}/rotate-secret/")

    assert response.status_code == 400 and "kind" in response.json()["errors"]
