"""One structured log record per request: request id, user, method, path, status, latency."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.core.exceptions import DisallowedHost, SuspiciousOperation
from django.http import HttpRequest, HttpResponse

from voj.digits import is_ascii_digits
from voj.errors import (
    RETRY_AFTER_SECONDS,
    is_api_path,
    is_aws_transport_error,
    json_error,
    status_error,
    suspicious_request_error,
)

logger = logging.getLogger("voj.requests")

# A client's id is echoed in a response header and written in the log: printable ASCII without
# spaces, and short. Anything else (a folded header, control characters, 60 KB) would break the
# response after the view ran, or the log; it is replaced, not refused.
_CLIENT_REQUEST_ID = re.compile(r"[!-~]{1,128}")


def request_id(request: HttpRequest) -> str:
    # Zappa puts the API Gateway event in the WSGI environ; its request id ties our log line
    # to API Gateway's access log.
    event = request.META.get("lambda.event") or {}
    context_id = (event.get("requestContext") or {}).get("requestId")
    if isinstance(context_id, str) and _CLIENT_REQUEST_ID.fullmatch(context_id):
        return context_id
    given = request.headers.get("X-Request-ID") or ""
    return given if _CLIENT_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        rid = request_id(request)
        response = self.get_response(request)
        # The console's user only where the request already loaded it: loading it here would
        # query the database again after the view failed on it (an unmigrated database).
        user = getattr(request, "_cached_user", None)
        # DRF authenticates inside the view; its user is on the wrapped request. Read what it
        # found, not its ``user`` property: after an authentication that raised (AWS down)
        # that property would authenticate again, here, outside DRF's error handling.
        drf_request = getattr(response, "renderer_context", {}).get("request")
        drf_user = vars(drf_request).get("_user") if drf_request is not None else None
        who = drf_user if getattr(drf_user, "is_authenticated", False) else user
        logger.info(
            "request",
            extra={
                "request_id": rid,
                "user": _who(who),
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        response["X-Request-ID"] = rid
        return response


def _who(user: object) -> str | None:
    """The signed-in user's name; a token checked without its user row (stream-url) carries
    only the user's id."""
    if not getattr(user, "is_authenticated", False):
        return None
    # A User or simplejwt's TokenUser: both have get_username and pk, and no common base class.
    return user.get_username() or f"id:{user.pk}"  # type: ignore[attr-defined]  # either kind


security_logger = logging.getLogger("voj.security")


class ApiBoundaryMiddleware:
    """Under /api/ and /stream/, every refusal is JSON ``{"detail", "code"}``, whichever layer
    refuses: a Host outside ALLOWED_HOSTS, a malformed Content-Length, a body Django finds too
    big, a method a view does not allow. Elsewhere (the admin) Django's own pages stay."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api_path(request.path_info):
            return self.get_response(request)
        try:
            request.get_host()
        except DisallowedHost as error:
            security_logger.warning("refused Host header: %s", error)
            return suspicious_request_error(error)
        length = request.META.get("CONTENT_LENGTH") or ""
        if length and not is_ascii_digits(length):
            return json_error(400, "Content-Length must be a number of bytes.", "invalid_length")
        response = self.get_response(request)
        if 400 <= response.status_code < 500 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            # Only the body changes: CORS, security and Allow/Retry-After headers stay.
            replacement = status_error(response.status_code)
            for header, value in response.items():
                if header.lower() not in ("content-type", "content-length"):
                    replacement[header] = value
            return replacement
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        api = is_api_path(request.path_info)
        if api and isinstance(exception, SuspiciousOperation):
            security_logger.warning("refused request: %s", exception)
            return suspicious_request_error(exception)
        if is_aws_transport_error(exception):
            # AWS busy or unreachable after botocore's retries, outside DRF's handler (the
            # console: its sign-in counts failures, an account change records it): try again.
            logger.warning("backing service unavailable", exc_info=exception)
            detail = "A backing service is unavailable; try again shortly."
            response: HttpResponse
            if api:
                response = json_error(503, detail, "service_unavailable")
            else:
                response = HttpResponse(detail, status=503, content_type="text/plain")
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        return None
