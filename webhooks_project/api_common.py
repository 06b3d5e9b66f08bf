"""Pieces every REST API view shares: permissions, pagination, throttling, parsing, errors, schema.

The API only translates between HTTP and the services; the rules live in the services and
models. What is here makes every refusal a clear 4xx in DRF's shape (``{"field": ["message"]}``
or ``{"detail": "..."}``) instead of a 500.
"""

from __future__ import annotations

import datetime
import json

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import Cursor, CursorPagination, PageNumberPagination
from rest_framework.parsers import BaseParser
from rest_framework.permissions import DjangoModelPermissions
from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle

from events.exceptions import EventConflict, PayloadTooLarge

# The JSON around an event's payload (type, source, id, order_ref, occurred_at) and
# pretty-printing whitespace: a body may exceed the payload limit by this much.
ENVELOPE_SLACK_BYTES = 16 * 1024


# --- Permissions -------------------------------------------------------------


class ModelPermissions(DjangoModelPermissions):
    """Django model permissions, with the ``view`` permission required to read.

    DRF's class lets any authenticated user read. Extra actions (``POST channels/{id}/test/``,
    ``POST deliveries/{id}/retry/``...) declare their own permissions on the viewset in
    ``action_permissions = {"action_name": ["app.codename", ...]}``; the method's default
    (add/change) is not what they need.
    """

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        action_perms = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if action_perms is not None:
            return request.user.has_perms(action_perms)
        return super().has_permission(request, view)


# --- Pagination --------------------------------------------------------------


class PageNumberPages(PageNumberPagination):
    """Small tables (event types, channels, subscriptions): numbered pages."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class NewestFirstCursorPages(CursorPagination):
    """Big tables (events, deliveries): cursor pages, no COUNT, stable under inserts.

    Ordered by ``-id`` unless the viewset names other indexed keys in ``cursor_ordering``.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"

    def get_ordering(self, request, queryset, view):
        ordering = getattr(view, "cursor_ordering", self.ordering)
        return (ordering,) if isinstance(ordering, str) else tuple(ordering)

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        """DRF's cursor, with its position checked against the ordering field.

        A cursor is client input: a forged position ("p=abc" for an id, a date-time with an
        offset PostgreSQL refuses) would otherwise reach the database and fail there.
        """
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None:
            return cursor
        field = self._model._meta.get_field(self.ordering[0].lstrip("-"))
        try:
            position = field.to_python(cursor.position)
            if isinstance(position, datetime.datetime):
                position = position.astimezone(datetime.UTC)
            elif isinstance(position, int) and not -(2**63) <= position < 2**63:
                raise ValueError(position)
        except (DjangoValidationError, ValueError, TypeError, OverflowError) as exc:
            raise exceptions.NotFound(self.invalid_cursor_message) from exc
        return Cursor(offset=cursor.offset, reverse=cursor.reverse, position=str(position))


# --- Throttling --------------------------------------------------------------


class TokenRateThrottle(UserRateThrottle):
    """Per-user (so per token) rate limit, ``API_THROTTLE_RATE`` in the environment.

    Reads the rate when asked, not at import as DRF's class does, so that settings
    changed at run time (tests, ``override_settings``) apply.
    """

    scope = "user"

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


# --- Parsing -----------------------------------------------------------------


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


def max_body_bytes() -> int:
    return settings.WEBHOOKS_MAX_PAYLOAD_BYTES + ENVELOPE_SLACK_BYTES


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
            data = json.loads(raw.decode(encoding), parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
        except RecursionError as exc:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from exc
        _refuse_unstorable_strings(data)
        return data


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


# --- Errors ------------------------------------------------------------------


def validation_error_data(exc: DjangoValidationError) -> dict:
    """A Django ValidationError in DRF's shape: ``{"field": ["message", ...]}``."""
    if hasattr(exc, "error_dict"):
        data = {}
        for field, messages in exc.message_dict.items():
            key = api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field
            data[key] = [str(m) for m in messages]
        return data
    return {api_settings.NON_FIELD_ERRORS_KEY: [str(m) for m in exc.messages]}


def api_exception_handler(exc, context):
    """DRF's handler, plus the errors the services and the database raise.

    - ``PayloadTooLarge`` (a ValidationError keyed ``payload``) -> 413
    - ``EventConflict`` (same event id, other content) -> 409
    - Django ``ValidationError`` keyed by field -> 400 ``{"field": ["message"]}``
    - ``IntegrityError`` (a concurrent write beat a checked one, e.g. a duplicate
      subscription) -> 409, never a 500
    """
    # Imported here: this module is loaded while rest_framework.views is being imported
    # (DEFAULT_PERMISSION_CLASSES), so a top-level import would be circular.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, PayloadTooLarge):
        exc = _WithData(validation_error_data(exc), status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    elif isinstance(exc, EventConflict):
        exc = _WithData({"detail": str(exc), "id": str(exc.event_id)}, status.HTTP_409_CONFLICT)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(validation_error_data(exc))
    elif isinstance(exc, IntegrityError):
        exc = _WithData(
            {"detail": "The request conflicts with the current state (a concurrent change?); please retry."},
            status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)


class _WithData(exceptions.APIException):
    """An APIException whose body is ``data`` as given (DRF renders dict details verbatim)."""

    def __init__(self, data: dict, status_code: int):
        super().__init__()
        self.detail = data
        self.status_code = status_code


class ErrorResponseSerializer(serializers.Serializer):
    """For documentation: DRF's error body for a request refused as a whole."""

    detail = serializers.CharField()


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


# --- OpenAPI -----------------------------------------------------------------

_ERROR_SCHEMA = {
    "type": "object",
    "description": 'A problem with the request as a whole: `{"detail": "..."}`.',
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
_VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": (
        'The fields at fault, each with its messages: `{"field": ["message", ...]}`; '
        '`non_field_errors` for the request as a whole, or `{"detail": "..."}` for a body that is not JSON.'
    ),
    "additionalProperties": {},
}
_ERROR_RESPONSES = {
    "400": ("Invalid input; the body names the fields at fault.", "ValidationErrorResponse"),
    "401": ("No or invalid token: send `Authorization: Token <key>`.", "ErrorResponse"),
    "403": ("The token's user lacks the permission this call needs.", "ErrorResponse"),
    "404": ("No such object.", "ErrorResponse"),
    "405": ("Method not allowed.", "ErrorResponse"),
    "406": ("Only `application/json` responses are available.", "ErrorResponse"),
    "413": ("The request body is over the size limit.", "ValidationErrorResponse"),
    "415": ("Send `Content-Type: application/json`.", "ErrorResponse"),
    "429": ("Too many requests for this token; see `Retry-After`.", "ErrorResponse"),
}


def add_error_responses(result, generator, request, public):
    """drf-spectacular post-processing hook: document the error answers every operation can give.

    The shapes are DRF's, described once as components, so clients and the fuzzer in the
    test suite can check error bodies as strictly as successful ones.
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorResponse"] = _ERROR_SCHEMA
    schemas["ValidationErrorResponse"] = _VALIDATION_ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            codes = ["400", "401", "403", "405", "406", "429"]
            if "{" in path or method == "get":  # unknown id, or a stale list cursor
                codes.append("404")
            if method in ("post", "put", "patch"):
                codes += ["413", "415"]
            responses = operation.setdefault("responses", {})
            for code in codes:
                description, component = _ERROR_RESPONSES[code]
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
                    },
                )
    return result
