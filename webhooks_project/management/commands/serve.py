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
        parser.add_argument(
            "--demo",
            action="store_true",
            help="Set up the demo (its channels post to this address) and print its login once the server is up.",
        )

    def handle(self, *args, addrport, demo=False, **options):
        banner = None
        if demo:
            from django.core.management import call_command

            from webhooks_project.management.commands.demo_setup import base_url_of, login_banner

            base_url = base_url_of(addrport)
            call_command("demo_setup", base_url=base_url, no_banner=True, stdout=self.stdout)
            banner = login_banner(base_url)
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

        def show_banner():
            with lock:
                sys.stdout.write("\n" + self.style.SUCCESS(banner) + "\n\n")
                sys.stdout.flush()

        def pump(label, proc):
            shown = banner is None
            for line in proc.stdout:
                with lock:
                    sys.stdout.write(f"[{label:6}] {line}")
                    sys.stdout.flush()
                # The login comes last, after the start-up noise: a moment after runserver says it is
                # ready (its development-server warning follows that line).
                if not shown and label == "web" and "Quit the server with" in line:
                    threading.Timer(1.5, show_banner).start()
                    shown = True

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
