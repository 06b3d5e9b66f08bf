"""``X-Request-Id``: one id per request, on its answer and in every log line written while it runs.

The client's own id is kept when it is sane (1 to 128 of letters, digits and ``-_.:``), so a
caller can find its request in our logs; otherwise one is made (32 hex digits).
"""

import contextvars
import logging
import re
import uuid

from django.core.signals import request_finished

HEADER = "X-Request-Id"
_SANE = re.compile(r"[A-Za-z0-9\-_.:]{1,128}")
_current: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def current_request_id() -> str:
    """The id of the request being answered, ``-`` outside one."""
    return _current.get()


def request_id_for(given: str | None) -> str:
    if given and _SANE.fullmatch(given):
        return given
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """First in ``MIDDLEWARE``: every answer, also an error page, carries the id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_for(request.META.get("HTTP_X_REQUEST_ID"))
        request.request_id = request_id
        # Kept until the request is finished, not only until this returns: Django logs a 4xx or
        # 5xx answer ("Not Found: /api/...") after the middleware chain.
        _current.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


def _forget(**kwargs):
    _current.set("-")


request_finished.connect(_forget, dispatch_uid="common.request_id.forget")


class RequestIdLogFilter(logging.Filter):
    """Puts ``request_id`` on every record (``%(request_id)s`` in a format)."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True
