"""Settings for opsdesk, read from the environment in this one file.

Defaults give the embedded demo (SQLite file, filesystem Celery broker, console SMS and
email). Production sets DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY, OPSDESK_PROFILE=production
and friends; `manage.py check --deploy` is clean in that profile.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
import plotly
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("OPSDESK_VAR_DIR", BASE_DIR / "var"))


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PROFILE = env("OPSDESK_PROFILE", "development")
PRODUCTION = PROFILE == "production"

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set in the environment in production.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_celery_beat",
    "axes",
    "csp",
    "opsdesk",
    "stores",
    "metrics",
    "campaigns",
    "members",
    "reviews",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # After the user, messages and CSP are set up, so its 400 page is the app's page with its headers.
    "opsdesk.middleware.refuse_nul_characters",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Last, as django-axes asks: turns a locked-out login into a 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "opsdesk.urls"
WSGI_APPLICATION = "opsdesk.wsgi.application"

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
                "opsdesk.context_processors.desk",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'opsdesk.sqlite3'}"),
        conn_max_age=int(env("DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo runs web, worker and beat on one SQLite file: wait for locks instead of failing; and write-ahead
    # logging, so pages read (an import job's status page among them) while a worker's long import writes.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {}).update(timeout=20, init_command="PRAGMA journal_mode=WAL;")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # Login throttling: checks the lockout first, then the ordinary model backend.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(env("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(env("LOGIN_COOLOFF_MINUTES", "15")))
# Lock the (username, address) pair: a guesser is stopped without locking the real user out everywhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# How many proxies of ours stand before the app; the throttle then keys on the client behind them.
PROXY_COUNT = int(env("PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "opsdesk.client_ip.client_ip"
AXES_USERNAME_CALLABLE = "opsdesk.client_ip.client_username"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "desk"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [
    BASE_DIR / "opsdesk" / "static",
    # plotly.js comes from the installed plotly package: no CDN, always the matching version.
    ("vendor/plotly", Path(plotly.__file__).parent / "package_data"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# A violation CSV is checked row by row inside the request (about 1.5 ms a row): larger files are refused
# before any row is read, so an upload answers in seconds. Split a bigger export into several files.
VIOLATION_IMPORT_MAX_ROWS = 5000
VIOLATION_IMPORT_MAX_BYTES = 2 * 1024 * 1024
# Order CSVs are imported by a worker (stores.import_jobs), not in the request: a month's export of a busy
# store fits (bench/RESULTS.md, order import: 100,000 rows). The bytes are checked before the file is stored.
ORDER_IMPORT_MAX_ROWS = 250_000
ORDER_IMPORT_MAX_BYTES = 64 * 1024 * 1024
# Ad reports are imported by a worker too; a year of a Google report segmented by device and network fits.
AD_REPORT_MAX_BYTES = 64 * 1024 * 1024
# A month (a store's or an ad plan's) on pace to spend less than this share of its ad budget is flagged as
# underspending on the desk, the ads pages and the morning email (campaigns/ads_pacing.py); 0 turns it off.
AD_UNDERSPEND_SHARE = float(env("AD_UNDERSPEND_SHARE", "0.7"))
if not 0 <= AD_UNDERSPEND_SHARE <= 1:
    raise ImproperlyConfigured("AD_UNDERSPEND_SHARE is a share of the budget, from 0 to 1 (0.7 = 70 %).")
# Review files are imported by a worker (about 3,400 reviews a second, bench/RESULTS.md): Olist's whole review
# export (99,224 reviews, 14 MB) fits in one file. API batches are still checked in the request (about 3 s).
REVIEW_IMPORT_MAX_ROWS = 150_000
REVIEW_IMPORT_MAX_BYTES = 32 * 1024 * 1024
REVIEW_BATCH_MAX_ROWS = 10_000
REVIEW_BATCH_MAX_BYTES = 5 * 1024 * 1024
# An upload page lists at most this many of a refused file's errors (and says how many there were).
IMPORT_ERRORS_SHOWN = 200
# Finished import jobs (their summary and bad rows) are deleted this many days after they finish, nightly.
IMPORT_JOB_RETENTION_DAYS = int(env("IMPORT_JOB_RETENTION_DAYS", "90"))

# The demo storefront (`make demo` sets it, nothing else): beat keeps the demo stores' traffic and
# orders flowing every minute (metrics/demo_live.py). Off by default and in tests.
DEMO_TRAFFIC = env_bool("OPSDESK_DEMO_TRAFFIC", False)
if DEMO_TRAFFIC and PRODUCTION:  # it makes up shoppers and paid orders: never beside real stores
    raise ImproperlyConfigured("OPSDESK_DEMO_TRAFFIC is for the demo only; unset it in production.")

# --- Celery -------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL")
CELERY_BROKER_URL = env("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # A task a dead worker had taken is handed out again after this many seconds (acks_late).
    _visibility = int(env("CELERY_VISIBILITY_TIMEOUT", "3600"))
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": _visibility}
    if _visibility < 60:  # tests: look for a killed worker's tasks every second
        CELERY_BROKER_TRANSPORT_OPTIONS.update(unacked_restore_interval=1, unacked_restore_throttle=1)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", "opsdesk")
# The test suite runs in parallel processes on one Redis (pytest-xdist names them gw0, gw1, ...): each keeps
# its own queue and cache keys, so a worker one process starts never runs another's tasks (written for
# another test database). The workers a test starts inherit the name, with their queue already named by it.
TEST_PROCESS = os.environ.get("PYTEST_XDIST_WORKER", "")
if TEST_PROCESS and not CELERY_TASK_DEFAULT_QUEUE.endswith(f"-{TEST_PROCESS}"):
    CELERY_TASK_DEFAULT_QUEUE += f"-{TEST_PROCESS}"

# --- Caches -----------------------------------------------------------------------------------
# "progress": a running import job's progress, written by the worker and read by its status page outside the
# import's transaction (stores.import_jobs); "limits": the API's request counts per store (metrics.api), shared
# by every web process. Redis when there is one; else files under <var>, which the demo's web and worker share
# (as they share its filesystem broker).
_redis = next((u for u in (REDIS_URL, CELERY_BROKER_URL) if (u or "").startswith(("redis://", "rediss://"))), None)


def _shared_cache(name: str) -> dict:
    if _redis:
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _redis,
                "KEY_PREFIX": f"opsdesk-{name}{TEST_PROCESS}",
                "OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1}}
    return {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(VAR_DIR / name)}


CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "progress": _shared_cache("progress"),
    "limits": _shared_cache("limits"),
    # Each store's live snapshot for a few seconds, shared by its viewers (metrics.live_cache). Without Redis (the
    # demo's one web process) this process's memory will do.
    "live": _shared_cache("live") if _redis else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                                   "LOCATION": "live"},
}
# Seconds a store's live snapshot is shared by everyone watching it (the page polls every 5 s); 0 computes one per
# request. While one request computes the next, the others get the last one, at most twice this old.
_live_shared = env("LIVE_SHARED_SECONDS", "5")
if not _live_shared.strip().isdigit():
    raise ImproperlyConfigured(f"LIVE_SHARED_SECONDS is whole seconds, 0 or up (0: off), not {_live_shared!r}")
LIVE_SHARED_SECONDS = int(_live_shared)
# Requests a store may make to the API (/api/v1/: events, ad reports, reviews) in a minute, over all its keys;
# more get 429 with Retry-After. A storefront sends batches of up to INGEST_MAX_EVENTS events.
API_REQUESTS_PER_MINUTE = int(env("API_REQUESTS_PER_MINUTE", "600"))
# The ingest API's batch limits (413 above the first two; a later time stamp than the skew is refused).
INGEST_MAX_EVENTS = int(env("INGEST_MAX_EVENTS", "1000"))
INGEST_MAX_BODY_BYTES = int(env("INGEST_MAX_BODY_BYTES", str(2 * 1024 * 1024)))
INGEST_MAX_CLOCK_SKEW_SECONDS = int(env("INGEST_MAX_CLOCK_SKEW_SECONDS", "3600"))

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "opsdesk <desk@opsdesk.local>")
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- SMS --------------------------------------------------------------------------------------
# console | file | locmem | twilio (see members/sms/)
SMS_BACKEND = env("SMS_BACKEND", "console")
SMS_FILE_PATH = env("SMS_FILE_PATH", str(VAR_DIR / "sms"))
SMS_RATE_PER_SECOND = float(env("SMS_RATE_PER_SECOND", "10"))
# Pace this fraction under the rate, so jitter on the way to Twilio never exceeds it in any second.
SMS_RATE_MARGIN = float(env("SMS_RATE_MARGIN", "0.06"))
# One send task carries SMS_BATCH_SIZE messages, sent by SMS_SEND_THREADS threads (Twilio's latency overlaps).
SMS_BATCH_SIZE = int(env("SMS_BATCH_SIZE", "200"))
SMS_SEND_THREADS = int(env("SMS_SEND_THREADS", "8"))
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER", "")
TWILIO_MESSAGING_SERVICE_SID = env("TWILIO_MESSAGING_SERVICE_SID", "")
# Only for tests and demos: point the official client at a local server that speaks Twilio's API.
TWILIO_API_BASE = env("TWILIO_API_BASE", "")
# Sending pipeline (docs/members.md): a "sending" claim older than SMS_SENDING_TIMEOUT is looked up
# at Twilio before any new attempt; retries back off from SMS_RETRY_BACKOFF seconds, doubling.
SMS_SENDING_TIMEOUT = int(env("SMS_SENDING_TIMEOUT", "300"))
SMS_HTTP_TIMEOUT = float(env("SMS_HTTP_TIMEOUT", "15"))
SMS_MAX_ATTEMPTS = int(env("SMS_MAX_ATTEMPTS", "6"))
SMS_RETRY_BACKOFF = float(env("SMS_RETRY_BACKOFF", "30"))
SMS_FREQUENCY_CAP = int(env("SMS_FREQUENCY_CAP", "3"))  # at most this many texts per member ...
SMS_FREQUENCY_DAYS = int(env("SMS_FREQUENCY_DAYS", "7"))  # ... in this many days
SMS_PRICE_PER_SEGMENT = env("SMS_PRICE_PER_SEGMENT", "0.0079")  # for the dry run's cost estimate
SMS_PRICE_CURRENCY = env("SMS_PRICE_CURRENCY", "USD")  # the SMS provider bills in its own currency (Twilio: USD)

# --- Security ---------------------------------------------------------------------------------
SESSION_ENGINE = "opsdesk.sessions"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Scripts only from our own static files or inline blocks carrying the per-request nonce
# (`<script nonce="{{ request.csp_nonce }}">`); plotly sets inline styles, so styles stay inline-able.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", "blob:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    # kaleido's browser driver narrates every start and clean-up at INFO.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "choreographer": {"level": "WARNING"},
                "kaleido": {"level": "WARNING"}},
}
