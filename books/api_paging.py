"""What every API view of a list or a body shares: validated input, the page query and the
cursor-paged answer ``{"results", "next"}`` (books and listening alike)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from books.domain import Page
from books.serializers import PageQuery


def valid(serializer_class: type[serializers.Serializer], data: Any) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def page_query(
    request: Request, serializer_class: type[serializers.Serializer] = PageQuery
) -> dict:
    # A plain dict, not the QueryDict: DRF would read "?limit=" as "not given" from a QueryDict,
    # where the schema (and every other client) sees an empty, invalid value.
    query = valid(serializer_class, request.query_params.dict())
    query.setdefault("limit", settings.VOJ_PAGE_SIZE)
    return query


def paged(
    request: Request, page: Page[Any], serializer_class: type[serializers.Serializer]
) -> Response:
    next_url = None
    if page.next_cursor:
        params = request.query_params.copy()
        params["cursor"] = page.next_cursor
        next_url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
    # The request in the context: absolute URLs in the items (a cover's) are built from it.
    items = serializer_class(page.items, many=True, context={"request": request}).data
    return Response({"results": items, "next": next_url})


def paged_schema(name: str, item: type[serializers.Serializer]) -> serializers.Serializer:
    return inline_serializer(
        name, {"results": item(many=True), "next": serializers.URLField(allow_null=True)}
    )
