"""The DynamoDB backend of what listeners keep (production), split by concern:

- ``items``: keys and the mapping between items and the domain types;
- ``progress``: a progress report as one conditional write;
- ``repository``: the repository contract on top of them.

Requests, their retries and error mapping, and paginated reads are the catalogue's
(books/repository/dynamodb/calls.py and pages.py). The table (keys, indexes, item sizes) is
described in listening/repository/tables.py.
"""

from .repository import DynamoDBListeningRepository

__all__ = ["DynamoDBListeningRepository"]
