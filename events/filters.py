"""Query-parameter filters of the events and event-types lists (SPEC section 8: names as the fields)."""

import datetime as dt

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField

from common.api.filters import StrictBooleanFilter, StrictFilterSet
from events.models import Availability, Event, EventType, Source


class UtcRepresentableDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, given to the database in UTC.

    In UTC because PostgreSQL refuses offsets beyond 15:59 that Python accepts; and one
    that exists in UTC (``0001-01-01T00:00+01:00`` does not).
    """

    def to_python(self, value):
        value = super().to_python(value)
        if value is not None:
            try:
                value = value.astimezone(dt.UTC)
            except (OverflowError, ValueError) as exc:
                raise ValidationError("Enter a date-time between the years 1 and 9999 (UTC).", code="invalid") from exc
        return value


DATE_HELP = "ISO 8601 date-time, e.g. `2026-11-23T10:15:00Z` (a date alone is midnight UTC)."


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcRepresentableDateTimeField


class EventTypeFilter(StrictFilterSet):
    category = django_filters.CharFilter(help_text="Exact category name, e.g. Orders.")
    availability = django_filters.ChoiceFilter(choices=Availability.choices)
    enabled = StrictBooleanFilter()
    manual_retry = StrictBooleanFilter()
    postback_only = StrictBooleanFilter()

    class Meta:
        model = EventType
        fields = ["category", "availability", "enabled", "manual_retry", "postback_only"]


class EventFilter(StrictFilterSet):
    # Plain strings, not model choices: an unknown type simply matches nothing,
    # without a query to validate it.
    type = django_filters.CharFilter(field_name="type_id", max_length=100, help_text="Event type key.")
    source = django_filters.ChoiceFilter(choices=Source.choices)
    order_ref = django_filters.CharFilter(max_length=100, help_text="Events concerning this order.")
    created_after = DateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Received at or after this time. " + DATE_HELP
    )
    created_before = DateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Received before this time. " + DATE_HELP
    )

    class Meta:
        model = Event
        fields = ["type", "source", "order_ref", "created_after", "created_before"]
