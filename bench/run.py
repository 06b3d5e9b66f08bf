#!/usr/bin/env python3
"""`make bench`: run every scenario side by side in one process tree, print a table,
write bench/results.json. `--quick` (make bench QUICK=1) runs smaller versions.

Each scenario runs in its own subprocess against its own database (a fresh copy of a
migrated SQLite file under var/bench/, or a fresh PostgreSQL database bench_postbacks_*
made from a migrated template) and its own django-q2 cluster name on its own Redis db,
so it never touches anyone else's data. Scenarios whose backend (PostgreSQL, Redis) is
not reachable are reported as skipped. See docs/PERFORMANCE.md for how to read them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from bench.harness import PYTHON, ROOT, VAR

RESULTS = ROOT / "bench" / "results.json"
PERFORMANCE_MD = ROOT / "docs" / "PERFORMANCE.md"
DOC_START, DOC_END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"

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
}

# Errors that say the shared machine's PostgreSQL or Redis went away for a moment.
TRANSIENT = (
    "terminating connection",
    "server closed the connection",
    "Connection refused",
    "connection to server",
    "Error 111",
)

# The keys of bench/results.json, in table order.
KEYS = [
    "raw_session_posts_per_s",
    "q2_noop_sqlite_per_s",
    "q2_noop_pg_redis_per_s",
    "e2e_sqlite_per_s",
    "e2e_pg_redis_per_s",
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
    "admin_ms_at_1m",
    "worker_rss_growth",
]


def plan(quick: bool) -> list[dict]:
    """What runs, in order, with its sizes. ``backend``: none, sqlite, pg_redis, pg, or best
    (PostgreSQL + Redis when both answer, else SQLite)."""
    q = quick
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
            "name": "latency_sqlite",
            "scenario": "latency",
            "backend": "sqlite",
            "keys": ["latency_p50_ms_sqlite", "latency_p99_ms_sqlite"],
            "cfg": {"rate": 100, "seconds": 5 if q else 30, "suffix": "_sqlite", "timeout": 120},
        },
        {
            "name": "latency_pg_redis",
            "scenario": "latency",
            "backend": "pg_redis",
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
        {
            "name": "ingest",
            "scenario": "ingest",
            "backend": "best",
            "keys": ["ingest_per_s", "trivial_per_s", "ratio_ingest_vs_trivial"],
            "cfg": {"workers": 2 * (os.cpu_count() or 1), "threads": 8, "rounds": 2, "seconds": 3 if q else 8},
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


class Backends:
    def __init__(self, log: Path, run_id: str):
        self.log = log
        self.run_id = run_id
        self.pg_missing = harness.pg_available()
        self.redis_missing = harness.redis_available()
        self.sqlite_template: Path | None = None
        self.pg_template: str | None = None

    def resolve(self, backend: str) -> str:
        if backend == "best":
            return "sqlite" if (self.pg_missing or self.redis_missing) else "pg_redis"
        return backend

    def missing(self, backend: str) -> str | None:
        if backend == "pg_redis":
            return self.pg_missing or self.redis_missing
        if backend == "pg":
            return self.pg_missing
        return None

    def database(self, backend: str, name: str) -> tuple[str, str | None]:
        """(DATABASE_URL, REDIS_URL) of a fresh database for one scenario; names carry the run's
        id, so that two runs at once (a test of the harness during a full run) stay apart."""
        if backend == "none":
            return "", None
        if backend == "sqlite":
            if self.sqlite_template is None:
                self.sqlite_template = harness.make_sqlite_template(self.log, run_id=self.run_id)
            return harness.sqlite_copy(self.sqlite_template, f"{name}-{self.run_id}"), None
        if self.pg_template is None:
            self.pg_template = harness.make_pg_template(self.log, run_id=self.run_id)
        # The 1,000,000-row database has one well-known name; the others are per run.
        dbname = harness.PG_DB_PREFIX if backend == "pg" else f"{harness.PG_DB_PREFIX}_{name}_{self.run_id}"
        url = harness.pg_create_from_template(dbname, self.pg_template)
        return url, (harness.REDIS_BASE_URL if backend == "pg_redis" else None)

    def release(self, backend: str, name: str, database_url: str) -> None:
        if database_url.startswith("sqlite:///"):
            harness.remove_sqlite(Path(database_url[len("sqlite:///") :]))
        elif database_url:
            harness.pg_drop(database_url.rsplit("/", 1)[1])

    def close(self) -> None:
        if self.pg_template:
            harness.pg_drop(self.pg_template)
        if self.sqlite_template:
            harness.remove_sqlite(self.sqlite_template)


def run_scenario(item: dict, *, backends: Backends, receiver_url: str, log_dir: Path, run_id: str) -> dict:
    backend = backends.resolve(item["backend"])
    name = item["name"]
    database_url, redis_url = backends.database(backend, name)
    cluster = f"bench-{name}-{run_id}"
    cfg = {**item["cfg"], "name": name, "receiver": receiver_url, "log_dir": str(log_dir)}
    env = harness.django_env(
        database_url=database_url or "sqlite://:memory:", redis_url=redis_url, cluster_name=cluster
    )
    if item["scenario"] == "admin_at_scale":
        env["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    started = time.monotonic()
    loadavg = os.getloadavg()[0]
    try:
        with open(log_dir / f"{name}.log", "wb") as err:
            proc = subprocess.run(
                [PYTHON, "-m", "bench.scenarios", item["scenario"], json.dumps(cfg)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                timeout=cfg.get("timeout", 900) + 600,
            )
        lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
        if proc.returncode != 0 or not lines:
            tail = (log_dir / f"{name}.log").read_text(errors="replace").strip().splitlines()[-3:]
            raise harness.ScenarioError(" | ".join(tail) or f"exit code {proc.returncode}")
        result = json.loads(lines[-1][len("RESULT ") :])
    finally:
        if redis_url:
            harness.redis_cleanup(redis_url, cluster)
        backends.release(backend, name, database_url)
    result.setdefault("details", {})
    result["details"].update(
        backend=backend,
        wall_s=round(time.monotonic() - started, 1),
        loadavg_1m_before=round(loadavg, 2),
        loadavg_1m_after=round(os.getloadavg()[0], 2),
    )
    return result


def derive(results: dict) -> None:
    def ratio(key, num, den):
        if results.get(num) and results.get(den):
            results[key] = results[num] / results[den]

    ratio("ratio_e2e_pg_vs_raw", "e2e_pg_redis_per_s", "raw_session_posts_per_s")
    ratio("ratio_e2e_sqlite_vs_raw", "e2e_sqlite_per_s", "raw_session_posts_per_s")
    ratio("ratio_e2e_sqlite_vs_q2_noop", "e2e_sqlite_per_s", "q2_noop_sqlite_per_s")


def verdict(key: str, value) -> str:
    if key not in TARGETS or value is None:
        return ""
    op, target = TARGETS[key]
    met = value >= target if op == ">=" else value < target
    return f"{'met' if met else 'MISSED'} ({op} {target:g})"


def fmt(value) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def print_table(results: dict, skipped: dict, errors: dict) -> None:
    width = max(len(k) for k in KEYS)
    print()
    print(f"{'key':<{width}}  {'value':>10}  target")
    print(f"{'-' * width}  {'-' * 10}  {'-' * 30}")
    for key in KEYS:
        value = results.get(key)
        note = verdict(key, value)
        if value is None:
            note = "skipped: " + skipped[key] if key in skipped else ("error: " + errors[key] if key in errors else "")
        print(f"{key:<{width}}  {fmt(value):>10}  {note[:140]}")
    print()


def render_markdown(output: dict) -> str:
    """The figures block of docs/PERFORMANCE.md, written from a full run's results."""
    m = output["machine"]
    lines = [
        DOC_START,
        f"{'Quick' if output['quick'] else 'Full'} run finished {output['finished_at']} in {output['duration_s'] / 60:.1f} min "
        f"(`bench/results.json`). Machine: {m['nproc']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB, "
        f"{m['os']}; Python {m['python']}, Django {m['django']}, django-q2 {m['django_q2']}, "
        f"DRF {m['djangorestframework']}, requests {m['requests']}, uvicorn {m['uvicorn']}, gunicorn {m['gunicorn']}, "
        f"PostgreSQL {m['postgresql'] or 'absent'}, Redis {m['redis'] or 'absent'}. "
        f"Load average (1, 5, 15 min) {m['loadavg_at_start']} at the start and {m['loadavg_at_end']} at the end: "
        "other engineers' test suites were running on the same two cores.",
        "",
        "| key | value | target | backend |",
        "|---|---:|---|---|",
    ]
    scenario_of = {key: item["name"] for item in plan(False) for key in item["keys"]}
    scenario_of.update(
        ratio_e2e_pg_vs_raw="e2e_pg_redis",
        ratio_e2e_sqlite_vs_raw="e2e_sqlite",
        ratio_e2e_sqlite_vs_q2_noop="e2e_sqlite",
    )
    for key in KEYS:
        value = output.get(key)
        detail = output["details"].get(scenario_of.get(key, ""), {})
        if value is None:
            why = output["skipped"].get(key) or output["errors"].get(key) or "not measured"
            lines.append(f"| `{key}` | - | {verdict_text(key)} | {why[:120]} |")
        else:
            shown = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
            lines.append(f"| `{key}` | {shown} | {verdict(key, value) or '-'} | {detail.get('backend', '')} |")
    lines += ["", "Selected details (all of them are in `bench/results.json`):", ""]
    d = output["details"]

    def line(name, text):
        if name in d and "error" not in d[name]:
            try:
                lines.append(f"- {name}: " + text(d[name]))
            except (KeyError, TypeError, ValueError):
                pass

    for name in ("e2e_sqlite", "e2e_pg_redis"):
        line(
            name,
            lambda x: (
                f"{x['events']:,} deliveries in {x['seconds']} s, first after {x['first_arrival_after_s']} s; "
                f"raw loop just before {x['raw_posts_per_s_just_before']:,}/s, ratio to it "
                f"{x['ratio_vs_raw_just_before']}; duplicates {x['duplicates']}; statuses {x['statuses']}; "
                f"backlog emitted at {x['emit_per_s']}/s."
            ),
        )
    for name in ("q2_noop_sqlite", "q2_noop_pg_redis"):
        line(name, lambda x: f"{x['tasks']:,} tasks drained in {x['seconds']} s.")
    for name in ("latency_sqlite", "latency_pg_redis"):
        line(
            name,
            lambda x: (
                f"{x['events']:,} events at {x['achieved_rate']}/s (target {x['target_rate']}), "
                f"mean {x['mean_ms']} ms, max {x['max_ms']} ms, missing {x['missing']}."
            ),
        )
    line(
        "fanout",
        lambda x: (
            f"{x['deliveries']:,} deliveries in {x['seconds']} s, emit of one event to "
            f"{x['subscriptions']} subscriptions {x['emit_ms_median']} ms (median)."
        ),
    )
    line(
        "slow_endpoint",
        lambda x: (
            f"healthy p50 {x['p50_ms_without_slow']} -> {x['p50_ms_with_slow']} ms, "
            f"p99 {x['p99_ms_without_slow']} -> {x['p99_ms_with_slow']} ms "
            f"({x['healthy_events_per_condition']} healthy events per condition); "
            f"slow endpoint outcomes {x['slow_endpoint_outcomes']}."
        ),
    )
    line("ingest", lambda x: f"gunicorn {x['gunicorn_workers']} sync workers, {x['client_threads']} client threads.")
    line(
        "admin_1m",
        lambda x: (
            "median ms per page: "
            + ", ".join(f"{page} {v['median_ms']} ({v['queries']} queries)" for page, v in x["pages"].items())
            + f"; database {x['database_size']}, seeded in {sum(x['seed_timings_s'].values()):.0f} s."
        ),
    )
    line(
        "worker_rss",
        lambda x: (
            f"{x['rss_mib_small']} MiB after {x['deliveries_small']:,}, {x['rss_mib_large']} MiB after "
            f"{x['deliveries_large']:,} ({x['processes_large']} processes; largest "
            f"{x['largest_process_mib_small']} -> {x['largest_process_mib_large']} MiB)."
        ),
    )
    lines.append(DOC_END)
    return "\n".join(lines)


def verdict_text(key: str) -> str:
    if key not in TARGETS:
        return "-"
    op, target = TARGETS[key]
    return f"{op} {target:g}"


def update_performance_md(output: dict) -> None:
    if not PERFORMANCE_MD.exists():
        return
    text = PERFORMANCE_MD.read_text()
    if DOC_START not in text or DOC_END not in text:
        return
    head, rest = text.split(DOC_START, 1)
    _, tail = rest.split(DOC_END, 1)
    PERFORMANCE_MD.write_text(head + render_markdown(output) + tail)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, under 3 minutes on SQLite alone")
    parser.add_argument("--only", default="", help="comma-separated scenario names (raw, e2e_sqlite, ...)")
    parser.add_argument("--output", default=str(RESULTS), help="where to write the JSON results")
    args = parser.parse_args(argv)
    if args.only and args.output == str(RESULTS):
        args.output = str(VAR / "results-only.json")  # a partial run never replaces the committed figures

    VAR.mkdir(parents=True, exist_ok=True)
    run_id = f"{os.getpid()}"
    log_dir = VAR / f"logs-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{run_id}"
    log_dir.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    machine = harness.machine_info()
    backends = Backends(log_dir / "migrate.log", run_id)
    only = {s for s in args.only.split(",") if s}
    results: dict = {}
    details: dict = {}
    skipped: dict = {}
    errors: dict = {}

    print(
        f"bench: {'quick' if args.quick else 'full'} run on {machine['nproc']} x {machine['cpu_model']}, "
        f"load {machine['loadavg_at_start']}; logs in {log_dir.relative_to(ROOT)}",
        flush=True,
    )
    for reason in filter(None, [backends.pg_missing, backends.redis_missing]):
        print(f"bench: {reason}", flush=True)
    try:
        with harness.receiver_process(log_dir / "receiver.log") as receiver:
            for item in plan(args.quick):
                if only and item["name"] not in only:
                    continue
                backend = backends.resolve(item["backend"])
                reason = backends.missing(backend)
                if not reason and args.quick and item.get("full_only"):
                    reason = "full run only (seeding 1,000,000 rows does not fit in a quick run)"
                if reason:
                    for key in item["keys"]:
                        skipped[key] = reason
                    print(f"bench: {item['name']:<17} skipped: {reason}", flush=True)
                    continue
                print(f"bench: {item['name']:<17} on {backend} ...", end=" ", flush=True)
                receiver.reset()
                try:
                    try:
                        result = run_scenario(
                            item, backends=backends, receiver_url=receiver.url, log_dir=log_dir, run_id=run_id
                        )
                    except harness.ScenarioError as exc:
                        if not any(s in str(exc) for s in TRANSIENT):
                            raise
                        # The machine is shared: a database restarted under us is not a figure.
                        print(f"transient failure ({str(exc)[-120:]}), once more ...", end=" ", flush=True)
                        receiver.reset()
                        result = run_scenario(
                            item, backends=backends, receiver_url=receiver.url, log_dir=log_dir, run_id=run_id + "b"
                        )
                except Exception as exc:  # one scenario's failure must not lose the others' figures
                    message = str(exc) or type(exc).__name__
                    if not isinstance(exc, harness.ScenarioError):
                        traceback.print_exc()
                    for key in item["keys"]:
                        errors[key] = message
                    details[item["name"]] = {"error": message}
                    print(f"ERROR: {message[:300]}", flush=True)
                    continue
                details[item["name"]] = result.pop("details")
                results.update(result)
                shown = ", ".join(f"{k}={fmt(v)}" for k, v in result.items())
                print(f"{shown} ({details[item['name']]['wall_s']} s)", flush=True)
    finally:
        backends.close()

    derive(results)
    machine["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    output = {key: results.get(key) for key in KEYS}
    output.update(
        quick=args.quick,
        finished_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        duration_s=round(time.monotonic() - began, 1),
        machine=machine,
        targets={k: f"{op} {t:g}" for k, (op, t) in TARGETS.items()},
        skipped=skipped,
        errors=errors,
        details=details,
    )
    harness.dump_json(Path(args.output), output)
    if not args.quick and not args.only and Path(args.output) == RESULTS:
        update_performance_md(output)  # the document keeps the latest full figures
    print_table(results, skipped, errors)
    print(f"bench: wrote {args.output} in {output['duration_s']} s", flush=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
