"""Settings shared by every environment. Environment-specific modules override these."""

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .env import env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# Where the embedded default keeps its SQLite file and uploaded audio.
DATA_DIR = Path(env_str("VOJ_DATA_DIR") or BASE_DIR / "var")

DEBUG = False
ALLOWED_HOSTS = env_list("VOJ_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "voj.admin_config.VojAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "voj",
    "books",
    "streaming",
    "listening",
]

MIDDLEWARE = [
    "voj.middleware.RequestLogMiddleware",
    "voj.middleware.ApiBoundaryMiddleware",
    "csp.middleware.CSPMiddleware",
    "voj.hosts.OwnApiHostMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # While the operator database moves (deploy's opsdb-switch), writes to it are refused.
    "voj.opsdb.read_only.OperatorDatabaseReadOnlyMiddleware",
    # Last, so its process_exception sees a view's database error first.
    "voj.migration_state.UnmigratedDatabaseMiddleware",
]

ROOT_URLCONF = "voj.urls"
WSGI_APPLICATION = "voj.wsgi.application"

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
        },
    },
]

# SQLite in IMMEDIATE mode with a busy timeout: concurrent writers queue instead of failing
# with "database is locked".
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "db.sqlite3",
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Local and production: the operator database on a server instead (voj/settings/database.py).
DATABASE_URL = env_str("DATABASE_URL")
# How long a connection to that server is kept; each reuse is health-checked first.
VOJ_DB_CONN_MAX_AGE = env_int("VOJ_DB_CONN_MAX_AGE", 600)

# Admin sessions live in signed cookies, so ordinary traffic never writes the operator database.
# Console sessions live in the shared security state (voj/security/sessions.py): logging out,
# a password change, a deactivation or `end_sessions` ends them on every container at once.
SESSION_ENGINE = "voj.security.sessions"
# An operator console's working day, not Django's default of two weeks.
SESSION_COOKIE_AGE = env_int("VOJ_SESSION_HOURS", 8) * 3600
SESSION_COOKIE_HTTPONLY = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Collected into the Lambda package by `make package`; WhiteNoise serves it in production.
STATIC_ROOT = Path(env_str("VOJ_STATIC_ROOT") or BASE_DIR / "staticfiles")

# --- voj -------------------------------------------------------------------------------------

VOJ_DATA_BACKEND = env_choice("VOJ_DATA_BACKEND", ("sql", "dynamodb"), "sql")
VOJ_STORAGE = env_choice("VOJ_STORAGE", ("local", "s3"), "local")
VOJ_AWS_REGION = env_str("VOJ_AWS_REGION", "ap-northeast-2")
VOJ_AWS_ENDPOINT_URL = env_str("VOJ_AWS_ENDPOINT_URL") or None
VOJ_BOOKS_TABLE = env_str("VOJ_BOOKS_TABLE", "voj-books-local")
VOJ_CHAPTERS_TABLE = env_str("VOJ_CHAPTERS_TABLE", "voj-audio-chapters-local")
# Login failure counts and revoked refresh tokens (voj/security), when the data backend is DynamoDB.
VOJ_SECURITY_TABLE = env_str("VOJ_SECURITY_TABLE", "voj-security-local")
# What listeners keep (progress, bookmarks: listening/), when the data backend is DynamoDB.
VOJ_LISTENING_TABLE = env_str("VOJ_LISTENING_TABLE", "voj-listening-local")
VOJ_MEDIA_BUCKET = env_str("VOJ_MEDIA_BUCKET", "voj-audiobooks-local")
VOJ_MEDIA_ROOT = Path(env_str("VOJ_MEDIA_ROOT") or DATA_DIR / "objects")
VOJ_CDN_DOMAIN = env_str("VOJ_CDN_DOMAIN")
VOJ_CDN_KEY_ID = env_str("VOJ_CDN_KEY_ID")
VOJ_CDN_DISTRIBUTION_ID = env_str("VOJ_CDN_DISTRIBUTION_ID")
# The scheme of stream URLs on the CDN domain: https (CloudFront); http only for the local edge
# of the prod-like mode (deploy/local/edge.py on 127.0.0.1).
VOJ_CDN_URL_PROTOCOL = env_choice("VOJ_CDN_URL_PROTOCOL", ("https", "http"), "https")

VOJ_CDN_PRIVATE_KEY = ""  # production: from VOJ_SECRETS, never from the environment
VOJ_SECRETS = env_str("VOJ_SECRETS")

# MVP v2 has no transcoding step: a verified upload is ready at once.
ENCODING_ENABLED = env_bool("ENCODING_ENABLED", False)

VOJ_MAX_UPLOAD_BYTES = env_int("VOJ_MAX_UPLOAD_BYTES", 100 * 1024 * 1024)
# A cover upload's limit (5 MB), in its grant's policy and checked again at completion.
VOJ_MAX_COVER_BYTES = env_int("VOJ_MAX_COVER_BYTES", 5 * 1024 * 1024)
VOJ_UPLOAD_GRANT_SECONDS = env_int("VOJ_UPLOAD_GRANT_SECONDS", 15 * 60)
# A stream URL must outlive the chapter it plays (seeking late in a long chapter sends new
# Range requests), so its lifetime is the duration plus a margin, within a floor and a cap.
VOJ_STREAM_URL_MARGIN_SECONDS = env_int("VOJ_STREAM_URL_MARGIN_SECONDS", 30 * 60)
VOJ_STREAM_URL_MIN_SECONDS = env_int("VOJ_STREAM_URL_MIN_SECONDS", 15 * 60)
VOJ_STREAM_URL_MAX_SECONDS = env_int("VOJ_STREAM_URL_MAX_SECONDS", 12 * 60 * 60)
VOJ_PAGE_SIZE = env_int("VOJ_PAGE_SIZE", 20)
# How many bookmarks one listener may keep in one book: far more than anyone marks by hand, few
# enough that a book's bookmarks stay a handful of pages (more: 409 bookmark_limit_reached).
VOJ_BOOKMARKS_PER_BOOK = env_int("VOJ_BOOKMARKS_PER_BOOK", 500)
VOJ_OPSDB_REFRESH_SECONDS = env_int("VOJ_OPSDB_REFRESH_SECONDS", 5)
# health/detailed is public: however often it is called, a container runs its checks (database,
# repository, storage) at most once in this many seconds and answers the others from that round.
VOJ_HEALTH_CHECK_SECONDS = env_int("VOJ_HEALTH_CHECK_SECONDS", 5)

# Login throttling, shared by every process (voj/security): failed logins counted per username
# and per client address; a count is forgotten this long after its last failure.
VOJ_LOGIN_FAILURES_PER_USERNAME = env_int("VOJ_LOGIN_FAILURES_PER_USERNAME", 10)
VOJ_LOGIN_FAILURES_PER_ADDRESS = env_int("VOJ_LOGIN_FAILURES_PER_ADDRESS", 50)
VOJ_LOGIN_FAILURE_WINDOW_SECONDS = env_int("VOJ_LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60)
AUTHENTICATION_BACKENDS = ["voj.security.backends.ThrottledModelBackend"]

# Uploaded files are spooled here before they reach the object store; keeping it next to the
# objects makes the final move a rename.
FILE_UPLOAD_TEMP_DIR = None
FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # every uploaded file streams to disk, never held in memory

# --- REST framework --------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Bounded in size and nesting depth: no body can cause a 500 (voj/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["voj.parsers.BoundedJSONParser"],
    "EXCEPTION_HANDLER": "voj.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("VOJ_ACCESS_TOKEN_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("VOJ_REFRESH_TOKEN_DAYS", 7)),
    "ALGORITHM": "HS256",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": False,  # a login must not write the operator database
    # Tokens carry a hash of the password hash: a password change refuses every older token.
    "CHECK_REVOKE_TOKEN": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "voj API",
    "DESCRIPTION": "Audiobook catalogue, chapter uploads and signed streaming.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Operation ids and tags from the path after this; /listen/ (the page) is not the API.
    "SCHEMA_PATH_PREFIX": r"/api/v1/",
    "COMPONENT_SPLIT_REQUEST": True,
    # Error responses, text and upload rules, the local upload form: see voj/schema.py.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "voj.schema.postprocess",
    ],
}


def _media_origins() -> list[str]:
    """Where a page's audio and covers come from besides this host: the CDN, else the bucket
    itself (presigned S3 URLs), else nowhere (the embedded default serves them)."""
    if VOJ_CDN_DOMAIN:
        return [f"{VOJ_CDN_URL_PROTOCOL}://{VOJ_CDN_DOMAIN}"]
    if VOJ_STORAGE != "s3":
        return []
    endpoint = env_str("AWS_ENDPOINT_URL_S3") or VOJ_AWS_ENDPOINT_URL
    if endpoint:
        parts = urlsplit(endpoint)
        return [f"{parts.scheme}://{parts.netloc}"]
    return [f"https://{VOJ_MEDIA_BUCKET}.s3.{VOJ_AWS_REGION}.amazonaws.com"]


# Every page (the console, /listen/, the API docs) loads only this host's scripts and styles,
# with nothing inline; audio and covers also from the CDN or the bucket. The API docs widen it
# for Swagger UI's files (voj/urls.py). django-csp reads it at each response.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *_media_origins()],
        "media-src": ["'self'", *_media_origins()],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

CORS_ALLOWED_ORIGINS = env_list("VOJ_CORS_ORIGINS")
CORS_URLS_REGEX = r"^/(api|stream)/.*$"
CSRF_TRUSTED_ORIGINS = env_list("VOJ_CSRF_TRUSTED_ORIGINS")
CSRF_FAILURE_VIEW = "voj.errors.csrf_failure"  # JSON under /api/, Django's page elsewhere

# Schema and Swagger UI are served only where this is on (local and test).
VOJ_API_DOCS = False

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "filters": {"as_warning": {"()": "voj.logs.AsWarning"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "botocore": {"level": "WARNING"},
        "django.db.backends": {"level": "WARNING"},
        # runserver already prints a line per request; production logs them as JSON.
        "voj.requests": {"level": "WARNING"},
        # A client's mistake, not the service's: Django logs these at ERROR.
        "django.security.DisallowedHost": {"filters": ["as_warning"]},
        "django.security.RequestDataTooBig": {"filters": ["as_warning"]},
        "django.security.TooManyFieldsSent": {"filters": ["as_warning"]},
    },
}
