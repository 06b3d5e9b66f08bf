"""The delivery engine: claim due deliveries, send them, record what happened (SPEC sections 4 and 5).

docs/ENGINE.md tells the whole story. ``runtime`` starts one engine per worker process;
``dispatcher`` is its loop; ``claims`` takes rows (only what can start now, within each
channel's cap, round-robin) and writes their attempt rows first; ``send`` makes the attempt
(``transport`` for HTTP, ``envelope`` for the signed body, ``email_sender`` and
``slack_sender`` for the other kinds); ``outcome`` and ``refusals`` are the rules; ``results``
writes outcomes; ``breaker`` cools off channels that do not answer; ``leases`` takes back the
rows of dead workers; ``heartbeat`` says the engine is alive; ``kick`` wakes an engine;
``safe_queue`` keeps django-q2's task queue alive when a worker is killed.
"""
