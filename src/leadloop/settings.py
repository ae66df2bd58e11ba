"""Deployment settings, all read from the environment (12-factor) with safe laptop defaults.

Business settings (SLA hours, thresholds, mappings) are database rows, not settings.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("LEADLOOP_VAR_DIR", PROJECT_DIR / "var"))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_bool("LEADLOOP_DEBUG", False)
SECRET_KEY = os.environ.get("LEADLOOP_SECRET_KEY", "")
if not SECRET_KEY:
    # A laptop install gets a key that is stable across restarts, kept beside the database.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _key_file = VAR_DIR / "secret_key"
    if not _key_file.exists():
        import secrets

        _key_file.write_text(secrets.token_urlsafe(50))
        _key_file.chmod(0o600)
    SECRET_KEY = _key_file.read_text().strip()

# Fernet keys that encrypt stored channel passwords and provider keys (core/secrets.py).
# Comma-separated: the first encrypts, every key decrypts; rotation adds a new key in front,
# runs `leadloop secrets rotate`, then drops the old key. Without it a laptop gets a key file
# beside the database (back it up with the database: without the key the secrets are lost).
LEADLOOP_SECRETS_KEYS = [
    k.strip() for k in os.environ.get("LEADLOOP_SECRETS_KEYS", "").split(",") if k.strip()
]
LEADLOOP_SECRETS_KEY_FILE = VAR_DIR / "secrets_key"

ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("LEADLOOP_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("LEADLOOP_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "leadloop.core",
    "leadloop.accounts",
    "leadloop.notifications",
    "leadloop.webhooks",
    "leadloop.leads",
    "leadloop.intake",
    "leadloop.assessment",
    "leadloop.privacy",
    "leadloop.distribution",
    "leadloop.sales",
    "leadloop.nurture",
    "leadloop.analytics",
    "leadloop.demo",
    "leadloop.web",
    "axes",
]

MIDDLEWARE = [
    # First, so that every response gets the policy, SecurityMiddleware's HTTPS redirects too.
    "leadloop.core.csp.ContentSecurityPolicyMiddleware",
    # Health for a load balancer (/healthz, /readyz): before the HTTPS redirect and the host
    # check, which a balancer asking by address in plain HTTP would fail (core/health.py).
    "leadloop.core.health.HealthMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "leadloop.web.middleware.UserPreferencesMiddleware",
    "leadloop.web.middleware.AuditContextMiddleware",
    "leadloop.web.middleware.DomainErrorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "leadloop.urls"
WSGI_APPLICATION = "leadloop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
# SQLite in WAL mode under var/ by default; DATABASE_URL=postgres://… in production.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ.get(
            "LEADLOOP_TEST_DATABASE", "test_leadloop"
        )
        # No JIT: compiling a plan cost 190 ms of the whole floor's 970 ms pipeline board at a
        # million leads and saved nothing on queries this short (docs/benchmarks.md). An
        # `options` in DATABASE_URL (?options=...) comes after this one and wins.
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = " ".join(["-c jit=off", options.get("options", "")]).strip()
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            # Django's SQLite backend with a queue for writers (see core/sqlite_backend).
            "ENGINE": "leadloop.core.sqlite_backend",
            "NAME": os.environ.get("LEADLOOP_SQLITE_PATH", str(VAR_DIR / "leadloop.sqlite3")),
            "OPTIONS": {
                # WAL lets readers go on while one writer writes; IMMEDIATE takes the write lock
                # at BEGIN so two writers queue on busy_timeout instead of failing on upgrade.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA temp_store=MEMORY;"
                    "PRAGMA mmap_size=268435456;"
                    "PRAGMA cache_size=-64000;"
                    # Checkpoint every ~40 MB of WAL rather than 4 MB: each checkpoint syncs
                    # twice and runs inside a writer's commit; fewer, larger ones raised the
                    # HTTP intake from ~570 to ~650 leads/s (docs/benchmarks.md).
                    "PRAGMA wal_autocheckpoint=10000;"
                ),
            },
            # Opening a connection and running the pragmas above costs more than a whole lead's
            # intake: keep each worker thread's connection, checked before reuse.
            "CONN_MAX_AGE": int(os.environ.get("LEADLOOP_CONN_MAX_AGE", "600")),
            "CONN_HEALTH_CHECKS": True,
            # Named explicitly: pytest-django recognises an in-memory test database only by
            # Django's own engine path, which this backend does not have.
            "TEST": {"NAME": os.environ.get("LEADLOOP_SQLITE_TEST_PATH") or ":memory:"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background tasks -----------------------------------------------------------------------------
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "db")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
if TASKS_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq"]
    # RQ stops a job after 180 s unless told otherwise, in the middle of whatever query it runs.
    # The tasks that can run long (a large import, the analytics rebuild, training a model) are
    # written to be stopped and run again, but an hour is their ceiling here, not three minutes;
    # the short periodic ones stop themselves well before it (assessment/pending.py).
    RQ_QUEUES = {
        "default": {
            # One client per process instead of one per enqueue (core/rq_connection.py).
            "USE_REDIS_CACHE": "rq",
            "DEFAULT_TIMEOUT": int(os.environ.get("LEADLOOP_RQ_JOB_TIMEOUT", "3600")),
        }
    }
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "rq": {"BACKEND": "leadloop.core.rq_connection.SharedRedis", "LOCATION": REDIS_URL},
    }
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
elif TASKS_BACKEND == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
elif TASKS_BACKEND == "dummy":
    # Tests: "default" records what was enqueued; "immediate" runs a task on the spot.
    TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"},
        "immediate": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},
    }
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Auth -----------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# django-axes counts failed logins in the database (every web process sees the same count) and
# refuses a login, the right password included, for LEADLOOP_LOGIN_COOLOFF_MINUTES after
# LEADLOOP_LOGIN_FAILURE_LIMIT failures for one account or from one address.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LEADLOOP_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LEADLOOP_LOGIN_COOLOFF_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "leadloop.core.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "leadloop.web.views.locked_out"
# Axes would also write a row for every successful login; only failures are needed here.
AXES_DISABLE_ACCESS_LOG = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# HTMX sends the CSRF token from the page (hx-headers in web/base.html), never from the cookie.
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Sites that may frame the public web form pages (/f/<slug>/, space-separated CSP sources such as
# `https://www.example.com`); `*` lets any site embed them, `'none'` none. Every other page may
# not be framed at all (docs/security/csp.md).
LEADLOOP_FORM_FRAME_ANCESTORS = os.environ.get("LEADLOOP_FORM_FRAME_ANCESTORS", "*").split()

# --- HTTPS ----------------------------------------------------------------------------------------
# LEADLOOP_SECURE_COOKIES=true says the site is served over TLS only: cookies go over HTTPS only,
# plain HTTP is redirected, and browsers are told to use HTTPS from then on (HSTS).
SECURE_MODE = _env_bool("LEADLOOP_SECURE_COOKIES", False)
SESSION_COOKIE_SECURE = SECURE_MODE
CSRF_COOKIE_SECURE = SECURE_MODE
SECURE_SSL_REDIRECT = SECURE_MODE and _env_bool("LEADLOOP_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("LEADLOOP_HSTS_SECONDS", 31_536_000)) if SECURE_MODE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("LEADLOOP_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = _env_bool("LEADLOOP_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS: list[str] = []
if not SECURE_HSTS_PRELOAD:
    # Preloading binds the whole registered domain (hstspreload.org), which is its owner's call,
    # not an app's: off unless the operator opts in, and `check --deploy` need not nag about it.
    SILENCED_SYSTEM_CHECKS.append("security.W021")
# Behind a proxy that ends TLS the app sees plain HTTP; the proxy's header says what the visitor
# used. Default X-Forwarded-Proto when proxies are trusted; `none` turns it off.
_proxy_ssl_header = os.environ.get(
    "LEADLOOP_PROXY_SSL_HEADER",
    "X-Forwarded-Proto" if os.environ.get("LEADLOOP_TRUSTED_PROXIES", "").strip() else "none",
).strip()
if _proxy_ssl_header.lower() not in {"", "none"}:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")

# --- Language and time ----------------------------------------------------------------------------
LANGUAGE_CODE = os.environ.get("LEADLOOP_LANGUAGE", "en")
LANGUAGES = [("en", _("English")), ("nl", _("Dutch"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
LEADLOOP_DEFAULT_TIME_ZONE = os.environ.get("LEADLOOP_TIME_ZONE", "Europe/Amsterdam")
LEADLOOP_DEFAULT_CURRENCY = os.environ.get("LEADLOOP_CURRENCY", "EUR")
LEADLOOP_DEFAULT_COUNTRY = os.environ.get("LEADLOOP_COUNTRY", "NL")
# Whole-floor analytics reports read the day totals (docs/analytics.md); off, they count facts.
ANALYTICS_DAY_TOTALS = os.environ.get("LEADLOOP_ANALYTICS_DAY_TOTALS", "1") != "0"

# --- Static files (served by the app itself; front-end libraries come from npm) -------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("LEADLOOP_STATIC_ROOT", PROJECT_DIR / "staticfiles"))
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Limits ---------------------------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("LEADLOOP_MAX_BODY_BYTES", 5 * 1024 * 1024))
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
# Files uploaded for a batch import; Django spools uploads over FILE_UPLOAD_MAX_MEMORY_SIZE to disk.
LEADLOOP_IMPORT_MAX_BYTES = int(os.environ.get("LEADLOOP_IMPORT_MAX_BYTES", 200 * 1024 * 1024))
LEADLOOP_EXPORT_MAX_ROWS = int(os.environ.get("LEADLOOP_EXPORT_MAX_ROWS", 100_000))

# --- The web server (leadloop serve: granian, then core/wsgi_guard.py, then Django) --------------
# Threads per web worker that run Django. SQLite allows one writer at a time: one thread per
# process keeps writes in a queue instead of piling up lock waits; PostgreSQL gets a few.
LEADLOOP_WEB_THREADS = (
    1
    if "sqlite" in DATABASES["default"]["ENGINE"]
    else int(os.environ.get("LEADLOOP_WEB_THREADS", 4))
)
# Request bodies one web worker reads at the same time (a sender that stalls keeps its place until
# it hangs up); one more is answered 503. Bodies are read in full before Django runs, on threads
# of their own, so a slow sender never holds one of the threads above.
LEADLOOP_BODY_READERS = int(os.environ.get("LEADLOOP_BODY_READERS", 16))
# Seconds to receive a request's headers, and to wait on an idle keep-alive connection (granian).
LEADLOOP_HEADER_READ_TIMEOUT = float(os.environ.get("LEADLOOP_HEADER_READ_TIMEOUT", 15))
# A submission still `received` this long after it arrived was orphaned by a crash; the
# scheduler's sweep then processes it.
LEADLOOP_ORPHAN_AFTER_SECONDS = int(os.environ.get("LEADLOOP_ORPHAN_AFTER_SECONDS", 120))
# Reverse proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated).
LEADLOOP_TRUSTED_PROXIES = os.environ.get("LEADLOOP_TRUSTED_PROXIES", "")
# Channels (feeds, FTP, IMAP) may connect to loopback and private addresses only when allowed.
LEADLOOP_ALLOW_PRIVATE_HOSTS = _env_bool("LEADLOOP_ALLOW_PRIVATE_HOSTS", False)
# Leads a routing run sells side by side while a rule sells them (each auction waits for
# buyers up to its deadline): threads of the worker, each with its own database connection.
LEADLOOP_SELLING_THREADS = int(os.environ.get("LEADLOOP_SELLING_THREADS", 16))
# Days the webhook log keeps a message once every delivery of it is done (delivered or given up).
LEADLOOP_WEBHOOK_LOG_DAYS = int(os.environ.get("LEADLOOP_WEBHOOK_LOG_DAYS", "30"))
# The audit log records every view of a lead page or lead API read; changes, exports, erasures
# and downloads are always recorded (docs/security/audit.md).
LEADLOOP_AUDIT_VIEWS = _env_bool("LEADLOOP_AUDIT_VIEWS", True)
# Intake throttling (/in/<key>, source-key API posts): at most this many posts per window from
# one source and from one address; a source may set its own (Source.intake_limit…). 0: no limit.
LEADLOOP_INTAKE_LIMIT_PER_SOURCE = int(os.environ.get("LEADLOOP_INTAKE_LIMIT_PER_SOURCE", 3000))
LEADLOOP_INTAKE_LIMIT_PER_ADDRESS = int(os.environ.get("LEADLOOP_INTAKE_LIMIT_PER_ADDRESS", 600))
LEADLOOP_INTAKE_LIMIT_WINDOW_SECONDS = max(
    1, int(os.environ.get("LEADLOOP_INTAKE_LIMIT_WINDOW_SECONDS", 60))
)
# Wrong source or API keys from one address: after this many in the window, 429 instead of 401.
LEADLOOP_KEY_FAILURE_LIMIT = int(os.environ.get("LEADLOOP_KEY_FAILURE_LIMIT", 30))
LEADLOOP_KEY_FAILURE_WINDOW_SECONDS = max(
    1, int(os.environ.get("LEADLOOP_KEY_FAILURE_WINDOW_SECONDS", 600))
)
# Outgoing mail (notifications). Without LEADLOOP_SMTP_HOST notifications show in the app only.
# LEADLOOP_SMTP_SECURITY: starttls (default), ssl or none.
LEADLOOP_SMTP = {
    "host": os.environ.get("LEADLOOP_SMTP_HOST", ""),
    "port": int(os.environ.get("LEADLOOP_SMTP_PORT", 587)),
    "username": os.environ.get("LEADLOOP_SMTP_USER", ""),
    "password": os.environ.get("LEADLOOP_SMTP_PASSWORD", ""),
    "security": os.environ.get("LEADLOOP_SMTP_SECURITY", "starttls"),
    "timeout": float(os.environ.get("LEADLOOP_SMTP_TIMEOUT", 10)),
}
LEADLOOP_MAIL_FROM = os.environ.get("LEADLOOP_MAIL_FROM", "Leadloop <leadloop@localhost>")
# The address people open Leadloop at, for links in e-mails.
LEADLOOP_BASE_URL = os.environ.get("LEADLOOP_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# How long a survey link sent to a lead stays valid (nurture surveys).
LEADLOOP_SURVEY_LINK_DAYS = int(os.environ.get("LEADLOOP_SURVEY_LINK_DAYS", "30"))
# Marketing e-mail (nurture.mail). The sender of marketing mail (default: LEADLOOP_MAIL_FROM);
# at most this many marketing mails a minute to one receiving domain (the rest wait for the next
# sweep, as big mailbox providers throttle bursts); clicks within this many seconds of sending
# are taken for a security scanner's, not the person's.
LEADLOOP_MARKETING_FROM = os.environ.get("LEADLOOP_MARKETING_FROM", "") or LEADLOOP_MAIL_FROM
LEADLOOP_MARKETING_PER_DOMAIN_PER_MINUTE = max(
    1, int(os.environ.get("LEADLOOP_MARKETING_PER_DOMAIN_PER_MINUTE", 60))
)
LEADLOOP_MARKETING_SCANNER_SECONDS = int(os.environ.get("LEADLOOP_MARKETING_SCANNER_SECONDS", 30))
# The bounce mailbox (nurture.mail): returned marketing mail (bounces, spam complaints) read over
# IMAP every two minutes when LEADLOOP_BOUNCE_IMAP_HOST is set, or received by
# `leadloop mail bounce-listener`. LEADLOOP_BOUNCE_IMAP_SSL: true (default, port 993) or false
# (port 143). A returned mail over LEADLOOP_BOUNCE_MAX_BYTES is refused by the listener (552) and,
# from IMAP, kept as it came but not read.
LEADLOOP_BOUNCE_IMAP = {
    "host": os.environ.get("LEADLOOP_BOUNCE_IMAP_HOST", ""),
    "port": int(os.environ.get("LEADLOOP_BOUNCE_IMAP_PORT", 0)),
    "username": os.environ.get("LEADLOOP_BOUNCE_IMAP_USER", ""),
    "password": os.environ.get("LEADLOOP_BOUNCE_IMAP_PASSWORD", ""),
    "folder": os.environ.get("LEADLOOP_BOUNCE_IMAP_FOLDER", "INBOX"),
    "ssl": _env_bool("LEADLOOP_BOUNCE_IMAP_SSL", True),
}
LEADLOOP_BOUNCE_MAX_BYTES = int(os.environ.get("LEADLOOP_BOUNCE_MAX_BYTES", 5 * 1024 * 1024))
# Only for bench/: mounts a bare insert endpoint the intake benchmark compares against.
LEADLOOP_BENCH_ENDPOINTS = _env_bool("LEADLOOP_BENCH_ENDPOINTS", False)

# Every handler carries the redaction filter: no source key, API key, token or password reaches
# a log line, whichever logger wrote it (leadloop.core.logredact).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "leadloop.core.logredact.RedactFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LEADLOOP_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own defaults would keep their handlers (a DEBUG console, mail_admins, the
        # runserver log) beside ours, without the redaction: every Django logger goes through
        # the one filtered handler instead.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        # Its start-up banner on every command; lockouts are still logged (WARNING).
        "axes.apps": {"level": "WARNING"},
    },
}
