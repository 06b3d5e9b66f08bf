"""Query-parameter filters of the channels and subscriptions lists."""

import django_filters

from channels.kinds import ChannelKind
from channels.models import Channel, Subscription
from common.api.filters import IdFilter, StrictBooleanFilter, StrictFilterSet
from events.models import Source


class ChannelFilter(StrictFilterSet):
    kind = django_filters.ChoiceFilter(choices=ChannelKind.choices)
    active = StrictBooleanFilter()

    class Meta:
        model = Channel
        fields = ["kind", "active"]


class SubscriptionFilter(StrictFilterSet):
    event_type = django_filters.CharFilter(field_name="event_type_id", max_length=100, help_text="Event type key.")
    channel = IdFilter(field_name="channel_id", help_text="Channel id.")
    active = StrictBooleanFilter()
    source = django_filters.ChoiceFilter(
        choices=Source.choices, method="filter_source", help_text="Subscriptions that include this source."
    )

    class Meta:
        model = Subscription
        fields = ["event_type", "channel", "active", "source"]

    def filter_source(self, queryset, name, value):
        return queryset.filter(**{Subscription.source_field(value): True})
