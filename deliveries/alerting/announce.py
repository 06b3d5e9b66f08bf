"""Emitting the operational events (category "System"), each at most once, never to the channel they are about."""

from __future__ import annotations

import logging
import uuid
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from channels.models import Channel
from deliveries.fanout import emit_event
from events.catalogue.operations import KEYS
from events.models import Event, Source

logger = logging.getLogger(__name__)

OPERATIONAL_TYPES = frozenset(KEYS)
# Event ids are derived from what an event is about, so that two watch jobs running at once (or
# a job run again after a crash) emit the same event once: emit returns the stored one.
_NAMESPACE = uuid.UUID("6d1c3f0e-2b7a-4f5e-9c1d-0b7e5a1c2d3f")


def channel_summary(channel: Channel) -> dict:
    summary = {"id": channel.pk, "name": channel.name, "kind": channel.kind}
    if channel.url:
        # Slack and postback URLs carry credentials in their path or query: scheme and host only.
        parts = urlsplit(channel.url)
        summary["url"] = f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"
    return summary


def announce(key: str, *, about: str, payload: dict, channel_id: int) -> Event | None:
    """Emit operational event ``key`` (idempotent per ``about``), to every attached channel but ``channel_id``.

    Never raises: an announcement that cannot be written is logged, and the check that made it goes on.
    """
    try:
        with transaction.atomic():
            event, _created = emit_event(
                key,
                source=Source.ADMIN,
                payload=payload,
                event_id=uuid.uuid5(_NAMESPACE, about),
                except_channel_ids=(channel_id,),
            )
        return event
    except (DatabaseError, ValidationError):
        logger.exception("The operational event %s (%s) could not be emitted", key, about)
        return None
