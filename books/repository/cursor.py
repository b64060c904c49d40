"""Opaque pagination cursors: signed, so a client can neither forge nor tamper with them."""

from typing import Any

from django.core import signing

from books.errors import InvalidCursor

_SALT = "voj.repository.cursor"


def encode_cursor(kind: str, position: dict[str, Any]) -> str:
    return signing.dumps({"k": kind, "p": position}, salt=_SALT, compress=True)


def decode_cursor(kind: str, cursor: str) -> dict[str, Any]:
    try:
        payload = signing.loads(cursor, salt=_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise InvalidCursor() from None
    if not isinstance(payload, dict) or payload.get("k") != kind:
        raise InvalidCursor()
    position = payload.get("p")
    if not isinstance(position, dict):
        raise InvalidCursor()
    return position
