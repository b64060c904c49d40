"""What drf-spectacular cannot infer, added to the OpenAPI schema so that it tells the truth.

drf-spectacular documents each view's success response. This hook adds what the API really does
besides: the error responses (``{"detail", "code"}``, with DRF's field errors on a 400), text
rules DRF applies that a bare ``maxLength`` misses (trimming, no NUL), the upload rules as
constraints, the local mode's upload form, which is a plain Django view, and the links that lead
a client from a book to its chapters to a place kept in one. Schemathesis checks the result
against a live server, its stateful phase following those links (tests/voj/test_api_contract.py).

Loaded only where the schema is served (VOJ_API_DOCS); production never imports it.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from django.conf import settings
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme

from streaming.keys import (
    ALLOWED_CONTENT_TYPES,
    ALLOWED_EXTENSIONS,
    COVER_CONTENT_TYPES,
    COVER_EXTENSIONS,
)
from streaming.policy import SIGNATURE_FIELD
from streaming.stores import local_object_store
from voj.text import disguising_character


class CurrentTokenScheme(SimpleJWTScheme):
    """stream-url's authentication takes the same bearer token as every other endpoint: it
    requires simplejwt's "jwtAuth" scheme rather than defining a second component of that
    name (which drf-spectacular would flag as a clash)."""

    target_class = "voj.security.authentication.CurrentTokenAuthentication"
    match_subclasses = True  # LaterAccountCheckAuthentication takes the same token
    name: Any = []  # no component of its own

    def get_security_requirement(self, auto_schema: Any) -> dict[str, list[str]]:
        return {SimpleJWTScheme.name: []}


ERROR = {
    "type": "object",
    "description": "Every API error: a message for people and a stable code for programs.",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["detail", "code"],
}
# A 400 also names each invalid field, with its messages, as DRF gives them.
VALIDATION_ERROR = {
    **ERROR,
    "description": "Invalid input: detail and code, and each invalid field with its messages.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}

_ERROR_DESCRIPTIONS = {
    400: "The request is invalid (body, query or a JSON parse error).",
    401: "No valid access token (missing, malformed, expired or revoked).",
    403: "Authenticated, but not allowed to do this.",
    404: "No such book, chapter, progress or bookmark (or none the caller may see).",
    409: (
        "Conflicts with the current state (version, chapter number, upload state, a chapter "
        "not ready to stream, no ready chapter to publish, the bookmarks a listener may keep "
        "in a book)."
    ),
    413: "The request body is larger than the server accepts.",
    415: "The body is not JSON.",
    429: "Too many failed sign-ins; wait for Retry-After seconds.",
    503: "A backing store is unavailable; try again shortly.",
}

# What Python's str.strip() and str.split() treat as whitespace, spelled out: the schema's regex
# dialect (ECMA-262) has a different \s (no U+001C-U+001F or U+0085; it adds U+FEFF).
_SPACE = "".join(f"\\u{i:04x}" for i in range(0x3001) if chr(i).isspace())


@cache
def _refused(*, multiline: bool = False) -> str:
    """What a text field refuses anywhere (voj/text.py: invisible and control characters, and
    line separators in one-line fields), as the inside of a character class: BMP characters
    as escapes, others as themselves (the dialect has no escape for them). Lone surrogates are
    left out: no JSON encoder emits them and the dialect cannot name them."""
    runs: list[list[int]] = []
    for point in range(0x110000):
        if (
            0xD800 <= point <= 0xDFFF
            or disguising_character(chr(point), multiline=multiline) is None
        ):
            continue
        if runs and runs[-1][1] == point - 1:
            runs[-1][1] = point
        else:
            runs.append([point, point])

    def name(point: int) -> str:
        return f"\\u{point:04x}" if point <= 0xFFFF else chr(point)

    return "".join(name(a) if a == b else f"{name(a)}-{name(b)}" for a, b in runs)


@cache
def _plain_space() -> str:
    """Whitespace that may sit inside a one-line text (the rest, tabs and newlines among it,
    only at its ends, which are trimmed before the check)."""
    spaces = (chr(i) for i in range(0x3001) if chr(i).isspace())
    return "".join(f"\\u{ord(c):04x}" for c in spaces if disguising_character(c) is None)


def _text_pattern(max_length: int | None, allow_blank: bool, *, multiline: bool = False) -> str:
    """The exact strings a DRF CharField accepts: whitespace is trimmed before the blank and
    length checks, so the limits apply to what lies between the first and last non-space."""
    bad = _refused(multiline=multiline)
    edge = f"[^{_SPACE}{bad}]"  # a non-space, allowed character
    if max_length is None:
        core = f"{edge}(?:[^{bad}]*{edge})?"
    elif max_length == 1:
        core = edge
    else:
        core = f"{edge}(?:[^{bad}]{{0,{max_length - 2}}}{edge})?"
    if allow_blank:
        core = f"(?:{core})?"
    return f"^[{_SPACE}]*{core}[{_SPACE}]*$"


def _upload_filename_pattern(allowed: tuple[str, ...] = ALLOWED_EXTENSIONS) -> str:
    """The names the API accepts (streaming.keys.clean_filename, then the extension check):
    any directory part, then a name that still ends in an allowed extension (any case) once the
    characters the API strips are gone; trailing separators and lone dots are dropped too."""
    # Removed by clean_filename; the controls it also removes are refused before it (Text).
    stripped = '<>:"|?*'
    bad, plain = _refused(), _plain_space()
    sep = "/\\\\"
    extensions = "|".join(
        f"[{stripped}]*".join(
            f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in ext[1:]
        )
        for ext in allowed
    )
    return (
        f"^[{_SPACE}]*(?:[^{bad}]*[{sep}])?[{stripped}{plain}.]*"
        f"[^{stripped}{_SPACE}.{sep}{bad}][^{sep}{bad}]*\\.[{stripped}]*(?:{extensions})"
        f"[{stripped}{plain}]*(?:[{sep}]+(?:\\.[{sep}]+)*\\.?)?[{_SPACE}]*$"
    )


def _upload_rules(schema: dict, *, cover: bool = False) -> None:
    """What an upload's fields accept: audio's, or a cover's (``cover``)."""
    extensions, content_types, limit = (
        (COVER_EXTENSIONS, COVER_CONTENT_TYPES, settings.VOJ_MAX_COVER_BYTES)
        if cover
        else (ALLOWED_EXTENSIONS, ALLOWED_CONTENT_TYPES, settings.VOJ_MAX_UPLOAD_BYTES)
    )
    properties = schema.get("properties", {})
    if "filename" in properties:
        properties["filename"] = {
            "type": "string",
            "pattern": _upload_filename_pattern(extensions),
            "description": f"The file's name, ending in {' or '.join(extensions)}.",
        }
    if "content_type" in properties:
        properties["content_type"] = {"type": "string", "enum": list(content_types)}
    if "size_bytes" in properties:
        properties["size_bytes"] = {
            "type": "integer",
            "minimum": 1,
            "maximum": limit,
            "description": "The exact size of the file that will be uploaded.",
        }


# The texts that keep newlines and tabs (Text(multiline=True)).
_MULTILINE_FIELDS = frozenset({"description", "note"})


def _request_text_rules(schema: dict) -> None:
    for field, prop in schema.get("properties", {}).items():
        if prop.get("type") != "string" or {"enum", "format", "pattern"} & prop.keys():
            continue
        prop["pattern"] = _text_pattern(
            prop.pop("maxLength", None),
            "minLength" not in prop,
            multiline=field in _MULTILINE_FIELDS,
        )
        prop.pop("minLength", None)


def _error_statuses(path: str, method: str, operation: dict) -> set[int]:
    statuses: set[int] = set()
    authenticated = {"jwtAuth": []} in operation.get("security", [])
    if authenticated:
        statuses.add(401)
        if method != "get":
            statuses.add(403)
    if "{" in path:
        statuses.add(404)
    if "requestBody" in operation:
        statuses |= {400, 413, 415}
    if any(p.get("in") == "query" for p in operation.get("parameters", [])):
        statuses.add(400)
    if path.startswith("/api/v1/books") or path.startswith("/api/v1/audio"):
        statuses.add(503)
        if method in {"post", "patch", "delete"} and path != "/api/v1/books":
            statuses.add(409)
    if path.endswith("/stream-url"):
        statuses.add(409)  # the chapter is not ready to stream
    if path.endswith("/cover/complete"):
        statuses.add(400)  # the uploaded image is refused (docs/covers.md)
    if path.startswith("/api/v1/me/"):  # what listeners keep, and the catalogue it names
        statuses.add(503)
    if path.startswith("/api/v1/me/bookmarks"):
        statuses.add(404)  # the book named in the body or the query
        if method in {"post", "patch"}:
            statuses.add(409)  # the per-book limit, the version
    if path in ("/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/logout"):
        statuses.add(401)
    if path == "/api/v1/auth/login":
        statuses.add(429)
    if path == "/api/v1/health/detailed":
        statuses.add(503)
    return statuses


def _error_response(status: int) -> dict:
    name = "ValidationError" if status == 400 else "Error"
    return {
        "description": _ERROR_DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
    }


def _upload_form_operation() -> dict:
    """The local mode's stand-in for S3's POST upload: the grant's fields, then the file."""
    text = {"type": "string"}
    return {
        "post": {
            "operationId": "uploads_create",
            "summary": "Upload a chapter's file with the fields of its upload grant (local mode)",
            "description": (
                "Send `upload.fields` from the chapter's grant as form fields, then the file as "
                "`file`, like an S3 POST upload. The signed policy binds the key, the content "
                "type and the size range; no token is needed. Only in local mode (VOJ_STORAGE="
                "local); in S3 mode grants point at the bucket."
            ),
            "tags": ["uploads"],
            "security": [{}],
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "key": text,
                                "Content-Type": {"type": "string", "enum": ALLOWED_CONTENT_TYPES},
                                "policy": text,
                                SIGNATURE_FIELD: text,
                                "file": {"type": "string", "format": "binary"},
                            },
                            "required": ["key", "Content-Type", "policy", SIGNATURE_FIELD, "file"],
                            "additionalProperties": False,
                        }
                    }
                },
            },
            "responses": {
                "204": {"description": "Stored; complete the chapter next."},
                "400": {
                    "description": "Malformed form, missing file, or a size outside the policy.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
                "403": {
                    "description": "The policy's signature does not match, it has expired, or a "
                    "field breaks one of its conditions.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                },
                "413": _error_response(413),
            },
        }
    }


def _link(target: str, description: str, body: dict | None = None, **parameters: str) -> dict:
    link: dict[str, Any] = {"operationId": target, "description": description}
    if parameters:
        link["parameters"] = parameters
    if body:
        # A partial body: the linked fields are set, the client (or a fuzzer) fills the rest.
        link["requestBody"] = body
    return link


_ID = "$response.body#/id"
_FIRST = "$response.body#/results/0"  # the first item of a list's page
_PATH_BOOK = "$request.path.book_id"
_KEPT_BOOK = "$response.body#/book_id"


def _book_links(book: str) -> dict[str, dict]:
    return {
        "chapters": _link("chapters_list", "The book's chapters.", book_id=book),
        "publish": _link("books_publish", "Publish the book.", book_id=book),
        "unpublish": _link("books_unpublish", "Take the book back to a draft.", book_id=book),
    }


def _place_links(book: str, place: str) -> dict[str, dict]:
    """From a place already kept in a book (``place``: a pointer to a Position) to keeping it
    again, as a listener resuming from it would, and to a bookmark there."""
    return {
        "report": _link(
            "progress_update",
            "Report listening on from this place.",
            {
                "chapter_id": f"{place}/chapter_id",
                "position_seconds": f"{place}/position_seconds",
                "updated_at": f"{place}/updated_at",
            },
            book_id=book,
        ),
        "bookmark": _link(
            "bookmarks_create",
            "Bookmark this place.",
            {
                "book_id": book,
                "chapter_id": f"{place}/chapter_id",
                "position_seconds": f"{place}/position_seconds",
            },
        ),
    }


# A listener's way through the API, spelled out as OpenAPI links (drf-spectacular cannot infer
# them): a book, its chapters, a place kept in one (progress, a bookmark), then what is done with
# it. Schemathesis's stateful phase follows them (tests/voj/test_api_contract.py).
_LINKS: dict[tuple[str, str], dict[str, dict]] = {
    ("books_list", "200"): {
        "book": _link("books_retrieve", "The first book listed.", book_id=f"{_FIRST}/id"),
        **_book_links(f"{_FIRST}/id"),
    },
    ("books_create", "201"): _book_links(_ID),
    ("books_retrieve", "200"): _book_links(_ID),
    ("books_partial_update", "200"): _book_links(_ID),
    ("books_publish", "200"): {
        name: link for name, link in _book_links(_ID).items() if name != "publish"
    },
    ("chapters_list", "200"): {
        # A ready chapter's end is a position in it, and its updated_at a time in the past.
        "progress": _link(
            "progress_update",
            "Report the end of the first chapter listed.",
            {
                "chapter_id": f"{_FIRST}/id",
                "position_seconds": f"{_FIRST}/duration_seconds",
                "updated_at": f"{_FIRST}/updated_at",
            },
            book_id=_PATH_BOOK,
        ),
        "bookmark": _link(
            "bookmarks_create",
            "Bookmark the end of the first chapter listed.",
            {
                "book_id": _PATH_BOOK,
                "chapter_id": f"{_FIRST}/id",
                "position_seconds": f"{_FIRST}/duration_seconds",
            },
        ),
        "stream": _link(
            "books_chapters_stream_url_retrieve",
            "Play the first chapter listed.",
            book_id=_PATH_BOOK,
            chapter_id=f"{_FIRST}/id",
        ),
        "stream_by_id": _link(
            "audio_stream_url_retrieve",
            "Play the first chapter listed, known by its id alone.",
            chapter_id=f"{_FIRST}/id",
        ),
    },
    ("progress_list", "200"): {
        "book": _link("books_retrieve", "The book listened to last.", book_id=f"{_FIRST}/book_id"),
        **_book_links(f"{_FIRST}/book_id"),
        **_place_links(f"{_FIRST}/book_id", f"{_FIRST}/latest"),
    },
    ("progress_get", "200"): {
        **_place_links(_KEPT_BOOK, "$response.body#/latest"),
        "forget": _link("progress_delete", "Forget it.", book_id=_KEPT_BOOK),
    },
    ("progress_update", "200"): {
        "progress": _link("progress_get", "The progress just kept.", book_id=_KEPT_BOOK),
        "forget": _link("progress_delete", "Forget it.", book_id=_KEPT_BOOK),
        "bookmark": _place_links(_KEPT_BOOK, "$response.body#/latest")["bookmark"],
    },
    ("bookmarks_list", "200"): {
        "book": _link("books_retrieve", "The first bookmark's book.", book_id=f"{_FIRST}/book_id"),
        "change": _link(
            "bookmarks_update", "Change the first bookmark.", bookmark_id=f"{_FIRST}/id"
        ),
        **_place_links(f"{_FIRST}/book_id", _FIRST),
    },
    ("bookmarks_create", "201"): {
        "change": _link("bookmarks_update", "Change the bookmark.", bookmark_id=_ID),
        "delete": _link("bookmarks_delete", "Delete the bookmark.", bookmark_id=_ID),
    },
}


def _add_links(paths: dict[str, Any]) -> None:
    for item in paths.values():
        for operation in item.values():
            for status, response in operation.get("responses", {}).items():
                links = _LINKS.get((operation.get("operationId", ""), status))
                if links:
                    response["links"] = links


def postprocess(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR
    schemas["ValidationError"] = VALIDATION_ERROR
    for name, schema in schemas.items():
        if name.endswith("Request"):
            _upload_rules(schema, cover=name == "CoverUploadInRequest")
            _request_text_rules(schema)
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            for status in sorted(_error_statuses(path, method, operation)):
                responses.setdefault(str(status), _error_response(status))
    _add_links(result.get("paths", {}))
    if local_object_store() is not None:  # the store's grants point at the local endpoint
        result["paths"]["/api/v1/uploads"] = _upload_form_operation()
    return result
