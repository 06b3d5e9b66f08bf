"""Signing secrets (SPEC section 6): the one generator, and which secrets sign a postback now.

A rotation keeps the secret it replaces signing for a grace period (``previous_secret``,
until ``previous_secret_expires_at``). A second rotation within that period does not cut the
first one's overlap short: the secret it displaces from ``previous_secret`` moves, with its own
expiry, to ``older_secrets``, and signs until then too.
"""

import base64
import datetime as dt
import secrets
from datetime import datetime

from django.utils import timezone

SECRET_PREFIX = "whsec_"
# Secrets signing at once at most (the current one included): each adds a signature to every postback.
MAX_SIGNING_SECRETS = 10


def generate_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` + base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _expiry(entry: dict) -> datetime | None:
    try:
        return dt.datetime.fromisoformat(entry["expires_at"])
    except (KeyError, TypeError, ValueError):
        return None


def earlier_secrets(channel, *, now: datetime | None = None) -> list[tuple[str, datetime]]:
    """The replaced secrets still in their overlap, newest first, each with the time it stops signing."""
    now = now or timezone.now()
    kept = []
    if channel.previous_secret and channel.previous_secret_expires_at and channel.previous_secret_expires_at > now:
        kept.append((channel.previous_secret, channel.previous_secret_expires_at))
    for entry in channel.older_secrets or []:
        expires_at = _expiry(entry)
        if entry.get("secret") and expires_at is not None and expires_at > now:
            kept.append((entry["secret"], expires_at))
    return kept


def signing_secrets(channel, *, now: datetime | None = None) -> list[str]:
    """The secrets a postback is signed with: the current one, and every replaced one still in its overlap."""
    return [channel.secret, *(secret for secret, _ in earlier_secrets(channel, now=now))]
