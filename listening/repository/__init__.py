"""Repository selection: ``VOJ_DATA_BACKEND`` picks the backend of what listeners keep, built
once per process (like the catalogue's, books/repository/__init__.py)."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from voj.aws import aws_client

from .base import ListeningRepository


@cache
def get_listening_repository() -> ListeningRepository:
    if settings.VOJ_DATA_BACKEND == "dynamodb":
        # Each backend loads only where it is chosen. -X importtime after Django and boto3:
        # ~30 ms alone, ~5 ms once the catalogue's DynamoDB backend, which it builds on, is in.
        from .dynamodb import DynamoDBListeningRepository  # noqa: PLC0415 (cold start: ~5-30 ms, DynamoDB only)

        return DynamoDBListeningRepository(
            client=aws_client("dynamodb"), table=settings.VOJ_LISTENING_TABLE
        )
    from .sql import SqlListeningRepository  # noqa: PLC0415 (cold start: ~2-6 ms, SQL backend only)

    return SqlListeningRepository()


__all__ = ["ListeningRepository", "get_listening_repository"]
