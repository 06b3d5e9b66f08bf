"""Error answers in DRF's shape: ``{"field": ["message"]}`` or ``{"detail": "..."}``.

The exception handler that maps the services' own exceptions onto these is the API's
(``webhooks_project.api.errors``): it knows every app's exceptions.
"""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, serializers, status
from rest_framework.settings import api_settings


def validation_error_data(exc: DjangoValidationError) -> dict:
    """A Django ValidationError in DRF's shape: ``{"field": ["message", ...]}``."""
    if hasattr(exc, "error_dict"):
        data = {}
        for field, messages in exc.message_dict.items():
            key = api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field
            data[key] = [str(m) for m in messages]
        return data
    return {api_settings.NON_FIELD_ERRORS_KEY: [str(m) for m in exc.messages]}


class ErrorWithData(exceptions.APIException):
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
