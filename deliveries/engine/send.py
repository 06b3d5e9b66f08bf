"""One attempt of one delivery: ``send_claimed`` / ``perform(job) -> Outcome``, run in a send thread, free of the database.

Postback and Slack channels are HTTP (``transport``), with the body of ``envelope`` or
``slack_sender``; e-mail channels go through ``email_sender``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time

import requests
from django.conf import settings

from channels.ssrf import BlockedTarget, UnresolvableHost
from common.masking import mask_query_strings
from deliveries.engine import transport
from deliveries.engine.claims import Claimed
from deliveries.engine.email_sender import email_message, send_email
from deliveries.engine.envelope import build_envelope, signed_postback
from deliveries.engine.isolation import send_isolated
from deliveries.engine.jobs import Job, Outcome, clean_text, short_error
from deliveries.engine.slack_sender import slack_message, slack_text

logger = logging.getLogger(__name__)


def send_claimed(claimed: Claimed) -> Outcome:
    """Send ``claimed`` now, or not at all.

    The request starts only while the rest of the claim's lease covers the whole attempt
    (the channel's timeout) plus the margin: a thread that gets here late (its process
    was frozen between the claim and this line) sends nothing, since another worker may
    own the delivery by then. The transport cuts the attempt itself at the timeout.
    """
    if not _lease_covers_attempt(claimed):
        return Outcome(started_at=dt.datetime.now(dt.UTC), not_started=True)
    return perform(claimed.job)


def send_suspect(claimed: Claimed) -> Outcome:
    """``send_claimed`` for a suspect: the same check, then the attempt in a process of its own."""
    if not _lease_covers_attempt(claimed):
        return Outcome(started_at=dt.datetime.now(dt.UTC), not_started=True)
    return send_isolated(claimed.job, seconds_left=claimed.seconds_left())


def _lease_covers_attempt(claimed: Claimed) -> bool:
    return claimed.seconds_left() >= claimed.job.timeout + settings.WEBHOOKS_LEASE_MARGIN_S


def perform(job: Job) -> Outcome:
    """Make one attempt; never raises (an unexpected error becomes an ``internal`` outcome)."""
    started = dt.datetime.now(dt.UTC)
    try:
        if job.kind == "email":
            return send_email(job, started)
        return _post(job, started)
    except Exception as exc:  # a bug must not lose the delivery: it is recorded and the delivery fails
        logger.exception("Unexpected error sending delivery %s", job.delivery_id)
        return Outcome(started_at=started, error="internal", error_detail=f"{type(exc).__name__}: {exc}"[:1000])


def _post(job: Job, started: dt.datetime) -> Outcome:
    body, headers, logged = slack_message(job) if job.kind == "slack" else signed_postback(job)
    outcome = Outcome(started_at=started, request_url=mask_query_strings(job.url), request_headers=logged)
    clock = time.monotonic()
    try:
        answer = transport.post(
            job.url, body=body.encode("utf-8"), headers=headers, timeout=job.timeout, channel_id=job.channel_id
        )
        outcome.response_status = answer.status
        outcome.response_headers = answer.headers
        outcome.response_body = answer.body
        outcome.error_detail = answer.read_error
        if not 200 <= answer.status < 300:
            outcome.error = "http_status"
            outcome.error_detail = f"HTTP {answer.status} {clean_text(answer.reason)[:100]}".strip()
            outcome.retry_after_s = transport.parse_retry_after(answer.retry_after)
    except transport.AttemptTimedOut:
        outcome.error = "timeout"
        outcome.error_detail = f"No complete response within {job.timeout:g} s (the endpoint answered too slowly)."
    except UnresolvableHost as exc:
        outcome.error, outcome.error_detail = "dns", str(exc)
    except BlockedTarget as exc:
        outcome.error, outcome.error_detail = "blocked_target", str(exc)
    except requests.exceptions.Timeout as exc:  # before ConnectionError: ConnectTimeout is both
        outcome.error = "timeout"
        outcome.error_detail = f"No response within {job.timeout:g} s ({type(exc).__name__})."
    except requests.exceptions.ConnectionError as exc:
        outcome.error = "dns" if transport.is_name_resolution_error(exc) else "connection"
        outcome.error_detail = short_error(exc)
    except requests.exceptions.RequestException as exc:
        outcome.error, outcome.error_detail = "connection", short_error(exc)
    finally:
        outcome.duration_ms = int((time.monotonic() - clock) * 1000)
    return outcome


def request_body(job: Job) -> str:
    """What ``job``'s attempt sends as its body. The attempt log keeps no copy of it: the event's
    payload is stored once, and this rebuilds the body of any attempt from it (``retry_count`` aside,
    every attempt of a delivery sends the same body)."""
    if job.kind == "email":
        return email_message(job)[2]
    if job.kind == "slack":
        return json.dumps({"text": slack_text(job)}, ensure_ascii=False)
    return build_envelope(job)
