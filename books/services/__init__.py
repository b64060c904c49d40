"""Catalogue use cases. Views call these; these hold the rules and call the repository and the
object store. One module for each thing served:

- ``books``: books, for editors, their search and their publication;
- ``chapters``: chapters' records, read and changed;
- ``uploads``: a chapter's audio, from its upload grant to publication;
- ``streams``: the short-lived links that play a chapter;
- ``console``: what only the operator console does (object checks, audited deletes and
  publications);
- ``covers``: a book's cover, from its upload grant to its unsigned URL;
- ``objects``: deleting the stored objects of records that are gone.

Callers import from here (``from books import services``); the modules import one another one
way only (books <- chapters <- uploads, chapters <- streams; console and objects apart).
"""

from books.services.books import (
    book_access_with_chapter,
    book_create,
    book_deletable,
    book_delete,
    book_get,
    book_list,
    book_publish,
    book_search,
    book_unpublish,
    book_update,
)
from books.services.chapters import (
    chapter_delete,
    chapter_find,
    chapter_find_in_book,
    chapter_get,
    chapter_list,
    chapter_update,
    chapters_by_status,
)
from books.services.console import (
    book_check,
    book_delete_by_operator,
    book_publish_by_operator,
    book_unpublish_by_operator,
    chapter_check,
)
from books.services.covers import (
    book_cover_complete,
    book_cover_delete,
    book_cover_grant,
    book_cover_url,
)
from books.services.streams import StreamLink, chapter_preview_url, chapter_stream
from books.services.uploads import chapter_complete, chapter_create, chapter_upload_renew

__all__ = [
    "StreamLink",
    "book_access_with_chapter",
    "book_check",
    "book_cover_complete",
    "book_cover_delete",
    "book_cover_grant",
    "book_cover_url",
    "book_create",
    "book_deletable",
    "book_delete",
    "book_delete_by_operator",
    "book_get",
    "book_list",
    "book_publish",
    "book_publish_by_operator",
    "book_search",
    "book_unpublish",
    "book_unpublish_by_operator",
    "book_update",
    "chapter_check",
    "chapter_complete",
    "chapter_create",
    "chapter_delete",
    "chapter_find",
    "chapter_find_in_book",
    "chapter_get",
    "chapter_list",
    "chapter_preview_url",
    "chapter_stream",
    "chapter_update",
    "chapter_upload_renew",
    "chapters_by_status",
]
