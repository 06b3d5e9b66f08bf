"""The pure parts of the robustness scenarios: double sends, unrecorded requests, percentiles.

A request is a ``Logged`` of ``bench/robust_receiver.py`` (or anything with ``webhook_id``,
``channel``, ``arrived``, ``ended`` and ``status``); a delivery is one (channel, webhook-id)
pair, since one event goes to several channels under the same webhook-id.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from bench.harness import percentile


def _key(request) -> tuple[str, str]:
    return (request.channel, request.webhook_id)


def double_sends(requests, *, exempt=frozenset(), killed_at: float | None = None) -> list[dict]:
    """Requests of a delivery that overlap another request of it, or follow a 2xx answer to it.

    ``exempt``: deliveries in flight on a worker killed at ``killed_at`` (their attempt row was
    open at the kill). Their re-send after the kill is at-least-once, not a double send: a pair
    of requests of an exempt delivery straddling the kill is not compared. Two requests of it
    both after the kill still are. A request with no end (still open) overlaps everything after it.
    """
    by_delivery = defaultdict(list)
    for r in requests:
        by_delivery[_key(r)].append(r)
    found = []
    for key, sent in by_delivery.items():
        sent.sort(key=lambda r: r.arrived)
        for i, later in enumerate(sent):
            for earlier in sent[:i]:
                if key in exempt and killed_at is not None and earlier.arrived < killed_at <= later.arrived:
                    continue
                end = earlier.ended if earlier.ended is not None else float("inf")
                if later.arrived < end:
                    found.append({"delivery": key, "why": "overlap", "first": earlier.arrived, "then": later.arrived})
                    break
                if earlier.status is not None and 200 <= earlier.status < 300:
                    found.append({"delivery": key, "why": "after_2xx", "first": earlier.arrived, "then": later.arrived})
                    break
    return found


def unrecorded_requests(requests, attempt_rows: dict) -> int:
    """Requests beyond the attempt rows of their delivery (``attempt_rows``: (channel, webhook-id) -> rows).

    An attempt row is written before its request goes out, so more rows than requests is allowed
    (a worker killed between the two), fewer is a send the log does not show.
    """
    sent = Counter(_key(r) for r in requests)
    return sum(max(0, n - attempt_rows.get(key, 0)) for key, n in sent.items())


def latency_summary(values_ms: list[float]) -> dict:
    """p50, p99 and max (nearest rank, ms) of a non-empty list, rounded for the report."""
    return {
        "p50_ms": round(percentile(values_ms, 50), 1),
        "p99_ms": round(percentile(values_ms, 99), 1),
        "max_ms": round(max(values_ms), 1),
        "count": len(values_ms),
    }


def p99_ratio(phase_b_ms: list[float], phase_a_ms: list[float]) -> float:
    """The p99 of phase B over the p99 of phase A (nearest rank)."""
    return percentile(phase_b_ms, 99) / percentile(phase_a_ms, 99)
