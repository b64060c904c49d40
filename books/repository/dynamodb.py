"""The DynamoDB backend (production).

Tables (books/repository/tables.py):
- Books: ``book_id``; the ``books-by-created`` index lists the catalogue newest first.
- AudioChapters: ``book_id`` + numeric ``number``, so one Query lists a book's chapters in order
  and the key itself keeps chapter numbers unique; ``chapters-by-id`` finds a chapter by id in
  one request; ``chapters-by-status`` serves the operator console.

Every write is conditional and every failed condition becomes a domain error. Nothing here
scans a table.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from books.domain import Book, Chapter, ChapterStatus, Page
from books.errors import (
    BookNotFound,
    ChapterNotFound,
    ChapterNumberTaken,
    InvalidCursor,
    RepositoryUnavailable,
    VersionConflict,
)

from .cursor import decode_cursor, encode_cursor
from .tables import (
    BOOK_LIST_PARTITION,
    BOOKS_BY_CREATED_INDEX,
    CHAPTERS_BY_ID_INDEX,
    CHAPTERS_BY_STATUS_INDEX,
)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

# Named condition expressions.
_BOOK_IS_NEW = "attribute_not_exists(book_id)"
_BOOK_EXISTS = "attribute_exists(book_id)"
_CHAPTER_SLOT_FREE = "attribute_not_exists(book_id)"
# The item at this key is still this chapter, at the version the caller read.
_CHAPTER_AS_READ = "chapter_id = :id AND version = :expected"

_UNAVAILABLE_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "LimitExceededException",
}
_BATCH_WRITE_LIMIT = 25


# --- keys ------------------------------------------------------------------------------------


def book_key(book_id: str) -> dict[str, Any]:
    return {"book_id": {"S": book_id}}


def chapter_key(book_id: str, number: int) -> dict[str, Any]:
    return {"book_id": {"S": book_id}, "number": {"N": str(number)}}


def book_list_sort_key(book: Book) -> str:
    # ISO timestamps in UTC sort lexically in time order; the id breaks ties.
    return f"{book.created_at.isoformat()}#{book.id}"


# --- item <-> dataclass ----------------------------------------------------------------------


def _serialize(values: dict[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in values.items()}


def _deserialize(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def _search_text(book: Book) -> str:
    return f"{book.title}\n{book.author}".casefold()


def book_to_item(book: Book) -> dict[str, Any]:
    return _serialize(
        {
            "book_id": book.id,
            "title": book.title,
            "author": book.author,
            "description": book.description,
            "language": book.language,
            "owner": book.owner,
            "created_at": book.created_at.isoformat(),
            "updated_at": book.updated_at.isoformat(),
            "chapter_count": book.chapter_count,
            "version": book.version,
            "list_pk": BOOK_LIST_PARTITION,
            "list_sk": book_list_sort_key(book),
            "search_text": _search_text(book),
        }
    )


def item_to_book(item: dict[str, Any]) -> Book:
    v = _deserialize(item)
    return Book(
        id=v["book_id"],
        title=v["title"],
        author=v["author"],
        description=v.get("description", ""),
        language=v.get("language", ""),
        owner=int(v["owner"]),
        created_at=datetime.fromisoformat(v["created_at"]),
        updated_at=datetime.fromisoformat(v["updated_at"]),
        chapter_count=int(v.get("chapter_count", 0)),
        version=int(v["version"]),
    )


def chapter_to_item(chapter: Chapter) -> dict[str, Any]:
    values: dict[str, Any] = {
        "book_id": chapter.book_id,
        "number": chapter.number,
        "chapter_id": chapter.id,
        "title": chapter.title,
        "status": str(chapter.status),
        "failure_reason": chapter.failure_reason,
        "object_key": chapter.object_key,
        "original_filename": chapter.original_filename,
        "content_type": chapter.content_type,
        "size_bytes": chapter.size_bytes,
        "revision": chapter.revision,
        "object_etag": chapter.object_etag,
        "created_at": chapter.created_at.isoformat(),
        "updated_at": chapter.updated_at.isoformat(),
        "version": chapter.version,
    }
    if chapter.duration_seconds is not None:
        values["duration_seconds"] = Decimal(str(round(chapter.duration_seconds, 3)))
    if chapter.faststart is not None:
        values["faststart"] = chapter.faststart
    return _serialize(values)


def item_to_chapter(item: dict[str, Any]) -> Chapter:
    v = _deserialize(item)
    duration = v.get("duration_seconds")
    return Chapter(
        id=v["chapter_id"],
        book_id=v["book_id"],
        number=int(v["number"]),
        title=v["title"],
        status=ChapterStatus(v["status"]),
        failure_reason=v.get("failure_reason", ""),
        object_key=v.get("object_key", ""),
        original_filename=v.get("original_filename", ""),
        content_type=v.get("content_type", ""),
        size_bytes=int(v.get("size_bytes", 0)),
        duration_seconds=float(duration) if duration is not None else None,
        faststart=v.get("faststart"),
        revision=v.get("revision", ""),
        object_etag=v.get("object_etag", ""),
        created_at=datetime.fromisoformat(v["created_at"]),
        updated_at=datetime.fromisoformat(v["updated_at"]),
        version=int(v["version"]),
    )


# --- errors ----------------------------------------------------------------------------------


def _error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def _cancellation_codes(error: ClientError) -> tuple[str, str]:
    """The reason codes of a cancelled two-item transaction, in item order."""
    reasons = error.response.get("CancellationReasons") or []
    codes = [reason.get("Code", "None") for reason in reasons] + ["None", "None"]
    return codes[0], codes[1]


class _Calls:
    """Turns transport failures and throttling (after botocore's own retries) into
    RepositoryUnavailable, so the API answers 503 instead of 500."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(**kwargs: Any) -> Any:
            try:
                return method(**kwargs)
            except ClientError as error:
                if _error_code(error) in _UNAVAILABLE_CODES:
                    raise RepositoryUnavailable() from error
                raise
            except BotoCoreError as error:
                raise RepositoryUnavailable() from error

        return call


# --- repository ------------------------------------------------------------------------------


class DynamoDBRepository:
    def __init__(self, *, client: Any, books_table: str, chapters_table: str) -> None:
        self._db = _Calls(client)
        self.books_table = books_table
        self.chapters_table = chapters_table

    # books

    def book_create(self, book: Book) -> Book:
        try:
            self._db.put_item(
                TableName=self.books_table,
                Item=book_to_item(book),
                ConditionExpression=_BOOK_IS_NEW,
            )
        except ClientError as error:
            if _error_code(error) == "ConditionalCheckFailedException":
                raise VersionConflict("A book with this id already exists.") from error
            raise
        return book

    def book_get(self, book_id: str) -> Book:
        response = self._db.get_item(
            TableName=self.books_table, Key=book_key(book_id), ConsistentRead=True
        )
        if "Item" not in response:
            raise BookNotFound()
        return item_to_book(response["Item"])

    def book_list(self, *, limit: int, cursor: str | None = None) -> Page[Book]:
        return self._book_query(kind="books", limit=limit, cursor=cursor)

    def book_search(self, *, query: str, limit: int, cursor: str | None = None) -> Page[Book]:
        # DynamoDB has no case-insensitive contains(); the operator console searches the
        # listing index page by page with a filter on lower-cased copies of title and author.
        return self._book_query(
            kind=f"books?{query.casefold()}",
            limit=limit,
            cursor=cursor,
            search=query.casefold(),
        )

    def _book_query(
        self, *, kind: str, limit: int, cursor: str | None, search: str | None = None
    ) -> Page[Book]:
        params: dict[str, Any] = {
            "TableName": self.books_table,
            "IndexName": BOOKS_BY_CREATED_INDEX,
            "KeyConditionExpression": "list_pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": BOOK_LIST_PARTITION}},
            "ScanIndexForward": False,
            "Limit": limit + 1,
        }
        if search:
            params["FilterExpression"] = "contains(search_text, :q)"
            params["ExpressionAttributeValues"][":q"] = {"S": search}
        start = self._start_key(kind, cursor, ("book_id", "list_pk", "list_sk"))
        books: list[Book] = []
        while True:
            if start:
                params["ExclusiveStartKey"] = start
            response = self._db.query(**params)
            books.extend(item_to_book(item) for item in response.get("Items", []))
            start = response.get("LastEvaluatedKey")
            # An unfiltered listing is one request; a filtered one reads on until the page is
            # full or the index is exhausted.
            if len(books) > limit or not start or not search:
                break
        return self._page(
            books[: limit + 1],
            limit,
            kind,
            lambda b: {
                "book_id": {"S": b.id},
                "list_pk": {"S": BOOK_LIST_PARTITION},
                "list_sk": {"S": book_list_sort_key(b)},
            },
        )

    def book_update(self, book: Book, *, expected_version: int) -> Book:
        try:
            response = self._db.update_item(
                TableName=self.books_table,
                Key=book_key(book.id),
                UpdateExpression=(
                    "SET title = :title, author = :author, description = :description, "
                    "#language = :language, updated_at = :updated_at, version = :next, "
                    "search_text = :search"
                ),
                ConditionExpression="attribute_exists(book_id) AND version = :expected",
                ExpressionAttributeNames={"#language": "language"},
                ExpressionAttributeValues=_serialize(
                    {
                        ":title": book.title,
                        ":author": book.author,
                        ":description": book.description,
                        ":language": book.language,
                        ":updated_at": book.updated_at.isoformat(),
                        ":next": expected_version + 1,
                        ":expected": expected_version,
                        ":search": _search_text(book),
                    }
                ),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if _error_code(error) == "ConditionalCheckFailedException":
                if "Item" in error.response:
                    raise VersionConflict() from error
                raise BookNotFound() from error
            raise
        return item_to_book(response["Attributes"])

    def book_delete(self, book_id: str) -> list[Chapter]:
        # The book goes first: chapter creation is conditional on the book existing, so no
        # chapter can slip in while the old ones are being removed.
        try:
            self._db.delete_item(
                TableName=self.books_table,
                Key=book_key(book_id),
                ConditionExpression=_BOOK_EXISTS,
            )
        except ClientError as error:
            if _error_code(error) == "ConditionalCheckFailedException":
                raise BookNotFound() from error
            raise
        chapters = self._all_chapters(book_id)
        requests = [{"DeleteRequest": {"Key": chapter_key(c.book_id, c.number)}} for c in chapters]
        for start in range(0, len(requests), _BATCH_WRITE_LIMIT):
            pending = {self.chapters_table: requests[start : start + _BATCH_WRITE_LIMIT]}
            while pending:
                response = self._db.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
        return chapters

    # chapters

    def chapter_create(self, chapter: Chapter) -> Chapter:
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.chapters_table,
                            "Item": chapter_to_item(chapter),
                            "ConditionExpression": _CHAPTER_SLOT_FREE,
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.books_table,
                            "Key": book_key(chapter.book_id),
                            "UpdateExpression": "ADD chapter_count :one",
                            "ConditionExpression": _BOOK_EXISTS,
                            "ExpressionAttributeValues": {":one": {"N": "1"}},
                        }
                    },
                ]
            )
        except ClientError as error:
            if _error_code(error) == "TransactionCanceledException":
                slot, book = _cancellation_codes(error)
                if book == "ConditionalCheckFailed":
                    raise BookNotFound() from error
                if slot == "ConditionalCheckFailed":
                    raise ChapterNumberTaken() from error
                # TransactionConflict: a concurrent transaction touched the same items.
                raise VersionConflict() from error
            raise
        return chapter

    def chapter_get(self, chapter_id: str, *, consistent: bool = False) -> Chapter:
        response = self._db.query(
            TableName=self.chapters_table,
            IndexName=CHAPTERS_BY_ID_INDEX,
            KeyConditionExpression="chapter_id = :id",
            ExpressionAttributeValues={":id": {"S": chapter_id}},
            Limit=1,
        )
        items = response.get("Items", [])
        if not items:
            raise ChapterNotFound()
        chapter = item_to_chapter(items[0])
        if not consistent:
            return chapter
        # Indexes are eventually consistent; a caller about to write reads the base item.
        fresh = self._db.get_item(
            TableName=self.chapters_table,
            Key=chapter_key(chapter.book_id, chapter.number),
            ConsistentRead=True,
        ).get("Item")
        if not fresh or fresh["chapter_id"]["S"] != chapter_id:
            raise ChapterNotFound()
        return item_to_chapter(fresh)

    def chapter_list(self, book_id: str, *, limit: int, cursor: str | None = None) -> Page[Chapter]:
        kind = f"chapters:{book_id}"
        params: dict[str, Any] = {
            "TableName": self.chapters_table,
            "KeyConditionExpression": "book_id = :b",
            "ExpressionAttributeValues": {":b": {"S": book_id}},
            "ConsistentRead": True,
            "Limit": limit + 1,
        }
        start = self._start_key(kind, cursor, ("book_id", "number"))
        if start:
            params["ExclusiveStartKey"] = start
        response = self._db.query(**params)
        chapters = [item_to_chapter(item) for item in response.get("Items", [])]
        return self._page(chapters, limit, kind, lambda c: chapter_key(c.book_id, c.number))

    def chapter_last_number(self, book_id: str) -> int:
        response = self._db.query(
            TableName=self.chapters_table,
            KeyConditionExpression="book_id = :b",
            ExpressionAttributeValues={":b": {"S": book_id}},
            ProjectionExpression="#n",
            ExpressionAttributeNames={"#n": "number"},
            ScanIndexForward=False,
            ConsistentRead=True,
            Limit=1,
        )
        items = response.get("Items", [])
        return int(items[0]["number"]["N"]) if items else 0

    def chapter_update(self, chapter: Chapter, *, previous: Chapter) -> Chapter:
        stored = chapter.replace(version=previous.version + 1)
        as_read = _serialize({":id": previous.id, ":expected": previous.version})
        if previous.number == chapter.number:
            try:
                self._db.put_item(
                    TableName=self.chapters_table,
                    Item=chapter_to_item(stored),
                    ConditionExpression=_CHAPTER_AS_READ,
                    ExpressionAttributeValues=as_read,
                )
            except ClientError as error:
                if _error_code(error) == "ConditionalCheckFailedException":
                    raise VersionConflict() from error
                raise
            return stored
        # A new number is a new key: move the item atomically.
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.chapters_table,
                            "Item": chapter_to_item(stored),
                            "ConditionExpression": _CHAPTER_SLOT_FREE,
                        }
                    },
                    {
                        "Delete": {
                            "TableName": self.chapters_table,
                            "Key": chapter_key(previous.book_id, previous.number),
                            "ConditionExpression": _CHAPTER_AS_READ,
                            "ExpressionAttributeValues": as_read,
                        }
                    },
                ]
            )
        except ClientError as error:
            if _error_code(error) == "TransactionCanceledException":
                slot, _ = _cancellation_codes(error)
                if slot == "ConditionalCheckFailed":
                    raise ChapterNumberTaken() from error
                raise VersionConflict() from error
            raise
        return stored

    def chapter_delete(self, chapter: Chapter) -> None:
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self.chapters_table,
                            "Key": chapter_key(chapter.book_id, chapter.number),
                            "ConditionExpression": _CHAPTER_AS_READ,
                            "ExpressionAttributeValues": _serialize(
                                {":id": chapter.id, ":expected": chapter.version}
                            ),
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.books_table,
                            "Key": book_key(chapter.book_id),
                            "UpdateExpression": "ADD chapter_count :minus_one",
                            "ConditionExpression": _BOOK_EXISTS,
                            "ExpressionAttributeValues": {":minus_one": {"N": "-1"}},
                        }
                    },
                ]
            )
        except ClientError as error:
            if _error_code(error) == "TransactionCanceledException":
                chapter_reason, book_reason = _cancellation_codes(error)
                if chapter_reason == "ConditionalCheckFailed":
                    raise VersionConflict() from error
                if book_reason == "ConditionalCheckFailed":
                    raise BookNotFound() from error
                raise VersionConflict() from error
            raise

    def chapters_by_status(
        self, status: ChapterStatus, *, limit: int, cursor: str | None = None
    ) -> Page[Chapter]:
        kind = f"status:{status}"
        params: dict[str, Any] = {
            "TableName": self.chapters_table,
            "IndexName": CHAPTERS_BY_STATUS_INDEX,
            "KeyConditionExpression": "#s = :s",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":s": {"S": str(status)}},
            "ScanIndexForward": False,
            "Limit": limit + 1,
        }
        start = self._start_key(kind, cursor, ("book_id", "number", "status", "updated_at"))
        if start:
            params["ExclusiveStartKey"] = start
        response = self._db.query(**params)
        chapters = [item_to_chapter(item) for item in response.get("Items", [])]
        return self._page(
            chapters,
            limit,
            kind,
            lambda c: {
                **chapter_key(c.book_id, c.number),
                "status": {"S": str(c.status)},
                "updated_at": {"S": c.updated_at.isoformat()},
            },
        )

    def ping(self) -> None:
        self._db.get_item(TableName=self.books_table, Key=book_key("__health__"))
        self._db.get_item(TableName=self.chapters_table, Key=chapter_key("__health__", 0))

    # helpers

    def _all_chapters(self, book_id: str) -> list[Chapter]:
        chapters: list[Chapter] = []
        params: dict[str, Any] = {
            "TableName": self.chapters_table,
            "KeyConditionExpression": "book_id = :b",
            "ExpressionAttributeValues": {":b": {"S": book_id}},
            "ConsistentRead": True,
        }
        while True:
            response = self._db.query(**params)
            chapters.extend(item_to_chapter(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return chapters
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    @staticmethod
    def _start_key(kind: str, cursor: str | None, names: tuple[str, ...]) -> dict | None:
        if not cursor:
            return None
        position = decode_cursor(kind, cursor)
        key = position.get("key")
        if not isinstance(key, dict) or set(key) != set(names):
            raise InvalidCursor()
        return key

    @staticmethod
    def _page(items: list, limit: int, kind: str, key_of) -> Page:
        if len(items) <= limit:
            return Page(items, None)
        items = items[:limit]
        return Page(items, encode_cursor(kind, {"key": key_of(items[-1])}))
