import unicodedata

import pytest

from streaming.keys import (
    clean_filename,
    has_allowed_extension,
    media_key,
    new_revision,
    upload_key,
)

BOOK = "11111111-1111-1111-1111-111111111111"
CHAPTER = "22222222-2222-2222-2222-222222222222"


def test_keys_are_built_from_ids():
    assert upload_key(BOOK, CHAPTER, "abc123") == f"uploads/{BOOK}/{CHAPTER}/abc123"
    assert media_key(BOOK, CHAPTER, "abc123") == f"media/books/{BOOK}/chapters/{CHAPTER}-abc123.m4a"


@pytest.mark.parametrize("bad", ["../x", "", "a/b", BOOK + "/..", "ABCDEF"])
def test_keys_refuse_anything_but_ids(bad):
    with pytest.raises(ValueError):
        upload_key(bad, CHAPTER, "abc123")
    with pytest.raises(ValueError):
        media_key(BOOK, CHAPTER, bad or "x")


def test_revisions_are_unique():
    assert len({new_revision() for _ in range(100)}) == 100


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("chapter.m4a", "chapter.m4a"),
        ("../../etc/passwd.m4a", "passwd.m4a"),
        ("C:\\Users\\me\\ch 1.m4a", "ch 1.m4a"),
        ("..hidden.m4a", "hidden.m4a"),
        ("a\x00b\nc.m4a", "abc.m4a"),
        ("  spaced   out .m4a ", "spaced out .m4a"),
        (unicodedata.normalize("NFD", "한국어.m4a"), "한국어.m4a"),
    ],
)
def test_clean_filename(raw, clean):
    assert clean_filename(raw) == clean
    assert unicodedata.is_normalized("NFC", clean_filename(raw))


def test_long_names_keep_their_extension():
    name = clean_filename("x" * 500 + ".m4a")
    assert len(name) == 200 and name.endswith(".m4a")


@pytest.mark.parametrize("raw", ["", "/", "..", "../..", "\x00"])
def test_empty_names(raw):
    with pytest.raises(ValueError):
        clean_filename(raw)


def test_extensions():
    assert has_allowed_extension("a.M4A") and has_allowed_extension("b.mp4")
    assert not has_allowed_extension("a.mp3") and not has_allowed_extension("m4a")
