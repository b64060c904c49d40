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
    for step in ("login", "upload", "complete", "range 0-127", "delete book"):
        assert f"ok   {step}" in out
    assert "bytes 0-127/9342" in out
    assert "smoke passed" in out


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
