"""The DynamoDB tables as the repository uses them: keys, indexes, what is consistent and why.

The one definition of the tables is the CloudFormation stack (deploy/stack.yaml); the tests and
the prod-like local mode create their tables from it, so what runs in moto and DynamoDB Local is
what deploys. The repository only needs the names below.

Books table, key (``book_id``, ``sk``): one item collection per book.

- ``sk = "book"``: the book itself (title, author, description up to 5,000 characters,
  language, owner, times, ``version``). Only this item carries ``list_pk``/``list_sk``, so only it
  is in ``books-by-created``. It is written when the book is created, edited or deleted, never
  when a chapter changes: a 15 KB item and its index copy are not rewritten per chapter.
- ``sk = "head"``: a small item (well under 1 KB) with ``chapter_count`` and, once a delete has
  begun, ``deleting``. Every chapter transaction updates or condition-checks the head, not the
  book: DynamoDB charges a transaction item by the size of the item it touches, so a chapter
  write costs the same whatever the book's description (docs/performance.md).
- ``sk = "slot#0000000007"``: one small item per chapter number, holding the chapter's id. It is
  written in the same transaction as the chapter, with ``attribute_not_exists``, so numbers stay
  unique within a book under concurrent creates and renumbers.

``book_get`` is one strongly consistent Query of the collection's ``book`` and ``head``;
``chapter_last_number`` one of its last slot.

``books-by-created`` (GSI, eventually consistent): ``list_pk`` is one constant and ``list_sk`` the
creation time and id, so one Query lists the catalogue newest first. One constant partition is a
hot key only under heavy writes; books are written rarely (never per chapter, above), and an index
partition takes 1,000 write units a second. Reads of the first page are the hotter side: a GSI
partition serves 3,000 read units a second, about 15 full pages of maximal books; the API puts
a cache in front before that matters. The listing reads chapter counts from the heads with one
BatchGetItem.

Chapters table, key (``book_id``, ``chapter_id``): every write path knows both from the URL, so
it starts from one strongly consistent GetItem on the table; a renumber changes an attribute,
not the key.

- ``chapters-by-number`` (LSI, ``book_id`` + ``number``): a book's chapters in order. A local
  index supports ``ConsistentRead``, so a list right after a write shows it.
- ``chapters-by-id`` (GSI, ``chapter_id``): the listener's stream-url lookup, which knows only the
  chapter id, and the console's lookup by id. Eventually consistent: a read path only.
- ``chapters-by-status`` (GSI, ``status`` + ``updated_at``): the console's status list, newest
  first. Eventually consistent: a read path only. Its partitions are the four statuses; each
  chapter write puts one small item (about 1 write unit) there, at the pace editors upload, far
  below a partition's 1,000 a second.

No write path reads a GSI; a test hides every GSI result and the write paths still work
(tests/books/test_dynamodb_faults.py).
"""

from functools import cache
from pathlib import Path
from typing import Any

STACK_TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "stack.yaml"
BOOKS_RESOURCE = "BooksTable"
CHAPTERS_RESOURCE = "ChaptersTable"

BOOKS_BY_CREATED_INDEX = "books-by-created"
CHAPTERS_BY_NUMBER_INDEX = "chapters-by-number"
CHAPTERS_BY_ID_INDEX = "chapters-by-id"
CHAPTERS_BY_STATUS_INDEX = "chapters-by-status"

# Every book item carries this constant partition key for the listing index (see above).
BOOK_LIST_PARTITION = "BOOK"
# Sort keys of the items in a book's collection.
BOOK_ITEM = "book"
HEAD_ITEM = "head"
SLOT_PREFIX = "slot#"


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
        elif isinstance(node, yaml.MappingNode):
            value = loader.construct_mapping(node, deep=True)
        else:
            raise yaml.YAMLError(f"unexpected node {node!r}")
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
    for indexes in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes"):
        if properties.get(indexes):
            definition[indexes] = properties[indexes]
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
