"""Repository selection: ``VOJ_DATA_BACKEND`` picks the backend of what listeners keep, built
once per process (like the catalogue's, books/repository/__init__.py)."""

from __future__ import annotations

from functools import cache

from .base import ListeningRepository


@cache
def get_listening_repository() -> ListeningRepository:
    # The DynamoDB backend follows; until then every data backend keeps these in SQL.
    from .sql import SqlListeningRepository  # noqa: PLC0415 (cold start: SQL backend only)

    return SqlListeningRepository()


__all__ = ["ListeningRepository", "get_listening_repository"]
