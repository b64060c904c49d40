"""Search on DynamoDB: term items in the books table, one exact-key Query a round, and every
candidate checked against its book read consistently (docs/search.md).

A book is found by terms (books/search_text.py ``terms``): the first syllable and the
two-syllable pieces of each Hangul word, the prefixes of every other word up to 10 characters.
Each (term, book) is one small item in the books table:

    book_id = "search#<term>"    sk = "<rank>#<inverted created_at>#<book id>"    version

``rank`` is 0 when the title has the term, 1 when only the author does; the inverted creation
time puts the newest first. So a term's partition lists its books titles first, then newest
first, in key order. Every book a query matches is in the partition of each of the query's
terms (``query_terms``); a search reads one: the only one, or of several the smallest, counted
by a small COUNT Query of each of the longest three (the rarest word's partition may be tiny
where the longest is every book). From its cursor, which names the partition, a page at a time.

Term items are written outside the book's transaction, so none is trusted: each page reads the
candidates' book and head in one consistent BatchGetItem and keeps a book only if it exists,
is not being deleted, is visible to the caller, still matches the whole query and still ranks
as its item says. A book renamed, unpublished or deleted stops matching at once. Writes put the
new terms before the book changes and delete the obsolete ones after, each delete conditional
on the version it replaces (a later rename back keeps its items): a crash leaves a stale item,
which the check drops, never a missing one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from books.domain import Book, BookStatus, BookVisibility, Page
from books.errors import InvalidCursor
from books.repository.cursor import encode_cursor
from books.repository.tables import BOOK_ITEM, HEAD_ITEM, SEARCH_PARTITION_PREFIX
from books.search_text import (
    Word,
    matches,
    pattern,
    query_terms,
    query_words,
    representation,
    term_rank,
    terms,
)

from .calls import BATCH_GET_LIMIT, Calls, Cancelled
from .items import book_key, head_key, item_to_book
from .pages import Item, start_key

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INVERTED_DIGITS = 17
_KEYS = ("book_id", "sk")
# A page Queries its term at most this many times (each followed by one BatchGetItem of the
# candidates); a sparse match returns what it found with a cursor, like a filtered list.
SEARCH_ROUNDS = 4
# Candidates a round checks at most: their book and head, 100 keys, are one BatchGetItem.
_CANDIDATES = BATCH_GET_LIMIT // 2
# Items a filtered round reads: small items (a few hundred bytes), about 6 read units.
_FILTERED = 200
_TRANSACTION_LIMIT = 100
# A query of several terms counts the items of its longest few, this many at most: the
# smallest partition is read. A partition of more than _PROBE_ITEMS counts as large.
_PROBED_TERMS = 3
_PROBE_ITEMS = 100


def _inverted(created_at: datetime) -> str:
    micros = (created_at - _EPOCH) // timedelta(microseconds=1)
    return f"{10**_INVERTED_DIGITS - 1 - micros:0{_INVERTED_DIGITS}d}"


def term_keys(book: Book) -> dict[tuple[str, str], int]:
    """The book's term items' keys (partition, sort key), each with its rank."""
    in_title = terms(book.title)
    found = in_title | terms(book.author)
    keys = {}
    for term in found:
        rank_ = 0 if term in in_title else 1
        keys[
            (f"{SEARCH_PARTITION_PREFIX}{term}", f"{rank_}#{_inverted(book.created_at)}#{book.id}")
        ] = rank_
    return keys


def _key(partition: str, sort_key: str) -> Item:
    return {"book_id": {"S": partition}, "sk": {"S": sort_key}}


def write_terms(calls: Calls, table: str, book: Book) -> None:
    """Put the book's term items at its version: before the book itself is written. Each
    carries the book's words (``words``), which a query of several words filters on."""
    calls.batch_write(table, [{"PutRequest": {"Item": item}} for item in term_items(book)])


def term_items(book: Book) -> list[Item]:
    values = {"version": {"N": str(book.version)}, "words": {"S": book_words(book)}}
    return [{**_key(*key), **values} for key in sorted(term_keys(book))]


def book_words(book: Book) -> str:
    """Title and author as ``search_text.representation`` writes them, a line apart: a word
    pattern holds no newline, so none matches across the two."""
    return f"{representation(book.title)}\n{representation(book.author)}"


def delete_terms(calls: Calls, table: str, before: Book, after: Book | None) -> None:
    """Delete the term items ``before`` had and ``after`` has not (all of them for a deleted
    book), each only if no write at a later version than ``before``'s has put it again."""
    keep = term_keys(after) if after is not None else {}
    obsolete = sorted(set(term_keys(before)) - set(keep))
    for start in range(0, len(obsolete), _TRANSACTION_LIMIT):
        pending = obsolete[start : start + _TRANSACTION_LIMIT]
        while pending:
            try:
                calls.transact([_conditional_delete(table, key, before.version) for key in pending])
                break
            except Cancelled as cancelled:
                # Those put again by a later write stay; the others are deleted next time.
                pending = [key for i, key in enumerate(pending) if not cancelled.failed(i)]


def _conditional_delete(table: str, key: tuple[str, str], version: int) -> dict[str, Any]:
    return {
        "Delete": {
            "TableName": table,
            "Key": _key(*key),
            "ConditionExpression": "attribute_not_exists(sk) OR version <= :v",
            "ExpressionAttributeValues": {":v": {"N": str(version)}},
        }
    }


def search_page(
    calls: Calls,
    table: str,
    *,
    query: str,
    visible: BookVisibility,
    limit: int,
    cursor: str | None,
) -> Page[Book]:
    words = query_words(query)
    if not words:
        return Page([], None)
    partitions = [f"{SEARCH_PARTITION_PREFIX}{term}" for term in query_terms(words)]
    kind = "search:" + " ".join(word.text for word in words)
    start = start_key(kind, cursor, _KEYS)
    if start is None:
        partition = _smallest(calls, table, partitions)
    elif start["book_id"].get("S") in partitions:
        partition = start["book_id"]["S"]
    else:
        raise InvalidCursor()
    term = partition.removeprefix(SEARCH_PARTITION_PREFIX)
    check = _Check(calls, table, words, term, visible)
    request = _query(table, partition, words, term)
    found: list[tuple[Item, Book]] = []
    for round_ in range(SEARCH_ROUNDS):
        # Limit counts the items read before the filter: a filtered round reads many small
        # ones at once. Otherwise a round asks for what the page lacks, twice as much after a
        # round whose candidates fell through.
        wanted = limit + 1 - len(found)
        filtered = "FilterExpression" in request
        request["Limit"] = _FILTERED if filtered else min(_CANDIDATES, wanted * 2**round_)
        if start:
            request["ExclusiveStartKey"] = start
        response = calls.call("query", **request)
        items = response.get("Items", [])
        for chunk_start in range(0, len(items), _CANDIDATES):
            found += check(items[chunk_start : chunk_start + _CANDIDATES])
            if len(found) > limit:
                found = found[:limit]
                return _page(found, _cursor(kind, found[-1][0]))
        start = response.get("LastEvaluatedKey")
        if not start:
            return _page(found, None)
    # As far as the rounds read: the next page starts there.
    return _page(found, _cursor(kind, start or {}))


def _query(table: str, partition: str, words: list[Word], term: str) -> dict[str, Any]:
    """The Query of the term's partition. Where the term alone does not decide (other words, or
    a word longer than its term), a filter on the items' copy of the book's words drops most
    candidates before they cost a consistent read of their book."""
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "book_id = :pk",
        "ExpressionAttributeValues": {":pk": {"S": partition}},
    }
    # A word that is its own term is decided by the partition itself.
    needles = sorted({pattern(word) for word in words if word.text != term})
    if needles:
        request["FilterExpression"] = " AND ".join(
            f"contains(#words, :w{i})" for i in range(len(needles))
        )
        request["ExpressionAttributeNames"] = {"#words": "words"}
        for i, needle in enumerate(needles):
            request["ExpressionAttributeValues"][f":w{i}"] = {"S": needle}
    return request


def _smallest(calls: Calls, table: str, partitions: list[str]) -> str:
    """The partition with the fewest items among the first few (longest terms first), counted
    up to _PROBE_ITEMS each: a small COUNT Query each, for a query of several terms only."""
    if len(partitions) == 1:
        return partitions[0]
    sizes = []
    for partition in partitions[:_PROBED_TERMS]:
        response = calls.call(
            "query",
            TableName=table,
            KeyConditionExpression="book_id = :pk",
            ExpressionAttributeValues={":pk": {"S": partition}},
            Select="COUNT",
            Limit=_PROBE_ITEMS,
        )
        size = response.get("Count", 0) if "LastEvaluatedKey" not in response else _PROBE_ITEMS
        sizes.append((size, partition))
        if size == 0:  # nothing can match: no need to count the others
            break
    return min(sizes, key=lambda sized: sized[0])[1]


def _cursor(kind: str, key: Item) -> str:
    return encode_cursor(kind, {"key": {name: key[name] for name in _KEYS}})


def _page(found: list[tuple[Item, Book]], cursor: str | None) -> Page[Book]:
    return Page([book for _, book in found], cursor)


class _Check:
    """Keeps the candidates whose book, read now, is visible and matches at the item's rank."""

    def __init__(
        self, calls: Calls, table: str, words: list[Word], term: str, visible: BookVisibility
    ) -> None:
        self.calls, self.table, self.words = calls, table, words
        self.term, self.visible = term, visible

    def __call__(self, items: list[Item]) -> list[tuple[Item, Book]]:
        if not items:
            return []
        ids = list(dict.fromkeys(item["sk"]["S"].rsplit("#", 1)[1] for item in items))
        keys = [key for book_id in ids for key in (book_key(book_id), head_key(book_id))]
        read = {
            (i["book_id"]["S"], i["sk"]["S"]): i
            for i in self.calls.batch_get(self.table, keys, consistent=True)
        }
        kept = []
        for item in items:
            sort_key = item["sk"]["S"]
            book_id = sort_key.rsplit("#", 1)[1]
            book_item, head = read.get((book_id, BOOK_ITEM)), read.get((book_id, HEAD_ITEM))
            if book_item is None or head is None or "deleting" in head:
                continue
            book = item_to_book(book_item, head=head)
            if (
                _visible(book, self.visible)
                and matches(self.words, title=book.title, author=book.author)
                and term_rank(self.term, title=book.title) == int(sort_key[0])
            ):
                kept.append((item, book))
        return kept


def _visible(book: Book, visible: BookVisibility) -> bool:
    if visible.everything or book.status == BookStatus.PUBLISHED:
        return True
    return visible.drafts_of is not None and book.owner == visible.drafts_of
