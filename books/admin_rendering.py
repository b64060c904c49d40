"""What every operator console page shares: the admin's frame around a page, and a page that
reports a domain error with the error's message and the HTTP status its class states (a store
that failed answers 503, as the API does)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from voj.exceptions import DomainError


def console_render(
    request: HttpRequest, template: str, title: str, *, http_status: int = 200, **context: Any
) -> TemplateResponse:
    # http_status, not status: pages pass a chapter status in their context.
    return TemplateResponse(
        request,
        template,
        {**admin.site.each_context(request), "title": title, **context},
        status=http_status,
    )


def console_failure[R: HttpResponse](
    request: HttpRequest, error: DomainError, page: Callable[[], R]
) -> R:
    """``page`` again, with the error's message on it and the error's status."""
    messages.error(request, error.message)
    response = page()
    response.status_code = int(error.status_code)
    return response
