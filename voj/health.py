"""Health endpoints: a cheap liveness answer and a detailed one that touches each component."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from books.repository import get_repository
from streaming.stores import get_object_store
from voj.exceptions import DomainError
from voj.migration_state import check_migrated

logger = logging.getLogger("voj.health")
PENDING_SHOWN = 20  # a fresh database lacks all of them: the first ones name the problem


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _repository() -> None:
    get_repository().ping()


def _storage() -> None:
    get_object_store().ping()


CHECKS: dict[str, Callable[[], None]] = {
    "database": _database,
    "migrations": check_migrated,
    "repository": _repository,
    "storage": _storage,
}


class HealthApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(responses=inline_serializer("Health", {"status": serializers.CharField()}))
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class DetailedHealthApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        responses=inline_serializer(
            "DetailedHealth",
            {
                "status": serializers.CharField(),
                "environment": serializers.CharField(),
                "encoding_enabled": serializers.BooleanField(),
                "checked_at": serializers.DateTimeField(),
                "checks": serializers.DictField(child=serializers.DictField()),
            },
        )
    )
    def get(self, request: Request) -> Response:
        body, status = _last_round()
        return Response(body, status=status)


# The last round of checks and when it ran (time.monotonic()). The lock makes concurrent callers
# wait for the round under way instead of starting their own.
_round_lock = threading.Lock()
_last: tuple[float, tuple[dict[str, Any], int]] | None = None


def _last_round() -> tuple[dict[str, Any], int]:
    """The answer of the last round of checks if it ran less than VOJ_HEALTH_CHECK_SECONDS
    ago, else of a new one: an anonymous caller costs this container at most one round of
    database, repository and storage calls in that time."""
    global _last
    with _round_lock:
        now = time.monotonic()
        if _last is not None and now - _last[0] < settings.VOJ_HEALTH_CHECK_SECONDS:
            return _last[1]
        answer = _checks_run()
        _last = (now, answer)
        return answer


def _checks_run() -> tuple[dict[str, Any], int]:
    checks: dict[str, dict[str, Any]] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:  # any failure is a failed component, not a 500
            # The error class, and the cause only where the application worded it (a
            # misconfigured store, a missing migration): other messages can carry hosts,
            # ARNs or paths. A worded cause is the whole story: one line, no traceback.
            checks[name] = {"status": "error", "error": type(error).__name__}
            cause = getattr(error, "cause", None)
            if isinstance(error, DomainError) and cause:
                checks[name]["cause"] = cause
                # What a deploy that skipped its migrate step lacks, by name: the release tool
                # and the operator read it here without a shell on the database.
                pending = getattr(error, "pending", None)
                if pending:
                    checks[name]["pending"] = pending[:PENDING_SHOWN]
                logger.warning("health check %s failed: %s", name, cause)
            else:
                logger.warning("health check %s failed", name, exc_info=True)
        else:
            checks[name] = {"status": "ok"}
    healthy = all(c["status"] == "ok" for c in checks.values())
    checks["backends"] = {
        "status": "ok",
        "data": settings.VOJ_DATA_BACKEND,
        "storage": settings.VOJ_STORAGE,
    }
    body = {
        "status": "ok" if healthy else "error",
        "environment": settings.VOJ_ENV,
        "encoding_enabled": settings.ENCODING_ENABLED,
        "checked_at": datetime.now(UTC).isoformat(),
        "checks": checks,
    }
    return body, 200 if healthy else 503
