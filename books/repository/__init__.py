"""Repository selection: ``VOJ_DATA_BACKEND`` picks the backend, built once per process."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from .base import Repository


@cache
def get_repository() -> Repository:
    if settings.VOJ_DATA_BACKEND == "dynamodb":
        from voj.aws import aws_client

        from .dynamodb import DynamoDBRepository

        return DynamoDBRepository(
            client=aws_client("dynamodb"),
            books_table=settings.VOJ_BOOKS_TABLE,
            chapters_table=settings.VOJ_CHAPTERS_TABLE,
        )
    from .sql import SqlRepository

    return SqlRepository()


__all__ = ["Repository", "get_repository"]
