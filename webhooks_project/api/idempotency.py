"""``Idempotency-Key`` on every API POST, with Stripe's semantics.

A POST to ``/api/v1/`` with an ``Idempotency-Key`` header (1 to 255 printable ASCII characters)
is answered once; the same user sending the same key again within 24 hours gets:

- the stored answer, status and body, with ``Idempotent-Replayed: true``, when the method, path
  and body are the same (the body compared as JSON: key order and whitespace do not matter);
- 409 ``idempotency_key_reused`` when they differ;
- 409 ``idempotency_key_in_use`` while the first request is still being answered.

Answers are kept unless they are a 5xx, 401, 403 or 429 (those may go otherwise next time: the
key is freed and the request may be tried again). Records are ``events.IdempotencyRecord``, purged
after 24 hours by the retention purge. A middleware, so that every API POST has it without asking.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import APIException
from rest_framework.request import Request

from common.api.errors import error_body
from common.api.parsing import max_body_bytes
from events.models import IDEMPOTENCY_KEY_HOURS, IdempotencyRecord

HEADER = "HTTP_IDEMPOTENCY_KEY"
_KEY = re.compile(r"[\x21-\x7e]{1,255}")
# A first request that has not finished in this long died with its process: its key is free again.
ABANDONED_AFTER = dt.timedelta(minutes=5)
NOT_KEPT = {401, 403, 429}


def _fingerprint(request) -> str:
    raw = request.body
    try:
        canonical = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError, RecursionError):
        canonical = raw
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.get_full_path().encode(), canonical):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


def _user(request):
    """The token's user (as the API will authenticate it), or the session's; None for nobody."""
    try:
        found = TokenAuthentication().authenticate(Request(request))
    except APIException:
        return None  # a bad token: the view answers 401
    if found is not None:
        return found[0]
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _conflict(code: str, detail: str) -> JsonResponse:
    return JsonResponse(error_body(code=code, detail=detail), status=409)


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.META.get(HEADER)
        if key is None or request.method != "POST" or not request.path.startswith("/api/v1/"):
            return self.get_response(request)
        if not _KEY.fullmatch(key):
            return JsonResponse(
                error_body(
                    code="invalid_idempotency_key",
                    detail="Idempotency-Key must be 1 to 255 printable ASCII characters without spaces.",
                ),
                status=400,
            )
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        user = _user(request)
        if user is None or declared > max_body_bytes():
            return self.get_response(request)  # the view answers 401 or 413; nothing to keep
        fingerprint = _fingerprint(request)

        record, answer = self._claim(user, key, fingerprint)
        if answer is not None:
            return answer
        try:
            response = self.get_response(request)
        except BaseException:
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            raise
        if response.status_code >= 500 or response.status_code in NOT_KEPT or response.streaming:
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
        else:
            IdempotencyRecord.objects.filter(pk=record.pk).update(
                status_code=response.status_code, body=response.content.decode("utf-8", errors="replace")
            )
        return response

    def _claim(self, user, key, fingerprint):
        """The new record for this key, or (None, the answer) when the key was seen before."""
        now = timezone.now()
        for _ in range(2):
            try:
                with transaction.atomic():
                    return IdempotencyRecord.objects.create(user=user, key=key, fingerprint=fingerprint), None
            except IntegrityError:
                existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
            if existing is None:
                continue  # deleted in between: try again
            expired = existing.created_at < now - dt.timedelta(hours=IDEMPOTENCY_KEY_HOURS)
            abandoned = existing.status_code is None and existing.created_at < now - ABANDONED_AFTER
            if expired or abandoned:
                IdempotencyRecord.objects.filter(pk=existing.pk).delete()
                continue
            if existing.fingerprint != fingerprint:
                return None, _conflict(
                    "idempotency_key_reused",
                    "This Idempotency-Key was used with another request (method, path or body) in the last "
                    f"{IDEMPOTENCY_KEY_HOURS} hours; use a new key for a new request.",
                )
            if existing.status_code is None:
                return None, _conflict(
                    "idempotency_key_in_use",
                    "A request with this Idempotency-Key is still being answered; retry later.",
                )
            replay = HttpResponse(existing.body, status=existing.status_code, content_type="application/json")
            replay["Idempotent-Replayed"] = "true"
            return None, replay
        return None, _conflict("idempotency_key_in_use", "This Idempotency-Key is busy; retry.")
