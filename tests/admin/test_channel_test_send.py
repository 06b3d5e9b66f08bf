"""The channel page's test send (issue 13): a choice of event type, a preview of the body, and the log."""

import html
import json
import re

import pytest
from django.urls import reverse

from channels.models import Channel, ChannelKind
from deliveries.models import Delivery
from tests.support.factories import enable

pytestmark = pytest.mark.django_db

SENDER = ("channels.view_channel", "channels.change_channel", "channels.send_test_event")


@pytest.fixture
def channel(receiver):
    return Channel.objects.create(name="Receiver", kind=ChannelKind.POSTBACK, url=receiver.url("/hook"))


def page_of(client, channel, **query):
    response = client.get(reverse("admin:channels_channel_change", args=[channel.pk]), query)
    assert response.status_code == 200
    return response.content.decode()


def preview_in(page: str) -> dict:
    body = re.search(r'<pre id="test-send-preview"[^>]*>(.*?)</pre>', page, re.S).group(1)
    return json.loads(html.unescape(body))


def options_in(page: str) -> list[str]:
    select = re.search(r'<select name="event_type" id="test-event-type".*?</select>', page, re.S).group(0)
    return re.findall(r'<option value="([^"]+)"', select)


def test_the_form_offers_the_enabled_types_and_previews_the_test_type_by_default(make_staff, channel):
    # given order.completed switched on and contact.created off
    enable("order.completed")
    enable("contact.created", enabled=False)

    # when staff who may send tests open the channel page
    page = page_of(make_staff(*SENDER), channel)

    # then the select offers test first and order.completed, not the switched-off type
    offered = options_in(page)
    assert offered[0] == "test" and "order.completed" in offered and "contact.created" not in offered
    # and the preview is the test type's envelope, pretty-printed
    preview = preview_in(page)
    assert preview["eventType"] == "test" and preview["payload"]["dummyData"]["ok"] is True
    assert '\n  "eventType": "test"' in html.unescape(page)
    # and every offered type's preview is on the page for the select to show
    previews = json.loads(re.search(r'id="test-send-previews"[^>]*>(.*?)</script>', page, re.S).group(1))
    assert sorted(previews) == sorted(offered)
    assert json.loads(previews["order.completed"])["eventType"] == "order.completed"


def test_a_chosen_type_is_previewed_without_javascript(make_staff, channel):
    enable("order.completed")

    page = page_of(make_staff(*SENDER), channel, test_type="order.completed")

    assert preview_in(page)["payload"]["order"]["id"] == "A-1001"
    assert '<option value="order.completed" selected>' in page


def test_sending_the_chosen_type_reaches_the_receiver_and_comes_back_with_it_chosen(make_staff, channel, receiver):
    enable("order.completed")
    client = make_staff(*SENDER)

    response = client.post(
        reverse("admin:channels_channel_send_test", args=[channel.pk]), {"event_type": "order.completed"}
    )

    assert response.status_code == 302 and "test_type=order.completed" in response["Location"]
    [request] = receiver.requests
    assert request.json["eventType"] == "order.completed" and request.json["payload"]["order"]["id"] == "A-1001"
    page = client.get(response["Location"]).content.decode()
    assert "Test event delivered: HTTP 200" in page and "(order.completed)" in page
    assert Delivery.objects.get().is_test


def test_an_unsendable_type_is_refused_with_a_message_and_nothing_is_sent(make_staff, channel, receiver):
    enable("order.completed", enabled=False)
    client = make_staff(*SENDER)

    response = client.post(
        reverse("admin:channels_channel_send_test", args=[channel.pk]), {"event_type": "order.completed"}, follow=True
    )

    assert "Test event not sent: The event type order.completed is switched off" in response.content.decode()
    assert receiver.requests == [] and not Delivery.objects.exists()


def test_without_the_permission_there_is_no_form_and_the_post_is_forbidden(make_staff, channel, receiver):
    client = make_staff("channels.view_channel", "channels.change_channel")

    page = page_of(client, channel)
    response = client.post(reverse("admin:channels_channel_send_test", args=[channel.pk]), {"event_type": "test"})

    assert 'id="send-test-form"' not in page and 'id="test-send-preview"' not in page
    assert response.status_code == 403 and receiver.requests == []


def test_the_send_needs_the_csrf_token(make_staff, channel, receiver):
    client = make_staff(*SENDER, enforce_csrf_checks=True)

    response = client.post(reverse("admin:channels_channel_send_test", args=[channel.pk]), {"event_type": "test"})

    assert response.status_code == 403 and receiver.requests == []
    assert 'name="csrfmiddlewaretoken"' in page_of(client, channel)


def test_a_test_send_of_a_real_type_is_out_of_the_log_unless_asked_for(make_staff, channel, make_delivery):
    enable("order.completed")
    client = make_staff(*SENDER, "deliveries.view_delivery")
    client.post(reverse("admin:channels_channel_send_test", args=[channel.pk]), {"event_type": "order.completed"})
    real = make_delivery(channel=channel, key="order.completed")
    test_send = Delivery.objects.get(is_test=True)
    log = reverse("admin:deliveries_delivery_changelist")

    def shown(query):
        page = client.get(log, query).content.decode()
        return {d.pk for d in (real, test_send) if reverse("admin:deliveries_delivery_change", args=[d.pk]) in page}

    assert shown({}) == {real.pk}
    assert shown({"tests": "only"}) == {test_send.pk}
    assert shown({"tests": "include"}) == {real.pk, test_send.pk}
    # and where it is shown, it is marked: one badge, for the one test send
    assert client.get(log, {"tests": "include"}).content.decode().count('class="badge badge-test"') == 1


def test_a_test_sends_delivery_page_says_so_and_offers_no_retry_or_resend(make_staff, channel, receiver):
    from tests.support.receiver import Reply

    enable("order.completed")
    receiver.reply("/hook", Reply(status=503))
    client = make_staff(*SENDER, "deliveries.view_delivery", "deliveries.retry_delivery", "deliveries.resend")
    client.post(reverse("admin:channels_channel_send_test", args=[channel.pk]), {"event_type": "order.completed"})
    delivery = Delivery.objects.get(is_test=True, status="failed")

    page = client.get(reverse("admin:deliveries_delivery_change", args=[delivery.pk])).content.decode()
    retried = client.post(reverse("admin:deliveries_delivery_retry", args=[delivery.pk]), follow=True)

    assert 'id="test-send-note"' in page and 'id="retry-form"' not in page and 'id="resend-link"' not in page
    assert "test sends are not retried or resent" in retried.content.decode()
    assert len(receiver.requests) == 1
