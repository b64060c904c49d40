"""Steps of the editor's flow, shared by the API tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import Api, fixture_bytes

ROOT = Path(__file__).resolve().parents[1]


def manage(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """`manage.py ARGS` in a process of its own with exactly ``env``; with ``check``, it must
    succeed."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if check:
        assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return result


def book_create(api: Api, title: str = "Book") -> dict:
    response = api.post("/api/v1/books", {"title": title, "author": "Author"})
    assert response.status_code == 201, response.content
    return response.json()


def chapter_create(api: Api, book: dict, *, size: int, **fields) -> dict:
    payload = {
        "title": "Chapter",
        "filename": "chapter.m4a",
        "content_type": "audio/mp4",
        "size_bytes": size,
        **fields,
    }
    response = api.post(f"/api/v1/books/{book['id']}/chapters", payload)
    assert response.status_code == 201, response.content
    return response.json()


def chapter_url(chapter: dict) -> str:
    return f"/api/v1/books/{chapter['book_id']}/chapters/{chapter['id']}"


def book_publish(api: Api, book_id: str) -> dict:
    """Publish the book (it needs a ready chapter): listeners see it from now on."""
    response = api.post(f"/api/v1/books/{book_id}/publish")
    assert response.status_code == 200, response.content
    return response.json()


def published_chapter(api: Api, fixture: str = "tone-faststart.m4a", **fields) -> dict:
    """A ready chapter, in a book still a draft: create, upload the fixture through the grant,
    complete. (``book_publish`` makes the book listeners' too.)"""
    return ready_chapter(api, book_create(api), fixture, **fields)


def ready_chapter(api: Api, book: dict, fixture: str = "tone-faststart.m4a", **fields) -> dict:
    """A ready chapter in ``book``: create, upload the fixture through the grant, complete."""
    content = fixture_bytes(fixture)
    created = chapter_create(api, book, size=len(content), **fields)
    assert api.upload(created["upload"], content).status_code == 204
    completed = api.post(chapter_url(created["chapter"]) + "/complete")
    assert completed.status_code == 200, completed.content
    return completed.json()


def playable_chapter(api: Api, fixture: str = "tone-faststart.m4a", **fields) -> dict:
    """A ready chapter of a published book: what a listener may play."""
    chapter = published_chapter(api, fixture, **fields)
    book_publish(api, chapter["book_id"])
    return chapter
