"""Run the web server and a django-q2 cluster together, output interleaved and labelled.

Ctrl-C (SIGINT) or SIGTERM stops both. Used by ``make run``.
"""

import os
import signal
import subprocess
import sys
import threading

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the web server and the django-q2 worker cluster together (development)."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport, **options):
        manage = [sys.executable, "manage.py"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        procs = {
            "web": subprocess.Popen(
                [*manage, "runserver", addrport, "--noreload"],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
                text=True,
                bufsize=1,
            ),
            "worker": subprocess.Popen(
                [*manage, "qcluster"],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
                text=True,
                bufsize=1,
            ),
        }
        lock = threading.Lock()

        def pump(label, proc):
            for line in proc.stdout:
                with lock:
                    sys.stdout.write(f"[{label:6}] {line}")
                    sys.stdout.flush()

        threads = [threading.Thread(target=pump, args=item, daemon=True) for item in procs.items()]
        for t in threads:
            t.start()

        def stop(*_):
            for proc in procs.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT)

        signal.signal(signal.SIGTERM, stop)
        try:
            while all(p.poll() is None for p in procs.values()):
                try:
                    next(iter(procs.values())).wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    pass
        except KeyboardInterrupt:
            pass
        finally:
            stop()
            for proc in procs.values():
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
            for t in threads:
                t.join(timeout=2)
        self.stdout.write("Stopped the web server and the worker.")
