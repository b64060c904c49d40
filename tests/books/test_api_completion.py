"""Completion checks the bytes, not the name or the client's word."""

import pytest

from streaming.stores import get_object_store
from tests.conftest import fixture_bytes
from tests.helpers import book_create, chapter_create, chapter_url, published_chapter

M4A = fixture_bytes("tone-faststart.m4a")


def upload_and_complete(api, content: bytes, *, declared: int | None = None, **fields):
    book = book_create(api)
    created = chapter_create(api, book, size=declared or len(content), **fields)
    assert api.upload(created["upload"], content).status_code == 204
    response = api.post(chapter_url(created["chapter"]) + "/complete")
    assert response.status_code == 200, response.content
    return created, response.json()


def test_good_upload_is_ready(backend, as_editor):
    created, chapter = upload_and_complete(as_editor, M4A)
    assert chapter["status"] == "ready"
    assert chapter["failure_reason"] == ""
    assert chapter["duration_seconds"] == pytest.approx(2.046, abs=0.01)
    assert chapter["faststart"] is True
    assert chapter["size_bytes"] == len(M4A)
    store = get_object_store()
    assert store.head(created["upload"]["fields"]["key"]) is None  # moved to media/
    listed = as_editor.get(f"/api/v1/books/{chapter['book_id']}/chapters").json()["results"]
    assert listed[0]["status"] == "ready"


def test_mp4_container_and_moov_at_end(backend, as_editor):
    content = fixture_bytes("tone-moov-at-end.m4a")
    _, chapter = upload_and_complete(as_editor, content)
    assert (chapter["status"], chapter["faststart"]) == ("ready", False)
    mp4 = fixture_bytes("tone.mp4")
    _, chapter = upload_and_complete(as_editor, mp4, filename="a.mp4", content_type="video/mp4")
    assert chapter["status"] == "ready"


def truncated() -> bytes:
    # Cut inside mdat: the box declares more bytes than the file has.
    return M4A[: len(M4A) - 100]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"This is a text file, not audio.\n" * 10, "ftyp"),
        (fixture_bytes("tone.mp3"), "ftyp"),
        (fixture_bytes("video-no-audio.mp4"), "no audio track"),
        (truncated(), "truncated"),
        (M4A[:20], "ftyp"),
    ],
    ids=["text-renamed", "mp3-renamed", "video-without-audio", "truncated", "header-only"],
)
def test_bad_files_fail_with_a_reason(backend, as_editor, content, reason):
    created, chapter = upload_and_complete(as_editor, content)
    assert chapter["status"] == "failed"
    assert reason in chapter["failure_reason"]
    assert get_object_store().head(created["upload"]["fields"]["key"]) is None
    stream = as_editor.get(f"/api/v1/audio/{chapter['id']}/stream-url")
    assert stream.status_code == 409
    assert stream.json()["code"] == "chapter_not_ready"


def test_file_larger_than_declared(backend, as_editor):
    _, chapter = upload_and_complete(as_editor, M4A, declared=len(M4A) - 10)
    assert chapter["status"] == "failed"
    assert "size mismatch" in chapter["failure_reason"]


def test_complete_without_upload(backend, as_editor):
    created = chapter_create(as_editor, book_create(as_editor), size=len(M4A))
    response = as_editor.post(chapter_url(created["chapter"]) + "/complete")
    assert response.status_code == 409
    assert response.json()["code"] == "upload_missing"
    after = as_editor.get(chapter_url(created["chapter"])).json()
    assert after["status"] == "pending_upload"
    assert after["version"] == created["chapter"]["version"]


def test_complete_is_idempotent(backend, as_editor):
    chapter = published_chapter(as_editor)
    again = as_editor.post(chapter_url(chapter) + "/complete")
    assert again.status_code == 200
    assert again.json() == chapter


def test_only_the_owner_completes(backend, as_editor, as_other_editor):
    created = chapter_create(as_editor, book_create(as_editor), size=len(M4A))
    as_editor.upload(created["upload"], M4A)
    # Another editor's draft: not even there, for them.
    response = as_other_editor.post(chapter_url(created["chapter"]) + "/complete")
    assert (response.status_code, response.json()["code"]) == (404, "book_not_found")
    assert as_editor.get(chapter_url(created["chapter"])).json()["status"] == "pending_upload"


def test_failed_chapter_gets_a_new_grant(backend, as_editor):
    created, failed = upload_and_complete(as_editor, fixture_bytes("tone.mp3"))
    declaration = {"filename": "fixed.m4a", "content_type": "audio/mp4", "size_bytes": len(M4A)}
    bad = as_editor.post(chapter_url(failed) + "/upload", {**declaration, "size_bytes": 0})
    assert bad.status_code == 400
    assert as_editor.get(chapter_url(failed)).json()["status"] == "failed"
    renewed = as_editor.post(chapter_url(failed) + "/upload", declaration)
    assert renewed.status_code == 200
    body = renewed.json()
    assert body["chapter"]["status"] == "pending_upload"
    assert body["chapter"]["failure_reason"] == ""
    assert body["upload"]["fields"]["key"] != created["upload"]["fields"]["key"]
    assert as_editor.upload(body["upload"], M4A).status_code == 204
    done = as_editor.post(chapter_url(failed) + "/complete").json()
    assert (done["status"], done["original_filename"]) == ("ready", "fixed.m4a")
    assert as_editor.post(chapter_url(failed) + "/upload", declaration).status_code == 409


def test_encoding_enabled_leaves_chapter_processing(backend, as_editor, settings):
    settings.ENCODING_ENABLED = True
    _, chapter = upload_and_complete(as_editor, M4A)
    assert chapter["status"] == "processing"
    assert as_editor.get(f"/api/v1/audio/{chapter['id']}/stream-url").status_code == 409


def test_deleting_a_book_removes_its_audio(backend, as_editor):
    chapter = published_chapter(as_editor)
    store = get_object_store()
    key = f"media/books/{chapter['book_id']}/chapters/"
    assert any(p.name.endswith(".m4a") for p in (store.root / key).iterdir())
    assert as_editor.delete(f"/api/v1/books/{chapter['book_id']}").status_code == 204
    assert not any(p.name.endswith(".m4a") for p in (store.root / key).iterdir())


@pytest.mark.parametrize("swapped_in", [b"\0" * len(M4A), fixture_bytes("tone-moov-at-end.m4a")])
def test_an_upload_replaced_during_completion_is_never_published(
    backend, as_editor, monkeypatch, swapped_in
):
    """A second upload through the still-valid grant lands after the checks and before the
    copy: the checked bytes are not there any more, so nothing is published."""
    import streaming.checks

    created = chapter_create(as_editor, book_create(as_editor), size=len(M4A))
    assert as_editor.upload(created["upload"], M4A).status_code == 204
    inspect = streaming.checks.inspect_media

    def inspect_then_swap(reader, size):
        report = inspect(reader, size)
        assert as_editor.upload(created["upload"], swapped_in).status_code == 204
        return report

    monkeypatch.setattr(streaming.checks, "inspect_media", inspect_then_swap)
    chapter = as_editor.post(chapter_url(created["chapter"]) + "/complete").json()
    assert chapter["status"] == "failed"
    assert chapter["failure_reason"] == (
        "the upload changed while it was being checked; upload it again"
    )
    store = get_object_store()
    assert store.head(created["upload"]["fields"]["key"]) is None
    assert not list((store.root / "media").rglob("*.m4a"))


def test_a_retry_after_the_copy_records_the_object_published(dynamodb_tables, db, as_editor):
    """The copy succeeded, saving the chapter did not (DynamoDB failed, injected at botocore's
    before-call event): the retry finds media/ taken, never copies over it, and records the
    object that is there."""
    from botocore.awsrequest import AWSResponse

    from books.repository import get_repository
    from voj.aws import aws_client

    created = chapter_create(as_editor, book_create(as_editor), size=len(M4A))
    assert as_editor.upload(created["upload"], M4A).status_code == 204
    failures = []

    def fail_once(**kwargs):
        if not failures:
            failures.append(kwargs["model"].name)
            error = {"Code": "InternalServerError", "Message": "injected"}
            return AWSResponse("https://dynamodb.test/", 500, {}, None), {
                "Error": error,
                "ResponseMetadata": {"HTTPStatusCode": 500},
            }
        return None

    # The completion's write: the chapter and its book's ready count, one transaction.
    aws_client("dynamodb").meta.events.register(
        "before-call.dynamodb.TransactWriteItems", fail_once
    )
    first = as_editor.post(chapter_url(created["chapter"]) + "/complete")
    assert first.status_code == 503 and failures == ["TransactWriteItems"]
    store = get_object_store()
    (published,) = (store.root / "media").rglob("*.m4a")
    before = store.head(str(published.relative_to(store.root)))
    again = as_editor.post(chapter_url(created["chapter"]) + "/complete").json()
    assert again["status"] == "ready"
    chapter = get_repository().chapter_get(again["book_id"], again["id"])
    after = store.head(chapter.object_key)
    assert after.etag == before.etag == chapter.object_etag  # not copied over
    assert store.head(created["upload"]["fields"]["key"]) is None
