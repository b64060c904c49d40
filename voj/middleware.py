"""One structured log record per request: request id, user, method, path, status, latency."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("voj.requests")


def request_id(request: HttpRequest) -> str:
    # Zappa puts the API Gateway event in the WSGI environ; its request id ties our log line
    # to API Gateway's access log.
    event = request.META.get("lambda.event") or {}
    context_id = (event.get("requestContext") or {}).get("requestId")
    return context_id or request.headers.get("X-Request-ID") or uuid.uuid4().hex


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request.request_id = request_id(request)
        response = self.get_response(request)
        user = getattr(request, "user", None)
        # DRF authenticates inside the view; its user is on the wrapped request.
        drf_user = getattr(getattr(response, "renderer_context", {}).get("request"), "user", None)
        who = drf_user if getattr(drf_user, "is_authenticated", False) else user
        logger.info(
            "request",
            extra={
                "request_id": request.request_id,
                "user": _who(who),
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        response["X-Request-ID"] = request.request_id
        return response


def _who(user: object) -> str | None:
    """The signed-in user's name; a token checked without its user row (stream-url) carries
    only the user's id."""
    if not getattr(user, "is_authenticated", False):
        return None
    return user.get_username() or f"id:{user.pk}"  # type: ignore[attr-defined]
