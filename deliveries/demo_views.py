"""The built-in demo receiver of ``make run``: the whole flow visible with no outside server.

``/demo/receiver/`` verifies the Standard Webhooks signature with the secrets of the
postback channels pointing at it and stores a ``DemoReceipt``; ``/demo/slack/`` stands
in for a Slack incoming webhook. Both take POST only and need no CSRF token (they are
called by the sender, not by a browser form).

They take anonymous posts, so they are mounted only under DEBUG or ``WEBHOOKS_DEMO=true``
(``webhooks_project/urls.py``), each address may post ``WEBHOOKS_DEMO_RATE_PER_MIN`` times
a minute (429 after that, nothing stored), only the newest ``MAX_RECEIPTS`` receipts are
kept, and the retention purge removes older ones (``deliveries.services.purge_old_records``).
"""

from __future__ import annotations

import json
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from channels.kinds import ChannelKind
from channels.models import Channel
from channels.secrets import signing_secrets
from deliveries.models import DemoReceipt

MAX_STORED_BODY = 64 * 1024
MAX_RECEIPTS = 1000
TRIM_EVERY = 50  # receipts; trimming is one DELETE, not worth doing on every post
_STORED_HEADERS = ("content-type", "user-agent", "webhook-id", "webhook-timestamp", "webhook-signature")


def _headers(request) -> dict:
    return {name: request.headers[name] for name in _STORED_HEADERS if name in request.headers}


def _over_rate(request) -> bool:
    """More posts from this address in this minute than ``WEBHOOKS_DEMO_RATE_PER_MIN``?"""
    key = f"demo-rate:{request.META.get('REMOTE_ADDR', '')}:{int(time.time() // 60)}"
    cache.add(key, 0, timeout=120)
    try:
        return cache.incr(key) > settings.WEBHOOKS_DEMO_RATE_PER_MIN
    except ValueError:  # expired between add and incr
        return False


def _too_many():
    return JsonResponse({"error": "too many requests"}, status=429, headers={"Retry-After": "60"})


def _store(**fields) -> None:
    receipt = DemoReceipt.objects.create(**fields)
    if receipt.pk % TRIM_EVERY == 0:
        keep_from = DemoReceipt.objects.order_by("-pk").values_list("pk", flat=True)[MAX_RECEIPTS - 1 : MAX_RECEIPTS]
        oldest_kept = next(iter(keep_from), None)
        if oldest_kept is not None:
            DemoReceipt.objects.filter(pk__lt=oldest_kept).delete()


@csrf_exempt
@require_POST
def receiver(request):
    if _over_rate(request):
        return _too_many()
    body = request.body
    headers = {k.lower(): v for k, v in request.headers.items()}
    valid = False
    channels = Channel.objects.filter(kind=ChannelKind.POSTBACK, url__endswith=request.path)
    for channel in channels:
        for secret in signing_secrets(channel):
            try:
                Webhook(secret).verify(body, headers, json_parse=False)
            except (WebhookVerificationError, ValueError, UnicodeDecodeError):
                continue
            valid = True
            break
        if valid:
            break
    try:
        event_type = str(json.loads(body).get("eventType", ""))[:100]
    except (ValueError, AttributeError):
        event_type = ""
    _store(
        webhook_id=headers.get("webhook-id", "")[:100],
        event_type=event_type,
        signature_valid=valid,
        headers=_headers(request),
        body=body[:MAX_STORED_BODY].decode("utf-8", errors="replace"),
    )
    if not valid:
        return JsonResponse({"error": "invalid signature"}, status=401)
    return JsonResponse({"received": True})


@csrf_exempt
@require_POST
def slack(request):
    if _over_rate(request):
        return _too_many()
    body = request.body
    try:
        text = str(json.loads(body).get("text", ""))
    except (ValueError, AttributeError):
        return HttpResponse("invalid_payload", status=400, content_type="text/plain")
    _store(
        event_type="slack",
        signature_valid=False,
        headers=_headers(request),
        body=text[:MAX_STORED_BODY],
    )
    return HttpResponse("ok", content_type="text/plain")
