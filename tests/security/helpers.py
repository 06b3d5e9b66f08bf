"""Small helpers shared by the security tests."""

import os
import subprocess
import sys
from pathlib import Path

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parents[2]


def clean_env() -> dict:
    """The environment for a subprocess running the real settings: secret set, no local .env read."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["SECRET_KEY"] = env.get("SECRET_KEY") or "subprocess-test-secret"
    env["ENV_FILE"] = str(ROOT / "var" / "no-such.env")
    return env


def run_with_real_settings(args: list[str], *, drop: tuple[str, ...] = (), **env) -> subprocess.CompletedProcess:
    """Run ``python <args>`` in the project with the real settings (not the test settings), the
    variables in ``drop`` removed from the environment and ``env`` added: start-up as in production."""
    environment = {k: v for k, v in clean_env().items() if k not in drop}
    environment.update(env, DJANGO_SETTINGS_MODULE="webhooks_project.settings")
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def token_client(user) -> APIClient:
    """An API client authenticated with a new token of ``user``."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client
