"""Settings for benchmark processes: the real settings, plus the bench-only URLconf.

Everything else (django-q2 cluster, database options, logging) is the production
default, because that is what the figures are about. The harness passes
DATABASE_URL, REDIS_URL and Q_CLUSTER_NAME per scenario.
"""

import os

os.environ.setdefault("SECRET_KEY", "bench-only-insecure-secret-key")
# Secrets are encrypted at rest in the benchmarks too (it is part of the real cost); a bench-only key.
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "YmVuY2gtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleSE=")
# The receiver listens on 127.0.0.1, which the SSRF guard refuses otherwise.
os.environ.setdefault("WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true")
# The throttle stays in the request path (it is part of the real cost) but must not
# answer 429 to a load generator.
os.environ.setdefault("API_THROTTLE_RATE", "100000000/min")

from webhooks_project.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
