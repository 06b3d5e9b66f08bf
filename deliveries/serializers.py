"""REST representations of deliveries and attempts (SPEC section 8)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.api.serializers import StrictSerializer
from common.masking import MASK
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
            "is_test",
            "created_at",
            "completed_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "is_test": {
                "help_text": "A test send (POST channels/{id}/test/ or the channel page): never retried or resent, "
                "left out of a channel's stats."
            }
        }


class DeliveryDetailSerializer(DeliverySerializer):
    attempts = AttemptSerializer(many=True, read_only=True)

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "attempts"]
        read_only_fields = fields


class TestSendResultSerializer(serializers.ModelSerializer):
    """The outcome of ``POST channels/{id}/test/``: the one attempt that was made."""

    delivery = serializers.IntegerField(source="delivery_id", read_only=True)
    event = serializers.UUIDField(source="delivery.event_id", read_only=True)
    event_type = serializers.CharField(
        source="delivery.event_type_id", read_only=True, help_text="The event type that was sent."
    )
    succeeded = serializers.BooleanField(read_only=True, help_text="The endpoint answered 2xx.")
    error = error_kind_field(help_text="Empty when the endpoint answered; else why the attempt failed.")

    class Meta:
        model = Attempt
        fields = [
            "delivery",
            "event",
            "event_type",
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


class TestSendInputSerializer(StrictSerializer):
    event_type = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="The catalogue key of the event type to send, with its example payload (default `test`): "
        "`test`, or any enabled type the channel's payload format names (a `flat` channel carries "
        "`document.status_changed` and `invoice.status_changed` only); postback-only types to postback "
        "channels only. Anything else is refused with 400 naming `event_type`.",
    )


class ResendInputSerializer(StrictSerializer):
    """``POST events/{id}/resend/``: send the event again to one channel attached to its type."""

    channel = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, help_text="A channel attached to the event's type."
    )


class RecoverInputSerializer(StrictSerializer):
    """``POST channels/{id}/recover/``: what to resend to the channel."""

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


# --- Attempts lists and channel statistics (v1.1) ----------------------------------------

MAX_SHOWN_HEADERS = 50
MAX_SHOWN_HEADER_CHARS = 1000
MAX_SHOWN_BODY_CHARS = 4096
# Headers whose values are credentials or could be replayed: never shown, whoever asks.
MASKED_REQUEST_HEADERS = frozenset({"webhook-signature", "authorization", "proxy-authorization", "cookie"})


def shown_headers(headers, *, masked=frozenset()) -> dict:
    """Headers as the attempts list shows them: at most ``MAX_SHOWN_HEADERS``, values cut, credentials masked."""
    shown = {}
    for name, value in list((headers or {}).items())[:MAX_SHOWN_HEADERS]:
        value = str(value)
        shown[str(name)] = MASK if str(name).lower() in masked else value[:MAX_SHOWN_HEADER_CHARS]
    return shown


@extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
class HeadersOut(serializers.DictField):
    pass


class AttemptLogSerializer(serializers.ModelSerializer):
    """One attempt in ``GET deliveries/{id}/attempts/`` and ``GET channels/{id}/attempts/``."""

    delivery = serializers.IntegerField(source="delivery_id", read_only=True)
    event = serializers.UUIDField(source="delivery.event_id", read_only=True)
    channel = serializers.IntegerField(source="delivery.channel_id", read_only=True)
    triggered_by = serializers.CharField(
        source="triggered_by.username",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="Who asked for it (manual retries, test sends); null for the platform's own attempts.",
    )
    succeeded = serializers.BooleanField(read_only=True)
    in_flight = serializers.SerializerMethodField(help_text="Sent, and the answer has not come yet.")
    error = error_kind_field(help_text="Empty when the endpoint answered; else why the attempt failed.")
    request_headers = serializers.SerializerMethodField(
        help_text="The headers sent; custom header values, `webhook-signature` and credentials read `***`."
    )
    response_headers = serializers.SerializerMethodField(
        help_text=f"The endpoint's answer headers (at most {MAX_SHOWN_HEADERS}, values cut at "
        f"{MAX_SHOWN_HEADER_CHARS} characters)."
    )
    response_body = serializers.SerializerMethodField(
        help_text=f"The first {MAX_SHOWN_BODY_CHARS} characters of the endpoint's answer."
    )

    class Meta:
        model = Attempt
        fields = [
            "id",
            "delivery",
            "event",
            "channel",
            "number",
            "trigger",
            "triggered_by",
            "started_at",
            "finished_at",
            "duration_ms",
            "succeeded",
            "in_flight",
            "request_url",
            "request_headers",
            "response_status",
            "response_headers",
            "response_body",
            "error",
            "error_detail",
        ]
        read_only_fields = fields

    def get_in_flight(self, attempt) -> bool:
        return attempt.finished_at is None

    @extend_schema_field(HeadersOut)
    def get_request_headers(self, attempt) -> dict:
        return shown_headers(attempt.request_headers, masked=MASKED_REQUEST_HEADERS)

    @extend_schema_field(HeadersOut)
    def get_response_headers(self, attempt) -> dict:
        return shown_headers(attempt.response_headers, masked=frozenset({"set-cookie"}))

    def get_response_body(self, attempt) -> str:
        return (attempt.response_body or "")[:MAX_SHOWN_BODY_CHARS]


class StatsWindowSerializer(serializers.Serializer):
    window = serializers.ChoiceField(
        choices=["1h", "24h", "7d"], default="24h", help_text="The period before now the figures cover."
    )


class BreakerSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["closed", "open", "half_open"])
    consecutive_failures = serializers.IntegerField()
    open_until = serializers.DateTimeField(allow_null=True)


class ChannelStatsSerializer(serializers.Serializer):
    channel = serializers.IntegerField()
    window = serializers.ChoiceField(choices=["1h", "24h", "7d"])
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    attempts = serializers.IntegerField(help_text="Attempts started in the window, test sends not counted.")
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    in_flight = serializers.IntegerField()
    success_rate = serializers.FloatField(
        allow_null=True, help_text="succeeded / (succeeded + failed), 0 to 1; null when none finished."
    )
    p50_duration_ms = serializers.IntegerField(allow_null=True, help_text="Median duration of finished attempts.")
    p95_duration_ms = serializers.IntegerField(allow_null=True, help_text="95th percentile (nearest rank).")
    last_success_at = serializers.DateTimeField(
        allow_null=True,
        help_text="Start of the latest successful attempt ever (within retention), not only in the window: "
        "when the endpoint last worked. Null: never.",
    )
    last_failure_at = serializers.DateTimeField(
        allow_null=True,
        help_text="Start of the latest failed attempt ever (within retention), not only in the window. Null: never.",
    )
    active = serializers.BooleanField(help_text="The channel sends (false: deactivated by staff or auto-disable).")
    disabled_at = serializers.DateTimeField(allow_null=True, help_text="When auto-disable switched it off.")
    disabled_reason = serializers.CharField(allow_blank=True)
    breaker = BreakerSerializer(help_text="The circuit breaker now (SPEC section 5).")
