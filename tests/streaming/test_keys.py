import unicodedata

import pytest

from streaming.keys import (
    MEDIA_KEY,
    book_media_prefix,
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
    revisions = {new_revision() for _ in range(100)}
    assert len(revisions) == 100
    # 64 random bits, as 16 lowercase hex digits
    assert {len(r) for r in revisions} == {16}
    assert all(set(r) <= set("0123456789abcdef") for r in revisions)


def test_a_refused_id_or_revision_is_named_in_the_error():
    with pytest.raises(ValueError, match=r"^not an id: 'a/b'$"):
        upload_key("a/b", CHAPTER, "abc123")
    with pytest.raises(ValueError, match=r"^not a revision: 'abc_12'$"):
        upload_key(BOOK, CHAPTER, "abc_12")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("chapter.m4a", "chapter.m4a"),
        ("../../etc/passwd.m4a", "passwd.m4a"),
        ("C:\\Users\\me\\ch 1.m4a", "ch 1.m4a"),
        ("..hidden.m4a", "hidden.m4a"),
        ("X-files.m4a", "X-files.m4a"),  # only leading dots go
        ("XXX", "XXX"),
        (". . x.m4a", "x.m4a"),
        ("a..", "a.."),
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


@pytest.mark.parametrize("raw", ["", "/", "..", "../..", "\x00", " . . ", "...."])
def test_empty_names(raw):
    with pytest.raises(ValueError, match=r"^file name is empty$"):
        clean_filename(raw)


def test_extensions():
    assert has_allowed_extension("a.M4A") and has_allowed_extension("b.mp4")
    assert not has_allowed_extension("a.mp3") and not has_allowed_extension("m4a")


@pytest.mark.parametrize("position", [0, 1, 2])
@pytest.mark.parametrize("bad", ["{}\n", "{}\r", " {}", "{}/"])
def test_each_id_and_the_revision_must_match_whole(position, bad):
    parts = [BOOK, CHAPTER, "abc123"]
    parts[position] = bad.format(parts[position])
    with pytest.raises(ValueError):
        upload_key(*parts)
    with pytest.raises(ValueError):
        media_key(*parts)


def test_book_prefix_takes_only_an_id():
    assert book_media_prefix(BOOK) == f"media/books/{BOOK}/"
    for bad in (BOOK + "\n", BOOK[:-1], BOOK.replace("1", "G")):
        with pytest.raises(ValueError):
            book_media_prefix(bad)


@pytest.mark.parametrize(
    ("revision", "ok"),
    [("a" * 5, False), ("a" * 6, True), ("a" * 40, True), ("a" * 41, False), ("abc_12", False)],
)
def test_revision_length_and_alphabet(revision, ok):
    if ok:
        assert upload_key(BOOK, CHAPTER, revision).endswith("/" + revision)
    else:
        with pytest.raises(ValueError):
            upload_key(BOOK, CHAPTER, revision)


def test_the_media_key_pattern_matches_only_whole_media_keys():
    key = media_key(BOOK, CHAPTER, "abc123")
    assert MEDIA_KEY.fullmatch(key)
    for bad in (key + "\n", key + ".json", "x" + key, key.replace(".m4a", ".mp4")):
        assert not MEDIA_KEY.fullmatch(bad), bad


def test_a_name_of_exactly_the_limit_is_kept_whole():
    for name in ("x" * 196 + ".m4a", "x" * 200, "a.b." + "c" * 196):
        assert len(name) == 200 and clean_filename(name) == name


def test_a_long_name_keeps_its_last_extension_only():
    raw = "part.one." + "x" * 300 + ".m4a"
    assert clean_filename(raw) == ("part.one." + "x" * 300)[:196] + ".m4a"


def test_an_extension_that_leaves_no_room_cuts_the_whole_name():
    # keep = 200 - len(".ext"): one character of stem still fits, none does not.
    one_left = "stem." + "e" * 198
    assert clean_filename(one_left) == "s." + "e" * 198
    none_left = "stem." + "e" * 199
    assert clean_filename(none_left) == none_left[:200]


def test_long_names_without_extension_are_cut_to_the_limit():
    assert clean_filename("x" * 500) == "x" * 200
    assert clean_filename("y" * 199 + "." + "z" * 300) == ("y" * 199 + "." + "z" * 300)[:200]
    assert len(clean_filename("a" * 100 + ".m4a")) == 104
