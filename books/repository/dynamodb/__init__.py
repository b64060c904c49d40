"""The DynamoDB backend (production), split by concern:

- ``items``: keys and the mapping between items and the domain types;
- ``calls``: every request to DynamoDB, its retries and the mapping of its errors;
- ``pages``: paginated reads that follow ``LastEvaluatedKey`` past DynamoDB's 1 MB pages;
- ``listing``: the lists of books, by who may see them;
- ``book_writes``: the book item's conditional updates;
- ``access``: who may see a book, from its head: the listener's hot paths;
- ``many``: many books by id in one read;
- ``chapter_writes``: the chapter writes, with the head's chapter and ready counts;
- ``backfill``: an operator's one-off pass giving old books their publishing status
  and every head its ready count and its copy of the owner;
- ``repository``: the repository contract on top of them.

The data model (keys, indexes, what is consistent and why) is described in ``tables``.
"""

from .repository import DynamoDBRepository

__all__ = ["DynamoDBRepository"]
