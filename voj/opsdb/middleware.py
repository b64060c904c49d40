"""Publishes the operator database after a request that changed it, before the response."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import connections
from django.http import HttpRequest, HttpResponse

from voj.errors import json_error

from .base import DatabaseWrapper
from .sync import OperatorDatabaseConflict, OperatorDatabaseUnavailable

logger = logging.getLogger("voj.opsdb")


class OperatorDatabaseMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        connection = connections["default"]
        if not isinstance(connection, DatabaseWrapper):
            return response  # another engine (local SQLite, DATABASE_URL)
        try:
            connection.publish()
        except OperatorDatabaseConflict:
            return json_error(
                409,
                "Another instance changed the operator database at the same moment; this "
                "change was not saved. Reload and try again.",
                "operator_db_conflict",
            )
        except OperatorDatabaseUnavailable:
            logger.exception("operator database publish failed")
            return json_error(
                503,
                "The operator database could not be saved; try again.",
                "operator_db_unavailable",
            )
        return response
