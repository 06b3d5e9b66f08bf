"""REST representations of event types and events (SPEC section 8).

Input and output serializers are kept apart: inputs only parse and type-check, the
services (``emit``, ``set_event_type_enabled``) decide what is valid.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.api.serializers import StrictSerializer, StrictUUIDField
from events.catalogue.names import formats_of, native_name
from events.models import Event, EventType, Source


class EventTypeSerializer(serializers.ModelSerializer):
    names = serializers.SerializerMethodField()

    class Meta:
        model = EventType
        fields = [
            "key",
            "name",
            "category",
            "description",
            "availability",
            "enabled",
            "critical",
            "manual_retry",
            "postback_only",
            "example_payload",
            "payload_schema",
            "names",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "The type's name in each payload format that names it (SPEC section 12), e.g. "
            '`{"standard": "customer.created", "fakturia": "CUSTOMER_CREATED", "nitrobox": "customer.created"}`. '
            "Only channels of these formats can be attached to it; ingest accepts any of these names.",
        }
    )
    def get_names(self, event_type) -> dict:
        return {f: native_name(event_type.key, f) for f in formats_of(event_type.key)}


class EventTypeUpdateSerializer(StrictSerializer):
    """``PATCH event-types/{key}/``: switch the type on or off."""

    enabled = serializers.BooleanField(
        required=False, help_text="Switch the event type on (events of it are delivered) or off."
    )


@extend_schema_field({"type": "object", "additionalProperties": {}})
class PayloadField(serializers.JSONField):
    """Any JSON on the way in (``emit`` says what is wrong with it); documented as an object."""


class EventSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="type_id", help_text="Event type key, e.g. order.completed.")
    payload = PayloadField()

    class Meta:
        model = Event
        fields = ["id", "type", "source", "payload", "order_ref", "occurred_at", "created_at"]
        read_only_fields = fields


class EventDetailSerializer(EventSerializer):
    deliveries = serializers.SerializerMethodField(help_text="Ids of this event's deliveries.")

    class Meta(EventSerializer.Meta):
        fields = [*EventSerializer.Meta.fields, "deliveries"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_deliveries(self, event) -> list[int]:
        return sorted(d.pk for d in event.deliveries.all())


class EventIngestSerializer(StrictSerializer):
    """``POST events/``: what the caller says happened. ``emit`` validates type, payload and schema."""

    type = serializers.CharField(
        max_length=100,
        help_text="Event type key from `event-types/`, e.g. order.completed, or one of its `names` in a payload "
        "format (CUSTOMER_CREATED is customer.created); the event is stored under the key.",
    )
    source = serializers.ChoiceField(choices=Source.choices, help_text="Where it happened.")
    payload = PayloadField(help_text="A JSON object; must satisfy the event type's `payload_schema` when it has one.")
    id = StrictUUIDField(
        required=False,
        help_text="Your id for this event (the postback's `eventId`). Sending the same id again is idempotent.",
    )
    order_ref = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="The order this event concerns, if any."
    )
    occurred_at = serializers.DateTimeField(required=False, help_text="When it happened; default: now.")


MAX_BATCH_EVENTS = 100


class EventBatchIngestSerializer(StrictSerializer):
    """``POST events/batch/``: up to 100 events, each as ``POST events/`` takes it."""

    events = serializers.ListField(
        child=serializers.DictField(),
        min_length=1,
        max_length=MAX_BATCH_EVENTS,
        help_text=f"1 to {MAX_BATCH_EVENTS} events, each an object as `POST events/` takes it.",
    )


class BatchResultSerializer(serializers.Serializer):
    """For documentation: one item's outcome."""

    index = serializers.IntegerField(help_text="The item's position in `events`, from 0.")
    status = serializers.IntegerField(help_text="As the item would have had alone: 201, 200, 400, 409 or 413.")
    event = EventDetailSerializer(required=False, help_text="201 and 200: the event, with its delivery ids.")
    error = serializers.DictField(required=False, help_text="Otherwise: the error, in the API's error shape.")


class BatchResponseSerializer(serializers.Serializer):
    results = BatchResultSerializer(many=True)
