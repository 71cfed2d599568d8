"""Django settings for the hub, read from ``AIDAHUB_*`` environment variables.

docs/configuration.md documents every variable with a commented example. SQLite under
``AIDAHUB_DATA_DIR`` is the embedded default; PostgreSQL is the production choice.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

from aidahub.web.config.env import (
    ConfigurationError,
    get_bool,
    get_list,
    get_str,
    read_dotenv,
)

read_dotenv(Path.cwd() / ".env")

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(get_str("AIDAHUB_DATA_DIR", str(Path.cwd() / "var"))).resolve()

DEBUG = get_bool("AIDAHUB_DEBUG", False)
_INSECURE_KEY = "insecure-development-key-set-AIDAHUB_SECRET_KEY-in-production"
SECRET_KEY = get_str("AIDAHUB_SECRET_KEY", _INSECURE_KEY)

BASE_URL = get_str("AIDAHUB_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
_base = urlsplit(BASE_URL)
if _base.scheme not in {"http", "https"} or not _base.hostname:
    raise ConfigurationError(f"AIDAHUB_BASE_URL must be an http(s) URL, not {BASE_URL!r}")
ALLOWED_HOSTS = get_list("AIDAHUB_ALLOWED_HOSTS", [_base.hostname, "localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = [f"{_base.scheme}://{_base.netloc}"]

DOI_PREFIX = get_str("AIDAHUB_DOI_PREFIX", "10.5072")
if not DOI_PREFIX.startswith("10.") or "/" in DOI_PREFIX:
    raise ConfigurationError(f"AIDAHUB_DOI_PREFIX must look like 10.NNNN, not {DOI_PREFIX!r}")

# DOIs are minted through DataCite's REST API. Without a username and password the hub
# publishes without minting and says so to staff.
DATACITE_URL = get_str("AIDAHUB_DATACITE_URL", "https://api.test.datacite.org").rstrip("/")
if urlsplit(DATACITE_URL).scheme not in {"http", "https"}:
    raise ConfigurationError(f"AIDAHUB_DATACITE_URL must be an http(s) URL, not {DATACITE_URL!r}")
DATACITE_USERNAME = get_str("AIDAHUB_DATACITE_USERNAME", "")
DATACITE_PASSWORD = get_str("AIDAHUB_DATACITE_PASSWORD", "")
DATACITE_PREFIX = get_str("AIDAHUB_DATACITE_PREFIX", DOI_PREFIX)
if not DATACITE_PREFIX.startswith("10.") or "/" in DATACITE_PREFIX:
    raise ConfigurationError(
        f"AIDAHUB_DATACITE_PREFIX must look like 10.NNNN, not {DATACITE_PREFIX!r}"
    )
try:
    DATACITE_TIMEOUT = float(get_str("AIDAHUB_DATACITE_TIMEOUT", "10"))
    DATACITE_MAX_ATTEMPTS = int(get_str("AIDAHUB_DATACITE_MAX_ATTEMPTS", "5"))
except ValueError as exc:
    raise ConfigurationError(
        "AIDAHUB_DATACITE_TIMEOUT must be seconds and AIDAHUB_DATACITE_MAX_ATTEMPTS a whole number"
    ) from exc
if DATACITE_TIMEOUT <= 0 or DATACITE_MAX_ATTEMPTS < 1:
    raise ConfigurationError(
        "AIDAHUB_DATACITE_TIMEOUT must be above 0 and AIDAHUB_DATACITE_MAX_ATTEMPTS at least 1"
    )
# Seconds to wait before each retry when DataCite is unavailable, within one call.
DATACITE_RETRY_DELAYS = (1.0, 3.0)
CONSORTIUM_NAME = get_str("AIDAHUB_CONSORTIUM_NAME", "AIDA")
CONSORTIUM_LONG_NAME = get_str(
    "AIDAHUB_CONSORTIUM_LONG_NAME",
    "AIDA (Analytic Imaging Diagnostics Arena https://medtech4health.se/aida)",
)
HUB_NAME = get_str("AIDAHUB_HUB_NAME", f"{CONSORTIUM_NAME} Data Hub")
DATA_DIRECTOR_NAME = get_str("AIDAHUB_DATA_DIRECTOR_NAME", "Data director")
DATA_DIRECTOR_EMAIL = get_str("AIDAHUB_DATA_DIRECTOR_EMAIL", "data-director@hub.example.org")
POLICY_VERSION = get_str("AIDAHUB_POLICY_VERSION", "1.2.4")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "aidahub.web.core",
    "aidahub.web.audit",
    "aidahub.web.register",
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
]

ROOT_URLCONF = "aidahub.web.config.urls"
WSGI_APPLICATION = "aidahub.web.config.wsgi.application"

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
                "aidahub.web.core.context_processors.hub",
            ],
        },
    },
]

_default_db = f"sqlite:///{DATA_DIR / 'aidahub.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(get_str("AIDAHUB_DATABASE_URL", _default_db), conn_max_age=60),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "aidahub",
        "TIMEOUT": 300,
    }
}
# Seconds public register pages are cached; every register change clears the cache.
REGISTER_CACHE_SECONDS = int(get_str("AIDAHUB_REGISTER_CACHE_SECONDS", "300"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("sv", "Svenska")]
TIME_ZONE = get_str("AIDAHUB_TIME_ZONE", "Europe/Stockholm")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGIN_URL = "/admin/login/"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if _base.scheme == "https":
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = get_bool("AIDAHUB_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(get_str("AIDAHUB_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = get_bool("AIDAHUB_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

if not DEBUG and SECRET_KEY == _INSECURE_KEY and _base.scheme == "https":
    raise ConfigurationError("AIDAHUB_SECRET_KEY must be set when serving over https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": get_str("AIDAHUB_LOG_LEVEL", "WARNING")},
}
