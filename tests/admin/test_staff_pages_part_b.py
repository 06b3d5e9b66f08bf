"""The delivery and channel pages as staff read them (issue 13 part B): forms that do not contradict
themselves, headers as lines, test sends out of the way, a channel page with state, charts and attempts."""

import pytest
from django.urls import reverse

from channels.models import Channel, ChannelKind
from deliveries.models import ChannelBreaker, DeliveryStatus

pytestmark = pytest.mark.django_db

ADD_POSTBACK = reverse("admin:channels_channel_add") + "?kind=postback"
LOG = reverse("admin:deliveries_delivery_changelist")


def postback_form(**fields):
    return {
        "name": "Shop",
        "kind": "postback",
        "url": "http://127.0.0.1:9/x",
        "timeout": "10",
        "active": "on",
        **fields,
    }


def test_an_invalid_url_gets_one_error_not_also_url_required(admin_client):
    response = admin_client.post(ADD_POSTBACK, postback_form(url="not a url at all"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["url"] == ["Enter a valid URL."]


@pytest.mark.parametrize("timeout", ["-5", "0", "31"])
def test_a_timeout_out_of_range_says_the_range(admin_client, timeout):
    response = admin_client.post(ADD_POSTBACK, postback_form(timeout=timeout))

    assert response.context["adminform"].form.errors["timeout"] == ["Enter a timeout between 1 and 30 seconds."]


def test_the_form_says_which_kind_of_channel_it_edits(admin_client, email_channel):
    assert admin_client.get(ADD_POSTBACK).context["title"] == "New postback channel"
    page = admin_client.get(reverse("admin:channels_channel_change", args=[email_channel.pk]))
    assert page.context["title"] == "E-mail channel: Sales inbox"


def test_custom_headers_are_name_value_lines_stored_as_before(admin_client):
    response = admin_client.post(ADD_POSTBACK, postback_form(headers="X-Api-Key: abc123\n\nX-Tenant:  shop-1 "))

    assert response.status_code == 302
    channel = Channel.objects.get(name="Shop")
    assert channel.headers == {"X-Api-Key": "abc123", "X-Tenant": "shop-1"}
    form_page = admin_client.get(reverse("admin:channels_channel_change", args=[channel.pk])).content.decode()
    assert "X-Api-Key: abc123\nX-Tenant: shop-1</textarea>" in form_page


def test_a_header_line_without_a_colon_names_the_line(admin_client):
    response = admin_client.post(ADD_POSTBACK, postback_form(headers="X-Api-Key: abc\nbroken line"))

    assert response.context["adminform"].form.errors["headers"] == ["Line 2: write each header as Name: value."]


def test_test_sends_are_out_of_the_log_unless_asked_for(admin_client, make_delivery, postback_channel):
    real = make_delivery(channel=postback_channel)
    test_send = make_delivery(
        channel=postback_channel, key="test", status=DeliveryStatus.SUCCEEDED, response_status=200
    )

    def shown(**params):
        return {d.pk for d in admin_client.get(LOG, params).context["cl"].result_list}

    assert shown() == {real.pk}
    assert shown(tests="include") == {real.pk, test_send.pk}
    assert shown(tests="only") == {test_send.pk}


def test_test_sends_do_not_count_in_success_rates(admin_client, make_delivery, postback_channel):
    make_delivery(channel=postback_channel, status=DeliveryStatus.SUCCEEDED, response_status=200)
    for _ in range(3):
        make_delivery(channel=postback_channel, key="test", status=DeliveryStatus.FAILED)

    page = admin_client.get(reverse("admin:channels_channel_change", args=[postback_channel.pk]))

    assert page.context["health"].finished == 1 and page.context["health"].success_rate == 1


def test_the_log_shows_a_status_line_not_pending_beside_a_failure(admin_client, make_delivery, postback_channel):
    make_delivery(channel=postback_channel, status=DeliveryStatus.FAILED, attempts=4, response_status=404)

    html = admin_client.get(LOG).content.decode()
    status_cell = html[html.index('<td class="field-status_badge">') :].split("</td>")[0]

    assert "Failed after 4 attempts, no automatic retry: the endpoint answered 404 Not Found" in status_cell
    assert "Pending" not in status_cell


def test_the_delivery_page_has_panels_and_no_raw_fields(admin_client, make_delivery, postback_channel):
    delivery = make_delivery(channel=postback_channel, attempts=2, response_status=500)

    html = admin_client.get(reverse("admin:deliveries_delivery_change", args=[delivery.pk])).content.decode()

    assert 'id="delivery-summary"' in html and 'class="timeline attempt-timeline"' in html
    assert "Failed after 2 attempts, no automatic retry: the endpoint answered 500 Internal Server Error" in html
    assert "Pending trigger" not in html and "of delivery" not in html
    assert html.count('class="copy-button"') >= 4
    assert "\n  &quot;eventType&quot;: &quot;order.completed&quot;,\n" in html  # pretty-printed JSON


def test_an_html_response_body_is_shown_as_text(admin_client, make_delivery, postback_channel):
    delivery = make_delivery(channel=postback_channel, attempts=1, response_status=502)
    delivery.attempts.update(
        response_body="<html><script>alert(1)</script></html>", response_headers={"Content-Type": "text/html"}
    )

    html = admin_client.get(reverse("admin:deliveries_delivery_change", args=[delivery.pk])).content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "(HTML, shown as text)" in html


def test_the_channel_page_shows_state_charts_subscriptions_and_attempts(admin_client, make_delivery, postback_channel):
    from channels.models import Subscription

    Subscription.objects.create(event_type_id="order.completed", channel=postback_channel, source_admin=False)
    make_delivery(channel=postback_channel, status=DeliveryStatus.SUCCEEDED, response_status=200)
    make_delivery(channel=postback_channel, status=DeliveryStatus.FAILED, response_status=404)

    page = admin_client.get(reverse("admin:channels_channel_change", args=[postback_channel.pk]))
    html = page.content.decode()

    assert page.context["channel_state"].label == "Active"
    assert html.count("<svg viewBox=") >= 4  # success rate and latency, 24 h and 7 d
    assert "Success rate over 24 h: 50% of 2 finished deliveries" in html
    assert 'id="channel-subscriptions"' in html and "order.completed" in html
    assert 'data-outcome="failed"' in html and "The endpoint answered 404 Not Found." in html
    for action in ("send-test-form", "rotate-secret-link", "set-active-form"):
        assert f'id="{action}"' in html


def test_a_cooling_channel_says_so_with_the_reason(admin_client, postback_channel):
    from django.utils import timezone

    ChannelBreaker.objects.create(
        channel=postback_channel,
        state="open",
        consecutive_failures=5,
        open_until=timezone.now() + timezone.timedelta(minutes=3),
    )

    state = admin_client.get(reverse("admin:channels_channel_change", args=[postback_channel.pk])).context[
        "channel_state"
    ]

    assert state.label == "Cooling off" and state.reason.startswith("5 timeouts or refused connections in a row")


def test_deactivate_from_the_channel_page_needs_change_permission(admin_client, make_staff, postback_channel):
    url = reverse("admin:channels_channel_set_active", args=[postback_channel.pk])
    viewer = make_staff("channels.view_channel")

    assert viewer.post(url).status_code == 403
    assert admin_client.post(url).status_code == 302
    postback_channel.refresh_from_db()
    assert not postback_channel.active
    admin_client.post(url, {"active": "on"})
    postback_channel.refresh_from_db()
    assert postback_channel.active
    assert postback_channel.kind == ChannelKind.POSTBACK


def test_a_search_finds_a_test_send_too(admin_client, make_delivery, postback_channel):
    test_send = make_delivery(
        channel=postback_channel, key="test", status=DeliveryStatus.SUCCEEDED, response_status=200
    )

    found = admin_client.get(LOG, {"q": str(test_send.pk)}).context["cl"].result_list

    assert [d.pk for d in found] == [test_send.pk]


def test_attach_from_the_channel_page_opens_the_attach_form_with_the_channel_chosen(
    admin_client, make_staff, postback_channel
):
    url = reverse("admin:channels_channel_attach", args=[postback_channel.pk])

    response = admin_client.get(url, {"event_type": "order.completed"})

    assert response.status_code == 302
    assert (
        response["Location"]
        == reverse("admin:events_eventtype_attach", args=["order.completed"]) + f"?channel={postback_channel.pk}"
    )
    form = admin_client.get(response["Location"]).context["form"]
    assert str(form.initial["channel"]) == str(postback_channel.pk)
    assert make_staff("channels.view_channel").get(url, {"event_type": "order.completed"}).status_code == 403
    assert admin_client.get(url, {"event_type": "no.such.type"}).status_code == 302
