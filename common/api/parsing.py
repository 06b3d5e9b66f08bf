"""The API's only parser: JSON, refused with 413 before parsing when the body is over the limit."""

import json
import math

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import BaseParser

# The payload limit (WEBHOOKS_MAX_PAYLOAD_BYTES) is measured on the payload's compact JSON, by
# ``emit``; the raw body may be larger: ``\u`` escapes (what ``requests.post(json=...)`` sends for
# any non-ASCII character), pretty-printing, the envelope around the payload (type, source, id,
# order_ref, occurred_at). A body may be this many times the payload limit, plus the slack.
BODY_TO_PAYLOAD_FACTOR = 4
ENVELOPE_SLACK_BYTES = 16 * 1024


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


def max_body_bytes() -> int:
    return BODY_TO_PAYLOAD_FACTOR * settings.WEBHOOKS_MAX_PAYLOAD_BYTES + ENVELOPE_SLACK_BYTES


class LimitedJSONParser(BaseParser):
    """JSON only, refused with 413 before parsing when the body is over the limit.

    Checks the declared length first (no read at all), then reads at most one byte more
    than the limit, so a body without Content-Length cannot make us hold more either.
    Not a subclass of DRF's JSONParser on purpose: DRF reads ``request.body`` whole for
    those, before the parser can look at the length.
    """

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = max_body_bytes()
        request = (parser_context or {}).get("request")
        if request is not None:
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if declared > limit:
                raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        if stream is None:
            raise exceptions.ParseError("The request body is empty.")
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(raw.decode(encoding), parse_constant=_refuse_constant, parse_float=_finite_float)
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
        except RecursionError as exc:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from exc
        _refuse_unstorable_strings(data)
        return data


def _finite_float(text):
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text[:40]} is out of range for a JSON number")
    return value


def _refuse_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def _refuse_unstorable_strings(value) -> None:
    """NUL and lone surrogates parse as JSON but PostgreSQL cannot store them (text or jsonb)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                raise exceptions.ParseError("JSON parse error - strings may not contain NUL (\\u0000).")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise exceptions.ParseError("JSON parse error - strings may not contain lone surrogates.") from exc
