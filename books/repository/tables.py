"""The DynamoDB tables as the repository uses them: keys, indexes, what is consistent and why.

The one definition of the tables is the CloudFormation stack (deploy/stack.yaml); the tests and
the prod-like local mode create their tables from it (voj/dynamodb_tables.py), so what runs in
moto and DynamoDB Local is what deploys. The repository only needs the names below.

Books table, key (``book_id``, ``sk``): one item collection per book.

- ``sk = "book"``: the book itself (title, author, description up to 5,000 characters,
  language, owner, times, ``status``, ``published_at``, ``version``, and a pending cover upload's
  ``cover_upload_key``). Only this item carries ``list_pk``/``list_sk`` and
  ``visible_pk``/``visible_sk``, so only it is in the two listing indexes. It is written when the
  book is created, edited or deleted, never when a chapter changes: a 15 KB item and its index
  copy are not rewritten per chapter.
- ``sk = "head"``: a small item (well under 1 KB) with ``chapter_count``, ``ready_count`` (the
  ready chapters, what a listener is told a book has), a copy of the book's ``status`` and of
  its ``owner``, the book's ``cover_key`` (all written in one transaction with the book item,
  and read by every list with the heads) and, once a delete has begun, ``deleting``. Every
  chapter transaction updates or condition-checks the head, not the book: DynamoDB charges a
  transaction item by the size of the item it touches, so a chapter write costs the same
  whatever the book's description (docs/performance.md). The status and owner copies are all
  that decides who may see the book, so the listener's hot paths read the head alone
  (dynamodb/access.py): 1 read unit, not the book item's 4 for a 15 KB description. A head
  written before it carried the owner copy is read with its book item instead (a request
  more, the same answer) until ``manage.py backfill_publishing`` copies the owner (an owner
  never changes, so the copy never goes stale).
- ``sk = "slot#0000000007"``: one small item per chapter number, holding the chapter's id. It is
  written in the same transaction as the chapter, with ``attribute_not_exists``, so numbers stay
  unique within a book under concurrent creates and renumbers.

``book_get`` is one strongly consistent Query of the collection's ``book`` and ``head``;
``chapter_last_number`` one of its last slot. ``book_access`` (stream-url by the chapter's id)
is one strongly consistent GetItem of the head; ``book_access_with_chapter`` one BatchGetItem of
the head and the chapter: eventually consistent for a progress report (dynamodb/access.py says
why), the head strongly consistent for a stream-url named with its book.

``books-by-created`` (GSI, eventually consistent): ``list_pk`` is one constant and ``list_sk`` the
creation time and id, so one Query lists the catalogue newest first. One constant partition is a
hot key only under heavy writes; books are written rarely (never per chapter, above), and an index
partition takes 1,000 write units a second. Reads of the first page are the hotter side: a GSI
partition serves 3,000 read units a second, about 15 full pages of maximal books; the API puts
a cache in front before that matters. The listing reads chapter counts from the heads with one
BatchGetItem.

``books-by-visibility`` (GSI, eventually consistent): ``visible_pk`` is ``PUBLISHED`` for a
published book and ``DRAFTS#<owner>`` for a draft, ``visible_sk`` the same as ``list_sk``. A
listener's list is one Query of the published partition (plus the heads' BatchGetItem), whatever
the drafts; an editor's is that and one Query of their own drafts' partition, merged by sort key
(dynamodb/listing.py): no other editor's draft is read, as a filter over ``books-by-created``
would. Publishing or unpublishing moves the book item between partitions with one conditional
update (``version`` guarded, like an edit). A drafts partition holds one editor's drafts: small.

- ``book_id = "search#<term>"``: not a book but a search term's partition, one small item per
  book found by the term, sorted titles first then newest first (dynamodb/search.py). In no
  index; written beside the book, never in its transaction, and checked against it on read.

Books written before publishing existed have no ``status`` and no ``visible_*`` keys: they read
as drafts (hidden rather than exposed) and are in no visibility partition until
``manage.py backfill_publishing`` (an operator's Scan, never an API path) gives them the
migration's rule: published since their creation if a chapter is ready, else drafts.

Chapters table, key (``book_id``, ``chapter_id``): every write path knows both from the URL, so
it starts from one strongly consistent GetItem on the table; a renumber changes an attribute,
not the key.

- ``chapters-by-number`` (LSI, ``book_id`` + ``number``): a book's chapters in order. A local
  index supports ``ConsistentRead``, so a list right after a write shows it.
- ``chapters-by-id`` (GSI, ``chapter_id``): stream-url by the chapter's id alone, and the
  console's lookup by id. Eventually consistent: a read path only. stream-url then reads the
  chapter's book's head (``book_access``): whether a listener may play the chapter depends on
  the book's status and owner, so that stream-url costs two requests; the player names the book
  too and costs one (``book_access_with_chapter``). Copying the status onto every chapter would
  save that read but make a publish one write per chapter, racing with the completions that
  write the same chapters.
- ``chapters-by-status`` (GSI, ``status`` + ``updated_at``): the console's status list, newest
  first. Eventually consistent: a read path only. Its partitions are the four statuses; each
  chapter write puts one small item (about 1 write unit) there, at the pace editors upload, far
  below a partition's 1,000 a second.

No write path reads a GSI; a test hides every GSI result and the write paths still work
(tests/books/test_dynamodb_faults.py).
"""

from typing import Any

from voj.dynamodb_tables import create_tables as create_stack_tables
from voj.dynamodb_tables import table_definition

BOOKS_RESOURCE = "BooksTable"
CHAPTERS_RESOURCE = "ChaptersTable"

BOOKS_BY_CREATED_INDEX = "books-by-created"
BOOKS_BY_VISIBILITY_INDEX = "books-by-visibility"
CHAPTERS_BY_NUMBER_INDEX = "chapters-by-number"
CHAPTERS_BY_ID_INDEX = "chapters-by-id"
CHAPTERS_BY_STATUS_INDEX = "chapters-by-status"

# Every book item carries this constant partition key for the listing index (see above).
BOOK_LIST_PARTITION = "BOOK"
# The partitions of ``books-by-visibility``: every published book, and each owner's drafts.
PUBLISHED_PARTITION = "PUBLISHED"
DRAFTS_PARTITION_PREFIX = "DRAFTS#"
# Sort keys of the items in a book's collection.
BOOK_ITEM = "book"
HEAD_ITEM = "head"
SLOT_PREFIX = "slot#"
# The partitions of search terms (dynamodb/search.py): never a book id, which is a UUID.
SEARCH_PARTITION_PREFIX = "search#"


def table_definitions(books: str, chapters: str) -> list[dict[str, Any]]:
    """The CreateTable requests of the catalogue's two tables, as the stack defines them."""
    return [table_definition(BOOKS_RESOURCE, books), table_definition(CHAPTERS_RESOURCE, chapters)]


def create_tables(client: Any, *, books: str, chapters: str) -> dict[str, bool]:
    """Create the catalogue's tables where they do not exist (voj.dynamodb_tables: idempotent,
    safe under concurrent creators). Returns, by table name, whether it was created here."""
    return create_stack_tables(client, {BOOKS_RESOURCE: books, CHAPTERS_RESOURCE: chapters})
