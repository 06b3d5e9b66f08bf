"""The API's exception handler: every error in the one shape of ``common.api.errors``.

Here, at the top, because it knows the exceptions of every app; the generic shapes it
answers with are ``common.api.errors``.
"""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from common.api.errors import INVALID, ErrorWithData, error_body, flatten_errors, validation_error_data
from events.exceptions import EventConflict, PayloadTooLarge

NON_FIELD_ERRORS_KEY = api_settings.NON_FIELD_ERRORS_KEY
_CODES = {
    status.HTTP_400_BAD_REQUEST: INVALID,
    status.HTTP_401_UNAUTHORIZED: "not_authenticated",
    status.HTTP_403_FORBIDDEN: "permission_denied",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    status.HTTP_406_NOT_ACCEPTABLE: "not_acceptable",
    status.HTTP_409_CONFLICT: "conflict",
    status.HTTP_413_REQUEST_ENTITY_TOO_LARGE: "too_large",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    status.HTTP_429_TOO_MANY_REQUESTS: "throttled",
}


def _only_unique_errors(exc: DjangoValidationError) -> bool:
    """A model's ``full_clean`` refusing a duplicate (a unique constraint), and nothing else."""
    if not hasattr(exc, "error_dict"):
        return False
    errors = [e for field_errors in exc.error_dict.values() for e in field_errors]
    return (
        bool(errors)
        and set(exc.error_dict) == {NON_FIELD_ERRORS}
        and all(e.code in ("unique", "unique_together") for e in errors)
    )


def to_api_exception(exc):
    """The services' and the database's exceptions as DRF ones, already in the error shape where they need more."""
    if isinstance(exc, PayloadTooLarge):
        errors = validation_error_data(exc)
        detail = next(iter(errors.get("payload") or ["The payload is too large."]))
        return ErrorWithData(
            error_body(code="payload_too_large", detail=detail, errors=errors), status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        )
    if isinstance(exc, EventConflict):
        return ErrorWithData(
            error_body(code="event_conflict", detail=str(exc), id=str(exc.event_id), differs=exc.differs),
            status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, DjangoValidationError):
        if _only_unique_errors(exc):
            message = " ".join(str(m) for m in exc.messages)
            return ErrorWithData(error_body(code="duplicate", detail=message), status.HTTP_409_CONFLICT)
        return exceptions.ValidationError(validation_error_data(exc))
    if isinstance(exc, IntegrityError):
        return ErrorWithData(
            error_body(
                code="conflict",
                detail="The request conflicts with the current state (a concurrent change?); please retry.",
            ),
            status.HTTP_409_CONFLICT,
        )
    return exc


def api_exception_handler(exc, context):
    """DRF's handler, plus the errors the services and the database raise, every answer in the one shape.

    - ``PayloadTooLarge`` -> 413 ``payload_too_large``
    - ``EventConflict`` (same event id, other content) -> 409 ``event_conflict`` naming ``differs``
    - Django ``ValidationError`` keyed by field -> 400 ``invalid``; a duplicate (unique constraint) -> 409 ``duplicate``
    - ``IntegrityError`` (a concurrent write beat a checked one) -> 409 ``conflict``, never a 500
    """
    exc = to_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ErrorWithData):
        return response
    response.data = error_data(exc, response.status_code, response.data)
    return response


def error_answer(exc) -> tuple[int, dict]:
    """The status and body the API answers ``exc`` (a service's, the database's or DRF's exception) with."""
    exc = to_api_exception(exc)
    if isinstance(exc, ErrorWithData):
        return exc.status_code, exc.detail
    return exc.status_code, error_data(exc, exc.status_code, exc.detail)


def error_data(exc, status_code: int, data) -> dict:
    """``data`` (DRF's body for ``exc``) in the one error shape."""
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(data)
        if set(errors) == {"detail"}:  # raised as ValidationError({"detail": ...}): the request as a whole
            errors = {NON_FIELD_ERRORS_KEY: errors["detail"]}
        if set(errors) == {NON_FIELD_ERRORS_KEY}:
            detail = " ".join(errors[NON_FIELD_ERRORS_KEY])
        else:
            detail = "Invalid input: " + ", ".join(errors) + "."
        return error_body(code=INVALID, detail=detail, errors=errors)
    if isinstance(exc, (Http404, DjangoPermissionDenied)):
        code = _CODES[status_code]
    else:
        code = getattr(exc, "get_codes", lambda: None)()
        if not isinstance(code, str):
            code = _CODES.get(status_code, "error")
    if isinstance(data, dict) and set(data) == {"detail"}:
        return error_body(code=code, detail=str(data["detail"]))
    if isinstance(data, dict) and "detail" in data and "code" not in data:
        return {"code": code, **{k: str(v) if k == "detail" else v for k, v in data.items()}}
    return error_body(code=code, detail=str(data))
