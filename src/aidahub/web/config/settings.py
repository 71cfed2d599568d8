"""Django settings for the hub, read from ``AIDAHUB_*`` environment variables.

docs/configuration.md documents every variable with a commented example. SQLite under
``AIDAHUB_DATA_DIR`` is the embedded default; PostgreSQL is the production choice.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

from aidahub.web.audit.hours import parse_hours
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
    "django.contrib.sites",
    # Before allauth, so that the hub's account templates override allauth's own.
    "aidahub.web.accounts",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "aidahub.web.core",
    "aidahub.web.audit",
    "aidahub.web.organizations",
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
    "allauth.account.middleware.AccountMiddleware",
    "aidahub.web.accounts.middleware.StaffSessionTimeoutMiddleware",
    "aidahub.web.accounts.middleware.RequireStaffMFAMiddleware",
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

# --- Accounts (django-allauth): e-mail sign-in, verification, MFA, institutional sign-in --
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
SITE_ID = 1
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/accounts/profile/"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{HUB_NAME}] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = _base.scheme
# Failed sign-ins are limited per address and per account (allauth's rate limits).
ACCOUNT_RATE_LIMITS = {
    "login": get_str("AIDAHUB_RATE_LIMIT_LOGIN", "30/m/ip"),
    "login_failed": get_str("AIDAHUB_RATE_LIMIT_LOGIN_FAILED", "10/m/ip,5/5m/key"),
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = HUB_NAME
MFA_RECOVERY_CODE_COUNT = 10
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_STORE_TOKENS = False
# Institutional sign-in through any OpenID Connect provider (a national research login):
# set the issuer URL, client id and secret to turn it on.
OIDC_SERVER_URL = get_str("AIDAHUB_OIDC_SERVER_URL", "").rstrip("/")
OIDC_CLIENT_ID = get_str("AIDAHUB_OIDC_CLIENT_ID", "")
OIDC_CLIENT_SECRET = get_str("AIDAHUB_OIDC_CLIENT_SECRET", "")
OIDC_PROVIDER_NAME = get_str("AIDAHUB_OIDC_PROVIDER_NAME", "Institutional sign-in")
SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"OAUTH_PKCE_ENABLED": True, "APPS": []}}
if OIDC_SERVER_URL and OIDC_CLIENT_ID:
    SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"] = [
        {
            "provider_id": "institution",
            "name": OIDC_PROVIDER_NAME,
            "client_id": OIDC_CLIENT_ID,
            "secret": OIDC_CLIENT_SECRET,
            "settings": {"server_url": OIDC_SERVER_URL},
        }
    ]

# The confidentiality undertaking every person accepts before non-public data.
UNDERTAKING_VERSION = get_str("AIDAHUB_UNDERTAKING_VERSION", "1")
UNDERTAKING_FILE = Path(
    get_str(
        "AIDAHUB_UNDERTAKING_FILE", str(BASE_DIR / "accounts" / "fixtures" / "undertaking-1.txt")
    )
)

# Signed agreements staff file (PDF only); a larger upload is refused.
try:
    AGREEMENT_MAX_BYTES = int(get_str("AIDAHUB_AGREEMENT_MAX_BYTES", str(20 * 1024 * 1024)))
except ValueError as exc:
    raise ConfigurationError("AIDAHUB_AGREEMENT_MAX_BYTES must be a whole number of bytes") from exc

# Sessions end after AIDAHUB_SESSION_SECONDS without a request (8 hours by default); a staff
# session after AIDAHUB_STAFF_SESSION_SECONDS (30 minutes).
SESSION_COOKIE_AGE = int(get_str("AIDAHUB_SESSION_SECONDS", str(8 * 3600)))
SESSION_SAVE_EVERY_REQUEST = True
STAFF_SESSION_SECONDS = int(get_str("AIDAHUB_STAFF_SESSION_SECONDS", str(30 * 60)))
# The request header a reverse proxy fills with the client's country code (for example
# CF-IPCountry); sign-in audit events keep it. Empty: the country is not known.
COUNTRY_HEADER = get_str("AIDAHUB_COUNTRY_HEADER", "")

# What the audit trail's irregularity report flags (docs/audit.md).
try:
    AUDIT_DOWNLOADS_PER_DAY = int(get_str("AIDAHUB_AUDIT_DOWNLOADS_PER_DAY", "200"))
    AUDIT_REFUSAL_BURST = int(get_str("AIDAHUB_AUDIT_REFUSAL_BURST", "10"))
    AUDIT_REFUSAL_WINDOW_MINUTES = int(get_str("AIDAHUB_AUDIT_REFUSAL_WINDOW_MINUTES", "10"))
    AUDIT_FAILED_SIGNINS = int(get_str("AIDAHUB_AUDIT_FAILED_SIGNINS", "5"))
    AUDIT_ODD_HOURS = get_str("AIDAHUB_AUDIT_ODD_HOURS", "0-5")
    parse_hours(AUDIT_ODD_HOURS)
except ValueError as exc:
    raise ConfigurationError(f"AIDAHUB_AUDIT_* settings: {exc}") from exc
if (
    AUDIT_DOWNLOADS_PER_DAY < 0
    or min(AUDIT_REFUSAL_BURST, AUDIT_REFUSAL_WINDOW_MINUTES, AUDIT_FAILED_SIGNINS) < 1
):
    raise ConfigurationError("AIDAHUB_AUDIT_* counts and minutes must be whole numbers above 0")

# E-mail: printed to the console unless an SMTP host is set.
EMAIL_HOST = get_str("AIDAHUB_EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = int(get_str("AIDAHUB_EMAIL_PORT", "587"))
EMAIL_HOST_USER = get_str("AIDAHUB_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = get_str("AIDAHUB_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = get_bool("AIDAHUB_EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = get_str("AIDAHUB_EMAIL_FROM", f"{HUB_NAME} <noreply@{_base.hostname}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

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
