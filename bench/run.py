#!/usr/bin/env python3
"""`make bench`: run every scenario side by side in one process tree, print a table,
write bench/results.json. `--quick` (make bench QUICK=1) runs smaller versions.

Each scenario runs in its own subprocess against its own database (a fresh copy of a
migrated SQLite file under var/bench/, or a fresh PostgreSQL database bench_postbacks_*
made from a migrated template) and its own django-q2 cluster name on its own Redis db,
so it never touches anyone else's data. Scenarios whose backend (PostgreSQL, Redis) is
not reachable are reported as skipped. See docs/PERFORMANCE.md for how to read them.
What runs is ``bench/plan.py``; what is reported, ``bench/report.py``.
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
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from bench.harness import PYTHON, ROOT, VAR
from bench.plan import KEYS, TARGETS, plan
from bench.report import derive, fmt, print_table, update_performance_md

RESULTS = ROOT / "bench" / "results.json"

# Errors that say the shared machine's PostgreSQL or Redis went away for a moment.
TRANSIENT = (
    "terminating connection",
    "server closed the connection",
    "Connection refused",
    "connection to server",
    "Error 111",
)


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


def run_scenario(item: dict, *, backends: Backends, receiver, log_dir: Path, run_id: str) -> dict:
    backend = backends.resolve(item["backend"])
    name = item["name"]
    database_url, redis_url = backends.database(backend, name)
    cluster = f"bench-{name}-{run_id}"
    cfg = {
        **item["cfg"],
        "name": name,
        "receiver": receiver.url,
        "receiver_kind": receiver.kind,
        "log_dir": str(log_dir),
    }
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
        receiver=receiver.kind,
        wall_s=round(time.monotonic() - started, 1),
        loadavg_1m_before=round(loadavg, 2),
        loadavg_1m_after=round(os.getloadavg()[0], 2),
    )
    return result


@dataclass
class Tally:
    """What the scenarios of one run gave: figures, details per scenario, and why some gave none."""

    results: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)
    skipped: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)


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
    print(
        f"bench: {'quick' if args.quick else 'full'} run on {machine['nproc']} x {machine['cpu_model']}, "
        f"load {machine['loadavg_at_start']}; logs in {log_dir.relative_to(ROOT)}",
        flush=True,
    )
    for reason in filter(None, [backends.pg_missing, backends.redis_missing]):
        print(f"bench: {reason}", flush=True)
    tally = Tally()
    only = {s for s in args.only.split(",") if s}
    try:
        with harness.receivers(log_dir) as (fast, bench, label):
            machine["receiver"] = label
            print(f"bench: receiver {label} (the bench receiver for arrivals and delays)", flush=True)
            for item in plan(args.quick):
                if not only or item["name"] in only:
                    receiver = bench if item.get("receiver") == "bench" else fast
                    _run_item(item, tally, quick=args.quick, backends=backends, receiver=receiver, log_dir=log_dir)
    finally:
        backends.close()
    return _report(tally, args=args, machine=machine, began=began)


def _run_item(item: dict, tally: Tally, *, quick: bool, backends: Backends, receiver, log_dir: Path) -> None:
    """Run one scenario of the plan (or say why not) and add what it gave to ``tally``."""
    backend = backends.resolve(item["backend"])
    reason = backends.missing(backend)
    if not reason and quick and item.get("full_only"):
        reason = "full run only (seeding 1,000,000 rows does not fit in a quick run)"
    if reason:
        for key in item["keys"]:
            tally.skipped[key] = reason
        print(f"bench: {item['name']:<17} skipped: {reason}", flush=True)
        return
    print(f"bench: {item['name']:<17} on {backend} ...", end=" ", flush=True)
    receiver.reset()
    run = dict(backends=backends, receiver=receiver, log_dir=log_dir)
    try:
        try:
            result = run_scenario(item, run_id=backends.run_id, **run)
        except harness.ScenarioError as exc:
            if not any(s in str(exc) for s in TRANSIENT):
                raise
            # The machine is shared: a database restarted under us is not a figure.
            print(f"transient failure ({str(exc)[-120:]}), once more ...", end=" ", flush=True)
            receiver.reset()
            result = run_scenario(item, run_id=backends.run_id + "b", **run)
    except Exception as exc:  # one scenario's failure must not lose the others' figures
        message = str(exc) or type(exc).__name__
        if not isinstance(exc, harness.ScenarioError):
            traceback.print_exc()
        for key in item["keys"]:
            tally.errors[key] = message
        tally.details[item["name"]] = {"error": message}
        print(f"ERROR: {message[:300]}", flush=True)
        return
    tally.details[item["name"]] = result.pop("details")
    tally.results.update(result)
    shown = ", ".join(f"{k}={fmt(v)}" for k, v in result.items())
    print(f"{shown} ({tally.details[item['name']]['wall_s']} s)", flush=True)


def _report(tally: Tally, *, args, machine: dict, began: float) -> int:
    """Write the results (and, after a full run, the figures of docs/PERFORMANCE.md); print the table."""
    derive(tally.results)
    machine["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    output = {key: tally.results.get(key) for key in KEYS}
    output.update(
        receiver=machine.get("receiver"),
        quick=args.quick,
        finished_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        duration_s=round(time.monotonic() - began, 1),
        machine=machine,
        targets={k: f"{op} {t:g}" for k, (op, t) in TARGETS.items()},
        skipped=tally.skipped,
        errors=tally.errors,
        details=tally.details,
    )
    harness.dump_json(Path(args.output), output)
    if not args.quick and not args.only and Path(args.output) == RESULTS:
        update_performance_md(output)  # the document keeps the latest full figures
    print_table(tally.results, tally.skipped, tally.errors)
    print(f"bench: wrote {args.output} in {output['duration_s']} s", flush=True)
    return 1 if tally.errors else 0


if __name__ == "__main__":
    sys.exit(main())
