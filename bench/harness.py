"""Process and database plumbing shared by the harness (bench/run.py) and the scenarios.

Nothing here imports Django: the harness prepares databases and processes, and each
scenario runs in a subprocess of its own with its own DATABASE_URL / REDIS_URL /
Q_CLUSTER_NAME, so no two scenarios (and no one else's tests) share data.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
PYTHON = sys.executable

# The benchmark's own servers and databases; override to point elsewhere.
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_BASE_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
PG_DB_PREFIX = "bench_postbacks"


class ScenarioError(RuntimeError):
    pass


def poll(condition, *, timeout: float, interval: float = 0.05, what: str = "condition"):
    """Call ``condition`` until it returns something truthy, or fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise ScenarioError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# --- environment for Django processes -------------------------------------------


def django_env(*, database_url: str, redis_url: str | None, cluster_name: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "Q_CLUSTER_NAME")}
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        ENV_FILE=os.devnull,  # a developer's .env must not change what is measured
        DATABASE_URL=database_url,
        Q_CLUSTER_NAME=cluster_name,
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    env.pop("DEBUG", None)  # DEBUG keeps every SQL query in memory: never in a benchmark
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env


# --- backends ----------------------------------------------------------------------


def pg_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:
            conn.execute("select 1")
        return None
    except Exception as exc:  # any failure means: skip the PostgreSQL scenarios
        return f"PostgreSQL not reachable at {_redact(PG_ADMIN_URL)}: {str(exc).strip().splitlines()[0]}"


def redis_available() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_BASE_URL, socket_connect_timeout=3, socket_timeout=3).ping()
        return None
    except Exception as exc:
        return f"Redis not reachable at {_redact(REDIS_BASE_URL)}: {exc}"


def _redact(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return url


def pg_url(dbname: str) -> str:
    parts = urllib.parse.urlsplit(PG_ADMIN_URL)
    return urllib.parse.urlunsplit(parts._replace(path="/" + dbname))


def _pg_admin():
    import psycopg

    return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)


def pg_drop(dbname: str) -> None:
    assert dbname.startswith(PG_DB_PREFIX), dbname  # never anyone else's database
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def pg_create_from_template(dbname: str, template: str) -> str:
    pg_drop(dbname)
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{dbname}" TEMPLATE "{template}"')
    return pg_url(dbname)


def redis_cleanup(redis_url: str, cluster_name: str) -> None:
    """Delete the keys one scenario's cluster left (its queue, its stats)."""
    import redis

    r = redis.Redis.from_url(redis_url)
    for key in r.scan_iter(match=f"*{cluster_name}*", count=1000):
        r.delete(key)


def migrate(env: dict[str, str], log: Path) -> None:
    with open(log, "ab") as out:
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=600,
        )


def make_sqlite_template(log: Path, *, run_id: str) -> Path:
    """Migrate one SQLite file; every SQLite scenario starts from a copy of it."""
    template = VAR / f"template-{run_id}.sqlite3"
    remove_sqlite(template)
    migrate(django_env(database_url=f"sqlite:///{template}", redis_url=None, cluster_name="bench-template"), log)
    with sqlite3.connect(template) as conn:  # fold the WAL into the file so a plain copy is complete
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return template


def sqlite_copy(template: Path, name: str) -> str:
    target = VAR / f"{name}.sqlite3"
    remove_sqlite(target)
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-routing"):  # -routing: the routing version file (channels.routing)
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def make_pg_template(log: Path, *, run_id: str) -> str:
    name = f"{PG_DB_PREFIX}_template_{run_id}"
    pg_drop(name)
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    migrate(django_env(database_url=pg_url(name), redis_url=None, cluster_name="bench-template"), log)
    return name


# --- processes ---------------------------------------------------------------------


def stop_process(proc: subprocess.Popen, *, grace: float = 15.0) -> None:
    """SIGTERM the process (qcluster and gunicorn stop their children), then SIGKILL its group."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    # Whatever is left of the group it leads (started with start_new_session=True).
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait(timeout=10)


@dataclass
class Receiver:
    proc: subprocess.Popen
    url: str
    kind = "bench"

    def stats(self) -> dict:
        return requests.get(f"{self.url}/_stats", timeout=10).json()

    def count(self) -> int:
        return self.stats()["count"]

    def arrivals(self) -> list[tuple[float, str, str]]:
        return requests.get(f"{self.url}/_arrivals", timeout=60).json()

    def reset(self) -> None:
        requests.get(f"{self.url}/_reset", timeout=10).raise_for_status()


@contextmanager
def receiver_process(log: Path):
    proc = subprocess.Popen(
        [PYTHON, str(ROOT / "bench" / "receiver.py")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=open(log, "ab"),
        text=True,
        start_new_session=True,
    )
    try:
        line = proc.stdout.readline()
        if not line.startswith("PORT "):
            raise ScenarioError(f"receiver did not start (see {log})")
        receiver = Receiver(proc, f"http://127.0.0.1:{int(line.split()[1])}")
        poll(lambda: _answers(receiver), timeout=20, what="the receiver")
        yield receiver
    finally:
        stop_process(proc)


def _answers(receiver: Receiver) -> bool:
    try:
        receiver.stats()
        return True
    except requests.RequestException:
        return False


def start_qcluster(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [PYTHON, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=open(log, "ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def tree_rss(pid: int) -> dict[int, int]:
    """RSS in bytes of a process and all its descendants."""
    root = psutil.Process(pid)
    result = {}
    for proc in [root, *root.children(recursive=True)]:
        try:
            result[proc.pid] = proc.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return result


# --- the machine -------------------------------------------------------------------


def machine_info() -> dict:
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu_model = platform.processor()
    info = {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": metadata.version("Django"),
        "django_q2": metadata.version("django-q2"),
        "djangorestframework": metadata.version("djangorestframework"),
        "requests": metadata.version("requests"),
        "uvicorn": metadata.version("uvicorn"),
        "gunicorn": metadata.version("gunicorn"),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:
            info["postgresql"] = conn.execute("show server_version").fetchone()[0]
    except Exception:
        info["postgresql"] = None
    try:
        import redis

        info["redis"] = redis.Redis.from_url(REDIS_BASE_URL, socket_connect_timeout=3).info()["redis_version"]
    except Exception:
        info["redis"] = None
    return info


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation), of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, int(-(-pct * len(ordered) // 100)))  # ceil
    return ordered[min(rank, len(ordered)) - 1]


def shares(n: int, parts: int) -> list[range]:
    """``range(n)`` cut into ``parts`` contiguous runs whose lengths differ by at most one (empty ones last)."""
    if parts < 1:
        raise ValueError("parts must be at least 1")
    size, extra = divmod(n, parts)
    runs, first = [], 0
    for k in range(parts):
        length = size + (1 if k < extra else 0)
        runs.append(range(first, first + length))
        first += length
    return runs


def rate(rounds: list[dict], *, per_call: int = 1) -> float:
    """Items per second over load rounds (``{"ok": calls answered 2xx, "seconds": ...}``), ``per_call`` items a call."""
    seconds = sum(r["seconds"] for r in rounds)
    if seconds <= 0:
        raise ValueError("no time measured")
    return sum(r["ok"] for r in rounds) * per_call / seconds


def dump_json(path: Path, data) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    tmp.replace(path)


# --- nginx: the fastest receiver, when installed -------------------------------------

NGINX = os.environ.get("BENCH_NGINX", "/usr/sbin/nginx")
NGINX_STATUS = "/_nginx_status"


def nginx_binary(path: str | None = None) -> str | None:
    """The nginx executable to use as the receiver, or None (the bench's own receiver is the fallback)."""
    path = path if path is not None else NGINX
    return path if path and os.path.isfile(path) and os.access(path, os.X_OK) else None


def nginx_version(binary: str) -> str:
    """``nginx 1.22.1`` from ``nginx -v`` (which writes to stderr)."""
    out = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=10)
    text = (out.stderr or out.stdout).strip()
    return "nginx " + text.rsplit("/", 1)[-1] if "/" in text else "nginx"


def nginx_config(*, port: int, tmp: Path) -> str:
    """A config with every path under ``tmp``: 200 "ok" to any method, request counts at NGINX_STATUS."""
    return f"""daemon off;
worker_processes auto;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    client_body_buffer_size 1m;
    client_max_body_size 16m;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port} backlog=2048;
        location = {NGINX_STATUS} {{ stub_status; }}
        location / {{ default_type text/plain; return 200 "ok"; }}
    }}
}}
"""


class NginxReceiver:
    """The Receiver interface over nginx's stub_status: counts only (no arrivals).

    stub_status counts every request, its own polls included; each instance counts from its
    own baseline and subtracts its own polls, so only one instance may poll at a time (the
    harness between scenarios, or the scenario's process). ``first``/``last`` are the times of
    the polls that first saw a post / the current count: at most one poll interval late.
    """

    kind = "nginx"

    def __init__(self, proc, url: str):
        self.proc = proc
        self.url = url
        self._base = 0
        self._polls = 0
        self.reset()

    def _requests(self) -> int:
        text = requests.get(f"{self.url}{NGINX_STATUS}", timeout=10).text
        self._polls += 1
        return int(text.splitlines()[2].split()[2])  # "accepts handled requests"

    def stats(self) -> dict:
        count = self._requests() - self._base - self._polls
        now = time.time()
        if count and self._first is None:
            self._first = now
        if count != self._last_count:
            self._last, self._last_count = now, count
        return {"count": count, "first": self._first, "last": self._last}

    def count(self) -> int:
        return self.stats()["count"]

    def arrivals(self):
        raise ScenarioError("nginx records no arrivals: this scenario needs the bench receiver")

    def reset(self) -> None:
        self._base = self._requests()  # counts this poll too
        self._polls = 0
        self._first = self._last = None
        self._last_count = 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def nginx_process(binary: str, log: Path):
    """nginx on a free port of 127.0.0.1, its config and every file it writes in a temp dir."""
    with tempfile.TemporaryDirectory(prefix="bench-nginx-") as tmp:
        port = free_port()
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(nginx_config(port=port, tmp=Path(tmp)))
        proc = subprocess.Popen(
            [binary, "-p", tmp, "-c", str(conf), "-e", f"{tmp}/error.log"],
            stdout=open(log, "ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            url = f"http://127.0.0.1:{port}"

            def up():
                if proc.poll() is not None:
                    raise ScenarioError(f"nginx exited: {(Path(tmp) / 'error.log').read_text()[-300:]}")
                try:
                    return NginxReceiver(proc, url)
                except requests.RequestException:
                    return None

            yield poll(up, timeout=20, what="nginx")
        finally:
            stop_process(proc)


@contextmanager
def receivers(log_dir: Path):
    """(fast, bench, label): nginx when installed and it starts, else the bench receiver, for the
    scenarios that need only a 200; the bench receiver for those that need its arrivals or delays."""
    with receiver_process(log_dir / "receiver.log") as bench:
        binary = nginx_binary()
        if binary is None:
            yield bench, bench, "bench"
            return
        try:
            nginx = nginx_process(binary, log_dir / "nginx.log")
            fast = nginx.__enter__()
        except ScenarioError as exc:
            print(f"bench: nginx did not start ({exc}); using the bench receiver", flush=True)
            yield bench, bench, "bench"
            return
        try:
            yield fast, bench, nginx_version(binary)
        finally:
            nginx.__exit__(None, None, None)


def receiver_client(kind: str, url: str):
    """In a scenario's process: the Receiver (or NginxReceiver) the harness gave it."""
    return NginxReceiver(None, url) if kind == "nginx" else Receiver(None, url)
