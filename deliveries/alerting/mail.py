"""E-mail to the staff who may change channels, sent after the transaction commits.

A failing e-mail backend is logged and changes nothing else: the channel stays disabled,
the alert stays open and shown on the dashboard.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse

logger = logging.getLogger(__name__)

CHANGE_CHANNEL = ("channels", "change_channel")


def channel_staff_addresses() -> list[str]:
    """The e-mail addresses of active staff who may change channels (directly, by group, or superusers)."""
    app_label, codename = CHANGE_CHANNEL
    may_change = (
        Q(is_superuser=True)
        | Q(user_permissions__content_type__app_label=app_label, user_permissions__codename=codename)
        | Q(groups__permissions__content_type__app_label=app_label, groups__permissions__codename=codename)
    )
    users = get_user_model().objects.filter(may_change, is_active=True, is_staff=True).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def mail_channel_staff_on_commit(*, subject: str, body: str) -> None:
    """Queue one message to each of ``channel_staff_addresses()`` for when the current transaction commits."""
    recipients = channel_staff_addresses()
    if not recipients:
        return

    def send() -> None:
        messages = [(subject, body, settings.DEFAULT_FROM_EMAIL, [address]) for address in recipients]
        try:
            send_mass_mail(messages, fail_silently=False)
        except Exception:
            logger.exception("Could not e-mail %d staff: %s", len(recipients), subject)

    transaction.on_commit(send)


def channel_page(channel) -> str:
    """The channel's admin page, for the e-mails (a path: staff know the host)."""
    try:
        return reverse("admin:channels_channel_change", args=[channel.pk])
    except NoReverseMatch:  # an installation without the admin
        return f"channel #{channel.pk}"
