"""Rules live in the database: these writes bypass forms and must still be refused."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from channels.models import Channel, ChannelKind, Subscription
from channels.services import attach_channel
from events.models import Event, EventType

pytestmark = pytest.mark.django_db


@pytest.fixture
def postback():
    return Channel.objects.create(name="hook", kind=ChannelKind.POSTBACK, url="https://example.com/hook")


@pytest.fixture
def email_channel():
    return Channel.objects.create(name="mail", kind=ChannelKind.EMAIL, email_to="ops@example.com")


def test_a_postback_channel_gets_a_whsec_secret(postback):
    assert postback.secret.startswith("whsec_") and len(postback.secret) > 30


def test_duplicate_subscription_is_refused_by_the_database(postback, event_type):
    Subscription.objects.create(event_type=event_type, channel=postback)
    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.create(event_type=event_type, channel=postback)


def test_subscription_with_no_source_is_refused_by_the_database(postback, event_type):
    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.create(
            event_type=event_type, channel=postback, source_admin=False, source_shop=False, source_funnel=False
        )


@pytest.mark.parametrize("sources", [[], ["shop", "warehouse"], "shop", None])
def test_empty_or_unknown_sources_are_a_field_error(postback, event_type, sources):
    with pytest.raises(ValidationError) as exc:
        attach_channel(event_type=event_type, channel=postback, sources=sources)
    assert "sources" in exc.value.message_dict
    assert not Subscription.objects.exists()


def test_sources_are_stored_as_given(postback, event_type):
    sub = attach_channel(event_type=event_type, channel=postback, sources=["funnel", "admin", "admin"])
    sub.refresh_from_db()
    assert sub.sources == ["admin", "funnel"]


def test_email_channel_cannot_be_attached_to_a_postback_only_type(email_channel):
    customer_created = EventType.objects.get(key="customer.created")
    with pytest.raises(ValidationError) as exc:
        attach_channel(event_type=customer_created, channel=email_channel, sources=["shop"])
    assert "channel" in exc.value.message_dict


def test_postback_channel_can_be_attached_to_a_postback_only_type(postback):
    customer_created = EventType.objects.get(key="customer.created")
    assert attach_channel(event_type=customer_created, channel=postback, sources=["shop"]).pk


def test_timeout_over_the_bound_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        Channel.objects.create(name="slow", url="https://example.com/", timeout=31)


def test_timeout_over_the_setting_is_a_field_error(settings):
    settings.WEBHOOKS_TIMEOUT_S = 10
    channel = Channel(name="slow", url="https://example.com/", timeout=11)
    with pytest.raises(ValidationError) as exc:
        channel.full_clean()
    assert "timeout" in exc.value.message_dict


def test_postback_channel_without_url_is_refused(db):
    with pytest.raises(ValidationError) as exc:
        Channel(name="x", kind=ChannelKind.POSTBACK, url="").full_clean()
    assert "url" in exc.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        Channel.objects.create(name="x", kind=ChannelKind.POSTBACK, url="")


def test_email_channel_needs_valid_recipients():
    with pytest.raises(ValidationError) as exc:
        Channel(name="m", kind=ChannelKind.EMAIL, email_to="not-an-address").full_clean()
    assert "email_to" in exc.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        Channel.objects.create(name="m", kind=ChannelKind.EMAIL, email_to="")


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Evil": "a\r\nInjected: 1"},
        {"Bad Name": "x"},
        {"webhook-signature": "v1,forged"},
        {"Content-Type": "text/plain"},
        {"X-Num": 5},
        ["not", "a", "dict"],
    ],
)
def test_bad_custom_headers_are_a_field_error(headers):
    with pytest.raises(ValidationError) as exc:
        Channel(name="h", url="https://example.com/", headers=headers).full_clean()
    assert "headers" in exc.value.message_dict


def test_event_with_unknown_source_is_refused_by_the_database(event_type):
    from django.utils import timezone

    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(type=event_type, source="warehouse", occurred_at=timezone.now())


def test_event_type_with_unknown_availability_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        EventType.objects.create(key="x.y", name="x", category="c", availability="someday")
