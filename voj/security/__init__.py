"""Security state shared by every process: login failure counts and revoked refresh tokens.

On Lambda each container has its own memory, so a limit kept in memory would hold per
container only. The state lives where every container sees it, with an expiry on every
record: a DynamoDB table with TTL when the data backend is DynamoDB (production), the SQL
database otherwise (the embedded default).
"""

from __future__ import annotations

from functools import cache

from django.conf import settings

from voj.aws import aws_client

from .dynamodb import DynamoDBExpiringState
from .state import ExpiringState, SqlExpiringState


@cache
def get_security_state() -> ExpiringState:
    # Never the operator database (voj.opsdb): every failed login would publish it to S3.
    in_operator_database = settings.DATABASES["default"]["ENGINE"] == "voj.opsdb"
    if settings.VOJ_DATA_BACKEND == "dynamodb" or in_operator_database:
        return DynamoDBExpiringState(
            client=aws_client("dynamodb"), table=settings.VOJ_SECURITY_TABLE
        )
    return SqlExpiringState()


__all__ = ["ExpiringState", "get_security_state"]
