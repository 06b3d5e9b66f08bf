"""Nothing fails silently (SPEC section 10): auto-disable, undelivered alerts, operational events.

A periodic job (``deliveries.tasks.watch``, the ``postbacks-watch`` schedule, once a minute)
runs ``watch.run_checks``: it disables channels whose attempts have all failed for
``WEBHOOKS_DISABLE_AFTER_HOURS``, raises and clears undelivered alerts of critical types,
and announces deliveries whose automatic retries are spent. Each check is a few indexed,
bounded queries. ``reenable.reenable_channel`` is the one-click way back.

Operational events (``events.catalogue.operations``) are emitted here, one layer above
``fanout`` and below the tasks: the engine records outcomes and never emits anything; an
event about a channel is never delivered to that channel; and an operational event's own
delivery never leads to another one (``announce.OPERATIONAL_TYPES`` are skipped everywhere).
"""
