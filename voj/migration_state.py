"""Whether the operator database holds every migration this code has.

A stage whose operator database was never migrated (a first deploy that skipped the release's
migrate step, a database switched by hand) fails on its first account query with "no such table".
That is an operator's mistake with one fix, so it is answered as such: 503 with a code that names
it, one log line that names the fix, and a failed check on ``/health/detailed``. The migration
graph is read only after a database error or by the health check, never on an ordinary request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import HttpRequest, HttpResponse

from voj.errors import RETRY_AFTER_SECONDS, is_api_path, json_error
from voj.exceptions import DomainError

logger = logging.getLogger("voj.database")

FIX = (
    "run the migrate step: `python -m deploy migrate STAGE` from the release's tree (every "
    "`python -m deploy release STAGE` runs it before the code switch)"
)


class OperatorDatabaseNotMigrated(DomainError):
    code = "operator_db_not_migrated"
    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    retryable = False  # waiting does not migrate it: an operator must
    message = (
        "The operator database has not been migrated for this version of the service; "
        "an operator must run the release's migrate step. Try again later."
    )

    def __init__(self, pending: list[str]) -> None:
        super().__init__()
        self.pending = pending
        self.cause = f"{len(pending)} migration(s) not applied, first {pending[0]}: {FIX}"


def pending_migrations(using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """The migrations this code has that the database has not applied, in the order to apply."""
    # Only on the error path and the detailed health check: about 2 ms of cold start otherwise.
    from django.db.migrations.executor import MigrationExecutor  # noqa: PLC0415

    executor = MigrationExecutor(connections[using])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def check_migrated(using: str = DEFAULT_DB_ALIAS) -> None:
    """Raises OperatorDatabaseNotMigrated when migrations are pending (the health check)."""
    pending = pending_migrations(using)
    if pending:
        raise OperatorDatabaseNotMigrated(pending)


class OperatorDatabaseUnreachable(DomainError):
    """The operator database's server did not answer (down, or not reachable from the function:
    a PostgreSQL in a VPC the function is not in)."""

    code = "operator_db_unavailable"
    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    retryable = True  # a restarting server comes back; a network mistake is logged for operators
    message = "The operator database cannot be reached; try again shortly."


class UnmigratedDatabaseMiddleware:
    """Turns a database error that a missing migration explains into a 503 that says so, and one
    that an unreachable database explains into a 503 too: a sign-in that cannot read its
    account is the service being unavailable, never a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DatabaseError):
            return None
        try:
            pending = pending_migrations()
        except DatabaseError:
            return _unreachable(request)  # the database itself fails: not a missing migration
        if not pending:
            return None
        error = OperatorDatabaseNotMigrated(pending)
        logger.error("operator database not migrated: %s", error.cause)
        return json_error(error.status_code, error.message, error.code)


def _unreachable(request: HttpRequest) -> HttpResponse:
    logger.error("operator database unreachable", exc_info=True)
    error = OperatorDatabaseUnreachable()
    response: HttpResponse
    if is_api_path(request.path_info):
        response = json_error(error.status_code, error.message, error.code)
    else:
        response = HttpResponse(error.message, status=error.status_code, content_type="text/plain")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
