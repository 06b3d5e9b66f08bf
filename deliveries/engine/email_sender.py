"""E-mail channels: the event as a plain-text message through Django's e-mail backend."""

from __future__ import annotations

import datetime as dt
import json
import time

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import translation
from django.utils.translation import gettext

from deliveries.engine.envelope import format_timestamp
from deliveries.engine.jobs import Job, Outcome, short_error


def email_message(job: Job) -> tuple[list[str], str, str]:
    """Recipients, subject and body of the e-mail for ``job``."""
    recipients = [a.strip() for a in job.email_to.split(",") if a.strip()]
    # In the installation's language (LANGUAGE_CODE): the engine's threads have no request.
    with translation.override(settings.LANGUAGE_CODE):
        fields = {
            "name": gettext(job.event_type_name),
            "type": job.event_type,
            "source": job.source,
            "event": job.event_id,
            "when": format_timestamp(job.occurred_at),
            "who": job.trigger_user,
        }
        subject = gettext("[Postbacks] %(name)s (%(type)s) from %(source)s") % fields
        body = (
            gettext("Event %(event)s\nType: %(type)s\nSource: %(source)s\nOccurred at: %(when)s\n") % fields
            + (gettext("Triggered by: %(who)s\n") % fields if job.trigger_user else "")
            + "\n"
            + gettext("Payload:")
            + "\n"
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
