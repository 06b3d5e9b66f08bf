"""Channels: a form per kind, test send to a real receiver, reveal/rotate secret, health."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from channels.models import Channel, ChannelKind
from deliveries.models import Attempt, Delivery, DeliveryStatus
from tests.support.receiver import Reply

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:channels_channel_add")
LIST_URL = reverse("admin:channels_channel_changelist")


def change_url(channel):
    return reverse("admin:channels_channel_change", args=[channel.pk])


def test_add_asks_for_the_kind_first(admin_client):
    page = admin_client.get(ADD_URL).content.decode()
    for kind in ChannelKind.values:
        assert f'data-kind="{kind}"' in page


@pytest.mark.parametrize(
    "kind, present, absent",
    [
        ("postback", ["url", "headers", "timeout"], ["email_to"]),
        ("email", ["email_to"], ["url", "headers", "timeout"]),
        ("slack", ["url", "timeout"], ["email_to", "headers"]),
    ],
)
def test_each_kind_has_its_own_form(admin_client, kind, present, absent):
    form = admin_client.get(f"{ADD_URL}?kind={kind}").context["adminform"].form
    for field in present:
        assert field in form.fields
    for field in absent:
        assert field not in form.fields


def test_create_an_email_channel(admin_client):
    response = admin_client.post(
        f"{ADD_URL}?kind=email", {"name": "Ops", "kind": "email", "email_to": "ops@example.com", "active": "on"}
    )
    assert response.status_code == 302
    channel = Channel.objects.get(name="Ops")
    assert channel.kind == ChannelKind.EMAIL and channel.email_to == "ops@example.com" and channel.secret == ""


@pytest.mark.parametrize(
    "fields, bad_field",
    [
        ({"url": "ftp://127.0.0.1/x", "headers": "{}"}, "url"),
        ({"url": "http://127.0.0.1:9/x", "headers": "not json"}, "headers"),
        ({"url": "http://127.0.0.1:9/x", "headers": '{"X-A": "a\\r\\nInjected: 1"}'}, "headers"),
        ({"url": "http://127.0.0.1:9/x", "headers": '{"webhook-signature": "v1,forged"}'}, "headers"),
        ({"url": "http://127.0.0.1:9/x", "headers": "{}", "timeout": "99"}, "timeout"),
    ],
)
def test_bad_postback_input_is_a_form_error_naming_the_field(admin_client, fields, bad_field):
    data = {"name": "Bad", "kind": "postback", "timeout": "10", "active": "on", **fields}

    response = admin_client.post(f"{ADD_URL}?kind=postback", data)

    assert response.status_code == 200
    assert bad_field in response.context["adminform"].form.errors
    assert not Channel.objects.filter(name="Bad").exists()


def test_edit_keeps_the_kind_read_only(admin_client, postback_channel):
    response = admin_client.post(
        change_url(postback_channel),
        {
            "name": "Renamed",
            "kind": "email",
            "url": postback_channel.url,
            "headers": "{}",
            "timeout": 5,
            "active": "on",
        },
    )
    assert response.status_code == 302
    postback_channel.refresh_from_db()
    assert postback_channel.name == "Renamed" and postback_channel.kind == ChannelKind.POSTBACK


def test_change_page_never_shows_the_secret(admin_client, postback_channel):
    page = admin_client.get(change_url(postback_channel)).content.decode()
    assert postback_channel.secret not in page
    assert 'id="reveal-secret-form"' in page


def test_reveal_secret_is_a_post_behind_its_permission(make_staff, admin_client, postback_channel):
    url = reverse("admin:channels_channel_reveal_secret", args=[postback_channel.pk])
    viewer = make_staff("channels.view_channel", "channels.change_channel")

    # without the permission: no button, and a forged POST is refused
    assert "reveal-secret-form" not in viewer.get(change_url(postback_channel)).content.decode()
    assert viewer.post(url).status_code == 403

    # with it: GET is not enough, the POST shows the secret, not cached, and is logged
    assert admin_client.get(url).status_code == 405
    response = admin_client.post(url)
    assert response.status_code == 200
    assert postback_channel.secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert LogEntry.objects.filter(
        object_id=str(postback_channel.pk), change_message="Revealed the signing secret."
    ).exists()


def test_reveal_secret_post_without_csrf_is_rejected(make_staff, postback_channel):
    client = make_staff("channels.view_channel", "channels.reveal_secret", enforce_csrf_checks=True)
    response = client.post(reverse("admin:channels_channel_reveal_secret", args=[postback_channel.pk]))
    assert response.status_code == 403
    assert postback_channel.secret not in response.content.decode()


def test_rotate_secret_confirms_then_rotates_keeping_the_old_one_for_a_grace_period(admin_client, postback_channel):
    url = reverse("admin:channels_channel_rotate_secret", args=[postback_channel.pk])
    old = postback_channel.secret

    assert admin_client.get(url).status_code == 200  # the confirmation page
    postback_channel.refresh_from_db()
    assert postback_channel.secret == old

    response = admin_client.post(url)

    postback_channel.refresh_from_db()
    assert response.status_code == 200
    assert postback_channel.secret != old and postback_channel.previous_secret == old
    assert postback_channel.secret in response.content.decode()


def test_rotate_secret_needs_its_permission(make_staff, postback_channel):
    client = make_staff("channels.view_channel", "channels.change_channel", "channels.reveal_secret")
    old = postback_channel.secret
    assert client.post(reverse("admin:channels_channel_rotate_secret", args=[postback_channel.pk])).status_code == 403
    postback_channel.refresh_from_db()
    assert postback_channel.secret == old


def test_send_test_event_posts_to_the_receiver_and_shows_the_outcome(admin_client, receiver):
    # given a postback channel pointing at a real receiver on 127.0.0.1
    channel = Channel.objects.create(name="Receiver", kind=ChannelKind.POSTBACK, url=receiver.url("/hook"))

    # when staff press "Send test event"
    response = admin_client.post(reverse("admin:channels_channel_send_test", args=[channel.pk]), follow=True)

    # then the receiver got the signed test event and the page says it was delivered
    [request] = receiver.requests
    assert request.path == "/hook"
    body = request.json
    assert body["eventType"] == "test"
    assert request.headers["webhook-signature"].startswith("v1,")
    html = response.content.decode()
    assert "Test event delivered: HTTP 200" in html
    assert 'id="recent-tests"' in html and 'data-outcome="succeeded"' in html


def test_send_test_event_to_a_failing_receiver_says_it_failed(admin_client, receiver):
    receiver.reply("/hook", Reply(status=404, body=b"nope"))
    channel = Channel.objects.create(name="Receiver", kind=ChannelKind.POSTBACK, url=receiver.url("/hook"))

    response = admin_client.post(reverse("admin:channels_channel_send_test", args=[channel.pk]), follow=True)

    assert "Test event failed after" in response.content.decode()
    assert "The endpoint answered 404 Not Found." in response.content.decode()


def test_send_test_event_needs_its_permission_and_a_post(make_staff, postback_channel):
    client = make_staff("channels.view_channel", "channels.change_channel")
    url = reverse("admin:channels_channel_send_test", args=[postback_channel.pk])

    assert "send-test-form" not in client.get(change_url(postback_channel)).content.decode()
    assert client.post(url).status_code == 403
    assert not Attempt.objects.exists()
    allowed = make_staff("channels.view_channel", "channels.send_test_event")
    assert allowed.get(url).status_code == 405


def test_list_shows_success_rate_and_last_failure_without_a_query_per_channel(
    admin_client, make_delivery, django_assert_max_num_queries
):
    # given channels with recent deliveries: 3 succeeded and 1 failed on the first
    channels = [
        Channel.objects.create(name=f"ch{i}", kind=ChannelKind.POSTBACK, url=f"http://127.0.0.1:9/{i}")
        for i in range(8)
    ]
    for _ in range(3):
        make_delivery(channel=channels[0], status=DeliveryStatus.SUCCEEDED, response_status=200)
    make_delivery(channel=channels[0], status=DeliveryStatus.FAILED)
    # and an old failure that is not "recent"
    old = make_delivery(channel=channels[1], status=DeliveryStatus.FAILED)
    Delivery.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))

    with django_assert_max_num_queries(8):
        response = admin_client.get(LIST_URL)

    rows = {c.name: c for c in response.context["cl"].result_list}
    assert f"{rows['ch0'].health.success_rate:.0%}" == "75%"
    assert rows["ch0"].health.last_failure_at is not None
    assert rows["ch1"].health is None
    assert "75% of 4" in response.content.decode()


def test_change_page_shows_health_and_last_failure(admin_client, make_delivery, postback_channel):
    make_delivery(channel=postback_channel, status=DeliveryStatus.SUCCEEDED, response_status=200)
    failed = make_delivery(channel=postback_channel, status=DeliveryStatus.FAILED)

    html = admin_client.get(change_url(postback_channel)).content.decode()

    assert "50% succeeded" in html
    assert reverse("admin:deliveries_delivery_change", args=[failed.pk]) in html


def test_a_channel_with_deliveries_is_not_deleted_but_can_be_deactivated(admin_client, make_delivery, postback_channel):
    make_delivery(channel=postback_channel)
    url = reverse("admin:channels_channel_delete", args=[postback_channel.pk])

    response = admin_client.post(url, {"post": "yes"}, follow=True)

    assert Channel.objects.filter(pk=postback_channel.pk).exists()
    assert Delivery.objects.filter(channel=postback_channel).exists()
    assert "cannot be deleted" in response.content.decode()


def test_a_channel_without_deliveries_can_be_deleted(admin_client, email_channel):
    url = reverse("admin:channels_channel_delete", args=[email_channel.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not Channel.objects.filter(pk=email_channel.pk).exists()


def test_recent_attempts_leave_test_sends_out_and_list_them_under_test_send(
    admin_client, make_delivery, postback_channel
):
    # given a real delivery and a (newer) failed test send to the channel
    real = make_delivery(channel=postback_channel, status=DeliveryStatus.SUCCEEDED, response_status=200)
    test = make_delivery(channel=postback_channel, key="test", status=DeliveryStatus.FAILED, is_test=True)

    html = admin_client.get(change_url(postback_channel)).content.decode()

    # then "Recent attempts" lists the real one only, the test send is in the Test send panel,
    # and the failed test send is not the channel's "last failure"
    recent = html[html.index('id="recent-attempts"') :]
    test_panel = html[html.index('id="test-send"') : html.index('id="channel-charts"')]
    delivery_url = reverse("admin:deliveries_delivery_change", args=[test.pk])
    assert reverse("admin:deliveries_delivery_change", args=[real.pk]) in recent
    assert delivery_url not in recent
    assert 'id="recent-tests"' in test_panel
    assert delivery_url not in html[: html.index('id="test-send"')]
    # and the State panel has no second "Send test event" button beside the Test send panel
    assert 'id="send-test-link"' not in html
    assert html.count('value="Send test event"') == 1
