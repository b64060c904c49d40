"""The DynamoDB table of what listeners keep, as the repository uses it: keys, indexes, item
layout and sizes. The one definition of the table is the stack's ``ListeningTable``
(deploy/stack.yaml); the tests and the prod-like local mode create it from there
(voj/dynamodb_tables.py).

One table, key (``pk``, ``sk``): ``pk`` is the listener's user id (a Number), so everything a
listener keeps is one item collection, read by Query and deleted with the account.

- ``sk = "p#<book_id>"``: the listener's progress in a book. Latest and furthest report, each
  as five short attributes (``lt``/``ft`` time, ``lc``/``fc`` chapter id, ``ln``/``fn`` chapter
  number, ``lp``/``fp`` position, ``ld``/``fd`` device), and ``f`` (finished). Times are integer
  microseconds since the epoch (Numbers: 9 bytes, where an ISO string takes 32); chapter ids,
  always UUIDs, are 16-byte Binaries (a Stringed id takes 36). The worst case, a 19-digit user
  id, two different 100-character devices of 4-byte characters and positions of 16 digits, is
  982 bytes, so a report is 1 write unit (tests/listening/test_dynamodb.py measures both, the
  units on DynamoDB Local).
- ``sk = "b#<bookmark_id>"``: a bookmark (chapter, position, note up to 1,000 characters,
  times, version), with ``o`` and ``c``, the sort keys of its two local indexes.
- ``sk = "n#<book_id>"``: how many bookmarks the listener keeps in the book (``n``). Every
  bookmark create and delete changes it in the same transaction, under a condition, so the
  per-book limit is exact however many devices create at once.

Every item carries ``b``, its book id, for ``by-book``.

Indexes:

- ``bookmarks-in-book-order`` (LSI, sort ``o`` = ``<book_id>#<chapter:06>#<position µs:015>#
  <bookmark_id>``): a book's bookmarks in book order, one Query with ``begins_with``. Only
  bookmarks carry ``o``.
- ``bookmarks-by-created`` (LSI, sort ``c`` = ``<created µs:017>#<bookmark_id>``): all the
  listener's bookmarks, newest first. Only bookmarks carry ``c``.
  Local indexes read consistently, so a list right after a write shows it. They bound a
  listener's item collection to 10 GB: ten thousand books and bookmarks of 4 KB each is 40 MB.
- ``by-book`` (GSI, ``b``, KEYS_ONLY): every listener's items of a book, for ``book_forget``.
  Eventually consistent; a forget that misses an item written a moment before is finished by
  calling it again (the book is gone, so nothing more is written for it).

The shelf (progress, newest ``latest`` first) has no index: an index sorted by the latest time
would be rewritten by every report that moves it, a delete and a put, and a report would cost
3 write units instead of 1 (measured on DynamoDB Local). Reports come every few seconds to
minutes while a listener listens; the shelf is read when they open the app. So the shelf
reads all the listener's progress items (a consistent Query on ``p#``, under 1 KB each and
about 250 bytes with a short device name: 1,000 books started are about 250 KB, 64 read units)
and sorts them. The one index a progress
item is in, ``by-book``, is written once, when the progress is created: a listener's first
report in a book costs 2 write units (1 for the item, 1 for its index entry), every later one 1.
"""

from typing import Any

from voj.dynamodb_tables import create_table, table_definition

LISTENING_RESOURCE = "ListeningTable"

BOOKMARKS_IN_BOOK_ORDER_INDEX = "bookmarks-in-book-order"
BOOKMARKS_BY_CREATED_INDEX = "bookmarks-by-created"
BY_BOOK_INDEX = "by-book"

# Sort key prefixes of the items in a listener's collection.
PROGRESS_PREFIX = "p#"
BOOKMARK_PREFIX = "b#"
COUNTER_PREFIX = "n#"


def listening_table_definition(name: str) -> dict[str, Any]:
    """The CreateTable request of the table, as the stack defines it."""
    return table_definition(LISTENING_RESOURCE, name)


def create_listening_table(client: Any, name: str) -> bool:
    """Create the table where it does not exist (voj.dynamodb_tables: idempotent, safe under
    concurrent creators); True if it was made here."""
    return create_table(client, LISTENING_RESOURCE, name)
