"""Django settings, read from the environment by :mod:`kratomwatch.config`."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from kratomwatch import config

_env = config.env_dict()
try:
    DEBUG = config.env_bool(_env, "KRATOMWATCH_DEBUG")
    SECRET_KEY = config.secret_key(_env, DEBUG)
    ALLOWED_HOSTS = config.env_list(_env, "KRATOMWATCH_ALLOWED_HOSTS", ["localhost", "127.0.0.1"])
    _db = config.database_choice(_env)
    SECURE = config.env_bool(_env, "KRATOMWATCH_SECURE_COOKIES")
    KRATOMWATCH_API_RATE_LIMIT = config.env_int(_env, "KRATOMWATCH_API_RATE_LIMIT", 120)
    KRATOMWATCH_VAPID_KEYS = config.vapid_keys(_env)
    # Largest certificate of analysis (PDF or photo) accepted, in bytes.
    KRATOMWATCH_CERTIFICATE_MAX_BYTES = config.env_int(
        _env, "KRATOMWATCH_CERTIFICATE_MAX_BYTES", 10 * 1024 * 1024
    )
except config.ConfigError as exc:
    raise ImproperlyConfigured(str(exc)) from exc

TIME_ZONE = _env.get("KRATOMWATCH_TIME_ZONE", "UTC")
try:
    ZoneInfo(TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError) as exc:
    raise ImproperlyConfigured(
        f"KRATOMWATCH_TIME_ZONE is not a known time zone: {TIME_ZONE!r}"
    ) from exc

BASE_DIR = Path(__file__).resolve().parent

if _db.engine == "sqlite":
    assert _db.sqlite_path is not None
    DATABASES = {
        "default": {
            "ENGINE": "kratomwatch.sqlite_backend",  # Django's, creating the file 0600
            "NAME": str(_db.sqlite_path),
            "OPTIONS": {
                # WAL lets readers work beside one writer; FULL sync so an acknowledged write
                # survives a crash; IMMEDIATE transactions avoid lock-upgrade deadlocks.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # Tests use a file too, so that WAL and synchronous settings are the real ones.
            "TEST": {"NAME": str(_db.sqlite_path.with_name("test-kratomwatch.sqlite3"))},
        }
    }
else:
    DATABASES = {"default": dj_database_url.parse(_db.url or "", conn_max_age=60)}
DATABASE_DESCRIPTION = _db.describe()

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "kratomwatch.clinic",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",  # the browser's language, before log-in
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kratomwatch.clinic.language.PatientLanguageMiddleware",  # a patient's chosen language
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "kratomwatch.clinic.views.audit.AuditPatientViews",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the lockout page
]

# Failed logins: 5 wrong passwords for one username from one address lock that pair out for
# 15 minutes; the lockout page says so and for how long.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# Content security policy: only this site's own scripts, styles and images; no inline script.
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

ROOT_URLCONF = "kratomwatch.urls"
WSGI_APPLICATION = "kratomwatch.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            # {% translate %} and {% blocktranslate %} in every template without a {% load %}.
            "builtins": ["django.templatetags.i18n"],
        },
    }
]

AUTH_USER_MODEL = "clinic.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
# The languages of the interface (docs/languages.md); each has a catalog in LOCALE_PATHS.
LANGUAGES = [("en", "English"), ("es", "Spanish"), ("ms", "Malay")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One way to write dates on every page (kratomwatch/formats/en/formats.py).
FORMAT_MODULE_PATH = ["kratomwatch.formats"]
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

STATIC_URL = "static/"
STATIC_ROOT = None  # static files are served from the installed package by WhiteNoise
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_AGE = 60 * 60 * 8
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if SECURE:
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # The reverse proxy terminates TLS and says so in X-Forwarded-Proto; plain HTTP that
    # reaches the app is redirected.
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Preloading a domain into browsers is the clinic's own decision, not a default.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]

# No health data in log lines: exception messages are withheld (kratomwatch.logsafe).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_health_data": {"()": "kratomwatch.logsafe.WithholdExceptionMessages"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["no_health_data"]},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
}

KRATOMWATCH_BASE_URL = _env.get("KRATOMWATCH_BASE_URL", "http://127.0.0.1:8000")
_EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}
_email = _env.get("KRATOMWATCH_EMAIL_BACKEND", "console")
if _email not in _EMAIL_BACKENDS:
    raise ImproperlyConfigured(
        f"KRATOMWATCH_EMAIL_BACKEND must be one of {', '.join(_EMAIL_BACKENDS)} (got {_email!r})"
    )
EMAIL_BACKEND = _EMAIL_BACKENDS[_email]
DEFAULT_FROM_EMAIL = _env.get("KRATOMWATCH_FROM_EMAIL", "kratomwatch@localhost")
KRATOMWATCH_VAPID_SUBJECT = _env.get("KRATOMWATCH_VAPID_SUBJECT", f"mailto:{DEFAULT_FROM_EMAIL}")
# Push endpoints at http://127.0.0.1 are accepted only where this is on (the tests' receiver).
KRATOMWATCH_PUSH_LOCAL_ENDPOINTS = False
# Tests only: lets an EHR client publish its key set on http://127.0.0.1.
KRATOMWATCH_EHR_LOCAL_JWKS = False
if _email == "smtp":
    EMAIL_HOST = _env.get("KRATOMWATCH_SMTP_HOST", "")
    if not EMAIL_HOST:
        raise ImproperlyConfigured("KRATOMWATCH_SMTP_HOST must be set for the smtp e-mail backend")
    try:
        EMAIL_PORT = int(_env.get("KRATOMWATCH_SMTP_PORT", "587"))
    except ValueError as exc:
        raise ImproperlyConfigured("KRATOMWATCH_SMTP_PORT must be a number") from exc
    EMAIL_HOST_USER = _env.get("KRATOMWATCH_SMTP_USER", "")
    EMAIL_HOST_PASSWORD = _env.get("KRATOMWATCH_SMTP_PASSWORD", "")
    EMAIL_USE_TLS = True
