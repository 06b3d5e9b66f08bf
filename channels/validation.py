"""Validation of channels and subscriptions, shared by model forms, the admin and the API.

Each function raises ``django.core.exceptions.ValidationError`` keyed by field name.
"""

import base64
import binascii
import math
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext

from channels.kinds import ChannelKind
from channels.secrets import SECRET_PREFIX
from channels.ssrf import BlockedTarget, vet_url
from events.catalogue.names import formats_of, native_name
from events.formats import PayloadFormat
from events.models import Source

# Headers a channel's custom headers may not set: the envelope's own.
RESERVED_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "user-agent",
        "host",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "transfer-encoding",
        "connection",
    }
)
HEADER_NAME_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
MAX_HEADERS = 20
MAX_HEADER_NAME_CHARS = 100
MAX_HEADER_VALUE_CHARS = 2000
# All custom headers together (names and values): receivers and proxies cap a request's header block.
MAX_HEADERS_TOTAL_BYTES = 8 * 1024
# Control characters other than horizontal tab are not allowed in a field value (RFC 9110 5.5).
_FORBIDDEN_VALUE_CHARS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

MAX_METADATA_KEYS = 20
MAX_METADATA_KEY_CHARS = 40
MAX_METADATA_VALUE_CHARS = 500
MAX_DESCRIPTION_CHARS = 2000

# A custom signing secret: Standard Webhooks' ``whsec_`` and base64 of 24 to 64 random bytes.
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64
# The same rule as a regular expression, for the OpenAPI schema: whsec_ + standard base64 (groups of four
# characters, padded) of 24 to 64 bytes. Groups of 4 characters are 3 bytes: 8 to 20 groups with an optional
# 1- or 2-byte tail (24 to 62 bytes), or 21 groups with an optional 1-byte tail (63, 64).
_B64 = "[A-Za-z0-9+/]"
SECRET_PATTERN = f"^{SECRET_PREFIX}(?:(?:{_B64}{{4}}){{8,20}}(?:{_B64}{{2}}==|{_B64}{{3}}=)?|(?:{_B64}{{4}}){{21}}(?:{_B64}{{2}}==)?)$"


def validate_headers(headers) -> None:
    """Custom headers as HTTP can carry them: sent as they are, so anything else fails every attempt.

    Names are RFC 9110 tokens; values are Latin-1 (what ``http.client`` encodes) without CR, LF or
    other control characters; both bounded, one by one and all together.
    """
    if not isinstance(headers, dict):
        raise ValidationError({"headers": "Headers must be an object of header name to value."})
    if len(headers) > MAX_HEADERS:
        raise ValidationError({"headers": f"At most {MAX_HEADERS} custom headers."})
    total = 0
    for name, value in headers.items():
        if not isinstance(name, str) or not HEADER_NAME_RE.fullmatch(name) or len(name) > MAX_HEADER_NAME_CHARS:
            raise ValidationError(
                {
                    "headers": f"Invalid header name {name!r}: letters, digits and !#$%&'*+-.^_`|~ only, "
                    f"at most {MAX_HEADER_NAME_CHARS} characters."
                }
            )
        if name.lower() in RESERVED_HEADERS:
            raise ValidationError({"headers": f"Header {name!r} is set by the service and cannot be overridden."})
        if not isinstance(value, str):
            raise ValidationError({"headers": f"Value of header {name!r} must be a string."})
        if _FORBIDDEN_VALUE_CHARS.search(value) or len(value) > MAX_HEADER_VALUE_CHARS:
            raise ValidationError(
                {
                    "headers": f"Value of header {name!r} contains CR, LF or another control character, "
                    f"or is longer than {MAX_HEADER_VALUE_CHARS} characters."
                }
            )
        try:
            encoded = value.encode("latin-1")
        except UnicodeEncodeError:
            raise ValidationError(
                {
                    "headers": f"Value of header {name!r} has characters HTTP headers cannot carry (only "
                    "Latin-1); percent-encode or base64 it."
                }
            ) from None
        total += len(name) + len(encoded)
    if total > MAX_HEADERS_TOTAL_BYTES:
        raise ValidationError({"headers": f"The custom headers together are over {MAX_HEADERS_TOTAL_BYTES} bytes."})


def validate_metadata(metadata) -> None:
    """A small object of the integrator's own keys (Stripe's rules): never sent, only stored and shown."""
    if not isinstance(metadata, dict):
        raise ValidationError({"metadata": "Metadata must be a JSON object of key to value."})
    if len(metadata) > MAX_METADATA_KEYS:
        raise ValidationError({"metadata": f"At most {MAX_METADATA_KEYS} keys."})
    for key, value in metadata.items():
        if not key or len(key) > MAX_METADATA_KEY_CHARS:
            raise ValidationError({"metadata": f"Key {key!r}: 1 to {MAX_METADATA_KEY_CHARS} characters."})
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise ValidationError(
                {"metadata": f"Value of {key!r} must be a string, number, boolean or null (no nested objects)."}
            )
        if isinstance(value, str) and len(value) > MAX_METADATA_VALUE_CHARS:
            raise ValidationError(
                {"metadata": f"Value of {key!r} is longer than {MAX_METADATA_VALUE_CHARS} characters."}
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise ValidationError({"metadata": f"Value of {key!r} is not a finite number."})


def validate_custom_secret(secret) -> None:
    """A signing secret chosen by the integrator: ``whsec_`` + base64 of 24 to 64 bytes."""
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise ValidationError({"secret": f"A signing secret starts with {SECRET_PREFIX!r}, then base64."})
    try:
        raw = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError({"secret": f"After {SECRET_PREFIX!r} the secret must be standard base64."}) from None
    if not MIN_SECRET_BYTES <= len(raw) <= MAX_SECRET_BYTES:
        raise ValidationError(
            {
                "secret": f"The secret must encode {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} random bytes "
                f"(it encodes {len(raw)})."
            }
        )


def validate_target(url: str, field: str = "url") -> None:
    """http(s) only, and (unless allowed by settings) not an internal address."""
    try:
        vet_url(url)
    except BlockedTarget as exc:
        raise ValidationError({field: str(exc)}) from exc


def validate_channel(channel) -> None:
    errors = {}
    if channel.kind in (ChannelKind.POSTBACK, ChannelKind.SLACK):
        if not channel.url:
            errors["url"] = "A URL is required for this kind of channel."
        else:
            try:
                validate_target(channel.url)
            except ValidationError as exc:
                errors.update(exc.message_dict)
    if channel.kind == ChannelKind.EMAIL:
        addresses = [a.strip() for a in (channel.email_to or "").split(",") if a.strip()]
        if not addresses:
            errors["email_to"] = "At least one recipient address is required."
        else:
            validator = EmailValidator()
            for address in addresses:
                try:
                    validator(address)
                except ValidationError:
                    errors["email_to"] = f"{address!r} is not a valid email address."
                    break
    for validate, value in (
        (validate_headers, {} if channel.headers is None else channel.headers),
        (validate_metadata, channel.metadata),
    ):
        try:
            validate(value)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if len(channel.description or "") > MAX_DESCRIPTION_CHARS:
        errors["description"] = f"At most {MAX_DESCRIPTION_CHARS} characters."
    if channel.timeout is not None and not 1 <= channel.timeout <= settings.WEBHOOKS_TIMEOUT_S:
        errors["timeout"] = f"Timeout must be between 1 and {settings.WEBHOOKS_TIMEOUT_S} seconds."
    format_problem = _format_problem(channel)
    if format_problem:
        errors["format"] = format_problem
    if errors:
        raise ValidationError(errors)


def _format_problem(channel) -> str | None:
    """Why ``channel`` cannot have its format: not a postback, or attached to types the format has no name for."""
    payload_format = channel.format or PayloadFormat.STANDARD
    if payload_format not in PayloadFormat.values:
        return f"Unknown format; use one of {', '.join(PayloadFormat.values)}."
    if payload_format == PayloadFormat.STANDARD:
        return None
    if channel.kind != ChannelKind.POSTBACK:
        return "Only postback channels have a payload format; e-mail and Slack channels use standard."
    if channel.pk is None:
        return None
    # A channel whose format changes keeps its subscriptions: each must still have a name in the new one.
    unnamed = [
        key
        for key in channel.subscriptions.order_by("event_type__position").values_list("event_type_id", flat=True)
        if native_name(key, payload_format) is None
    ]
    if unnamed:
        return (
            f"The {payload_format} format has no name for {', '.join(unnamed)}, attached to this channel; "
            "detach them first, or keep a format that names them."
        )
    return None


def format_refusal(event_type_key: str, payload_format: str) -> str | None:
    """Why a type may not go to a channel of ``payload_format`` (the format has no name for it), or None."""
    if native_name(event_type_key, payload_format) is not None:
        return None
    return gettext(
        "Event type %(key)s has no name in the %(format)s format, so it cannot be sent to this "
        "channel; it exists in the formats: %(formats)s."
    ) % {"key": event_type_key, "format": payload_format, "formats": ", ".join(formats_of(event_type_key))}


def validate_sources(sources) -> list[str]:
    """A non-empty list of known sources, deduplicated in catalogue order."""
    if not isinstance(sources, (list, tuple, set)) or not sources:
        raise ValidationError({"sources": gettext("Choose at least one source (admin, shop, funnel).")})
    unknown = [s for s in sources if s not in Source.values]
    if unknown:
        raise ValidationError(
            {"sources": gettext("Unknown source(s): %(sources)s.") % {"sources": ", ".join(map(str, unknown))}}
        )
    return [s for s in Source.values if s in set(sources)]


def validate_subscription(subscription) -> None:
    errors = {}
    if not (subscription.source_admin or subscription.source_shop or subscription.source_funnel):
        errors["sources"] = gettext("Choose at least one source (admin, shop, funnel).")
    if (
        subscription.event_type_id
        and subscription.channel_id
        and subscription.event_type.postback_only
        and not subscription.channel.is_postback
    ):
        errors["channel"] = gettext("Event type %(key)s can only be sent to postback channels.") % {
            "key": subscription.event_type_id
        }
    elif subscription.event_type_id and subscription.channel_id and subscription.channel.is_postback:
        refusal = format_refusal(subscription.event_type_id, subscription.channel.format)
        if refusal:
            errors["channel"] = refusal
    if errors:
        raise ValidationError(errors)
