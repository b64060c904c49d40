"""The DynamoDB tables as the repository uses them.

The one definition of the tables is the CloudFormation stack (deploy/stack.yaml); the tests and
the prod-like local mode create their tables from it, so what runs in moto is what deploys.
The repository only needs the names below.
"""

from functools import cache
from pathlib import Path
from typing import Any

STACK_TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "stack.yaml"
BOOKS_RESOURCE = "BooksTable"
CHAPTERS_RESOURCE = "ChaptersTable"

BOOKS_BY_CREATED_INDEX = "books-by-created"
CHAPTERS_BY_ID_INDEX = "chapters-by-id"
CHAPTERS_BY_STATUS_INDEX = "chapters-by-status"

# Every book item carries this constant partition key for the listing index. Books are written
# rarely, so a single partition for the catalogue index is well within DynamoDB's limits.
BOOK_LIST_PARTITION = "BOOK"


@cache
def stack_resources() -> dict[str, Any]:
    """The stack's resources, with CloudFormation's short-form tags kept as plain values."""
    import yaml

    class CfnLoader(yaml.SafeLoader):
        pass

    def tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {f"!{suffix}": value}

    CfnLoader.add_multi_constructor("!", tag)
    return yaml.load(STACK_TEMPLATE.read_text(), Loader=CfnLoader)["Resources"]  # noqa: S506


def _definition(resource: str, name: str) -> dict[str, Any]:
    properties = stack_resources()[resource]["Properties"]
    definition = {
        "TableName": name,
        "BillingMode": properties["BillingMode"],
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
    }
    if properties.get("GlobalSecondaryIndexes"):
        definition["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
    return definition


def table_definitions(books: str, chapters: str) -> list[dict[str, Any]]:
    return [_definition(BOOKS_RESOURCE, books), _definition(CHAPTERS_RESOURCE, chapters)]


def create_tables(client: Any, *, books: str, chapters: str) -> dict[str, bool]:
    """Create both tables where they do not exist (idempotent). Returns, by table name, whether
    it was created here."""
    created: dict[str, bool] = {}
    for definition in table_definitions(books, chapters):
        name = definition["TableName"]
        # One DescribeTable per table: a listing would be paged at 100 names.
        try:
            client.describe_table(TableName=name)
            created[name] = False
            continue
        except client.exceptions.ResourceNotFoundException:
            pass
        try:
            client.create_table(**definition)
            created[name] = True
        except client.exceptions.ResourceInUseException:  # created meanwhile by another
            created[name] = False
        client.get_waiter("table_exists").wait(TableName=name)
    return created
