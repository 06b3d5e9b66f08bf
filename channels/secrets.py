"""Signing secrets (SPEC section 6): the one generator, and which secrets sign a postback now."""

import base64
import secrets
from datetime import datetime

from django.utils import timezone

SECRET_PREFIX = "whsec_"


def generate_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` + base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def signing_secrets(channel, *, now: datetime | None = None) -> list[str]:
    """The secrets a postback is signed with: the current one, and the previous one during its grace period."""
    now = now or timezone.now()
    current = [channel.secret]
    if channel.previous_secret and channel.previous_secret_expires_at and channel.previous_secret_expires_at > now:
        current.append(channel.previous_secret)
    return current
