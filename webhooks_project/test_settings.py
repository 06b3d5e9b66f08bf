"""Settings for the test suite: the real settings, with test-friendly defaults.

Values are put into the environment before the real settings read it, so that
subprocesses a test starts (qcluster, gunicorn) inherit the same configuration.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-insecure-secret-key")
os.environ.setdefault("WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true")

from .settings import *  # noqa: F403
from .settings import BASE_DIR, DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# A file, not ":memory:", so that qcluster subprocesses share the test database.
# TEST_DB_SUFFIX keeps concurrent runs on one machine (or one checkout) apart.
_suffix = os.environ.get("TEST_DB_SUFFIX", "")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / f"test{_suffix}.sqlite3")}
elif _suffix:
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{_suffix}"}

# Throttle counters per test process, so runs sharing a Redis server never see each other's counts.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
