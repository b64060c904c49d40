"""Operator console pages over the repository (both data backends)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from books import services
from books.admin_rendering import console_failure, console_render
from books.domain import Book, ChapterStatus
from books.errors import (
    BookNotFound,
    ChapterNotFound,
    DomainError,
    InvalidCursor,
    StorageUnavailable,
)
from streaming.invalidations import cdn_configured

if TYPE_CHECKING:
    from streaming.checks import CheckVerdict

PAGE_SIZE = 25


def _owners(user_ids: set[int]) -> dict[int, str]:
    users = get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username")
    return dict(users)


def _cursor(request: HttpRequest) -> str | None:
    return request.GET.get("cursor") or None


@require_http_methods(["GET"])
def book_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    try:
        if query:
            page = services.book_search(
                user=request.user, query=query, limit=PAGE_SIZE, cursor=_cursor(request)
            )
        else:
            page = services.book_list(user=request.user, limit=PAGE_SIZE, cursor=_cursor(request))
    except InvalidCursor:
        messages.warning(request, "That page link is no longer valid; showing the first page.")
        return redirect(
            reverse("admin:catalogue-books") + (f"?{urlencode({'q': query})}" if query else "")
        )
    owners = _owners({book.owner for book in page.items})
    rows = [
        {"book": book, "owner": owners.get(book.owner, f"#{book.owner}")} for book in page.items
    ]
    return console_render(
        request,
        "admin/catalogue/book_list.html",
        "Books",
        rows=rows,
        query=query,
        next_cursor=page.next_cursor,
        first_page=not _cursor(request),
    )


def _book_or_404(request: HttpRequest, book_id: str) -> Book:
    try:
        return services.book_get(user=request.user, book_id=book_id)
    except BookNotFound:
        raise Http404("No such book") from None


def _book_page(request: HttpRequest, book_id: str, verdicts: dict | None = None) -> HttpResponse:
    book = _book_or_404(request, book_id)
    try:
        page = services.chapter_list(
            user=request.user, book_id=book_id, limit=100, cursor=_cursor(request)
        )
    except InvalidCursor:
        return redirect("admin:catalogue-book", book_id=book_id)
    owner = _owners({book.owner}).get(book.owner, f"#{book.owner}")
    rows = [{"chapter": c, "verdict": (verdicts or {}).get(c.id)} for c in page.items]
    return console_render(
        request,
        "admin/catalogue/book_detail.html",
        book.title,
        book=book,
        owner=owner,
        rows=rows,
        next_cursor=page.next_cursor,
        checked=verdicts is not None,
        cdn=cdn_configured(),
        can_delete=services.book_deletable(user=request.user, book=book),
        cover_url=services.book_cover_url(book=book, base_url=request.build_absolute_uri("/")),
    )


@require_http_methods(["GET"])
def book_detail(request: HttpRequest, book_id: str) -> HttpResponse:
    return _book_page(request, book_id)


@require_POST
def book_check(request: HttpRequest, book_id: str) -> HttpResponse:
    _book_or_404(request, book_id)
    try:
        results = services.book_check(actor=request.user, book_id=book_id)
    except StorageUnavailable as error:
        # The store, not the chapters, failed: say so (a misconfiguration names its cause).
        return console_failure(request, error, lambda: _book_page(request, book_id))
    checked = [verdict for _, verdict in results if verdict.checked]
    failed = sum(not verdict.ok for verdict in checked)
    # Pending and rejected chapters have no object to examine: counted apart, never as failures.
    unchecked = len(results) - len(checked)
    aside = (
        f" {unchecked} not checked (not uploaded yet, processing or rejected)." if unchecked else ""
    )
    if failed:
        messages.error(request, f"{failed} of {len(checked)} chapters failed the check.{aside}")
    elif not checked:
        messages.info(request, f"No chapter has published audio to check.{aside}")
    else:
        messages.success(request, f"All {len(checked)} chapters passed the check.{aside}")
    return _book_page(request, book_id, verdicts={c.id: v for c, v in results})


@require_http_methods(["GET", "POST"])
def book_delete(request: HttpRequest, book_id: str) -> HttpResponse:
    book = _book_or_404(request, book_id)
    if not services.book_deletable(user=request.user, book=book):
        raise PermissionDenied  # Django's 403 page; the book's page offers no delete button
    if request.method == "POST":
        try:
            services.book_delete_by_operator(actor=request.user, book_id=book_id)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("admin:catalogue-book", book_id=book_id)
        messages.success(request, f"Deleted “{book.title}” and its {book.chapter_count} chapters.")
        return redirect("admin:catalogue-books")
    return console_render(request, "admin/catalogue/book_delete.html", "Are you sure?", book=book)


@require_POST
def book_publish(request: HttpRequest, book_id: str) -> HttpResponse:
    book = _book_or_404(request, book_id)
    try:
        services.book_publish_by_operator(actor=request.user, book_id=book_id)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Published “{book.title}”: listeners can see it now.")
    return redirect("admin:catalogue-book", book_id=book_id)


@require_POST
def book_unpublish(request: HttpRequest, book_id: str) -> HttpResponse:
    book = _book_or_404(request, book_id)
    try:
        services.book_unpublish_by_operator(actor=request.user, book_id=book_id)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"Unpublished “{book.title}”: back to a draft, hidden from listeners."
        )
    return redirect("admin:catalogue-book", book_id=book_id)


@require_http_methods(["GET"])
def chapter_list(request: HttpRequest) -> HttpResponse:
    raw_status = request.GET.get("status", ChapterStatus.FAILED.value)
    try:
        status = ChapterStatus(raw_status)
    except ValueError:
        raise Http404("Unknown status") from None
    try:
        page = services.chapters_by_status(status=status, limit=PAGE_SIZE, cursor=_cursor(request))
    except InvalidCursor:
        return redirect(reverse("admin:catalogue-chapters") + f"?status={status}")
    titles: dict[str, str | None] = {}
    for book_id in dict.fromkeys(c.book_id for c in page.items):
        try:
            titles[book_id] = services.book_get(user=request.user, book_id=book_id).title
        except BookNotFound:
            titles[book_id] = None
    return console_render(
        request,
        "admin/catalogue/chapter_list.html",
        f"Chapters: {status.label}",
        rows=[{"chapter": c, "book_title": titles[c.book_id]} for c in page.items],
        status=status,
        statuses=list(ChapterStatus),
        next_cursor=page.next_cursor,
    )


def _chapter_page(
    request: HttpRequest, chapter_id: str, verdict: CheckVerdict | None = None
) -> TemplateResponse:
    try:
        chapter = services.chapter_find(user=request.user, chapter_id=chapter_id)
    except ChapterNotFound:
        raise Http404("No such chapter") from None
    book = _book_or_404(request, chapter.book_id)
    preview = services.chapter_preview_url(
        chapter=chapter, base_url=request.build_absolute_uri("/")
    )
    return console_render(
        request,
        "admin/catalogue/chapter_detail.html",
        f"Chapter {chapter.number}: {chapter.title}",
        chapter=chapter,
        book=book,
        preview_url=preview,
        verdict=verdict,
        cdn=cdn_configured(),
    )


@require_http_methods(["GET"])
def chapter_detail(request: HttpRequest, chapter_id: str) -> HttpResponse:
    return _chapter_page(request, chapter_id)


@require_POST
def chapter_check(request: HttpRequest, chapter_id: str) -> HttpResponse:
    try:
        _, verdict = services.chapter_check(actor=request.user, chapter_id=chapter_id)
    except ChapterNotFound:
        raise Http404("No such chapter") from None
    except StorageUnavailable as error:
        return console_failure(request, error, lambda: _chapter_page(request, chapter_id))
    return _chapter_page(request, chapter_id, verdict=verdict)
