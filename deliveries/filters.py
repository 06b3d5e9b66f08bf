"""Query-parameter filters of the deliveries list (SPEC section 8) and of the attempts lists (v1.1)."""

import django_filters

from common.api.filters import IdFilter, StrictFilterSet
from deliveries.models import Attempt, Delivery, DeliveryStatus, ErrorKind, Trigger
from deliveries.selectors import ATTEMPT_SUCCEEDED
from events.filters import DATE_HELP, DateTimeFilter
from events.models import Event, Source


class DeliveryFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)
    channel = IdFilter(field_name="channel_id", help_text="Channel id.")
    event = django_filters.UUIDFilter(field_name="event_id", help_text="Event id.")
    event_type = django_filters.CharFilter(field_name="event_type_id", max_length=100, help_text="Event type key.")
    source = django_filters.ChoiceFilter(choices=Source.choices)
    order_ref = django_filters.CharFilter(
        max_length=100, method="filter_order_ref", help_text="Deliveries of events with this `order_ref`."
    )
    created_after = DateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Created at or after this time. " + DATE_HELP
    )
    created_before = DateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Created before this time. " + DATE_HELP
    )

    class Meta:
        model = Delivery
        fields = ["status", "channel", "event", "event_type", "source", "order_ref", "created_after", "created_before"]

    def filter_order_ref(self, queryset, name, value):
        # A semi-join through the events' (order_ref, -created_at) index, not a join on every delivery.
        return queryset.filter(event_id__in=Event.objects.filter(order_ref=value).values("id"))


OUTCOMES = [
    ("succeeded", "Succeeded (2xx, or an e-mail/Slack message handed over)"),
    ("failed", "Failed (another status, or an error)"),
    ("in_flight", "Still waiting for the answer"),
]


class AttemptFilter(StrictFilterSet):
    outcome = django_filters.ChoiceFilter(choices=OUTCOMES, method="filter_outcome")
    status_code = IdFilter(
        field_name="response_status", min_value=100, max_value=599, help_text="The endpoint's HTTP status."
    )
    error = django_filters.ChoiceFilter(choices=ErrorKind.choices, help_text="Why the attempt failed.")
    trigger = django_filters.ChoiceFilter(choices=Trigger.choices)
    created_after = DateTimeFilter(
        field_name="started_at", lookup_expr="gte", help_text="Started at or after this time. " + DATE_HELP
    )
    created_before = DateTimeFilter(
        field_name="started_at", lookup_expr="lt", help_text="Started before this time. " + DATE_HELP
    )

    class Meta:
        model = Attempt
        fields = ["outcome", "status_code", "error", "trigger", "created_after", "created_before"]

    def filter_outcome(self, queryset, name, value):
        if value == "succeeded":
            return queryset.filter(ATTEMPT_SUCCEEDED)
        if value == "failed":
            return queryset.filter(finished_at__isnull=False).exclude(ATTEMPT_SUCCEEDED)
        return queryset.filter(finished_at__isnull=True)
