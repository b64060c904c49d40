"""Only this API's own execute-api host is served.

Production's ALLOWED_HOSTS must name the region's execute-api domain before the API exists (its
id is made by the first deploy), so on its own it would accept any API's host in the region. The
event API Gateway hands to Lambda says which API it is (requestContext.apiId): a Host under
execute-api is served only when it is that API's, and never outside Lambda, where no event
vouches for it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port


def execute_api_suffix() -> str:
    return f".execute-api.{settings.VOJ_AWS_REGION}.amazonaws.com"


def _event_api_id(request: HttpRequest) -> str | None:
    event = request.META.get("lambda.event")
    context = event.get("requestContext") if isinstance(event, dict) else None
    api_id = context.get("apiId") if isinstance(context, dict) else None
    return api_id if isinstance(api_id, str) and api_id else None


class OwnApiHostMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        domain, _port = split_domain_port(request.META.get("HTTP_HOST", ""))
        suffix = execute_api_suffix()
        if domain.endswith(suffix):
            api_id = _event_api_id(request)
            if api_id is None or domain != f"{api_id.lower()}{suffix}":
                # Django's answer to a Host outside ALLOWED_HOSTS: 400, JSON under /api/.
                raise DisallowedHost(f"Invalid HTTP_HOST header: {domain!r} is not this API's")
        return self.get_response(request)
