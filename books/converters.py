"""URL converters for the catalogue's ids.

Book and chapter ids are UUIDs made by `books.domain.new_id`. Matching them in the URL answers
anything else with 404 before it reaches a repository: DynamoDB refuses a key over 2,048 bytes
with a ValidationException (a 500 if it got that far), and no such id can name a record anyway.
"""

from __future__ import annotations

from django.urls import register_converter


class IdConverter:
    regex = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(IdConverter, "id")
