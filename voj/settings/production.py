"""Production on Lambda: everything that names a resource comes from the environment."""

from .base import *
from .env import env_required, env_str

DEBUG = False
VOJ_API_DOCS = False

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY or SECRET_KEY.startswith("django-insecure"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("production needs a real SECRET_KEY (from VOJ_SECRETS)")
SIMPLE_JWT = {**SIMPLE_JWT, "SIGNING_KEY": env_required("VOJ_JWT_SIGNING_KEY")}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = False  # API Gateway only speaks HTTPS
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
