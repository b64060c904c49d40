"""Lambda SnapStart: what runs before the snapshot, and after each restore from it.

With SnapStart, Lambda initialises a published version once (Zappa's handler imports the
Django application), runs the before-snapshot hooks, and snapshots the memory and disk of that
environment. Every new container of the version is then restored from the snapshot instead of
starting cold, and runs the after-restore hooks before its first request. One snapshot serves
many containers, possibly days after it was taken.

Before the snapshot, what the first requests would otherwise build on first use is built now
(``prime``), so that a restored container does little: the URL resolver, the repositories and
their DynamoDB client, the object store with its S3 client, its presigner or CloudFront signer,
the security state, the token backend with PyJWT and ``cryptography``, the password hashers, the
modules the production configuration loads on first use, and each AWS operation the requests call
(answered inside the process: nothing is sent). Then what must not be shared is let
go: database connections are closed, start-up's objects are frozen for the garbage collector
(voj/coldstart.py) after one full collection.

After a restore nothing unique the snapshot froze is trusted: ``random`` is seeded again from
the operating system (every restored container would otherwise draw the same numbers, the
AWS SDK's retry jitter included); the AWS clients stay, with the repositories and stores holding
them, but the credentials they sign with are resolved again, this environment's, and the
connections they pooled are dropped (voj/aws.py); the operator database checks its file against
S3 on its next connection (the snapshot may be days old); and the secrets are read again
(``secrets_renewed``).

The hooks register whenever the application starts inside Lambda (``AWS_LAMBDA_FUNCTION_NAME``
set), whatever the rest of the configuration: without SnapStart the runtime never calls them.
``snapshot_restore_py`` is the Lambda runtime's own module (PyPI ``snapshot-restore-py`` for
tests; never in the package, deploy/package.py).
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import random
import time
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import get_hashers
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.http import HttpResponse
from django.http.request import split_domain_port
from django.urls import get_resolver
from django.utils.module_loading import import_string
from rest_framework_simplejwt.settings import api_settings

from books.repository import get_repository
from listening.repository import get_listening_repository
from streaming.stores import get_object_store
from voj import aws, coldstart
from voj.opsdb import base as opsdb
from voj.secrets import (
    CLOUDFRONT_PRIVATE_KEY,
    DJANGO_SECRET_KEY,
    JWT_SIGNING_KEY,
    load_secrets,
    strong_secret,
)
from voj.security import get_security_state

logger = logging.getLogger("voj.snapstart")

# Modules production loads on first use (a function-level import, which keeps them off the
# start of tests, commands and the local modes) that some request of a restored container would
# otherwise pay for: imported before the snapshot, where they cost nothing after a restore
# (docs/performance.md, "The price of each lazy import"). The backends chosen by settings load
# with the repositories and the object store that prime() builds.
FIRST_USE_MODULES = (
    "streaming.checks",  # upload completion and the console's chapter check
    "streaming.media",
    "mutagen.mp4",
    "PIL.Image",  # cover checks
    "PIL.ImageCms",
    "django.db.migrations.executor",  # the migrations check (login, /health/detailed)
)

# The DynamoDB operations the requests call, primed before the snapshot on the process's client
# for each of its tables (voj/aws.py operations_primed), with parameters of the shapes they send;
# botocore's endpoint rules answer per table.
_KEY = {"pk": {"S": "prime"}, "sk": {"S": "prime"}}
_VALUES = {":v": {"S": "prime"}}
PRIMED_OPERATIONS: dict[str, dict[str, Any]] = {
    "get_item": {"Key": _KEY, "ConsistentRead": True},
    "query": {"KeyConditionExpression": "pk = :v", "ExpressionAttributeValues": _VALUES},
    "update_item": {
        "Key": _KEY,
        "UpdateExpression": "SET v = :v",
        "ConditionExpression": "attribute_exists(pk)",
        "ExpressionAttributeValues": _VALUES,
        "ReturnValues": "ALL_NEW",
    },
    "put_item": {"Item": _KEY},
    "delete_item": {"Key": _KEY},
}
TABLE_SETTINGS = (
    "VOJ_BOOKS_TABLE",
    "VOJ_CHAPTERS_TABLE",
    "VOJ_LISTENING_TABLE",
    "VOJ_SECURITY_TABLE",
)

# The secrets are read again after a restore from a snapshot older than this (seconds;
# VOJ_SNAPSTART_SECRETS_MAX_AGE): secrets_renewed() says why.
SECRETS_MAX_AGE_SECONDS = 3600


class _Process:
    registered = False
    snapshot_at = 0.0  # time.time() when the before-snapshot hook ran


def register() -> bool:
    """Register the hooks with the Lambda runtime, once, when running inside Lambda. Returns
    whether they are registered."""
    if not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return False
    if not _Process.registered:
        # The runtime's module, present in Lambda's python3.12 runtime only.
        import snapshot_restore_py  # noqa: PLC0415 - Lambda's runtime only

        snapshot_restore_py.register_before_snapshot(before_snapshot)
        snapshot_restore_py.register_after_restore(after_restore)
        _Process.registered = True
    return True


def before_snapshot() -> None:
    prime()
    connections.close_all()
    gc.collect()
    coldstart.resume_collection()  # freeze what start-up and priming built, collect again
    _Process.snapshot_at = time.time()
    logger.info("initialised for the snapshot")


def prime() -> None:
    """Build now what the first requests would build on first use."""
    for name in FIRST_USE_MODULES:
        importlib.import_module(name)
    get_resolver().reverse_dict  # noqa: B018 - imports every URLconf, compiles every pattern
    get_hashers()
    _singletons_built()
    _clients_primed()
    # simplejwt's token backend, which imports PyJWT and cryptography; its HMAC key and PyJWT's
    # algorithm tables are built on the first signature.
    from rest_framework_simplejwt import state  # noqa: PLC0415 - before the snapshot only

    backend = state.token_backend
    backend.decode(backend.encode({"prime": True}), verify=True)  # type: ignore[arg-type]  # simplejwt types the JWT string as Token


def _clients_primed() -> None:
    tables = sorted({getattr(settings, name, "") for name in TABLE_SETTINGS} - {""})
    dynamodb = aws.aws_client("dynamodb")
    for table in tables:
        operations = {name: {**p, "TableName": table} for name, p in PRIMED_OPERATIONS.items()}
        aws.operations_primed(dynamodb, operations)
    # A book with its chapter, read in one request (books/repository/dynamodb/many.py).
    catalogue = (settings.VOJ_BOOKS_TABLE, settings.VOJ_CHAPTERS_TABLE)
    both = {table: {"Keys": [_KEY], "ConsistentRead": True} for table in catalogue}
    aws.operations_primed(dynamodb, {"batch_get_item": {"RequestItems": both}})
    head = {"Bucket": settings.VOJ_MEDIA_BUCKET, "Key": "prime"}
    aws.operations_primed(aws.aws_client("s3"), {"head_object": head})
    # Modules and patterns Django loads on a request's first pass through the middleware.
    import_string(settings.MESSAGE_STORAGE)
    split_domain_port("prime.invalid:443")
    HttpResponse(content_type="application/json; charset=utf-8").charset  # noqa: B018


def _singletons_built() -> None:
    get_repository()
    get_listening_repository()
    get_security_state()
    store = get_object_store()
    # The presigner or the CloudFront signer, and django-storages' client: no request is sent.
    store.stream_url(key="prime", expires_at=datetime.now(UTC), base_url="https://prime.invalid")


def after_restore() -> None:
    random.seed()  # from os.urandom: each restored container draws its own numbers
    aws.renew_clients()
    opsdb.restored()
    age = time.time() - _Process.snapshot_at
    limit = float(os.environ.get("VOJ_SNAPSTART_SECRETS_MAX_AGE", SECRETS_MAX_AGE_SECONDS))
    if age > limit:
        secrets_renewed()
    logger.info("restored", extra={"snapshot_age_seconds": round(age)})


def secrets_renewed() -> list[str]:
    """Read the secrets again, and apply the keys that changed since the snapshot; returns the
    names of the secrets that changed.

    A container that starts cold reads the secrets once (voj/settings/production.py) and keeps
    them for its life, a few hours. A restored one would keep those of the moment its version
    was published, however long ago. A release after each rotation (docs/runbook.md) makes a
    new snapshot, but a rollback restores an older version's, with keys rotated away since. So
    a restore from a snapshot older than an hour reads them again: one request to the secrets
    store, and a changed signing key or CloudFront key applies at once. A younger snapshot is
    as fresh as a cold container's: the burst of restores that follows a release, the one time
    many containers start together, does not queue on the store (SSM's
    GetParametersByPath has a low request rate). If the read fails the snapshot's secrets
    stay: they were current when it was taken, and a store that cannot be read must not stop
    every new container."""
    spec = getattr(settings, "VOJ_SECRETS", "")
    if not spec:
        return []  # not production: no secrets store
    where = {"region": settings.VOJ_AWS_REGION, "endpoint_url": settings.VOJ_AWS_ENDPOINT_URL}
    frozen = load_secrets(spec, **where)
    load_secrets.cache_clear()
    try:
        fresh = load_secrets(spec, **where)
    except ImproperlyConfigured as error:
        logger.error("secrets not read again after the restore, the snapshot's kept: %s", error)
        return []
    changed = sorted(k for k in frozen.keys() | fresh.keys() if frozen.get(k) != fresh.get(k))
    if changed:
        logger.warning("secrets changed since the snapshot: %s", ", ".join(changed))
        _keys_applied(fresh, spec)
    return changed


def _keys_applied(values: dict[str, str], spec: str) -> None:
    """The keys voj signs with, from ``values``, checked as the production settings check them.
    DATABASE_URL and the other values read once by settings take effect with the next release."""
    settings.SECRET_KEY = strong_secret(values, DJANGO_SECRET_KEY, spec=spec)
    signing_key = strong_secret(values, JWT_SIGNING_KEY, spec=spec)
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": signing_key}
    from rest_framework_simplejwt import state  # noqa: PLC0415 - after a rotation only

    setattr(api_settings, "SIGNING_KEY", signing_key)  # noqa: B010 - a setting, typed as absent
    # HS256: the signing key verifies too. The backend prepared the old one on first use.
    state.token_backend.signing_key = signing_key
    for prepared in ("prepared_signing_key", "prepared_verifying_key"):
        state.token_backend.__dict__.pop(prepared, None)
    if settings.VOJ_CDN_DOMAIN:
        name = getattr(settings, "VOJ_CDN_PRIVATE_KEY_NAME", CLOUDFRONT_PRIVATE_KEY)
        settings.VOJ_CDN_PRIVATE_KEY = values.get(name, settings.VOJ_CDN_PRIVATE_KEY)
        get_object_store.cache_clear()  # its signer holds the key it was built with
