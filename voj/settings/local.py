"""The embedded default: SQLite and local files, demo accounts, nothing from AWS."""

from pathlib import Path

from django.core.management.utils import get_random_secret_key

from .base import *
from .database import database_from_url
from .env import env_str

DEBUG = True
VOJ_API_DOCS = True


def _local_secret(path: Path) -> str:
    """A per-checkout key kept beside the data (git-ignored), so sessions and tokens survive
    restarts without a secret ever entering the repository."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(get_random_secret_key())
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env_str("DJANGO_SECRET_KEY") or _local_secret(DATA_DIR / "secret-key")
SIMPLE_JWT = {**SIMPLE_JWT, "SIGNING_KEY": SECRET_KEY + ":jwt"}

if DATABASE_URL:
    DATABASES = {"default": database_from_url(DATABASE_URL, conn_max_age=VOJ_DB_CONN_MAX_AGE)}
