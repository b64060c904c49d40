"""Settings for the test suite: fast hashing, a throwaway data directory, local storage."""

import tempfile
from pathlib import Path

from .base import *

DEBUG = False
VOJ_API_DOCS = True
# Generated per test process; never a fixed key in the repository.
SECRET_KEY = __import__("secrets").token_urlsafe(50)
SIMPLE_JWT = {**SIMPLE_JWT, "SIGNING_KEY": SECRET_KEY + ":jwt"}

DATA_DIR = Path(tempfile.mkdtemp(prefix="voj-test-"))
VOJ_MEDIA_ROOT = DATA_DIR / "objects"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# Every health request runs its checks: tests change what they check between requests.
VOJ_HEALTH_CHECK_SECONDS = 0
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# A file, not shared-cache memory: threads in the concurrency tests need real SQLite locking.
DATABASES = {
    "default": {
        **DATABASES["default"],
        "NAME": DATA_DIR / "db.sqlite3",
        "TEST": {"NAME": str(DATA_DIR / "test-db.sqlite3")},
    }
}
