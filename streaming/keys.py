"""Object keys are built from ids only; user file names are kept as sanitised metadata."""

from __future__ import annotations

import re
import secrets
import unicodedata
from pathlib import PurePosixPath

from voj.text import without_disguising_characters

UPLOAD_PREFIX = "uploads/"
MEDIA_PREFIX = "media/"
COVER_PREFIX = "covers/"
# Pending cover uploads live under uploads/ too: the bucket's lifecycle sweeps them like audio's.
COVER_UPLOAD_PREFIX = f"{UPLOAD_PREFIX}covers/"

ALLOWED_EXTENSIONS = (".m4a", ".mp4")
ALLOWED_CONTENT_TYPES = ("audio/mp4", "audio/x-m4a", "video/mp4")
MAX_FILENAME_LENGTH = 200

_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_REVISION = re.compile(r"^[0-9a-z]{6,40}$")
_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')
COVER_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")
COVER_CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp")
# A cover's key is its URL path: the book's id and a random revision (streaming/covers.py).
COVER_KEY = re.compile(r"^covers/books/(?P<book>[0-9a-f-]{36})/(?P<rev>[0-9a-z]{6,40})\.jpg$")
MEDIA_KEY = re.compile(
    r"^media/books/(?P<book>[0-9a-f-]{36})/chapters/(?P<chapter>[0-9a-f-]{36})-(?P<rev>[0-9a-z]+)\.m4a$"
)


def new_revision() -> str:
    return secrets.token_hex(8)


def new_cover_revision() -> str:
    """128 random bits: a cover's URL is not signed, so its key is what keeps an unpublished
    book's cover from being guessed (docs/covers.md)."""
    return secrets.token_hex(16)


# fullmatch, not match: "$" also matches before a trailing newline, so match() would let
# "id\n" through into an object key.
def _checked_id(value: str) -> str:
    if not _ID.fullmatch(value):
        raise ValueError(f"not an id: {value!r}")
    return value


def _checked_revision(value: str) -> str:
    if not _REVISION.fullmatch(value):
        raise ValueError(f"not a revision: {value!r}")
    return value


def upload_key(book_id: str, chapter_id: str, revision: str) -> str:
    return (
        f"{UPLOAD_PREFIX}{_checked_id(book_id)}/{_checked_id(chapter_id)}/"
        f"{_checked_revision(revision)}"
    )


def media_key(book_id: str, chapter_id: str, revision: str) -> str:
    return (
        f"{MEDIA_PREFIX}books/{_checked_id(book_id)}/chapters/"
        f"{_checked_id(chapter_id)}-{_checked_revision(revision)}.m4a"
    )


def cover_upload_key(book_id: str, revision: str) -> str:
    return f"{COVER_UPLOAD_PREFIX}{_checked_id(book_id)}/{_checked_revision(revision)}"


def cover_key(book_id: str, revision: str) -> str:
    return f"{COVER_PREFIX}books/{_checked_id(book_id)}/{_checked_revision(revision)}.jpg"


def book_cover_prefix(book_id: str) -> str:
    return f"{COVER_PREFIX}books/{_checked_id(book_id)}/"


def book_media_prefix(book_id: str) -> str:
    return f"{MEDIA_PREFIX}books/{_checked_id(book_id)}/"


def clean_filename(name: str) -> str:
    """NFC-normalise, drop any directory part, unsafe characters and those that disguise how
    the name reads (voj/text.py), bound the length.

    Raises ValueError when nothing usable is left.
    """
    name = unicodedata.normalize("NFC", name or "")
    # Both separators: a Windows client may send C:\\Users\\me\\ch1.m4a.
    name = PurePosixPath(name.replace("\\", "/")).name
    name = without_disguising_characters(_UNSAFE_CHARS.sub("", name))
    # No leading dot (a hidden file), nor a space that stripping a dot would leave ("  . x").
    name = " ".join(name.split()).lstrip(". ")
    if len(name) > MAX_FILENAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        keep = MAX_FILENAME_LENGTH - len(dot + ext)
        name = (stem[:keep] + dot + ext) if dot and keep > 0 else name[:MAX_FILENAME_LENGTH]
    # Leading dots are stripped above, so no name left is made of dots alone (the cut keeps
    # the first character).
    if not name:
        raise ValueError("file name is empty")
    return name


def has_allowed_extension(filename: str) -> bool:
    return filename.lower().endswith(ALLOWED_EXTENSIONS)


def has_cover_extension(filename: str) -> bool:
    return filename.lower().endswith(COVER_EXTENSIONS)
