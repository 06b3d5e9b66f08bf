"""Small helpers shared by the security tests."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def clean_env() -> dict:
    """The environment for a subprocess running the real settings: secret set, no local .env read."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["SECRET_KEY"] = env.get("SECRET_KEY") or "subprocess-test-secret"
    env["ENV_FILE"] = str(ROOT / "var" / "no-such.env")
    return env
