"""What listening reads from the catalogue: the books a listener may see and the chapters they
may play. listening depends on books, never the other way round."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from books import services as books_services
from books.domain import Book, BookAccess, Chapter, ChapterStatus, Page
from books.errors import BookNotFound, ChapterNotFound
from books.permissions import user_can_see_book
from books.repository import get_repository
from listening.errors import ChapterNotPlayable, PositionOutOfRange
from listening.repository import get_listening_repository
from voj.item_reads import CheckAlongside

# A list that drops items of books the listener cannot see (deleted or unpublished) reads further
# pages to fill the one it answers, at most this many in all: a shelf of hidden books still
# answers quickly, with a short page and a next link.
LIST_READS = 5


def kept_seconds(position_seconds: float) -> float:
    """A place in a chapter as listening keeps it: to the microsecond. No player reports finer,
    DynamoDB's bookmark order key counts whole microseconds, and a DynamoDB Number cannot be
    below 1e-130 (a JSON number like 1e-200 is a valid, non-negative position). -0.0 is 0.0:
    the stores read it back so, and the answer to a write says what later reads say."""
    return round(float(position_seconds), 6) + 0.0


def user_id_of(user: Any) -> int:
    """The account's id, also for the stateless token user of the hot paths."""
    return int(user.pk)


class CatalogueReads:
    """The catalogue as one request reads it: each book and chapter read once, since a batch of
    offline reports names the same book and chapters many times over."""

    def __init__(self, user: Any, *, account_check: CheckAlongside | None = None) -> None:
        self.user = user
        # The token's account check the view left to the report's first read (ProgressApi):
        # made alongside it, before anything about the book is answered.
        self._account_check = account_check
        self._books: dict[str, Book] = {}
        # What the reports' reads decided (book_naming): the books the user may see.
        self._access: dict[str, BookAccess] = {}
        # None: no ready chapter of that id in the book.
        self._chapters: dict[tuple[str, str], Chapter | None] = {}
        self._last_ready: dict[str, int | None] = {}
        # Books a list named that no longer exist (forget_deleted).
        self.missing: set[str] = set()

    def _checked(self) -> CheckAlongside | None:
        """The account check still to make, now handed to its maker: at most once."""
        check, self._account_check = self._account_check, None
        return check

    def book(self, book_id: str) -> Book:
        """The book, or BookNotFound (404) if it does not exist or the user may not see it."""
        if book_id not in self._books:
            self._books[book_id] = books_services.book_get(user=self.user, book_id=book_id)
        return self._books[book_id]

    def book_naming(self, book_id: str, chapter_id: str) -> BookAccess:
        """Who may see the book, if the user may (BookNotFound, 404, otherwise), with the
        chapter a report names read in the same request (the hot path: one small read, of the
        book's head and the chapter, never the book item); ``chapter`` then checks it without
        reading again. A report needs nothing else of the book."""
        if book_id in self._books:
            return self._books[book_id].access
        if book_id not in self._access:
            access, chapter = books_services.book_access_with_chapter(
                user=self.user,
                book_id=book_id,
                chapter_id=chapter_id,
                account_check=self._checked(),
            )
            self._access[book_id] = access
            self._chapters[(book_id, chapter_id)] = _playable(chapter)
        return self._access[book_id]

    def chapter(self, book: Book | BookAccess, chapter_id: str, position_seconds: float) -> Chapter:
        """A ready chapter of ``book`` with ``position_seconds`` inside it (ChapterNotPlayable,
        PositionOutOfRange: 400). A ready chapter of a visible book is visible to everyone."""
        key = (book.id, chapter_id)
        if key not in self._chapters:
            try:
                found: Chapter | None = get_repository().chapter_get(book.id, chapter_id)
            except ChapterNotFound:
                found = None
            self._chapters[key] = _playable(found)
        chapter = self._chapters[key]
        if chapter is None:
            raise ChapterNotPlayable()
        duration = chapter.duration_seconds
        # A chapter whose duration could not be measured takes any position from 0 on.
        if position_seconds < 0 or (duration is not None and position_seconds > duration):
            raise PositionOutOfRange()
        return chapter

    def last_ready_number(self, book_id: str) -> int | None:
        """The number of the book's last ready chapter (None if none), all its ready chapters
        read: only reports at the very end of a chapter ask."""
        if book_id not in self._last_ready:
            repository = get_repository()
            numbers: list[int] = []
            cursor = None
            while True:
                page = repository.chapter_list(book_id, limit=100, cursor=cursor, ready_only=True)
                numbers += [c.number for c in page.items]
                cursor = page.next_cursor
                if cursor is None:
                    break
            self._last_ready[book_id] = max(numbers, default=None)
        return self._last_ready[book_id]

    def visible_books(self, book_ids: list[str]) -> dict[str, Book]:
        """Those of the books that exist and the user may see, by id, in one read."""
        found = get_repository().book_get_many(book_ids)
        self.missing.update(set(book_ids) - set(found))
        return {i: book for i, book in found.items() if user_can_see_book(self.user, book)}

    def forget_deleted(self) -> None:
        """Finish forgetting the books a list found gone. A book's delete forgets its listeners'
        items through an index that may lag (ListeningRepository.book_forget): what it missed
        turns up here, confirmed gone by a consistent read first, and is forgotten again, so
        nothing of a deleted book stays for good."""
        repository = get_repository()
        for book_id in sorted(self.missing):
            try:
                repository.book_get(book_id)
            except BookNotFound:
                get_listening_repository().book_forget(book_id=book_id)
        self.missing.clear()


def _playable(chapter: Chapter | None) -> Chapter | None:
    return chapter if chapter is not None and chapter.status == ChapterStatus.READY else None


def visible_page[T, R](
    *,
    reads: CatalogueReads,
    read: Callable[[int, str | None], Page[T]],
    limit: int,
    cursor: str | None,
    book_id_of: Callable[[T], str],
    combine: Callable[[T, Book], R],
) -> Page[R]:
    """A page of a listener's list with the items of books they cannot see left out. Each read
    asks for what the page still lacks, so every item read is either kept or dropped and the
    store's cursor stays exact; after LIST_READS reads the page may be short."""
    items: list[R] = []
    for _ in range(LIST_READS):
        page = read(limit - len(items), cursor)
        books = reads.visible_books([book_id_of(item) for item in page.items]) if page.items else {}
        items += [combine(i, books[book_id_of(i)]) for i in page.items if book_id_of(i) in books]
        cursor = page.next_cursor
        if cursor is None or len(items) >= limit:
            break
    reads.forget_deleted()
    return Page(items, cursor)
