"""The smoke command against a live server of the embedded default, with the operator database
on SQLite and on PostgreSQL (tests/postgres.py)."""

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.usefixtures("operator_database")


@pytest.fixture
def smoke_env(monkeypatch, editor):
    monkeypatch.setenv("VOJ_SMOKE_USERNAME", "editor")
    monkeypatch.setenv("VOJ_SMOKE_PASSWORD", "pw-editor-1")


@pytest.mark.django_db(transaction=True)
def test_smoke_passes(live_server, smoke_env, capsys):
    call_command("smoke", "--base-url", live_server.url)
    out = capsys.readouterr().out
    for step in (
        "login",
        "upload",
        "complete",
        "publish",
        "search",
        "range 0-127",
        "tampered url",
        "delete book",
    ):
        assert f"ok   {step}" in out
    assert "bytes 0-127/9342" in out
    # publish -> progress -> resume, and the progress goes with the book
    for step in ("publish", "progress", "late report", "resume", "progress gone"):
        assert f"ok   {step}" in out
    assert "not applied, latest kept" in out and "chapter 1 at 1.0 s" in out
    # A cover, fetched without Authorization, long-cacheable.
    for step in ("cover", "cover unsigned"):
        assert f"ok   {step}" in out
    assert "public, max-age=31536000, immutable" in out
    assert "smoke passed" in out


@pytest.mark.django_db(transaction=True)
def test_smoke_fails_when_a_cover_needs_authorization(live_server, smoke_env, monkeypatch, capsys):
    import re

    from streaming import views

    monkeypatch.setattr(views, "COVER_KEY", re.compile("^$"))  # the cover view finds none
    with pytest.raises(CommandError, match="the cover answered 404"):
        call_command("smoke", "--base-url", live_server.url)
    assert "FAIL cover unsigned" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_smoke_stops_at_the_first_failure(live_server, smoke_env, monkeypatch, capsys):
    monkeypatch.setenv("VOJ_SMOKE_PASSWORD", "wrong")
    with pytest.raises(CommandError, match="expected 200, got 401"):
        call_command("smoke", "--base-url", live_server.url)
    out = capsys.readouterr().out
    assert "FAIL login" in out and "create book" not in out


@pytest.mark.django_db(transaction=True)
def test_smoke_cleans_up_after_a_failure(live_server, smoke_env, tmp_path, capsys):
    from books.models import BookRecord

    not_audio = tmp_path / "chapter.m4a"
    not_audio.write_bytes(b"not audio at all" * 20)
    with pytest.raises(CommandError, match="failed"):
        call_command("smoke", "--base-url", live_server.url, "--file", str(not_audio))
    assert "FAIL complete" in capsys.readouterr().out
    assert not BookRecord.objects.exists()


def test_smoke_needs_credentials(monkeypatch):
    monkeypatch.delenv("VOJ_SMOKE_USERNAME", raising=False)
    with pytest.raises(CommandError, match="VOJ_SMOKE_USERNAME"):
        call_command("smoke", "--base-url", "http://127.0.0.1:9")


@pytest.mark.django_db(transaction=True)
def test_smoke_shows_the_media_stay_private(live_server, smoke_env, capsys):
    call_command("smoke", "--base-url", live_server.url)
    out = capsys.readouterr().out
    assert "ok   unsigned url" in out and "403 without the signature" in out
    assert "skip bucket direct" in out and "local object store has no bucket URL" in out


@pytest.mark.django_db(transaction=True)
def test_smoke_fails_when_an_unsigned_url_plays(live_server, smoke_env, monkeypatch, capsys):
    """A store that checks signatures when given one but lets an unsigned request through."""
    from streaming import views

    checked = views.local_stream_signature_valid
    monkeypatch.setattr(
        views,
        "local_stream_signature_valid",
        lambda key, expires, signature: signature is None or checked(key, expires, signature),
    )
    with pytest.raises(CommandError, match="without its signature answered 206"):
        call_command("smoke", "--base-url", live_server.url)
    out = capsys.readouterr().out
    assert "FAIL unsigned url" in out
    assert "delete book" not in out  # the book is removed by the clean-up, not the step


@pytest.mark.django_db(transaction=True)
def test_smoke_says_when_a_store_checks_nothing(live_server, smoke_env, monkeypatch, capsys):
    """Like moto: every request is served, forged signature or none."""
    from books.models import BookRecord
    from streaming import views

    monkeypatch.setattr(views, "local_stream_signature_valid", lambda *args: True)
    call_command("smoke", "--base-url", live_server.url)
    out = capsys.readouterr().out
    assert "skip unsigned url" in out and "accepts a forged signature" in out
    assert "smoke passed" in out
    assert not BookRecord.objects.exists()


def test_unsigned_and_forged_urls():
    from voj.management.commands.smoke import forged, is_s3_url, unsigned

    s3 = (
        "https://b.s3.ap-northeast-2.amazonaws.com/media/x.m4a?response-content-type=audio%2Fmp4"
        "&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=c&X-Amz-Date=d&X-Amz-Expires=900"
        "&X-Amz-SignedHeaders=host&X-Amz-Signature=abc"
    )
    assert is_s3_url(s3)
    assert unsigned(s3) == (
        "https://b.s3.ap-northeast-2.amazonaws.com/media/x.m4a?response-content-type=audio%2Fmp4"
    )
    assert "X-Amz-Signature=0bc" in forged(s3)
    cloudfront = "https://cdn.example/media/x.m4a?Expires=1&Signature=0a~&Key-Pair-Id=K1"
    assert not is_s3_url(cloudfront)
    assert unsigned(cloudfront) == "https://cdn.example/media/x.m4a"
    assert "Signature=1a" in forged(cloudfront)
