"""Settings: defaults in a class per set, values from the environment.

Nothing is read at import time: `from_environment()` is called by create_app,
which also resolves the instance folder (SQLite file, generated secret key,
mail outbox).
"""

import os
from collections.abc import Mapping
from typing import Any


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


# Environment variable -> (config key, parser)
ENVIRONMENT: dict[str, tuple[str, Any]] = {
    "RELAIS_ENV": ("RELAIS_ENV", str),
    "SECRET_KEY": ("SECRET_KEY", str),
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "DATABASE_OWNER_URL": ("DATABASE_OWNER_URL", str),
    "REDIS_URL": ("REDIS_URL", str),
    "JOBS_WHEN_REDIS_DOWN": ("JOBS_WHEN_REDIS_DOWN", str),
    "JOB_TIMEOUT": ("JOB_TIMEOUT", int),
    "BASE_URL": ("BASE_URL", str),
    "TRUSTED_PROXIES": ("TRUSTED_PROXIES", int),
    "MAIL_SERVER": ("MAIL_SERVER", str),
    "MAIL_PORT": ("MAIL_PORT", int),
    "MAIL_USERNAME": ("MAIL_USERNAME", str),
    "MAIL_PASSWORD": ("MAIL_PASSWORD", str),
    "MAIL_USE_TLS": ("MAIL_USE_TLS", _bool),
    "MAIL_SENDER": ("MAIL_SENDER", str),
    "MAIL_OUTBOX_DIR": ("MAIL_OUTBOX_DIR", str),
    "LOGIN_LIMIT_PER_ADDRESS": ("LOGIN_LIMIT_PER_ADDRESS", str),
    "LOGIN_LIMIT_PER_ACCOUNT": ("LOGIN_LIMIT_PER_ACCOUNT", str),
    "PASSWORD_RESET_LIMIT_PER_ADDRESS": ("PASSWORD_RESET_LIMIT_PER_ADDRESS", str),
    "STRIPE_SECRET_KEY": ("STRIPE_SECRET_KEY", str),
    "STRIPE_PUBLISHABLE_KEY": ("STRIPE_PUBLISHABLE_KEY", str),
    "STRIPE_WEBHOOK_SECRET": ("STRIPE_WEBHOOK_SECRET", str),
    "STRIPE_API_BASE": ("STRIPE_API_BASE", str),
    "STRIPE_JS_URL": ("STRIPE_JS_URL", str),
}


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings the environment sets (empty values count as unset)."""
    environ = os.environ if environ is None else environ
    settings: dict[str, Any] = {}
    for name, (key, parse) in ENVIRONMENT.items():
        value = environ.get(name)
        if value:
            settings[key] = parse(value)
    return settings


class Config:
    # "development" relaxes cookie security and shows the mail outbox.
    RELAIS_ENV = "production"

    SECRET_KEY = None  # generated into instance/ when unset
    SQLALCHEMY_DATABASE_URI = None  # default set in create_app
    # PostgreSQL: the app connects (DATABASE_URL) as a role that owns no
    # table and is held to row-level security; migrations, backups and
    # restores as the tables' owner (DATABASE_OWNER_URL; default: the same).
    DATABASE_OWNER_URL = None
    # pre-ping: a connection the database dropped (restart, failover) is
    # replaced before a request uses it, so the app recovers by itself.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # Jobs: RQ on Redis when REDIS_URL is set, else run in the web process.
    REDIS_URL = None
    # REDIS_URL set but Redis unreachable when a request hands over its jobs
    # (after its commit, so the request itself never fails for it):
    #   "inline": run them in the web process, as without Redis (the default;
    #             a month close then renders its PDFs in the request);
    #   "wait":   keep them in instance/jobs-waiting-for-redis.jsonl, handed
    #             to Redis by the next dispatch that reaches it, or by
    #             `flask worker` when it starts on this machine.
    # The lead sees a warning on the health page and the lead's pages.
    JOBS_WHEN_REDIS_DOWN = "inline"
    # Seconds a job may run before RQ stops it and keeps it in the failed
    # jobs, with the reason (health page: "Relancer").
    JOB_TIMEOUT = 600
    # Login limits count in Redis when set; unreachable, they count in memory
    # for a while rather than refuse every login.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 2}

    # Sessions and cookies. Names, Secure, Path and Domain are set by
    # app/security.py: "__Host-relais_session" and Secure in production,
    # "relais_session" over the plain http:// of development and the tests.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = True
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 12

    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead

    # i18n
    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Europe/Paris"
    LANGUAGES = ("fr", "en")

    # Accounts
    INVITATION_MAX_AGE = 7 * 24 * 3600
    PASSWORD_RESET_MAX_AGE = 2 * 3600
    LOGIN_LIMIT_PER_ADDRESS = "20 per 10 minutes"
    LOGIN_LIMIT_PER_ACCOUNT = "5 per 15 minutes"  # failed attempts only
    PASSWORD_RESET_LIMIT_PER_ADDRESS = "5 per 15 minutes"  # noqa: S105 (a rate, not a secret)
    RATELIMIT_HEADERS_ENABLED = False

    # Mail: SMTP when MAIL_SERVER is set, otherwise a file outbox in instance/
    MAIL_SERVER = None
    MAIL_PORT = 587
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_USE_TLS = True
    MAIL_SENDER = "Relais <no-reply@relais.local>"
    MAIL_OUTBOX_DIR = None  # default: instance/outbox

    # Reverse proxies in front of the app whose X-Forwarded-For, -Proto and
    # -Host headers are trusted (app/security.py); 0 when none.
    TRUSTED_PROXIES = 0

    # Public base URL used in mails sent from jobs (no request there)
    BASE_URL = "http://127.0.0.1:5000"

    # Uploads
    MAX_CONTENT_LENGTH = 4 * 1024 * 1024
    LOGO_MAX_BYTES = 1024 * 1024

    PER_PAGE = 25

    # Card payments (Stripe): off until both keys are set. The webhook secret
    # (whsec_...) verifies Stripe's events; API base and Stripe.js URL change
    # only for tests (localstripe).
    STRIPE_SECRET_KEY = None
    STRIPE_PUBLISHABLE_KEY = None
    STRIPE_WEBHOOK_SECRET = None
    STRIPE_API_BASE = None  # default: https://api.stripe.com
    STRIPE_JS_URL = "https://js.stripe.com/v3/"


class DevelopmentConfig(Config):
    RELAIS_ENV = "development"


class TestConfig(Config):
    RELAIS_ENV = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105
    LOGIN_LIMIT_PER_ADDRESS = "20 per 10 minutes"
    LOGIN_LIMIT_PER_ACCOUNT = "5 per 15 minutes"
    BASE_URL = "http://localhost"
