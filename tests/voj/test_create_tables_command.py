"""`manage.py create_tables`: voj's tables from the stack, on moto and DynamoDB Local."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import call_command

from books.repository.tables import table_definitions
from listening.repository.tables import listening_table_definition
from voj.aws import aws_client


@pytest.fixture(
    params=["dynamodb", pytest.param("dynamodb-local", marks=pytest.mark.dynamodb_local)]
)
def endpoint(request, aws, settings, monkeypatch) -> Iterator[str]:
    """An empty DynamoDB (moto, or DynamoDB Local with table names no other test uses)."""
    unique = uuid.uuid4().hex[:12]
    settings.VOJ_BOOKS_TABLE = f"voj-books-{unique}"
    settings.VOJ_CHAPTERS_TABLE = f"voj-audio-chapters-{unique}"
    settings.VOJ_SECURITY_TABLE = f"voj-security-{unique}"
    settings.VOJ_LISTENING_TABLE = f"voj-listening-{unique}"
    if request.param == "dynamodb-local":
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", request.getfixturevalue("dynamodb_local"))
    client = aws_client("dynamodb")
    yield client.meta.endpoint_url
    existing = set(client.list_tables()["TableNames"])
    tables = {
        settings.VOJ_BOOKS_TABLE,
        settings.VOJ_CHAPTERS_TABLE,
        settings.VOJ_SECURITY_TABLE,
        settings.VOJ_LISTENING_TABLE,
    }
    for name in tables & existing:
        client.delete_table(TableName=name)


def create_tables() -> list[str]:
    out = StringIO()
    call_command("create_tables", stdout=out)
    return out.getvalue().splitlines()


def indexes(description: dict, kind: str) -> dict[str, list]:
    return {index["IndexName"]: index["KeySchema"] for index in description.get(kind, [])}


def test_creates_the_stacks_tables_then_leaves_them(endpoint, settings):
    books, chapters = settings.VOJ_BOOKS_TABLE, settings.VOJ_CHAPTERS_TABLE
    assert create_tables() == [
        f"DynamoDB at {endpoint}:",
        f"  {books}: created",
        f"  {chapters}: created",
        f"  {settings.VOJ_SECURITY_TABLE}: created",
        f"  {settings.VOJ_LISTENING_TABLE}: created",
    ]
    client = aws_client("dynamodb")
    definitions = table_definitions(books, chapters)
    definitions.append(listening_table_definition(settings.VOJ_LISTENING_TABLE))
    for definition in definitions:
        table = client.describe_table(TableName=definition["TableName"])["Table"]
        assert table["TableStatus"] == "ACTIVE"
        assert table["KeySchema"] == definition["KeySchema"]
        for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            assert indexes(table, kind) == indexes(definition, kind), kind

    client.put_item(
        TableName=books,
        Item={
            name["AttributeName"]: {"S": "kept"}
            for name in client.describe_table(TableName=books)["Table"]["KeySchema"]
        },
    )
    assert create_tables() == [
        f"DynamoDB at {endpoint}:",
        f"  {books}: already exists",
        f"  {chapters}: already exists",
        f"  {settings.VOJ_SECURITY_TABLE}: already exists",
        f"  {settings.VOJ_LISTENING_TABLE}: already exists",
    ]
    assert client.scan(TableName=books)["Count"] == 1, "an existing table was recreated"


def test_creates_only_what_is_missing(endpoint, settings):
    client = aws_client("dynamodb")
    books, chapters = table_definitions(settings.VOJ_BOOKS_TABLE, settings.VOJ_CHAPTERS_TABLE)
    client.create_table(**books)
    assert create_tables()[1:] == [
        f"  {books['TableName']}: already exists",
        f"  {chapters['TableName']}: created",
        f"  {settings.VOJ_SECURITY_TABLE}: created",
        f"  {settings.VOJ_LISTENING_TABLE}: created",
    ]
