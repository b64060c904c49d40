"""Production on Lambda. Everything that names a resource comes from the environment; every
secret comes from VOJ_SECRETS, read once per cold start."""

from django.core.exceptions import ImproperlyConfigured

from voj.coldstart import pause_collection
from voj.secrets import (
    CLOUDFRONT_PRIVATE_KEY,
    DJANGO_SECRET_KEY,
    JWT_SIGNING_KEY,
    load_secrets,
    secret,
    strong_secret,
)

from .base import *
from .database import database_from_url, drivers_absent, operator_file_database
from .env import env_bool, env_list, env_required, env_str

# First, so that reading the secrets and setting up Django run without collection.
pause_collection()

DEBUG = False
VOJ_API_DOCS = False

# --- secrets ---------------------------------------------------------------------------------

VOJ_SECRETS = env_required("VOJ_SECRETS")
_secrets = load_secrets(VOJ_SECRETS, region=VOJ_AWS_REGION, endpoint_url=VOJ_AWS_ENDPOINT_URL)

# Both keys sign what voj trusts: held to Django's rule for SECRET_KEY (voj/secrets.py).
SECRET_KEY = strong_secret(_secrets, DJANGO_SECRET_KEY, spec=VOJ_SECRETS)
SIMPLE_JWT = {
    **SIMPLE_JWT,
    "SIGNING_KEY": strong_secret(_secrets, JWT_SIGNING_KEY, spec=VOJ_SECRETS),
}

if VOJ_CDN_DOMAIN:
    if not VOJ_CDN_KEY_ID:
        raise ImproperlyConfigured("VOJ_CDN_DOMAIN is set, so VOJ_CDN_KEY_ID must be too")
    # Which key slot's private key signs (deploy/rotation.py): set together with
    # VOJ_CDN_KEY_ID, so one function update switches both.
    VOJ_CDN_PRIVATE_KEY_NAME = env_str("VOJ_CDN_PRIVATE_KEY_NAME", CLOUDFRONT_PRIVATE_KEY)
    if VOJ_CDN_PRIVATE_KEY_NAME not in (CLOUDFRONT_PRIVATE_KEY, CLOUDFRONT_PRIVATE_KEY + "_NEXT"):
        raise ImproperlyConfigured(
            f"VOJ_CDN_PRIVATE_KEY_NAME must be {CLOUDFRONT_PRIVATE_KEY} or its _NEXT slot"
        )
    VOJ_CDN_PRIVATE_KEY = secret(_secrets, VOJ_CDN_PRIVATE_KEY_NAME, spec=VOJ_SECRETS)

# --- hosts, CORS, CSRF -----------------------------------------------------------------------

# Every API's host in the region: the API's id is made by the first deploy, after this file is
# written. voj.hosts.OwnApiHostMiddleware narrows it to this API's own host.
ALLOWED_HOSTS = [
    *env_list("VOJ_ALLOWED_HOSTS"),
    f".execute-api.{VOJ_AWS_REGION}.amazonaws.com",
]
CORS_ALLOWED_ORIGINS = env_list("VOJ_CORS_ORIGINS")
CORS_ALLOW_METHODS = ["DELETE", "GET", "OPTIONS", "PATCH", "POST"]
CORS_ALLOW_HEADERS = ["accept", "authorization", "content-type", "range"]
CORS_PREFLIGHT_MAX_AGE = 3600
CSRF_TRUSTED_ORIGINS = env_list("VOJ_CSRF_TRUSTED_ORIGINS")

# --- transport security ----------------------------------------------------------------------

# API Gateway terminates TLS and says so in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind API Gateway every request is HTTPS, so this never fires there; only the prod-like
# local mode (plain HTTP on 127.0.0.1) turns it off.
SECURE_SSL_REDIRECT = env_bool("VOJ_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- static files (the admin's CSS and JS) ----------------------------------------------------


# No web server in front of Lambda: WhiteNoise serves the collected files, with far-future
# caching for the hashed names.
def _inserted(middleware: list[str], *, after: str, name: str) -> list[str]:
    position = middleware.index(after) + 1
    return [*middleware[:position], name, *middleware[position:]]


MIDDLEWARE = _inserted(
    MIDDLEWARE,
    after="django.middleware.security.SecurityMiddleware",
    name="voj.static.LazyWhiteNoiseMiddleware",
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- the operator database -------------------------------------------------------------------

# A URL with a password is a secret: kept as DATABASE_URL in VOJ_SECRETS, never in
# zappa_settings.json; the environment variable wins (the prod-like local mode, tests).
DATABASE_URL = DATABASE_URL or _secrets.get("DATABASE_URL", "").strip()
# The file's key in the bucket, also when the function runs on PostgreSQL: the switch back to
# the file (deploy's opsdb-switch) writes it.
VOJ_OPSDB_KEY = env_str("VOJ_OPSDB_KEY", "system/operator-db.sqlite3")
if DATABASE_URL:
    # PostgreSQL, say, once the accounts outgrow one file (docs/deploy.md).
    DATABASES = {"default": database_from_url(DATABASE_URL, conn_max_age=VOJ_DB_CONN_MAX_AGE)}
else:
    drivers_absent()  # the package carries psycopg; without DATABASE_URL nothing may load it
    # Django's own tables (users, groups, admin log) in one SQLite file kept in the bucket.
    DATABASES = {
        "default": operator_file_database(
            path=env_str("VOJ_OPSDB_PATH", "/tmp/voj-operator.sqlite3"),  # noqa: S108
            bucket=VOJ_MEDIA_BUCKET,
            key=VOJ_OPSDB_KEY,
        )
    }
    # Publish a changed file before the response leaves, so a conflict can be reported.
    MIDDLEWARE = _inserted(
        MIDDLEWARE,
        after="voj.middleware.RequestLogMiddleware",
        name="voj.opsdb.middleware.OperatorDatabaseMiddleware",
    )

# --- logs: JSON lines on stdout for CloudWatch -----------------------------------------------

LOGGING = {
    **LOGGING,
    "formatters": {"json": {"()": "voj.logs.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": env_str("VOJ_LOG_LEVEL", "INFO")},
    "loggers": {
        **LOGGING["loggers"],
        "voj.requests": {"level": "INFO"},
        # Zappa's common-log line per request repeats voj.requests (which has the request id
        # and the user too): one line per request halves the log volume and its cost.
        "zappa.wsgi": {"level": "WARNING"},
    },
}
