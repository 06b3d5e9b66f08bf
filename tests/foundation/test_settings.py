"""Settings parsing: each variable of SPEC section 9, read in a fresh interpreter."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; from django.conf import settings as s; "
    "print(json.dumps({'debug': s.DEBUG, 'hosts': s.ALLOWED_HOSTS, 'engine': s.DATABASES['default']['ENGINE'], "
    "'db_options': s.DATABASES['default'].get('OPTIONS', {}), 'db_name': str(s.DATABASES['default']['NAME']), "
    "'q': {k: v for k, v in s.Q_CLUSTER.items() if k in ('orm', 'redis', 'max_attempts', 'ack_failures', 'retry', 'timeout')}, "
    "'private': s.WEBHOOKS_ALLOW_PRIVATE_TARGETS, 'retries': s.WEBHOOKS_MAX_RETRIES, 'delays': s.WEBHOOKS_RETRY_DELAYS, "
    "'timeout': s.WEBHOOKS_TIMEOUT_S, 'max_payload': s.WEBHOOKS_MAX_PAYLOAD_BYTES, 'retention': s.WEBHOOKS_RETENTION_DAYS}))"
)
VARS = [
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "WEBHOOKS_ALLOW_PRIVATE_TARGETS",
    "WEBHOOKS_MAX_RETRIES",
    "WEBHOOKS_RETRY_DELAYS",
    "WEBHOOKS_TIMEOUT_S",
    "WEBHOOKS_MAX_PAYLOAD_BYTES",
    "WEBHOOKS_RETENTION_DAYS",
    "DJANGO_SETTINGS_MODULE",
]


def load_settings(tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if k not in VARS}
    clean["DJANGO_SETTINGS_MODULE"] = "webhooks_project.settings"
    clean["ENV_FILE"] = str(tmp_path / "no.env")
    clean.update(env)
    result = subprocess.run(
        [sys.executable, "-c", f"import os, sys; sys.path.insert(0, {str(ROOT)!r}); {PROBE}"],
        env=clean,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result


def test_defaults_are_the_embedded_run(tmp_path):
    result = load_settings(tmp_path, SECRET_KEY="k")
    assert result.returncode == 0, result.stderr
    s = json.loads(result.stdout)
    assert s["debug"] is False
    assert s["hosts"] == ["127.0.0.1", "localhost"]
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["db_options"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in s["db_options"]["init_command"]
    assert s["q"]["orm"] == "default" and "redis" not in s["q"]
    assert s["q"]["max_attempts"] == 1 and s["q"]["ack_failures"] is True
    assert s["q"]["retry"] > s["q"]["timeout"]
    assert s["private"] is False
    assert (s["retries"], s["delays"], s["timeout"]) == (3, [30, 120, 600], 30)
    assert (s["max_payload"], s["retention"]) == (262144, 30)


def test_every_variable_is_read_from_the_environment(tmp_path):
    result = load_settings(
        tmp_path,
        SECRET_KEY="k",
        DEBUG="true",
        ALLOWED_HOSTS="hooks.example.com,127.0.0.1",
        DATABASE_URL="postgres://u:p@db.example.com:5432/hooks",
        REDIS_URL="redis://127.0.0.1:6379/3",
        WEBHOOKS_ALLOW_PRIVATE_TARGETS="true",
        WEBHOOKS_MAX_RETRIES="5",
        WEBHOOKS_RETRY_DELAYS="1,2,3",
        WEBHOOKS_TIMEOUT_S="10",
        WEBHOOKS_MAX_PAYLOAD_BYTES="1000",
        WEBHOOKS_RETENTION_DAYS="7",
    )
    assert result.returncode == 0, result.stderr
    s = json.loads(result.stdout)
    assert s["debug"] is True
    assert s["hosts"] == ["hooks.example.com", "127.0.0.1"]
    assert s["engine"] == "django.db.backends.postgresql" and s["db_name"] == "hooks"
    assert s["q"]["redis"] == "redis://127.0.0.1:6379/3" and "orm" not in s["q"]
    assert s["private"] is True
    assert (s["retries"], s["delays"], s["timeout"]) == (5, [1, 2, 3], 10)
    assert (s["max_payload"], s["retention"]) == (1000, 7)


def test_missing_secret_key_with_debug_off_is_a_clear_startup_error(tmp_path):
    result = load_settings(tmp_path, DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_timeout_over_thirty_seconds_is_refused(tmp_path):
    result = load_settings(tmp_path, SECRET_KEY="k", WEBHOOKS_TIMEOUT_S="60")
    assert result.returncode != 0
    assert "WEBHOOKS_TIMEOUT_S" in result.stderr
