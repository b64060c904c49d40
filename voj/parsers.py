"""The API's JSON parser: bounded in size and depth, so no request body can cause a 500.

DRF's own JSONParser reads the whole body whatever its length (it reads the WSGI stream, not
``request.body``, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE never applies) and lets the
RecursionError of a deeply nested document escape as a 500.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser

# No request of this API nests deeper than a few levels; a document nested past this is hostile.
MAX_DEPTH = 32


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


def _too_deep(document: Any, limit: int = MAX_DEPTH) -> bool:
    """Iterative, so measuring a hostile document cannot itself overflow the stack."""
    pending = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            if depth > limit:
                return True
            pending.extend((item, depth + 1) for item in value)
    return False


class BoundedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        # One byte past the limit tells "at the limit" from "over it" without reading the rest.
        read_size = -1 if limit is None else limit + 1
        raw = b"" if stream is None else stream.read(read_size)
        if limit is not None and len(raw) > limit:
            raise RequestTooLarge(f"The request body must be at most {limit} bytes.")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding)
            document = json.loads(text, parse_constant=_refuse_constant)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
        except (ValueError, LookupError) as error:
            # UnicodeDecodeError is a ValueError; a charset that names a codec which is not a
            # text encoding (rot13, zlib, base64) raises LookupError.
            raise exceptions.ParseError(f"JSON parse error - {error}") from None
        if _too_deep(document):
            raise exceptions.ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH}.")
        return document


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")
