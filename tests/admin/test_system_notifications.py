"""System notifications (seed 004): the catalogue with switches, a type's channels, attach/edit/delete."""

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from channels.models import Channel, ChannelKind, Subscription
from events.models import EventType

pytestmark = pytest.mark.django_db

CATALOGUE_URL = reverse("admin:events_eventtype_changelist")


def toggle_url(key):
    return reverse("admin:events_eventtype_toggle", args=[key])


def type_url(key):
    return reverse("admin:events_eventtype_change", args=[key])


def attach_url(key):
    return reverse("admin:events_eventtype_attach", args=[key])


def test_catalogue_lists_every_type_by_category_with_channel_counts(admin_client, postback_channel):
    # given a channel attached to order.completed
    Subscription.objects.create(event_type_id="order.completed", channel=postback_channel)

    # when staff open System notifications
    response = admin_client.get(CATALOGUE_URL)

    # then every type is there, in its category, with its switch and channel count
    assert response.status_code == 200
    html = response.content.decode()
    for event_type in EventType.objects.all():
        assert f'id="type-{event_type.key}"' in html
    categories = {c.name for c in response.context["categories"]}
    assert categories == set(EventType.objects.values_list("category", flat=True))
    counts = {et.key: et.channel_count for c in response.context["categories"] for et in c.event_types}
    assert counts["order.completed"] == 1
    assert counts["contact.created"] == 0
    assert html.count('role="switch"') == EventType.objects.count()


def test_catalogue_query_count_does_not_grow_with_subscriptions(admin_client, django_assert_max_num_queries):
    # given many channels attached to many types
    for i, event_type in enumerate(EventType.objects.exclude(postback_only=True)[:20]):
        channel = Channel.objects.create(name=f"c{i}", kind=ChannelKind.POSTBACK, url=f"http://127.0.0.1:9/{i}")
        Subscription.objects.create(event_type=event_type, channel=channel)

    # then the page is a fixed handful of queries (session, user, types, counts)
    with django_assert_max_num_queries(6):
        assert admin_client.get(CATALOGUE_URL).status_code == 200


def test_switching_a_type_on_answers_json_to_fetch_and_logs_it(admin_client):
    # given a type that is off
    EventType.objects.filter(key="refund.applied").update(enabled=False)

    # when the page's fetch() posts the switch
    response = admin_client.post(toggle_url("refund.applied"), {"enabled": "on"}, HTTP_ACCEPT="application/json")

    # then it is on, the answer says so, and the admin log records who did it
    assert response.status_code == 200
    assert response.json() == {"key": "refund.applied", "enabled": True}
    assert EventType.objects.get(key="refund.applied").enabled is True
    assert LogEntry.objects.filter(object_id="refund.applied", change_message="Switched on.").exists()


def test_switch_without_javascript_redirects_back_with_a_message(admin_client):
    EventType.objects.filter(key="refund.applied").update(enabled=True)

    response = admin_client.post(toggle_url("refund.applied"), {"enabled": "off"}, follow=True)

    assert response.redirect_chain[-1][0].startswith(CATALOGUE_URL)
    assert "Refund applied switched off." in response.content.decode()
    assert EventType.objects.get(key="refund.applied").enabled is False


def test_switch_refuses_get_and_bad_values(admin_client):
    assert admin_client.get(toggle_url("refund.applied")).status_code == 405
    response = admin_client.post(toggle_url("refund.applied"), {"enabled": "maybe"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert admin_client.post(toggle_url("no.such.type"), {"enabled": "on"}).status_code == 404


def test_switch_needs_the_change_permission(make_staff):
    # given staff who may only look at the catalogue
    client = make_staff("events.view_eventtype")
    EventType.objects.filter(key="refund.applied").update(enabled=False)

    # then the page shows disabled switches, and a forged POST is refused
    page = client.get(CATALOGUE_URL).content.decode()
    assert 'disabled title="You may not change this."' in page
    assert client.post(toggle_url("refund.applied"), {"enabled": "on"}).status_code == 403
    assert EventType.objects.get(key="refund.applied").enabled is False


def test_switch_post_without_csrf_token_is_rejected(make_staff):
    client = make_staff("events.view_eventtype", "events.change_eventtype", enforce_csrf_checks=True)
    EventType.objects.filter(key="refund.applied").update(enabled=False)

    response = client.post(toggle_url("refund.applied"), {"enabled": "on"})

    assert response.status_code == 403
    assert EventType.objects.get(key="refund.applied").enabled is False


def test_on_demand_type_cannot_be_switched_on_without_its_permission(make_staff):
    # given an on-demand type and staff who may change types but not enable on-demand ones
    on_demand = EventType.objects.filter(availability="on_demand").first()
    assert on_demand is not None, "the catalogue has on-demand types (seed 000)"
    EventType.objects.filter(pk=on_demand.pk).update(enabled=False)
    client = make_staff("events.view_eventtype", "events.change_eventtype")

    # then its switch is disabled with the reason, and the POST is refused
    page = client.get(CATALOGUE_URL).content.decode()
    row = page.split(f'id="type-{on_demand.key}"')[1].split("</tr>")[0]
    assert "On demand" in row and "Available on demand" in row and "disabled" in row
    response = client.post(toggle_url(on_demand.key), {"enabled": "on"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 403
    assert "on demand" in response.json()["error"]
    assert EventType.objects.get(pk=on_demand.pk).enabled is False

    # and staff who hold the permission can
    allowed = make_staff("events.view_eventtype", "events.change_eventtype", "events.enable_on_demand")
    assert allowed.post(toggle_url(on_demand.key), {"enabled": "on"}).status_code == 302
    assert EventType.objects.get(pk=on_demand.pk).enabled is True


def test_type_page_lists_its_channels_with_sources_and_row_actions(admin_client, postback_channel, email_channel):
    sub = Subscription.objects.create(event_type_id="order.completed", channel=postback_channel)
    sub.sources = ["shop", "funnel"]
    sub.save()

    response = admin_client.get(type_url("order.completed"))

    html = response.content.decode()
    assert response.status_code == 200
    row = html.split(f'data-subscription="{sub.pk}"')[1].split("</tr>")[0]
    assert "Shop backend" in row and "Shop" in row and "Funnel" in row and "Admin" not in row
    assert reverse("admin:events_eventtype_edit_subscription", args=["order.completed", sub.pk]) in row
    assert reverse("admin:events_eventtype_delete_subscription", args=["order.completed", sub.pk]) in row
    assert "Sales inbox" not in html
    assert 'id="attach-channel"' in html


def test_attach_a_channel_with_two_sources(admin_client, postback_channel):
    # when staff attach the channel for shop and funnel
    response = admin_client.post(
        attach_url("order.completed"), {"channel": postback_channel.pk, "sources": ["shop", "funnel"]}
    )

    # then the subscription exists with exactly those sources, and staff are back on the type's page
    assert response.status_code == 302
    assert response["Location"] == type_url("order.completed")
    subscription = Subscription.objects.get(event_type_id="order.completed", channel=postback_channel)
    assert subscription.sources == ["shop", "funnel"]
    # the audit trail records it on the subscription (shown on the type's page too)
    assert LogEntry.objects.filter(
        object_id=str(subscription.pk), change_message__startswith="Attached channel"
    ).exists()


def test_attach_without_sources_shows_a_form_error_and_writes_nothing(admin_client, postback_channel):
    response = admin_client.post(attach_url("order.completed"), {"channel": postback_channel.pk})

    assert response.status_code == 200
    assert response.context["form"].errors["sources"] == ["Choose at least one source (admin, shop, funnel)."]
    assert not Subscription.objects.exists()


def test_postback_only_types_offer_only_postback_channels(admin_client, postback_channel, email_channel):
    # given a postback-only type (seed 004: customer.created)
    assert EventType.objects.get(key="customer.created").postback_only

    # then the form lists only the postback channel, and a forged email channel is a form error
    page = admin_client.get(attach_url("customer.created"))
    assert list(page.context["form"].fields["channel"].queryset) == [postback_channel]
    response = admin_client.post(attach_url("customer.created"), {"channel": email_channel.pk, "sources": ["shop"]})
    assert response.status_code == 200
    assert "channel" in response.context["form"].errors
    assert not Subscription.objects.exists()


def test_attach_form_hides_channels_already_attached(admin_client, postback_channel, email_channel):
    Subscription.objects.create(event_type_id="order.completed", channel=postback_channel)

    page = admin_client.get(attach_url("order.completed"))

    assert list(page.context["form"].fields["channel"].queryset) == [email_channel]


def test_create_a_channel_from_the_attach_form_and_come_back_with_it_selected(admin_client):
    # given the attach form's link to create a channel
    page = admin_client.get(attach_url("order.completed")).content.decode()
    create_url = reverse("admin:channels_channel_add") + "?next=" + attach_url("order.completed").replace("/", "%2F")
    assert create_url in page

    # when staff create a postback channel from there
    response = admin_client.post(
        reverse("admin:channels_channel_add") + f"?kind=postback&next={attach_url('order.completed')}",
        {
            "name": "New CRM",
            "kind": "postback",
            "url": "http://127.0.0.1:9/crm",
            "headers": "{}",
            "timeout": 10,
            "active": "on",
        },
    )

    # then they are back on the attach form with the new channel chosen
    channel = Channel.objects.get(name="New CRM")
    assert response.status_code == 302
    assert response["Location"] == f"{attach_url('order.completed')}?channel={channel.pk}"
    form = admin_client.get(response["Location"]).context["form"]
    assert str(form.initial["channel"]) == str(channel.pk)


def test_attach_needs_the_add_subscription_permission(make_staff, postback_channel):
    client = make_staff("events.view_eventtype")

    assert "attach-channel" not in client.get(type_url("order.completed")).content.decode()
    assert client.get(attach_url("order.completed")).status_code == 403
    response = client.post(attach_url("order.completed"), {"channel": postback_channel.pk, "sources": ["shop"]})
    assert response.status_code == 403
    assert not Subscription.objects.exists()


def test_edit_changes_only_the_sources(admin_client, postback_channel):
    sub = Subscription.objects.create(event_type_id="order.completed", channel=postback_channel)
    url = reverse("admin:events_eventtype_edit_subscription", args=["order.completed", sub.pk])

    assert admin_client.get(url).context["form"].initial["sources"] == ["admin", "shop", "funnel"]
    response = admin_client.post(url, {"sources": ["admin"], "active": "on"})

    assert response.status_code == 302
    sub.refresh_from_db()
    assert sub.sources == ["admin"] and sub.active and sub.channel == postback_channel


def test_edit_to_no_sources_is_a_form_error(admin_client, postback_channel):
    sub = Subscription.objects.create(event_type_id="order.completed", channel=postback_channel)
    url = reverse("admin:events_eventtype_edit_subscription", args=["order.completed", sub.pk])

    response = admin_client.post(url, {"active": "on"})

    assert response.status_code == 200
    assert "sources" in response.context["form"].errors
    sub.refresh_from_db()
    assert sub.sources == ["admin", "shop", "funnel"]


def test_subscription_urls_of_another_type_are_404(admin_client, postback_channel):
    sub = Subscription.objects.create(event_type_id="order.completed", channel=postback_channel)
    url = reverse("admin:events_eventtype_edit_subscription", args=["refund.applied", sub.pk])
    assert admin_client.get(url).status_code == 404


def test_delete_asks_for_confirmation_then_removes(admin_client, postback_channel):
    sub = Subscription.objects.create(event_type_id="order.completed", channel=postback_channel)
    url = reverse("admin:events_eventtype_delete_subscription", args=["order.completed", sub.pk])

    # a GET only asks
    page = admin_client.get(url)
    assert page.status_code == 200 and "Are you sure?" in page.content.decode()
    assert Subscription.objects.filter(pk=sub.pk).exists()

    # the POST removes it and goes back to the type's page
    response = admin_client.post(url)
    assert response.status_code == 302 and response["Location"] == type_url("order.completed")
    assert not Subscription.objects.filter(pk=sub.pk).exists()


def test_delete_needs_its_permission(make_staff, postback_channel):
    sub = Subscription.objects.create(event_type_id="order.completed", channel=postback_channel)
    client = make_staff("events.view_eventtype", "channels.change_subscription")
    url = reverse("admin:events_eventtype_delete_subscription", args=["order.completed", sub.pk])

    assert client.post(url).status_code == 403
    assert Subscription.objects.filter(pk=sub.pk).exists()
