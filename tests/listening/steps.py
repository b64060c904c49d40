"""Steps of the listener's flows, shared by the listening API tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import Api
from tests.helpers import book_create, book_publish, chapter_create, ready_chapter

# The duration of the fixture ready_chapter uploads (tests/books/test_api_completion.py).
DURATION = 2.046


def pending_chapter(api: Api, book: dict, **fields) -> dict:
    return chapter_create(api, book, size=10, **fields)["chapter"]


def listenable_book(api: Api, *, chapters: int = 1, title: str = "Book") -> tuple[dict, list]:
    """A published book with ``chapters`` ready chapters: listeners can see it."""
    book = book_create(api, title)
    ready = [ready_chapter(api, book) for _ in range(chapters)]
    book_publish(api, book["id"])
    return book, ready


def book_unpublish(api: Api, book: dict) -> None:
    response = api.post(f"/api/v1/books/{book['id']}/unpublish")
    assert response.status_code == 200, response.content


def when(**delta: float) -> str:
    """An RFC 3339 time, ``delta`` (timedelta's arguments) from now."""
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def report(chapter: dict, position: float, *, at: str | None = None, device: str = "phone"):
    return {
        "chapter_id": chapter["id"],
        "position_seconds": position,
        "updated_at": at or when(),
        "device": device,
    }


def progress_url(book: dict | str) -> str:
    return f"/api/v1/me/progress/{book if isinstance(book, str) else book['id']}"


def put_progress(api: Api, book: dict, body: dict, status: int = 200) -> dict:
    response = api.put(progress_url(book), body)
    assert response.status_code == status, response.content
    return response.json()


def place(chapter: dict, position: float, at: str, device: str = "phone") -> dict:
    """P, as the API answers it."""
    return {
        "chapter_id": chapter["id"],
        "chapter_number": chapter["number"],
        "position_seconds": position,
        "updated_at": at,
        "device": device,
    }


def utc(text: str) -> str:
    """An RFC 3339 time as the API writes it back: in UTC, with a Z."""
    value = datetime.fromisoformat(text).astimezone(UTC).isoformat()
    return value.removesuffix("+00:00") + "Z"
