"""Settings, read from the environment (django-environ).

Defaults give the embedded run: an SQLite file in the project and django-q2's ORM
broker. ``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and Redis.
"""

import warnings
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from common.encryption import development_key, parse_keys

BASE_DIR = Path(__file__).resolve().parent.parent
VERSION = "0.1.0"

env = environ.Env()
# ENV_FILE points elsewhere (or at nothing) to keep a local .env out, e.g. in tests.
environ.Env.read_env(env.str("ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment or in .env "
            "(`make run` generates one), or run with DEBUG=true for development."
        )
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG-on"

# Signing secrets and custom header values are encrypted in the database (docs/SECURITY.md).
# Comma-separated Fernet keys: the first encrypts, every one decrypts (key rotation).
FIELD_ENCRYPTION_KEYS = parse_keys(env.str("FIELD_ENCRYPTION_KEYS", default=""))
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS is not set: channel secrets and header values are encrypted with it. "
            "Set it in the environment or in .env (`make run` generates one; or run "
            'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"), '
            "or run with DEBUG=true for development."
        )
    FIELD_ENCRYPTION_KEYS = [development_key(SECRET_KEY)]

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- HTTPS (production behind a TLS-terminating proxy) ------------------------
# HTTPS=true: the proxy says https in X-Forwarded-Proto (it must set or strip that header),
# plain http is redirected, cookies are sent over https only, and browsers are told to
# use https for a year (HSTS). `manage.py check --deploy` is clean with it (docs/SECURITY.md).
HTTPS = env.bool("HTTPS", default=False)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
# The probes answer plain http inside the cluster.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # naturaltime ("9 minutes ago", translated) for the staff_time filter.
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "webhooks_project",
    "events",
    "channels",
    # Before django_q: its `qcluster` command wraps django-q2's (deliveries/engine/safe_queue.py).
    "deliveries",
    "django_q",
]

MIDDLEWARE = [
    # First, so that every answer carries X-Request-Id and every log line its request's id.
    "common.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (the admin's, /api/docs/'s Swagger UI) with DEBUG off too, from the apps' own
    # folders (WHITENOISE_USE_FINDERS) or STATIC_ROOT after `collectstatic`.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language follows the browser (Accept-Language), or the header's switch (set_language).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Idempotency-Key on API POSTs (after authentication: keys are per user).
    "webhooks_project.api.idempotency.IdempotencyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its answer.
    "axes.middleware.AxesMiddleware",
]

# --- Admin login throttling (django-axes) -------------------------------------
# After AXES_FAILURE_LIMIT failed logins for one user name from one address, that pair is
# locked out for AXES_COOLOFF_TIME hours; a success resets the count. Superusers see and
# clear lockouts in the admin (Axes > Access attempts).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_TIME", default=1.0)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# The address is REMOTE_ADDR: a client-supplied X-Forwarded-For would let a guesser pick a new
# address for every try. Behind a proxy that makes the lockout per user name (docs/SECURITY.md).
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

# --- Content-Security-Policy (django-csp) -------------------------------------
# Scripts and styles from this site only: no inline script, no eval, no inline style
# attribute. The admin, the staff pages and /api/docs/ (Swagger UI, served from
# drf-spectacular-sidecar with its initialiser as a separate file) work under it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

ROOT_URLCONF = "webhooks_project.urls"
WSGI_APPLICATION = "webhooks_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# SQLite is opened so that the web process and several qcluster processes can
# write at once: WAL journal, writers take the lock at BEGIN (IMMEDIATE) instead
# of failing on upgrade, and a busy timeout instead of "database is locked".
SQLITE_PATH = BASE_DIR / "db.sqlite3"
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{SQLITE_PATH}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": ("PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=30000;"),
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# English and German (SPEC section 7): the staff pages, the catalogue's names and descriptions,
# e-mails and Slack texts. Catalogues in locale/ (docs and update steps in the README).
# The language of pages whose browser asks for neither, and of staff e-mails and Slack texts.
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date format on every staff page, in both languages (webhooks_project/formats/).
FORMAT_MODULE_PATH = ["webhooks_project.formats"]
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(f"LANGUAGE_CODE must be one of {', '.join(dict(LANGUAGES))}")
# The platform's local time: the admin's dates, and the fakturia format's triggerDate (SPEC section 12).
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# WhiteNoise serves the apps' static folders as they are, so no `collectstatic` step is needed;
# with one, it serves STATIC_ROOT too.
WHITENOISE_USE_FINDERS = True
# Without `collectstatic` there is no STATIC_ROOT, which is fine: the finders serve everything.
warnings.filterwarnings("ignore", message=r"No directory at: .*static", category=UserWarning)

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="postbacks@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"default": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "default", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "filters": {
        # The HTTP client logs each request's path at DEBUG: query strings can carry credentials.
        "mask_query_strings": {"()": "common.masking.QueryStringMaskingFilter"},
        # The X-Request-Id of the request being answered ("-" outside one): common/request_id.py.
        "request_id": {"()": "common.request_id.RequestIdLogFilter"},
    },
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "urllib3.connectionpool": {"filters": ["mask_query_strings"]},
    },
}

# --- Webhooks (SPEC section 9) ---------------------------------------------
WEBHOOKS_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOKS_ALLOW_PRIVATE_TARGETS", default=False)
WEBHOOKS_MAX_RETRIES = env.int("WEBHOOKS_MAX_RETRIES", default=3)
WEBHOOKS_RETRY_DELAYS = [int(s) for s in env.list("WEBHOOKS_RETRY_DELAYS", default=["30", "120", "600"])]
WEBHOOKS_TIMEOUT_S = env.int("WEBHOOKS_TIMEOUT_S", default=30)
WEBHOOKS_MAX_PAYLOAD_BYTES = env.int("WEBHOOKS_MAX_PAYLOAD_BYTES", default=262144)
# Event types and subscriptions kept per process for ingest, under a version in the shared cache
# (channels/routing.py): auto keeps them when the cache is shared (Redis) or there is a version file, on, off.
WEBHOOKS_ROUTING_CACHE = env.str("WEBHOOKS_ROUTING_CACHE", default="auto")
# Without a shared cache, processes on one SQLite database keep the routing version in a file beside
# it (they share the machine and its file system); empty: none (PostgreSQL without Redis reads every time).
_sqlite_name = str(DATABASES["default"]["NAME"]) if DATABASES["default"]["ENGINE"].endswith("sqlite3") else ""
WEBHOOKS_ROUTING_VERSION_FILE = env.str(
    "WEBHOOKS_ROUTING_VERSION_FILE",
    default=f"{_sqlite_name}-routing" if _sqlite_name and "memory" not in _sqlite_name else "",
)
WEBHOOKS_RETENTION_DAYS = env.int("WEBHOOKS_RETENTION_DAYS", default=30)
# The built-in demo receiver (/demo/) is mounted only under DEBUG or with WEBHOOKS_DEMO=true.
WEBHOOKS_DEMO = env.bool("WEBHOOKS_DEMO", default=False)
# Posts to a demo endpoint from one address, per minute; more answer 429 and store nothing.
WEBHOOKS_DEMO_RATE_PER_MIN = env.int("WEBHOOKS_DEMO_RATE_PER_MIN", default=120)
WEBHOOKS_USER_AGENT = f"Postbacks/{VERSION} (+https://github.com/postbacks)"

# --- The delivery engine (docs/ENGINE.md) ---------------------------------------
# Send threads per worker process (each qcluster worker runs one engine).
WEBHOOKS_SEND_THREADS = env.int("WEBHOOKS_SEND_THREADS", default=128)
# Requests in flight to one channel at most, across all workers and machines (a channel may set its own).
WEBHOOKS_CHANNEL_MAX_IN_FLIGHT = env.int("WEBHOOKS_CHANNEL_MAX_IN_FLIGHT", default=10)
# Circuit breaker: this many timeouts / refused connections in a row cool a channel off for
# WEBHOOKS_BREAKER_COOLOFF_S, doubled after each failed probe up to WEBHOOKS_BREAKER_MAX_COOLOFF_S.
WEBHOOKS_BREAKER_FAILURES = env.int("WEBHOOKS_BREAKER_FAILURES", default=5)
WEBHOOKS_BREAKER_COOLOFF_S = env.float("WEBHOOKS_BREAKER_COOLOFF_S", default=30.0)
WEBHOOKS_BREAKER_MAX_COOLOFF_S = env.float("WEBHOOKS_BREAKER_MAX_COOLOFF_S", default=600.0)
# A claim's lease = start grace + the channel's timeout + this margin; a send starts only
# while the rest of its lease covers the whole timeout plus the margin.
WEBHOOKS_START_GRACE_S = env.float("WEBHOOKS_START_GRACE_S", default=5.0)
WEBHOOKS_LEASE_MARGIN_S = env.float("WEBHOOKS_LEASE_MARGIN_S", default=10.0)
# A delivery whose sending process was lost this many times (its lease ran out, or its
# isolated send's process died) ends failed (worker_lost).
WEBHOOKS_MAX_LEASE_EXPIRIES = env.int("WEBHOOKS_MAX_LEASE_EXPIRIES", default=3)
# A delivery lost one time fewer than that (a suspect) is sent in a process of its own;
# this many at once per engine.
WEBHOOKS_ISOLATED_SENDS = env.int("WEBHOOKS_ISOLATED_SENDS", default=4)
# For a channel whose sends lately took under WEBHOOKS_FAST_SEND_S, an engine may hold this many
# claimed rows beyond what starts now; each starts as one of its sends there ends (0: never hold).
WEBHOOKS_HOLD_DEPTH = env.int("WEBHOOKS_HOLD_DEPTH", default=20)
WEBHOOKS_FAST_SEND_S = env.float("WEBHOOKS_FAST_SEND_S", default=0.1)
# An idle engine looks for due rows this often (a cheap read: index probes, no transaction).
# Emits kick an engine through the broker at once; on SQLite that kick goes through django-q2's
# ORM broker (polled, and every step a write behind SQLite's one write lock), so the embedded
# setup looks every 0.1 s instead: commit-to-arrival median 404 ms -> 50 ms at 100 events/s.
WEBHOOKS_ENGINE_POLL_S = env.float(
    "WEBHOOKS_ENGINE_POLL_S", default=0.1 if DATABASES["default"]["ENGINE"].endswith("sqlite3") else 1.0
)
# An engine loop stuck this long ends its worker process, which django-q2 replaces.
WEBHOOKS_ENGINE_STALL_S = env.float("WEBHOOKS_ENGINE_STALL_S", default=120.0)
# Retry-After is honoured up to this many seconds.
WEBHOOKS_RETRY_AFTER_CAP_S = env.float("WEBHOOKS_RETRY_AFTER_CAP_S", default=3600.0)
# Auto-disable (SPEC section 10): a channel whose attempts have all failed for this many hours
# (fractions allowed), at least WEBHOOKS_DISABLE_MIN_ATTEMPTS of them, is deactivated.
WEBHOOKS_DISABLE_AFTER_HOURS = env.float("WEBHOOKS_DISABLE_AFTER_HOURS", default=120.0)
WEBHOOKS_DISABLE_MIN_ATTEMPTS = env.int("WEBHOOKS_DISABLE_MIN_ATTEMPTS", default=20)
# Undelivered alert: a critical delivery not succeeded this many minutes after its event.
WEBHOOKS_ALERT_AFTER_MIN = env.float("WEBHOOKS_ALERT_AFTER_MIN", default=15.0)

# --- Operations (docs/OPERATIONS.md) --------------------------------------------
# /readyz fails when no engine heartbeat (every 5 s) or no sweeper run (once a minute) is this recent.
WEBHOOKS_WORKER_MAX_AGE_S = env.float("WEBHOOKS_WORKER_MAX_AGE_S", default=120.0)
WEBHOOKS_SWEEPER_MAX_AGE_S = env.float("WEBHOOKS_SWEEPER_MAX_AGE_S", default=120.0)
# /readyz also fails when the oldest due delivery has waited longer than this (0: reported only).
WEBHOOKS_READY_MAX_DUE_AGE_S = env.float("WEBHOOKS_READY_MAX_DUE_AGE_S", default=0.0)
# /metrics: a bearer token for Prometheus (empty: staff sessions only); the attempt histogram covers
# the last METRICS_ATTEMPT_WINDOW_S seconds; channels beyond the busiest METRICS_MAX_CHANNELS are "other".
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ATTEMPT_WINDOW_S = env.float("METRICS_ATTEMPT_WINDOW_S", default=300.0)
# postbacks_deliveries_recent{status} counts the deliveries created this recently (an index range).
METRICS_DELIVERY_WINDOW_S = env.float("METRICS_DELIVERY_WINDOW_S", default=86400.0)
METRICS_MAX_CHANNELS = env.int("METRICS_MAX_CHANNELS", default=20)

# Recover jobs (SPEC section 10): rows per transaction, and seconds one run works before it re-enqueues itself.
WEBHOOKS_RECOVER_BATCH = env.int("WEBHOOKS_RECOVER_BATCH", default=500)
WEBHOOKS_RECOVER_BUDGET_S = env.float("WEBHOOKS_RECOVER_BUDGET_S", default=20.0)

if WEBHOOKS_MAX_RETRIES < 0:
    raise ImproperlyConfigured("WEBHOOKS_MAX_RETRIES must be 0 or more")
if not 1 <= WEBHOOKS_TIMEOUT_S <= 30:
    raise ImproperlyConfigured("WEBHOOKS_TIMEOUT_S must be between 1 and 30 seconds")
if any(d < 0 for d in WEBHOOKS_RETRY_DELAYS) or not WEBHOOKS_RETRY_DELAYS:
    raise ImproperlyConfigured("WEBHOOKS_RETRY_DELAYS must be a comma-separated list of seconds >= 0")
if WEBHOOKS_MAX_PAYLOAD_BYTES < 1:
    raise ImproperlyConfigured("WEBHOOKS_MAX_PAYLOAD_BYTES must be positive")
# An API body may be 4 times the payload limit plus 16 KiB (common/api/parsing.py); Django's own
# cap on a body read whole (the Idempotency-Key fingerprint reads it) must not be lower.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(2_621_440, 4 * WEBHOOKS_MAX_PAYLOAD_BYTES + 16 * 1024)
if WEBHOOKS_HOLD_DEPTH < 0 or not 0 < WEBHOOKS_FAST_SEND_S <= 1:
    raise ImproperlyConfigured("WEBHOOKS_HOLD_DEPTH must be 0 or more, WEBHOOKS_FAST_SEND_S between 0 and 1 second")
if WEBHOOKS_SEND_THREADS < 1 or WEBHOOKS_CHANNEL_MAX_IN_FLIGHT < 1:
    raise ImproperlyConfigured("WEBHOOKS_SEND_THREADS and WEBHOOKS_CHANNEL_MAX_IN_FLIGHT must be at least 1")
if WEBHOOKS_START_GRACE_S <= 0 or WEBHOOKS_LEASE_MARGIN_S <= 0 or WEBHOOKS_MAX_LEASE_EXPIRIES < 1:
    raise ImproperlyConfigured(
        "WEBHOOKS_START_GRACE_S and WEBHOOKS_LEASE_MARGIN_S must be positive, WEBHOOKS_MAX_LEASE_EXPIRIES at least 1"
    )
if WEBHOOKS_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("WEBHOOKS_RETENTION_DAYS must be at least 1")
if WEBHOOKS_DISABLE_AFTER_HOURS <= 0 or WEBHOOKS_DISABLE_MIN_ATTEMPTS < 1 or WEBHOOKS_ALERT_AFTER_MIN <= 0:
    raise ImproperlyConfigured(
        "WEBHOOKS_DISABLE_AFTER_HOURS and WEBHOOKS_ALERT_AFTER_MIN must be positive, WEBHOOKS_DISABLE_MIN_ATTEMPTS at least 1"
    )

# --- django-q2 --------------------------------------------------------------
# Every worker process runs a delivery engine in background threads (docs/ENGINE.md);
# jobs only wake it (`deliveries.tasks.dispatch`), take back expired leases (the
# `postbacks-sweeper` schedule, once a minute) or purge in bounded batches (under 60 s),
# so `timeout` (90 s) is never near. Retry logic lives in our own tables: max_attempts=1,
# failures acknowledged, `retry` above `timeout`. `recycle` is high because kicks are
# frequent jobs; a recycled worker lets its engine finish the sends it started.
# save_limit=-1: successful jobs are not stored (each stored result costs ~20 ms).
REDIS_URL = env.str("REDIS_URL", default="")
Q_CLUSTER = {
    "name": env.str("Q_CLUSTER_NAME", default="postbacks"),
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": 90,
    "retry": 120,
    "max_attempts": 1,
    "ack_failures": True,
    "save_limit": -1,
    "catch_up": False,
    "poll": 0.1,
    # Worker processes are long-lived: their engine, sessions and threads live as long as they do.
    "recycle": 100000,
    "label": "Task queue",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- Cache -------------------------------------------------------------------
# API throttle counters live here: shared by every web process through Redis when
# REDIS_URL is set; per process (local memory) in the embedded run.
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- REST framework ----------------------------------------------------------
# Token first, so an anonymous call gets 401 with `WWW-Authenticate: Token`; the
# session lets staff signed in to the admin try calls from the docs page.
# JSON only, and bodies over the payload limit are refused (413) before parsing.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["common.api.permissions.ModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "common.api.pagination.PageNumberPages",
    "DEFAULT_PARSER_CLASSES": ["common.api.parsing.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["common.api.throttling.TokenRateThrottle"],
    # Per token (per user); API_THROTTLE_RATE="" switches throttling off.
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_RATE", default="6000/min") or None,
        # Failed authentications (401) per client address; past it, 429 without looking at the token.
        "auth_failure": env.str("API_AUTH_FAILURE_RATE", default="60/min") or None,
    },
    "EXCEPTION_HANDLER": "webhooks_project.api.errors.api_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Postbacks API",
    "DESCRIPTION": (
        "Manage event types, channels and subscriptions, ingest events, inspect and retry deliveries.\n\n"
        "Every call needs `Authorization: Token <key>` (create one with "
        "`python manage.py drf_create_token <username>`) and the matching Django model permission "
        "(view / add / change / delete, plus `channels.send_test_event`, `channels.rotate_secret`, "
        "`channels.reveal_secret` (custom header values in clear; `***` otherwise), "
        "`deliveries.retry_delivery`, `events.enable_on_demand`). Errors are JSON with a machine-readable "
        '`code` and a `detail`: `{"code": "not_found", "detail": "..."}`; invalid input adds `errors`, '
        '`{"code": "invalid", "detail": "...", "errors": {"sources.1": ["message"]}}` (nested fields and list '
        "items by dotted path). Unknown body fields and query parameters are refused with 400. Every POST "
        "honours `Idempotency-Key` (24 h). Every answer carries `X-Request-Id` and `X-RateLimit-*`.\n\n"
        "Postbacks are signed with [Standard Webhooks](https://www.standardwebhooks.com/) "
        "(`webhook-id`, `webhook-timestamp`, `webhook-signature`) using the channel's `whsec_` secret.\n\n"
        "**The postbacks you receive** are described in this schema too: the body of each payload format "
        "as the schemas `PostbackStandard`, `PostbackNitrobox`, `PostbackFakturia` and `PostbackFlat` (under "
        "*Schemas* at the bottom of this page, each with an example built by the sending code), the three "
        "headers under `components.headers`, and one `x-webhooks` entry per format in the "
        "[raw schema](/api/schema/) (Redoc and code generators read it as OpenAPI 3.1's `webhooks`)."
    ),
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "displayOperationId": False},
    "COMPONENT_SPLIT_REQUEST": True,
    # Integrators use tokens; the admin session still works but is not offered in the docs.
    "AUTHENTICATION_WHITELIST": ["rest_framework.authentication.TokenAuthentication"],
    "ENUM_NAME_OVERRIDES": {
        "SourceEnum": "events.models.Source",
        "TriggerEnum": "deliveries.models.Trigger",
        "ErrorKindEnum": "deliveries.models.ErrorKind",
        "RecoverJobStatusEnum": "deliveries.models.RecoverJob.Status",
        "DeliveryStatusEnum": "deliveries.models.DeliveryStatus",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "common.api.schema.add_error_responses",
        "webhooks_project.api.openapi.add_examples_and_postbacks",
    ],
}
