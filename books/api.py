"""Catalogue API views: parse, call a service, render."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from books import services
from books.api_paging import page_query as _page_query
from books.api_paging import paged as _paged
from books.api_paging import paged_schema as _paged_schema
from books.api_paging import valid as _valid
from books.serializers import (
    BookCreateIn,
    BookListQuery,
    BookOut,
    BookUpdateIn,
    ChapterCreateIn,
    ChapterOut,
    ChapterUpdateIn,
    ChapterWithUploadOut,
    CoverUploadIn,
    CoverUploadOut,
    PageQuery,
    StreamLinkOut,
    UploadIn,
    stream_link_data,
)
from voj.security.authentication import AccountCheckedInView, CurrentTokenAuthentication


def _base_url(request: Request) -> str:
    return request.build_absolute_uri("/")


def _book_data(request: Request, book: Any) -> Any:
    # The request in the context: the cover's URL is absolute, on this service's address for
    # the local store.
    return BookOut(book, context={"request": request}).data


class BooksApi(APIView):
    @extend_schema(
        parameters=[BookListQuery],
        responses=_paged_schema("BookPage", BookOut),
        operation_id="books_list",
    )
    def get(self, request: Request) -> Response:
        query = _page_query(request, BookListQuery)
        if "q" in query:
            page = services.book_search(
                user=request.user,
                query=query.pop("q"),
                limit=query["limit"],
                cursor=query.get("cursor"),
            )
        else:
            page = services.book_list(user=request.user, **query)
        return _paged(request, page, BookOut)

    @extend_schema(request=BookCreateIn, responses={201: BookOut})
    def post(self, request: Request) -> Response:
        book = services.book_create(user=request.user, **_valid(BookCreateIn, request.data))
        return Response(_book_data(request, book), status=status.HTTP_201_CREATED)


class BookDetailApi(APIView):
    @extend_schema(responses=BookOut)
    def get(self, request: Request, book_id: str) -> Response:
        book = services.book_get(user=request.user, book_id=book_id)
        return Response(_book_data(request, book))

    @extend_schema(request=BookUpdateIn, responses=BookOut)
    def patch(self, request: Request, book_id: str) -> Response:
        changes = _valid(BookUpdateIn, request.data)
        book = services.book_update(user=request.user, book_id=book_id, **changes)
        return Response(_book_data(request, book))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, book_id: str) -> Response:
        services.book_delete(user=request.user, book_id=book_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BookPublishApi(APIView):
    @extend_schema(request=None, responses=BookOut, operation_id="books_publish")
    def post(self, request: Request, book_id: str) -> Response:
        book = services.book_publish(user=request.user, book_id=book_id)
        return Response(_book_data(request, book))


class BookUnpublishApi(APIView):
    @extend_schema(request=None, responses=BookOut, operation_id="books_unpublish")
    def post(self, request: Request, book_id: str) -> Response:
        book = services.book_unpublish(user=request.user, book_id=book_id)
        return Response(_book_data(request, book))


class BookCoverApi(APIView):
    @extend_schema(
        request=CoverUploadIn,
        responses={201: CoverUploadOut},
        operation_id="books_cover_upload",
        summary="A grant to upload the book's cover (JPEG, PNG or WebP, at most 5 MB)",
    )
    def post(self, request: Request, book_id: str) -> Response:
        grant = services.book_cover_grant(
            user=request.user,
            book_id=book_id,
            base_url=_base_url(request),
            **_valid(CoverUploadIn, request.data),
        )
        return Response(CoverUploadOut({"upload": grant}).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={204: None},
        operation_id="books_cover_delete",
        summary="Remove the book's cover",
    )
    def delete(self, request: Request, book_id: str) -> Response:
        services.book_cover_delete(user=request.user, book_id=book_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BookCoverCompleteApi(APIView):
    @extend_schema(
        request=None,
        responses=BookOut,
        operation_id="books_cover_complete",
        summary="Check the uploaded image and make it the book's cover",
    )
    def post(self, request: Request, book_id: str) -> Response:
        book = services.book_cover_complete(user=request.user, book_id=book_id)
        return Response(_book_data(request, book))


class ChaptersApi(APIView):
    @extend_schema(
        parameters=[PageQuery],
        responses=_paged_schema("ChapterPage", ChapterOut),
        operation_id="chapters_list",
    )
    def get(self, request: Request, book_id: str) -> Response:
        page = services.chapter_list(user=request.user, book_id=book_id, **_page_query(request))
        return _paged(request, page, ChapterOut)

    @extend_schema(request=ChapterCreateIn, responses={201: ChapterWithUploadOut})
    def post(self, request: Request, book_id: str) -> Response:
        chapter, grant = services.chapter_create(
            user=request.user,
            book_id=book_id,
            base_url=_base_url(request),
            **_valid(ChapterCreateIn, request.data),
        )
        return Response(
            ChapterWithUploadOut({"chapter": chapter, "upload": grant}).data,
            status=status.HTTP_201_CREATED,
        )


class ChapterDetailApi(APIView):
    @extend_schema(responses=ChapterOut)
    def get(self, request: Request, book_id: str, chapter_id: str) -> Response:
        chapter = services.chapter_get(user=request.user, book_id=book_id, chapter_id=chapter_id)
        return Response(ChapterOut(chapter).data)

    @extend_schema(request=ChapterUpdateIn, responses=ChapterOut)
    def patch(self, request: Request, book_id: str, chapter_id: str) -> Response:
        chapter = services.chapter_update(
            user=request.user,
            book_id=book_id,
            chapter_id=chapter_id,
            **_valid(ChapterUpdateIn, request.data),
        )
        return Response(ChapterOut(chapter).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, book_id: str, chapter_id: str) -> Response:
        services.chapter_delete(user=request.user, book_id=book_id, chapter_id=chapter_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChapterCompleteApi(APIView):
    @extend_schema(request=None, responses=ChapterOut)
    def post(self, request: Request, book_id: str, chapter_id: str) -> Response:
        chapter = services.chapter_complete(
            user=request.user, book_id=book_id, chapter_id=chapter_id
        )
        return Response(ChapterOut(chapter).data)


class ChapterUploadApi(APIView):
    @extend_schema(request=UploadIn, responses=ChapterWithUploadOut)
    def post(self, request: Request, book_id: str, chapter_id: str) -> Response:
        chapter, grant = services.chapter_upload_renew(
            user=request.user,
            book_id=book_id,
            chapter_id=chapter_id,
            base_url=_base_url(request),
            **_valid(UploadIn, request.data),
        )
        return Response(ChapterWithUploadOut({"chapter": chapter, "upload": grant}).data)


class StreamUrlApi(APIView):
    # The listener's hot path checks the token without the user's row: no operator database
    # download on a cold start, no SQLite query per request (docs/performance.md). Account
    # changes reach it through the security state (voj/security/authentication.py).
    authentication_classes = [CurrentTokenAuthentication]

    @extend_schema(responses=StreamLinkOut)
    def get(self, request: Request, chapter_id: str) -> Response:
        link = services.chapter_stream(
            user=request.user, chapter_id=chapter_id, base_url=_base_url(request)
        )
        return Response(stream_link_data(link))


class ChapterStreamUrlApi(AccountCheckedInView, APIView):
    # StreamUrlApi for a player that holds the chapter's book too, as every list of chapters
    # gives it: the token's account record, the book's head and the chapter in one DynamoDB
    # request, instead of the record, the by-id index and then the head (docs/performance.md).
    account_checked_by = frozenset({"GET"})

    @extend_schema(responses=StreamLinkOut)
    def get(self, request: Request, book_id: str, chapter_id: str) -> Response:
        link = services.chapter_stream(
            user=request.user,
            book_id=book_id,
            chapter_id=chapter_id,
            base_url=_base_url(request),
            account_check=self.account_check(request),
        )
        return Response(stream_link_data(link))
