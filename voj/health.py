"""Health endpoints: a cheap liveness answer and a detailed one that touches each component."""

from __future__ import annotations

import logging
from collections.abc import Callable

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
                "checks": serializers.DictField(child=serializers.DictField()),
            },
        )
    )
    def get(self, request: Request) -> Response:
        checks: dict[str, dict[str, str]] = {}
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
        return Response(
            {
                "status": "ok" if healthy else "error",
                "environment": settings.VOJ_ENV,
                "encoding_enabled": settings.ENCODING_ENABLED,
                "checks": checks,
            },
            status=200 if healthy else 503,
        )
