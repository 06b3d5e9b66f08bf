"""The API's exception handler: DRF's, plus the errors the services and the database raise.

Here, at the top, because it knows the exceptions of every app; the generic shapes it
answers with are ``common.api.errors``.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from common.api.errors import ErrorWithData, validation_error_data
from events.exceptions import EventConflict, PayloadTooLarge


def api_exception_handler(exc, context):
    """DRF's handler, plus the errors the services and the database raise.

    - ``PayloadTooLarge`` (a ValidationError keyed ``payload``) -> 413
    - ``EventConflict`` (same event id, other content) -> 409
    - Django ``ValidationError`` keyed by field -> 400 ``{"field": ["message"]}``
    - ``IntegrityError`` (a concurrent write beat a checked one, e.g. a duplicate
      subscription) -> 409, never a 500
    """
    if isinstance(exc, PayloadTooLarge):
        exc = ErrorWithData(validation_error_data(exc), status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    elif isinstance(exc, EventConflict):
        exc = ErrorWithData({"detail": str(exc), "id": str(exc.event_id)}, status.HTTP_409_CONFLICT)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(validation_error_data(exc))
    elif isinstance(exc, IntegrityError):
        exc = ErrorWithData(
            {"detail": "The request conflicts with the current state (a concurrent change?); please retry."},
            status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)
