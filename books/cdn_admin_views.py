"""Operator console pages for CloudFront invalidations.

They live with the catalogue, not in streaming/, because a purge is named by a book or a
chapter: the pages read the catalogue and call streaming's invalidations, so imports run one
way (books -> streaming -> voj). Their templates are streaming's (admin/cdn/).
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from books import services
from books.admin_rendering import console_failure, console_render
from books.converters import IdConverter
from books.errors import BookNotFound, ChapterNotFound, DomainError
from streaming.invalidations import (
    InvalidPaths,
    book_paths,
    cdn_configured,
    invalidation_create,
    invalidation_get,
    invalidation_list,
    invalidation_paths_validate,
)
from voj.audit import audit

PERMISSION = "streaming.invalidate_cdn"


def _render(
    request: HttpRequest, template: str, title: str, *, http_status: int = 200, **context: Any
) -> TemplateResponse:
    return console_render(
        request,
        template,
        title,
        http_status=http_status,
        configured=cdn_configured(),
        can_invalidate=request.user.has_perm(PERMISSION),
        **context,
    )


@require_http_methods(["GET"])
def invalidation_history(request: HttpRequest) -> HttpResponse:
    items, error, http_status = [], None, 200
    if cdn_configured():
        try:
            items = invalidation_list()
        except DomainError as failure:
            # Shown in the page rather than as a message: the history below it is empty.
            error, http_status = failure.message, int(failure.status_code)
    return _render(
        request,
        "admin/cdn/invalidation_list.html",
        "CloudFront invalidations",
        http_status=http_status,
        invalidations=items,
        error=error,
    )


def _target_paths(user: Any, kind: str, value: str) -> tuple[list[str], str]:
    """The paths to purge and a human description of the target."""
    value = value.strip()
    if kind in ("book", "chapter") and not re.fullmatch(IdConverter.regex, value):
        # As in URLs: no such text names a record, and DynamoDB refuses an empty or huge key.
        raise InvalidPaths(f"No {kind} with that id.")
    if kind == "book":
        try:
            book = services.book_get(user=user, book_id=value)
        except BookNotFound:
            raise InvalidPaths("No book with that id.") from None
        return book_paths(book.id), f"book “{book.title}”"
    if kind == "chapter":
        try:
            chapter = services.chapter_find(user=user, chapter_id=value)
        except ChapterNotFound:
            raise InvalidPaths("No chapter with that id.") from None
        if not chapter.object_key.startswith("media/"):
            raise InvalidPaths("That chapter has no published audio to purge.")
        return [f"/{chapter.object_key}"], f"chapter {chapter.number} “{chapter.title}”"
    if kind == "paths":
        paths = invalidation_paths_validate(value.splitlines())
        return paths, f"{len(paths)} path(s)"
    raise InvalidPaths("Choose what to invalidate.")


def _form(request: HttpRequest, form: dict[str, str]) -> TemplateResponse:
    return _render(request, "admin/cdn/invalidation_form.html", "New invalidation", form=form)


@require_http_methods(["GET", "POST"])
def invalidation_new(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    if not cdn_configured():
        return redirect("admin:cdn-invalidations")
    source = request.POST if request.method == "POST" else request.GET
    kind = source.get("kind") or ("chapter" if source.get("chapter") else "book")
    value = source.get("value") or source.get("chapter") or source.get("book") or ""
    form = {"kind": kind, "value": value}
    if request.method == "GET":
        return _form(request, form)
    try:
        paths, target = _target_paths(request.user, kind, value)
    except InvalidPaths as error:
        return console_failure(request, error, lambda: _form(request, form))
    if request.POST.get("confirm") != "yes":
        return _render(
            request,
            "admin/cdn/invalidation_confirm.html",
            "Confirm invalidation",
            form=form,
            paths=paths,
            target=target,
        )
    try:
        created = invalidation_create(paths=paths, operator=request.user.get_username())
    except DomainError as error:
        audit(
            request.user,
            "cdn.invalidate",
            target=target,
            result=f"failed: {error.message}",
            paths=paths,
        )
        return console_failure(request, error, lambda: _form(request, form))
    audit(
        request.user,
        "cdn.invalidate",
        target=target,
        result=created.status,
        paths=paths,
        invalidation_id=created.id,
        caller_reference=created.caller_reference,
    )
    messages.success(request, f"Invalidation {created.id} created for {target}.")
    return redirect("admin:cdn-invalidation", invalidation_id=created.id)


@require_http_methods(["GET"])
def invalidation_detail(request: HttpRequest, invalidation_id: str) -> HttpResponse:
    if not cdn_configured():
        return redirect("admin:cdn-invalidations")
    try:
        item = invalidation_get(invalidation_id)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("admin:cdn-invalidations")
    return _render(
        request, "admin/cdn/invalidation_detail.html", f"Invalidation {item.id}", item=item
    )
