"""Make sure the local mode has something to listen to: the demo editor's books, with audio.

Each book is made through the catalogue's services, as the API would: created by the demo editor,
its chapters created with an upload grant, the committed demo audio stored through that grant in
the local object store (its signed policy checked as the upload endpoint checks it), then
completed, so the file is checked like any upload. Each book gets the smoke command's cover the
same way (grant, upload, completion). One book is published, one is left a draft.

Idempotent, and a repair as well: a book is found again by its title among the editor's books; a
declared chapter with no ready chapter of that title is added again, a book without a cover gets
it again; a book's status is put back to what is declared. The contract test
(tests/voj/test_api_contract.py) runs it before each caller's schemathesis run, after the
editor's run may have unpublished, emptied or deleted them.

With the local object store the files go straight into it; in S3 mode (`make run-aws`, on
SeaweedFS) they are POSTed through the grant to the bucket as a browser would. Never on AWS
itself: with production settings it runs only against local stand-ins (VOJ_AWS_ENDPOINT_URL
off AWS's domains).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from books import services
from books.domain import Book, BookStatus, ChapterStatus
from streaming.local_store import LocalObjectStore
from streaming.policy import SIGNATURE_FIELD, PolicyError, policy_check_fields, policy_decode
from streaming.storage import UploadGrant
from streaming.stores import local_object_store
from voj.aws import is_aws_endpoint

# The smoke command's upload: a short AAC tone in an MP4 (M4A) container, about 9 KB.
DEMO_AUDIO = Path(__file__).resolve().parents[3] / "deploy" / "smoke" / "chapter.m4a"
# The smoke command's cover: a 400 px JPEG of a few KB (tests/fixtures/make_covers.py).
DEMO_COVER = DEMO_AUDIO.with_name("cover.jpg")
DEMO_EDITOR = "editor"
# Grants name the upload endpoint by its URL; this command never calls it.
_BASE_URL = "http://127.0.0.1"
_PAGE = 100


@dataclass(frozen=True)
class DemoBook:
    title: str
    author: str
    description: str
    chapters: tuple[str, ...]
    published: bool


DEMO_BOOKS = (
    DemoBook(
        title="The Demo Audiobook",
        author="voj",
        description="A published demo book: listeners see it, its chapters play.",
        chapters=("Opening", "Closing"),
        published=True,
    ),
    DemoBook(
        title="The Demo Draft",
        author="voj",
        description="A demo draft: only its editor and staff see it.",
        chapters=("First take",),
        published=False,
    ),
)


class Command(BaseCommand):
    help = (
        "Ensure the demo catalogue exists (make run and make run-aws only): the demo editor's "
        "books with ready chapters, one published and one a draft. Run ensure_demo_accounts "
        "first."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        store = local_object_store()
        if settings.VOJ_ENV == "production" and is_aws_endpoint(settings.VOJ_AWS_ENDPOINT_URL):
            raise CommandError(
                "the demo catalogue is for the local modes only (make run, make run-aws), "
                "never a deployed stage"
            )
        editor = get_user_model().objects.filter(username=DEMO_EDITOR).first()
        if editor is None:
            raise CommandError(f"no {DEMO_EDITOR!r} account: run ensure_demo_accounts first")
        for demo in DEMO_BOOKS:
            book = _book_ensure(editor, demo, store)
            self.stdout.write(
                f"Demo book {book.title!r}: {book.status}, ready chapters "
                f"{', '.join(demo.chapters)}; id {book.id}"
            )


def _book_ensure(owner: Any, demo: DemoBook, store: LocalObjectStore | None) -> Book:
    book = _book_find(owner, demo.title) or services.book_create(
        user=owner,
        title=demo.title,
        author=demo.author,
        description=demo.description,
        language="en",
    )
    ready = {
        chapter.title
        for chapter in _chapters(owner, book.id)
        if chapter.status == ChapterStatus.READY
    }
    for title in demo.chapters:
        if title not in ready:
            _chapter_add(owner, book.id, title, store)
    if not book.cover_key:
        _cover_add(owner, book.id, store)
    if demo.published and book.status != BookStatus.PUBLISHED:
        book = services.book_publish(user=owner, book_id=book.id)
    elif not demo.published and book.status == BookStatus.PUBLISHED:
        book = services.book_unpublish(user=owner, book_id=book.id)
    return book


def _book_find(owner: Any, title: str) -> Book | None:
    cursor = None
    while True:
        page = services.book_list(user=owner, limit=_PAGE, cursor=cursor)
        for book in page.items:
            if book.title == title and str(book.owner) == str(owner.pk):
                return book
        if page.next_cursor is None:
            return None
        cursor = page.next_cursor


def _chapters(owner: Any, book_id: str) -> list[Any]:
    chapters, cursor = [], None
    while True:
        page = services.chapter_list(user=owner, book_id=book_id, limit=_PAGE, cursor=cursor)
        chapters.extend(page.items)
        if page.next_cursor is None:
            return chapters
        cursor = page.next_cursor


def _chapter_add(owner: Any, book_id: str, title: str, store: LocalObjectStore | None) -> None:
    chapter, grant = services.chapter_create(
        user=owner,
        book_id=book_id,
        title=title,
        filename=DEMO_AUDIO.name,
        content_type="audio/mp4",
        size_bytes=DEMO_AUDIO.stat().st_size,
        base_url=_BASE_URL,
    )
    _upload(grant, store, DEMO_AUDIO)
    done = services.chapter_complete(user=owner, book_id=book_id, chapter_id=chapter.id)
    if done.status != ChapterStatus.READY:
        raise CommandError(f"the demo chapter {title!r} is {done.status}: {done.failure_reason}")


def _cover_add(owner: Any, book_id: str, store: LocalObjectStore | None) -> None:
    grant = services.book_cover_grant(
        user=owner,
        book_id=book_id,
        filename=DEMO_COVER.name,
        content_type="image/jpeg",
        size_bytes=DEMO_COVER.stat().st_size,
        base_url=_BASE_URL,
    )
    _upload(grant, store, DEMO_COVER)
    services.book_cover_complete(user=owner, book_id=book_id)


def _upload(grant: UploadGrant, store: LocalObjectStore | None, source: Path) -> None:
    if store is None:
        _upload_to_bucket(grant, source)
    else:
        _upload_locally(grant, store, source)


def _upload_to_bucket(grant: UploadGrant, source: Path) -> None:
    """The grant's presigned POST, sent as a browser sends it: its fields, then the file. The
    bucket checks the policy."""
    import urllib3  # noqa: PLC0415 - S3 mode's demo only

    fields: dict[str, Any] = dict(grant.fields)
    fields["file"] = (source.name, source.read_bytes(), grant.fields["Content-Type"])
    response = urllib3.request(grant.method, grant.url, fields=fields, timeout=30, retries=False)
    if response.status >= 300:
        raise CommandError(
            f"the bucket refused {source.name}: {response.status} {response.data[:300]!r}"
        )


def _upload_locally(grant: UploadGrant, store: LocalObjectStore, source: Path) -> None:
    """What the local upload endpoint does with the grant's form: check the signed policy
    against the fields and the file's size, then store the file under the granted key."""
    fields = dict(grant.fields)
    try:
        document = policy_decode(fields["policy"], fields[SIGNATURE_FIELD])
        policy_check_fields(document, fields, source.stat().st_size)
    except PolicyError as error:
        raise CommandError(f"the upload grant refused {source.name}: {error.detail}") from None
    # The store takes the file over (it moves the upload's temporary file): give it a copy.
    with tempfile.TemporaryDirectory() as directory:
        copy = Path(directory) / source.name
        shutil.copyfile(source, copy)
        store.put_file(fields["key"], str(copy), content_type=fields["Content-Type"], metadata={})
