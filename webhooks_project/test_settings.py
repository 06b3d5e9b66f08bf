"""Settings for the test suite: the real settings, with test-friendly defaults.

Values are put into the environment before the real settings read it, so that
subprocesses a test starts (qcluster, gunicorn) inherit the same configuration.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-insecure-secret-key")
os.environ.setdefault("WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true")
# A fixed key, test-only, so qcluster subprocesses decrypt what the test process wrote.
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTA=")
# The demo receiver is mounted (it is off with DEBUG off); tests/security checks it off.
os.environ.setdefault("WEBHOOKS_DEMO", "true")
# Failed authentications per address: the suite's many deliberate 401s come from one address
# (tests/api/test_idempotency_and_observability.py sets a low rate where it checks the limit).
os.environ.setdefault("API_AUTH_FAILURE_RATE", "1000/min")

from .settings import *  # noqa: F403
from .settings import BASE_DIR, DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# django-axes needs the request at every authenticate(); the test client's login() has none.
# tests/security/test_login_lockout.py switches it on around real login form posts.
AXES_ENABLED = False
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
# The routing rows are read every time, as without Redis on PostgreSQL: tests change them with
# queryset updates too, which announce nothing (a test switches the routing cache on where it checks it).
WEBHOOKS_ROUTING_VERSION_FILE = ""
