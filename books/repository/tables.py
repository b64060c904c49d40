"""The DynamoDB table definitions: the one source for the repository, the tests, the prod-like
local mode and the CloudFormation stack (deploy/ reads them from here)."""

from typing import Any

BOOKS_BY_CREATED_INDEX = "books-by-created"
CHAPTERS_BY_ID_INDEX = "chapters-by-id"
CHAPTERS_BY_STATUS_INDEX = "chapters-by-status"

# Every book item carries this constant partition key for the listing index. Books are written
# rarely, so a single partition for the catalogue index is well within DynamoDB's limits.
BOOK_LIST_PARTITION = "BOOK"


def books_table(name: str) -> dict[str, Any]:
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": "book_id", "AttributeType": "S"},
            {"AttributeName": "list_pk", "AttributeType": "S"},
            {"AttributeName": "list_sk", "AttributeType": "S"},
        ],
        "KeySchema": [{"AttributeName": "book_id", "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": BOOKS_BY_CREATED_INDEX,
                "KeySchema": [
                    {"AttributeName": "list_pk", "KeyType": "HASH"},
                    {"AttributeName": "list_sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }


def chapters_table(name: str) -> dict[str, Any]:
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": "book_id", "AttributeType": "S"},
            {"AttributeName": "number", "AttributeType": "N"},
            {"AttributeName": "chapter_id", "AttributeType": "S"},
            {"AttributeName": "status", "AttributeType": "S"},
            {"AttributeName": "updated_at", "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": "book_id", "KeyType": "HASH"},
            {"AttributeName": "number", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": CHAPTERS_BY_ID_INDEX,
                "KeySchema": [{"AttributeName": "chapter_id", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": CHAPTERS_BY_STATUS_INDEX,
                "KeySchema": [
                    {"AttributeName": "status", "KeyType": "HASH"},
                    {"AttributeName": "updated_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
        ],
    }


def table_definitions(books: str, chapters: str) -> list[dict[str, Any]]:
    return [books_table(books), chapters_table(chapters)]


def create_tables(client: Any, *, books: str, chapters: str) -> None:
    """Create both tables if they do not exist (tests and the prod-like local mode)."""
    existing = set(client.list_tables().get("TableNames", []))
    for definition in table_definitions(books, chapters):
        if definition["TableName"] in existing:
            continue
        client.create_table(**definition)
        client.get_waiter("table_exists").wait(TableName=definition["TableName"])
