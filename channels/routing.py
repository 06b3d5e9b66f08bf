"""Where ingested events go, read once per process: event types and the subscriptions that match them.

Ingest and ``emit`` read the same few rows on every call (the event type, its active subscriptions on active
channels). This keeps them per process, under a version held in the shared cache (Redis): every
change of an event type, subscription or channel bumps the version, right away and again once its
transaction commits, so the next event of any process reads the rows again. A subscription attached
in the admin applies to the next event, whichever process takes it.

A cache that other processes cannot see (``LocMemCache``, ``DummyCache``: no ``REDIS_URL``) could
not tell them about a change. On SQLite, whose processes all share one machine, the version is then
kept in a file beside the database (``WEBHOOKS_ROUTING_VERSION_FILE``, replaced atomically on each
change); otherwise nothing is kept and every call reads the database, as before.
``WEBHOOKS_ROUTING_CACHE``: ``auto`` (the default: kept when the cache is shared or there is a
version file), ``on``, ``off``. An ``emit`` looks at the version once (``snapshot``).
Whatever the version says, rows are kept at most ``MAX_AGE_S``, so a change announced while the
cache was unreachable reaches every process soon; with the cache down, every call reads the database.
"""

from __future__ import annotations

import copy
import logging
import os
import time
import uuid

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

from channels.models import Channel, Subscription
from common.reads import rows_by
from events.models import EventType

logger = logging.getLogger(__name__)

VERSION_KEY = "webhooks:routing-version"
SOURCES = ("admin", "shop", "funnel")

# The longest this process keeps routing rows, even when no change was announced.
MAX_AGE_S = 10.0

_local: dict = {"version": None, "since": 0.0, "types": {}, "subscriptions": {}}


def _version_source() -> str | None:
    """Where the version is kept: ``"cache"``, ``"file"``, or None (nothing is kept)."""
    mode = getattr(settings, "WEBHOOKS_ROUTING_CACHE", "auto")
    if mode == "off":
        return None
    # The backend itself: ``cache`` is a proxy, never an instance of a backend class.
    if not isinstance(caches[DEFAULT_CACHE_ALIAS], (LocMemCache, DummyCache)):
        return "cache"
    if getattr(settings, "WEBHOOKS_ROUTING_VERSION_FILE", ""):
        return "file"
    return "cache" if mode == "on" else None


def enabled() -> bool:
    return _version_source() is not None


def _read_version(source: str) -> str | None:
    if source == "file":
        path = settings.WEBHOOKS_ROUTING_VERSION_FILE
        try:
            with open(path, encoding="ascii") as f:
                version = f.read()
        except FileNotFoundError:  # never set: start a version (a concurrent start costs one more read)
            _write_version_file(path)
            with open(path, encoding="ascii") as f:
                version = f.read()
        return version or None
    version = cache.get(VERSION_KEY)
    if version is None:  # never set, or evicted: start a version (the first writer wins)
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY)
    return version


def _write_version_file(path: str) -> None:
    """A new version in ``path``, atomically: a reader sees the old text or the new, never part of one."""
    temporary = f"{path}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
    with open(temporary, "w", encoding="ascii") as f:
        f.write(uuid.uuid4().hex)
    os.replace(temporary, path)


def _current() -> dict | None:
    """This process's store for the current version (emptied when the version moved); None: keep nothing."""
    source = _version_source()
    if source is None:
        return None
    if connection.in_atomic_block and any(entry[1] is _bump for entry in connection.run_on_commit):
        # This transaction changed routing rows: what it reads may yet be rolled back. Keep nothing.
        return None
    try:
        version = _read_version(source)
    except Exception:  # the shared cache (or the version file) is unreachable: read the database, as without it
        logger.warning("Routing cache unreachable; reading event types and subscriptions from the database")
        return None
    if version is None:
        return None
    now = time.monotonic()
    # A bump lost to a cache outage must not keep stale routing for long: rows are read again at
    # least every MAX_AGE_S whatever the version says.
    if _local["version"] != version or now - _local["since"] > MAX_AGE_S:
        _local.update(version=version, since=now, types={}, subscriptions={})
    return _local


class Snapshot:
    """``event_types`` and ``matching`` under one look at the version (one cache read for an ``emit``)."""

    def __init__(self):
        self.store = _current()

    def event_types(self, keys: set[str]) -> dict[str, EventType]:
        return _event_types(self.store, keys)

    def matching(self, type_ids: set[str]) -> dict[tuple[str, str], list[tuple[int, int]]]:
        return _matching(self.store, type_ids)


def snapshot() -> Snapshot:
    return Snapshot()


def event_types(keys: set[str]) -> dict[str, EventType]:
    """``EventType.objects.in_bulk(keys)``; from this process's store when it has them (copies: callers may
    hold on to them)."""
    return _event_types(_current(), keys)


def matching(type_ids: set[str]) -> dict[tuple[str, str], list[tuple[int, int]]]:
    """The active subscriptions on active channels of ``type_ids``: (subscription id, channel id) by
    (event type id, source)."""
    return _matching(_current(), type_ids)


def _event_types(store: dict | None, keys: set[str]) -> dict[str, EventType]:
    if store is None:
        return rows_by(EventType, "key", keys)
    missing = {k for k in keys if k not in store["types"]}
    if missing:
        found = rows_by(EventType, "key", missing)
        for key in missing:
            store["types"][key] = found.get(key)  # None: no such type (until one is made: a change)
    return {k: copy.copy(store["types"][k]) for k in keys if store["types"].get(k) is not None}


def _matching(store: dict | None, type_ids: set[str]) -> dict[tuple[str, str], list[tuple[int, int]]]:
    missing = set(type_ids) if store is None else {t for t in type_ids if t not in store["subscriptions"]}
    read: dict[str, list[tuple]] = {t: [] for t in missing}
    if missing:
        for row in _active_subscriptions(missing):
            read[row[2]].append(row)
        if store is not None:
            store["subscriptions"].update(read)
    result: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for type_id in type_ids:
        rows = read[type_id] if type_id in read else store["subscriptions"][type_id]
        for pk, channel_id, _type, *flags in sorted(rows):
            for source, on in zip(SOURCES, flags, strict=True):
                if on:
                    result.setdefault((type_id, source), []).append((pk, channel_id))
    return result


_SUBSCRIPTIONS_SQL: dict[tuple, str] = {}


def _active_subscriptions(type_ids: set[str]) -> list[tuple]:
    """``Subscription.objects.filter(event_type_id__in=type_ids, active=True, channel__active=True)
    .values_list("pk", "channel_id", "event_type_id", "source_admin", "source_shop", "source_funnel")``,
    with the statement's text built once per process (it is read on every event when nothing is kept)."""
    key = (connection.alias, len(type_ids))
    sql = _SUBSCRIPTIONS_SQL.get(key)
    if sql is None:
        q = connection.ops.quote_name
        sub, chan = Subscription._meta, Channel._meta
        s = {n: f"s.{q(sub.get_field(n).column)}" for n in ("id", "channel", "event_type", "active", *_FLAGS)}
        placeholders = ", ".join(["%s"] * len(type_ids))
        sql = _SUBSCRIPTIONS_SQL[key] = (
            f"SELECT {s['id']}, {s['channel']}, {s['event_type']}, {', '.join(s[f] for f in _FLAGS)} "
            f"FROM {q(sub.db_table)} s INNER JOIN {q(chan.db_table)} c ON c.{q(chan.pk.column)} = {s['channel']} "
            f"WHERE {s['event_type']} IN ({placeholders}) AND {s['active']} = %s AND c.{q(chan.get_field('active').column)} = %s"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*sorted(type_ids), True, True])
        # SQLite answers 0/1 for a boolean column
        return [(pk, channel_id, type_id, *map(bool, flags)) for pk, channel_id, type_id, *flags in cursor.fetchall()]


_FLAGS = tuple(f"source_{source}" for source in SOURCES)


def changed() -> None:
    """Routing rows changed: every process reads them again, now and once the change is committed
    (a process reading between the two could otherwise keep the rows as they were before the commit).
    Until then the changing transaction itself keeps nothing: a rollback would leave no trace to undo."""
    if not enabled():
        _local.update(version=None, types={}, subscriptions={})
        return
    _bump()
    transaction.on_commit(_bump)


def _bump() -> None:
    try:
        if _version_source() == "file":
            _write_version_file(settings.WEBHOOKS_ROUTING_VERSION_FILE)
        else:
            cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:  # unreachable: other processes read the rows again within MAX_AGE_S
        logger.warning("Could not tell other processes that routing changed (cache unreachable)")
    _local.update(version=None, types={}, subscriptions={})  # this process reads them again at once


def _on_change(sender, **kwargs):
    changed()


for _model in (EventType, Subscription, Channel):
    post_save.connect(_on_change, sender=_model, dispatch_uid=f"routing-{_model.__name__}-save")
    post_delete.connect(_on_change, sender=_model, dispatch_uid=f"routing-{_model.__name__}-delete")
