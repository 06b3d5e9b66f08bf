"""Slack channels: a human-readable text posted to an incoming-webhook URL (unsigned)."""

from __future__ import annotations

import json

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from deliveries.engine.envelope import format_timestamp
from deliveries.engine.jobs import Job


def slack_text(job: Job) -> str:
    payload = json.dumps(job.payload, ensure_ascii=False, indent=1)
    if len(payload) > 2500:
        payload = payload[:2500] + "\n…"
    # In the installation's language (LANGUAGE_CODE): the engine's threads have no request.
    with translation.override(settings.LANGUAGE_CODE):
        fields = {
            "name": gettext(job.event_type_name),
            "type": job.event_type,
            "source": job.source,
            "who": job.trigger_user,
            "when": format_timestamp(job.occurred_at),
            "event": job.event_id,
        }
        if job.trigger_user:
            text = gettext("*%(name)s* (`%(type)s`) from %(source)s by %(who)s at %(when)s\nEvent %(event)s") % fields
        else:
            text = gettext("*%(name)s* (`%(type)s`) from %(source)s at %(when)s\nEvent %(event)s") % fields
    return f"{text}\n```{payload}```"


def slack_message(job: Job) -> tuple[str, dict, dict]:
    """The body, the headers to send, and the headers to log of one Slack attempt."""
    body = json.dumps({"text": slack_text(job)}, ensure_ascii=False)
    headers = {"Content-Type": "application/json", "User-Agent": settings.WEBHOOKS_USER_AGENT}
    return body, headers, dict(headers)
