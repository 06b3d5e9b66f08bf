"""What `make bench` runs, in order, with its sizes, and the targets its figures are held against."""

from __future__ import annotations

import os

# key: (comparison, target, note). The goals of issue 6; what is reached is measured, never assumed.
TARGETS = {
    "ratio_e2e_pg_vs_raw": (">=", 0.8),
    "ratio_e2e_sqlite_vs_raw": (">=", 0.5),
    "ratio_e2e_sqlite_vs_q2_noop": (">=", 3.0),
    "latency_p50_ms": ("<", 50.0),
    "latency_p50_ms_sqlite": ("<", 300.0),
    "slow_endpoint_p99_ratio": ("<", 1.2),
    "ratio_ingest_vs_trivial": (">=", 0.5),
    "admin_ms_at_1m": ("<", 500.0),
    "worker_rss_growth": ("<", 1.1),
    "dead10_healthy_p99_ratio": ("<", 1.2),
    "double_sends": ("==", 0),
    "unrecorded_requests": ("==", 0),
    "ratio_latency100_vs_e2e": (">=", 0.8),
    # Issue 12 (Integrator API v1.1).
    "ratio_batch_vs_ingest": (">=", 5.0),
    "ratio_emit_vs_insert": (">=", 0.5),
    "ratio_emit_vs_insert_sqlite": (">=", 0.5),
}

# The keys of bench/results.json, in table order.
KEYS = [
    "raw_session_posts_per_s",
    "q2_noop_sqlite_per_s",
    "q2_noop_pg_redis_per_s",
    "e2e_sqlite_per_s",
    "e2e_pg_redis_per_s",
    "e2e_live_pg_redis_per_s",
    "ratio_e2e_pg_vs_raw",
    "ratio_e2e_sqlite_vs_raw",
    "ratio_e2e_sqlite_vs_q2_noop",
    "latency_p50_ms",
    "latency_p99_ms",
    "latency_p50_ms_sqlite",
    "latency_p99_ms_sqlite",
    "fanout_per_s",
    "slow_endpoint_p99_ratio",
    "ingest_per_s",
    "trivial_per_s",
    "ratio_ingest_vs_trivial",
    "batch_ingest_events_per_s",
    "ratio_batch_vs_ingest",
    "ratio_emit_vs_insert",
    "ratio_emit_vs_insert_sqlite",
    "admin_ms_at_1m",
    "worker_rss_growth",
    "dead10_healthy_p99_ratio",
    "double_sends",
    "unrecorded_requests",
    "latency100_per_s",
    "ratio_latency100_vs_e2e",
]


def plan(quick: bool) -> list[dict]:
    """What runs, in order, with its sizes. ``backend``: none, sqlite, pg_redis, pg, or best
    (PostgreSQL + Redis when both answer, else SQLite)."""
    return [*_throughput(quick), *_latency(quick), *_robust(quick), *_service(quick)]


def _throughput(q: bool) -> list[dict]:
    """The raw HTTP limit, django-q2's own ceiling, end to end on both backends."""
    return [
        {
            "name": "raw",
            "scenario": "raw_session",
            "backend": "none",
            "keys": ["raw_session_posts_per_s"],
            "cfg": {"seconds": 3 if q else 10},
        },
        {
            "name": "q2_noop_sqlite",
            "scenario": "q2_noop",
            "backend": "sqlite",
            "keys": ["q2_noop_sqlite_per_s"],
            "cfg": {"n": 1_000 if q else 20_000, "timeout": 300 if q else 900},
        },
        {
            "name": "q2_noop_pg_redis",
            "scenario": "q2_noop",
            "backend": "pg_redis",
            "keys": ["q2_noop_pg_redis_per_s"],
            "cfg": {"n": 1_000 if q else 20_000, "timeout": 300 if q else 900},
        },
        {
            "name": "e2e_sqlite",
            "scenario": "e2e",
            "backend": "sqlite",
            "keys": ["e2e_sqlite_per_s"],
            "cfg": {"n": 2_000 if q else 20_000, "suffix": "sqlite", "timeout": 300 if q else 900},
        },
        {
            "name": "e2e_pg_redis",
            "scenario": "e2e",
            "backend": "pg_redis",
            "keys": ["e2e_pg_redis_per_s"],
            "cfg": {"n": 2_000 if q else 20_000, "suffix": "pg_redis", "timeout": 300 if q else 900},
        },
        {
            # Emitted while the deliveries are being sent: emitting included, the cluster already running.
            "name": "e2e_live_pg_redis",
            "scenario": "e2e_live",
            "backend": "pg_redis",
            "keys": ["e2e_live_pg_redis_per_s"],
            "cfg": {"n": 2_000 if q else 20_000, "threads": 4, "timeout": 300 if q else 900},
        },
        {
            # Endpoints that answer after 100 ms: the bench receiver's /slow/ path (nginx cannot delay).
            "name": "latency100",
            "scenario": "latency100",
            "backend": "pg_redis",
            "receiver": "bench",
            "keys": ["latency100_per_s", "ratio_latency100_vs_e2e"],
            "cfg": {"n": 2_000 if q else 20_000, "channels": 50, "delay_s": 0.1, "timeout": 300 if q else 900},
        },
    ]


def _latency(q: bool) -> list[dict]:
    """Commit to arrival, fan-out, and a healthy endpoint beside a slow one."""
    return [
        {
            "name": "latency_sqlite",
            "scenario": "latency",
            "backend": "sqlite",
            "receiver": "bench",  # per-event arrival times
            "keys": ["latency_p50_ms_sqlite", "latency_p99_ms_sqlite"],
            "cfg": {"rate": 100, "seconds": 5 if q else 30, "suffix": "_sqlite", "timeout": 120},
        },
        {
            "name": "latency_pg_redis",
            "scenario": "latency",
            "backend": "pg_redis",
            "receiver": "bench",  # per-event arrival times
            "keys": ["latency_p50_ms", "latency_p99_ms"],
            "cfg": {"rate": 100, "seconds": 5 if q else 30, "suffix": "", "timeout": 120},
        },
        {
            "name": "fanout",
            "scenario": "fanout",
            "backend": "best",
            "keys": ["fanout_per_s"],
            "cfg": {"width": 200, "events": 5 if q else 50, "key": "fanout_per_s", "timeout": 300 if q else 600},
        },
        {
            "name": "slow_endpoint",
            "scenario": "slow_endpoint",
            "backend": "best",
            "receiver": "bench",  # the /slow/ delay and per-path arrivals
            "keys": ["slow_endpoint_p99_ratio"],
            "cfg": {
                "rate": 50,
                "slow_rate": 2,
                "sleep_s": 3,
                "timeout_s": 1,
                "seconds": 3 if q else 8,
                "rounds": 2 if q else 3,
                "timeout": 180,
            },
        },
    ]


def _robust(q: bool) -> list[dict]:
    """A healthy channel beside ten dead ones; double sends through a worker's SIGKILL (bench/scenarios/robust.py)."""
    return [
        {
            "name": "dead10",
            "scenario": "dead10",
            "backend": "best",
            "keys": ["dead10_healthy_p99_ratio"],
            "cfg": {
                "rate": 50,
                "seconds": 20 if q else 180,
                "dead": 10,
                "dead_rate": 1,
                "timeout_s": 30,
                "timeout": 300,
            },
        },
        {
            "name": "mixed_kill",
            "scenario": "mixed_kill",
            "backend": "best",
            "keys": ["double_sends", "unrecorded_requests"],
            "cfg": {
                "rate": 10,
                "other_rate": 2,
                "seconds": 20 if q else 120,
                "retry_delays": "1,2,2",
                "stuck_grace_s": 60,
                "timeout": 300,
            },
        },
    ]


def _service(q: bool) -> list[dict]:
    """Ingest over HTTP, the staff pages at 1,000,000 deliveries, a worker's memory."""
    return [
        {
            "name": "ingest",
            "scenario": "ingest",
            "backend": "best",
            "keys": ["ingest_per_s", "trivial_per_s", "ratio_ingest_vs_trivial"],
            "cfg": {"workers": 2 * (os.cpu_count() or 1), "threads": 8, "rounds": 2, "seconds": 3 if q else 8},
        },
        {
            "name": "batch_ingest",
            "scenario": "batch_ingest",
            "backend": "best",
            "keys": ["batch_ingest_events_per_s", "ratio_batch_vs_ingest"],
            "cfg": {
                "workers": 2 * (os.cpu_count() or 1),
                "threads": 8,
                "batch": 100,
                "rounds": 2,
                "seconds": 3 if q else 8,
            },
        },
        {
            "name": "emit_vs_insert_pg",
            "scenario": "emit_vs_insert",
            "backend": "pg_redis",
            "keys": ["ratio_emit_vs_insert"],
            "cfg": {"key": "ratio_emit_vs_insert", "rounds": 3, "seconds": 2 if q else 5},
        },
        {
            "name": "emit_vs_insert_sqlite",
            "scenario": "emit_vs_insert",
            "backend": "sqlite",
            "keys": ["ratio_emit_vs_insert_sqlite"],
            "cfg": {"key": "ratio_emit_vs_insert_sqlite", "rounds": 3, "seconds": 2 if q else 5},
        },
        {
            "name": "admin_1m",
            "scenario": "admin_at_scale",
            "backend": "pg",
            "keys": ["admin_ms_at_1m"],
            "full_only": True,
            "cfg": {"deliveries": 1_000_000, "repeats": 5},
        },
        {
            "name": "worker_rss",
            "scenario": "worker_rss",
            "backend": "best",
            "keys": ["worker_rss_growth"],
            "cfg": {
                "small": 500 if q else 10_000,
                "large": 5_000 if q else 100_000,
                "backlog": 2_000,
                "timeout": 300 if q else 1200,
            },
        },
    ]
