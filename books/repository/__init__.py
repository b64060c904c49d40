"""Repository selection: ``VOJ_DATA_BACKEND`` picks the backend, built once per process."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from voj.aws import aws_client

from .base import Repository


@cache
def get_repository() -> Repository:
    if settings.VOJ_DATA_BACKEND == "dynamodb":
        # Each backend loads only where it is chosen. -X importtime on this shared machine
        # (load ~9), after Django and boto3: the DynamoDB backend ~120 ms, the SQL one ~50 ms.
        from .dynamodb import DynamoDBRepository  # noqa: PLC0415 (cold start: ~120 ms, DynamoDB only)

        return DynamoDBRepository(
            client=aws_client("dynamodb"),
            books_table=settings.VOJ_BOOKS_TABLE,
            chapters_table=settings.VOJ_CHAPTERS_TABLE,
        )
    from .sql import SqlRepository  # noqa: PLC0415 (cold start: ~50 ms, SQL backend only)

    return SqlRepository()


__all__ = ["Repository", "get_repository"]
