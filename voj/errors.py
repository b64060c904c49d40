"""Every API error is JSON ``{"detail": ..., "code": ...}``; field errors keep DRF's shape."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
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


def _is_aws_transport_error(exc: Exception) -> bool:
    from botocore.exceptions import BotoCoreError  # on the error path only, not at import

    return isinstance(exc, BotoCoreError)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if _is_aws_transport_error(exc):
        # A dependency could not be reached even after retries: the caller may try again.
        exc = exceptions.APIException(
            detail="A backing service is unavailable; try again shortly.",
            code="service_unavailable",
        )
        exc.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    if isinstance(exc, DomainError):
        exc = exceptions.APIException(detail=exc.message, code=exc.code)
        exc.status_code = DOMAIN_STATUS.get(exc.detail.code, status.HTTP_400_BAD_REQUEST)
    elif isinstance(exc, DjangoValidationError):
        # Services raise Django's ValidationError; the API shows it as DRF field errors.
        exc = exceptions.ValidationError(
            detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
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
        code = getattr(detail, "code", None) or data.get("code") or exc.default_code
        response.data = {**data, "detail": str(detail), "code": str(code)}
    else:
        response.data = {"detail": _first_message(data), "code": exc.default_code}
    return response


# Domain error codes and the HTTP status each maps to.
DOMAIN_STATUS = {
    "not_found": status.HTTP_404_NOT_FOUND,
    "book_not_found": status.HTTP_404_NOT_FOUND,
    "chapter_not_found": status.HTTP_404_NOT_FOUND,
    "version_conflict": status.HTTP_409_CONFLICT,
    "chapter_number_taken": status.HTTP_409_CONFLICT,
    "chapter_not_ready": status.HTTP_409_CONFLICT,
    "upload_missing": status.HTTP_409_CONFLICT,
    "upload_not_expected": status.HTTP_409_CONFLICT,
    "permission_denied": status.HTTP_403_FORBIDDEN,
    "invalid_cursor": status.HTTP_400_BAD_REQUEST,
    "invalid_upload": status.HTTP_400_BAD_REQUEST,
    "storage_unavailable": status.HTTP_503_SERVICE_UNAVAILABLE,
    "storage_misconfigured": status.HTTP_503_SERVICE_UNAVAILABLE,
    "repository_unavailable": status.HTTP_503_SERVICE_UNAVAILABLE,
}


def json_error(status_code: int, detail: str, code: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code, **extra}, status=status_code)


def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    return json_error(404, "Not found.", "not_found")


def handler404(request: HttpRequest, exception: Exception | None = None) -> Any:
    if request.path.startswith(("/api/", "/stream/")):
        return api_not_found(request)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request: HttpRequest) -> Any:
    if request.path.startswith(("/api/", "/stream/")):
        return json_error(500, "Internal server error.", "server_error")
    from django.views.defaults import server_error

    return server_error(request)
