"""Deliveries in words a person reads at a glance (SPEC section 7): why an attempt failed, and what happens next.

Pure functions of rows already loaded (a delivery with its channel and, where there is one, the
channel's breaker): no queries, so a page of fifty deliveries costs nothing more. The technical
detail (an exception's text, a header) stays on the attempt, one click away on the delivery page.
"""

from __future__ import annotations

import datetime as dt
import http
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from deliveries.models import BreakerState, DeliveryStatus, ErrorKind, Trigger

# Kinds of failure where nothing went out: the delivery was refused before sending.
NOT_SENT = (
    ErrorKind.CHANNEL_INACTIVE,
    ErrorKind.SUBSCRIPTION_INACTIVE,
    ErrorKind.TYPE_DISABLED,
    ErrorKind.BLOCKED_TARGET,
)


def status_phrase(status: int) -> str:
    """``404 Not Found``; a code HTTP does not name stays a number."""
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def reason_phrase(
    *, error: str, response_status: int | None = None, detail: str = "", timeout_s: int | None = None
) -> str:
    """Why an attempt failed, as a phrase to put after a colon ("the endpoint answered 404 Not Found").

    ``error`` is an ``ErrorKind`` value; ``detail`` (the attempt's ``error_detail``) only chooses
    between wordings and is never shown here. Empty when the attempt did not fail.
    """
    if error == ErrorKind.TIMEOUT:
        if timeout_s:
            return _("the endpoint did not answer within %(seconds)d s") % {"seconds": timeout_s}
        return _("the endpoint did not answer in time")
    if error == ErrorKind.CONNECTION:
        if "refused" in detail.lower():
            return _("the endpoint refused the connection")
        return _("could not connect to the endpoint")
    if error == ErrorKind.DNS:
        return _("the endpoint's host name could not be found (DNS)")
    if error == ErrorKind.HTTP_STATUS or (not error and response_status and not 200 <= response_status < 300):
        return _("the endpoint answered %(status)s") % {"status": status_phrase(response_status or 0)}
    if error == ErrorKind.BLOCKED_TARGET:
        return _("not sent: the endpoint's address is internal, and internal addresses are blocked")
    if error == ErrorKind.CHANNEL_INACTIVE:
        return _("not sent: the channel is deactivated")
    if error == ErrorKind.SUBSCRIPTION_INACTIVE:
        return _("not sent: the channel was detached from this event type, or the attachment switched off")
    if error == ErrorKind.TYPE_DISABLED:
        return _("not sent: this event type is switched off")
    if error == ErrorKind.EMAIL:
        return _("the mail server did not accept the message")
    if error == ErrorKind.WORKER_LOST:
        return _("the worker sending it stopped before the endpoint's answer was recorded")
    if error:
        return _("an internal error stopped the send")
    return ""


def reason_sentence(**kwargs) -> str:
    """``reason_phrase`` on its own: "The endpoint answered 404 Not Found." (empty when nothing failed)."""
    phrase = reason_phrase(**kwargs)
    return f"{capfirst(phrase)}." if phrase else ""


def attempt_reason(attempt, *, timeout_s: int | None = None) -> str:
    return reason_sentence(
        error=attempt.error, response_status=attempt.response_status, detail=attempt.error_detail, timeout_s=timeout_s
    )


def delivery_reason(delivery) -> str:
    """Why ``delivery``'s last attempt failed (its channel loaded), as a sentence; empty when it has not failed."""
    if not delivery.last_error:
        return ""
    return reason_sentence(
        error=delivery.last_error,
        response_status=delivery.last_response_status,
        detail=delivery.failure_reason,
        timeout_s=delivery.channel.timeout,
    )


def relative(moment: dt.datetime, *, now: dt.datetime) -> str:
    """ "in 9 min", "in 45 s", "in 2 h", or "now" for a moment already passed."""
    seconds = (moment - now).total_seconds()
    if seconds < 1:
        return _("now")
    if seconds < 90:
        return _("in %(n)d s") % {"n": round(seconds)}
    if seconds < 90 * 60:
        return _("in %(n)d min") % {"n": round(seconds / 60)}
    return _("in %(n)d h") % {"n": round(seconds / 3600)}


@dataclass(frozen=True)
class StatusLine:
    """What a delivery's state means and what happens next. ``tone`` picks the badge's colour."""

    text: str
    tone: str  # succeeded, failed, waiting, sending
    reason: str = ""  # the plain-language reason of the last failure, when there is one

    def __str__(self):
        return self.text


def _attempts(n: int) -> str:
    return ngettext("%(n)d attempt", "%(n)d attempts", n) % {"n": n}


def status_line(delivery, *, now: dt.datetime | None = None, breaker=None) -> StatusLine:
    """The one line the log and the delivery page show for ``delivery`` (its channel loaded).

    ``breaker`` is the channel's ``ChannelBreaker`` when it has one (load ``channel__breaker``).
    """
    now = now or timezone.now()
    reason = delivery_reason(delivery)
    count = delivery.attempt_count
    if delivery.status == DeliveryStatus.SUCCEEDED:
        if count <= 1:
            return StatusLine(_("Delivered"), "succeeded")
        return StatusLine(_("Delivered after %(attempts)s") % {"attempts": _attempts(count)}, "succeeded")
    if delivery.status == DeliveryStatus.SENDING:
        return StatusLine(_("Sending now (attempt %(n)d)") % {"n": count + 1}, "sending", reason)
    if delivery.status == DeliveryStatus.FAILED:
        if delivery.last_error in NOT_SENT:
            # The phrase already says it was not sent ("not sent: the channel is deactivated").
            text = _("%(reason)s; no automatic retry") % {"reason": capfirst(reason_phrase_of(delivery))}
            return StatusLine(text, "failed", reason)
        if delivery.last_error == ErrorKind.WORKER_LOST and not reason:
            head = _("Failed, no automatic retry")
        else:
            head = _("Failed after %(attempts)s, no automatic retry") % {"attempts": _attempts(count)}
        text = f"{head}: {reason_phrase_of(delivery)}" if reason else head
        return StatusLine(text, "failed", reason)
    # Pending: queued for its first attempt, waiting for a retry, or a retry a person asked for.
    due = delivery.next_attempt_at or now
    cooling_until = None
    if breaker is not None and breaker.state == BreakerState.OPEN and breaker.open_until and breaker.open_until > now:
        cooling_until = breaker.open_until
    if cooling_until is not None and cooling_until >= due:
        return StatusLine(
            _("Waiting: the channel is cooling off, next attempt %(when)s")
            % {"when": relative(cooling_until, now=now)},
            "waiting",
            reason,
        )
    if delivery.pending_trigger == Trigger.MANUAL:
        return StatusLine(_("Manual retry queued, sending %(when)s") % {"when": relative(due, now=now)}, "waiting")
    if delivery.pending_trigger == Trigger.RESEND and count == 0:
        return StatusLine(_("Resend queued, sending %(when)s") % {"when": relative(due, now=now)}, "waiting")
    if count == 0:
        return StatusLine(_("Queued, first attempt %(when)s") % {"when": relative(due, now=now)}, "waiting")
    if delivery.last_error == ErrorKind.WORKER_LOST:
        return StatusLine(
            _("Sending again %(when)s: the worker sending it stopped") % {"when": relative(due, now=now)},
            "waiting",
            reason,
        )
    retries_left = max(0, settings.WEBHOOKS_MAX_RETRIES - max(0, delivery.automatic_attempts - 1))
    return StatusLine(
        ngettext(
            "Retrying, next attempt %(when)s (%(left)d retry left)",
            "Retrying, next attempt %(when)s (%(left)d retries left)",
            retries_left,
        )
        % {"when": relative(due, now=now), "left": retries_left},
        "waiting",
        reason,
    )


def reason_phrase_of(delivery) -> str:
    return reason_phrase(
        error=delivery.last_error,
        response_status=delivery.last_response_status,
        detail=delivery.failure_reason,
        timeout_s=delivery.channel.timeout,
    )
