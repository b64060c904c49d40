"""The schema's OpenAPI links lead somewhere: followed here step by step, as a client (or
schemathesis's stateful phase) follows them, over the demo catalogue, each step takes the values
the link names from the response before and gets the answer the schema promises."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from tests.conftest import Api

_PATH_PARAMETER = re.compile(r"\{(\w+)\}")


class LinkWalker:
    """Follows the schema's links from one answer to the next."""

    def __init__(self, api: Api, schema: dict) -> None:
        self.api = api
        self.operations = {
            operation["operationId"]: (method, path, operation)
            for path, item in schema["paths"].items()
            for method, operation in item.items()
        }

    def call(self, operation_id: str, expected: int, body: Any = None, **path: str) -> dict:
        method, template, _ = self.operations[operation_id]
        url = _PATH_PARAMETER.sub(lambda m: path[m.group(1)], template)
        response = getattr(self.api, method)(url, body) if body else getattr(self.api, method)(url)
        assert response.status_code == expected, (operation_id, response.content)
        return {
            "id": operation_id,
            "status": str(expected),
            "path": path,
            "body": response.json() if response.content else None,
        }

    def follow(self, step: dict, name: str, expected: int, **fields: Any) -> dict:
        """The link ``name`` of ``step``'s answer; ``fields`` complete the body it sets."""
        _, _, source = self.operations[step["id"]]
        link = source["responses"][step["status"]]["links"][name]
        path = {key: self._value(expr, step) for key, expr in link.get("parameters", {}).items()}
        body = {key: self._value(expr, step) for key, expr in link.get("requestBody", {}).items()}
        return self.call(link["operationId"], expected, {**body, **fields} or None, **path)

    @staticmethod
    def _value(expression: str, step: dict) -> Any:
        if expression.startswith("$request.path."):
            return step["path"][expression.removeprefix("$request.path.")]
        pointer = expression.removeprefix("$response.body#")
        assert pointer != expression, expression
        value = step["body"]
        for part in pointer.strip("/").split("/"):
            value = value[int(part)] if isinstance(value, list) else value[part]
        return value


@pytest.fixture
def schema(anonymous) -> dict:
    response = anonymous.get("/api/v1/schema?format=json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def demo_catalogue(editor) -> None:
    call_command("ensure_demo_catalogue", stdout=StringIO())


def test_an_editor_follows_the_links_from_the_list_through_publish_to_a_kept_place(
    schema, editor, demo_catalogue
):
    walk = LinkWalker(Api(editor), schema)
    books = walk.call("books_list", 200)
    assert books["body"]["results"][0]["status"] == "draft"  # the newest demo book
    published = walk.follow(books, "publish", 200)
    assert published["body"]["status"] == "published"
    chapters = walk.follow(published, "chapters", 200)
    progress = walk.follow(chapters, "progress", 200, device="phone")
    assert progress["body"]["applied"] is True
    kept = walk.follow(progress, "progress", 200)
    assert kept["body"]["latest"] == progress["body"]["latest"]
    again = walk.follow(kept, "report", 200, device="car")
    assert again["body"]["applied"] is False  # the same updated_at is not newer
    bookmark = walk.follow(progress, "bookmark", 201)
    changed = walk.follow(bookmark, "change", 200, note="here")
    assert changed["body"]["note"] == "here"
    walk.follow(bookmark, "delete", 204)
    walk.follow(progress, "forget", 204)


def test_a_listener_follows_the_links_from_the_list_and_the_shelf(schema, listener, demo_catalogue):
    walk = LinkWalker(Api(listener), schema)
    books = walk.call("books_list", 200)
    assert [book["status"] for book in books["body"]["results"]] == ["published"]
    chapters = walk.follow(walk.follow(books, "book", 200), "chapters", 200)
    assert walk.follow(chapters, "progress", 200, device="phone")["body"]["applied"] is True
    bookmark = walk.follow(chapters, "bookmark", 201)
    walk.follow(bookmark, "change", 200, note="later")
    shelf = walk.call("progress_list", 200)
    walk.follow(shelf, "book", 200)
    walk.follow(shelf, "report", 200, device="laptop")
    walk.follow(shelf, "bookmark", 201)
    bookmarks = walk.call("bookmarks_list", 200)
    walk.follow(bookmarks, "report", 200, device="laptop")
    walk.follow(bookmarks, "change", 200, note="moved")
    stream = walk.follow(chapters, "stream", 200)
    assert stream["body"]["url"]
