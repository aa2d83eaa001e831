"""All settings, read from the environment. `.env.example` documents every variable.

Helpers fail loudly: a malformed value stops start-up with a sentence naming the
variable rather than silently falling back to a default.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

# Semantic search multiplies a query vector by a matrix in every web process
# (guides/semantic.py). Each process serves one request at a time, so BLAS
# threads only fight each other and the other processes for the cores: on two
# cores one thread per process was 3x faster (24 -> 8 ms at 10,000 guides).
# Set before numpy is first imported, which is only after settings.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from psycopg_pool import ConnectionPool

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ImproperlyConfigured(
                f"{name} is not set. Run through `make run` / `make test`, which start "
                f"embedded services, or set it (see .env.example)."
            )
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def redis_db(url: str, offset: int) -> str:
    """The same Redis server, the URL's database plus `offset` (broker and cache apart)."""
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss"}:
        raise ImproperlyConfigured(f"REDIS_URL must start with redis:// or rediss://, not {url!r}.")
    base = parts.path.strip("/") or "0"
    if not base.isdigit():
        raise ImproperlyConfigured(f"REDIS_URL must end with a database number, not {url!r}.")
    return urlunsplit((parts.scheme, parts.netloc, f"/{int(base) + offset}", parts.query, ""))


# Where the embedded services, uploads and the demo login live (see coaching/launcher.py).
DATA_DIR = Path(env_str("COACHING_DATA_DIR", str(BASE_DIR / ".data")))
DEBUG = env_bool("DEBUG", False)
# Under pytest unless told otherwise: plain static storage, fast password hashing.
TESTING = env_bool("TESTING", "pytest" in sys.modules)
PRODUCTION = env_bool("PRODUCTION", False)
# Outside production a fixed development key; in production none at all, so that
# coaching/checks.py stops start-up (and `check --deploy` names it) when it is missing.
DEVELOPMENT_SECRET_KEY = "insecure-development-key-only"
SECRET_KEY = env_str("SECRET_KEY", "" if PRODUCTION else DEVELOPMENT_SECRET_KEY)
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env_str("SITE_NAME", "AI Career Coach")
# In production only SITE_URL's host unless told otherwise; locally the loopback names.
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS",
    [urlsplit(SITE_URL).hostname or ""] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"],
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [SITE_URL])

INSTALLED_APPS = [
    # unfold's templates and tags; its site class is set by CoachingAdminConfig.
    "unfold.apps.BasicAppConfig",
    "unfold.contrib.filters",
    "coaching.apps.CoachingAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "coaching",
    "guides",
    "store",
    "bookings",
    "newsletter",
    "clients",
    "comments",
    "automations",
    "members",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "coaching.middleware.AdminContentSecurityPolicyMiddleware",
    # Cached pages for visitors are served from here, with the headers above.
    "coaching.pagecache.FetchFromPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, reading the account through Redis (coaching/sessions.py).
    "coaching.sessions.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "coaching.middleware.StaffMustUseMFAMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Inside CommonMiddleware, so it sees a 404 before slash-appending does: an old
    # address goes straight to its new place in one 301.
    "coaching.redirects.RedirectFallbackMiddleware",
    # Last, as django-axes asks, so it sees the outcome of every login attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "coaching.urls"
WSGI_APPLICATION = "coaching.wsgi.application"
AUTH_USER_MODEL = "coaching.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "coaching.context_processors.site",
                "coaching.context_processors.navigation",
                "coaching.context_processors.csrf_for_reader_pages",
            ],
        },
    },
]

# --- Data -------------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
DATABASES["default"]["OPTIONS"] = {
    # psycopg's pool, checked on checkout so that a restarted PostgreSQL costs
    # one failed request at most, never a restart of the app.
    "pool": {
        "min_size": 1,
        "max_size": env_int("DATABASE_POOL_SIZE", 4),
        "check": ConnectionPool.check_connection,
        "timeout": 10,
    }
    if env_bool("DATABASE_POOL", True)
    else False,
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
# Production keeps the cache (evicts under memory pressure) apart from the broker
# (must never evict a task); locally both live in the one REDIS_URL server.
CACHE_URL = env_str("CACHE_URL", env_str("REDIS_CACHE_URL", redis_db(REDIS_URL, 1)))
CACHES = {
    "default": {
        "BACKEND": "coaching.cache.ResilientRedisCache",
        "LOCATION": CACHE_URL,
        "KEY_PREFIX": env_str("CACHE_PREFIX", "coaching"),
        "TIMEOUT": 300,
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}
# Django's cached sessions with a bounded copy in Redis (coaching/sessions.py).
SESSION_ENGINE = "coaching.sessions"
# How long each process serves a cached page from its own memory before asking
# Redis again (coaching/pagecache.py); 0 turns the process copies off.
PAGE_CACHE_LOCAL_SECONDS = env_int("PAGE_CACHE_LOCAL_SECONDS", 5)

# --- Celery -----------------------------------------------------------------

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", redis_db(REDIS_URL, 0))
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = "UTC"
# Every periodic job, in one table: name, task, every how many seconds. Each task's
# docstring says what it does and why it runs this often.
MINUTE, HOUR_S, DAY = 60.0, 3600.0, 86400.0
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    name: {"task": task, "schedule": every}
    for name, task, every in [
        ("send-pending-outbox", "coaching.tasks.send_pending_outbox", MINUTE),
        ("purge-throttle-counters", "coaching.tasks.purge_throttle_counters", DAY),
        ("publish-scheduled-guides", "guides.tasks.publish_scheduled_guides", MINUTE),
        # Semantic search's passages whose task a broker outage lost.
        ("guides-embed-stale", "guides.tasks.embed_stale_guides", 5 * MINUTE),
        ("bookings-send-due-reminders", "bookings.tasks.send_due_reminders_task", MINUTE),
        ("bookings-expire-holds", "bookings.tasks.expire_holds_task", MINUTE),
        # The coach's own calendars (ICS addresses): fetched in the background only.
        ("bookings-refresh-busy-calendars", "bookings.tasks.refresh_busy_calendars", 15 * MINUTE),
        ("newsletter-dispatch", "newsletter.tasks.dispatch_due_campaigns", 30.0),
        ("newsletter-reminders", "newsletter.tasks.send_confirmation_reminders_task", 15 * MINUTE),
        ("newsletter-welcome-sequence", "newsletter.tasks.send_welcome_emails", 5 * MINUTE),
        ("clients-remind-due-tasks", "clients.tasks.remind_due_tasks", 15 * MINUTE),
        ("clients-refresh-dashboard", "clients.tasks.refresh_dashboard", 4 * MINUTE),
        ("clients-sync-newsletter-timeline", "clients.tasks.sync_newsletter_timeline", 5 * MINUTE),
        ("clients-expire-engagements", "clients.tasks.expire_engagements_task", HOUR_S),
        # How long personal data is kept (RETENTION_* below; shown on /privacy/).
        ("clients-apply-retention", "clients.tasks.apply_retention_task", DAY),
        # Stripe events and stamped PDFs that a broker outage or a failure left pending.
        ("store-sweep", "store.tasks.sweep_store", MINUTE),
        # Payment plans: charge the instalments that fell due.
        ("store-collect-instalments", "store.tasks.collect_instalments", 15 * MINUTE),
        # Follow-up rules: find triggers (time-based ones only come from here), then
        # do the steps that are due. Each is safe to run twice (automations/services.py).
        ("automations-scan", "automations.tasks.scan_rules_task", 5 * MINUTE),
        ("automations-run-due", "automations.tasks.run_due_task", MINUTE),
        ("newsletter-subject-tests", "newsletter.tasks.decide_subject_tests_task", 5 * MINUTE),
    ]
}

# Fetching URLs someone typed (calendar feeds) refuses private, loopback, link-local and
# reserved addresses at every hop (coaching/outbound.py). Only tests serving a feed
# from 127.0.0.1 turn this on.
OUTBOUND_ALLOW_PRIVATE_ADDRESSES = env_bool("OUTBOUND_ALLOW_PRIVATE_ADDRESSES", False)

# --- Rate limits (coaching/throttles.py) -------------------------------------
# What a stranger may trigger, per action: {key kind: (attempts, per seconds)}.
# Kept in PostgreSQL, so they hold when Redis is down. Over a limit, pages say so with
# a 429 and the API answers 429 with Retry-After.
HOUR = 3600
THROTTLE_LIMITS: dict[str, dict[str, tuple[int, int]]] = {
    "slot-hold": {"ip": (env_int("THROTTLE_SLOT_HOLDS_PER_IP", 30), HOUR)},
    "booking": {
        "ip": (env_int("THROTTLE_BOOKINGS_PER_IP", 6), HOUR),
        "email": (env_int("THROTTLE_BOOKINGS_PER_EMAIL", 3), HOUR),
    },
    "waitlist": {"ip": (10, HOUR), "email": (3, HOUR)},
    "checkout": {
        "ip": (env_int("THROTTLE_CHECKOUTS_PER_IP", 20), HOUR),
        "email": (env_int("THROTTLE_CHECKOUTS_PER_EMAIL", 10), HOUR),
    },
    "newsletter-signup": {
        "ip": (env_int("NEWSLETTER_SUBSCRIBE_LIMIT_IP", 20), HOUR),
        "email": (env_int("NEWSLETTER_SUBSCRIBE_LIMIT_EMAIL", 3), HOUR),
    },
    "contact": {"ip": (6, HOUR), "email": (3, HOUR)},
    "comment": {"ip": (30, HOUR), "account": (10, HOUR)},
    # The sign-in pages (coaching/accounts.py `throttled`), in place of allauth's own.
    "account-login": {"ip": (env_int("ACCOUNT_LOGIN_LIMIT_IP", 120), HOUR)},
    # A sign-up mails the address given (a confirmation, or "you already have an
    # account"), so it is limited per address as well.
    "account-signup": {
        "ip": (env_int("ACCOUNT_SIGNUP_LIMIT_IP", 20), HOUR),
        "email": (env_int("ACCOUNT_SIGNUP_LIMIT_EMAIL", 5), HOUR),
    },
    "account-request_login_code": {
        "ip": (env_int("ACCOUNT_CODE_LIMIT_IP", 30), HOUR),
        "email": (env_int("ACCOUNT_CODE_LIMIT_EMAIL", 5), HOUR),
    },
    "account-reset_password": {
        "ip": (env_int("ACCOUNT_RESET_LIMIT_IP", 20), HOUR),
        "email": (env_int("ACCOUNT_RESET_LIMIT_EMAIL", 5), HOUR),
    },
    "refund-request": {"ip": (20, 24 * HOUR), "email": (5, 24 * HOUR)},
    "stamp-retry": {"account": (5, HOUR)},
    "view-beacon": {"ip": (env_int("THROTTLE_VIEWS_PER_IP", 300), HOUR)},
    "search": {"ip": (env_int("THROTTLE_SEARCHES_PER_IP", 120), 60)},
}

# --- Accounts ---------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False  # link scanners must not confirm an address
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_GET = False
# allauth's own rate limits live in the cache and answer 429 to every sign-in
# while Redis is down. Failed sign-ins are limited by django-axes and the rest by
# PostgreSQL counters (coaching/accounts.py `throttled`), both holding without Redis.
ACCOUNT_RATE_LIMITS = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if PRODUCTION else "http"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = SITE_NAME
LOGIN_REDIRECT_URL = "/"
LOGIN_URL = "/accounts/login/"

AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# On top of the limit per address and IP: failures on one account from anywhere
# (coaching.accounts.AccountLockoutHandler).
AXES_ACCOUNT_FAILURE_LIMIT = env_int("AXES_ACCOUNT_FAILURE_LIMIT", 20)
AXES_HANDLER = "coaching.accounts.AccountLockoutHandler"
AXES_USERNAME_CALLABLE = "coaching.accounts.login_attempt_email"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "account/locked_out.html"
AXES_IPWARE_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_VERBOSE = False

if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Email ------------------------------------------------------------------

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 1025)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"{SITE_NAME} <coach@example.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Every ANYMAIL_<NAME> variable becomes ANYMAIL["<NAME>"] (an ESP's API key,
# sender domain, webhook secret), so any anymail ESP is configured from the environment.
ANYMAIL = {
    name.removeprefix("ANYMAIL_"): value
    for name, value in os.environ.items()
    if name.startswith("ANYMAIL_") and value
}
ANYMAIL.setdefault("WEBHOOK_SECRET", env_str("ANYMAIL_WEBHOOK_SECRET", ""))
# The ESP whose webhooks (bounces, complaints) are mounted at /newsletter/esp/<esp>/,
# by anymail's name ("postmark", "mailgun", ...); empty mounts none. Each post must
# carry ANYMAIL_WEBHOOK_SECRET (newsletter/webhooks.py).
NEWSLETTER_ESP = env_str("NEWSLETTER_ESP", "")

# --- Newsletter (see newsletter/sending.py) --------------------------------------

# How campaign mail leaves (newsletter/transports/): "smtp" (the fast pipeline; needs the
# SMTP EMAIL_BACKEND), "django" (EMAIL_BACKEND as it is, e.g. an anymail ESP), or "":
# smtp when EMAIL_BACKEND is SMTP, else django.
NEWSLETTER_TRANSPORT = env_str("NEWSLETTER_TRANSPORT", "")
NEWSLETTER_BATCH_SIZE = env_int("NEWSLETTER_BATCH_SIZE", 1000)
NEWSLETTER_MAX_PER_SECOND = env_int("NEWSLETTER_MAX_PER_SECOND", 0)  # per campaign; 0: no cap
NEWSLETTER_SENDERS_PER_CAMPAIGN = env_int("NEWSLETTER_SENDERS_PER_CAMPAIGN", 2)
NEWSLETTER_LEASE_SECONDS = env_int("NEWSLETTER_LEASE_SECONDS", 300)
NEWSLETTER_SENDER_SECONDS = env_int("NEWSLETTER_SENDER_SECONDS", 120)
NEWSLETTER_PAUSE_AFTER_ERRORS = env_int("NEWSLETTER_PAUSE_AFTER_ERRORS", 50)
NEWSLETTER_MAX_ATTEMPTS = env_int("NEWSLETTER_MAX_ATTEMPTS", 5)
NEWSLETTER_RETRY_BASE_SECONDS = env_int("NEWSLETTER_RETRY_BASE_SECONDS", 30)
NEWSLETTER_SOFT_BOUNCE_LIMIT = env_int("NEWSLETTER_SOFT_BOUNCE_LIMIT", 3)
NEWSLETTER_REMINDER_AFTER_HOURS = env_int("NEWSLETTER_REMINDER_AFTER_HOURS", 24)
NEWSLETTER_UNSUBSCRIBE_MAILTO = env_str("NEWSLETTER_UNSUBSCRIBE_MAILTO", "")
# SMTP connections (threads) per campaign sender; see newsletter/sending.py.
NEWSLETTER_SENDER_THREADS = env_int("NEWSLETTER_SENDER_THREADS", 4)
# Off: "sent" marks skip the fsync wait (a worker crash still never duplicates; a
# PostgreSQL crash could resend the last ~0.6 s of a campaign). On: every mark is durable.
NEWSLETTER_DURABLE_SENT_MARKS = env_bool("NEWSLETTER_DURABLE_SENT_MARKS", False)
# Privacy: how long personal data is kept (clients/privacy.py; shown on /privacy/).
RETENTION_EMAIL_BODY_DAYS = env_int("RETENTION_EMAIL_BODY_DAYS", 90)
RETENTION_IP_MONTHS = env_int("RETENTION_IP_MONTHS", 12)
RETENTION_READING_HISTORY_MONTHS = env_int("RETENTION_READING_HISTORY_MONTHS", 24)

# --- Payments ---------------------------------------------------------------

STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "")
# The simulated provider signs its own events with this outside production; in
# production it is never a default (coaching/checks.py refuses it if set by hand).
LOCAL_STRIPE_WEBHOOK_SECRET = "whsec_simulated_local_only"
STRIPE_WEBHOOK_SECRET = env_str(
    "STRIPE_WEBHOOK_SECRET", "" if PRODUCTION else LOCAL_STRIPE_WEBHOOK_SECRET
)
# Where the gateway sends API calls: Stripe itself, or the local stand-in that
# `make prodcheck` starts (tests/production/stripe_standin.py).
# How long a Checkout Session stays payable (Stripe allows 30 minutes to 24 hours): an
# abandoned checkout holds a limited coupon's place no longer than this.
CHECKOUT_SESSION_MINUTES = max(30, env_int("CHECKOUT_SESSION_MINUTES", 30))
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "https://api.stripe.com")

# --- Invoices and tax -----------------------------------------------------------
# The seller block on every invoice and credit note (an accountant needs all three).
STORE_SELLER_NAME = env_str("STORE_SELLER_NAME", "")  # empty: the coach's profile name
STORE_SELLER_ADDRESS = env_str("STORE_SELLER_ADDRESS", "")  # lines separated by "\n"
STORE_SELLER_TAX_ID = env_str("STORE_SELLER_TAX_ID", "")
# On: Stripe Tax works out the tax inside each price (tax-inclusive prices, so the buyer
# pays the listed amount wherever they are) and receipts and invoices show it. Off:
# prices include any tax and the invoice says so.
STORE_AUTOMATIC_TAX = env_bool("STORE_AUTOMATIC_TAX", False)
# The simulated provider's stand-in for Stripe Tax: the rate it reports as included.
STORE_SIMULATED_TAX_PERCENT = env_int("STORE_SIMULATED_TAX_PERCENT", 20)

# --- Web --------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
COACH_TIME_ZONE = env_str("COACH_TIME_ZONE", "Europe/London")

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
# Public uploads (covers, the coach's photo) live in MEDIA_ROOT/public; paid files
# live in MEDIA_ROOT/private (store/storage.py), a sibling no URL maps to.
PUBLIC_MEDIA_ROOT = MEDIA_ROOT / "public"
SERVE_MEDIA = env_bool("SERVE_MEDIA", True)
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PUBLIC_MEDIA_ROOT), "base_url": MEDIA_URL},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not TESTING
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = TESTING or DEBUG

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF, "https://checkout.stripe.com"],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
# The admin theme (django-unfold) runs Alpine.js, which evaluates expressions
# and sets inline styles; it gets a wider policy on /admin/ only.
ADMIN_CSP = {
    **SECURE_CSP,
    "script-src": [CSP.SELF, CSP.NONCE, CSP.UNSAFE_EVAL],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
}

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", PRODUCTION)
if env_bool("BEHIND_TLS_PROXY", PRODUCTION):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "coaching.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "coaching.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": f"{SITE_NAME} API",
    "DESCRIPTION": "Guides search, booking slots and bookings.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Served from our own static files: no third-party scripts (CSP).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

UNFOLD = {
    "SITE_TITLE": f"{SITE_NAME} workspace",
    "SITE_HEADER": "Coach workspace",
    "SITE_SYMBOL": "school",
    "SHOW_HISTORY": True,
    # The admin index is the coach's dashboard; the sidebar adds the workspace pages
    # above the usual app list (clients/admin_nav.py keeps every app listed).
    "DASHBOARD_CALLBACK": "clients.dashboard.dashboard_callback",
    "SIDEBAR": {"show_search": False, "navigation": "clients.admin_nav.sidebar"},
    "COLORS": {
        "primary": {
            "50": "oklch(97% .02 255)",
            "100": "oklch(94% .04 255)",
            "200": "oklch(88% .07 255)",
            "300": "oklch(80% .11 255)",
            "400": "oklch(70% .15 255)",
            "500": "oklch(60% .18 255)",
            "600": "oklch(52% .19 255)",
            "700": "oklch(45% .17 255)",
            "800": "oklch(38% .14 255)",
            "900": "oklch(32% .11 255)",
            "950": "oklch(24% .08 255)",
        },
    },  # fmt: skip
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
