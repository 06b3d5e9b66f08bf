"""The admin side of SPEC section 10: the banner on every page, one-click re-enable, open alerts, critical types."""

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from channels.models import Channel
from deliveries.models import Alert
from events.models import EventType

pytestmark = pytest.mark.django_db


@pytest.fixture
def disabled(postback_channel):
    Channel.objects.filter(pk=postback_channel.pk).update(
        active=False, disabled_at=timezone.now(), disabled_reason="Every attempt in the last 120 h failed."
    )
    postback_channel.refresh_from_db()
    return postback_channel


def change_url(channel):
    return reverse("admin:channels_channel_change", args=[channel.pk])


@pytest.mark.parametrize(
    "page",
    [
        "admin:index",
        "admin:deliveries_delivery_changelist",
        "admin:events_eventtype_changelist",
        "admin:channels_channel_changelist",
        "admin:admin_logentry_changelist",
    ],
)
def test_every_admin_page_shows_the_banner_while_a_channel_is_disabled_automatically(admin_client, disabled, page):
    html = admin_client.get(reverse(page)).content.decode()
    assert 'id="disabled-channels-banner"' in html
    assert change_url(disabled) in html and "Shop backend" in html


def test_no_banner_for_a_channel_switched_off_by_hand_or_once_re_enabled(admin_client, postback_channel):
    Channel.objects.filter(pk=postback_channel.pk).update(active=False)
    assert "disabled-channels-banner" not in admin_client.get(reverse("admin:index")).content.decode()
    Channel.objects.filter(pk=postback_channel.pk).update(
        active=True, disabled_at=timezone.now(), reenabled_at=timezone.now()
    )
    assert "disabled-channels-banner" not in admin_client.get(reverse("admin:index")).content.decode()


def test_re_enable_is_one_csrf_protected_post_behind_the_change_permission(make_staff, disabled):
    url = reverse("admin:channels_channel_reenable", args=[disabled.pk])
    viewer = make_staff("channels.view_channel")
    page = viewer.get(change_url(disabled)).content.decode()
    assert 'id="auto-disabled"' in page and disabled.disabled_reason in page
    assert 'id="reenable-form"' not in page
    assert viewer.post(url).status_code == 403

    no_csrf = make_staff("channels.view_channel", "channels.change_channel", enforce_csrf_checks=True)
    assert no_csrf.post(url).status_code == 403

    editor = make_staff("channels.view_channel", "channels.change_channel")
    assert 'id="reenable-form"' in editor.get(change_url(disabled)).content.decode()
    assert editor.get(url).status_code == 405
    disabled.refresh_from_db()
    assert not disabled.active

    response = editor.post(url, follow=True)

    disabled.refresh_from_db()
    assert disabled.active and disabled.reenabled_at is not None
    html = response.content.decode()
    assert 'id="recover-since-disabled"' in html and "disabled-channels-banner" not in html
    assert 'id="recover-offer"' in html
    assert LogEntry.objects.filter(object_id=str(disabled.pk), user=editor.user).exists()


def test_the_recover_link_starts_from_when_the_channel_was_disabled(admin_client, disabled):
    from deliveries.templatetags.operations_status import recover_since_url

    url = recover_since_url(disabled)
    try:
        form = reverse("admin:channels_channel_recover", args=[disabled.pk])
    except Exception:  # the recover form is another branch's: the failed deliveries stand in for it
        assert url.startswith(reverse("admin:deliveries_delivery_changelist"))
        assert f"channel__id__exact={disabled.pk}" in url and "status__exact=failed" in url
    else:
        assert url.startswith(form + "?since=2")
    assert admin_client.get(url).status_code == 200


def test_the_dashboard_lists_open_alerts_to_staff_who_may_view_deliveries(
    make_staff, admin_client, postback_channel, make_delivery
):
    delivery = make_delivery(channel=postback_channel)
    alert = Alert.objects.create(channel=postback_channel, raised_at=timezone.now())
    alert.deliveries.add(delivery)
    Alert.objects.create(
        channel=Channel.objects.create(name="Old", url="http://127.0.0.1:9/x"),
        raised_at=timezone.now(),
        cleared_at=timezone.now(),
    )

    html = admin_client.get(reverse("admin:index")).content.decode()
    assert 'id="open-alerts"' in html and f'data-alert="{alert.pk}"' in html and "1 delivery" in html
    assert html.count("data-alert=") == 1

    outsider = make_staff("channels.view_channel")
    assert 'id="open-alerts"' not in outsider.get(reverse("admin:index")).content.decode()


def test_critical_is_shown_and_switched_on_the_type_page(make_staff, admin_client):
    url = reverse("admin:events_eventtype_critical", args=["contact.created"])
    page = admin_client.get(reverse("admin:events_eventtype_change", args=["order.completed"])).content.decode()
    assert "badge-critical" in page and 'id="critical-form"' in page

    viewer = make_staff("events.view_eventtype")
    assert viewer.post(url, {"critical": "on"}).status_code == 403
    assert admin_client.get(url).status_code == 405
    assert admin_client.post(url, {"critical": "maybe"}, follow=True).status_code == 200
    assert not EventType.objects.get(pk="contact.created").critical

    admin_client.post(url, {"critical": "on"})

    assert EventType.objects.get(pk="contact.created").critical
    assert LogEntry.objects.filter(object_id="contact.created", change_message="Marked critical.").exists()
