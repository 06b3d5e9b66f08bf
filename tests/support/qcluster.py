"""Start ``manage.py qcluster`` as a real subprocess against the current test database.

The subprocess gets the test database (SQLite file or PostgreSQL test database name)
through ``DATABASE_URL``, its own ``Q_CLUSTER_NAME`` (so Redis queues of concurrent
runs never mix), and any extra environment. Stop it gracefully or SIGKILL it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def test_database_url() -> str:
    """A ``DATABASE_URL`` for the database this test process is using right now."""
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or ""
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


class QCluster:
    """``with QCluster() as cluster: ...``; ``cluster.kill()`` for a SIGKILL, ``start()`` again to restart."""

    def __init__(self, *, workers: int = 2, env: dict | None = None, name: str | None = None):
        self.name = name or f"t{uuid.uuid4().hex[:10]}"
        self.workers = workers
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None
        self._saved_conf: tuple | None = None
        self._log = tempfile.NamedTemporaryFile(prefix=f"qcluster-{self.name}-", suffix=".log", delete=False)

    def environment(self) -> dict:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "webhooks_project.test_settings",
            "DATABASE_URL": test_database_url(),
            "Q_CLUSTER_NAME": self.name,
            "Q_WORKERS": str(self.workers),
            "ENV_FILE": os.devnull,
            "PYTHONUNBUFFERED": "1",
        }
        # The test settings pick the test database by suffix; the subprocess is given it directly.
        env.pop("TEST_DB_SUFFIX", None)
        env.update(self.extra_env)
        return env

    def route_kicks_here(self) -> None:
        """Make this (test) process queue its jobs where the cluster listens.

        django-q2 names the queue after the cluster and signs each job with its name
        (``Conf.PREFIX``): both must match the subprocess, or kicks are never run. Undone by stop()/kill().
        """
        from django_q.conf import Conf

        if self._saved_conf is None:
            self._saved_conf = (Conf.PREFIX, Conf.CLUSTER_NAME)
        Conf.PREFIX = Conf.CLUSTER_NAME = self.name

    def _unroute(self) -> None:
        from django_q.conf import Conf

        if self._saved_conf is not None:
            Conf.PREFIX, Conf.CLUSTER_NAME = self._saved_conf
            self._saved_conf = None

    def start(self) -> QCluster:
        # The sweeper schedule may have been flushed away by an earlier transactional test.
        from deliveries.schedules import register_schedules

        register_schedules()
        self.route_kicks_here()
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=self.environment(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so kill() reaches every worker
        )
        return self

    def run_schedules_now(self) -> list[str]:
        """Queue the task of every due schedule for this cluster now, as the cluster's scheduler would.

        django-q2's guard loop calls ``django_q.scheduler.scheduler`` about every 30 s, the first
        time 30 s after start. This calls that same function from the test process, against this
        cluster's queue, so no test waits for it: what is queued still comes from the Schedule rows
        (``start()`` registers them, due at once) and still runs in the cluster's workers.
        Returns the names of the schedules whose task was queued.
        """
        from django_q.brokers import get_broker
        from django_q.models import Schedule
        from django_q.scheduler import scheduler

        before = dict(Schedule.objects.values_list("name", "task"))
        self.route_kicks_here()
        scheduler(broker=get_broker(self.name))
        after = dict(Schedule.objects.values_list("name", "task"))
        return sorted(name for name, task in after.items() if task and task != before.get(name))

    def kill(self) -> None:
        """SIGKILL the whole cluster (master and workers) at once: a crash, nothing cleaned up."""
        self._unroute()
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self, timeout: float = 30) -> None:
        self._unroute()
        if not self.process or self.process.poll() is not None:
            return
        try:
            # As Ctrl-C does: SIGINT to the whole group. The master stops its workers; a
            # running dispatch/sweep job ends early and saves what it sent. Killed if that hangs.
            os.killpg(self.process.pid, signal.SIGINT)
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)

    def log(self) -> str:
        return Path(self._log.name).read_text(errors="replace")

    def __enter__(self) -> QCluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
