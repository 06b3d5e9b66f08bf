"""The built-in demo receiver of ``make run``: the whole flow visible with no outside server.

``/demo/receiver/`` verifies the Standard Webhooks signature with the secrets of the
postback channels pointing at it and stores a ``DemoReceipt``; ``/demo/slack/`` stands
in for a Slack incoming webhook. Both take POST only and need no CSRF token (they are
called by the sender, not by a browser form).
"""

from __future__ import annotations

import json

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from channels.kinds import ChannelKind
from channels.models import Channel
from channels.secrets import signing_secrets
from deliveries.models import DemoReceipt

MAX_STORED_BODY = 64 * 1024
_STORED_HEADERS = ("content-type", "user-agent", "webhook-id", "webhook-timestamp", "webhook-signature")


def _headers(request) -> dict:
    return {name: request.headers[name] for name in _STORED_HEADERS if name in request.headers}


@csrf_exempt
@require_POST
def receiver(request):
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
    DemoReceipt.objects.create(
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
    body = request.body
    try:
        text = str(json.loads(body).get("text", ""))
    except (ValueError, AttributeError):
        return HttpResponse("invalid_payload", status=400, content_type="text/plain")
    DemoReceipt.objects.create(
        event_type="slack",
        signature_valid=False,
        headers=_headers(request),
        body=text[:MAX_STORED_BODY],
    )
    return HttpResponse("ok", content_type="text/plain")
