"""The operator database's read-only mode: while its accounts move to another database
(`python -m deploy opsdb-switch`), a change made to the old one would be lost, so every request
that would write it is refused with a 503 that says why.

The mode is a record in the shared security state (the DynamoDB security table in production),
so every container sees it at once, whichever database it runs on. Sign-ins keep working: they
read accounts and write only the security state (login limits, console sessions), never the
operator database. A request pays for the mode only when it is about to write the operator
database (an operator's account change): that first write reads the record once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

from django.db import connections
from django.http import HttpRequest, HttpResponse

from voj.errors import is_api_path, json_error
from voj.exceptions import DomainError
from voj.models import SecurityRecord
from voj.security import get_security_state

from .switch_state import READ_ONLY_KEY

# Longer than any switch takes; a mode left behind by an abandoned switch ends by itself.
READ_ONLY_HOURS = 24
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "ALTER", "DROP", "TRUNCATE")


class OperatorDatabaseReadOnly(DomainError):
    code = "operator_db_read_only"
    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    retryable = False  # the switch ends it, not time: the message says what is going on
    message = (
        "The operator database is read-only while it moves to another database (a maintenance "
        "window): sign-ins work, account and group changes are refused. Try again when the "
        "switch is over."
    )


def read_only_reason() -> str | None:
    """Why the operator database is read-only now, or None when it is writable."""
    return get_security_state().get(READ_ONLY_KEY)


def read_only_set(reason: str, *, hours: int = READ_ONLY_HOURS) -> None:
    get_security_state().put(
        READ_ONLY_KEY,
        value=reason,
        expires_at=datetime.now(UTC) + timedelta(hours=hours),
        subject="operator database read-only",
    )


def read_only_clear() -> None:
    get_security_state().clear(READ_ONLY_KEY)


class _WriteGuard:
    """An execute wrapper: before the request's first write to the operator database, refuse
    it if the database is read-only. Writes to the security state's own table (the embedded
    default keeps it in the same database) are sign-ins and sessions: never refused."""

    def __init__(self) -> None:
        self.refused: bool | None = None

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        statement = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        if statement in _WRITES and SecurityRecord._meta.db_table not in sql:
            if self.refused is None:
                self.refused = read_only_reason() is not None
            if self.refused:
                raise OperatorDatabaseReadOnly()
        return execute(sql, params, many, context)


class OperatorDatabaseReadOnlyMiddleware:
    """Guards every request's writes; a refused one answers 503 (JSON under /api/, a plain
    message in the console), never a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with connections["default"].execute_wrapper(_WriteGuard()):
            return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperatorDatabaseReadOnly):
            return None
        if is_api_path(request.path_info):
            return json_error(exception.status_code, exception.message, exception.code)
        return HttpResponse(
            exception.message, status=exception.status_code, content_type="text/plain"
        )
