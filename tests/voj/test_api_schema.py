"""What the OpenAPI schema promises, read directly (the live contract is test_api_contract.py)."""

from __future__ import annotations

import re

import pytest

from books.serializers import BookCreateIn
from voj.schema import _text_pattern


@pytest.fixture
def schema(anonymous) -> dict:
    response = anonymous.get("/api/v1/schema?format=json")
    assert response.status_code == 200
    return response.json()


def _resolve(schema: dict, node: dict) -> dict:
    ref = node.get("$ref")
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else node


def _body(schema: dict, operation: dict, status: str) -> dict:
    content = operation["responses"][status]["content"]["application/json"]
    return _resolve(schema, content["schema"])


def test_every_operation_documents_its_errors_in_the_error_shape(schema):
    assert schema["components"]["schemas"]["Error"]["required"] == ["detail", "code"]
    validation = schema["components"]["schemas"]["ValidationError"]
    assert validation["additionalProperties"] == {"type": "array", "items": {"type": "string"}}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            errors = {s for s in operation["responses"] if s.startswith("4")}
            if path.startswith("/api/v1/health"):
                continue
            assert errors, f"{method} {path} documents no 4xx"
            for status in errors:
                assert _body(schema, operation, status)["required"] == ["detail", "code"]
            if {"jwtAuth": []} in operation.get("security", []):
                assert "401" in errors, f"{method} {path}"
            if "{" in path:
                assert "404" in errors, f"{method} {path}"
            if "requestBody" in operation:
                assert "400" in errors, f"{method} {path}"


def test_login_refresh_and_me_document_their_real_bodies(schema):
    paths = schema["paths"]
    login = _body(schema, paths["/api/v1/auth/login"]["post"], "200")
    assert set(login["required"]) == {"access", "refresh", "user"}
    user = _resolve(schema, login["properties"]["user"])
    assert set(user["properties"]) == {"id", "username", "is_staff", "groups"}
    assert {"400", "401", "429"} <= set(paths["/api/v1/auth/login"]["post"]["responses"])
    refresh = _body(schema, paths["/api/v1/auth/refresh"]["post"], "200")
    assert sorted(refresh["required"]) == ["access", "refresh"]  # the refresh token rotates
    me = _body(schema, paths["/api/v1/auth/me"]["get"], "200")
    assert me == user


def test_lists_document_cursor_and_limit(schema):
    for path in ("/api/v1/books", "/api/v1/books/{book_id}/chapters"):
        parameters = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        assert parameters["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100}
        assert parameters["cursor"]["in"] == "query"
        assert parameters["cursor"]["schema"]["maxLength"] == 4000


def test_upload_rules_are_schema_constraints(schema, settings):
    for name in ("ChapterCreateInRequest", "UploadInRequest"):
        properties = schema["components"]["schemas"][name]["properties"]
        assert properties["size_bytes"]["minimum"] == 1
        assert properties["size_bytes"]["maximum"] == settings.VOJ_MAX_UPLOAD_BYTES == 104857600
        assert properties["content_type"]["enum"] == ["audio/mp4", "audio/x-m4a", "video/mp4"]
        pattern = re.compile(properties["filename"]["pattern"])
        # Exactly the names the API keeps (directory parts and stripped characters allowed).
        for good in ("chapter-01.m4a", "Kapitel 1.MP4", "장 1.m4a", "C:\\me\\ch.m4a", "ch.m4a*"):
            assert pattern.search(good), good
        for bad in ("chapter.mp3", "chapter.m4a.txt", ".m4a", "dir/.m4a", "m4a", "a.m 4a"):
            assert not pattern.search(bad), bad


def test_cover_rules_are_a_covers(schema, settings):
    properties = schema["components"]["schemas"]["CoverUploadInRequest"]["properties"]
    assert properties["size_bytes"]["maximum"] == settings.VOJ_MAX_COVER_BYTES == 5242880
    assert properties["content_type"]["enum"] == ["image/jpeg", "image/png", "image/webp"]
    pattern = re.compile(properties["filename"]["pattern"])
    for good in ("cover.jpg", "Cover.JPEG", "표지.png", "c.webp"):
        assert pattern.search(good), good
    for bad in ("cover.gif", "cover.m4a", ".jpg", "cover.jpg.txt"):
        assert not pattern.search(bad), bad
    paths = schema["paths"]
    complete = paths["/api/v1/books/{book_id}/cover/complete"]["post"]
    assert {"400", "403", "404", "409"} <= set(complete["responses"])
    book = _body(schema, complete, "200")
    assert book["properties"]["cover_url"]["nullable"] is True
    assert "cover_url" in _body(schema, paths["/api/v1/books/{book_id}"]["get"], "200")["required"]
    grant = _body(schema, paths["/api/v1/books/{book_id}/cover"]["post"], "201")
    assert set(_resolve(schema, grant["properties"]["upload"])["properties"]) == {
        "method",
        "url",
        "fields",
        "expires_at",
    }


def test_the_local_upload_form_is_documented(schema):
    operation = schema["paths"]["/api/v1/uploads"]["post"]
    form = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["file"] == {"type": "string", "format": "binary"}
    assert set(form["required"]) == {"key", "Content-Type", "policy", "x-voj-signature", "file"}
    assert operation["security"] == [{}]
    assert {"204", "400", "403"} <= set(operation["responses"])


def _operations(schema: dict) -> dict[str, dict]:
    return {
        operation["operationId"]: operation
        for item in schema["paths"].values()
        for operation in item.values()
    }


def test_links_lead_from_a_book_to_a_kept_place_and_name_real_inputs(schema):
    """The links a client (and schemathesis's stateful phase) follows: each names an operation
    that exists, its path parameters, and fields of its request body."""
    operations = _operations(schema)
    followed = set()
    for source_id, source in operations.items():
        for status, response in source["responses"].items():
            for link in response.get("links", {}).values():
                target = operations[link["operationId"]]
                path_parameters = {
                    p["name"] for p in target.get("parameters", []) if p["in"] == "path"
                }
                assert set(link.get("parameters", {})) <= path_parameters, link
                if "requestBody" in link:
                    content = target["requestBody"]["content"]["application/json"]
                    fields = _resolve(schema, content["schema"])["properties"]
                    assert set(link["requestBody"]) <= set(fields), link
                followed.add((source_id, status, link["operationId"]))
    for step in [
        ("books_list", "200", "chapters_list"),
        ("books_publish", "200", "chapters_list"),
        ("chapters_list", "200", "progress_update"),
        ("chapters_list", "200", "bookmarks_create"),
        ("progress_update", "200", "progress_get"),
        ("progress_update", "200", "progress_delete"),
        ("bookmarks_create", "201", "bookmarks_update"),
        ("bookmarks_create", "201", "bookmarks_delete"),
    ]:
        assert step in followed, step
    progress = operations["chapters_list"]["responses"]["200"]["links"]["progress"]
    assert progress["parameters"] == {"book_id": "$request.path.book_id"}
    assert progress["requestBody"]["chapter_id"] == "$response.body#/results/0/id"


@pytest.mark.parametrize(
    ("value", "max_length", "allow_blank"),
    [
        ("a", 3, False),
        ("  abc  ", 3, False),
        ("abcd", 3, False),
        ("", 3, False),
        ("   ", 3, False),
        ("", 3, True),
        ("  ", 3, True),
        ("a\x00b", 3, False),
        ("a b", 3, False),
        ("x" * 300, 300, False),
        ("\t" + "x" * 300 + "\n", 300, False),
        ("x" * 301, 300, False),
        ("anything at all", None, False),
    ],
)
def test_text_pattern_accepts_exactly_what_drf_accepts(value, max_length, allow_blank):
    field = BookCreateIn().fields["title"].__class__(max_length=max_length, allow_blank=allow_blank)
    field.bind("title", None)
    try:
        field.run_validation(value)
        accepted = True
    except Exception:
        accepted = False
    assert bool(re.search(_text_pattern(max_length, allow_blank), value)) == accepted
