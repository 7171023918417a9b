"""Linli settings: one env-driven file.

Development (the default) runs on SQLite under var/ with safe local defaults. The production
profile (LINLI_ENV=production) requires SECRET_KEY, LINLI_FIELD_KEY, DATABASE_URL and
ALLOWED_HOSTS from the environment and passes `manage.py check --deploy`.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from linli.core.env import env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("LINLI_VAR_DIR", str(BASE_DIR / "var")))

LINLI_ENV = env_choice("LINLI_ENV", "development", {"development", "production", "test"})
PRODUCTION = LINLI_ENV == "production"

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
_DEV_SECRET = "linli-development-only-secret-key-never-use-in-production-0123456789"
SECRET_KEY = env_str("SECRET_KEY", "" if PRODUCTION else _DEV_SECRET)
if PRODUCTION and not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set in production")
# Key for encrypting personal data at rest (ID numbers, phones). Checked by linli.E001.
LINLI_FIELD_KEY = env_str("LINLI_FIELD_KEY", "" if PRODUCTION else "dev-field-key-not-secret")

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Behind a reverse proxy that sets X-Forwarded-For, the audit trail records the client from it.
LINLI_TRUST_X_FORWARDED_FOR = env_bool("LINLI_TRUST_X_FORWARDED_FOR", False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_htmx",
    "template_partials",
    "rules.apps.AutodiscoverRulesConfig",
    "csp",
    "ninja",
    "django_rq",
    "django_tasks",
    "django_tasks_rq",
    "linli.core",
    "linli.places",
    "linli.accounts",
    "linli.people",
    "linli.notices",
    "linli.votes",
    "linli.deliberation",
    "linli.meetings",
    "linli.workorders",
    "linli.open311",
    "linli.demo",
    "linli.funds",
    "linli.projects",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "linli.core.middleware.ChineseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "linli.core.middleware.AuditContextMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "linli.accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "linli.core.middleware.PrivateNoStoreMiddleware",
]

ROOT_URLCONF = "linli.urls"
WSGI_APPLICATION = "linli.wsgi.application"
ASGI_APPLICATION = "linli.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "linli" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# --- Database: SQLite under var/ by default, PostgreSQL (or any) by DATABASE_URL -----------------
_default_db = f"sqlite:///{VAR_DIR / 'linli.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", _default_db), conn_max_age=env_int("DB_CONN_MAX_AGE", 60)
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: Redis in production (REDIS_URL), local memory otherwise -----------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Background work (Django tasks API via the django-tasks backport). "immediate" runs a task inline
# when it is enqueued (demo, tests); "rq" queues it in Redis for `linli rqworker --job-class
# django_tasks_rq.Job default` (production).
TASKS_BACKEND = env_choice(
    "LINLI_TASKS", "rq" if PRODUCTION and REDIS_URL else "immediate", {"immediate", "rq"}
)
if TASKS_BACKEND == "rq":
    if not REDIS_URL:
        raise ImproperlyConfigured("LINLI_TASKS=rq needs REDIS_URL.")
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3600}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# --- Accounts and login security -----------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "linli.accounts.backends.PasswordBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "linli.accounts.validators.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"
# Lock-out: LINLI_LOCKOUT_FAILURES failures within LINLI_LOCKOUT_WINDOW lock the name for
# LINLI_LOCKOUT_DURATION; the lock always ends by itself (cool-off), it is never permanent.
LINLI_LOCKOUT_FAILURES = env_int("LINLI_LOCKOUT_FAILURES", 5)
LINLI_LOCKOUT_WINDOW = timedelta(minutes=env_int("LINLI_LOCKOUT_WINDOW_MINUTES", 15))
LINLI_LOCKOUT_DURATION = timedelta(minutes=env_int("LINLI_LOCKOUT_DURATION_MINUTES", 30))
# Idle time-out, enforced server-side: the session expires 30 minutes after the last request.
SESSION_COOKIE_AGE = env_int("LINLI_IDLE_TIMEOUT_SECONDS", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
OTP_TOTP_ISSUER = "Linli 邻里"
LINLI_API_TOKEN_DAYS = env_int("LINLI_API_TOKEN_DAYS", 30)

# Audit events are kept at least this many days; `linli audit purge` refuses anything shorter.
LINLI_AUDIT_RETENTION_DAYS = max(180, env_int("LINLI_AUDIT_RETENTION_DAYS", 180))

# --- Work orders: the working calendar ----------------------------------------------------------
# Working hours (Asia/Shanghai) on working days; deadlines in working minutes, hours and days
# count only these. From the environment as "09:00-12:00,13:00-17:00". Checked by linli.E101.
LINLI_WORKING_HOURS = [
    tuple(span.split("-", 1))
    for span in env_list("LINLI_WORKING_HOURS", ["09:00-12:00", "13:00-17:00"])
]
# The yellow light comes on when this share of a phase's working time has passed.
LINLI_YELLOW_AT_PERCENT = env_int("LINLI_YELLOW_AT_PERCENT", 80)

# Work orders (WORKORDERS.md §5.2). A department may return an order within this many working
# hours of dispatch; an extension asks for at most this many working hours; a closed order may
# be rated for this many days before it is archived unrated.
LINLI_RETURN_GRACE_HOURS = env_int("LINLI_RETURN_GRACE_HOURS", 16)
LINLI_EXTENSION_MAX_HOURS = env_int("LINLI_EXTENSION_MAX_HOURS", 80)
LINLI_RATING_WINDOW_DAYS = env_int("LINLI_RATING_WINDOW_DAYS", 7)
# Map tiles for the order map, e.g. "https://tiles.example.org/{z}/{x}/{y}.png"; empty: no
# tiles (points on a plain background), so the map works offline. Its host joins img-src.
LINLI_MAP_TILE_URL = env_str("LINLI_MAP_TILE_URL", "")

# --- Security headers ----------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"


def _tile_hosts(url: str) -> list[str]:
    """The tile server for img-src; a Leaflet subdomain template {s}.host becomes *.host."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if not parts.netloc:
        return []
    return [f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"]


CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:", *_tile_hosts(LINLI_MAP_TILE_URL)],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Internationalisation: Simplified Chinese first, English second -----------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "linli" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "linli" / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))

# Logs never carry personal data: request bodies are not logged, and the audit trail is the
# place for who-did-what.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {
        "handlers": ["console"],
        "level": env_str("LOG_LEVEL", "INFO" if PRODUCTION else "WARNING"),
    },
    # The console notification sender writes here (kind and user id only, never an address).
    "loggers": {"linli.notices": {"level": "INFO"}},
}

# --- Notifications: the in-app inbox always; these senders relay them (linli.notices.senders) ---
LINLI_NOTIFY_SENDERS = env_list("LINLI_NOTIFY_SENDERS", ["linli.notices.senders.ConsoleSender"])
LINLI_SITE_URL = env_str("LINLI_SITE_URL", "")  # absolute links in e-mail/SMS
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "linli@localhost")
