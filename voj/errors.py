"""Every API error is JSON ``{"detail": ..., "code": ...}``; field errors keep DRF's shape."""

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.core.exceptions import (
    DisallowedHost,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import bad_request, page_not_found, permission_denied, server_error
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from voj.exceptions import DomainError


def _first_message(data: Any) -> str:
    if isinstance(data, dict):
        for field, value in data.items():
            message = _first_message(value)
            return message if field == "non_field_errors" else f"{field}: {message}"
    if isinstance(data, list) and data:
        return _first_message(data[0])
    return str(data)


# AWS answers that mean "busy or down, try again", whichever client met them after its retries.
_AWS_UNAVAILABLE_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "SlowDown",
}


# Seconds a client is told to wait after a 503 that retrying cures (busy or unreachable AWS).
RETRY_AFTER_SECONDS = 5


def is_aws_transport_error(exc: Exception) -> bool:
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code") in _AWS_UNAVAILABLE_CODES
    return isinstance(exc, BotoCoreError)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    retryable = False
    if is_aws_transport_error(exc):
        # A dependency could not be reached even after retries: the caller may try again.
        exc = exceptions.APIException(
            detail="A backing service is unavailable; try again shortly.",
            code="service_unavailable",
        )
        exc.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        retryable = True
    if isinstance(exc, DomainError):
        retryable = exc.retryable
        status_code = int(exc.status_code)
        exc = exceptions.APIException(detail=exc.message, code=exc.code)
        exc.status_code = status_code
    elif isinstance(exc, DjangoValidationError):
        # Services raise Django's ValidationError; the API shows it as DRF field errors.
        exc = exceptions.ValidationError(
            detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, SuspiciousOperation):
        refused = suspicious_request_error(exc)
        return Response(json.loads(refused.content), status=refused.status_code)

    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return None  # only APIExceptions get a response from DRF's handler
    if retryable:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        field_errors = data if isinstance(data, dict) else {"non_field_errors": data}
        response.data = {
            **field_errors,
            "detail": _first_message(field_errors),
            "code": "invalid",
        }
        return response
    if isinstance(data, dict) and "detail" in data:
        detail = data["detail"]
        # simplejwt puts its own code beside the detail (e.g. password_changed); it is the
        # more specific one.
        code = data.get("code") or getattr(detail, "code", None) or exc.default_code
        response.data = {**data, "detail": str(detail), "code": str(code)}
    else:
        response.data = {"detail": _first_message(data), "code": exc.default_code}
    return response


def json_error(status_code: int, detail: str, code: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code, **extra}, status=status_code)


# Exempt: there is nothing here to protect, and the CSRF check would answer a POST to an unknown
# path 403 csrf_failed instead of 404.
@csrf_exempt
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    return json_error(404, "Not found.", "not_found")


def handler404(request: HttpRequest, exception: Exception | None = None) -> Any:
    if is_api_path(request.path_info):
        return api_not_found(request)
    return page_not_found(request, exception)


def handler500(request: HttpRequest) -> Any:
    if is_api_path(request.path_info):
        return json_error(500, "Internal server error.", "server_error")
    return server_error(request)


def is_api_path(path: str) -> bool:
    """The paths that answer JSON errors: the API, and what clients fetch bytes from."""
    return path.startswith(("/api/", "/stream/", "/covers/"))


# What a client error on an API path says when Django, not a view, produced it.
_STATUS_ERRORS = {
    400: ("Bad request.", "bad_request"),
    403: ("Forbidden.", "permission_denied"),
    404: ("Not found.", "not_found"),
    405: ("Method not allowed.", "method_not_allowed"),
    413: ("The request body is too large.", "request_too_large"),
}


def status_error(status_code: int) -> JsonResponse:
    detail, code = _STATUS_ERRORS.get(status_code, ("Request refused.", "client_error"))
    return json_error(status_code, detail, code)


def suspicious_request_error(exc: Exception) -> JsonResponse:
    """A request Django refuses as suspicious (too big, too many fields, a bad Host)."""
    if isinstance(exc, RequestDataTooBig):
        return json_error(413, "The request body is too large.", "request_too_large")
    if isinstance(exc, TooManyFieldsSent):
        return json_error(400, "The request has too many fields.", "too_many_fields")
    if isinstance(exc, DisallowedHost):
        return json_error(400, "The Host header is not one this service answers.", "bad_host")
    return json_error(400, "Bad request.", "bad_request")


def handler400(request: HttpRequest, exception: Exception) -> Any:
    if is_api_path(request.path_info):
        return suspicious_request_error(exception) if exception else status_error(400)
    return bad_request(request, exception)


def handler403(request: HttpRequest, exception: Exception) -> Any:
    if is_api_path(request.path_info):
        return json_error(403, "Forbidden.", "permission_denied")
    return permission_denied(request, exception)


def csrf_failure(request: HttpRequest, reason: str = "") -> Any:
    if is_api_path(request.path_info):
        return json_error(403, f"CSRF verification failed: {reason}", "csrf_failed")
    return django_csrf_failure(request, reason)
