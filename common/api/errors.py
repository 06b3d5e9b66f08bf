"""The API's one error shape, and the exceptions every view may raise.

Every error answer is a JSON object with a machine-readable ``code`` and a human ``detail``::

    {"code": "not_found", "detail": "No Channel matches the given query."}

Invalid input adds ``errors``, each field at fault with its messages. Nested fields and items
of lists are named by a dotted path, list items by their index (``sources.0``, ``events.3.type``);
``non_field_errors`` is the request as a whole::

    {"code": "invalid", "detail": "Invalid input.", "errors": {"sources.0": ["\\"x\\" is not a valid choice."]}}

The exception handler that maps the services' own exceptions onto these is the API's
(``webhooks_project.api.errors``): it knows every app's exceptions.
"""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, serializers, status
from rest_framework.settings import api_settings

INVALID = "invalid"


def validation_error_data(exc: DjangoValidationError) -> dict:
    """A Django ValidationError in DRF's shape: ``{"field": ["message", ...]}``."""
    if hasattr(exc, "error_dict"):
        data = {}
        for field, messages in exc.message_dict.items():
            key = api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field
            data[key] = [str(m) for m in messages]
        return data
    return {api_settings.NON_FIELD_ERRORS_KEY: [str(m) for m in exc.messages]}


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"dotted.path": ["message", ...]}``, list items by index."""
    out: dict[str, list[str]] = {}
    here = prefix or api_settings.NON_FIELD_ERRORS_KEY

    def add(key, messages):
        out.setdefault(key, []).extend(messages)

    if isinstance(detail, dict):
        for key, value in detail.items():
            for k, v in flatten_errors(value, f"{prefix}.{key}" if prefix else str(key)).items():
                add(k, v)
    elif isinstance(detail, (list, tuple)):
        for index, item in enumerate(detail):
            if isinstance(item, (dict, list, tuple)):
                # A list of objects (a list serializer): each item's errors under its index.
                for k, v in flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)).items():
                    add(k, v)
            else:
                add(here, [str(item)])
    elif detail is not None and str(detail) != "":
        add(here, [str(detail)])
    return out


def error_body(*, code: str, detail: str, errors: dict | None = None, **extra) -> dict:
    """The one error shape (module docstring)."""
    body = {"code": code, "detail": detail}
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


class ErrorWithData(exceptions.APIException):
    """An APIException whose body is ``data`` as given (already in the error shape)."""

    def __init__(self, data: dict, status_code: int):
        super().__init__()
        self.detail = data
        self.status_code = status_code


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class ErrorResponseSerializer(serializers.Serializer):
    """For documentation: the error body (module docstring)."""

    code = serializers.CharField(help_text="Machine-readable: not_found, permission_denied, conflict, ...")
    detail = serializers.CharField(help_text="For humans.")
