"""Two processes write to one SQLite file at once without "database is locked"."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]

WRITER = """
import django, sys
django.setup()
from django.db import transaction
from django.utils import timezone
from events.models import Event
for i in range(int(sys.argv[1])):
    with transaction.atomic():
        Event.objects.create(type_id="contact.created", source="shop", occurred_at=timezone.now(), payload={"i": i})
        # read-then-write inside one transaction: the pattern that deadlocks without IMMEDIATE
        Event.objects.filter(payload__i=i).count()
        Event.objects.create(type_id="contact.created", source="admin", occurred_at=timezone.now(), payload={"i": i})
print("ok")
"""

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3", reason="SQLite only"),
]


def test_two_processes_write_to_the_sqlite_file_at_once(tmp_path):
    db = tmp_path / "concurrent.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "DJANGO_SETTINGS_MODULE": "webhooks_project.settings",
        "SECRET_KEY": "k",
        "ENV_FILE": str(tmp_path / "none.env"),
    }
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)

    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, "300"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=180) for w in writers]

    for w, (out, err) in zip(writers, outputs, strict=True):
        assert w.returncode == 0, err[-2000:]
        assert "database is locked" not in err
        assert out.strip() == "ok"
    count = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from events.models import Event; print(Event.objects.count())",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    assert count == str(2 * 2 * 300)
