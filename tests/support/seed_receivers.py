"""Receivers written from the seed systems' own documentation (``tests/support/seeds/``), not from our code.

Each ``parse_*`` is what a merchant's endpoint written for that system would do with a request
body: check the fields the seed documents, with the types its example JSON has, and dispatch on
the event type names the seed lists. The names, the fields and the example bodies are read from
the seed files themselves, so a format that drifts from its seed fails here.
Every one of them also verifies the Standard Webhooks signature with the ``standardwebhooks``
package, as SPEC section 4 tells integrators to.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from standardwebhooks.webhooks import Webhook

SEEDS = Path(__file__).resolve().parent / "seeds"


def seed_text(name: str) -> str:
    return (SEEDS / name).read_text(encoding="utf-8")


# --- Seed 001 (Fakturia) --------------------------------------------------------------


def fakturia_event_types() -> dict[str, list[str]]:
    """Seed 001's event types, each with the payload attributes its table lists ("Attribute: customer")."""
    text = seed_text("001_fakturia.txt")
    table = text.split("Event Type Beschreibung DE Description EN Schema (payload)", 1)[1].split("Example JSON", 1)[0]
    types: dict[str, list[str]] = {}
    current = None
    for line in table.splitlines():
        name = re.match(r"([A-Z][A-Z_]+[A-Z]) ", line)
        if name:
            current = name.group(1)
            types[current] = []
        for attribute in re.findall(r"Attribute:\s+(\w+)\s+Type:", line):
            types[current].append(attribute)
    return types


def fakturia_example() -> dict:
    """The seed's "Example JSON: CUSTOMER_CREATED"."""
    text = seed_text("001_fakturia.txt")
    return json.loads(text.split("Example JSON: CUSTOMER_CREATED", 1)[1].strip())


# The field list of seed 001 ("Each Webhook consists of the following fields"). It writes the last
# one "payLoad"; its example JSON, which a receiver is written against, says "payload".
FAKTURIA_FIELDS = ("eventType", "triggerDate", "triggerUser", "webhookConfig", "retryCount", "payload")


@dataclass
class FakturiaWebhook:
    event_type: str
    trigger_date: dt.datetime  # naive: the sender's local time, as the seed's example has it
    trigger_user: str | None
    webhook_config: int
    retry_count: int
    payload: dict


def parse_fakturia(body: bytes) -> FakturiaWebhook:
    data = json.loads(body)
    example = fakturia_example()
    assert set(data) == set(FAKTURIA_FIELDS), sorted(data)
    for field, value in example.items():  # the example's fields, with the example's JSON types
        assert type(data[field]) is type(value), (field, data[field])
    types = fakturia_event_types()
    assert data["eventType"] in types, data["eventType"]
    # "2019-05-22T10:52:15": no offset, no fraction
    trigger_date = dt.datetime.strptime(data["triggerDate"], "%Y-%m-%dT%H:%M:%S")
    assert data["triggerUser"] is None or isinstance(data["triggerUser"], str)
    # A test call is sent to a channel, not generated for one of its configurations: no id then.
    assert isinstance(data["webhookConfig"], int) or (data["eventType"] == "TESTHOOK" and data["webhookConfig"] is None)
    assert isinstance(data["retryCount"], int)
    for attribute in types[data["eventType"]]:  # "Attribute: customer Type: Customer"
        assert attribute in data["payload"], (data["eventType"], attribute, sorted(data["payload"]))
    return FakturiaWebhook(
        data["eventType"], trigger_date, data["triggerUser"], data["webhookConfig"], data["retryCount"], data["payload"]
    )


# --- Seed 000 (Nitrobox) ----------------------------------------------------------------


def nitrobox_identifiers() -> list[str]:
    """The "technical identifier" column of seed 000's table of available notifications."""
    identifiers = []
    for line in seed_text("000_nitrobox.txt").splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) >= 3 and re.fullmatch(r"[a-z][A-Za-z]*\.[a-z][A-Za-z]*", cells[1]):
            identifiers.append(cells[1])
    return identifiers


@dataclass
class NitroboxNotification:
    event_id: str
    identifier: str
    occurred_at: dt.datetime
    payload: dict


def parse_nitrobox(body: bytes) -> NitroboxNotification:
    """Seed 000 documents only the identifiers; SPEC section 12 gives its channels section 4's envelope."""
    data = json.loads(body)
    assert data["eventType"] in nitrobox_identifiers(), data["eventType"]
    uuid.UUID(data["eventId"])
    occurred_at = dt.datetime.fromisoformat(data["occurredAt"].replace("Z", "+00:00"))
    assert isinstance(data["payload"], dict)
    return NitroboxNotification(data["eventId"], data["eventType"], occurred_at, data["payload"])


# --- Seed 002 (flat document status notifications) --------------------------------------


def flat_event_types() -> list[str]:
    """The "Event types" table of seed 002 (its cells run together: ``DOCUMENT_STATUS_CHANGEDTriggered ...``)."""
    return re.findall(r"^([A-Z]+(?:_[A-Z]+)+)Triggered", seed_text("002_flat.txt"), re.M)


def flat_example() -> dict:
    text = seed_text("002_flat.txt")
    return json.loads(text.split("Example payload", 1)[1].split("Idempotency", 1)[0].strip())


def flat_document_statuses() -> list[str]:
    text = seed_text("002_flat.txt").split("StatusDescription", 1)[1].split("Example payload", 1)[0]
    return re.findall(r"^([A-Z_]+?)The ", text, re.M)


@dataclass
class FlatNotification:
    event_id: str
    event_type: str
    occurred_at: dt.datetime
    fields: dict  # every field of the body


def parse_flat(body: bytes) -> FlatNotification:
    """A ``WebhookNotificationPayload``: the fields of the seed's table and example, all at the top level."""
    data = json.loads(body)
    example = flat_example()
    for field, value in example.items():
        assert field in data, (field, sorted(data))
        assert type(data[field]) is type(value), (field, data[field])
    uuid.UUID(data["eventId"])
    assert data["eventType"] in flat_event_types(), data["eventType"]
    # "ISO 8601 timestamp ... (e.g., 2025-03-30T10:15:00Z)"
    occurred_at = dt.datetime.fromisoformat(data["occurredAt"].replace("Z", "+00:00"))
    assert occurred_at.tzinfo is not None
    assert data["currentStatus"] in flat_document_statuses(), data["currentStatus"]
    return FlatNotification(data["eventId"], data["eventType"], occurred_at, data)


def verify_signature(secret: str, body: bytes, headers: dict) -> None:
    """Standard Webhooks verification, as any of its libraries does it (raises when it fails)."""
    Webhook(secret).verify(body, headers)
