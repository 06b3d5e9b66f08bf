"""Query-parameter filters of the deliveries list (SPEC section 8: status, channel, event, event_type)."""

import django_filters

from common.api.filters import IdFilter
from deliveries.models import Delivery, DeliveryStatus
from events.models import Source


class DeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)
    channel = IdFilter(field_name="channel_id", help_text="Channel id.")
    event = django_filters.UUIDFilter(field_name="event_id", help_text="Event id.")
    event_type = django_filters.CharFilter(field_name="event_type_id", max_length=100, help_text="Event type key.")
    source = django_filters.ChoiceFilter(choices=Source.choices)

    class Meta:
        model = Delivery
        fields = ["status", "channel", "event", "event_type", "source"]
