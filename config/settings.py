"""Settings, all read from the environment.

Embedded defaults (no variables set) give the demo: SQLite, an in-memory channel layer and Celery tasks
run in-process. Production sets DATABASE_URL, REDIS_URL, SECRET_KEY and ALLOWED_HOSTS.
"""
import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", False)
TESTING = "pytest" in sys.modules
SECRET_KEY = os.environ.get("SECRET_KEY") or ""
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("SECRET_KEY must be set (DEBUG=1 allows a development key).")
    SECRET_KEY = "insecure-development-key-for-debug-and-tests-only"
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "axes",
    "csp",
    "integrations",
    "integrations.sandbox",
    "inbox",
    "customers",
    "orders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy header (django-csp), configured under "Security headers" below.
    "csp.middleware.CSPMiddleware",
    # Sign-ins refused from an address with too many failures, whatever the username (inbox/signin.py).
    "inbox.signin.SignInThrottleMiddleware",
    # Last, as django-axes asks: locks out repeated failed sign-ins.
    "axes.middleware.AxesMiddleware",
]
# The platforms' webhooks (/webhooks/, config/asgi.py) go through the same chain minus what only a person's browser
# uses: no session, sign-in, language, CSRF (the views are exempt: a signature proves the sender), flash messages
# or sign-in lock-out. Same security headers. Half of a webhook's cost was that part of the chain (benchmark 1).
WEBHOOK_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# Sign-in throttling: 5 failures for one username from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# And per client address, whatever the username (password spraying): this many failures in the window
# pause that address's sign-ins until the window ends (inbox/signin.py; django-ratelimit's rate syntax).
SIGNIN_FAILURES_PER_ADDRESS = os.environ.get("SIGNIN_FAILURES_PER_ADDRESS", "30/15m")
# Rate limits (django-ratelimit) count in the default cache; when it is unreachable the callers let requests
# through (inbox/signin.py, orders/public.py) rather than refuse everyone.
RATELIMIT_FAIL_OPEN = True
RATELIMIT_IP_META_KEY = "config.client_address.client_address"

ROOT_URLCONF = "config.urls"
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
WSGI_APPLICATION = None
ASGI_APPLICATION = "config.asgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DB_SERVER_SIDE_BINDING", True):
    # Parameters sent apart from the statement (psycopg's server-side binding) instead of quoted into it in Python,
    # and statements run DB_PREPARE_THRESHOLD times on a connection prepared there (parsed and planned once): a
    # webhook event's statements cost the worker ~12% less CPU and PostgreSQL less (benchmark 1, docs/benchmarks.md).
    # Behind PgBouncer in transaction mode, prepared statements need PgBouncer 1.21+ with max_prepared_statements
    # set; or set DB_PREPARE_THRESHOLD to "" (none prepared), or DB_SERVER_SIDE_BINDING=0 (Django's default).
    threshold = os.environ.get("DB_PREPARE_THRESHOLD", "5")
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=int(threshold) if threshold.strip() else None
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several threads (the app and the sandbox) share one file in the demo: wait instead of failing.
    # IMMEDIATE transactions take the write lock up front, so concurrent writers wait (up to `timeout`)
    # instead of failing on a lock upgrade; WAL lets readers go on meanwhile.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20, transaction_mode="IMMEDIATE", init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    # A file (threads of the live test server share it) per test process, so parallel runs don't collide.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".test-db-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
# Channel layer limits. The default capacity (100 frames waiting per channel or group) is too small for a
# campaign: a burst of webhooks fans out one frame per message to every open inbox, and a tab that is busy
# rendering falls 100 frames behind within seconds; past capacity the layer silently drops frames, and that
# tab misses them until its next reconnect replays the event log. 1,000 absorbs such bursts (a frame is
# ~1 KB, so at most ~1 MB per slow socket). Expiry stays at 60 s: a frame nobody has read in a minute belongs
# to a gone or stalled socket whose reconnect replays it anyway; longer would only keep dead channels' frames
# in Redis memory.
CHANNEL_LAYER_CAPACITY = 1000
CHANNEL_LAYER_EXPIRY = 60
# A socket waits for its next frame with a blocking pop that Redis answers after at most 5 s
# (RedisChannelLayer.brpop_timeout). redis-py 8 gives every connection a 5 s read timeout by default, which
# races that answer: the read times out, the consumer dies and the page's socket drops every few seconds. So
# the layer's connections read for longer than the pop can block; a Redis that stops answering still fails
# the read (and the page reconnects) instead of hanging it forever.
CHANNEL_LAYER_SOCKET_TIMEOUT = 15
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": CHANNEL_LAYER_SOCKET_TIMEOUT, "socket_connect_timeout": 5}],
                "capacity": CHANNEL_LAYER_CAPACITY,
                "expiry": CHANNEL_LAYER_EXPIRY,
            },
        }
    }
    # Short socket timeouts: an unreachable Redis (not just a refused connection) fails fast into the callers'
    # fallbacks (selectors.cache_safely, the public page's rate limit) instead of holding the request.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": CHANNEL_LAYER_CAPACITY, "expiry": CHANNEL_LAYER_EXPIRY},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# The worker's consumer survives a lost Redis connection (config/celery_consumer.py).
CELERY_WORKER_CONSUMER = "config.celery_consumer:Consumer"
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes the database connection around every task unless this many tasks have not run
# yet; config/celery.py keeps working connections instead (checked before each task), so never.
CELERY_DB_REUSE_MAX = 10**9
# A task is acknowledged only when it ends (acks_late), and one whose worker died is handed back
# (reject_on_worker_lost). On Redis, a task taken by a worker that was killed returns to the queue after the
# visibility timeout: the default hour would leave a send queued that long, so 20 minutes. It must stay
# above the longest retry countdown (inbox.tasks.retry_countdown: 480 s at the 5th profile retry; a task
# waiting for its ETA is unacknowledged too, and would otherwise run twice) and the longest task
# (3 platform attempts of at most ~13 s plus Retry-After). Webhook receipts don't wait for it: the beat's
# sweep re-queues any left unprocessed after 5 minutes, and processing a receipt twice is a no-op.
# A read or connect on the broker's sockets gives up after these many seconds rather than never: a Redis that went
# silent (a network partition) must not hang a web process's publish or a worker (kombu waits 1 s per BRPOP).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 1200, "socket_timeout": 10, "socket_connect_timeout": 5}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    # A sweep not started within its 5 minutes (every worker down) is dropped, not run after the next one.
    "webhook-receipts-sweep": {"task": "integrations.tasks.webhook_receipts_sweep", "schedule": 300.0, "options": {"expires": 290}},
    "conversations-due-stars": {"task": "inbox.tasks.conversations_due_stars", "schedule": 60.0},
    "inbox-events-prune": {"task": "inbox.tasks.inbox_events_prune", "schedule": 3600.0},
    "contacts-profile-refresh": {"task": "inbox.tasks.contacts_profile_refresh", "schedule": 900.0},
    "custom-images-prune": {"task": "orders.tasks.custom_images_prune", "schedule": 6 * 3600.0},
    # Credit past its expiry is already unusable in a quote (orders.services.usable_credit_balance); this writes it
    # off, so the balance staff see in the customer pane is what can be spent.
    "customers-credit-expire": {"task": "customers.tasks.credit_expire", "schedule": 3600.0},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hant"
LANGUAGES = [("zh-hant", _("Traditional Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Taipei"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# Files only staff may see (transfer proofs): outside MEDIA_ROOT, served by a permission-checked view.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", BASE_DIR / "private-media"))
# The address customers and platforms reach this app at (image URLs and order links are built on it).
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Serve MEDIA_ROOT from the app itself (demo, tests); production serves it from the reverse proxy.
SERVE_MEDIA = env_bool("SERVE_MEDIA", DEBUG or TESTING)

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/inbox/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an unauthenticated request gets 401 with WWW-Authenticate, not a bare 403.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Hardening: DRF's parsers, with JSON nested thousands deep answered 400 instead of 500 (config/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Social inbox API",
    "DESCRIPTION": "Conversations, messages and orders of the social-commerce inbox.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the installed sidecar package: the docs page loads nothing from the internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # drf-spectacular's own hook, then ours: the 415 every body-reading operation can answer.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "config.openapi.document_unsupported_bodies"],
}

# Webhook bodies larger than this are refused before they are read (platform events are a few KB).
WEBHOOK_MAX_BODY_BYTES = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Platform endpoints: the real ones by default; the demo and tests point them at the sandbox.
GRAPH_API_BASE = os.environ.get("GRAPH_API_BASE", "https://graph.facebook.com/v25.0").rstrip("/")
LINE_API_BASE = os.environ.get("LINE_API_BASE", "https://api.line.me").rstrip("/")
LINE_DATA_API_BASE = os.environ.get("LINE_DATA_API_BASE", "https://api-data.line.me").rstrip("/")
# Seconds: (connect, read) for every platform call.
PLATFORM_TIMEOUT = (float(os.environ.get("PLATFORM_CONNECT_TIMEOUT", "3.05")), float(os.environ.get("PLATFORM_READ_TIMEOUT", "10")))
# Attempts for a transient failure (timeout, 5xx, 429) inside one call, with exponential backoff.
PLATFORM_MAX_ATTEMPTS = int(os.environ.get("PLATFORM_MAX_ATTEMPTS", "3"))
PLATFORM_BACKOFF_SECONDS = float(os.environ.get("PLATFORM_BACKOFF_SECONDS", "0.5"))
PLATFORM_MAX_RETRY_AFTER_SECONDS = float(os.environ.get("PLATFORM_MAX_RETRY_AFTER_SECONDS", "5"))
MAX_FACEBOOK_PAGES = 10

# The platform sandbox (a local fake of Meta and LINE) is mounted under /sandbox/ only when enabled.
SANDBOX_ENABLED = env_bool("SANDBOX_ENABLED", DEBUG or TESTING)
# Where the sandbox delivers webhooks when a page or bot has no explicit URL (the app's own address).
SANDBOX_APP_BASE_URL = os.environ.get("SANDBOX_APP_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# What integrations hands parsed inbound events to (keeps integrations free of inbox imports).
INBOUND_EVENT_HANDLER = "inbox.services.ingest.ingest_event"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.server": {"level": "WARNING"}},
}

# --- Security headers ----------------------------------------------------------------------------------
# Django's defaults, spelled out because tests/security checks them: no framing, no MIME sniffing, no
# Referer to other sites.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content-Security-Policy (django-csp): scripts, styles, connections and forms only from this origin.
# - No inline script or handler anywhere: scripts are static files only.
# - style-src allows inline styles: Swagger UI (/api/docs/) and the pages set a few; styles can't run code.
# - Images and media may come from anywhere (customers' avatars and attachments live on the platforms' CDNs).
# - 'self' in connect-src covers the inbox's websocket (ws/wss to the same host, CSP level 3).
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": ["*", "data:", "blob:"],
        "media-src": ["*", "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Behind TLS (a proxy terminating HTTPS and setting X-Forwarded-Proto): HSTS and cookies sent over HTTPS only.
SECURE_SSL = env_bool("SECURE_SSL", False)
if SECURE_SSL:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
if not DEBUG and env_bool("SECURE_COOKIES", False):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Webhook ingestion (config/asgi.py) ------------------------------------------------------------------
# Threads of the webhook routes' handler, per web process; each keeps one database connection. Each delivery's
# INSERT waits for its commit to reach the disk, so more threads than cores keep a process answering meanwhile:
# at 800 events/s on 2 cores, 8 gave ACK p99 85-92 ms, 4 gave 116-194, 16 and 2 were worse (benchmark 1).
WEBHOOK_THREADS = int(os.environ.get("WEBHOOK_THREADS", "8"))
# A served process (Daphne, a Celery pool process) moves what it loaded at start-up out of the garbage collector's
# walks (config/startup.py). Off in the test process, which loads the app once and then makes and drops objects
# for thousands of tests.
FREEZE_LOADED_OBJECTS = env_bool("FREEZE_LOADED_OBJECTS", True)
# Receipts ACKed within this many seconds are queued as one task, at most WEBHOOK_QUEUE_BATCH per task
# (integrations/queueing.py): publishing a task costs as much as the rest of a webhook, and the worker handles a
# task's receipts in one transaction. 50 ms: a chat shown 50 ms later is nothing to a person, and at 200 events/s
# the worker keeps up (end-to-end p95 163 ms) where with 10 ms it fell behind (seconds; benchmark 1, 2026-12-07).
WEBHOOK_QUEUE_WINDOW = float(os.environ.get("WEBHOOK_QUEUE_WINDOW", "0.05"))
WEBHOOK_QUEUE_BATCH = int(os.environ.get("WEBHOOK_QUEUE_BATCH", "50"))
# The sweep (integrations.tasks.webhook_receipts_sweep, every 5 minutes) queues at most this many stored receipts per
# run, one task each: a worker on 2 cores drains them at about 100 tasks/s, so a run's are done before the next run.
WEBHOOK_SWEEP_LIMIT = int(os.environ.get("WEBHOOK_SWEEP_LIMIT", "20000"))
# Each web process keeps the platforms' active channels this long instead of reading them for every delivery
# (integrations/webhook_channels.py says what that can and can't change); 0 reads them every time.
WEBHOOK_CHANNEL_CACHE_SECONDS = float(os.environ.get("WEBHOOK_CHANNEL_CACHE_SECONDS", "1"))
