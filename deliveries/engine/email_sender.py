"""E-mail channels: the event as a plain-text message through Django's e-mail backend."""

from __future__ import annotations

import datetime as dt
import json
import time

from django.core.mail import EmailMessage, get_connection

from deliveries.engine.envelope import format_timestamp
from deliveries.engine.jobs import Job, Outcome, short_error


def email_message(job: Job) -> tuple[list[str], str, str]:
    """Recipients, subject and body of the e-mail for ``job``."""
    recipients = [a.strip() for a in job.email_to.split(",") if a.strip()]
    subject = f"[Postbacks] {job.event_type_name} ({job.event_type}) from {job.source}"
    body = (
        f"Event {job.event_id}\nType: {job.event_type}\nSource: {job.source}\n"
        f"Occurred at: {format_timestamp(job.occurred_at)}\n"
        + (f"Triggered by: {job.trigger_user}\n" if job.trigger_user else "")
        + "\nPayload:\n"
        + json.dumps(job.payload, ensure_ascii=False, indent=2)
    )
    return recipients, subject, body


def send_email(job: Job, started: dt.datetime) -> Outcome:
    recipients, subject, body = email_message(job)
    outcome = Outcome(
        started_at=started,
        request_url="mailto:" + ",".join(recipients),
        request_headers={"To": ", ".join(recipients), "Subject": subject},
    )
    clock = time.monotonic()
    try:
        connection = get_connection(fail_silently=False, timeout=job.timeout)
        EmailMessage(subject=subject, body=body, to=recipients, connection=connection).send()
    except Exception as exc:  # SMTP down, refused recipient...: retried like a connection error
        outcome.error, outcome.error_detail = "email", short_error(exc)
    outcome.duration_ms = int((time.monotonic() - clock) * 1000)
    return outcome
