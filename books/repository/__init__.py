"""Repository selection: ``VOJ_DATA_BACKEND`` picks the backend, built once per process."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from voj.aws import aws_client

from .base import Repository


@cache
def get_repository() -> Repository:
    if settings.VOJ_DATA_BACKEND == "dynamodb":
        from .dynamodb import DynamoDBRepository  # noqa: PLC0415 - boto3 with it: ~600 ms cold, DynamoDB backend only

        return DynamoDBRepository(
            client=aws_client("dynamodb"),
            books_table=settings.VOJ_BOOKS_TABLE,
            chapters_table=settings.VOJ_CHAPTERS_TABLE,
        )
    from .sql import SqlRepository  # noqa: PLC0415 - 1.5 ms cold, SQL backend only (never on Lambda)

    return SqlRepository()


__all__ = ["Repository", "get_repository"]
