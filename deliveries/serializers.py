"""REST representations of deliveries and attempts (SPEC section 8)."""

from rest_framework import serializers

from common.api.serializers import StrictSerializer
from deliveries.models import Attempt, Delivery, ErrorKind, RecoverJob


def error_kind_field(**kwargs):
    # Declared, because a read-only model field loses allow_blank and the schema would
    # then refuse the "" of an attempt without error.
    return serializers.ChoiceField(choices=ErrorKind.choices, allow_blank=True, read_only=True, **kwargs)


class AttemptSerializer(serializers.ModelSerializer):
    error = error_kind_field(help_text="Empty when the endpoint answered; else why the attempt failed.")

    class Meta:
        model = Attempt
        fields = ["number", "trigger", "started_at", "duration_ms", "response_status", "error", "error_detail"]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    event_type = serializers.CharField(source="event_type_id", read_only=True)
    last_error = error_kind_field()

    class Meta:
        model = Delivery
        fields = [
            "id",
            "event",
            "event_type",
            "source",
            "channel",
            "subscription",
            "status",
            "attempt_count",
            "next_attempt_at",
            "pending_trigger",
            "last_response_status",
            "last_error",
            "failure_reason",
            "created_at",
            "completed_at",
        ]
        read_only_fields = fields


class DeliveryDetailSerializer(DeliverySerializer):
    attempts = AttemptSerializer(many=True, read_only=True)

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "attempts"]
        read_only_fields = fields


class TestSendResultSerializer(serializers.ModelSerializer):
    """The outcome of ``POST channels/{id}/test/``: the one attempt that was made."""

    delivery = serializers.IntegerField(source="delivery_id", read_only=True)
    event = serializers.UUIDField(source="delivery.event_id", read_only=True)
    succeeded = serializers.BooleanField(read_only=True, help_text="The endpoint answered 2xx.")
    error = error_kind_field(help_text="Empty when the endpoint answered; else why the attempt failed.")

    class Meta:
        model = Attempt
        fields = [
            "delivery",
            "event",
            "succeeded",
            "number",
            "trigger",
            "started_at",
            "duration_ms",
            "response_status",
            "error",
            "error_detail",
        ]
        read_only_fields = fields


class ResendInputSerializer(StrictSerializer):
    channel = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, help_text="A channel attached to the event's type."
    )


class RecoverInputSerializer(StrictSerializer):
    since = serializers.DateTimeField(help_text="Resend what failed from this time on (ISO 8601, with time zone).")
    until = serializers.DateTimeField(required=False, allow_null=True, help_text="Up to this time (default: now).")
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        default=list,
        max_length=200,
        help_text="Only these event type keys (default: all).",
    )
    reenable = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Re-enable the channel if it is disabled (else a disabled one is refused).",
    )


class RecoverJobSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = RecoverJob
        fields = [
            "id",
            "channel",
            "status",
            "since",
            "until",
            "event_types",
            "total",
            "done",
            "resent",
            "skipped",
            "percent",
            "summary",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields
