"""API views of what listeners keep (/api/v1/me/...): parse, call a service, render."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from books.api_paging import page_query, paged, paged_schema, valid
from books.serializers import PageQuery
from listening import services
from listening.domain import ProgressWrite
from listening.serializers import (
    BookmarkCreateIn,
    BookmarkListQuery,
    BookmarkOut,
    BookmarkUpdateIn,
    ProgressBatchEnvelopeIn,
    ProgressBatchIn,
    ProgressBatchItemIn,
    ProgressBatchOut,
    ProgressOut,
    ProgressReportIn,
    ProgressWriteOut,
    ShelfItemOut,
    progress_write_data,
)
from voj.errors import exception_handler
from voj.security.authentication import AccountCheckedInView


class ProgressShelfApi(APIView):
    @extend_schema(
        parameters=[PageQuery],
        responses=paged_schema("ShelfPage", ShelfItemOut),
        operation_id="progress_list",
        summary="The continue-listening shelf: the listener's books, newest latest first",
    )
    def get(self, request: Request) -> Response:
        page = services.progress_shelf(user=request.user, **page_query(request))
        return paged(request, page, ShelfItemOut)


class ProgressApi(AccountCheckedInView, APIView):
    # The hot path (every playing device reports every 30 s): the token is checked without
    # the user's row, as for stream-url, its account record read with the book's head and the
    # chapter (voj/security/authentication.py); only a draft's visibility loads the row.
    # Reading or forgetting the progress is checked on its own, before the handler.
    account_checked_by = frozenset({"PUT"})

    @extend_schema(
        request=ProgressReportIn,
        responses=ProgressWriteOut,
        operation_id="progress_update",
        summary="Report where the listener is in a book",
    )
    def put(self, request: Request, book_id: str) -> Response:
        check = self.account_check(request)
        try:
            report = valid(ProgressReportIn, request.data)
        except exceptions.APIException:  # the body unreadable, or not a report
            check.verify()  # a refused token is told so before its report's mistakes
            raise
        write = services.progress_record(
            user=request.user, book_id=book_id, account_check=check, **report
        )
        return Response(progress_write_data(write))

    @extend_schema(responses=ProgressOut, operation_id="progress_get")
    def get(self, request: Request, book_id: str) -> Response:
        progress = services.progress_get(user=request.user, book_id=book_id)
        return Response(ProgressOut(progress).data)

    @extend_schema(responses={204: None}, operation_id="progress_delete")
    def delete(self, request: Request, book_id: str) -> Response:
        services.progress_delete(user=request.user, book_id=book_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProgressBatchApi(APIView):
    @extend_schema(
        request=ProgressBatchIn,
        responses=ProgressBatchOut,
        operation_id="progress_batch",
        summary="Report many positions at once (after offline listening)",
    )
    def post(self, request: Request) -> Response:
        raw = valid(ProgressBatchEnvelopeIn, request.data)["items"]
        # Each item parsed on its own: a bad one is answered in its place, the others recorded.
        parsed = [ProgressBatchItemIn(data=item) for item in raw]
        reports = [services.ProgressReport(**p.validated_data) for p in parsed if p.is_valid()]
        outcomes = iter(services.progress_record_batch(user=request.user, items=reports))
        results = [
            _batch_result(
                exceptions.ValidationError(item.errors) if item.errors else next(outcomes),
                sent=item.initial_data,
                request=request,
            )
            for item in parsed
        ]
        return Response({"results": results})


def _batch_result(outcome: Any, *, sent: Any, request: Request) -> dict[str, Any]:
    if isinstance(outcome, ProgressWrite):
        return progress_write_data(outcome)
    book_id = sent.get("book_id") if isinstance(sent, dict) else None
    # The error as the API answers it anywhere else (voj/errors.py), in the item's place.
    response = exception_handler(outcome, {"request": request})
    assert response is not None  # a DomainError or a ValidationError: both have an answer
    return {"book_id": book_id if isinstance(book_id, str) else None, "error": response.data}


class BookmarksApi(APIView):
    @extend_schema(
        parameters=[BookmarkListQuery],
        responses=paged_schema("BookmarkPage", BookmarkOut),
        operation_id="bookmarks_list",
        summary="The listener's bookmarks: in book order with book_id, else newest first",
    )
    def get(self, request: Request) -> Response:
        query = page_query(request, BookmarkListQuery)
        page = services.bookmark_list(
            user=request.user,
            book_id=query.pop("book_id", None),
            **query,
        )
        return paged(request, page, BookmarkOut)

    @extend_schema(
        request=BookmarkCreateIn, responses={201: BookmarkOut}, operation_id="bookmarks_create"
    )
    def post(self, request: Request) -> Response:
        bookmark = services.bookmark_create(
            user=request.user, **valid(BookmarkCreateIn, request.data)
        )
        return Response(BookmarkOut(bookmark).data, status=status.HTTP_201_CREATED)


class BookmarkDetailApi(APIView):
    @extend_schema(request=BookmarkUpdateIn, responses=BookmarkOut, operation_id="bookmarks_update")
    def patch(self, request: Request, bookmark_id: str) -> Response:
        bookmark = services.bookmark_update(
            user=request.user, bookmark_id=bookmark_id, **valid(BookmarkUpdateIn, request.data)
        )
        return Response(BookmarkOut(bookmark).data)

    @extend_schema(responses={204: None}, operation_id="bookmarks_delete")
    def delete(self, request: Request, bookmark_id: str) -> Response:
        services.bookmark_delete(user=request.user, bookmark_id=bookmark_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
