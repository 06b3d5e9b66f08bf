"""REST representations of channels and subscriptions (SPEC section 8).

The signing secret is never part of a channel's representation; only the answers that
create or rotate it carry it (``ChannelCreatedSerializer``, ``RotatedSecretSerializer``).
Custom header values are shown in clear only to users who may reveal secrets
(``channels.masking.headers_for``; the request comes in the serializer's context).
Validation of URLs, targets, headers and sources is the models' and services' job
(``channels.validation``); these serializers only parse.
"""

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from channels.kinds import ChannelKind
from channels.masking import headers_for
from channels.models import MAX_TIMEOUT_S, Channel, Subscription
from channels.secrets import SECRET_PREFIX
from channels.validation import (
    MAX_DESCRIPTION_CHARS,
    MAX_HEADER_NAME_CHARS,
    MAX_HEADER_VALUE_CHARS,
    MAX_HEADERS,
    MAX_HEADERS_TOTAL_BYTES,
    MAX_METADATA_KEY_CHARS,
    MAX_METADATA_KEYS,
    MAX_METADATA_VALUE_CHARS,
    MAX_SECRET_BYTES,
    MIN_SECRET_BYTES,
    RESERVED_HEADERS,
    SECRET_PATTERN,
)
from common.api.serializers import StrictSerializer
from events.formats import EXPLANATIONS, PayloadFormat
from events.models import EventType, Source

FORMAT_HELP = "Postback channels: the body's format (SPEC section 12), default standard. " + " ".join(
    f"`{value}`: {EXPLANATIONS[value]}" for value in PayloadFormat.values
)


@extend_schema_field(
    {
        "type": "object",
        "maxProperties": MAX_HEADERS,
        # Latin-1 without control characters other than tab (RFC 9110 5.5).
        "additionalProperties": {
            "type": "string",
            "maxLength": MAX_HEADER_VALUE_CHARS,
            "pattern": "^[\\t\\x20-\\x7e\\u0080-\\u00ff]*$",
        },
        "description": (
            "Extra HTTP headers sent with each postback (name to value). Values read `***` unless you have "
            "`channels.reveal_secret`; sending `***` back for a header keeps its stored value. Names are "
            f"HTTP tokens of up to {MAX_HEADER_NAME_CHARS} characters other than the ones the service sets ({', '.join(sorted(RESERVED_HEADERS))}, in any "
            f"case); values Latin-1 without control characters; at most {MAX_HEADERS_TOTAL_BYTES} bytes together."
        ),
    }
)
class HeadersField(serializers.JSONField):
    """Any JSON on the way in (``validate_headers`` names what is wrong); documented as an object of strings."""


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {
            "anyOf": [
                {"type": "string", "maxLength": MAX_METADATA_VALUE_CHARS},
                {"type": "number"},
                {"type": "boolean"},
            ],
            "nullable": True,
        },
        "maxProperties": MAX_METADATA_KEYS,
        "description": (
            f"Your own keys and values, stored and shown, never sent: at most {MAX_METADATA_KEYS} keys of up to "
            f"{MAX_METADATA_KEY_CHARS} characters, each value a string (up to {MAX_METADATA_VALUE_CHARS} "
            "characters), number, boolean or null."
        ),
        "example": {"tenant": "acme", "environment": "staging"},
    }
)
class MetadataField(serializers.JSONField):
    """Any JSON on the way in (``validate_metadata`` names what is wrong); documented as a flat object."""


SECRET_HELP = (
    f"Your own signing secret instead of a generated one: `{SECRET_PREFIX}` followed by standard base64 of "
    f"{MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} random bytes (e.g. `{SECRET_PREFIX}` + "
    "`base64(os.urandom(32))`). Never shown back."
)


class ChannelSerializer(serializers.ModelSerializer):
    headers = HeadersField(required=False)
    metadata = MetadataField(required=False)
    secret_rotated_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When the signing secret was last rotated (null: never)."
    )
    previous_secret_expires_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="Until then postbacks also carry signatures made with the secrets replaced by rotations "
        "(each keeps its own overlap); null or past: only the current secret signs.",
    )
    format = serializers.ChoiceField(choices=PayloadFormat.choices, read_only=True, help_text=FORMAT_HELP)
    # Not the model's URLField: email channels have none, and "" is not a URI.
    url = serializers.CharField(read_only=True, help_text="Postback or Slack incoming-webhook URL; empty for email.")
    breaker = serializers.SerializerMethodField(
        help_text="The circuit breaker (SPEC section 5): `closed` (sending), `open` (cooling off until "
        "`open_until`: deliveries wait, spending no attempt) or `half_open` (one probe in flight)."
    )

    class Meta:
        model = Channel
        fields = [
            "id",
            "name",
            "description",
            "metadata",
            "kind",
            "url",
            "email_to",
            "format",
            "headers",
            "timeout",
            "active",
            # Auto-disable (SPEC section 10): when and why the platform switched the channel off.
            "disabled_at",
            "disabled_reason",
            "reenabled_at",
            "breaker",
            "secret_rotated_at",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "state": {"type": "string", "enum": ["closed", "open", "half_open"]},
                "consecutive_failures": {"type": "integer"},
                "open_until": {"type": "string", "format": "date-time", "nullable": True},
            },
        }
    )
    def get_breaker(self, channel) -> dict:
        state = getattr(channel, "breaker", None)  # the engine's row (deliveries); none: never failed
        if state is None:
            return {"state": "closed", "consecutive_failures": 0, "open_until": None}
        until = state.open_until.isoformat().replace("+00:00", "Z") if state.open_until else None
        return {"state": state.state, "consecutive_failures": state.consecutive_failures, "open_until": until}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        data["headers"] = headers_for(data.get("headers"), user=getattr(request, "user", None))
        return data


class ChannelCreatedSerializer(ChannelSerializer):
    secret = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="The generated `whsec_` signing secret (postback channels). Shown only in this answer: store it "
        "now. `null` when you sent your own `secret` (it is never echoed); empty for e-mail and Slack channels.",
    )

    class Meta(ChannelSerializer.Meta):
        fields = [*ChannelSerializer.Meta.fields, "secret"]
        read_only_fields = fields


@extend_schema_field({"type": "string", "pattern": SECRET_PATTERN, "maxLength": 200})
class SecretField(serializers.CharField):
    """A custom signing secret: parsed as a string, checked by ``channels.validation.validate_custom_secret``.

    The schema states the same rule as a pattern, so a client (or the fuzzer) knows which secrets are valid.
    """

    def __init__(self, **kwargs):
        super().__init__(write_only=True, required=False, max_length=200, trim_whitespace=False, **kwargs)


class ChannelInputSerializer(StrictSerializer):
    """Create (``POST``) and change (``PATCH``) a channel. ``kind`` is fixed once created."""

    name = serializers.CharField(max_length=200)
    description = serializers.CharField(
        max_length=MAX_DESCRIPTION_CHARS, required=False, allow_blank=True, help_text="What this channel is for."
    )
    metadata = MetadataField(required=False)
    kind = serializers.ChoiceField(choices=ChannelKind.choices, default=ChannelKind.POSTBACK)
    url = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        help_text="Postback or Slack incoming-webhook URL (http or https, not an internal address).",
    )
    email_to = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, help_text="Email channels: comma-separated recipients."
    )
    format = serializers.ChoiceField(choices=PayloadFormat.choices, required=False, help_text=FORMAT_HELP)
    headers = HeadersField(required=False)
    timeout = serializers.IntegerField(
        min_value=1, max_value=MAX_TIMEOUT_S, required=False, help_text="Seconds to wait for the endpoint's answer."
    )
    active = serializers.BooleanField(required=False)
    secret = SecretField(
        help_text=SECRET_HELP + " On create only; to change it later use `POST channels/{id}/rotate-secret/`.",
    )


class ChannelChangeSerializer(ChannelInputSerializer):
    """For the schema of ``PATCH``: the input without ``secret``, which a change refuses (400 naming it, with the
    way to rotate it). The view parses with :class:`ChannelInputSerializer` to give that hint."""

    secret = None


class RotateSecretInputSerializer(StrictSerializer):
    """``POST channels/{id}/rotate-secret/``: optionally your own new secret; without one a new one is generated."""

    secret = SecretField(help_text=SECRET_HELP)


class RotatedSecretSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    secret = serializers.CharField(
        allow_null=True,
        help_text="The new generated `whsec_` signing secret, shown only in this answer; `null` when you sent "
        "your own.",
    )
    secret_rotated_at = serializers.DateTimeField()
    previous_secret_expires_at = serializers.DateTimeField(
        help_text="Until then, postbacks carry a signature made with the old secret too (and with any secret "
        "replaced before it, until its own expiry)."
    )


class SubscriptionSerializer(serializers.ModelSerializer):
    event_type = serializers.CharField(source="event_type_id", help_text="Event type key.")
    channel = serializers.IntegerField(source="channel_id", help_text="Channel id.")
    sources = serializers.ListField(child=serializers.ChoiceField(choices=Source.choices))

    class Meta:
        model = Subscription
        fields = ["id", "event_type", "channel", "sources", "active", "created_at"]
        read_only_fields = fields


SOURCES_REQUIRED = gettext_lazy("Choose at least one source (admin, shop, funnel).")


class SubscriptionCreateSerializer(StrictSerializer):
    """``POST subscriptions/``: attach a channel to an event type for some sources."""

    event_type = serializers.PrimaryKeyRelatedField(
        queryset=EventType.objects.all(), help_text="Event type key, e.g. order.completed."
    )
    channel = serializers.PrimaryKeyRelatedField(queryset=Channel.objects.all(), help_text="Channel id.")
    sources = serializers.ListField(
        child=serializers.ChoiceField(choices=Source.choices),
        min_length=1,
        error_messages={"min_length": SOURCES_REQUIRED},
        help_text="Non-empty subset of admin, shop, funnel: events from these sources are sent.",
    )
    active = serializers.BooleanField(default=True)


class SubscriptionUpdateSerializer(StrictSerializer):
    """``PATCH``: only ``sources`` and ``active`` change; detach and attach again for another type or channel."""

    sources = serializers.ListField(
        child=serializers.ChoiceField(choices=Source.choices),
        required=False,
        min_length=1,
        error_messages={"min_length": SOURCES_REQUIRED},
    )
    active = serializers.BooleanField(required=False)
