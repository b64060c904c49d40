"""Only for `make package`: collect static files with the storage production serves them with
(hashed names and a manifest, compressed copies for WhiteNoise)."""

from .local import *

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
