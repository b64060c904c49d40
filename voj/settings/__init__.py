"""One settings entry point; ``VOJ_ENV`` picks the environment (local, test, production)."""

import os
import sys

from django.core.exceptions import ImproperlyConfigured

# Under pytest the default is the test environment, so a bare `pytest` never touches the
# developer's local data.
_DEFAULT_ENV = "test" if "pytest" in sys.modules else "local"
VOJ_ENV = os.environ.get("VOJ_ENV", _DEFAULT_ENV).strip().lower() or _DEFAULT_ENV

if VOJ_ENV == "local":
    from .local import *
elif VOJ_ENV == "test":
    from .test import *
elif VOJ_ENV == "production":
    from .production import *
else:
    raise ImproperlyConfigured(f"VOJ_ENV must be one of local, test, production (got {VOJ_ENV!r})")

# The OpenAPI schema and Swagger UI (drf-spectacular) exist only where VOJ_API_DOCS is on (local
# and test). Production leaves the app and its schema class out: loading them costs about 15 ms
# of every Lambda cold start for pages production never serves.
if VOJ_API_DOCS:
    INSTALLED_APPS = [*INSTALLED_APPS, "drf_spectacular"]
    REST_FRAMEWORK = {
        **REST_FRAMEWORK,
        "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    }
