"""BackCare settings: the only settings file, driven by environment variables.

Every variable read here is listed, with its default, in `.env.example`. Defaults are safe for
production (DEBUG off, HTTPS on); local development and the demo set DEBUG=1 explicitly.
"""

from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=[])

if not DEBUG:
    _missing = [name for name in ("SECRET_KEY", "ALLOWED_HOSTS") if not globals()[name]]
    if _missing:
        raise ImproperlyConfigured(
            f"DEBUG is off, so {' and '.join(_missing)} must be set in the environment "
            "(see .env.example). For local development set DEBUG=1."
        )
else:
    SECRET_KEY = SECRET_KEY or "insecure-development-key-only-used-when-DEBUG-is-on"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]"]

CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Applications ----------------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_tasks_db",
    # Serves the API docs page (Swagger UI) from django-ninja's own static files, never a CDN.
    "ninja",
    # Ours, in import order (ARCHITECTURE.md §3): an app may import only apps above it.
    "backcare.core",
    "backcare.accounts",
    "backcare.patients",
    "backcare.triage",
    "backcare.outcomes",
    "backcare.intake",
    "backcare.plans",
    "backcare.scheduling",
    "backcare.visits",
    "backcare.reports",
    "backcare.fhir",
    "backcare.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside every other middleware, so that responses they make themselves (a 400 for a bad
    # Host, a redirect) carry the policy too.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "backcare.core.middleware.RequestContextMiddleware",
    "backcare.core.middleware.DomainErrorMiddleware",
    "backcare.core.middleware.InvalidFormStatusMiddleware",
    "backcare.accounts.middleware.SessionLimitsMiddleware",
    "backcare.accounts.middleware.ClinicTimeZoneMiddleware",
    "backcare.accounts.middleware.StaffMFAMiddleware",
]

if not DEBUG:
    # Serves collected static files in production; runserver and the test server do it in DEBUG.
    MIDDLEWARE.insert(3, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.csp",
                "backcare.accounts.context_processors.clinic_context",
            ],
        },
    },
]

FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# --- Database --------------------------------------------------------------------------------

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'backcare.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN so that
    # check-then-write sequences (no double booking) are serialised (ARCHITECTURE.md §5).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;",
        }
    )
    # Tests use a file, not memory, so that threads (the double-booking race tests) each get
    # a real connection with SQLite's file locking.
    _sqlite_name = Path(str(DATABASES["default"]["NAME"]))
    DATABASES["default"].setdefault(
        "TEST", {"NAME": str(_sqlite_name.with_name(f"test_{_sqlite_name.name}"))}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# --- Authentication (django-allauth) ----------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"

ACCOUNT_ADAPTER = "backcare.accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[BackCare] "
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "BackCare"
# Accept the code of the neighbouring 30-second step too, for phone clocks that drift (RFC 6238
# §5.2 allows one step); allauth still refuses a code that was used once.
MFA_TOTP_TOLERANCE = 1

# Staff (every role but patient) must enrol TOTP before working. Only the demo, which runs with
# DEBUG on, may relax this.
# Staff sessions end after this long without a request, and this long after signing in.
BACKCARE_STAFF_IDLE_MINUTES = env.int("BACKCARE_STAFF_IDLE_MINUTES", default=15)
BACKCARE_STAFF_SESSION_HOURS = env.int("BACKCARE_STAFF_SESSION_HOURS", default=12)
BACKCARE_REQUIRE_STAFF_MFA = env.bool("BACKCARE_REQUIRE_STAFF_MFA", default=True)
if not BACKCARE_REQUIRE_STAFF_MFA and not DEBUG:
    raise ImproperlyConfigured(
        "BACKCARE_REQUIRE_STAFF_MFA=0 is allowed only for the demo (DEBUG=1). "
        "Remove it for a real deployment."
    )

# JSON API (decision 0019): calls allowed per token (or signed-in person) and per period,
# e.g. 600/min or 10000/h; more answer 429.
BACKCARE_API_RATE = env.str("BACKCARE_API_RATE", default="600/min")
# Pages anyone can reach or that start costly work (check-in and waitlist links, calendar feeds,
# online booking, intake start, the education page): requests per client address and page, e.g.
# 60/min; more answer 429 with Retry-After (decision 0026). The client address is the socket's,
# or the last X-Forwarded-For hop only with BEHIND_PROXY=1.
BACKCARE_PUBLIC_RATE = env.str("BACKCARE_PUBLIC_RATE", default="60/min")
# The retention job (`manage.py apply_retention`, decision 0026) removes outbox messages and
# webhook deliveries that were sent (delivered), skipped or failed this many days ago.
BACKCARE_RETENTION_NOTIFICATION_DAYS = env.int("BACKCARE_RETENTION_NOTIFICATION_DAYS", default=180)
# ... and whole-clinic export files (CSV zip, FHIR NDJSON), with their job rows, this many days
# after they were written: a copy of every record should not lie on the server's disk for ever.
BACKCARE_RETENTION_EXPORT_DAYS = env.int("BACKCARE_RETENTION_EXPORT_DAYS", default=7)

# The whole-group analytics page works out at most this many courses per request (more would hold
# a worker past its timeout: docs/performance.md); a longer period asks for a shorter one.
BACKCARE_GROUP_ANALYTICS_MAX_COURSES = env.int(
    "BACKCARE_GROUP_ANALYTICS_MAX_COURSES", default=10000
)

# Webhooks are never sent to this server's own network (loopback, private, link-local such as a
# cloud's metadata service, reserved), checked on the address connected to after DNS. Set this to
# 1 only where the receivers are meant to be internal (a private deployment's own services).
BACKCARE_WEBHOOK_PRIVATE_ADDRESSES = env.bool("BACKCARE_WEBHOOK_PRIVATE_ADDRESSES", default=False)

# Benchmarks (`make bench`, docs/performance.md): serve the hello-world baseline page at
# /bench/hello (config/bench_urls.py). BACKCARE_AUDIT=0 turns the audit log off to measure its
# cost, and is refused unless BACKCARE_BENCH=1, so no deployment loses its log by accident.
BACKCARE_BENCH = env.bool("BACKCARE_BENCH", default=False)
BACKCARE_AUDIT = env.bool("BACKCARE_AUDIT", default=True)
if not BACKCARE_AUDIT and not BACKCARE_BENCH:
    raise ImproperlyConfigured(
        "BACKCARE_AUDIT=0 is allowed only for benchmarks (BACKCARE_BENCH=1). "
        "Remove it: every deployment keeps the audit log."
    )
if BACKCARE_BENCH:
    ROOT_URLCONF = "config.bench_urls"

# --- Email ------------------------------------------------------------------------------------

_SMTP_OPTIONS = {
    "EMAIL_HOST": "host",
    "EMAIL_PORT": "port",
    "EMAIL_HOST_USER": "username",
    "EMAIL_HOST_PASSWORD": "password",
    "EMAIL_USE_TLS": "use_tls",
    "EMAIL_USE_SSL": "use_ssl",
}


def _mailer(url: str) -> dict[str, Any]:
    """Django 6.1 MAILERS entry from an EMAIL_URL such as smtp+tls://user:pass@host:587,
    consolemail:// or memorymail:// (parsed by django-environ)."""
    parsed = environ.Env.email_url_config(url)
    backend = parsed["EMAIL_BACKEND"]
    options: dict[str, Any] = {}
    if backend.endswith("smtp.EmailBackend"):
        options = {key: parsed[name] for name, key in _SMTP_OPTIONS.items() if parsed.get(name)}
    return {"BACKEND": backend, "OPTIONS": options}


# Default: print mail in development; hand it to the local mail server in production.
MAILERS = {
    "default": _mailer(
        env.str("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
    )
}
# Background work (django.tasks): in production the database backend, run by `manage.py
# db_worker`; the demo and the tests run tasks at once, in the request, after the commit.
TASKS = {
    "default": {
        "BACKEND": env.str(
            "TASKS_BACKEND",
            default="django.tasks.backends.immediate.ImmediateBackend"
            if DEBUG
            else "django_tasks_db.DatabaseBackend",
        )
    }
}
# Text messages (reminders): a dotted path to a backend of backcare.core.sms. The console one
# prints them (the demo); production sets its provider's adapter.
SMS_BACKEND = env.str(
    "SMS_BACKEND",
    default="backcare.core.sms.ConsoleSmsBackend" if DEBUG else "backcare.core.sms.NoSmsBackend",
)
# The address of this site, for links in messages sent without a request (reminders, waitlist
# offers). Default: the first ALLOWED_HOSTS name over HTTPS; http://localhost:8000 with DEBUG=1.
SITE_URL = env.str(
    "SITE_URL",
    default="http://localhost:8000" if DEBUG else f"https://{ALLOWED_HOSTS[0]}",
).rstrip("/")

DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="BackCare <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation and time -------------------------------------------------------------

LANGUAGE_CODE = "en"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS: list[Any] = [
    BASE_DIR / "static",
    # Installed from the npm registry with package-lock.json (`npm ci`), never from a CDN.
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True

# --- Uploaded documents -------------------------------------------------------------------------

# Clearance letters and other uploads. Never served as static files: a view checks who may read
# each one. Back this folder up with the database.
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "/media-not-served/"
BACKCARE_MAX_UPLOAD_BYTES = env.int("BACKCARE_MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

CSRF_FAILURE_VIEW = "backcare.core.views.csrf_failure"

# --- Security ---------------------------------------------------------------------------------

HTTPS = env.bool("HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("HSTS_SECONDS", default=31_536_000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
# Behind a reverse proxy that sets X-Forwarded-Proto and X-Forwarded-For (one hop).
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# --- Logging ----------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
