"""One item of a DynamoDB table read in another store's request.

A hot path that needs items from two stores (the token's account record in the security table,
the book's head and the chapter in the catalogue's) reads them in one BatchGetItem when both are
DynamoDB tables: the store that makes the request adds the item and hands back what it found.
A store that cannot (the SQL backends) leaves it unread, and its owner reads it on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(slots=True)
class ItemRead:
    table: str
    key: dict[str, Any]
    consistent: bool = True
    item: dict[str, Any] | None = None
    done: bool = False

    def found(self, item: dict[str, Any] | None) -> None:
        self.item = item
        self.done = True


class CheckAlongside(Protocol):
    """A check whose item another store's request reads (the token's account check:
    voj/security/authentication.py): ``alongside`` gives the item to read, ``verify`` decides,
    reading it on its own if no request did."""

    def alongside(self) -> ItemRead | None: ...

    def verify(self) -> None: ...
